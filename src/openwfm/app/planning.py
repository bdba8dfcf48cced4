"""`plan`: one planning run of a scenario from its history, stage after stage.

The CLI (`openwfm plan`, `openwfm demo`) and the API call this one function and then write
what they need from the `PlanResult` (`openwfm.app.writers.write_plan`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection
from datetime import datetime

import pandas as pd

import openwfm.app.stages as st
from openwfm.app.result import STAGES, PlannedSchedule, PlannedSimulation, PlanResult
from openwfm.errors import InputError
from openwfm.scenario import Scenario
from openwfm.scheduling.preferences import Preference

__all__ = ["plan", "with_weeks"]


def with_weeks(scenario: Scenario, weeks: int) -> Scenario:
    """`scenario` planning `weeks` weeks (``plan_days = 7 x weeks``) from its ``plan_start``.

    Examples
    --------
    >>> from datetime import date
    >>> sc = Scenario(name="t", interval_s=1800, sites=(), queues=(), agents=(),
    ...               plan_start=date(2026, 3, 30))
    >>> with_weeks(sc, 2).plan_days
    14
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise InputError(f"weeks must be an integer >= 1, got {weeks!r}", column="weeks")
    if dataclasses.is_dataclass(scenario):
        return dataclasses.replace(scenario, plan_days=7 * weeks)
    return scenario.model_copy(update={"plan_days": 7 * weeks})  # a pydantic scenario


def plan(
    scenario: Scenario,
    history: pd.DataFrame,
    *,
    weeks: int | None = None,
    seed: int | None = None,
    replications: int | None = None,
    stages: Collection[str] = STAGES,
    on_stage: Callable[[str, float], None] | None = None,
    preferences: tuple[Preference, ...] = (),
    availability: tuple[tuple[str, datetime, datetime], ...] = (),
) -> PlanResult:
    """Plan `scenario` from `history`: forecast -> staffing -> schedule -> simulate ->
    capacity.

    Parameters
    ----------
    scenario : Scenario
        The center (`openwfm.scenario.load_scenario`).
    history : pandas.DataFrame
        Interval table of past contacts (``interval_start`` UTC, ``queue``, ``volume``,
        ``aht_s``; e.g. `openwfm.io.intervals.read_interval_csv(...).frame`). Queues not in
        the scenario are left out of the forecast; the capacity plan may use them (queues
        of its ``[capacity]`` section that open later).
    weeks : int, optional
        Weeks to plan from the scenario's ``plan_start`` (default: its ``plan_days``).
    seed, replications : int, optional
        Of the simulation (the only random stage); default: the scenario's
        ``[simulation]`` section (`openwfm.app.stages.simulation_settings`).
    stages : collection of str
        Which of `STAGES` to run; ``forecast`` and ``staffing`` always run. Without
        ``schedule``, ``simulate`` simulates the requirement.
    on_stage : callable, optional
        Called as ``on_stage(name, seconds)`` after each stage (progress display).
    preferences, availability : tuple, optional
        Agents' soft wishes (`openwfm.scheduling.preferences.parse_preference`) and
        unavailable times (``(agent_id, start, end)``,
        `openwfm.scheduling.model.parse_unavailability`) added to those of the scenario's
        ``[scheduling]`` files (the server's stored wishes of the period).

    Returns
    -------
    PlanResult
        Every stage's result, the seconds per stage and the summary lines.

    Examples
    --------
    >>> from openwfm.demo import demo_history, demo_scenario
    >>> sc = demo_scenario()
    >>> r = plan(sc, demo_history(sc), stages=("forecast", "staffing"))  # doctest: +SKIP
    >>> r.requirement["agents"].sum() > 0  # doctest: +SKIP
    True
    """
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise InputError(f"unknown stage(s) {sorted(unknown)}; expected some of {list(STAGES)}",
                         column="stages")
    if weeks is not None:
        scenario = with_weeks(scenario, weeks)
    timings: dict[str, float] = {}

    def timed(name, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        timings[name] = time.perf_counter() - t0
        if on_stage is not None:
            on_stage(name, timings[name])
        return out

    settings = st.simulation_settings(scenario)
    seed = settings.seed if seed is None else seed
    replications = settings.replications if replications is None else replications
    forecast = timed("forecast", st.forecast_stage, scenario, history)
    summary = st.forecast_summary(forecast, st.scenario_history(scenario, history))
    requirement = timed("staffing", st.staffing_stage, scenario, forecast.frame)
    summary += st.staffing_summary_lines(requirement)
    schedule: PlannedSchedule | None = None
    if "schedule" in stages:
        schedule = timed("schedule", st.schedule_stage, scenario, requirement,
                         preferences=preferences, availability=availability)
        summary += st.schedule_summary(schedule)
    simulation: PlannedSimulation | None = None
    if "simulate" in stages:
        simulation = timed("simulate", st.simulate_stage, scenario, forecast.frame,
                           segments=None if schedule is None else schedule.result.segments,
                           requirement=requirement, replications=replications, seed=seed)
        summary += st.simulate_summary(simulation)
    capacity = None
    if "capacity" in stages:
        capacity = timed("capacity", st.capacity_stage, scenario, history)
        summary += st.capacity_summary(capacity)
    return PlanResult(scenario=scenario, history=history, forecast=forecast,
                      requirement=requirement, schedule=schedule, simulation=simulation,
                      capacity=capacity, timings_s=timings, summary=tuple(summary))
