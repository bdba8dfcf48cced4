"""Solve a scheduling problem: stage 1 (HiGHS) -> stage 2 (CP-SAT) -> stage 3 (breaks).

The final schedule is evaluated from its segments alone: shift cost (paid hours x site
cost + night premium) plus the shortfall penalty of the best split of productive agents
between queues (`cover.flow_coverage`). The gap is measured against the stage-1 LP bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from openwfm import progress
from openwfm.activities import PRODUCTIVE
from openwfm.scheduling.assign import (
    GroupAssignment,
    GroupModel,
    build_group_model,
    seat_profile,
    short_minutes,
    solve_group,
)
from openwfm.scheduling.breaks import place_breaks
from openwfm.scheduling.check import RuleCheck, check_schedule
from openwfm.scheduling.cover import build_cover_model, flow_coverage, solve_cover
from openwfm.scheduling.explain import diagnose_group, precheck
from openwfm.scheduling.improve import cover_empty, improve_schedule
from openwfm.scheduling.model import SchedulingProblem, night_minutes
from openwfm.scheduling.preference_costs import preference_report
from openwfm.scheduling.preferences import REPORT_COLUMNS


@dataclass(frozen=True)
class ScheduleResult:
    """A solved schedule with its evaluation.

    Attributes
    ----------
    segments : DataFrame
        ``agent_id, site, activity, start, end[, queue]`` (UTC), see docs/architecture.md.
    shifts : DataFrame
        One row per shift: UTC and local start/end, paid hours, breaks.
    coverage : DataFrame
        ``interval_start, queue, required, scheduled, shortfall`` per queue and interval.
    cost : float
        Shift cost (paid hours x site cost per hour, plus night premium).
    penalty : float
        Shortfall penalty (convex piecewise-linear, see `cover.shortfall_penalty`).
    objective : float
        ``cost + penalty``.
    lp_bound : float
        Objective of the stage-1 LP relaxation.
    gap : float
        ``(objective - lp_bound) / objective``.
    status : str
        ``"ok"`` when every group was solved, else what stopped short.
    stages : tuple
        ``(stage, status)`` pairs from the solvers.
    check : RuleCheck
        The independent rule check of `segments`.
    timings_s : tuple
        ``(stage, seconds)`` pairs.
    preferences : DataFrame
        One row per agent preference: met or not, from the segments
        (`preference_costs.preference_report`); empty without preferences.
    """

    segments: pd.DataFrame
    shifts: pd.DataFrame
    coverage: pd.DataFrame
    cost: float
    penalty: float
    objective: float
    lp_bound: float
    gap: float
    status: str
    stages: tuple[tuple[str, str], ...]
    check: RuleCheck
    timings_s: tuple[tuple[str, float], ...]
    preferences: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=REPORT_COLUMNS))


def productive_supply(problem: SchedulingProblem, segments: pd.DataFrame) -> np.ndarray:
    """Productive agents per (group, interval) from the work segments (interval fractions)."""
    im = problem.interval_min
    T = problem.n_intervals
    gi = {a.id: g for g, grp in enumerate(problem.groups) for a in grp.agents}
    supply = np.zeros((len(problem.groups), T))
    work = segments[segments["activity"].isin(PRODUCTIVE)]
    if work.empty:
        return supply
    s = ((work["start"] - problem.origin).dt.total_seconds() // 60).to_numpy(dtype=int)
    e = ((work["end"] - problem.origin).dt.total_seconds() // 60).to_numpy(dtype=int)
    g = work["agent_id"].map(gi).to_numpy(dtype=int)
    # minute-level difference array per group, then interval means; on a cyclic week a
    # segment past an edge of the horizon counts at its other end (`SchedulingProblem.fold`)
    minutes = np.zeros((len(problem.groups), T * im + 1))
    s_c, e_c, k = problem.fold(s, e)
    np.add.at(minutes, (g[k], s_c), 1.0)
    np.add.at(minutes, (g[k], e_c), -1.0)
    per_min = np.cumsum(minutes, axis=1)[:, :T * im]
    supply[:] = per_min.reshape(len(problem.groups), T, im).mean(axis=2)
    return supply


def shift_cost(problem: SchedulingProblem, shifts: list[tuple[str, int]]) -> float:
    """Cost of `shifts` as the model prices them (before breaks are placed)."""
    return float(sum(problem.shift_types[s].cost for _, s in shifts))


def worked_night_minutes(problem: SchedulingProblem, s: int,
                         placed: list[tuple[str, str, int, int]]) -> int:
    """Night minutes of shift `s` that are paid: the shift's night minutes less those of its
    placed unpaid breaks (a meal at 01:00 earns no night premium)."""
    st = problem.shift_types[s]
    unpaid = {b.name for b in problem.config.breaks if not b.paid}
    pack = problem.packs[st.site]
    zone = problem.scenario.site(st.site).zone
    off = 0
    for name, _act, bs, be in placed:
        if name in unpaid:
            local = problem.ts(bs).tz_convert(zone).to_pydatetime().replace(tzinfo=None)
            off += night_minutes(local, be - bs, pack)
    return st.night_min - off


def _segments(problem: SchedulingProblem, shifts: list[tuple[str, int]],
              breaks: dict[tuple[str, int], list[tuple[str, str, int, int]]]
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    agents = {a.id: a for a in problem.scenario.agents}
    seg_rows, shift_rows = [], []
    for aid, s in sorted(shifts, key=lambda x: (x[0], problem.shift_types[x[1]].start)):
        st = problem.shift_types[s]
        a = agents[aid]
        queue = a.skills[0] if len(a.skills) == 1 else None
        cursor = st.start
        for _name, act, bs, be in breaks.get((aid, s), []):
            if bs > cursor:
                seg_rows.append((aid, a.site, "work", cursor, bs, queue))
            seg_rows.append((aid, a.site, act, bs, be, None))
            cursor = be
        if st.end > cursor:
            seg_rows.append((aid, a.site, "work", cursor, st.end, queue))
        zone = problem.scenario.site(a.site).tz
        start, end = problem.ts(st.start), problem.ts(st.end)
        night = worked_night_minutes(problem, s, breaks.get((aid, s), []))
        rate = problem.scenario.site(a.site).cost_per_hour
        cost = rate * (st.paid_min + problem.packs[st.site].night_premium * night) / 60
        shift_rows.append({
            "agent_id": aid, "site": a.site, "tz": zone,
            "start_utc": start, "end_utc": end,
            "start_local": start.tz_convert(zone).isoformat(),
            "end_local": end.tz_convert(zone).isoformat(),
            "paid_h": st.paid_min / 60, "night_h": night / 60,
            "weekend": st.weekend,  # a weekend day of the site's labour pack
            "cost": cost,
            "breaks": "; ".join(f"{act} {problem.ts(bs).tz_convert(zone):%H:%M}-"
                                f"{problem.ts(be).tz_convert(zone):%H:%M}"
                                for _n, act, bs, be in breaks.get((aid, s), [])),
        })
    seg = pd.DataFrame(seg_rows, columns=["agent_id", "site", "activity", "start", "end",
                                          "queue"])
    seg["start"] = problem.origin + pd.to_timedelta(seg["start"].astype("int64"), unit="min")
    seg["end"] = problem.origin + pd.to_timedelta(seg["end"].astype("int64"), unit="min")
    seg["start"] = seg["start"].astype("datetime64[ns, UTC]")
    seg["end"] = seg["end"].astype("datetime64[ns, UTC]")
    return seg, pd.DataFrame(shift_rows)


def evaluate(problem: SchedulingProblem, segments: pd.DataFrame, cost: float
             ) -> tuple[pd.DataFrame, float]:
    """Coverage table and shortfall penalty of a schedule, from its segments."""
    supply = productive_supply(problem, segments) + problem.carried_productive()
    cov, penalty = flow_coverage(problem, supply)
    times = problem.times
    Q = len(problem.queues)
    qidx = {q: i for i, q in enumerate(problem.queues)}
    skilled = np.zeros((Q, problem.n_intervals))
    for g, grp in enumerate(problem.groups):
        for q in grp.skills:
            skilled[qidx[q]] += supply[g]
    table = pd.DataFrame({
        "interval_start": np.tile(times, Q),
        "queue": np.repeat(problem.queues, problem.n_intervals),
        "required": problem.required.ravel(),
        "scheduled": np.round(cov.ravel(), 6),
        "skilled_at_work": np.round(skilled.ravel(), 6),
    })
    table["shortfall"] = np.maximum(table["required"] - table["scheduled"], 0.0).round(6)
    del cost
    return table, penalty


COVER_EMPTY_ROUNDS = 3
"""Rounds of `improve.cover_empty` + break placement after stage 3 (a work limit)."""


def empty_mask(coverage: pd.DataFrame) -> np.ndarray:
    """Rows of a coverage table with a requirement > 0 and nobody with the queue's skill at
    work (``skilled_at_work`` = 0): the one definition of an empty interval, used by the
    solver, the summary and the tests. An interval where a multi-skilled agent is at work but
    the best split sends them to another queue (``scheduled`` = 0 < ``skilled_at_work``) is
    not empty; it counts among the intervals below requirement."""
    req = coverage["required"].to_numpy(dtype=float)
    present = coverage["skilled_at_work"].to_numpy(dtype=float)
    return (req > 0) & (present <= 1e-9)


def unserved_cells(problem: SchedulingProblem, coverage: pd.DataFrame
                   ) -> list[tuple[int, int]]:
    """``(queue index, interval)`` of a coverage table (`evaluate`) with a requirement > 0
    that the best split leaves with nobody (``scheduled`` = 0): what stage 3 tries to cover.
    A superset of the empty intervals (`empty_mask`): it also holds intervals where a
    multi-skilled agent is at work but serves another queue."""
    req = coverage["required"].to_numpy(dtype=float)
    sch = coverage["scheduled"].to_numpy(dtype=float)
    k = np.flatnonzero((req > 0) & (sch <= 1e-9))
    return [(int(x // problem.n_intervals), int(x % problem.n_intervals)) for x in k]


def _short(ctx: GroupModel, res: GroupAssignment) -> int:
    """Paid minutes under contract - tolerance left by a chunk's assignment."""
    pos = {a.id: i for i, a in enumerate(ctx.group.agents)}
    return short_minutes(ctx, [(pos[aid], s) for aid, s in res.shifts])


