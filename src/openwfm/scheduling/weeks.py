"""Plans of several weeks: one week at a time, each with the previous week's end as history.

Weekly rules (paid hours, days off, consecutive days off) are judged per planned week, so a
plan of ``plan_days = 7 k`` is scheduled as k one-week problems in order. Week w + 1 gets,
per agent, the end of its last shift in week w and the working days in a row it ended week
w with (`openwfm.scheduling.history`): minimum rest and maximum consecutive days hold across
every week boundary, and the checker re-checks each week with that history. Week 1 takes
the history given by the user, if any. Preferences with a date go to the week holding it.

Results are added up: shift cost, penalty and objective are sums; the bound is the sum of
the weekly LP bounds (each a bound of its week given the history, so the sum bounds this
week-by-week plan); the gap is computed from the sums.

Examples
--------
>>> from dataclasses import replace
>>> from openwfm.scheduling.model import parse_config
>>> from openwfm.scheduling.synthetic import flat_requirement, toy_scenario
>>> sc = replace(toy_scenario(n_agents=2), plan_days=14)
>>> cfg = parse_config({"time_limit_s": 4, "shifts": [{"start_step_min": 60,
...                                                    "lengths_h": [9]}]})
>>> problem, r = schedule_weeks(sc, flat_requirement(sc, 1.0), cfg)
>>> r.check.ok, len(r.shifts), problem.days
(True, 20, 7)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from openwfm.errors import InputError
from openwfm.scenario import Scenario
from openwfm.scheduling.check import RuleCheck, check_seats
from openwfm.scheduling.history import HistoryRecord
from openwfm.scheduling.model import (
    SchedulingConfig,
    SchedulingProblem,
    build_problem,
    requirement_matrix,
)
from openwfm.scheduling.solve import ScheduleResult, productive_supply, solve_schedule


def history_after(problem: SchedulingProblem, result: ScheduleResult
                  ) -> tuple[HistoryRecord, ...]:
    """Each agent's end of week from a solved week: last shift end (UTC) and the working
    days in a row ending on the week's last local day (agents with no shift: none)."""
    out = []
    if result.shifts.empty:
        return ()
    last_day = problem.scenario.plan_start + timedelta(days=problem.days - 1)
    for aid, sh in result.shifts.groupby("agent_id", sort=True):
        end = max(pd.Timestamp(x) for x in sh["end_utc"])
        worked = {datetime.fromisoformat(x).date() for x in sh["start_local"]}
        run, day = 0, last_day
        while day in worked:
            run += 1
            day -= timedelta(days=1)
        out.append(HistoryRecord(str(aid), end.to_pydatetime(), run,
                                 file="<previous week>", row=0))
    return tuple(out)


