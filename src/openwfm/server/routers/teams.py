"""Teams and their leaders."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter

from openwfm.server.deps import CurrentUser, ReadDB
from openwfm.server.models import Team
from openwfm.server.permissions import require, team_filter
from openwfm.server.routers.common import AUTH_ERRORS, Id, get_visible
from openwfm.server.schemas import TeamOut

router = APIRouter(prefix="/api/teams", tags=["teams"])


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
