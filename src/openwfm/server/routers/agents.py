"""Agents, and each agent's published schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, status

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Agent, AgentSkill, Schedule, ScheduleVersion, Segment, Skill, Team
from openwfm.server.permissions import agent_filter, not_found, require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, QueryId, get_visible
from openwfm.server.schemas import AgentOut, AgentScheduleOut, AgentUpdate, SegmentOut

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


@router.get("/{agent_id}/schedule", response_model=AgentScheduleOut, responses=AUTH_ERRORS)
async def agent_schedule(agent_id: str, p: CurrentUser, session: ReadDB,
                   start: Annotated[datetime | None, Query(
                       description="UTC start (default: the latest published period)")] = None,
                   end: Annotated[datetime | None, Query()] = None) -> AgentScheduleOut:
    """The agent's published segments overlapping ``[start, end)`` (an agent: only their
    own; a team leader: their team's)."""
    require(p, "agent_schedule", "read")
    row = session.execute(sa.select(Agent.id, Agent.tz).where(
        Agent.id == agent_id, agent_filter(p, Agent.id))).first()
    if row is None:
        raise not_found("agent", agent_id)
    published = (sa.select(Schedule.id, Schedule.period_start, Schedule.period_end,
                           ScheduleVersion.number, Schedule.published_version_id)
                 .join(ScheduleVersion, ScheduleVersion.id == Schedule.published_version_id))
    if start is None and end is None:
        latest = session.execute(published.order_by(Schedule.period_start.desc(),
                                                     Schedule.id.desc()).limit(1)).first()
        if latest is None:
            epoch = datetime(1970, 1, 1, tzinfo=UTC)
            return AgentScheduleOut(agent_id=agent_id, tz=row.tz, schedule_id=None,
                                    version=None, start=epoch, end=epoch, segments=[])
        start, end = latest.period_start, latest.period_end
    start = _utc(start) if start is not None else datetime(1970, 1, 1, tzinfo=UTC)
    end = _utc(end) if end is not None else datetime(9999, 1, 1, tzinfo=UTC)
    if end <= start:
        raise _unprocessable("end", "end must be after start")
    segs = session.execute(
        sa.select(Segment.agent_id, Segment.activity, Segment.start, Segment.end,
                  Segment.queue_id, Schedule.id.label("schedule_id"),
                  ScheduleVersion.number)
        .join(Schedule, Schedule.published_version_id == Segment.version_id)
        .join(ScheduleVersion, ScheduleVersion.id == Segment.version_id)
        .where(Segment.agent_id == agent_id, Segment.start < end, Segment.end > start)
        .order_by(Segment.start)).all()
    return AgentScheduleOut(
        agent_id=agent_id, tz=row.tz,
        schedule_id=segs[0].schedule_id if segs else None,
        version=segs[0].number if segs else None, start=start, end=end,
        segments=[SegmentOut(agent_id=s.agent_id, activity=s.activity, start=s.start,
                             end=s.end, queue_id=s.queue_id) for s in segs])


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
