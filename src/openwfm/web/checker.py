"""The data the shift editor needs, loaded from the database: the scheduling problem of a
schedule (the stored center and requirement, built once and kept per process), and segment
tables of the draft. The rule check and the coverage effect themselves are
`openwfm.app.shift_edit`."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.app.shift_edit import SEGMENT_COLUMNS, QueueGoal, own_violations
from openwfm.scheduling.check import Violation
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


_DRAFTS: dict[tuple[int, int, int], pd.DataFrame] = {}
_OWN: dict[tuple[int, int, int, str, str], list[Violation]] = {}


def draft_frame(db: Session, sched: Schedule, problem: SchedulingProblem) -> pd.DataFrame:
    """Every segment of `sched`'s draft (`segment_frame`), read once per draft revision
    and process: every write of the draft (the API's draft edit, a publish, a self-service
    change) counts the revision up, so a revision's segments never change."""
    key = (sched.id, sched.draft_rev, id(problem))
    with _LOCK:
        if key in _DRAFTS:
            return _DRAFTS[key]
    frame = segment_frame(db, sched, problem, cached=False)
    with _LOCK:
        _DRAFTS.clear()  # one draft revision at a time; memory stays bounded
        _DRAFTS[key] = frame
    return frame


def draft_saved(sched_id: int, old_rev: int, new_rev: int, agent_id: str,
                segments: pd.DataFrame) -> None:
    """After the page saved `agent_id`'s `segments` (checker columns) moving the draft
    from `old_rev` to `new_rev`: the kept draft of `old_rev` with that agent's rows
    replaced becomes the one of `new_rev` (no re-read of the whole draft after a save)."""
    with _LOCK:
        old = next(((k, f) for k, f in _DRAFTS.items() if k[:2] == (sched_id, old_rev)),
                   None)
        if old is None:
            return
        (_, _, problem_id), frame = old
        mine = segments.assign(agent_id=agent_id)[SEGMENT_COLUMNS]
        new = pd.concat([frame[frame["agent_id"] != agent_id], mine], ignore_index=True)
        _DRAFTS.clear()
        _DRAFTS[(sched_id, new_rev, problem_id)] = new.sort_values(
            ["agent_id", "start"], kind="stable").reset_index(drop=True)


def own_before(problem: SchedulingProblem, sched: Schedule, agent_id: str,
               segments: pd.DataFrame) -> list[Violation]:
    """`openwfm.app.shift_edit.own_violations` of the agent's draft week, kept per draft
    revision (the checker runs on the week before the edit once, not at every check)."""
    key = (sched.id, sched.draft_rev, id(problem), agent_id, "own")
    with _LOCK:
        if key in _OWN:
            return _OWN[key]
    found = own_violations(problem, agent_id, segments)
    with _LOCK:
        if len(_OWN) > 1000 or any(k[:3] != key[:3] for k in _OWN):
            _OWN.clear()
        _OWN[key] = found
    return found


def segment_frame(db: Session, sched: Schedule, problem: SchedulingProblem, *,
                  agent_id: str | None = None, site_id: int | None = None,
                  window: tuple[datetime, datetime] | None = None,
                  version_id: int | None = None, cached: bool = True) -> pd.DataFrame:
    """Segments of the draft (or of the published version `version_id`) as the checker's
    table (``agent_id, site, activity, start, end, queue``; a work segment without a queue
    counts for the agent's first skill). The draft's come from `draft_frame` (read once
    per revision) unless `cached` is False."""
    if version_id is None and cached:
        frame = draft_frame(db, sched, problem)
        keep = np.ones(len(frame), dtype=bool)
        if agent_id is not None:
            keep &= (frame["agent_id"] == agent_id).to_numpy()
        if site_id is not None:
            keep &= (frame["site"] == site_name(db, site_id)).to_numpy()
        if window is not None:
            keep &= ((frame["start"] < pd.Timestamp(window[1]))
                     & (frame["end"] > pd.Timestamp(window[0]))).to_numpy()
        return frame[keep].reset_index(drop=True)
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


def site_name(db: Session, site_id: int) -> str:
    return str(db.scalar(sa.select(Site.name).where(Site.id == site_id)))


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


_PERIOD: dict[tuple[object, ...], tuple[pd.DataFrame, pd.DataFrame]] = {}


def period_frames(db: Session, sched: Schedule, requirement_id: int | None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The requirement (`requirement_frame`) and every forecast's rows (`forecast_window`
    columns and ``forecast_id``) over `sched`'s period, read once and kept until a write
    of a forecast or a requirement is audited (an override, a recomputed requirement) or a
    new forecast is stored."""
    key = (sched.id, requirement_id,
           db.scalar(sa.select(sa.func.max(ForecastInterval.forecast_id))),
           db.scalar(sa.select(sa.func.max(AuditEntry.id)).where(
               AuditEntry.object_type.in_(("forecast", "requirement")))))
    with _LOCK:
        if key in _PERIOD:
            return _PERIOD[key]
    period = (sched.period_start, sched.period_end)
    req = (requirement_frame(db, requirement_id, period) if requirement_id is not None
           else pd.DataFrame({"queue": [], "interval_start": pd.to_datetime([], utc=True),
                              "agents": []}))
    t = ForecastInterval
    rows = db.execute(sa.select(t.queue_id, t.interval_start, t.volume, t.aht_s,
                                t.forecast_id).where(t.interval_start >= period[0],
                                                     t.interval_start < period[1])).all()
    fc = pd.DataFrame(rows, columns=["queue", "interval_start", "volume", "aht_s",
                                     "forecast_id"])
    fc["interval_start"] = pd.to_datetime(fc["interval_start"], utc=True)
    fc["aht_s"] = fc["aht_s"].astype(float)
    with _LOCK:
        _PERIOD.clear()
        _PERIOD[key] = (req, fc)
    return req, fc


def in_window(frame: pd.DataFrame, window: tuple[datetime, datetime]) -> pd.DataFrame:
    t = frame["interval_start"]
    return frame[(t >= pd.Timestamp(window[0])) & (t < pd.Timestamp(window[1]))]


def window_inputs(db: Session, sched: Schedule, requirement_id: int | None,
                  window: tuple[datetime, datetime]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The requirement and the newest forecast's volume and handle time over `window` (a
    part of `sched`'s period): `requirement_frame` and `forecast_window` from
    `period_frames`."""
    req, fc = period_frames(db, sched, requirement_id)
    fc = in_window(fc, window)
    if len(fc):
        fc = fc[fc["forecast_id"] == fc["forecast_id"].max()]
    return (in_window(req, window).reset_index(drop=True),
            fc.drop(columns="forecast_id").reset_index(drop=True))


def queue_goals(db: Session) -> dict[str, QueueGoal]:
    return {q.id: QueueGoal(q.answer_within_s, q.patience_s, q.channel == "voice")
            for q in db.execute(sa.select(Queue.id, Queue.answer_within_s, Queue.patience_s,
                                          Queue.channel))}
