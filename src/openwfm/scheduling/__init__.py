"""Schedule optimization: who works when, under labour rules, at least cost and shortfall.

Three stages (see docs/scheduling.md): (1) a HiGHS LP/MILP chooses how many shifts of each
(site, skill group, day, start, length) with skill-group -> queue flows; (2) CP-SAT gives
those shifts to named agents under the labour rules; (3) breaks are placed in their windows
against residual coverage. `check.check_schedule` re-checks every hard rule from the
segments alone.

Public API: `build_problem`, `parse_config`, `solve_schedule`, `check_schedule`,
`ScheduleResult`, `RuleCheck`, `RulePack`, `rule_pack_for`.
"""

from openwfm.scheduling.check import RuleCheck, Violation, check_schedule
from openwfm.scheduling.model import SchedulingConfig, build_problem, parse_config
from openwfm.scheduling.rules import RulePack, rule_pack_for
from openwfm.scheduling.solve import ScheduleResult, solve_schedule

__all__ = ["RuleCheck", "RulePack", "ScheduleResult", "SchedulingConfig", "Violation",
           "build_problem", "check_schedule", "parse_config", "rule_pack_for",
           "solve_schedule"]
