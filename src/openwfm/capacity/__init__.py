"""Long-term capacity planning: required FTE, available FTE, the hiring MIP, scenarios.

Typical use::

    from openwfm.capacity import parse_capacity, required_fte, make_problem, build_model, solve
    inp = parse_capacity(scenario)                    # the [capacity] section
    req = required_fte(inp, scenario, history)        # weekly volume -> staffing -> FTE
    model = build_model(make_problem(inp, req))       # inspectable MIP
    plan = solve(model)                               # HiGHS; plan.weekly, plan.hires, ...

`openwfm.capacity.run.run_capacity` does all of it plus the scenarios of the section.
"""

from openwfm.capacity.config import (
    CapacityInputs,
    HiringPolicy,
    Launch,
    QueueDrivers,
    ScenarioVariant,
    SiteCapacity,
    SkillGroup,
    Transfer,
    parse_capacity,
)
from openwfm.capacity.demand import Requirement, launch_volume, required_fte, weekly_volume
from openwfm.capacity.model import (
    CapacityModel,
    CapacityPlan,
    CapacityProblem,
    Limit,
    SolveStatus,
    build_model,
    make_problem,
    plan_capacity,
    solve,
)
from openwfm.capacity.supply import base_supply, cohort_curves, weekly_attrition

__all__ = [
    "CapacityInputs",
    "CapacityModel",
    "CapacityPlan",
    "CapacityProblem",
    "HiringPolicy",
    "Launch",
    "Limit",
    "QueueDrivers",
    "Requirement",
    "ScenarioVariant",
    "SiteCapacity",
    "SkillGroup",
    "SolveStatus",
    "Transfer",
    "base_supply",
    "build_model",
    "cohort_curves",
    "launch_volume",
    "make_problem",
    "parse_capacity",
    "plan_capacity",
    "required_fte",
    "solve",
    "weekly_attrition",
    "weekly_volume",
]
