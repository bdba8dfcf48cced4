"""Stage 2: give the stage-1 shifts to named agents under the labour rules (OR-Tools CP-SAT).

One CP-SAT model per group (agents of one site with the same skills; groups share nothing
once stage 1 has fixed each group's shifts). Each labour rule is one builder function
``rule_<name>(ctx)`` adding its constraints, so a rule can be switched off to explain an
infeasible group (`openwfm.scheduling.explain`).

Hard rules: one shift per local day, minimum rest, weekly paid hours in the contract range
(and under the legal maximum), days off, consecutive days off, maximum consecutive days,
availability, night work only for ``night_ok`` agents, shift length within the agent's
``min_shift_h``/``max_shift_h``, and start-time stability (``start_time_spread``) when set
hard. Soft: start-time stability (by default), deviation from stage-1 counts (weighted by hours),
fairness (the most nights and the most weekend shifts any agent of the group gets), agent
preferences (`soft_preferences`). With a history (`openwfm.scheduling.history`), minimum
rest and maximum consecutive days also hold across the previous week's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from openwfm.interrupt import check, stop_hook
from openwfm.scenario import Agent
from openwfm.scheduling.model import START_TIME_SPREAD, Group, SchedulingProblem, ShiftType
from openwfm.scheduling.preference_costs import local_start_minute, preferred_types
from openwfm.scheduling.preferences import NIGHT_SHIFT_MIN, PreferenceKind
from openwfm.scheduling.rules import days_ok

SCALE = 10
PREFERENCE_UNIT = 100
"""Objective units of one shift-hour off the stage-1 counts (`soft_follow_counts`): one
violation of a weight-1 preference costs ``preference_cost`` times this."""
HOURS_SHORT_WEIGHT = 50
"""Penalty per minute below the contract range (a 9 h shift off target costs 810)."""


@dataclass
class GroupModel:
    """A CP-SAT model for one group, built rule by rule (inspectable in tests)."""

    problem: SchedulingProblem
    group: Group
    types: list[int]
    """Candidate shift type indices."""
    z: dict[tuple[int, int], cp_model.IntVar]
    """(agent position, shift type index) -> assigned."""
    model: cp_model.CpModel
    objective: list
    hint: frozenset[tuple[int, int]] = frozenset()
    """The greedy rule-respecting assignment given to the solver as a hint."""
    seats_taken: tuple[tuple[int, int, int], ...] | None = None
    """``(start, end, agents)`` seats of the site already taken by groups/chunks solved
    before this one (then the cap is the site's seats); None: a proportional share."""


def _st(ctx: GroupModel, s: int) -> ShiftType:
    return ctx.problem.shift_types[s]


def agent_may_work(problem: SchedulingProblem, a: Agent, st: ShiftType) -> bool:
    """Whether agent `a` may work shift type `st` at all, whatever else they work: its length
    within the agent's shift lengths, a night shift only for a night-ok agent, the minimum
    rest after the previous week's last shift, and none of the agent's unavailable times.
    The shift lists of the solver and of the repairs, and the contract-hours figures, use it."""
    if not a.min_shift_h * 60 <= st.length <= a.max_shift_h * 60:
        return False
    if st.night_min > 0 and not a.night_ok:
        return False
    h = problem.history.get(a.id)
    if h is not None and st.start < h.last_end + round(problem.packs[a.site].min_rest_h * 60):
        return False  # min_rest after the previous week's last shift
    return all(st.end <= s or st.start >= e for s, e in problem.unavailable.get(a.id, ()))


def _days(ctx: GroupModel, i: int) -> list[list[cp_model.IntVar]]:
    out: list[list[cp_model.IntVar]] = [[] for _ in range(ctx.problem.days)]
    for s in ctx.types:
        if (i, s) in ctx.z and _st(ctx, s).day < ctx.problem.days:
            out[_st(ctx, s).day].append(ctx.z[i, s])
    return out


def _work_days(ctx: GroupModel, i: int) -> list[cp_model.LinearExpr]:
    return [sum(v) if v else 0 for v in _days(ctx, i)]


def rule_one_shift_per_day(ctx: GroupModel) -> None:
    """At most one shift starts on each local day."""
    for i in range(len(ctx.group.agents)):
        for vs in _days(ctx, i):
            if len(vs) > 1:
                ctx.model.AddAtMostOne(vs)


def rule_min_rest(ctx: GroupModel) -> None:
    """Shifts of one agent, each extended by the minimum rest, never overlap."""
    rest = round(ctx.problem.packs[ctx.group.site].min_rest_h * 60)
    for i in range(len(ctx.group.agents)):
        ivs = [ctx.model.NewOptionalFixedSizeIntervalVar(
            _st(ctx, s).start, _st(ctx, s).length + rest, ctx.z[i, s], f"iv{i}_{s}")
            for s in ctx.types if (i, s) in ctx.z]
        if len(ivs) > 1:
            ctx.model.AddNoOverlap(ivs)


def rule_weekly_hours(ctx: GroupModel) -> None:
    """Paid hours <= min(contract, legal weekly max) (hard), and >= that minus the contract
    tolerance. The floor is hard up to what the greedy hint reaches for the agent (so the
    hint stays a solution and the model always has one) and a heavy penalty beyond it (a
    shortfall left is then reported by the checker, never hidden)."""
    pack = ctx.problem.packs[ctx.group.site]
    tol = ctx.problem.config.contract_tolerance_h * 60
    hint_paid = np.zeros(len(ctx.group.agents), dtype=int)
    for i, s in ctx.hint:
        hint_paid[i] += _st(ctx, s).paid_min
    for i, a in enumerate(ctx.group.agents):
        hi = min(a.contract_hours, pack.max_weekly_h) * 60
        lo = int(np.ceil(max(0.0, hi - tol)))
        expr = sum(_st(ctx, s).paid_min * ctx.z[i, s] for s in ctx.types if (i, s) in ctx.z)
        ctx.model.Add(expr <= int(np.floor(hi)))
        ctx.model.Add(expr >= min(lo, int(hint_paid[i])))
        short = ctx.model.NewIntVar(0, lo, f"short{i}")
        ctx.model.Add(expr + short >= lo)
        ctx.objective.append(HOURS_SHORT_WEIGHT * short)


def rule_days_off(ctx: GroupModel) -> None:
    """At least `min_days_off` local days without a shift start."""
    pack = ctx.problem.packs[ctx.group.site]
    for i in range(len(ctx.group.agents)):
        ctx.model.Add(sum(_work_days(ctx, i)) <= ctx.problem.days - pack.min_days_off)


def rule_consecutive_days_off(ctx: GroupModel) -> None:
    """Some run of `min_consecutive_days_off` consecutive local days is free of shifts."""
    k = ctx.problem.packs[ctx.group.site].min_consecutive_days_off
    if k < 2:
        return
    for i in range(len(ctx.group.agents)):
        work = _work_days(ctx, i)
        runs = []
        for d in range(len(work) - k + 1):
            r = ctx.model.NewBoolVar(f"off{i}_{d}")
            for j in range(d, d + k):
                ctx.model.Add(work[j] == 0).OnlyEnforceIf(r)
            runs.append(r)
        ctx.model.AddBoolOr(runs)


def rule_max_consecutive_days(ctx: GroupModel) -> None:
    """No more than `max_consecutive_days` consecutive local days with a shift, counting
    the days worked in a row just before the plan (history) for runs starting there."""
    m = ctx.problem.packs[ctx.group.site].max_consecutive_days
    for i, a in enumerate(ctx.group.agents):
        work = _work_days(ctx, i)
        for d in range(len(work) - m):
            ctx.model.Add(sum(work[d:d + m + 1]) <= m)
        h = ctx.problem.history.get(a.id)
        for d in range(min(m, len(work)) if h is not None and h.consecutive_days else 0):
            # window of m + 1 days ending on plan day d: min(carried, m - d) days before it
            ctx.model.Add(sum(work[:d + 1]) <= m - min(h.consecutive_days, m - d))


def _on_horizon(problem: SchedulingProblem, start: int, end: int) -> list[tuple[int, int]]:
    """``[start, end)`` minutes as pieces on the horizon (`SchedulingProblem.fold`)."""
    a, b, _ = problem.fold(np.array([start]), np.array([end]))
    return list(zip(a.tolist(), b.tolist(), strict=True))


def seat_profile(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int, int], ...]:
    """Seats taken as a step function: ``(start, end, agents)`` pieces of constant load
    from shift ``(start, end)`` spans (minutes).

    Examples
    --------
    >>> seat_profile([(0, 60), (30, 90)])
    ((0, 30, 1), (30, 60, 2), (60, 90, 1))
    """
    events: dict[int, int] = {}
    for a, b in spans:
        events[a] = events.get(a, 0) + 1
        events[b] = events.get(b, 0) - 1
    out, load, prev = [], 0, None
    for t in sorted(events):
        if prev is not None and load > 0 and t > prev:
            out.append((prev, t, load))
        load += events[t]
        prev = t
    return tuple(out)


