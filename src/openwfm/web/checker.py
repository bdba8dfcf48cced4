"""The data the shift editor needs, loaded from the database: the scheduling problem of a
schedule (the stored center and requirement, built once and kept per process), and segment
tables of the draft. The rule check and the coverage effect themselves are
`openwfm.app.shift_edit`."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.app.shift_edit import SEGMENT_COLUMNS, QueueGoal
from openwfm.scheduling.model import SchedulingProblem, build_problem
from openwfm.scheduling.synthetic import flat_requirement
from openwfm.server.center import load_scenario_from_db
from openwfm.server.models import (
    Agent,
    AuditEntry,
    ForecastInterval,
    Queue,
    Requirement,
    RequirementInterval,
    Schedule,
    Segment,
    Site,
)

_CACHE: dict[tuple[int, int | None, int], SchedulingProblem] = {}
_LOCK = threading.Lock()


def requirement_of(db: Session, sched: Schedule) -> int | None:
    """The requirement a schedule was made for: the one of the same job, else the newest."""
    if sched.job_id is not None:
        rid = db.scalar(sa.select(Requirement.id).where(Requirement.job_id == sched.job_id))
        if rid is not None:
            return rid
    return db.scalar(sa.select(Requirement.id).order_by(Requirement.id.desc()).limit(1))


def requirement_frame(db: Session, requirement_id: int,
                      window: tuple[datetime, datetime] | None = None) -> pd.DataFrame:
    t = RequirementInterval
    stmt = sa.select(t.queue_id, t.interval_start, t.agents).where(
        t.requirement_id == requirement_id)
    if window is not None:
        stmt = stmt.where(t.interval_start >= window[0], t.interval_start < window[1])
    rows = db.execute(stmt).all()
    return pd.DataFrame({"queue": [r[0] for r in rows],
                         "interval_start": pd.to_datetime([r[1] for r in rows], utc=True),
                         "agents": [float(r[2]) for r in rows]})


def problem_for(db: Session, sched: Schedule) -> SchedulingProblem:
    """The scheduling problem of `sched`'s week (the stored center, its plan week moved to
    the schedule's, and its requirement), built once per process until the center's agents
    change (a new agent audit entry)."""
    rid = requirement_of(db, sched)
    center_rev = db.scalar(sa.select(sa.func.max(AuditEntry.id)).where(
        AuditEntry.object_type == "agent")) or 0
    key = (sched.id, rid, center_rev)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    scenario = load_scenario_from_db(db)
    start = sched.period_start.astimezone(ZoneInfo(scenario.plan_tz)).date()
    scenario = dataclasses.replace(scenario, plan_start=start)
    req = (requirement_frame(db, rid) if rid is not None else pd.DataFrame())
    if req.empty:
        req = flat_requirement(scenario, 0.0)
    problem = build_problem(scenario, req)
    with _LOCK:
        _CACHE.clear()  # one schedule at a time is edited; keep memory bounded
        _CACHE[key] = problem
    return problem


def segment_frame(db: Session, sched: Schedule, problem: SchedulingProblem, *,
                  agent_id: str | None = None, site_id: int | None = None,
                  window: tuple[datetime, datetime] | None = None,
                  version_id: int | None = None) -> pd.DataFrame:
    """Segments of the draft (or of the published version `version_id`) as the checker's
    table (``agent_id, site, activity, start, end, queue``; a work segment without a queue
    counts for the agent's first skill)."""
    stmt = (sa.select(Segment.agent_id, Site.name, Segment.activity, Segment.start,
                      Segment.end, Segment.queue_id)
            .join(Agent, Agent.id == Segment.agent_id).join(Site, Site.id == Agent.site_id)
            .where(Segment.schedule_id == sched.id,
                   Segment.version_id.is_(None) if version_id is None
                   else Segment.version_id == version_id))
    if agent_id is not None:
        stmt = stmt.where(Segment.agent_id == agent_id)
    if site_id is not None:
        stmt = stmt.where(Agent.site_id == site_id)
    if window is not None:
        stmt = stmt.where(Segment.start < window[1], Segment.end > window[0])
    rows = db.execute(stmt.order_by(Segment.agent_id, Segment.start)).all()
    frame = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
    for c in ("start", "end"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    missing = frame["queue"].isna() & (frame["activity"] == "work")
    if missing.any():
        first = {a.id: a.skills[0] for a in problem.scenario.agents if a.skills}
        frame.loc[missing, "queue"] = frame.loc[missing, "agent_id"].map(first)
    return frame


def forecast_window(db: Session, window: tuple[datetime, datetime]) -> pd.DataFrame:
    """The newest forecast's ``volume`` and ``aht_s`` per queue over `window`."""
    t = ForecastInterval
    fid = db.scalar(sa.select(sa.func.max(t.forecast_id)).where(
        t.interval_start >= window[0], t.interval_start < window[1]))
    rows = [] if fid is None else db.execute(
        sa.select(t.queue_id, t.interval_start, t.volume, t.aht_s).where(
            t.forecast_id == fid, t.interval_start >= window[0],
            t.interval_start < window[1])).all()
    frame = pd.DataFrame(rows, columns=["queue", "interval_start", "volume", "aht_s"])
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True)
    frame["aht_s"] = frame["aht_s"].astype(float)
    return frame


def queue_goals(db: Session) -> dict[str, QueueGoal]:
    return {q.id: QueueGoal(q.answer_within_s, q.patience_s, q.channel == "voice")
            for q in db.execute(sa.select(Queue.id, Queue.answer_within_s, Queue.patience_s,
                                          Queue.channel))}
