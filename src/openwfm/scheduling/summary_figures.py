"""What a planner looks for in a schedule, computed from the problem and its coverage.

Not solver statistics: the intervals below the requirement (how many, the worst one, when
and where), the intervals left with nobody although contacts are expected (and whether an
agent with the skill could legally have worked there: a hole the plan could close, or one
only hiring or a rule change can), scheduled / required productive hours per queue with an
over-staffing flag above ``[scheduling] over_staffing_ratio``, how much agents' start
times move within their week (rule ``start_time_spread``) and, given a simulation, the
worst simulated interval per queue. `PlannerSummary.items` gives the rows of
``schedule_summary.csv``; the CLI and the report show the same figures.

Examples
--------
>>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
>>> from openwfm.scheduling.model import build_problem
>>> sc = toy_scenario(n_agents=1)
>>> p = build_problem(sc, flat_requirement(sc, 1.0))
>>> at_work = np.r_[np.zeros(4), np.full(p.n_intervals - 4, 1.5)]
>>> cov = pd.DataFrame({"interval_start": p.times, "queue": "q1", "required": 1.0,
...                     "scheduled": at_work, "skilled_at_work": at_work})
>>> s = planner_summary(p, cov, pd.DataFrame(columns=["agent_id", "start_local"]))
>>> s.below_requirement, s.empty, s.empty_with_legal_agent, s.worst.shortfall
(4, 4, 4, 1.0)
>>> s.queues[0].ratio > 1.2, s.queues[0].over_staffed
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from openwfm.scheduling.assign import agent_may_work
from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.solve import empty_mask


@dataclass(frozen=True)
class WorstInterval:
    """The queue-interval with the largest shortfall (agents below the requirement)."""

    queue: str
    interval_start: pd.Timestamp
    required: float
    scheduled: float
    shortfall: float


@dataclass(frozen=True)
class QueueHours:
    """Productive hours of one queue over the plan: required, scheduled, their ratio."""

    queue: str
    required_h: float
    scheduled_h: float
    ratio: float
    """``scheduled_h / required_h`` (nan without a requirement)."""
    over_staffed: bool
    """``ratio`` above the problem's ``over_staffing_ratio``."""
    below_requirement: int
    """Intervals of this queue below its requirement."""
    empty: int
    """Intervals of this queue with a requirement and nobody scheduled."""
    contract_h: float = float("nan")
    """Productive hours the agents' contracts force on this queue (`contract_hours`):
    each agent with the skill at ``contract - contract_tolerance_h`` (the least its
    contract allows), shared between its skills in proportion to their required hours."""

    @property
    def forced_by_contracts(self) -> bool:
        """Over-staffed by the contracts alone: `contract_h` / required hours is above the
        threshold too (the roster holds more hours than the requirement, not the scheduler's
        choice)."""
        return self.over_staffed and self.contract_h > self.ratio_max * self.required_h

    ratio_max: float = 1.2
    """The over-staffing threshold (``[scheduling] over_staffing_ratio``)."""


@dataclass(frozen=True)
class SimulatedWorst:
    """The interval with the lowest simulated service level of one queue."""

    queue: str
    interval_start: pd.Timestamp
    service_level: float
    sl_target: float


