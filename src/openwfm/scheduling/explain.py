"""Explain infeasibility: pre-checks on the input, and which rule blocks a group.

Every `InfeasibleError` carries ``rule``: ``skill:<queue>``, ``seats:<site>``,
``contract_hours:<agent>``, ``weekly_hours:<agent>``, or a stage-2 rule name
(``min_rest``, ``days_off``, ...) found by re-solving the group without that rule.
"""

from __future__ import annotations

import numpy as np

from openwfm.errors import InfeasibleError
from openwfm.scheduling.model import SchedulingProblem


def precheck(problem: SchedulingProblem) -> None:
    """Raise `InfeasibleError` for inputs no schedule can meet.

    - a queue with a requirement and no agent with its skill;
    - with ``hard_coverage``: more agents needed at once than there are seats (a queue
      served by one site only, and all queues together);
    - a site whose agents owe more paid hours than its seats can hold (`seats:<site>`);
    - an agent whose contract hours exceed the legal weekly maximum, or cannot be reached
      with the longest allowed shift on the days the days-off rule leaves.
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
        work_days = problem.days - pack.min_days_off
        longest = min(max_len.get(a.site, 0.0), a.max_shift_h, pack.max_daily_h)
        need = min(a.contract_hours, pack.max_weekly_h) - tol
        if need > work_days * longest + 1e-9:
            raise InfeasibleError(
                f"agent {a.id}: {need:g} paid h/week needed but at most {work_days} days x "
                f"{longest:g} h = {work_days * longest:g} h fit (max shift, days off)",
                rule=f"contract_hours:{a.id}")


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
        res = solve_group(ctx, time_limit_s=5.0)
        if res.shifts:
            raise InfeasibleError(f"group ({who}) cannot be scheduled: rule '{name}' cannot "
                                  f"be met with the allowed shifts (solver: {status})",
                                  rule=name)
    raise InfeasibleError(f"group ({who}) cannot be scheduled (solver: {status}); no single "
                          "rule explains it", rule="stage2_assign")
