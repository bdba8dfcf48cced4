"""What a job computes: the planning stages of the application layer, on the center stored
in the database, with the results written back. No planning logic lives here: the stages
are those of `openwfm demo` / `openwfm plan`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

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

#: The stages each kind of job runs, in order.
STAGES: dict[JobKind, tuple[str, ...]] = {
    JobKind.FORECAST: ("forecast",),
    JobKind.STAFFING: ("forecast", "staffing"),
    JobKind.SCHEDULE: ("forecast", "staffing", "schedule"),
    JobKind.SIMULATION: ("forecast", "staffing", "schedule", "simulate"),
    JobKind.CAPACITY: ("capacity",),
    JobKind.PLAN: ("forecast", "staffing", "schedule", "simulate", "capacity"),
}


class Cancelled(Exception):
    """The job was cancelled between two stages."""


def run_stages(session: Session, kind: JobKind,
               on_stage: Callable[[str, int, int], None]) -> Any:
    """Run the stages of `kind` on the stored center and history; ``on_stage(name, i, n)``
    before stage i of n (it may raise `Cancelled`). Returns the filled plan context."""
    from openwfm.pipeline import PlanContext, default_stages
    from openwfm.report import Report

    scenario = load_scenario_from_db(session)
    history = load_history_from_db(session)
    wanted = STAGES[kind]
    stages = [(n, f) for n, f in default_stages() if n in wanted]
    with tempfile.TemporaryDirectory(prefix="openwfm-job-") as tmp:
        ctx = PlanContext(scenario=scenario, history=history, out_dir=Path(tmp),
                          report=Report(f"openwfm job: {scenario.name}"))
        for i, (name, stage) in enumerate(stages):
            on_stage(name, i, len(stages))
            stage(ctx)
    return ctx


def _aware(values: pd.Series) -> list[datetime]:
    return [t.to_pydatetime() for t in pd.to_datetime(values, utc=True)]


def _opt(df: pd.DataFrame, col: str) -> list[float | None]:
    if col not in df:
        return [None] * len(df)
    return [None if (v is None or np.isnan(v)) else float(v) for v in df[col].to_numpy(float)]


def store_results(session: Session, ctx: Any, job_id: str, name: str) -> dict[str, Any]:
    """Write what the stages produced: a forecast version, a requirement, a draft schedule,
    a capacity plan; return the job's result summary (ids and the summary lines)."""
    out: dict[str, Any] = {"summary": [list(r) for r in ctx.summary]}
    if ctx.forecast is not None:
        version = (session.scalar(sa.select(sa.func.max(Forecast.version)).where(
            Forecast.name == name)) or 0) + 1
        fc = Forecast(name=name, version=version, job_id=job_id)
        session.add(fc)
        session.flush()
        f = ctx.forecast
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
    if ctx.requirement is not None:
        req = Requirement(name=name, forecast_id=out.get("forecast_id"), job_id=job_id)
        session.add(req)
        session.flush()
        r = ctx.requirement
        session.execute(sa.insert(RequirementInterval), [
            {"requirement_id": req.id, "queue_id": q, "interval_start": t, "agents": a or 0.0,
             "scheduled": s, "service_level": sl}
            for q, t, a, s, sl in zip(r["queue"].astype(str), _aware(r["interval_start"]),
                                      _opt(r, "agents"), _opt(r, "scheduled"),
                                      _opt(r, "service_level"), strict=True)])
        out["requirement_id"] = req.id
    if ctx.segments is not None:
        from openwfm.pipeline import plan_intervals

        idx = plan_intervals(ctx.scenario)
        start = idx[0].to_pydatetime()
        end = start + timedelta(days=ctx.scenario.plan_days)
        seg = ctx.segments
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
    if "capacity" in ctx.results:
        from openwfm.capacity.run import summary_lines, tables

        res = ctx.results["capacity"]
        tabs = {k: df.astype(object).where(df.notna(), None).astype(str).to_dict("records")
                for k, df in tables(res).items()}
        plan = CapacityPlan(name=name, job_id=job_id,
                            summary=[list(x) for x in summary_lines(res)], tables=tabs)
        session.add(plan)
        session.flush()
        out["capacity_plan_id"] = plan.id
    if "simulate" in ctx.results:
        out["simulation"] = [list(r) for r in ctx.summary if r[0] == "simulate"]
    return out
