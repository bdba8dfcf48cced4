"""One capacity run: inputs -> required FTE -> hiring plan -> scenarios -> files and report.

Used by ``openwfm capacity`` and by the ``capacity`` stage of ``openwfm demo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from openwfm.capacity.config import CapacityInputs, parse_capacity
from openwfm.capacity.demand import Requirement, StaffFn
from openwfm.capacity.model import CapacityPlan
from openwfm.capacity.scenarios import ScenarioOutcome, compare, plan_variant
from openwfm.report import Section, figure_html, table_html
from openwfm.scenario import Scenario

if TYPE_CHECKING:
    from openwfm.pipeline import PlanContext


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
                 time_limit_s: float = 20.0, mip_rel_gap: float = 5e-3) -> CapacityResult:
    """Plan the ``[capacity]`` section of `scenario` (and its scenarios when `scenarios`)."""
    inp = parse_capacity(scenario, weeks=weeks)
    cache: dict[tuple[object, ...], tuple[float, float]] = {}
    base = plan_variant(inp, None, scenario, history, staff=staff, time_limit_s=time_limit_s,
                        mip_rel_gap=mip_rel_gap, cache=cache)
    outcomes = [base]
    if scenarios:
        outcomes += [plan_variant(inp, v, scenario, history, base.requirement, staff=staff,
                                  time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap,
                                  cache=cache)
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
            "mip_gap": result.plan.mip_gap, "solve_s": result.plan.solve_s}]),
    }
    if result.comparison is not None:
        out["scenarios"] = result.comparison
    return out


def figures(result: CapacityResult) -> dict[str, object]:
    """Plotly figures: required vs available FTE per site, hires per week, seats."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    s = result.plan.sites
    names = list(dict.fromkeys(s["site"]))
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    site_color = {site: palette[i % len(palette)] for i, site in enumerate(names)}
    series = (("required_fte", "required FTE", "#1f77b4", None),
              ("available_fte", "available FTE (productive)", "#d62728", None),
              ("headcount", "headcount (paid)", "#7f7f7f", "dot"))
    fte = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names)
    for i, site in enumerate(names, start=1):
        g = s[s["site"] == site]
        for col, label, color, dash in series:
            fte.add_trace(go.Scatter(x=g["week_start"], y=g[col], name=label,
                                     legendgroup=label, showlegend=i == 1,
                                     line={"color": color, "dash": dash}),
                          row=i, col=1)
    fte.update_layout(title="Required vs available FTE per site", height=260 * len(names))
    hires = go.Figure([go.Bar(x=g["week_start"], y=g["class_start"], name=site,
                              marker_color=site_color[site])
                       for site, g in s.groupby("site", sort=False)])
    hires.update_layout(barmode="stack", title="Hires per week (class starts) per site",
                        yaxis_title="people")
    seats = go.Figure()
    for site, g in s.groupby("site", sort=False):
        seats.add_trace(go.Scatter(x=g["week_start"], y=g["seats_used"], name=f"{site} used",
                                   line={"color": site_color[site]}))
        seats.add_trace(go.Scatter(x=g["week_start"], y=g["seat_capacity"],
                                   name=f"{site} capacity",
                                   line={"color": site_color[site], "dash": "dash"}))
    seats.update_layout(title="Seats: FTE on production seats vs what the seats host "
                              "(seats x shifts/day x 7 / workdays)", yaxis_title="FTE")
    out = {"fte": fte, "hires": hires, "seats": seats}
    found = fastest_growing(result.plan.weekly)
    if found is not None:
        skill, g = found
        grow = make_subplots(specs=[[{"secondary_y": True}]])
        for col, label, color, dash in series:
            grow.add_trace(go.Scatter(x=g["week_start"], y=g[col], name=label,
                                      line={"color": color, "dash": dash}), secondary_y=False)
        grow.add_trace(go.Bar(x=g["week_start"], y=g["class_start"], name="class starts",
                              marker_color="#2ca02c", opacity=0.5), secondary_y=True)
        grow.update_layout(title=f"Fastest-growing group: {skill} (all sites)")
        grow.update_yaxes(title_text="FTE", secondary_y=False)
        grow.update_yaxes(title_text="people starting training", secondary_y=True)
        out["growth"] = grow
    return out


