"""Report sections and charts of a capacity plan: required vs available FTE per site, the
fastest-growing group's ramp-up, hires, seats and the scenarios side by side."""

from __future__ import annotations

from openwfm.capacity.run import (
    CapacityResult,
    fastest_growing,
    growth_line,
    hires_by_quarter,
    summary_lines,
)
from openwfm.report import Section, figure_html, table_html

__all__ = ["capacity_sections", "figures"]


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
