"""The HTML report of a planning run, built from its `PlanResult` (no computing here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openwfm.report import Report, Section

if TYPE_CHECKING:
    from openwfm.app.result import PlanResult

__all__ = ["plan_report", "plan_sections"]


def plan_sections(result: PlanResult) -> list[Section]:
    """The report's sections, stage by stage: forecast, staffing, schedule, simulation,
    capacity (a stage that did not run has none)."""
    from openwfm.app.stages import scenario_history
    from openwfm.report.capacity import capacity_sections
    from openwfm.report.forecast import forecast_sections
    from openwfm.report.schedule import schedule_sections
    from openwfm.report.simulation import simulation_sections
    from openwfm.report.staffing import staffing_sections

    sc = result.scenario
    out = forecast_sections(scenario_history(sc, result.history), result.forecast)
    out += staffing_sections(result.requirement, sc)
    if result.schedule is not None:
        out += schedule_sections(result.schedule.problem, result.schedule.result)
    if result.simulation is not None:
        out += simulation_sections(result.simulation)
    if result.capacity is not None:
        out += capacity_sections(result.capacity)
    return out


def plan_report(result: PlanResult) -> Report:
    """The report of a planning run (``report.html``: `Report.to_html`)."""
    return Report(f"openwfm plan: {result.scenario.name}", plan_sections(result))
