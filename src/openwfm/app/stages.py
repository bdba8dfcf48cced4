"""The stages of a planning run: forecast -> staffing -> schedule -> simulate -> capacity.

Each stage is a function of the scenario and the previous stages' results that returns its
own typed result; each has a companion ``*_summary`` giving its lines of the run's summary.
No stage writes a file or builds a report: `openwfm.app.writers` and `openwfm.report.plan`
do, from the results. `openwfm.app.plan` runs them in order.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from openwfm.app.result import PlannedSchedule, PlannedSimulation, SummaryLine
from openwfm.capacity.run import CapacityResult, run_capacity, summary_lines
from openwfm.forecast.engine import ForecastResult, forecast_queues
from openwfm.scenario import Scenario
from openwfm.scheduling.preferences import Preference
from openwfm.scheduling.summary_figures import planner_summary, worst_simulated
from openwfm.schema import SimulationSpec, validate

__all__ = [
    "REPLICATIONS",
    "SEED",
    "capacity_stage",
    "capacity_summary",
    "forecast_stage",
    "forecast_summary",
    "plan_intervals",
    "schedule_stage",
    "schedule_summary",
    "simulate_stage",
    "simulate_summary",
    "simulation_settings",
    "staffing_frame",
    "staffing_stage",
    "staffing_summary_lines",
]

#: Replications and seed of the simulate stage when the scenario has no ``[simulation]``
#: section (`openwfm.schema.SimulationSpec`'s defaults).
REPLICATIONS = SimulationSpec().replications
SEED = SimulationSpec().seed
#: Capacity solves in a planning run: wall-clock limit per solve (s) and relative MIP gap.
CAPACITY_NODE_LIMIT = 2000
"""Branch-and-bound nodes per capacity plan (a work limit: the same hires on any machine;
measured on the demo: 909 hires at 2.06 % gap with 500, 909 within the 2 % gap with 2,000,
908 with 5,000)."""
CAPACITY_MIP_GAP = 2e-2


def simulation_settings(scenario: Scenario) -> SimulationSpec:
    """The scenario's ``[simulation]`` section (replications, seed), defaults filled in.

    Examples
    --------
    >>> from datetime import date
    >>> sc = Scenario(name="t", interval_s=1800, sites=(), queues=(), agents=(),
    ...               plan_start=date(2026, 3, 30), extra={"simulation": {"seed": 7}})
    >>> s = simulation_settings(sc)
    >>> s.seed, s.replications
    (7, 5)
    """
    return validate(SimulationSpec, scenario.extra.get("simulation", {}),
                    file=str(scenario.source or "<scenario>"), prefix="simulation")


def plan_intervals(scenario: Scenario) -> pd.DatetimeIndex:
    """The UTC interval starts of the planned period (`plan_days` from `plan_start` 00:00 in
    `plan_tz`).

    Examples
    --------
    >>> from datetime import date
    >>> sc = Scenario(name="t", interval_s=1800, sites=(), queues=(), agents=(),
    ...               plan_start=date(2026, 3, 30), plan_days=1, plan_tz="Africa/Casablanca")
    >>> idx = plan_intervals(sc)
    >>> len(idx), str(idx[0])
    (48, '2026-03-29 23:00:00+00:00')
    """
    tz = ZoneInfo(scenario.plan_tz)
    start = datetime.combine(scenario.plan_start, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=scenario.plan_days)
    return pd.date_range(
        pd.Timestamp(start).tz_convert("UTC"),
        pd.Timestamp(end).tz_convert("UTC"),
        freq=f"{scenario.interval_s}s",
        inclusive="left",
    )


def scenario_history(scenario: Scenario, history: pd.DataFrame) -> pd.DataFrame:
    """The rows of `history` for the scenario's queues."""
    ids = [q.id for q in scenario.queues]
    return history[history["queue"].isin(ids)]


# --- forecast ----------------------------------------------------------------------------

def forecast_stage(scenario: Scenario, history: pd.DataFrame) -> ForecastResult:
    """Forecast every queue of the scenario over `plan_intervals` from the history, each in
    its customers' time zone (``Queue.tz``) with the holidays of its market
    (``Queue.market``).

    The result's ``frame`` has one row per queue and plan interval: ``interval_start``
    (UTC), ``queue``, ``volume``, ``volume_lo_80``, ``volume_hi_80``, ``volume_lo_95``,
    ``volume_hi_95`` and ``aht_s``.
    """
    idx = plan_intervals(scenario)
    return forecast_queues(
        scenario_history(scenario, history),
        start=idx[0],
        end=idx[-1] + pd.Timedelta(seconds=scenario.interval_s),
        interval_s=scenario.interval_s,
        tz={q.id: q.tz for q in scenario.queues},
        market={q.id: q.market for q in scenario.queues},
    )


