"""Explain infeasibility: pre-checks on the input, and which rule blocks a group.

Every `InfeasibleError` carries ``rule``: ``skill:<queue>``, ``seats:<site>``,
``contract_hours:<agent>``, ``weekly_hours:<agent>``, ``max_consecutive_days:<agent>`` or
``min_rest:<agent>`` (the previous week's history), or a stage-2 rule name
(``min_rest``, ``days_off``, ...) found by re-solving the group without that rule.
"""

from __future__ import annotations

import numpy as np

from openwfm.errors import InfeasibleError
from openwfm.scenario import Agent
from openwfm.scheduling.history import max_work_days
from openwfm.scheduling.model import SchedulingProblem


def precheck(problem: SchedulingProblem) -> None:
    """Raise `InfeasibleError` for inputs no schedule can meet.

    - a queue with a requirement and no agent with its skill;
    - with ``hard_coverage``: more agents needed at once than there are seats (a queue
      served by one site only, and all queues together);
    - a site whose agents owe more paid hours than its seats can hold (`seats:<site>`);
    - an agent whose contract hours exceed the legal weekly maximum, or cannot be reached
      with the longest allowed shift on the days the days-off rule leaves;
    - an agent whose history (days worked in a row before the plan, rest after the last
      shift) leaves too few working days for the contract (`_precheck_history`).
    """
    req = problem.required
    skilled = {q for a in problem.scenario.agents for q in a.skills}
    for qi, q in enumerate(problem.queues):
        if req[qi].max() > 0 and q not in skilled:
            t = int(np.argmax(req[qi]))
            raise InfeasibleError(
                f"queue {q} requires {req[qi].max():g} agents at {problem.times[t]} but no "
                "agent has this skill", rule=f"skill:{q}")
    if problem.config.hard_coverage:
        sites_of = {q: {a.site for a in problem.scenario.agents if q in a.skills}
                    for q in problem.queues}
        for qi, q in enumerate(problem.queues):
            if len(sites_of[q]) == 1:
                site = problem.scenario.site(next(iter(sites_of[q])))
                if req[qi].max() > site.seats:
                    raise InfeasibleError(
                        f"queue {q} needs {req[qi].max():g} agents at once, only site "
                        f"{site.name} serves it and it has {site.seats} seats",
                        rule=f"seats:{site.name}")
        seats = sum(s.seats for s in problem.scenario.sites)
        total = req.sum(axis=0)
        if total.max() > seats:
            t = int(np.argmax(total))
            raise InfeasibleError(f"{total.max():g} agents needed at {problem.times[t]} > "
                                  f"{seats} seats in all sites", rule="seats")
    tol = problem.config.contract_tolerance_h
    max_len = {}
    for st in problem.shift_types:
        max_len[st.site] = max(max_len.get(st.site, 0), st.paid_min / 60)
    _precheck_site_seats(problem)
    for a in problem.scenario.agents:
        pack = problem.packs[a.site]
        if a.contract_hours - tol > pack.max_weekly_h:
            raise InfeasibleError(
                f"agent {a.id}: contract {a.contract_hours:g} h/week > legal "
                f"{pack.max_weekly_h:g} h ({pack.name}, from {pack.effective_from})",
                rule=f"weekly_hours:{a.id}")
        work_days = max(0, problem.days - pack.min_days_off)
        longest = min(max_len.get(a.site, 0.0), a.max_shift_h, pack.max_daily_h)
        need = min(a.contract_hours, pack.max_weekly_h) - tol
        if need > work_days * longest + 1e-9:
            raise InfeasibleError(
                f"agent {a.id}: {need:g} paid h/week needed but at most {work_days} days x "
                f"{longest:g} h = {work_days * longest:g} h fit (max shift, days off)",
                rule=f"contract_hours:{a.id}")
        if a.id in problem.history:
            _precheck_history(problem, a, need, longest)


