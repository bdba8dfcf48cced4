"""One capacity run: inputs -> required FTE -> hiring plan -> scenarios, and the tables and
summary lines of its result.

Used by ``openwfm capacity`` and by the capacity stage of `openwfm.app.plan`; the files are
written by `openwfm.app.writers.write_capacity_outputs`, the report sections built by
`openwfm.report.capacity`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from openwfm.capacity.config import CapacityInputs, parse_capacity
from openwfm.capacity.demand import Requirement, StaffFn
from openwfm.capacity.model import NODE_LIMIT, CapacityPlan
from openwfm.capacity.scenarios import ScenarioOutcome, compare, plan_variant
from openwfm.scenario import Scenario


@dataclass(frozen=True)
class CapacityResult:
    """The base plan and, when asked, every scenario of ``[[capacity.scenarios]]``."""

    inputs: CapacityInputs
    requirement: Requirement
    plan: CapacityPlan
    outcomes: tuple[ScenarioOutcome, ...]
    comparison: pd.DataFrame | None
    clients: dict[str, str] = field(default_factory=dict)
    """Client of every queue (scenario queues and new ones), for the report."""


def run_capacity(scenario: Scenario, history: pd.DataFrame | None, *, weeks: int | None = None,
                 scenarios: bool = True, staff: StaffFn | None = None,
                 node_limit: int = NODE_LIMIT, time_limit_s: float | None = None,
                 mip_rel_gap: float = 5e-3) -> CapacityResult:
    """Plan the ``[capacity]`` section of `scenario` (and its scenarios when `scenarios`).

    Each plan's MIPs stop at `mip_rel_gap` or `node_limit` branch-and-bound nodes (the
    same plan under any machine load); `time_limit_s` is an optional wall-clock cap per
    plan (None: none)."""
    inp = parse_capacity(scenario, weeks=weeks)
    cache: dict[tuple[object, ...], tuple[float, float]] = {}
    base = plan_variant(inp, None, scenario, history, staff=staff, node_limit=node_limit,
                        time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, cache=cache)
    outcomes = [base]
    if scenarios:
        outcomes += [plan_variant(inp, v, scenario, history, base.requirement, staff=staff,
                                  node_limit=node_limit, time_limit_s=time_limit_s,
                                  mip_rel_gap=mip_rel_gap, cache=cache)
                     for v in inp.scenarios]
    return CapacityResult(inputs=inp, requirement=base.requirement, plan=base.plan,
                          outcomes=tuple(outcomes),
                          comparison=compare(outcomes) if len(outcomes) > 1 else None,
                          clients={q.id: q.client for q in (*scenario.queues, *inp.new_queues)})


def tables(result: CapacityResult) -> dict[str, pd.DataFrame]:
    """The output tables by name (CSV file stem and Excel sheet name)."""
    out = {
        "weekly_plan": result.plan.weekly,
        "site_plan": result.plan.sites,
        "hiring_plan": result.plan.hires,
        "required_by_queue": result.requirement.by_queue,
        "limits": pd.DataFrame(
            [{"rule": lim.rule, "weeks": " ".join(map(str, lim.weeks)),
              "under_fte_weeks": lim.under_fte_weeks, "message": lim.message}
             for lim in result.plan.limits],
            columns=["rule", "weeks", "under_fte_weeks", "message"]),
        "solver": pd.DataFrame([{
            "status": result.plan.status.value, "objective": result.plan.objective,
            "lp_bound": result.plan.lp_bound, "mip_dual_bound": result.plan.mip_dual_bound,
            "mip_gap": result.plan.mip_gap}]),  # no timing: same input, same file
    }
    if result.comparison is not None:
        out["scenarios"] = result.comparison
    return out


def summary_lines(result: CapacityResult) -> list[tuple[str, str]]:
    """(what, value) lines for a terminal summary."""
    p = result.plan
    s = p.sites
    first, last = s["week"].min(), s["week"].max()
    req = s.groupby("week")["required_fte"].sum()
    out = [
        ("horizon", f"{result.inputs.weeks} weeks from {result.inputs.start}"),
        ("required FTE", f"{req[first]:,.1f} in week {first} -> {req[last]:,.1f} in week "
                         f"{last}"),
        ("hires", f"{p.total_hires:,} in {len(p.hires)} classes"),
        ("cost", f"{p.total_cost:,.0f} (wages + hiring + training)"),
        ("gap", f"under {p.under_fte_weeks:,.1f} / over {p.over_fte_weeks:,.1f} FTE-weeks"),
        ("solver", f"{p.status.value}, objective {p.objective:,.0f}, proven bound "
                   f"{p.mip_dual_bound:,.0f} (LP {p.lp_bound:,.0f}), gap {p.mip_gap:.2%}, "
                   f"{p.solve_s:.1f} s"),
    ]
    grow = growth_line(result)
    if grow is not None:
        out.append(grow)
    for lim in p.limits:
        out.append((f"limit {lim.rule}", lim.message))
    return out


def fastest_growing(weekly: pd.DataFrame) -> tuple[str, pd.DataFrame] | None:
    """The skill group whose required FTE grows the most (all sites together), from its
    first week with a requirement to its last week, and its weekly rows summed over sites.

    Returns None when no group grows. The rows have ``week``, ``week_start``,
    ``required_fte``, ``available_fte``, ``headcount``, ``class_start``.

    Examples
    --------
    >>> w = pd.DataFrame({"week": [0, 1, 2] * 2, "week_start": [0, 1, 2] * 2,
    ...     "site": "A", "skill": ["a"] * 3 + ["b"] * 3,
    ...     "required_fte": [10.0, 11, 12, 0, 30, 320], "available_fte": 0.0,
    ...     "headcount": 0.0, "class_start": 0.0})
    >>> name, g = fastest_growing(w)
    >>> name, g["required_fte"].tolist()
    ('b', [0.0, 30.0, 320.0])
    """
    cols = ["required_fte", "available_fte", "headcount", "class_start"]
    by = weekly.groupby(["skill", "week", "week_start"], sort=False)[cols].sum().reset_index()
    best, growth = None, 0.0
    for skill, g in by.groupby("skill", sort=False):
        req = g["required_fte"].to_numpy()
        live = np.flatnonzero(req > 1e-9)
        if len(live) and req[-1] - req[live[0]] > growth:
            best, growth = str(skill), float(req[-1] - req[live[0]])
    if best is None:
        return None
    return best, by[by["skill"] == best].drop(columns="skill").reset_index(drop=True)


def growth_line(result: CapacityResult) -> tuple[str, str] | None:
    """("fastest-growing group", "<skill>: <FTE> in week <w> -> <FTE> in week <W>, ...")."""
    found = fastest_growing(result.plan.weekly)
    if found is None:
        return None
    skill, g = found
    live = g[g["required_fte"] > 1e-9]
    a, b = live.iloc[0], g.iloc[-1]
    queues = next(k.queues for k in result.inputs.skills if k.name == skill)
    clients = sorted({result.clients.get(q, "") for q in queues} - {""})
    who = f" ({', '.join(clients)})" if clients else ""
    return ("fastest-growing group",
            f"{skill}{who}: required {a['required_fte']:,.0f} FTE in week {int(a['week'])} "
            f"-> {b['required_fte']:,.0f} in week {int(b['week'])}; available "
            f"{b['available_fte']:,.0f}, headcount {b['headcount']:,.0f}, "
            f"{int(g['class_start'].sum())} hired")


def monthly_plan(result: CapacityResult) -> pd.DataFrame:
    """Per scenario (the base plan first), site, skill group and month: the mean weekly
    ``required_fte``, ``available_fte`` (productive), ``headcount`` (paid) and
    ``in_training`` of its weeks, the people starting training (``hires``) and the classes
    starting (``classes``). A week belongs to the month of its Thursday (as
    ``seasonality``), so every week counts in exactly one month.

    Examples
    --------
    >>> from datetime import date
    >>> w = pd.DataFrame({"week": [0, 1, 2], "site": "A", "skill": "k",
    ...                   "week_start": [date(2026, 3, 23), date(2026, 3, 30),
    ...                                  date(2026, 4, 6)],
    ...                   "required_fte": [10.0, 12.0, 20.0], "available_fte": [9.0, 9.0, 19.0],
    ...                   "headcount": [9.0, 11.0, 21.0], "in_training": [0.0, 2.0, 2.0],
    ...                   "class_start": [0.0, 2.0, 0.0]})
    >>> h = pd.DataFrame({"site": ["A"], "skill": ["k"], "start_week": [1], "size": [2]})
    >>> monthly_rows("base", w, h).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'scenario': 'base', 'site': 'A', 'skill': 'k', 'month': '2026-03', 'weeks': 1,
      'required_fte': 10.0, 'available_fte': 9.0, 'headcount': 9.0, 'in_training': 0.0,
      'hires': 0.0, 'classes': 0},
     {'scenario': 'base', 'site': 'A', 'skill': 'k', 'month': '2026-04', 'weeks': 2,
      'required_fte': 16.0, 'available_fte': 14.0, 'headcount': 16.0, 'in_training': 2.0,
      'hires': 2.0, 'classes': 1}]
    """
    return pd.concat([monthly_rows(o.name, o.plan.weekly, o.plan.hires)
                      for o in result.outcomes], ignore_index=True)


def monthly_rows(scenario: str, weekly: pd.DataFrame, hires: pd.DataFrame) -> pd.DataFrame:
    """`monthly_plan` of one plan (its ``weekly`` and ``hires`` tables)."""
    thursday = pd.to_datetime(weekly["week_start"]) + pd.Timedelta(days=3)
    w = weekly.assign(month=thursday.dt.strftime("%Y-%m"))
    month_of_week = dict(zip(w["week"], w["month"], strict=False))
    keys = ["site", "skill", "month"]
    g = w.groupby(keys, sort=False).agg(
        weeks=("week", "size"), required_fte=("required_fte", "mean"),
        available_fte=("available_fte", "mean"), headcount=("headcount", "mean"),
        in_training=("in_training", "mean"), hires=("class_start", "sum")).reset_index()
    if len(hires):
        c = hires.assign(month=hires["start_week"].map(month_of_week)) \
            .groupby(keys).size().rename("classes").reset_index()
        g = g.merge(c, on=keys, how="left")
    else:
        g["classes"] = 0
    g["classes"] = g["classes"].fillna(0).astype(int)
    g.insert(0, "scenario", scenario)
    return g.sort_values(keys, kind="stable").reset_index(drop=True)


def skill_queues(result: CapacityResult) -> pd.DataFrame:
    """The queues of every skill group (``skill``, ``queue``, ``client``): who may see a
    skill group's rows is who may see its queues."""
    return pd.DataFrame([{"skill": k.name, "queue": q, "client": result.clients.get(q, "")}
                         for k in result.inputs.skills for q in k.queues],
                        columns=["skill", "queue", "client"])