def _seat_cap(ctx: GroupModel) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """(capacity, pieces already taken) the group's Cumulative must respect."""
    if ctx.seats_taken is not None:
        return ctx.problem.scenario.site(ctx.group.site).seats, ctx.seats_taken
    parent = next(g for g, grp in enumerate(ctx.problem.groups)
                  if grp.site == ctx.group.site and grp.skills == ctx.group.skills)
    n_parent = len(ctx.problem.groups[parent].agents)
    return seat_caps(ctx.problem, ctx.group.site)[parent] * len(ctx.group.agents) // n_parent, ()


def seat_caps(problem: SchedulingProblem, site_name: str) -> dict[int, int]:
    """Split a site's seats between its groups in proportion to their agents (largest
    remainders; groups with no share yet first), so the caps sum to at most the seats."""
    site = problem.scenario.site(site_name)
    gs = [g for g, grp in enumerate(problem.groups) if grp.site == site_name]
    n = {g: len(problem.groups[g].agents) for g in gs}
    total = sum(n.values())
    share = {g: site.seats * n[g] / max(1, total) for g in gs}
    caps = {g: min(n[g], int(share[g])) for g in gs}
    left = site.seats - sum(caps.values())
    for g in sorted(gs, key=lambda g: (caps[g] > 0, -(share[g] - caps[g]))):
        if left <= 0:
            break
        if caps[g] < n[g]:
            caps[g] += 1
            left -= 1
    return caps


