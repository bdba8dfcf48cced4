"""Teams and their leaders: read (admin, planner, own team for a team leader); create,
update, delete (admin, planner), each audited with the team before and after."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Response, status

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Agent, Site, Team, User
from openwfm.server.permissions import require, team_filter
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id, get_visible
from openwfm.server.schemas import TeamIn, TeamOut, TeamUpdate

router = APIRouter(prefix="/api/teams", tags=["teams"])
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS, 422: {"description": "Invalid field (named)"}}


@router.get("", response_model=list[TeamOut], responses=AUTH_ERRORS)
async def list_teams(p: CurrentUser, session: ReadDB) -> list[Team]:
    """Teams (a team leader: their own)."""
    require(p, "team", "read")
    return list(session.scalars(sa.select(Team).where(team_filter(p, Team.id))
                                .order_by(Team.id)))


@router.get("/{team_id}", response_model=TeamOut, responses=AUTH_ERRORS)
async def get_team(team_id: Id, p: CurrentUser, session: ReadDB) -> Team:
    require(p, "team", "read")
    return get_visible(session, Team, team_id, team_filter(p, Team.id))


def _check(session: WriteDB, name: str | None, site_id: int | None,
           team_id: int | None = None) -> None:
    if site_id is not None and session.get(Site, site_id) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["body", "site_id"], "msg": f"no site {site_id}", "type": "value_error"}])
    if name is not None:
        other = session.scalar(sa.select(Team.id).where(Team.name == name))
        if other is not None and other != team_id:
            raise HTTPException(status.HTTP_409_CONFLICT, f"team {name!r} exists")


@router.post("", response_model=TeamOut, status_code=status.HTTP_201_CREATED,
             responses=BODY_ERRORS)
def create_team(body: TeamIn, p: CurrentUser, session: WriteDB) -> Team:
    """Add a team to a site (admin, planner); its leader is set by creating a team_leader
    user for it (`POST /api/users`)."""
    require(p, "team", "write")
    _check(session, body.name, body.site_id)
    team = Team(name=body.name, site_id=body.site_id)
    session.add(team)
    session.flush()
    audit.record(session, acting_user(session, p), "create", "team", team.id,
                 after=audit.snapshot(team))
    return team


@router.patch("/{team_id}", response_model=TeamOut, responses=BODY_ERRORS)
def update_team(team_id: Id, body: TeamUpdate, p: CurrentUser, session: WriteDB) -> Team:
    """Rename a team or move it to another site (admin, planner)."""
    require(p, "team", "write")
    team = get_visible(session, Team, team_id)
    before = audit.snapshot(team)
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    _check(session, fields.get("name"), fields.get("site_id"), team.id)
    for key, value in fields.items():
        setattr(team, key, value)
    session.flush()
    audit.record(session, acting_user(session, p), "update", "team", team.id, before,
                 audit.snapshot(team))
    return team


@router.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_team(team_id: Id, p: CurrentUser, session: WriteDB) -> Response:
    """Remove a team without agents or users (admin, planner); 409 while it has some."""
    require(p, "team", "write")
    team = get_visible(session, Team, team_id)
    for model, what in ((Agent, "agents"), (User, "users (its leader)")):
        n = session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.team_id == team_id))  # type: ignore[attr-defined]
        if n:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"team {team.name!r} still has {n} {what}: move them first")
    before = audit.snapshot(team)
    session.delete(team)
    session.flush()
    audit.record(session, acting_user(session, p), "delete", "team", team_id, before=before)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
