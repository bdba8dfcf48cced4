"""What a schedule amounts to, computed from its result: the summary figures, fairness,
seats in use per site, and the segments in local time (no I/O: writers and the report use
these)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from openwfm.scheduling.check import on_duty_level
from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.solve import ScheduleResult
from openwfm.scheduling.summary_figures import planner_summary

__all__ = ["fairness_items", "seats_in_use", "segments_with_local_time", "summary_frame"]


def segments_with_local_time(problem: SchedulingProblem, segments: pd.DataFrame
                             ) -> pd.DataFrame:
    """`segments` plus ``start_local`` / ``end_local``: each work, break and meal segment in
    its agent's site zone (ISO with the offset in force then, so DST and Ramadan show).

    Examples
    --------
    >>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
    >>> from openwfm.scheduling.model import build_problem
    >>> sc = toy_scenario(n_agents=1)
    >>> p = build_problem(sc, flat_requirement(sc, 0.0))
    >>> seg = pd.DataFrame({"agent_id": ["a1"], "site": ["Casablanca"], "activity": ["meal"],
    ...                     "start": [pd.Timestamp("2026-03-30 12:00", tz="UTC")],
    ...                     "end": [pd.Timestamp("2026-03-30 13:00", tz="UTC")]})
    >>> segments_with_local_time(p, seg)["start_local"].iloc[0]
    '2026-03-30T13:00:00+01:00'
    """
    out = segments.copy()
    zone = out["site"].map({s.name: s.tz for s in problem.scenario.sites})
    for col in ("start", "end"):
        out[f"{col}_local"] = [t.tz_convert(z).isoformat() for t, z in zip(out[col], zone,
                                                                           strict=True)]
    return out


def seats_in_use(problem: SchedulingProblem, segments: pd.DataFrame) -> dict[str, pd.Series]:
    """Site -> the most agents on duty (any activity) at once in each interval of the plan.

    Examples
    --------
    >>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
    >>> from openwfm.scheduling.model import build_problem
    >>> sc = toy_scenario(n_agents=2)
    >>> p = build_problem(sc, flat_requirement(sc, 0.0))
    >>> ts = pd.Timestamp
    >>> seg = pd.DataFrame({"agent_id": ["a1", "a2"], "site": ["Casablanca"] * 2,
    ...                     "activity": ["work", "meal"],
    ...                     "start": [ts("2026-03-30 08:00", tz="UTC"),
    ...                               ts("2026-03-30 08:10", tz="UTC")],
    ...                     "end": [ts("2026-03-30 09:00", tz="UTC"),
    ...                             ts("2026-03-30 08:20", tz="UTC")]})
    >>> on = seats_in_use(p, seg)["Casablanca"]
    >>> on["2026-03-30 07:45":"2026-03-30 09:00"].tolist()  # a2 08:10-08:20 spans two
    [0, 2, 2, 1, 1, 0]
    """
    im = problem.interval_min
    T = problem.n_intervals
    out = {}
    for site in problem.scenario.sites:
        df = segments[segments["site"] == site.name]
        if df.empty:
            continue
        level = on_duty_level(df)
        minute = ((level.index - problem.origin).total_seconds() // 60).astype(int)
        # the most on duty in each interval: the level after every event inside it, and the
        # level carried in at its start
        at_start = np.searchsorted(minute.to_numpy(), np.arange(T) * im, side="right") - 1
        vals = level.to_numpy()
        per_t = np.where(at_start >= 0, vals[np.clip(at_start, 0, None)], 0)
        t_ev = minute.to_numpy() // im
        inside = (t_ev >= 0) & (t_ev < T)
        np.maximum.at(per_t, t_ev[inside], vals[inside])
        out[site.name] = pd.Series(per_t, index=problem.times)
    return out


def fairness_items(shifts: pd.DataFrame) -> list[tuple[str, float]]:
    """How nights (>= 2 h in the site's night window) and weekend shifts (starting on a
    weekend day of the site's labour pack, `openwfm.labour.RulePack.weekend_days`: the
    ``weekend`` column of the shifts table) are spread over the agents who work: most, mean
    and fewest per agent.

    Examples
    --------
    >>> sh = pd.DataFrame({"agent_id": ["a", "a", "b"], "night_h": [3.0, 0.0, 2.0],
    ...                    "weekend": [True, False, False]})
    >>> dict(fairness_items(sh))["night_shifts_per_agent_max"]
    1
    >>> dict(fairness_items(sh))["weekend_shifts_per_agent_mean"]
    0.5
    """
    if shifts.empty:
        return []
    night = (shifts["night_h"] >= 2.0 - 1e-9).groupby(shifts["agent_id"]).sum()
    weekend = shifts["weekend"].astype(bool).groupby(shifts["agent_id"]).sum()
    out: list[tuple[str, float]] = []
    for name, per_agent in (("night_shifts", night), ("weekend_shifts", weekend)):
        out += [(f"{name}_per_agent_max", int(per_agent.max())),
                (f"{name}_per_agent_mean", round(float(per_agent.mean()), 3)),
                (f"{name}_per_agent_min", int(per_agent.min()))]
    return out


def summary_frame(result: ScheduleResult, problem: SchedulingProblem | None = None
                  ) -> pd.DataFrame:
    """One row per figure: status, cost, penalty, objective, bound, gap, violations,
    preferences met and given (and, given the problem, which understaffing penalty priced
    the shortfall and the planner's figures, `summary_figures.planner_summary`: intervals
    below requirement, empty intervals, the worst shortfall, scheduled / required hours per
    queue, start-time spread). No timings: the same input gives the same file."""
    cov = result.coverage
    req_h = float(cov["required"].sum())
    items = [("status", result.status), *[(f"solver_{k}", v) for k, v in result.stages],
             ("shift_cost", round(result.cost, 2)), ("shortfall_penalty", round(result.penalty, 2)),
             *([("understaffing_penalty", problem.penalty.describe())] if problem else []),
             ("objective", round(result.objective, 2)), ("lp_bound", round(result.lp_bound, 2)),
             ("gap", round(result.gap, 5)),
             ("coverage_share", round(1 - float(cov["shortfall"].sum()) / req_h, 5)
              if req_h else 1.0),
             ("violations", len(result.check.violations)),
             *fairness_items(result.shifts),
             ("preferences_met", int(result.preferences["met"].sum())),
             ("preferences_total", len(result.preferences)),
             *(planner_summary(problem, cov, result.shifts).items() if problem else [])]
    return pd.DataFrame(items, columns=["what", "value"])
