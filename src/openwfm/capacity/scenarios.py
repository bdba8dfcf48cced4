"""Capacity scenarios side by side: the same plan under other assumptions.

A `ScenarioVariant` changes the attrition, scales the volume (a 20% surprise) or moves a
skill group to other sites (serve a new client from Casablanca, Bogota or Manila). Each
variant is planned from scratch (required FTE recomputed when the volume or the split
changes, then `build_model` and `solve`), and `compare` lines the plans up with their
differences to the base plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from openwfm.capacity.config import CapacityInputs, ScenarioVariant
from openwfm.capacity.demand import Requirement, StaffFn, required_fte, split_by_site
from openwfm.capacity.model import NODE_LIMIT, CapacityPlan, build_model, make_problem, solve
from openwfm.scenario import Scenario


@dataclass(frozen=True)
class ScenarioOutcome:
    """One planned scenario."""

    name: str
    inputs: CapacityInputs
    requirement: Requirement
    plan: CapacityPlan


def plan_variant(inputs: CapacityInputs, variant: ScenarioVariant | None, scenario: Scenario,
                 history: pd.DataFrame | None, base_requirement: Requirement | None = None, *,
                 staff: StaffFn | None = None, node_limit: int = NODE_LIMIT,
                 time_limit_s: float | None = None, mip_rel_gap: float = 5e-3,
                 cache: dict[tuple[object, ...], tuple[float, float]] | None = None,
                 ) -> ScenarioOutcome:
    """Plan `inputs` with `variant` applied (``None`` = the base plan).

    The required FTE of `base_requirement` is reused when the variant leaves the volume
    alone (only the site split is redone); otherwise it is recomputed (`cache` keeps the
    staffed volume levels between calls).
    """
    inp = inputs if variant is None else inputs.variant(variant)
    if base_requirement is not None and inp.volume_factor == inputs.volume_factor:
        req = Requirement(by_queue=base_requirement.by_queue, sites=base_requirement.sites,
                          skills=base_requirement.skills,
                          fte=split_by_site(inp, base_requirement.by_queue))
    else:
        req = required_fte(inp, scenario, history, staff, cache=cache)
    plan = solve(build_model(make_problem(inp, req)), node_limit=node_limit,
                 time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    return ScenarioOutcome(name="base" if variant is None else variant.name, inputs=inp,
                           requirement=req, plan=plan)


def compare(outcomes: list[ScenarioOutcome]) -> pd.DataFrame:
    """One row per scenario: cost, hires, gap and seats, and the differences to the first.

    Columns: ``scenario``, ``total_cost``, ``cost_vs_base``, ``hires``, ``hires_vs_base``,
    ``under_fte_weeks``, ``under_vs_base``, ``over_fte_weeks``, ``mean_required_fte``,
    ``mean_available_fte``, ``peak_seat_use`` (max over sites and weeks of seats used /
    seat capacity), ``mip_gap``, ``objective`` (cost + gap penalties, what the MIP
    minimises) and ``proven_bound`` (a lower bound of the optimal objective), plus
    ``hires_<site>`` per site; ``objective_vs_base_min`` / ``_max``: the interval that
    holds the difference of the *optimal* objectives (scenario - base) given both plans'
    proven bounds, and ``difference_proven``: whether that interval excludes 0 (the sign
    of the difference is not an artefact of the solver's gap). The base row compares the
    base with itself: its interval is [0, 0] and nothing is proven.
    """
    rows = []
    for o in outcomes:
        p = o.plan
        by_week = p.sites.groupby("week")[["required_fte", "available_fte"]].sum()
        row = {
            "scenario": o.name,
            "total_cost": p.total_cost,
            "hires": p.total_hires,
            "under_fte_weeks": p.under_fte_weeks,
            "over_fte_weeks": p.over_fte_weeks,
            "mean_required_fte": float(by_week["required_fte"].mean()),
            "mean_available_fte": float(by_week["available_fte"].mean()),
            "peak_seat_use": float((p.sites["seats_used"] / p.sites["seat_capacity"]).max()),
            "mip_gap": p.mip_gap,
            "objective": p.objective,
            "proven_bound": p.mip_dual_bound,
        }
        for site, g in p.sites.groupby("site", sort=False):
            row[f"hires_{site}"] = int(g["class_start"].sum())
        rows.append(row)
    df = pd.DataFrame(rows)
    base = df.iloc[0]
    df.insert(2, "cost_vs_base", df["total_cost"] - base["total_cost"])
    df.insert(4, "hires_vs_base", df["hires"] - base["hires"])
    df.insert(6, "under_vs_base", df["under_fte_weeks"] - base["under_fte_weeks"])
    # the optimal objectives lie in [proven_bound, objective], so their difference lies in
    # [bound - base objective, objective - base bound]: a sign is proven when both ends agree
    df["objective_vs_base_min"] = df["proven_bound"] - base["objective"]
    df["objective_vs_base_max"] = df["objective"] - base["proven_bound"]
    df.loc[0, ["objective_vs_base_min", "objective_vs_base_max"]] = 0.0
    df["difference_proven"] = ((df["objective_vs_base_min"] > 0)
                               | (df["objective_vs_base_max"] < 0))
    return df
