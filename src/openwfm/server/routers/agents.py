"""Agents, and each agent's published schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from openwfm.server.deps import (
    CurrentUser,
    ReadDB,
    WriteDB,
    acting_user,
    oauth2,
    token_claims,
    unauthorized,
)
from openwfm.server.models import Agent, AgentSkill, Queue, Role, Segment, Site, Skill, Team, User
from openwfm.server.permissions import agent_filter, queue_filter, require
from openwfm.server.readpath import agent_week
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, QueryId, get_visible
from openwfm.server.schemas import AgentIn, AgentOut, AgentScheduleOut, AgentUpdate

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


AgentId = Annotated[str, Path(min_length=1, max_length=100)]


def visible_agent(session: ReadDB, p: CurrentUser, agent_id: str) -> Agent:
    return get_visible(session, Agent, agent_id, agent_filter(p, Agent.id))


@router.get("/{agent_id}", response_model=AgentOut, responses=AUTH_ERRORS)
async def get_agent(agent_id: AgentId, p: CurrentUser, session: ReadDB) -> Agent:
    require(p, "agent", "read")
    return visible_agent(session, p, agent_id)


BODY_ERRORS = {**WRITE_ERRORS, 422: {"description": "Unknown site, team or skill, or "
                                                    "invalid field (named)"}}


def _skills(session: WriteDB, p: CurrentUser, skills: list[dict[str, Any]]) -> list[AgentSkill]:
    """The agent's skills in order, each known; a planner must give one of their clients'
    queues (else the agent would be outside what they may see)."""
    ids = [s["skill_id"] for s in skills]
    known = dict(session.execute(sa.select(Skill.id, Skill.queue_id).where(Skill.id.in_(ids)))
                 .tuples().all())
    for i, s in enumerate(ids):
        if s not in known:
            raise _unprocessable("skills", f"no skill {s!r}", index=i)
    if len(set(ids)) != len(ids):
        raise _unprocessable("skills", "a skill is listed twice")
    if p.role == Role.PLANNER:
        mine = set(session.scalars(sa.select(Queue.id).where(
            Queue.id.in_([q for q in known.values() if q]), queue_filter(p, Queue.id))))
        if not mine:
            raise _unprocessable("skills", "none of these skills serves a queue of your "
                                           "client companies")
    return [AgentSkill(skill_id=s["skill_id"], proficiency=s["proficiency"], rank=i)
            for i, s in enumerate(skills)]


def _place(session: WriteDB, fields: dict[str, Any]) -> Site | None:
    """Check the site and team named in `fields`; the site (None when not named)."""
    site = None
    if fields.get("site_id") is not None:
        site = session.get(Site, fields["site_id"])
        if site is None:
            raise _unprocessable("site_id", f"no site {fields['site_id']}")
    if fields.get("team_id") is not None and session.get(Team, fields["team_id"]) is None:
        raise _unprocessable("team_id", f"no team {fields['team_id']}")
    return site


def _snapshot(agent: Agent) -> dict[str, Any]:
    return {**audit.snapshot(agent), "skills": [[s.skill_id, s.proficiency]
                                                for s in agent.skills]}


@router.post("", response_model=AgentOut, status_code=status.HTTP_201_CREATED,
             responses=BODY_ERRORS)
def create_agent(body: AgentIn, p: CurrentUser, session: WriteDB) -> Agent:  # type: ignore[valid-type]
    """Add an agent (admin, planner) at a site, with skills; zone and labour pack are the
    site's unless given (audited)."""
    require(p, "agent", "write")
    fields = body.model_dump()  # type: ignore[attr-defined]
    if session.get(Agent, fields["id"]) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"agent {fields['id']!r} exists")
    site = _place(session, fields)
    assert site is not None
    if fields["min_shift_h"] > fields["max_shift_h"]:
        raise _unprocessable("min_shift_h", f"min_shift_h {fields['min_shift_h']} > "
                                            f"max_shift_h {fields['max_shift_h']}")
    if fields["tz"] is not None:
        _zone(fields["tz"])
    skills = _skills(session, p, fields.pop("skills"))
    agent = Agent(**{**fields, "name": fields["name"] or fields["id"],
                     "tz": fields["tz"] or site.tz, "labour_pack": site.labour_pack})
    agent.skills = skills
    session.add(agent)
    session.flush()
    audit.record(session, acting_user(session, p), "create", "agent", agent.id,
                 after=_snapshot(agent))
    return agent


def _zone(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _unprocessable("tz", f"unknown IANA time zone {tz!r}") from None


@router.patch("/{agent_id}", response_model=AgentOut, responses=BODY_ERRORS)
def update_agent(agent_id: AgentId, body: AgentUpdate, p: CurrentUser,  # type: ignore[valid-type]
                 session: WriteDB) -> Agent:
    """Change an agent's contract, site, team or skills (audited with before/after);
    omitted fields stay as they are, ``team_id: null`` takes the agent out of a team,
    ``hire_date: null`` forgets the hire date."""
    require(p, "agent", "write")
    agent = visible_agent(session, p, agent_id)
    before = _snapshot(agent)
    fields = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
    site = _place(session, fields)
    lo = fields.get("min_shift_h") or agent.min_shift_h
    hi = fields.get("max_shift_h") or agent.max_shift_h
    if lo > hi:
        raise _unprocessable("min_shift_h", f"min_shift_h {lo} > max_shift_h {hi}")
    fields.pop("skills", None)
    # each skill with its defaults (a proficiency left out is 1.0), not only the keys sent
    skills = None if body.skills is None else [s.model_dump() for s in body.skills]
    for key, value in fields.items():
        if value is None and key not in ("team_id", "hire_date"):
            continue
        setattr(agent, key, value)
    if site is not None:  # a move: the new site's zone and labour pack
        agent.tz, agent.labour_pack = site.tz, site.labour_pack
    if skills is not None:
        agent.skills = _skills(session, p, skills)
    session.flush()
    audit.record(session, acting_user(session, p), "update", "agent", agent.id, before,
                 _snapshot(agent))
    return agent


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_agent(agent_id: AgentId, p: CurrentUser, session: WriteDB) -> Response:
    """Remove an agent without schedule segments or a user account (admin, planner); 409
    naming what still refers to them."""
    require(p, "agent", "write")
    agent = visible_agent(session, p, agent_id)
    for model, what in ((Segment, "schedule segments"), (User, "user accounts")):
        n = session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.agent_id == agent_id))  # type: ignore[attr-defined]
        if n:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"agent {agent_id!r} still has {n} {what}")
    before = _snapshot(agent)
    session.delete(agent)
    session.flush()
    audit.record(session, acting_user(session, p), "delete", "agent", agent_id, before=before)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
    claims = token_claims(request, token)
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