def carried_duty(previous: ScheduleResult, problem: SchedulingProblem
                 ) -> dict[str, tuple[tuple[int, int], ...]]:
    """Site -> ``(start, end)`` minutes from `problem`'s origin of the `previous` week's
    shifts that end after it (they take seats in `problem`'s week)."""
    out: dict[str, list[tuple[int, int]]] = {}
    for row in previous.shifts.itertuples(index=False):
        end = int((pd.Timestamp(row.end_utc) - problem.origin).total_seconds() // 60)
        if end > 0:
            start = int((pd.Timestamp(row.start_utc) - problem.origin).total_seconds() // 60)
            out.setdefault(row.site, []).append((start, end))
    return {k: tuple(sorted(v)) for k, v in sorted(out.items())}


def _combine(problem: SchedulingProblem, weeks: list[ScheduleResult]) -> ScheduleResult:
    if len(weeks) == 1:
        return weeks[0]
    cost = sum(r.cost for r in weeks)
    penalty = sum(r.penalty for r in weeks)
    objective = cost + penalty
    bound = sum(r.lp_bound for r in weeks)
    timings: dict[str, float] = {}
    for r in weeks:
        for k, v in r.timings_s:
            timings[k] = timings.get(k, 0.0) + v
    segments = pd.concat([r.segments for r in weeks], ignore_index=True)
    # seats are re-checked over the whole plan: a week's check cannot see the previous
    # week's night shift still on duty after midnight on Sunday (real times, not folded);
    # the first week's own check also folded its week (the plan's cyclic assumption)
    whole = replace(problem, carried_supply=problem.carried_productive())  # not cyclic
    seats = tuple(check_seats(whole, segments))
    seen = {(v.at, v.amount) for v in seats}
    seats += tuple(v for v in weeks[0].check.violations
                   if v.rule == "seats" and (v.at, v.amount) not in seen)
    return ScheduleResult(
        segments=segments,
        shifts=pd.concat([r.shifts for r in weeks], ignore_index=True),
        coverage=pd.concat([r.coverage for r in weeks], ignore_index=True),
        cost=cost, penalty=penalty, objective=objective, lp_bound=bound,
        gap=(objective - bound) / objective if objective > 0 else 0.0,
        status="ok" if all(r.status == "ok" for r in weeks) and not seats
        else "rule_violations",
        stages=tuple((f"week{w + 1}_{k}", v) for w, r in enumerate(weeks)
                     for k, v in r.stages),
        check=RuleCheck(tuple(v for r in weeks for v in r.check.violations
                              if v.rule != "seats") + seats),
        timings_s=tuple(timings.items()),
        preferences=pd.concat([r.preferences for r in weeks], ignore_index=True))


def schedule_weeks(scenario: Scenario, requirement: pd.DataFrame,
                   config: SchedulingConfig, *, requirement_file: str = "<requirement>",
                   time_limit_s: float | None = None
                   ) -> tuple[SchedulingProblem, ScheduleResult]:
    """Schedule a plan of ``7 k`` days week by week (module docstring).

    Returns the first week's problem (its scenario, penalty and zones describe the outputs)
    and the combined result. `time_limit_s` applies to each week.

    Raises `InputError` when ``plan_days`` is not a multiple of 7 (naming the scenario's
    ``plan_days``), and what `build_problem` / `solve_schedule` raise.
    """
    where = str(scenario.source) if scenario.source else "<scenario>"
    if scenario.plan_days % 7:
        raise InputError(f"the scheduler plans whole weeks: plan_days must be a multiple of 7, "
                         f"got {scenario.plan_days}", file=where, column="plan_days")
    queues = tuple(q.id for q in scenario.queues)
    # validate the whole table first, so an error names its row in the file
    requirement_matrix(requirement, queues, interval_s=scenario.interval_s,
                       file=requirement_file)
    ts = pd.to_datetime(requirement["interval_start"], utc=True)
    zone = ZoneInfo(scenario.plan_tz)
    history = config.history
    problems: list[SchedulingProblem] = []
    results: list[ScheduleResult] = []
    for w in range(scenario.plan_days // 7):
        start = scenario.plan_start + timedelta(days=7 * w)
        lo, hi = (pd.Timestamp(datetime.combine(d, time(0), tzinfo=zone)).tz_convert("UTC")
                  for d in (start, start + timedelta(days=7)))
        rows = ((ts >= lo) & (ts < hi)).to_numpy()
        if not rows.any():
            raise InputError(f"no requirement rows in the week from {start}",
                             file=requirement_file, column="interval_start")
        week = replace(scenario, plan_start=start, plan_days=7)
        prefs = tuple(p for p in config.preferences if p.in_week(start))
        cfg = replace(config, history=history, preferences=prefs)
        problem = build_problem(week, requirement.loc[rows].reset_index(drop=True), cfg,
                                requirement_file=requirement_file)
        if results:  # the previous week's shifts running into this one take seats
            problem = replace(problem, carried_duty=carried_duty(results[-1], problem),
                              carried_supply=productive_supply(problem,
                                                               results[-1].segments))
        result = solve_schedule(problem, time_limit_s=time_limit_s)
        problems.append(problem)
        results.append(result)
        history = history_after(problem, result)
    return problems[0], _combine(problems[0], results)
