"""Report sections of a schedule: the summary, coverage vs requirement per queue, seats in
use per site and every agent's shifts (Gantt)."""

from __future__ import annotations

from openwfm.report import Section, figure_html, table_html
from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.solve import ScheduleResult
from openwfm.scheduling.summary import seats_in_use, summary_frame

__all__ = ["schedule_sections"]


def schedule_sections(problem: SchedulingProblem, result: ScheduleResult,
                      max_agents_per_site: int = 40) -> list[Section]:
    """Report sections: coverage vs requirement per queue, a Gantt per site, the summary."""
    import plotly.express as px
    import plotly.graph_objects as go

    out = [Section("Schedule: summary", table_html(summary_frame(result, problem)), "schedule")]
    fig = go.Figure()
    for i, q in enumerate(problem.queues):
        c = result.coverage[result.coverage["queue"] == q]
        vis = True if i == 0 else "legendonly"
        fig.add_scatter(x=c["interval_start"], y=c["required"], name=f"{q} required",
                        line={"dash": "dot"}, visible=vis)
        fig.add_scatter(x=c["interval_start"], y=c["scheduled"], name=f"{q} scheduled",
                        line={"shape": "hv"}, visible=vis)
    fig.update_layout(height=420, xaxis_title="interval start (UTC)",
                      yaxis_title="productive agents", margin={"t": 30})
    out.append(Section("Schedule: coverage vs requirement per queue (click the legend)",
                       figure_html(fig), "schedule"))
    seats = go.Figure()
    for site, on in seats_in_use(problem, result.segments).items():
        seats.add_scatter(x=on.index, y=on.to_numpy(), name=f"{site} on duty",
                          line={"shape": "hv"})
        seats.add_scatter(x=[on.index[0], on.index[-1]],
                          y=[problem.scenario.site(site).seats] * 2,
                          name=f"{site} seats", line={"dash": "dot"})
    seats.update_layout(height=360, xaxis_title="interval start (UTC)",
                        yaxis_title="agents on duty (breaks included)", margin={"t": 30})
    out.append(Section("Schedule: seats in use per site", figure_html(seats), "schedule"))
    seg = result.segments
    for site in problem.scenario.sites:
        s = seg[seg["site"] == site.name]
        if s.empty:
            continue
        keep = sorted(s["agent_id"].unique())[:max_agents_per_site]
        s = s[s["agent_id"].isin(keep)].copy()
        s["start_local"] = s["start"].dt.tz_convert(site.tz).dt.tz_localize(None)
        s["end_local"] = s["end"].dt.tz_convert(site.tz).dt.tz_localize(None)
        g = px.timeline(s, x_start="start_local", x_end="end_local", y="agent_id",
                        color="activity", color_discrete_map={"work": "#4c78a8",
                                                              "break": "#f58518",
                                                              "meal": "#e45756"})
        g.update_yaxes(autorange="reversed")
        g.update_layout(height=max(300, 16 * len(keep)), margin={"t": 30},
                        xaxis_title=f"local time ({site.tz})")
        out.append(Section(f"Schedule: {site.name} timeline (first {len(keep)} agents)",
                           figure_html(g), "schedule"))
    return out
