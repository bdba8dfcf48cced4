"""One planning run for one scenario: forecast -> staffing -> schedule -> simulate -> capacity.

Each stage is a function ``stage_x(ctx) -> None`` that fills its part of the `PlanContext`,
writes its CSVs into ``ctx.out_dir`` and adds its sections to ``ctx.report``. The CLI and the
API are thin shells over `run_plan`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from openwfm.report import Report
from openwfm.scenario import Scenario


@dataclass
class PlanContext:
    """Everything a planning run knows, stage after stage."""

    scenario: Scenario
    history: pd.DataFrame
    out_dir: Path
    report: Report
    forecast: pd.DataFrame | None = None
    requirement: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    results: dict[str, Any] = field(default_factory=dict)
    """Per-stage result objects (frozen dataclasses), keyed by stage name."""
    timings_s: dict[str, float] = field(default_factory=dict)
    summary: list[tuple[str, str, str]] = field(default_factory=list)
    """(stage, what, value) lines for the terminal summary table."""

    def write_csv(self, df: pd.DataFrame, name: str) -> Path:
        path = self.out_dir / name
        df.to_csv(path, index=False)
        return path


Stage = Callable[[PlanContext], None]


def plan_intervals(scenario: Scenario) -> pd.DatetimeIndex:
    """The UTC interval starts of the planned period (`plan_days` from `plan_start` 00:00 in
    `plan_tz`)."""
    tz = ZoneInfo(scenario.plan_tz)
    start = datetime.combine(scenario.plan_start, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=scenario.plan_days)
    return pd.date_range(
        pd.Timestamp(start).tz_convert("UTC"),
        pd.Timestamp(end).tz_convert("UTC"),
        freq=f"{scenario.interval_s}s",
        inclusive="left",
    )


def _or_nan(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def stage_staffing(ctx: PlanContext) -> None:
    """Staff every queue and interval of the forecast with the queue's service goal."""
    from openwfm.staffing import staff_frame
    from openwfm.staffing.report import staffing_sections

    assert ctx.forecast is not None, "the forecast stage runs first"
    rows = []
    for q in ctx.scenario.queues:
        f = ctx.forecast[ctx.forecast["queue"] == q.id]
        rows.append(
            pd.DataFrame(
                {
                    "interval_start": f["interval_start"].to_numpy(),
                    "queue": q.id,
                    "channel": q.channel.value,
                    "volume": f["volume"].to_numpy(),
                    "aht_s": f["aht_s"].to_numpy(),
                    "interval_s": ctx.scenario.interval_s,
                    "patience_s": _or_nan(q.patience_s),
                    "sl_target": q.goal.sl_target,
                    "sl_seconds": q.goal.answer_within_s,
                    "concurrency": q.concurrency,
                    "max_occupancy": _or_nan(q.goal.max_occupancy),
                    "max_asa_s": _or_nan(q.goal.max_asa_s),
                    "max_abandon": _or_nan(q.goal.max_abandon if q.patience_s else None),
                    "shrinkage": ctx.scenario.shrinkage,
                    "tz": q.tz,  # email levels are per local day of the queue
                }
            )
        )
    ctx.requirement = staff_frame(pd.concat(rows, ignore_index=True))
    ctx.write_csv(ctx.requirement, "requirement.csv")
    for section in staffing_sections(ctx.requirement, ctx.scenario):
        ctx.report.add(section)
    req = ctx.requirement
    hours = req["interval_s"].astype(float) / 3600.0
    vol = float(req["volume"].sum())
    sl = float((req["service_level"] * req["volume"]).sum() / vol) if vol > 0 else 1.0
    ctx.summary += [
        ("staffing", "agent-hours required (productive)", f"{(req['agents'] * hours).sum():,.0f}"),
        ("staffing", "scheduled hours (after shrinkage)",
         f"{(req['scheduled'] * hours).sum():,.0f}"),
        ("staffing", "peak agents in one interval (all queues)",
         f"{int(req.groupby('interval_start')['agents'].sum().max()):,}"),
        ("staffing", "service level if staffed as required", f"{sl:.1%}"),
    ]


def run_plan(
    ctx: PlanContext,
    stages: list[tuple[str, Stage]],
    on_stage: Callable[[str, float], None] | None = None,
) -> PlanContext:
    """Run `stages` in order on `ctx`, timing each; `on_stage(name, seconds)` after each."""
    for name, stage in stages:
        t0 = time.perf_counter()
        stage(ctx)
        ctx.timings_s[name] = time.perf_counter() - t0
        if on_stage is not None:
            on_stage(name, ctx.timings_s[name])
    return ctx


def default_stages() -> list[tuple[str, Stage]]:
    """The stages of a full planning run, in order (each domain adds its own here)."""
    from openwfm.capacity.run import stage_capacity
    from openwfm.forecast.stage import stage_forecast
    from openwfm.scheduling.stage import stage_schedule
    from openwfm.simulation.stage import stage_simulate

    return [
        ("forecast", stage_forecast),
        ("staffing", stage_staffing),
        ("schedule", stage_schedule),
        ("simulate", stage_simulate),
        ("capacity", stage_capacity),
    ]