@dataclass(frozen=True)
class PlannerSummary:
    """The figures a planner reads first (module docstring)."""

    intervals_required: int
    """Queue-intervals with a requirement > 0."""
    below_requirement: int
    """Of those, scheduled below the requirement."""
    worst: WorstInterval | None
    empty: int
    """Queue-intervals with a requirement > 0 and no productive agent scheduled."""
    empty_with_legal_agent: int
    """Of those, where an agent with the skill could legally have a shift covering it."""
    queues: tuple[QueueHours, ...]
    over_staffing_ratio: float
    start_spread_median_h: float
    """Median over agents of the largest difference between start times (local time of
    day) within the week (rule ``start_time_spread``); nan without shifts."""
    start_spread_max_h: float
    simulated_worst: tuple[SimulatedWorst, ...] = ()

    def items(self) -> list[tuple[str, object]]:
        """``(what, value)`` rows for ``schedule_summary.csv`` (full precision)."""
        out: list[tuple[str, object]] = [
            ("intervals_with_requirement", self.intervals_required),
            ("intervals_below_requirement", self.below_requirement),
            ("empty_intervals_with_requirement", self.empty),
            ("empty_intervals_with_a_legal_agent", self.empty_with_legal_agent),
        ]
        if self.worst is not None:
            w = self.worst
            out += [("worst_shortfall_agents", round(w.shortfall, 6)),
                    ("worst_shortfall_queue", w.queue),
                    ("worst_shortfall_at", w.interval_start.isoformat()),
                    ("worst_shortfall_required", round(w.required, 6)),
                    ("worst_shortfall_scheduled", round(w.scheduled, 6))]
        out += [("start_spread_median_h", round(self.start_spread_median_h, 4)),
                ("start_spread_max_h", round(self.start_spread_max_h, 4)),
                ("over_staffing_ratio", self.over_staffing_ratio),
                ("queues_over_staffed", ";".join(q.queue for q in self.queues
                                                  if q.over_staffed))]
        out.append(("queues_over_staffed_by_contracts",
                    ";".join(q.queue for q in self.queues if q.forced_by_contracts)))
        for q in self.queues:
            out += [(f"scheduled_over_required:{q.queue}", round(q.ratio, 4)),
                    (f"contract_hours_over_required:{q.queue}",
                     round(q.contract_h / q.required_h, 4) if q.required_h > 0
                     else float("nan")),
                    (f"below_requirement:{q.queue}", q.below_requirement),
                    (f"empty:{q.queue}", q.empty)]
        for s in self.simulated_worst:
            out.append((f"worst_simulated_service_level:{s.queue}",
                        f"{s.service_level:.4f} at {s.interval_start.isoformat()}"))
        return out

    def lines(self) -> list[tuple[str, str]]:
        """``(what, value)`` for a terminal or report summary (rounded for reading)."""
        out = [("intervals below requirement",
                f"{self.below_requirement:,} of {self.intervals_required:,}"),
               ("empty intervals with requirement > 0",
                f"{self.empty:,} ({self.empty_with_legal_agent:,} with an agent who could "
                "legally work)")]
        if self.worst is not None:
            w = self.worst
            at = w.interval_start.strftime("%a %Y-%m-%d %H:%M")
            out.append(("worst shortfall", f"{w.shortfall:.1f} agents ({w.scheduled:.1f} of "
                        f"{w.required:.1f}) {w.queue} at {at} UTC"))
        over = [q for q in self.queues if q.over_staffed]
        out.append((f"scheduled / required hours above {self.over_staffing_ratio:g} "
                    "(contracts alone)",
                    ", ".join(f"{q.queue} {q.ratio:.2f} ({q.contract_h / q.required_h:.2f})"
                              for q in over) if over else "none"))
        if over:
            forced = sum(q.forced_by_contracts for q in over)
            req = sum(q.required_h for q in self.queues)
            floor = sum(q.contract_h for q in self.queues if np.isfinite(q.contract_h))
            out.append(("over-staffing forced by contracts",
                        f"{forced} of {len(over)} queues: agents at contract - tolerance "
                        f"alone give {floor / req:.2f} x the required hours"
                        if req > 0 else "n/a"))
        out.append(("start-time spread per agent (median / max)",
                    f"{self.start_spread_median_h:.1f} h / {self.start_spread_max_h:.1f} h"))
        return out


