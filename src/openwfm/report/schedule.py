"""Report sections of a schedule: the summary, coverage vs requirement per queue, seats in
use per site and every agent's shifts (Gantt)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from openwfm.report import Section, figure_html, table_html
from openwfm.scenario import Agent
from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.solve import ScheduleResult
from openwfm.scheduling.summary import seats_in_use, summary_frame

__all__ = ["gantt_figure", "schedule_sections"]

#: Colour of each activity in the Gantt.
ACTIVITY_COLORS = {"work": "#4c78a8", "break": "#f58518", "meal": "#e45756"}
#: Pixels per agent row in the Gantt.
ROW_PX = 16


def schedule_sections(problem: SchedulingProblem, result: ScheduleResult) -> list[Section]:
    """Report sections: the summary, coverage vs requirement per queue, seats in use, and a
    Gantt of every agent per site (`gantt_figure`)."""
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
    for site in problem.scenario.sites:
        agents = [a for a in problem.scenario.agents if a.site == site.name]
        seg = result.segments[result.segments["site"] == site.name]
        if seg.empty:
            continue
        fig = gantt_figure(seg, agents, site.tz)
        out.append(Section(
            f"Schedule: {site.name} shifts of every agent ({len(agents)})",
            "<p>Every agent of the site, in the site's local time; the menu shows one queue's "
            "agents or one team (agents with the same skills). Every segment with its UTC "
            "and local times is in schedule/segments.csv, and each agent's calendar in "
            "schedule/ics/.</p>" + figure_html(fig), "schedule"))
    return out


def gantt_figure(segments: pd.DataFrame, agents: list[Agent], tz: str) -> Any:
    """Every agent's segments as horizontal bars in local time `tz` (plotly), with a menu:
    all agents, the agents of one queue (who have its skill), or one team (the agents with
    the same skills). Each choice shows exactly its agents' rows.

    One bar trace per team and activity, so a menu choice only switches traces on and off;
    the rows shown are set explicitly (``yaxis.categoryarray``) with the chart's height.

    Examples
    --------
    >>> from openwfm.scenario import Agent
    >>> ts = pd.Timestamp
    >>> seg = pd.DataFrame({"agent_id": ["a", "a", "b"], "activity": ["work", "break", "work"],
    ...     "start": [ts("2026-03-30 08:00", tz="UTC"), ts("2026-03-30 10:00", tz="UTC"),
    ...               ts("2026-03-30 09:00", tz="UTC")],
    ...     "end": [ts("2026-03-30 10:00", tz="UTC"), ts("2026-03-30 10:15", tz="UTC"),
    ...             ts("2026-03-30 17:00", tz="UTC")]})
    >>> agents = [Agent("a", "A", "S", ("q1",)), Agent("b", "B", "S", ("q1", "q2"))]
    >>> fig = gantt_figure(seg, agents, "Africa/Casablanca")
    >>> [b.label for b in fig.layout.updatemenus[0].buttons]
    ['all agents (2)', 'queue q1 (2)', 'queue q2 (1)', 'team q1 (1)', 'team q1 + q2 (1)']
    >>> list(fig.layout.updatemenus[0].buttons[2].args[1]["yaxis.categoryarray"])
    ['b']
    """
    import plotly.graph_objects as go

    skills = {a.id: a.skills for a in agents}
    team_of = {a.id: " + ".join(sorted(a.skills)) for a in agents}
    seg = segments.assign(team=segments["agent_id"].map(team_of).fillna("")).sort_values(
        ["agent_id", "start"])
    start = seg["start"].dt.tz_convert(tz).dt.tz_localize(None)
    end = seg["end"].dt.tz_convert(tz).dt.tz_localize(None)
    seg = seg.assign(start_local=start, ms=(end - start).dt.total_seconds() * 1000.0,
                     hover=start.dt.strftime("%a %H:%M") + "-" + end.dt.strftime("%H:%M"))
    fig = go.Figure()
    trace_team = []
    shown_legend = set()
    for (team, activity), g in seg.groupby(["team", "activity"], sort=True):
        fig.add_trace(go.Bar(
            x=g["ms"], base=g["start_local"], y=g["agent_id"], orientation="h",
            name=str(activity), legendgroup=str(activity),
            showlegend=activity not in shown_legend,
            marker_color=ACTIVITY_COLORS.get(str(activity), "#999"),
            customdata=g[["hover"]].to_numpy(),
            hovertemplate=f"%{{y}} {activity} %{{customdata[0]}}<extra></extra>"))
        shown_legend.add(activity)
        trace_team.append(team)
    ids = sorted(a.id for a in agents)
    queues = sorted({q for a in agents for q in a.skills})
    teams = sorted(set(team_of.values()))
    choices = [(f"all agents ({len(ids)})", ids, set(teams))]
    for q in queues:
        who = [i for i in ids if q in skills[i]]
        choices.append((f"queue {q} ({len(who)})", who,
                        {team_of[i] for i in who}))
    for t in teams:
        who = [i for i in ids if team_of[i] == t]
        choices.append((f"team {t} ({len(who)})", who, {t}))
    buttons = [{"label": label, "method": "update",
                "args": [{"visible": [t in shown for t in trace_team]},
                         {"yaxis.categoryarray": who,
                          "height": max(300, ROW_PX * len(who) + 120)}]}
               for label, who, shown in choices]
    fig.update_layout(
        barmode="overlay", height=max(300, ROW_PX * len(ids) + 120),
        margin={"t": 40, "l": 90}, xaxis={"type": "date", "title": f"local time ({tz})"},
        yaxis={"categoryorder": "array", "categoryarray": ids, "autorange": "reversed",
               "title": "agent"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.02,
                      "yanchor": "bottom"}])
    return fig