def rule_seats(ctx: GroupModel) -> None:
    """Agents on duty at once <= the site's seats minus the seats groups solved before
    took (``seats_taken``), or without it <= the group's proportional share
    (`seat_caps`): either way the site total never exceeds its seats."""
    cap, taken = _seat_cap(ctx)
    if cap >= len(ctx.group.agents) + max((k for _, _, k in taken), default=0):
        return
    ivs = []
    for (i, s), v in ctx.z.items():  # a shift past an edge of a cyclic week: two pieces
        for k, (a, b) in enumerate(_on_horizon(ctx.problem, _st(ctx, s).start,
                                               _st(ctx, s).end)):
            ivs.append(ctx.model.NewOptionalFixedSizeIntervalVar(a, b - a, v,
                                                                 f"seat{i}_{s}_{k}"))
    demands = [1] * len(ivs)
    for a, b, k in taken:
        ivs.append(ctx.model.NewIntervalVar(a, b - a, b, f"taken{a}"))
        demands.append(k)
    ctx.model.AddCumulative(ivs, demands, cap)


def rule_start_time_spread(ctx: GroupModel) -> None:
    """Start-time stability (``start_time_spread``): the latest and the earliest start of
    an agent's week (local time of day) differ by at most ``start_spread_max_h`` (hard), or
    each started quarter-hour beyond costs ``start_spread_weight / 4`` shift-hours (soft)."""
    cfg = ctx.problem.config
    max_min = round(cfg.start_spread_max_h * 60)
    w = round(cfg.start_spread_weight * PREFERENCE_UNIT / 4)
    if not cfg.start_spread_hard and w <= 0:
        return
    for i in range(len(ctx.group.agents)):
        mine = [(_st(ctx, s).local_start_min, v) for (j, s), v in ctx.z.items() if j == i]
        ms = [m for m, _ in mine]
        if not ms or max(ms) - min(ms) <= max_min:
            continue
        lo = ctx.model.NewIntVar(0, 1439, f"start_lo{i}")
        hi = ctx.model.NewIntVar(0, 1439, f"start_hi{i}")
        for m, v in mine:
            ctx.model.Add(hi >= m).OnlyEnforceIf(v)
            ctx.model.Add(lo <= m).OnlyEnforceIf(v)
        if cfg.start_spread_hard:
            ctx.model.Add(hi - lo <= max_min)
        else:
            q = ctx.model.NewIntVar(0, 96, f"start_spread{i}")
            ctx.model.Add(15 * q >= hi - lo - max_min)
            ctx.objective.append(w * q)