def contract_hours(problem: SchedulingProblem) -> dict[str, float]:
    """Queue -> productive hours the contracts force on it: every agent works at least
    ``min(contract_hours, legal weekly maximum) - contract_tolerance_h`` paid hours, at the
    lowest productive share of a paid hour among its allowed shift lengths (breaks out),
    and those hours are shared between the agent's skills in proportion to their required
    hours (equally when none is required). Summed over queues, the least productive hours
    the roster can be scheduled for.

    Examples
    --------
    >>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
    >>> from openwfm.scheduling.model import build_problem, parse_config
    >>> sc = toy_scenario(n_agents=2)   # 40 h contracts, 2 h tolerance, 8 h shifts, no break
    >>> p = build_problem(sc, flat_requirement(sc, 1.0), parse_config(
    ...     {"breaks": [], "shifts": [{"lengths_h": [8]}]}))
    >>> contract_hours(p)
    {'q1': 76.0}
    """
    from openwfm.scheduling.cover import productive_profile

    im = problem.interval_min
    req_h = dict(zip(problem.queues, problem.required.sum(axis=1) * im / 60, strict=True))
    unpaid = {b.name for b in problem.config.breaks if not b.paid}
    share: dict[int, float] = {}
    for length in sorted({st.length for st in problem.shift_types}):
        paid = length - sum(b.minutes for b in problem.config.breaks
                            if b.name in unpaid and b.applies(length))
        share[length] = float(productive_profile(problem, length).sum()) * im / max(paid, 1)
    out = dict.fromkeys(problem.queues, 0.0)
    tol = problem.config.contract_tolerance_h
    for a in problem.scenario.agents:
        skills = [q for q in a.skills if q in out]
        lengths = [n for n in share if a.min_shift_h * 60 <= n <= a.max_shift_h * 60]
        if not skills or not lengths:
            continue
        floor = max(0.0, min(a.contract_hours, problem.packs[a.site].max_weekly_h) - tol)
        hours = floor * min(share[n] for n in lengths)
        total = sum(req_h[q] for q in skills)
        for q in skills:
            out[q] += hours * (req_h[q] / total if total > 0 else 1 / len(skills))
    return {q: float(v) for q, v in out.items()}


