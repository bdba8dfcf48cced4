"""The forecast stage of the planning run, on a slice of the demo contact center."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from openwfm.app.stages import forecast_stage, forecast_summary, plan_intervals
from openwfm.demo import demo_actuals, demo_history, demo_scenario
from openwfm.report import figure_specs
from openwfm.report.forecast import forecast_sections


@pytest.fixture(scope="module")
def ctx() -> SimpleNamespace:
    full = demo_scenario()
    keep = ("ride-en-voice", "bank-ma-voice", "insure-fr-voice")
    sc = dataclasses.replace(full, queues=tuple(q for q in full.queues if q.id in keep))
    history = demo_history(full)
    result = forecast_stage(sc, history)
    shown = history[history["queue"].isin(keep)]
    return SimpleNamespace(scenario=sc, forecast=result.frame, result=result,
                           sections=forecast_sections(shown, result),
                           summary=forecast_summary(result, shown))


def test_forecast_covers_every_plan_interval_and_queue(ctx) -> None:
    f = ctx.forecast
    idx = plan_intervals(ctx.scenario)
    assert len(f) == len(idx) * len(ctx.scenario.queues)
    for q in ctx.scenario.queues:
        assert (f.loc[f["queue"] == q.id, "interval_start"].to_numpy() == idx.to_numpy()).all()
    cols = ["volume", "volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95", "aht_s"]
    assert not f[cols].isna().any().any()
    assert (f["volume_lo_95"] <= f["volume_lo_80"]).all()
    assert (f["volume_lo_80"] <= f["volume"]).all() and (f["volume"] <= f["volume_hi_80"]).all()
    assert (f["volume_hi_80"] <= f["volume_hi_95"]).all()


def test_forecast_is_close_to_what_happened(ctx) -> None:
    a = demo_actuals(demo_scenario())
    m = ctx.forecast.merge(a[["interval_start", "queue", "volume"]],
                           on=["interval_start", "queue"], suffixes=("", "_actual"))
    for _q, g in m.groupby("queue"):
        assert g["volume"].sum() == pytest.approx(g["volume_actual"].sum(), rel=0.1)
        wape = np.abs(g["volume"] - g["volume_actual"]).sum() / g["volume_actual"].sum()
        assert wape < 0.4
    open_ = m[(m["volume"] > 0) | (m["volume_actual"] > 0)]
    assert 0.7 <= open_["volume_actual"].between(open_["volume_lo_80"],
                                                 open_["volume_hi_80"]).mean() <= 0.9


def test_report_sections_and_summary(ctx) -> None:
    titles = [s.title for s in ctx.sections]
    assert any("prediction bands" in t for t in titles)
    assert any("backtest" in t for t in titles)
    body = "".join(s.body_html for s in ctx.sections)
    assert "WAPE" in body and "mean_4w" in body
    (fig,) = figure_specs(body)  # the chart: history + 95/80 % bands + forecast + start
    assert len(fig["data"]) == 5 * len(ctx.scenario.queues)
    assert [w for st, w, _ in ctx.summary if st == "forecast"]