HARD_RULES: dict[str, Callable[[GroupModel], None]] = {
    "one_shift_per_day": rule_one_shift_per_day,
    "min_rest": rule_min_rest,
    "weekly_hours": rule_weekly_hours,
    "days_off": rule_days_off,
    "consecutive_days_off": rule_consecutive_days_off,
    "max_consecutive_days": rule_max_consecutive_days,
    "seats": rule_seats,
    START_TIME_SPREAD: rule_start_time_spread,
}
"""Each rule by its name (a soft ``start_time_spread`` adds its cost to the objective)."""


def soft_follow_counts(ctx: GroupModel, counts: dict[int, float]) -> None:
    """Penalise deviating from the stage-1 count of each shift type (per shift-hour)."""
    n = len(ctx.group.agents)
    for s in ctx.types:
        target = round(counts.get(s, 0.0) * SCALE)
        dev = ctx.model.NewIntVar(0, SCALE * n + target, f"dev{s}")
        assigned = sum(ctx.z[i, s] for i in range(n) if (i, s) in ctx.z)
        ctx.model.Add(SCALE * assigned - target <= dev)
        ctx.model.Add(target - SCALE * assigned <= dev)
        ctx.objective.append(max(1, round(_st(ctx, s).length / 60)) * 10 * dev)


def soft_fairness(ctx: GroupModel) -> None:
    """Penalise the largest number of night shifts and of weekend shifts of any agent."""
    w = round(ctx.problem.config.fairness_weight * 100)
    if w <= 0:
        return
    n = len(ctx.group.agents)
    for name, pred in (("nights", lambda st: st.night_min >= 120),
                       ("weekends", lambda st: st.weekend)):
        if not any(pred(_st(ctx, s)) for s in ctx.types):
            continue
        top = ctx.model.NewIntVar(0, 7, f"max_{name}")
        for i in range(n):
            ctx.model.Add(sum(ctx.z[i, s] for s in ctx.types
                              if (i, s) in ctx.z and pred(_st(ctx, s))) <= top)
        ctx.objective.append(w * top)


def soft_preferences(ctx: GroupModel) -> None:
    """Penalise each violated preference-shift by ``weight x preference_cost x
    PREFERENCE_UNIT`` (``day_off``: a shift on the day; ``start_between``: a shift starting
    outside the window; ``max_nights``: each night shift beyond the limit)."""
    prob = ctx.problem
    unit = prob.config.preference_cost * PREFERENCE_UNIT
    pos = {a.id: i for i, a in enumerate(ctx.group.agents)}
    local: dict[int, int] = {}
    for p in prob.preferences:
        i = pos.get(p.agent_id)
        w = round(p.weight * unit)
        if i is None or w <= 0:
            continue
        mine = [s for s in ctx.types if (i, s) in ctx.z]
        if p.kind is PreferenceKind.MAX_NIGHTS:
            nights = [ctx.z[i, s] for s in mine if _st(ctx, s).night_min >= NIGHT_SHIFT_MIN]
            if len(nights) > (p.max_nights or 0):
                extra = ctx.model.NewIntVar(0, len(nights), f"pref_nights{i}_{p.row}")
                ctx.model.Add(sum(nights) - (p.max_nights or 0) <= extra)
                ctx.objective.append(w * extra)
            continue
        if p.kind is PreferenceKind.DAY_OFF:
            days = set(p.plan_days(prob.scenario.plan_start, prob.days))
            bad = [s for s in mine if _st(ctx, s).day in days]
        else:
            for s in mine:
                if s not in local:
                    local[s] = local_start_minute(prob, _st(ctx, s))
            bad = [s for s in mine if not p.start_ok(local[s])]
        ctx.objective.extend(w * ctx.z[i, s] for s in bad)


def candidate_types(problem: SchedulingProblem, g: int, counts: dict[int, float]) -> list[int]:
    """Shift types with a stage-1 count of at least 0.5 (all with a count if none), the
    same UTC start time and length on the other days (room for the rest and days-off
    rules, and for a stable start time across the week), and the site's longest shift at
    each of these start times (a group whose stage-1 shifts are all short can still reach
    its contract hours), plus the shifts of these lengths starting in an agent's
    ``start_between`` preference window (`preference_costs.preferred_types`)."""
    used = {s for s, c in counts.items() if c >= 0.5} or {
        s for s, c in counts.items() if c > 1e-6}
    site = problem.groups[g].site
    starts = {problem.shift_types[s].start % 1440 for s in used}
    longest = max((st.length for st in problem.shift_types if st.site == site), default=0)
    key = {(problem.shift_types[s].start % 1440, problem.shift_types[s].length) for s in used}
    key |= {(t, longest) for t in starts}
    liked = preferred_types(problem, {a.id for a in problem.groups[g].agents}, site,
                            {length for _, length in key})
    return [s for s, st in enumerate(problem.shift_types)
            if st.site == site and (s in used or (st.start % 1440, st.length) in key
                                    or s in liked)]


