"""Report sections of the staffing stage: a requirement chart and summary per queue."""

from __future__ import annotations

import numpy as np
import pandas as pd

from openwfm.report import Section, figure_html, table_html
from openwfm.scenario import Scenario

__all__ = ["requirement_figure", "staffing_sections", "staffing_summary"]


def staffing_summary(requirement: pd.DataFrame, scenario: Scenario | None = None) -> pd.DataFrame:
    """One row per queue: volume, peak agents, agent-hours, scheduled hours and the
    period's service level (volume-weighted, i.e. answered within / offered over the
    period).

    Examples
    --------
    >>> import pandas as pd
    >>> req = pd.DataFrame({"queue": ["a", "a"], "volume": [100.0, 300.0],
    ...                     "agents": [14, 30], "service_level": [0.9, 0.8],
    ...                     "interval_s": [1800, 1800]})
    >>> staffing_summary(req).round(3).to_dict("records")[0]["service_level"]
    0.825
    """
    df = requirement.copy()
    interval_s = df["interval_s"] if "interval_s" in df else pd.Series(
        scenario.interval_s if scenario is not None else 1800, index=df.index)
    hours = interval_s.astype(float) / 3600.0
    df["_agent_h"] = df["agents"] * hours
    df["_sl_vol"] = df["service_level"] * df["volume"]
    cols = {"volume": ("volume", "sum"), "peak_agents": ("agents", "max"),
            "agent_hours": ("_agent_h", "sum"), "_sl_vol": ("_sl_vol", "sum")}
    if "scheduled" in df:
        df["_sched_h"] = df["scheduled"] * hours
        cols["scheduled_hours"] = ("_sched_h", "sum")
    out = df.groupby("queue", sort=True).agg(**cols).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["service_level"] = np.where(out["volume"] > 0, out["_sl_vol"] / out["volume"], 1.0)
    return out.drop(columns="_sl_vol")


def requirement_figure(q: pd.DataFrame, queue_id: str, tz: str):  # -> plotly Figure
    """Agents (and scheduled agents) per interval of one queue. The x axis is UTC (always
    increasing, also when the local clock goes back); the hover gives the queue's local
    time with its UTC offset, so DST and Morocco's Ramadan change show as they happen."""
    import plotly.graph_objects as go

    start = q["interval_start"]
    local = start.dt.tz_convert(tz)
    offset = local.map(lambda ts: ts.strftime("%z"))
    hover = (local.dt.strftime("%a %d %b %H:%M") + " local (UTC" + offset.str[:3] + ":"
             + offset.str[3:] + ")").to_numpy()
    fig = go.Figure()
    traces = [("agents", "productive agents")]
    if "scheduled" in q and q["scheduled"].notna().any():
        traces.append(("scheduled", "scheduled (after shrinkage)"))
    for col, label in traces:
        fig.add_trace(go.Scatter(
            x=start.dt.tz_localize(None), y=q[col], name=label, mode="lines", line_shape="hv",
            customdata=hover,
            hovertemplate=f"%{{customdata}}<br>%{{x|%d %b %H:%M}} UTC<br>{label}: "
                          "%{y:.1f}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=40, r=10, t=30, b=30),
                      title=f"{queue_id}: agents required per interval",
                      xaxis_title=f"UTC (hover: local time, {tz})", yaxis_title="agents",
                      legend=dict(orientation="h", y=-0.25))
    return fig


def staffing_sections(requirement: pd.DataFrame, scenario: Scenario) -> list[Section]:
    """The staffing part of the report: a summary table (one row per queue) and, per queue,
    a chart of agents and scheduled agents per interval (UTC axis, the queue's local time
    on hover; see `requirement_figure`)."""
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
    zones = {q.id: q.tz for q in scenario.queues}
    for queue_id, q in requirement.sort_values("interval_start").groupby("queue", sort=True):
        tz = zones.get(str(queue_id), "UTC")
        fig = requirement_figure(q, str(queue_id), tz)
        sections.append(Section(f"Staffing requirement: {queue_id}", figure_html(fig),
                                stage="staffing"))
    return sections