def write_outputs(result: CapacityResult, folder: Path, *, excel: bool = True,
                  charts: bool = True) -> list[Path]:
    """Write the CSVs, ``capacity.xlsx`` (one sheet per table) and ``capacity_charts.html``
    into `folder` (the caller makes it atomic)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    tabs = tables(result)
    for name, df in tabs.items():
        path = folder / f"{name}.csv"
        df.to_csv(path, index=False)
        written.append(path)
    if excel:
        xlsx = folder / "capacity.xlsx"
        with pd.ExcelWriter(xlsx, engine="openpyxl") as xw:
            for name, df in tabs.items():
                df.to_excel(xw, sheet_name=name[:31], index=False)
        written.append(xlsx)
    if not charts:
        return written
    figs = figures(result)
    html = "".join(f.to_html(full_html=False, include_plotlyjs=(i == 0))  # type: ignore[attr-defined]
                   for i, f in enumerate(figs.values()))
    charts = folder / "capacity_charts.html"
    charts.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>openwfm "
                      f"capacity</title></head><body>{html}</body></html>", encoding="utf-8")
    written.append(charts)
    return written


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


def hires_by_quarter(hires: pd.DataFrame) -> pd.DataFrame:
    """People starting training per site, skill group and calendar quarter.

    Examples
    --------
    >>> from datetime import date
    >>> h = pd.DataFrame({"site": ["A", "A", "B"], "skill": ["k", "k", "k"],
    ...                   "start_date": [date(2026, 4, 6), date(2026, 7, 6), date(2026, 4, 20)],
    ...                   "size": [8, 6, 10]})
    >>> hires_by_quarter(h).to_dict("records")
    [{'site': 'A', 'skill': 'k', '2026Q2': 8, '2026Q3': 6, 'total': 14}, \
{'site': 'B', 'skill': 'k', '2026Q2': 10, '2026Q3': 0, 'total': 10}]
    """
    if not len(hires):
        return pd.DataFrame(columns=["site", "skill", "total"])
    q = pd.PeriodIndex(pd.to_datetime(hires["start_date"]), freq="Q").astype(str)
    t = hires.assign(quarter=q).pivot_table(index=["site", "skill"], columns="quarter",
                                            values="size", aggfunc="sum", fill_value=0,
                                            sort=False)
    t["total"] = t.sum(axis=1)
    t.columns.name = None
    return t.reset_index()


def capacity_sections(result: CapacityResult) -> list[Section]:
    """Report sections: required vs available per site, hires, seats, scenarios."""
    figs = figures(result)
    p = result.plan
    site_tot = p.sites.groupby("site", sort=False).agg(
        hires=("class_start", "sum"), under_fte_weeks=("under_fte", "sum"),
        over_fte_weeks=("over_fte", "sum"), peak_seats_used=("seats_used", "max"),
        seat_capacity=("seat_capacity", "max"), cost=("cost", "sum")).reset_index()
    lines = "".join(f"<li><b>{what}</b>: {value}</li>" for what, value in summary_lines(result))
    intro = (
        "<p>Required FTE = productive agent-hours from the staffing engine (every interval "
        "of a representative week meets the queue's service goal) / (fte_hours x (1 - "
        "shrinkage) x scheduling efficiency). Available FTE = current headcount after "
        "attrition + classes (0 in training, nesting productivity curve, then 1). Seats "
        "host seats x shifts/day x 7 / workdays a week in headcount.</p>")
    out = [
        Section("Capacity: required vs available FTE per site",
                intro + f"<ul>{lines}</ul>" + figure_html(figs["fte"])
                + table_html(site_tot, float_format="{:,.1f}"), stage="capacity"),
        Section("Capacity: hiring plan (classes per site and week)",
                figure_html(figs["hires"])
                + "<p>People starting training, per quarter (every class with its weeks: "
                  "capacity/hiring_plan.csv).</p>"
                + table_html(hires_by_quarter(p.hires), float_format="{:,.0f}"),
                stage="capacity"),
        Section("Capacity: seats", figure_html(figs["seats"]), stage="capacity"),
    ]
    grow = growth_line(result)
    if grow is not None and "growth" in figs:
        out.insert(1, Section(
            "Capacity: the fastest-growing client's ramp-up",
            f"<p>{grow[1]}.</p>" + figure_html(figs["growth"]), stage="capacity"))
    if result.comparison is not None:
        out.append(Section("Capacity: scenarios side by side",
                           table_html(result.comparison, float_format="{:,.2f}"),
                           stage="capacity"))
    return out


def stage_capacity(ctx: PlanContext) -> None:
    """Pipeline stage: the long-term plan of the scenario's ``[capacity]`` section.

    Writes ``capacity/*.csv`` into the run folder (the charts go into the report; ``openwfm
    capacity`` also writes Excel and a charts page), adds report sections and summary
    lines; a scenario without a ``[capacity]`` section is reported as such. Solves are
    limited to 0.75 s each (the MIP gap is reported).
    """
    if "capacity" not in ctx.scenario.extra:
        ctx.summary.append(("capacity", "plan", "skipped: the scenario has no [capacity]"))
        return
    result = run_capacity(ctx.scenario, ctx.history, time_limit_s=0.75, mip_rel_gap=2e-2)
    ctx.results["capacity"] = result
    write_outputs(result, ctx.out_dir / "capacity", excel=False, charts=False)
    for what, value in summary_lines(result):
        ctx.summary.append(("capacity", what, value))
    if result.comparison is not None:
        for _, r in result.comparison.iloc[1:].iterrows():
            ctx.summary.append(("capacity", f"scenario {r['scenario']}",
                                f"cost {r['cost_vs_base']:+,.0f}, hires "
                                f"{int(r['hires_vs_base']):+d}, under "
                                f"{r['under_vs_base']:+,.1f} FTE-weeks"
                                + ("" if r["difference_proven"] else
                                   " (within the solvers' gaps: sign not proven)")))
    for section in capacity_sections(result):
        ctx.report.add(section)