def build_group_model(problem: SchedulingProblem, g: int, counts: dict[int, float],
                      *, skip: frozenset[str] = frozenset(),
                      agents: tuple[Agent, ...] | None = None,
                      seats_taken: tuple[tuple[int, int, int], ...] | None = None
                      ) -> GroupModel:
    """Build the CP-SAT model of group `g` (rules in `skip` left out, for explain).

    With `agents` (a subset of the group) the model covers those agents only: `counts`
    should then be scaled to their share. With `seats_taken` (`seat_profile` of the site's
    shifts assigned so far) the seat cap is the site's residual seats; without it, the
    group's share of the seats in proportion to agents (scaled to the subset).
    """
    group = problem.groups[g]
    if agents is not None:
        group = Group(group.site, group.skills, agents)
    types = candidate_types(problem, g, counts)
    model = cp_model.CpModel()
    z = {(i, s): model.NewBoolVar(f"z{i}_{s}") for i, a in enumerate(group.agents)
         for s in types if agent_may_work(problem, a, problem.shift_types[s])}
    ctx = GroupModel(problem, group, types, z, model, [], seats_taken=seats_taken)
    hint = greedy_hint(ctx, counts, skip)
    ctx.hint = frozenset(hint)
    for name, rule in HARD_RULES.items():
        if name not in skip:
            rule(ctx)
    soft_follow_counts(ctx, counts)
    soft_fairness(ctx)
    soft_preferences(ctx)
    model.Minimize(sum(ctx.objective))
    for key, v in z.items():  # a greedy schedule meeting every hard rule: a first solution
        model.AddHint(v, key in hint)
    return ctx