def legal_cover(problem: SchedulingProblem) -> np.ndarray:
    """[queue, interval]: whether some agent with the queue's skill may work a shift type
    covering the interval (site, length, night work, availability, history's rest), on the
    (cyclic) horizon."""
    im, T = problem.interval_min, problem.n_intervals
    qidx = {q: i for i, q in enumerate(problem.queues)}
    out = np.zeros((len(problem.queues), T), dtype=bool)
    seen: dict[tuple[object, ...], np.ndarray] = {}  # agents alike by what `agent_may_work` reads
    for a in problem.scenario.agents:
        qs = [qidx[q] for q in a.skills if q in qidx]
        if not qs:
            continue
        own = a.id in problem.history or a.id in problem.unavailable
        key = (a.id,) if own else (a.site, a.min_shift_h, a.max_shift_h, a.night_ok)
        ok = seen.get(key)
        if ok is None:
            ok = np.zeros(T, dtype=bool)
            for st in problem.shift_types:
                if (st.site != a.site or st.day >= problem.days
                        or not agent_may_work(problem, a, st)):
                    continue
                s, e, _ = problem.fold(np.array([st.start]), np.array([st.end]))
                for x, y in zip(s.tolist(), e.tolist(), strict=True):
                    ok[x // im:-(-y // im)] = True
            seen[key] = ok
        out[qs] |= ok
    return out


def empty_intervals(problem: SchedulingProblem, coverage: pd.DataFrame) -> pd.DataFrame:
    """Rows of `coverage` with a requirement > 0 and nobody with the skill at work
    (`solve.empty_mask`), plus
    ``legal_agent``: whether an agent with the skill could legally work there
    (`legal_cover` of `problem`; in a plan of several weeks, `problem` is the first week's
    and the later weeks are judged on its shift types, weekday for weekday)."""
    out = coverage.loc[empty_mask(coverage)].copy()
    qidx = {q: i for i, q in enumerate(problem.queues)}
    ti = ((pd.to_datetime(out["interval_start"], utc=True) - problem.origin)
          .dt.total_seconds().to_numpy() // (problem.interval_min * 60)).astype(int)
    qi = out["queue"].map(qidx).to_numpy(dtype=int)
    # a plan of several weeks: later weeks are judged on the first week's (same weekdays)
    out["legal_agent"] = (legal_cover(problem)[qi, ti % problem.n_intervals] if len(out)
                          else np.zeros(0, bool))
    return out


def start_spreads_h(shifts: pd.DataFrame) -> pd.Series:
    """Agent id -> largest difference between its start times (local time of day, hours)
    within the plan, from a shifts table (``agent_id``, ``start_local`` ISO)."""
    if shifts.empty:
        return pd.Series(dtype=float)
    local = [pd.Timestamp(x) for x in shifts["start_local"]]
    minute = pd.Series([t.hour * 60 + t.minute for t in local], index=shifts.index)
    g = minute.groupby(shifts["agent_id"])
    return (g.max() - g.min()) / 60


def planner_summary(problem: SchedulingProblem, coverage: pd.DataFrame, shifts: pd.DataFrame,
                    simulated: pd.DataFrame | None = None) -> PlannerSummary:
    """The planner's figures of a schedule (module docstring).

    Parameters
    ----------
    coverage : DataFrame
        ``interval_start, queue, required, scheduled`` (`solve.ScheduleResult.coverage`).
    shifts : DataFrame
        ``agent_id, start_local`` (`solve.ScheduleResult.shifts`).
    simulated : DataFrame, optional
        Simulated KPIs per queue and interval: ``interval_start, queue, service_level``
        (and ``sl_target``, ``offered``); the worst interval with contacts per queue.
    """
    req = coverage["required"].to_numpy(dtype=float)
    sch = coverage["scheduled"].to_numpy(dtype=float)
    short = np.maximum(req - sch, 0.0)
    has = req > 0
    below = has & (short > 1e-6)
    worst = None
    if below.any():
        k = int(np.argmax(np.where(below, short, -1.0)))
        worst = WorstInterval(str(coverage["queue"].iloc[k]),
                              pd.Timestamp(coverage["interval_start"].iloc[k]),
                              float(req[k]), float(sch[k]), float(short[k]))
    empty = empty_intervals(problem, coverage)
    h = problem.interval_min / 60
    ratio_max = problem.config.over_staffing_ratio
    queues = []
    forced = contract_hours(problem)
    weeks = len(coverage) / max(1, len(problem.queues) * problem.n_intervals)
    for q in problem.queues:
        m = (coverage["queue"] == q).to_numpy()
        r_h, s_h = float(req[m].sum() * h), float(sch[m].sum() * h)
        ratio = s_h / r_h if r_h > 0 else float("nan")
        queues.append(QueueHours(q, r_h, s_h, ratio, bool(ratio > ratio_max),
                                 int(below[m].sum()), int((empty["queue"] == q).sum()),
                                 forced[q] * weeks, ratio_max))
    spreads = start_spreads_h(shifts)
    sim = worst_simulated(simulated) if simulated is not None else ()
    return PlannerSummary(
        intervals_required=int(has.sum()), below_requirement=int(below.sum()), worst=worst,
        empty=len(empty), empty_with_legal_agent=int(empty["legal_agent"].sum()),
        queues=tuple(queues), over_staffing_ratio=ratio_max,
        start_spread_median_h=float(spreads.median()) if len(spreads) else float("nan"),
        start_spread_max_h=float(spreads.max()) if len(spreads) else float("nan"),
        simulated_worst=sim)


def worst_simulated(intervals: pd.DataFrame) -> tuple[SimulatedWorst, ...]:
    """Per queue (sorted by name), the interval with contacts offered and the lowest
    simulated service level, from simulated KPIs per queue and interval
    (``interval_start, queue, service_level`` and optionally ``offered``, ``sl_target``).

    Examples
    --------
    >>> iv = pd.DataFrame({"interval_start": pd.to_datetime(["2026-03-30 08:00"] * 2 + [
    ...     "2026-03-30 08:15"], utc=True), "queue": ["a", "b", "a"],
    ...     "service_level": [0.9, 0.5, 0.7], "offered": [3.0, 0.0, 2.0]})
    >>> [(w.queue, w.service_level) for w in worst_simulated(iv)]  # b offered nothing
    [('a', 0.7)]
    """
    df = intervals
    if "offered" in df.columns:
        df = df[df["offered"] > 0]
    out = []
    for q, g in df.groupby("queue", sort=True):
        g = g.dropna(subset=["service_level"])
        if g.empty:
            continue
        row = g.loc[g["service_level"].idxmin()]
        out.append(SimulatedWorst(str(q), pd.Timestamp(row["interval_start"]),
                                  float(row["service_level"]),
                                  float(row.get("sl_target", float("nan")))))
    return tuple(out)