def _precheck_history(problem: SchedulingProblem, a: Agent, need_h: float,
                      longest_h: float) -> None:
    """Working days left by the day-level rules (`history.max_work_days`, exact) with the
    carried-in days and the plan days on which every shift starts within the rest after the
    last shift, times the longest shift, must reach ``need_h``. Names
    ``max_consecutive_days:<agent>`` when the carried-in days alone block it, else
    ``min_rest:<agent>``; ``contract_hours:<agent>`` when even without history it cannot."""
    pack = problem.packs[a.site]
    h = problem.history[a.id]
    rest = round(pack.min_rest_h * 60)
    starts: dict[int, list[int]] = {}
    for st in problem.shift_types:
        if st.site == a.site and st.day < problem.days:
            starts.setdefault(st.day, []).append(st.start)
    blocked = frozenset(d for d, ss in starts.items() if max(ss) < h.last_end + rest)
    rules = {"min_days_off": pack.min_days_off,
             "min_consecutive_days_off": pack.min_consecutive_days_off,
             "max_consecutive_days": pack.max_consecutive_days}

    def fits(carried: int, off: frozenset[int]) -> int:
        return max_work_days(problem.days, carried=carried, blocked=off, **rules)

    if need_h <= fits(h.consecutive_days, blocked) * longest_h + 1e-9:
        return
    if need_h > fits(0, frozenset()) * longest_h + 1e-9:
        rule, why = "contract_hours", "even without the previous week"
    elif need_h > fits(h.consecutive_days, frozenset()) * longest_h + 1e-9:
        rule, why = "max_consecutive_days", (f"{h.consecutive_days} days worked in a row "
                                             "before the plan")
    else:
        rule, why = "min_rest", (f"{pack.min_rest_h:g} h rest after the last shift blocks "
                                 f"plan day(s) {sorted(blocked)}")
    n = fits(h.consecutive_days, blocked)
    raise InfeasibleError(
        f"agent {a.id}: {need_h:g} paid h/week needed but at most {n} working days x "
        f"{longest_h:g} h = {n * longest_h:g} h fit ({why}; max {pack.max_consecutive_days} "
        f"consecutive days, {pack.min_days_off} days off)", rule=f"{rule}:{a.id}")


def _precheck_site_seats(problem: SchedulingProblem) -> None:
    """``seats:<site>``: the paid hours a site's agents owe (contract minus tolerance,
    capped by the legal week) exceed its seat-hours. A shift starts on a plan day and paid
    time is never longer than time on a seat, so the seat-hours available are at most
    ``seats x (plan hours + longest shift)``; beyond that no schedule meets the contracts."""
    tol = problem.config.contract_tolerance_h
    for site in problem.scenario.sites:
        agents = [a for a in problem.scenario.agents if a.site == site.name]
        pack = problem.packs.get(site.name)
        if not agents or pack is None:
            continue
        owed = sum(max(0.0, min(a.contract_hours, pack.max_weekly_h) - tol) for a in agents)
        longest = max((st.length / 60 for st in problem.shift_types if st.site == site.name),
                      default=0.0)
        hours = problem.days * 24 + longest
        if owed > site.seats * hours + 1e-9:
            raise InfeasibleError(
                f"site {site.name}: its {len(agents)} agents owe {owed:g} paid h this week "
                f"(contract minus {tol:g} h tolerance) but {site.seats} seats x {hours:g} h "
                f"= {site.seats * hours:g} seat-hours; add seats or lower contract hours",
                rule=f"seats:{site.name}")


def diagnose_group(problem: SchedulingProblem, g: int, counts: dict[int, float],
                   status: str) -> None:
    """A group's stage-2 model has no solution: find a rule whose removal restores one and
    raise `InfeasibleError` naming it (and the group)."""
    from openwfm.scheduling.assign import HARD_RULES, build_group_model, solve_group

    grp = problem.groups[g]
    who = f"site {grp.site}, skills {'+'.join(grp.skills)}, {len(grp.agents)} agents"
    for name in HARD_RULES:
        ctx = build_group_model(problem, g, counts, skip=frozenset({name}))
        res = solve_group(ctx, deterministic_time_s=5.0)
        if res.shifts:
            raise InfeasibleError(f"group ({who}) cannot be scheduled: rule '{name}' cannot "
                                  f"be met with the allowed shifts (solver: {status})",
                                  rule=name)
    raise InfeasibleError(f"group ({who}) cannot be scheduled (solver: {status}); no single "
                          "rule explains it", rule="stage2_assign")