def greedy_hint(ctx: GroupModel, counts: dict[int, float],
                skip: frozenset[str] = frozenset()) -> set[tuple[int, int]]:
    """A greedy assignment meeting every hard rule (the solver's starting point): each
    agent in turn takes the shift types with the most stage-1 count left that fit."""
    p = ctx.problem
    pack = p.packs[ctx.group.site]
    rest = round(pack.min_rest_h * 60)
    tol = p.config.contract_tolerance_h * 60
    left = {s: counts.get(s, 0.0) for s in ctx.types}
    cap = None
    im = p.interval_min
    busy = np.zeros(p.n_intervals, dtype=int)  # seats taken per interval of the horizon
    if "seats" not in skip:
        cap, taken = _seat_cap(ctx)
        for a0, b0, k in taken:
            for a, b in _on_horizon(p, a0, b0):
                busy[a // im:-(-b // im)] += k
    spread_hard = p.config.start_spread_hard
    spread_max = round(p.config.start_spread_max_h * 60)
    hint: set[tuple[int, int]] = set()
    for i, a in enumerate(ctx.group.agents):
        hi = min(a.contract_hours, pack.max_weekly_h) * 60
        lo = max(0.0, hi - tol)
        carried = p.history[a.id].consecutive_days if a.id in p.history else 0
        taken: list[ShiftType] = []
        paid = 0
        days = np.zeros(p.days, dtype=bool)
        mine = [s for s in ctx.types if (i, s) in ctx.z]

        def fits(s: int, days: np.ndarray, taken: list[ShiftType], paid: int, hi: float = hi,
                 carried: int = carried) -> tuple[np.ndarray, list[slice]] | None:
            st = p.shift_types[s]
            if paid + st.paid_min > hi or st.day >= p.days or days[st.day]:
                return None
            if any(st.start < o.end + rest and o.start < st.end + rest for o in taken):
                return None
            d2 = days.copy()
            d2[st.day] = True
            if not days_ok(d2, pack, carried):  # days off, consecutive days (off)
                return None
            if spread_hard and taken and max(
                    abs(st.local_start_min - o.local_start_min) for o in taken) > spread_max:
                return None  # start_time_spread (hard): within the window of the others
            spans = [slice(a // im, -(-b // im)) for a, b in _on_horizon(p, st.start, st.end)]
            if cap is not None and any((busy[sl] + 1 > cap).any() for sl in spans):
                return None
            return d2, spans

        while paid < lo:
            anchor = taken[0].start % 1440 if taken else None
            # a shift shorter than the hours still needed per remaining work day would
            # leave the agent under contract: long enough shifts first
            days_left = max(1, p.days - pack.min_days_off - len(taken))
            need = (lo - paid) / days_left
            order = sorted(mine, key=lambda s: (p.shift_types[s].paid_min < need - 1e-9,
                                                p.shift_types[s].start % 1440 != anchor,
                                                -left[s]))
            pick = next(((s, f) for s in order if (f := fits(s, days, taken, paid))), None)
            if pick is None:
                break
            s, (d2, spans) = pick
            st = p.shift_types[s]
            for sl in spans:
                busy[sl] += 1
            taken.append(st)
            days = d2
            paid += st.paid_min
            left[s] -= 1
            hint.add((i, s))
    return hint


def short_minutes(ctx: GroupModel, chosen: Iterable[tuple[int, int]]) -> int:
    """Paid minutes below ``contract - contract_tolerance_h`` summed over the group's agents."""
    pack = ctx.problem.packs[ctx.group.site]
    tol = ctx.problem.config.contract_tolerance_h * 60
    paid = np.zeros(len(ctx.group.agents))
    for i, s in chosen:
        paid[i] += _st(ctx, s).paid_min
    lo = np.array([max(0.0, min(a.contract_hours, pack.max_weekly_h) * 60 - tol)
                   for a in ctx.group.agents])
    return int(np.ceil(np.maximum(lo - paid, 0.0).sum()))


@dataclass(frozen=True)
class GroupAssignment:
    """Stage-2 result of one group."""

    shifts: tuple[tuple[str, int], ...]
    """(agent id, shift type index) pairs."""
    status: str
    objective: float
    bound: float


def solve_group(ctx: GroupModel, *, deterministic_time_s: float, seed: int = 0,
                num_workers: int = 1, wall_clock_cap_s: float | None = None
                ) -> GroupAssignment:
    """Solve a group model; status is CP-SAT's (OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN).

    `deterministic_time_s` is CP-SAT's *deterministic* time (a work count close to seconds
    on an idle core): the solve stops after the same work on a fast or a loaded machine, so
    the schedule is the same. One worker is reproducible as is; with several,
    ``interleave_search`` makes CP-SAT's portfolio reproducible too (measured 35 % gap vs
    22 % for the free-running portfolio on the demo, which is not reproducible).
    `wall_clock_cap_s` is the user's optional cap in real seconds (None: none).
    """
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = max(0.2, deterministic_time_s)
    if wall_clock_cap_s is not None:
        solver.parameters.max_time_in_seconds = max(0.01, wall_clock_cap_s)
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = num_workers
    if num_workers > 1:
        solver.parameters.interleave_search = True
    solver.parameters.cp_model_probing_level = 0  # probing costs seconds on these models
    solver.parameters.symmetry_level = 0
    solver.parameters.max_presolve_iterations = 1
    # Ctrl-C / SIGTERM stop the run (openwfm.interrupt), not just this search: CP-SAT must
    # not take SIGINT for itself and return its incumbent as if its limit were reached
    solver.parameters.catch_sigint_signal = False
    with stop_hook(solver.stop_search):
        status = solver.Solve(ctx.model)
    check()
    name = solver.StatusName(status)
    if status == cp_model.UNKNOWN and ctx.hint:  # no solution in time: the greedy one
        shifts = tuple((ctx.group.agents[i].id, s) for i, s in sorted(ctx.hint))
        return GroupAssignment(shifts, "GREEDY", float("nan"), float("nan"))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return GroupAssignment((), name, float("nan"), float("nan"))
    chosen = {key for key, v in ctx.z.items() if solver.BooleanValue(v)}
    if ctx.hint and short_minutes(ctx, ctx.hint) < short_minutes(ctx, chosen):
        # the solver stopped with agents further under contract than the greedy schedule
        shifts = tuple((ctx.group.agents[i].id, s) for i, s in sorted(ctx.hint))
        return GroupAssignment(shifts, "GREEDY", float("nan"), float("nan"))
    shifts = tuple((ctx.group.agents[i].id, s) for i, s in sorted(chosen))
    return GroupAssignment(shifts, name, solver.ObjectiveValue(), solver.BestObjectiveBound())