def solve_schedule(problem: SchedulingProblem, *, time_limit_s: float | None = None
                   ) -> ScheduleResult:
    """Solve `problem` (pre-checks, three stages, evaluation, rule check).

    Every stage stops on a deterministic work limit, so the same problem gives the same
    schedule on any machine under any load: `time_limit_s` (default: the config's) is the
    work budget in CP-SAT deterministic seconds (stage 2's chunks share 20 % of it); the
    stage-1 MILP stops at its gap or node limit, stage 2b at convergence or its sweep limit.
    The config's ``wall_clock_cap_s`` (None by default) is an optional real-time cap on
    the whole solve, shared out to the stages as time runs.

    Raises `InfeasibleError` naming the rule or requirement when the input cannot be met.

    Examples
    --------
    >>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
    >>> from openwfm.scheduling.model import build_problem, parse_config
    >>> sc = toy_scenario(n_agents=2)
    >>> cfg = parse_config({"time_limit_s": 10, "shifts": [{"start_step_min": 60,
    ...                                                     "lengths_h": [9]}]})
    >>> r = solve_schedule(build_problem(sc, flat_requirement(sc, 1.0), cfg))
    >>> r.check.ok, sorted(set(r.segments["activity"]))
    (True, ['break', 'meal', 'work'])
    """
    cfg = problem.config
    budget = cfg.time_limit_s if time_limit_s is None else time_limit_s
    t_begin = time.perf_counter()

    def cap_left() -> float | None:  # the user's optional wall-clock cap, what is left
        if cfg.wall_clock_cap_s is None:
            return None
        return max(0.01, cfg.wall_clock_cap_s - (time.perf_counter() - t_begin))

    timings = []
    precheck(problem)
    t = time.perf_counter()
    progress.stage("schedule: stage 1 cover LP (HiGHS)")
    model = build_cover_model(problem)
    sol = solve_cover(model, seed=cfg.seed, wall_clock_cap_s=cap_left())
    timings.append(("stage1_cover", time.perf_counter() - t))
    stages = [("stage1_cover", sol.status)]
    t = time.perf_counter()
    shifts: list[tuple[str, int]] = []
    statuses = []
    n_total = max(1, len(problem.scenario.agents))
    stage2_budget = 0.2 * budget  # CP-SAT deterministic time; stage 2b improves after
    site_of = {a.id: a.site for a in problem.scenario.agents}
    progress.stage("schedule: stage 2 assign (CP-SAT)")
    chunk = 30  # CP-SAT models of at most this many agents (a group is split evenly)
    for g, grp in enumerate(problem.groups):
        counts = {s: c for (gg, s), c in sol.counts.items() if gg == g}
        k = -(-len(grp.agents) // chunk)
        for part in range(k):
            agents = grp.agents[part::k]
            scaled = {s: c * len(agents) / len(grp.agents) for s, c in counts.items()}
            # deterministic shares (CP-SAT deterministic time): the same chunks get the same
            # work on any machine, so the schedule does not depend on the load
            share = max(0.2, stage2_budget * len(agents) / n_total)
            spans = np.array([(problem.shift_types[s].start, problem.shift_types[s].end)
                              for aid, s in shifts if site_of[aid] == grp.site]
                             + list(problem.carried_duty.get(grp.site, ())),
                             dtype=np.int64).reshape(-1, 2)
            a, b, _ = problem.fold(spans[:, 0], spans[:, 1])  # on the (cyclic) horizon
            taken = seat_profile(zip(a.tolist(), b.tolist(), strict=True))
            ctx = build_group_model(problem, g, scaled, agents=agents, seats_taken=taken)
            res = solve_group(ctx, deterministic_time_s=share, seed=cfg.seed,
                              num_workers=cfg.num_workers, wall_clock_cap_s=cap_left())
            short = _short(ctx, res)
            if short > 0 and res.status != "OPTIMAL":  # under contract: 4x the work
                again = solve_group(ctx, deterministic_time_s=4 * share, seed=cfg.seed,
                                    num_workers=cfg.num_workers, wall_clock_cap_s=cap_left())
                if again.shifts and _short(ctx, again) < short:
                    res = again
            if res.status in ("INFEASIBLE", "MODEL_INVALID"):
                diagnose_group(problem, g, scaled, res.status)
            # UNKNOWN without a hint: these agents stay unscheduled; the checker reports it
            statuses.append(res.status)
            shifts.extend(res.shifts)
    timings.append(("stage2_assign", time.perf_counter() - t))
    stages.append(("stage2_assign", "OPTIMAL" if all(s == "OPTIMAL" for s in statuses) else
                   f"FEASIBLE ({sum(s == 'GREEDY' for s in statuses)} of {len(statuses)} "
                   "chunks greedy)"))
    t = time.perf_counter()
    progress.stage("schedule: stage 2b improve")
    imp = improve_schedule(problem, shifts, wall_clock_cap_s=cap_left())
    shifts = list(imp.shifts)
    timings.append(("stage2b_improve", time.perf_counter() - t))
    stages.append(("stage2b_improve", f"{imp.moves} moves ({imp.hole_moves} covering an "
                   f"interval left empty; +{imp.spread_moves} spreading the surplus) in "
                   f"{imp.sweeps} sweeps, "
                   f"{imp.objective_before:,.0f} -> {imp.objective_after:,.0f}"))
    t = time.perf_counter()
    progress.stage("schedule: stage 3 breaks")
    brk = place_breaks(problem, shifts)
    segments, shift_table = _segments(problem, shifts, brk)
    coverage, penalty = evaluate(problem, segments, 0.0)
    # an interval a break left with nobody (the only agent there on break): covered by a
    # shift productive through it (`improve.cover_empty`), then breaks placed again
    for _ in range(COVER_EMPTY_ROUNDS):
        empty = unserved_cells(problem, coverage)
        again = cover_empty(problem, shifts, empty) if empty else None
        if again is None:
            break
        shifts = list(again)
        brk = place_breaks(problem, shifts)
        segments, shift_table = _segments(problem, shifts, brk)
        coverage, penalty = evaluate(problem, segments, 0.0)
        stages.append(("stage3_cover_empty", f"{len(empty)} queue-intervals left empty by "
                       "breaks, shifts moved"))
    timings.append(("stage3_breaks", time.perf_counter() - t))
    t = time.perf_counter()
    # the final cost prices the placed meals (night premium on worked minutes only)
    cost = float(shift_table["cost"].sum()) if len(shift_table) else 0.0
    check = check_schedule(problem, segments)
    timings.append(("evaluate_check", time.perf_counter() - t))
    objective = cost + penalty
    gap = (objective - sol.lp_bound) / objective if objective > 0 else 0.0
    return ScheduleResult(
        segments=segments, shifts=shift_table, coverage=coverage, cost=cost, penalty=penalty,
        objective=objective, lp_bound=sol.lp_bound, gap=gap,
        status="ok" if check.ok else "rule_violations",
        stages=tuple(stages), check=check, timings_s=tuple(timings),
        preferences=preference_report(problem, segments))
