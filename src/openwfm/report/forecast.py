"""Report sections of the forecast: the history of the last weeks with the forecast and its
80/95 % bands per queue, and the backtest table."""

from __future__ import annotations

import html

import pandas as pd

from openwfm.forecast.engine import ForecastResult
from openwfm.report import Section, figure_html, table_html

__all__ = ["backtest_table", "forecast_figure", "forecast_sections"]

#: Weeks of history shown before the forecast in the report.
SHOWN_WEEKS = 3


def forecast_sections(history: pd.DataFrame, result: ForecastResult) -> list[Section]:
    """The forecast chart (history of the scenario's queues + forecast + bands, a queue
    menu) and the rolling-origin backtest table."""
    return [
        Section(
            title="Forecast: history, forecast and prediction bands per queue",
            body_html=(
                "<p>Contacts offered per interval: the last "
                f"{SHOWN_WEEKS} weeks of history and the forecast of the plan period with "
                "its 80 % and 95 % bands (from the chosen method's rolling-origin backtest "
                "errors). Learned in each queue's customer time zone, with its market's "
                "holidays. Pick the queue in the menu.</p>"
                + figure_html(forecast_figure(history, result))),
            stage="forecast"),
        Section(
            title="Forecast: rolling-origin backtest",
            body_html=(
                "<p>Each candidate method forecast the history from several past origins. "
                "WAPE = sum |actual - forecast| / sum actual; MASE = mean absolute error / "
                "in-sample error of the one-week seasonal naive; bias = sum (forecast - "
                "actual) / sum actual; horizons in open days. The benchmark is the 4-week "
                "mean of the same weekday and interval (mean_4w); another method is chosen "
                "only if its week-ahead WAPE is lower on both halves of the origins and its "
                "root mean squared error no worse, so the choice is never worse than the "
                "benchmark on this backtest; Taylor (2008) found such averages hard to beat "
                "beyond 2-3 days ahead.</p>"
                + table_html(backtest_table(result))),
            stage="forecast"),
    ]


def backtest_table(result: ForecastResult) -> pd.DataFrame:
    """One row per queue and method: WAPE per horizon, overall MASE and bias, chosen."""
    acc = result.accuracy
    wide = acc.pivot_table(index=["queue", "method"], columns="horizon", values="wape")
    wide.columns = [f"WAPE {c}" for c in wide.columns]
    order = [c for c in ("WAPE day 1", "WAPE days 2-5", "WAPE week 1", "WAPE week 2",
                         "WAPE all") if c in wide.columns]
    overall = acc[acc["horizon"] == "all"].set_index(["queue", "method"])
    out = wide[order].join(overall[["mase", "bias", "chosen"]]).reset_index()
    out["chosen"] = out["chosen"].map({True: "yes", False: ""})
    return out.rename(columns={"mase": "MASE"})


def forecast_figure(history: pd.DataFrame, result: ForecastResult) -> object:
    """A plotly figure: history + forecast + bands, one queue at a time (menu)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    queues = sorted(result.chosen)
    start = result.frame["interval_start"].min()
    shown = history[history["interval_start"] >= start - pd.Timedelta(weeks=SHOWN_WEEKS)]
    per_queue = 5
    for i, q in enumerate(queues):
        h = shown[shown["queue"] == q]
        f = result.frame[result.frame["queue"] == q]
        visible = i == 0
        x = f["interval_start"]
        fig.add_trace(go.Scatter(x=h["interval_start"], y=h["volume"], name="history",
                                 line={"color": "#555", "width": 1}, visible=visible))
        fig.add_trace(go.Scatter(x=pd.concat([x, x[::-1]]),
                                 y=pd.concat([f["volume_hi_95"], f["volume_lo_95"][::-1]]),
                                 fill="toself", fillcolor="rgba(31,119,180,0.15)",
                                 line={"width": 0}, name="95 % band", visible=visible,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=pd.concat([x, x[::-1]]),
                                 y=pd.concat([f["volume_hi_80"], f["volume_lo_80"][::-1]]),
                                 fill="toself", fillcolor="rgba(31,119,180,0.3)",
                                 line={"width": 0}, name="80 % band", visible=visible,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=f["volume"], name="forecast",
                                 line={"color": "#1f77b4", "width": 1.5}, visible=visible))
        fig.add_trace(go.Scatter(x=[start, start], y=[0, float(h["volume"].max() if len(h)
                                                             else 1.0)],
                                 mode="lines", line={"color": "#d62728", "dash": "dot"},
                                 name="forecast start", visible=visible))
    buttons = []
    for i, q in enumerate(queues):
        vis = [False] * (per_queue * len(queues))
        vis[per_queue * i: per_queue * (i + 1)] = [True] * per_queue
        label = f"{q} ({result.chosen[q].value})"
        buttons.append({"label": html.escape(label), "method": "update",
                        "args": [{"visible": vis}, {"title": f"{q}: {result.chosen[q].value}"}]})
    title = f"{queues[0]}: {result.chosen[queues[0]].value}" if queues else ""
    fig.update_layout(title=title, height=420, margin={"t": 60, "b": 40},
                      updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right",
                                    "y": 1.15, "yanchor": "top"}],
                      yaxis_title="contacts offered per interval", xaxis_title="UTC")
    return fig