def forecast_summary(result: ForecastResult, history: pd.DataFrame) -> list[SummaryLine]:
    """Contacts forecast, methods chosen and the volume-weighted week-ahead backtest WAPE
    (chosen vs the 4-week mean); `history` weighs the queues by their volume."""
    acc = result.accuracy[result.accuracy["horizon"] == "week 1"]
    volume = history.groupby("queue")["volume"].sum()
    chosen = acc[acc["chosen"]].set_index("queue")["wape"]
    average = acc[acc["method"] == "mean_4w"].set_index("queue")["wape"]
    w = volume.reindex(chosen.index).fillna(0.0)
    methods = pd.Series({q: m.value for q, m in result.chosen.items()}).value_counts()
    return [
        SummaryLine("forecast", "contacts forecast for the plan period",
                    f"{result.frame['volume'].sum():,.0f}"),
        SummaryLine("forecast", "methods chosen by backtest",
                    ", ".join(f"{m} {n}" for m, n in methods.items())),
        SummaryLine("forecast", "week-ahead backtest WAPE, volume-weighted: chosen / 4-week "
                    "mean",
                    f"{(chosen * w).sum() / w.sum():.3f} / "
                    f"{(average.reindex(chosen.index) * w).sum() / w.sum():.3f}"),
    ]


# --- staffing ----------------------------------------------------------------------------

