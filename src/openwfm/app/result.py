"""The typed results of a planning run: one frozen dataclass per stage and `PlanResult`.

A stage computes and returns one of these; the writers (`openwfm.app.writers`), the report
(`openwfm.report.plan`), the CLI and the API read them. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

if TYPE_CHECKING:
    from openwfm.capacity.run import CapacityResult
    from openwfm.forecast.engine import ForecastResult
    from openwfm.scenario import Scenario
    from openwfm.scheduling.model import SchedulingProblem
    from openwfm.scheduling.solve import ScheduleResult
    from openwfm.simulation import SimulationResult

__all__ = ["STAGES", "PlanResult", "PlannedSchedule", "PlannedSimulation", "SummaryLine"]

#: The stages of a full planning run, in order.
STAGES: tuple[str, ...] = ("forecast", "staffing", "schedule", "simulate", "capacity")


class SummaryLine(NamedTuple):
    """One line of a run's summary: the stage, what is measured, the value as shown."""

    stage: str
    what: str
    value: str


@dataclass(frozen=True)
class PlannedSchedule:
    """The schedule stage: the (first week's) problem and the combined result of all weeks."""

    problem: SchedulingProblem
    result: ScheduleResult


@dataclass(frozen=True)
class PlannedSimulation:
    """The simulate stage: what was simulated and its KPIs with the queues' targets.

    Attributes
    ----------
    result : SimulationResult
        The model, the contact log and the KPIs derived from it.
    intervals, queues : pandas.DataFrame
        ``result.intervals`` / ``result.queues`` plus ``sl_target`` (the queue's goal).
    scheduled : bool
        True when the schedule's segments were simulated; False when the staffing
        requirement was (each queue gets exactly its required agents, dedicated).
    replications, seed : int
        As passed to `openwfm.simulation.simulate`.
    """

    result: SimulationResult
    intervals: pd.DataFrame
    queues: pd.DataFrame
    scheduled: bool
    replications: int
    seed: int

    @property
    def source(self) -> str:
        """What was simulated, in words."""
        if self.scheduled:
            return "the scheduled week (agents follow their shifts and breaks)"
        return ("the staffing requirement (no schedule in this run: each queue gets exactly "
                "its required agents, dedicated)")


@dataclass(frozen=True)
class PlanResult:
    """Everything one planning run computed, stage by stage (`openwfm.app.plan`).

    Attributes
    ----------
    scenario : Scenario
        The scenario planned (``plan_days`` = 7 x weeks when `plan` was given ``weeks``).
    history : pandas.DataFrame
        The interval history the run was given (interval table, UTC).
    forecast : ForecastResult
        Forecast of every queue over the plan period, with the backtest.
    requirement : pandas.DataFrame
        The requirement table (`openwfm.staffing.staff_frame` output per queue and interval).
    schedule : PlannedSchedule or None
        None when the schedule stage was not run.
    simulation : PlannedSimulation or None
        None when the simulate stage was not run.
    capacity : CapacityResult or None
        None when not run or when the scenario has no ``[capacity]`` section.
    timings_s : dict
        Seconds per stage run (wall clock; for the terminal, never for the results).
    summary : tuple of SummaryLine
        The lines of the terminal summary, stage by stage.
    """

    scenario: Scenario
    history: pd.DataFrame
    forecast: ForecastResult
    requirement: pd.DataFrame
    schedule: PlannedSchedule | None = None
    simulation: PlannedSimulation | None = None
    capacity: CapacityResult | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    summary: tuple[SummaryLine, ...] = ()

    @property
    def segments(self) -> pd.DataFrame | None:
        """The schedule's segments (agent_id, site, activity, start, end, queue), if any."""
        return None if self.schedule is None else self.schedule.result.segments

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run's main tables by name (what `openwfm plan --db` saves)."""
        out = {"forecast": self.forecast.frame, "requirement": self.requirement}
        if self.segments is not None:
            out["segments"] = self.segments
        return out
