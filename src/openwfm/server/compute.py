"""What a job computes: `openwfm.app.plan` (the application layer, the same function as
`openwfm plan` / `openwfm demo`) on the center and history stored in the database, and the
results written back. No planning logic lives here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.app import PlanResult, plan, plan_intervals
from openwfm.capacity.run import CapacityResult
from openwfm.server.availability import plan_wishes
from openwfm.server.center import load_history_from_db, load_scenario_from_db
from openwfm.server.models import (
    CapacityPlan,
    Forecast,
    ForecastInterval,
    JobKind,
    Requirement,
    RequirementInterval,
    Schedule,
    Segment,
)

#: The stages of `openwfm.app.plan` each kind of job runs (forecast and staffing always run).
STAGES: dict[JobKind, tuple[str, ...]] = {
    JobKind.FORECAST: ("forecast", "staffing"),
    JobKind.STAFFING: ("forecast", "staffing"),
    JobKind.SCHEDULE: ("forecast", "staffing", "schedule"),
    JobKind.SIMULATION: ("forecast", "staffing", "schedule", "simulate"),
    JobKind.CAPACITY: ("forecast", "staffing", "capacity"),
    JobKind.PLAN: ("forecast", "staffing", "schedule", "simulate", "capacity"),
}


def run_plan(session: Session, kind: JobKind,
             on_stage: Callable[[str, float], None]) -> PlanResult:
    """`openwfm.app.plan` of the stored center and history for the stages of `kind`, with
    the agents' stored availability and preferences of the plan window
    (`openwfm.server.availability.plan_wishes`); ``on_stage(name, seconds)`` after each
    stage (progress)."""
    scenario = load_scenario_from_db(session)
    history = load_history_from_db(session)
    preferences, availability = plan_wishes(session, scenario)
    session.rollback()  # the read is done; the plan may run for minutes
    return plan(scenario, history, stages=STAGES[kind], on_stage=on_stage,
                preferences=preferences, availability=availability)


def _aware(values: pd.Series) -> list[datetime]:
    return [t.to_pydatetime() for t in pd.to_datetime(values, utc=True)]


def _opt(df: pd.DataFrame, col: str) -> list[float | None]:
    if col not in df:
        return [None] * len(df)
    return [None if (v is None or np.isnan(v)) else float(v) for v in df[col].to_numpy(float)]


def store_results(session: Session, result: PlanResult, job_id: str, name: str
                  ) -> dict[str, Any]:
    """Write what the plan produced: a forecast version, a requirement, a draft schedule,
    a capacity plan; return the job's result summary (ids and the summary lines)."""
    out: dict[str, Any] = {"summary": [list(r) for r in result.summary],
                           "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()}}
    if result.forecast is not None:
        version = (session.scalar(sa.select(sa.func.max(Forecast.version)).where(
            Forecast.name == name)) or 0) + 1
        fc = Forecast(name=name, version=version, job_id=job_id)
        session.add(fc)
        session.flush()
        f = result.forecast.frame
        rows = [{"forecast_id": fc.id, "queue_id": q, "interval_start": t, "volume": v,
                 "aht_s": a, "volume_lo_80": l8, "volume_hi_80": h8, "volume_lo_95": l9,
                 "volume_hi_95": h9}
                for q, t, v, a, l8, h8, l9, h9 in zip(
                    f["queue"].astype(str), _aware(f["interval_start"]), _opt(f, "volume"),
                    _opt(f, "aht_s"), _opt(f, "volume_lo_80"), _opt(f, "volume_hi_80"),
                    _opt(f, "volume_lo_95"), _opt(f, "volume_hi_95"), strict=True)]
        for r in rows:
            r["volume"] = r["volume"] or 0.0
        session.execute(sa.insert(ForecastInterval), rows)
        out["forecast_id"] = fc.id
        out["forecast_version"] = version
    if result.requirement is not None:
        req = Requirement(name=name, forecast_id=out.get("forecast_id"), job_id=job_id)
        session.add(req)
        session.flush()
        r = result.requirement
        session.execute(sa.insert(RequirementInterval), [
            {"requirement_id": req.id, "queue_id": q, "interval_start": t, "agents": a or 0.0,
             "scheduled": s, "service_level": sl}
            for q, t, a, s, sl in zip(r["queue"].astype(str), _aware(r["interval_start"]),
                                      _opt(r, "agents"), _opt(r, "scheduled"),
                                      _opt(r, "service_level"), strict=True)])
        out["requirement_id"] = req.id
    if result.schedule is not None:
        idx = plan_intervals(result.scenario)
        start = idx[0].to_pydatetime()
        end = start + timedelta(days=result.scenario.plan_days)
        seg = result.schedule.result.segments
        sched = Schedule(name=name, period_start=start, period_end=end, job_id=job_id,
                         draft_rev=1, updated_at=datetime.now(UTC))
        session.add(sched)
        session.flush()
        queue = seg["queue"] if "queue" in seg else pd.Series([None] * len(seg))
        rows = [{"schedule_id": sched.id, "version_id": None, "agent_id": str(a),
                 "activity": str(act), "start": s, "end": e,
                 "queue_id": (str(q) if isinstance(q, str) and q else None)}
                for a, act, s, e, q in zip(seg["agent_id"], seg["activity"],
                                           _aware(seg["start"]), _aware(seg["end"]),
                                           queue, strict=True)]
        if rows:
            session.execute(sa.insert(Segment), rows)
        out["schedule_id"] = sched.id
    if result.capacity is not None:
        out["capacity_plan_id"] = store_capacity(session, result.capacity, job_id, name)
    return out


def store_capacity(session: Session, res: CapacityResult, job_id: str | None,
                   name: str) -> int:
    """A capacity plan row: its summary lines, the tables of `openwfm capacity` and, for
    the pages, ``monthly_plan`` (every scenario per site, skill group and month) and
    ``skill_queues`` (the queues of each skill group); returns its id."""
    from openwfm.capacity.run import monthly_plan, skill_queues, summary_lines, tables

    frames = {**tables(res), "monthly_plan": monthly_plan(res),
              "skill_queues": skill_queues(res)}
    tabs = {k: df.astype(object).where(df.notna(), None).astype(str).to_dict("records")
            for k, df in frames.items()}
    plan = CapacityPlan(name=name, job_id=job_id,
                        summary=[list(x) for x in summary_lines(res)], tables=tabs)
    session.add(plan)
    session.flush()
    return plan.id
