"""Report sections of the simulation of a plan: does the plan really hold?

Per queue and interval the target, the simulated service level with its 95% band, and the
intervals where the plan fails (`openwfm.app.stages.simulate_stage` computes them).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from openwfm.report import Section, figure_html, format_number

if TYPE_CHECKING:
    from openwfm.app.result import PlannedSimulation

__all__ = ["simulation_sections"]


def _figure(iv: pd.DataFrame) -> str:
    import plotly.graph_objects as go


    fig = go.Figure()
    queues = list(dict.fromkeys(iv["queue"]))
    for i, q in enumerate(queues):
        d = iv[iv["queue"] == q]
        x = d["interval_start"]
        vis = True if i == 0 else "legendonly"
        fig.add_trace(go.Scatter(x=x, y=d["service_level_hi"], line={"width": 0},
                                 showlegend=False, legendgroup=q, visible=vis,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=d["service_level_lo"], line={"width": 0},
                                 fill="tonexty", fillcolor="rgba(31,119,180,0.2)",
                                 showlegend=False, legendgroup=q, visible=vis,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=d["service_level"], name=f"{q} simulated SL",
                                 legendgroup=q, visible=vis))
        fig.add_trace(go.Scatter(x=x, y=d["sl_target"], name=f"{q} target",
                                 line={"dash": "dash", "color": "black"}, legendgroup=q,
                                 visible=vis))
        bad = d[(d["offered"] > 0) & (d["service_level"] < d["sl_target"])]
        fig.add_trace(go.Scatter(x=bad["interval_start"], y=bad["service_level"],
                                 mode="markers", marker={"color": "red", "size": 5},
                                 name=f"{q} below target", legendgroup=q, visible=vis))
    fig.update_layout(title="Simulated service level per interval (95% band) vs target; "
                            "click a queue in the legend to show it",
                      yaxis={"range": [0, 1.02], "title": "service level"}, height=480)
    return figure_html(fig)


def _heatmap(iv: pd.DataFrame) -> str:
    """Simulated SL minus target per day and time of day (UTC), one queue at a time."""
    import plotly.graph_objects as go


    fig = go.Figure()
    queues = list(dict.fromkeys(iv["queue"]))
    for i, q in enumerate(queues):
        d = iv[iv["queue"] == q]
        gap = (d["service_level"] - d["sl_target"]).where(d["offered"] > 0)
        grid = pd.DataFrame({"day": d["interval_start"].dt.strftime("%a %d %b"),
                             "tod": d["interval_start"].dt.strftime("%H:%M"), "gap": gap})
        z = grid.pivot_table(index="day", columns="tod", values="gap", sort=False,
                             dropna=False)
        fig.add_trace(go.Heatmap(z=z.to_numpy(), x=list(z.columns), y=list(z.index),
                                 zmin=-0.3, zmax=0.3, colorscale="RdYlGn", visible=i == 0,
                                 colorbar={"title": "SL - target"}, name=q,
                                 hovertemplate="%{y} %{x} UTC: %{z:+.3f}<extra></extra>"))
    buttons = [{"label": q, "method": "update",
                "args": [{"visible": [j == i for j in range(len(queues))]},
                         {"title": f"{q}: simulated service level minus target (red: below)"}]}
               for i, q in enumerate(queues)]
    fig.update_layout(updatemenus=[{"buttons": buttons, "x": 1.0, "y": 1.18}],
                      title=f"{queues[0]}: simulated service level minus target (red: below)"
                      if queues else "", height=360, yaxis={"autorange": "reversed"})
    return figure_html(fig)


def sl_status(service_level: pd.Series, service_level_hi: pd.Series,
              sl_target: pd.Series) -> pd.Series:
    """How a row is coloured: ``bad`` when the whole confidence interval is below the target,
    ``warn`` when the mean is below it but the interval reaches it, ``good`` when the mean
    meets it. A service level of 0 (or any mean below target) is never ``good``.

    Examples
    --------
    >>> sl_status(pd.Series([0.0, 0.7, 0.85]), pd.Series([0.0, 0.9, 0.9]),
    ...           pd.Series([0.8, 0.8, 0.8])).tolist()
    ['bad', 'warn', 'good']
    """
    below = service_level.to_numpy() < sl_target.to_numpy()
    sure = service_level_hi.fillna(service_level).to_numpy() < sl_target.to_numpy()
    return pd.Series(np.where(below, np.where(sure, "bad", "warn"), "good"),
                     index=service_level.index)


def _rows_html(df: pd.DataFrame, cols: list[str], status: pd.Series) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    for (_, r), b in zip(df.iterrows(), status, strict=True):
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, float | np.floating | int | np.integer) and not isinstance(v, bool):
                cells.append(f"<td>{format_number(v)}</td>")
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        rows.append(f"<tr class='{b}'>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def simulation_sections(sim: PlannedSimulation) -> list[Section]:
    """Report sections: per-queue summary, the interval chart, the failing intervals."""
    iv, qk = sim.intervals, sim.queues
    intro = (f"<p>Discrete-event simulation of {html.escape(sim.source)}: "
             f"{sim.replications} replications (seed {sim.seed}), {len(sim.result.log):,} "
             "contacts. Service level = "
             "answered within the queue's threshold ÷ offered (abandons count as failures); "
             "bands are 95% confidence intervals across replications. Red rows / markers: "
             "simulated service level below the target (rows: the whole 95% interval below "
             "it); amber rows: below the target, but the interval reaches it.</p>")
    qcols = ["queue", "sl_target", "offered", "service_level", "service_level_lo",
             "service_level_hi", "asa_s", "p_abandon", "occupancy"]
    act = iv[iv["offered"] > 0]
    counts = act.assign(b=act["service_level"] < act["sl_target"]).groupby("queue")["b"]
    q = qk.assign(intervals_below=qk["queue"].map(counts.sum()).fillna(0).astype(int),
                  intervals=qk["queue"].map(counts.size()).fillna(0).astype(int))
    summary = _rows_html(q, [*qcols, "intervals_below", "intervals"],
                         sl_status(q["service_level"], q["service_level_hi"], q["sl_target"]))
    worst = act[act["service_level"] < act["sl_target"]].copy()
    worst["gap"] = worst["sl_target"] - worst["service_level"]
    worst = worst.sort_values("gap", ascending=False).head(60)
    worst["interval_start"] = worst["interval_start"].dt.strftime("%Y-%m-%d %H:%M UTC")
    icols = ["interval_start", "queue", "sl_target", "offered", "service_level",
             "service_level_lo", "service_level_hi", "asa_s", "p_abandon", "occupancy"]
    failing = ("<p>No interval below target.</p>" if worst.empty else
               "<p>The intervals furthest below target (at most 60; all in "
               "simulation_intervals.csv):</p>"
               + _rows_html(worst, icols, sl_status(worst["service_level"],
                                                    worst["service_level_hi"],
                                                    worst["sl_target"])))
    return [
        Section("Simulation: does the plan hold?", intro + summary, stage="simulate"),
        Section("Simulation: service level per interval", _figure(iv) + _heatmap(iv),
                stage="simulate"),
        Section("Simulation: where the plan fails", failing, stage="simulate"),
    ]
