"""The application layer: one planning run of a scenario, stage after stage.

``openwfm.app.plan(scenario, history, ...) -> PlanResult`` runs forecast -> staffing ->
schedule -> simulate -> capacity (`openwfm.app.stages`) and returns every stage's typed
result (`openwfm.app.result`); `openwfm.app.writers.write_plan` writes the run's CSVs and
report. The CLI (`openwfm plan`, `openwfm demo`) and the API are thin shells over these.
The domain packages never import this package.
"""

from __future__ import annotations

from openwfm.app.planning import plan, with_weeks
from openwfm.app.result import STAGES, PlannedSchedule, PlannedSimulation, PlanResult, SummaryLine
from openwfm.app.stages import plan_intervals

__all__ = [
    "STAGES",
    "PlanResult",
    "PlannedSchedule",
    "PlannedSimulation",
    "SummaryLine",
    "plan",
    "plan_intervals",
    "with_weeks",
]