def _or_nan(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def staffing_frame(scenario: Scenario, forecast: pd.DataFrame) -> pd.DataFrame:
    """The input of `openwfm.staffing.staff_frame` for every queue and forecast interval:
    the forecast's volume and AHT with the queue's channel, patience and service goal."""
    rows = []
    for q in scenario.queues:
        f = forecast[forecast["queue"] == q.id]
        rows.append(
            pd.DataFrame(
                {
                    "interval_start": f["interval_start"].to_numpy(),
                    "queue": q.id,
                    "channel": q.channel.value,
                    "volume": f["volume"].to_numpy(),
                    "aht_s": f["aht_s"].to_numpy(),
                    "interval_s": scenario.interval_s,
                    "patience_s": _or_nan(q.patience_s),
                    "sl_target": q.goal.sl_target,
                    "sl_seconds": q.goal.answer_within_s,
                    "concurrency": q.concurrency,
                    "max_occupancy": _or_nan(q.goal.max_occupancy),
                    "max_asa_s": _or_nan(q.goal.max_asa_s),
                    "max_abandon": _or_nan(q.goal.max_abandon if q.patience_s else None),
                    "shrinkage": scenario.shrinkage,
                    "tz": q.tz,  # email levels are per local day of the queue
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def staffing_stage(scenario: Scenario, forecast: pd.DataFrame) -> pd.DataFrame:
    """The requirement table: every queue and interval of the forecast staffed for the
    queue's service goal (`openwfm.staffing.staff_frame`)."""
    from openwfm.staffing import staff_frame

    return staff_frame(staffing_frame(scenario, forecast))


def staffing_summary_lines(requirement: pd.DataFrame) -> list[SummaryLine]:
    """Agent-hours required, scheduled hours, peak agents and the service level if staffed
    as required (volume-weighted)."""
    req = requirement
    hours = req["interval_s"].astype(float) / 3600.0
    vol = float(req["volume"].sum())
    sl = float((req["service_level"] * req["volume"]).sum() / vol) if vol > 0 else 1.0
    return [
        SummaryLine("staffing", "agent-hours required (productive)",
                    f"{(req['agents'] * hours).sum():,.0f}"),
        SummaryLine("staffing", "scheduled hours (after shrinkage)",
                    f"{(req['scheduled'] * hours).sum():,.0f}"),
        SummaryLine("staffing", "peak agents in one interval (all queues)",
                    f"{int(req.groupby('interval_start')['agents'].sum().max()):,}"),
        SummaryLine("staffing", "service level if staffed as required", f"{sl:.1%}"),
    ]


# --- schedule ----------------------------------------------------------------------------

def schedule_stage(scenario: Scenario, requirement: pd.DataFrame, *,
                   preferences: tuple[Preference, ...] = (),
                   availability: tuple[tuple[str, datetime, datetime], ...] = ()
                   ) -> PlannedSchedule:
    """Schedule the scenario's agents for the plan period (week by week) from the
    requirement, with the scenario's ``[scheduling]`` section; `preferences` and
    `availability` (unavailable ``(agent_id, start, end)``) are added to the section's
    files' rows, as if they were rows of them."""
    from openwfm.scheduling.model import scenario_config
    from openwfm.scheduling.weeks import schedule_weeks

    config = scenario_config(scenario)
    if preferences or availability:
        config = dataclasses.replace(
            config, preferences=(*config.preferences, *preferences),
            availability=(*config.availability, *availability))
    problem, result = schedule_weeks(scenario, requirement, config)
    return PlannedSchedule(problem=problem, result=result)


def schedule_summary(planned: PlannedSchedule) -> list[SummaryLine]:
    """Status and violations, cost and objective, the penalty, the bound and coverage."""
    problem, result = planned.problem, planned.result
    cov = result.coverage
    req_h = float(cov["required"].sum())
    return [
        SummaryLine("schedule", "status / violations",
                    f"{result.status} / {len(result.check.violations)}"),
        SummaryLine("schedule", "cost / objective",
                    f"{result.cost:,.0f} / {result.objective:,.0f}"),
        SummaryLine("schedule", "understaffing penalty", problem.penalty.describe()),
        SummaryLine("schedule", "LP bound / gap", f"{result.lp_bound:,.0f} / {result.gap:.2%}"),
        SummaryLine("schedule", "requirement covered",
                    f"{1 - float(cov['shortfall'].sum()) / req_h:.1%}" if req_h else "n/a"),
        *[SummaryLine("schedule", what, value) for what, value in
          planner_summary(problem, cov, result.shifts).lines()],
    ]


# --- simulate ----------------------------------------------------------------------------

def simulate_stage(scenario: Scenario, forecast: pd.DataFrame, *,
                   segments: pd.DataFrame | None = None,
                   requirement: pd.DataFrame | None = None,
                   replications: int = REPLICATIONS, seed: int = SEED) -> PlannedSimulation:
    """Simulate the plan: the schedule's `segments` when there are any (agents follow their
    shifts and breaks), otherwise the `requirement` as dedicated agents per queue and
    interval; `replications` runs from `seed`."""
    from openwfm.simulation import simulate
    from openwfm.simulation.plan import plan_model

    scheduled = segments is not None and len(segments) > 0
    if scheduled:
        model = plan_model(scenario, forecast, segments=segments)
    elif requirement is not None:
        model = plan_model(scenario, forecast, staffing=requirement)
    else:
        raise ValueError("simulate_stage needs segments or a requirement")
    res = simulate(model, replications=replications, seed=seed)
    targets = {q.id: q.goal.sl_target for q in scenario.queues}
    return PlannedSimulation(
        result=res,
        intervals=res.intervals.assign(sl_target=lambda d: d["queue"].map(targets)),
        queues=res.queues.assign(sl_target=lambda d: d["queue"].map(targets)),
        scheduled=scheduled, replications=replications, seed=seed)


def simulate_summary(sim: PlannedSimulation) -> list[SummaryLine]:
    """What was simulated, contacts, the overall simulated service level and the intervals
    below target (mean, and CI upper bound)."""
    iv, qk = sim.intervals, sim.queues
    active = iv[iv["offered"] > 0]
    below = active["service_level"] < active["sl_target"]
    sure = active["service_level_hi"] < active["sl_target"]
    offered = float(qk["offered"].sum())
    sl_all = float((qk["service_level"] * qk["offered"]).sum() / offered) if offered else 1.0
    return [
        SummaryLine("simulate", "what was simulated", "schedule" if sim.scheduled else
                    "requirement (no schedule in this run)"),
        SummaryLine("simulate", "contacts simulated",
                    f"{len(sim.result.log):,} ({sim.replications} replications)"),
        SummaryLine("simulate", "simulated service level (all queues)", f"{sl_all:.1%}"),
        SummaryLine("simulate", "intervals below target (mean / CI upper bound)",
                    f"{int(below.sum()):,} / {int(sure.sum()):,} of {len(active):,}"),
        SummaryLine("simulate", "worst simulated interval (3 worst queues)",
                    "; ".join(f"{w.queue} {w.service_level:.0%} at "
                              f"{w.interval_start:%a %H:%M} UTC"
                              for w in sorted(worst_simulated(iv),
                                              key=lambda w: w.service_level)[:3]) or "n/a"),
    ]


# --- capacity ----------------------------------------------------------------------------

def capacity_stage(scenario: Scenario, history: pd.DataFrame) -> CapacityResult | None:
    """The long-term plan of the scenario's ``[capacity]`` section with its scenarios (None
    without a ``[capacity]`` section). Each solve stops at `CAPACITY_MIP_GAP` or
    `CAPACITY_NODE_LIMIT` nodes (deterministic; the gap reached is reported)."""
    if "capacity" not in scenario.extra:
        return None
    return run_capacity(scenario, history, node_limit=CAPACITY_NODE_LIMIT,
                        mip_rel_gap=CAPACITY_MIP_GAP)


def capacity_summary(result: CapacityResult | None) -> list[SummaryLine]:
    """The capacity plan's lines and one per scenario (cost, hires and gap vs the base)."""
    if result is None:
        return [SummaryLine("capacity", "plan", "skipped: the scenario has no [capacity]")]
    out = [SummaryLine("capacity", what, value) for what, value in summary_lines(result)]
    if result.comparison is not None:
        for _, r in result.comparison.iloc[1:].iterrows():
            out.append(SummaryLine(
                "capacity", f"scenario {r['scenario']}",
                f"cost {r['cost_vs_base']:+,.0f}, hires {int(r['hires_vs_base']):+d}, under "
                f"{r['under_vs_base']:+,.1f} FTE-weeks"
                + ("" if r["difference_proven"] else
                   " (within the solvers' gaps: sign not proven)")))
    return out