def hires_by_quarter(hires: pd.DataFrame) -> pd.DataFrame:
    """People starting training per site, skill group and calendar quarter (quarters in time
    order, whichever site hires first).

    Examples
    --------
    >>> from datetime import date
    >>> h = pd.DataFrame({"site": ["A", "A", "B"], "skill": ["k", "k", "k"],
    ...                   "start_date": [date(2026, 4, 6), date(2026, 7, 6), date(2026, 4, 20)],
    ...                   "size": [8, 6, 10]})
    >>> hires_by_quarter(h).to_dict("records")
    [{'site': 'A', 'skill': 'k', '2026Q2': 8, '2026Q3': 6, 'total': 14}, \
{'site': 'B', 'skill': 'k', '2026Q2': 10, '2026Q3': 0, 'total': 10}]
    >>> h["start_date"] = [date(2027, 1, 4), date(2026, 7, 6), date(2026, 10, 5)]
    >>> list(hires_by_quarter(h).columns)
    ['site', 'skill', '2026Q3', '2026Q4', '2027Q1', 'total']
    """
    if not len(hires):
        return pd.DataFrame(columns=["site", "skill", "total"])
    q = pd.PeriodIndex(pd.to_datetime(hires["start_date"]), freq="Q").astype(str)
    t = hires.assign(quarter=q).pivot_table(index=["site", "skill"], columns="quarter",
                                            values="size", aggfunc="sum", fill_value=0,
                                            sort=False)
    t = t[sorted(t.columns)]  # "2026Q4" < "2027Q1": the labels sort in time order
    t["total"] = t.sum(axis=1)
    t.columns.name = None
    return t.reset_index()
