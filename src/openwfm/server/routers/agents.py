"""Agents, and each agent's published schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user, oauth2, unauthorized
from openwfm.server.models import Agent, AgentSkill, Skill, Team
from openwfm.server.permissions import agent_filter, require
from openwfm.server.readpath import agent_week
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, QueryId, get_visible
from openwfm.server.schemas import AgentOut, AgentScheduleOut, AgentUpdate
from openwfm.server.security import read_token

router = APIRouter(prefix="/api/agents", tags=["agents"])


@router.get("", response_model=list[AgentOut], responses=AUTH_ERRORS)
async def list_agents(p: CurrentUser, session: ReadDB,
                team_id: QueryId = None,
                site_id: QueryId = None) -> list[Agent]:
    """Agents this user may see (team leader: own team; agent: themselves; planner: those
    serving the assigned clients' queues)."""
    require(p, "agent", "read")
    stmt = sa.select(Agent).where(agent_filter(p, Agent.id))
    if team_id is not None:
        stmt = stmt.where(Agent.team_id == team_id)
    if site_id is not None:
        stmt = stmt.where(Agent.site_id == site_id)
    return list(session.scalars(stmt.order_by(Agent.id)))


def visible_agent(session: ReadDB, p: CurrentUser, agent_id: str) -> Agent:
    return get_visible(session, Agent, agent_id, agent_filter(p, Agent.id))


@router.get("/{agent_id}", response_model=AgentOut, responses=AUTH_ERRORS)
async def get_agent(agent_id: str, p: CurrentUser, session: ReadDB) -> Agent:
    require(p, "agent", "read")
    return visible_agent(session, p, agent_id)


@router.patch("/{agent_id}", response_model=AgentOut, responses={
    **WRITE_ERRORS, 422: {"description": "Unknown team or skill, or invalid field"}})
def update_agent(agent_id: str, body: AgentUpdate, p: CurrentUser, session: WriteDB) -> Agent:
    """Change an agent's contract, team or skills (audited with before/after)."""
    require(p, "agent", "write")
    agent = visible_agent(session, p, agent_id)
    before = {**audit.snapshot(agent), "skills": [[s.skill_id, s.proficiency]
                                                  for s in agent.skills]}
    fields = body.model_dump(exclude_unset=True)
    if "team_id" in fields and fields["team_id"] is not None \
            and session.get(Team, fields["team_id"]) is None:
        raise _unprocessable("team_id", f"no team {fields['team_id']}")
    lo = fields.get("min_shift_h", agent.min_shift_h)
    hi = fields.get("max_shift_h", agent.max_shift_h)
    if lo is not None and hi is not None and lo > hi:
        raise _unprocessable("min_shift_h", f"min_shift_h {lo} > max_shift_h {hi}")
    skills = fields.pop("skills", None)
    for key, value in fields.items():
        if value is None and key != "team_id":
            continue
        setattr(agent, key, value)
    if skills is not None:
        ids = [s["skill_id"] for s in skills]
        known = set(session.scalars(sa.select(Skill.id).where(Skill.id.in_(ids))))
        for i, s in enumerate(ids):
            if s not in known:
                raise _unprocessable("skills", f"no skill {s!r}", index=i)
        if len(set(ids)) != len(ids):
            raise _unprocessable("skills", "a skill is listed twice")
        agent.skills = [AgentSkill(skill_id=s["skill_id"], proficiency=s["proficiency"],
                                   rank=i) for i, s in enumerate(skills)]
    session.flush()
    after = {**audit.snapshot(agent), "skills": [[s.skill_id, s.proficiency]
                                                 for s in agent.skills]}
    audit.record(session, acting_user(session, p), "update", "agent", agent.id, before, after)
    return agent


def _unprocessable(field: str, msg: str, index: int | None = None) -> HTTPException:
    loc: list[str | int] = ["body", field] + ([index] if index is not None else [])
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": loc, "msg": msg, "type": "value_error"}])


@router.get("/{agent_id}/schedule", response_model=AgentScheduleOut, responses={
    **AUTH_ERRORS, 304: {"description": "Not modified: the If-None-Match ETag is current"},
    422: {"description": "end not after start"}})
async def agent_schedule(
    agent_id: Annotated[str, Path(max_length=100)], request: Request,
    token: Annotated[str | None, Depends(oauth2)],
    start: Annotated[datetime | None, Query(
        description="UTC start (default: the latest published period)")] = None,
    end: Annotated[datetime | None, Query()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The agent's published segments overlapping ``[start, end)`` (an agent: only their
    own; a team leader: their team's; a planner: agents serving their clients' queues).
    ``ETag`` changes when a publish changes what this answers: send it back as
    ``If-None-Match`` to get 304 without a body. The hot path of the API: one query per
    request (see `openwfm.server.readpath`)."""
    if not token:
        raise unauthorized("not signed in: send 'Authorization: Bearer <token>' "
                            "(POST /api/auth/token)")
    claims = read_token(request.app.state.signing_key, token)
    if claims is None:
        raise unauthorized("invalid or expired token")
    if start is not None and end is not None and _utc(end) <= _utc(start):
        raise _unprocessable("end", "end must be after start")
    ans = agent_week(request.app.state.db.fast_engine, request.app.state.week_cache,
                     claims.user_id, agent_id, _utc(start) if start is not None else None,
                     _utc(end) if end is not None else None, if_none_match)
    if ans.status == 401:
        raise unauthorized(ans.detail)
    if ans.status in (403, 404):
        raise HTTPException(ans.status, ans.detail)
    headers = {"ETag": ans.etag, "Cache-Control": "private, no-cache"}
    if ans.status == 304:
        return Response(status_code=304, headers=headers)
    return Response(ans.body, media_type="application/json", headers=headers)


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
