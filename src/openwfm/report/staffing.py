"""Report sections of the staffing stage: a summary per queue and one requirement chart
with a queue selector."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from openwfm.report import Section, figure_html, table_html
from openwfm.scenario import Scenario
from openwfm.staffing.summary import staffing_summary

__all__ = [
    "requirement_figure",
    "requirement_selector_figure",
    "staffing_sections",
]


def _local_hover(start: pd.Series, tz: str) -> np.ndarray:
    """'Sun 15 Feb 02:00 local (UTC+00:00)' for every UTC interval start."""
    local = start.dt.tz_convert(tz)
    offset = local.map(lambda ts: ts.strftime("%z"))
    return (local.dt.strftime("%a %d %b %H:%M") + " local (UTC" + offset.str[:3] + ":"
            + offset.str[3:] + ")").to_numpy()


def _queue_traces(q: pd.DataFrame, tz: str, *, visible: bool = True) -> list:
    """The plotly traces of one queue: productive agents, and scheduled agents when the
    table has them. Only the first trace carries the local-time hover text (the chart's
    unified hover shows it once for both)."""
    import plotly.graph_objects as go

    start = q["interval_start"]
    x = start.dt.tz_localize(None)
    traces = [("agents", "productive agents")]
    if "scheduled" in q and q["scheduled"].notna().any():
        traces.append(("scheduled", "scheduled (after shrinkage)"))
    out = []
    for i, (col, label) in enumerate(traces):
        if i == 0:
            extra = {"customdata": _local_hover(start, tz),
                     "hovertemplate": f"%{{customdata}}<br>{label}: %{{y:.1f}}<extra></extra>"}
        else:
            extra = {"hovertemplate": f"{label}: %{{y:.1f}}<extra></extra>"}
        y = q[col].astype(float).round(2)  # 2 decimals are plenty on a chart; smaller page
        out.append(go.Scatter(x=x, y=y, name=label, mode="lines", line_shape="hv",
                              visible=visible, **extra))
    return out


def requirement_figure(q: pd.DataFrame, queue_id: str, tz: str):  # -> plotly Figure
    """Agents (and scheduled agents) per interval of one queue. The x axis is UTC (always
    increasing, also when the local clock goes back); the hover gives the queue's local
    time with its UTC offset, so DST and Morocco's Ramadan change show as they happen."""
    import plotly.graph_objects as go

    fig = go.Figure(_queue_traces(q, tz))
    fig.update_layout(height=300, margin=dict(l=40, r=10, t=30, b=30), hovermode="x unified",
                      title=f"{queue_id}: agents required per interval",
                      xaxis_title=f"UTC (hover: local time, {tz})", yaxis_title="agents",
                      legend=dict(orientation="h", y=-0.25))
    return fig


def requirement_selector_figure(requirement: pd.DataFrame, zones: dict[str, str]):
    """One chart of agents (and scheduled agents) per interval for every queue, one queue
    shown at a time through a dropdown (plotly `updatemenus`). The x axis is UTC; the hover
    gives the selected queue's local time and UTC offset (`zones`: queue id -> IANA zone,
    UTC when absent).

    Examples
    --------
    >>> import pandas as pd
    >>> idx = pd.date_range("2026-03-28", periods=4, freq="h", tz="UTC")
    >>> req = pd.concat([pd.DataFrame({"interval_start": idx, "queue": q, "agents": 3})
    ...                  for q in ("b", "a")])
    >>> fig = requirement_selector_figure(req, {"a": "Europe/Paris"})
    >>> [b.label for b in fig.layout.updatemenus[0].buttons]
    ['a', 'b']
    >>> [t.visible for t in fig.data]
    [True, False]
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    queues, spans = [], []
    for queue_id, q in requirement.sort_values("interval_start").groupby("queue", sort=True):
        tz = zones.get(str(queue_id), "UTC")
        traces = _queue_traces(q, tz, visible=not queues)
        spans.append((len(fig.data), len(fig.data) + len(traces), tz))
        queues.append(str(queue_id))
        fig.add_traces(traces)
    n = len(fig.data)
    buttons = []
    for queue_id, (lo, hi, tz) in zip(queues, spans, strict=True):
        visible = [lo <= j < hi for j in range(n)]
        buttons.append({"label": html.escape(queue_id), "method": "update",
                        "args": [{"visible": visible},
                                 {"title": f"{queue_id}: agents required per interval",
                                  "xaxis.title.text": f"UTC (hover: local time, {tz})"}]})
    first_tz = spans[0][2] if spans else "UTC"
    fig.update_layout(
        height=380, margin=dict(l=40, r=10, t=70, b=30), hovermode="x unified",
        title=f"{queues[0]}: agents required per interval" if queues else "",
        xaxis_title=f"UTC (hover: local time, {first_tz})", yaxis_title="agents",
        legend=dict(orientation="h", y=-0.2),
        updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.2,
                      "yanchor": "top"}])
    return fig


def staffing_sections(requirement: pd.DataFrame, scenario: Scenario) -> list[Section]:
    """The staffing part of the report: a summary table (one row per queue) and one chart
    of agents and scheduled agents per interval with a queue selector (UTC axis, the
    queue's local time on hover; see `requirement_selector_figure`)."""
    summary = staffing_summary(requirement, scenario)
    names = {"volume": "volume", "peak_agents": "peak agents", "agent_hours": "agent-hours",
             "scheduled_hours": "scheduled hours", "service_level": "service level"}
    intro = (
        "<p>Productive agents required per queue and interval (smallest integer meeting the "
        "queue's service goal), and scheduled agents = agents / (1 - shrinkage). Service "
        "level = contacts answered within the threshold / contacts offered (abandons are "
        "failures); the period value is volume-weighted.</p>")
    sections = [Section("Staffing requirement: summary",
                        intro + table_html(summary.rename(columns=names),
                                           float_format="{:,.2f}"), stage="staffing")]
    if len(requirement):
        zones = {q.id: q.tz for q in scenario.queues}
        fig = requirement_selector_figure(requirement, zones)
        sections.append(Section(
            "Staffing requirement per queue and interval",
            "<p>Choose the queue in the menu at the top right.</p>" + figure_html(fig),
            stage="staffing"))
    return sections
