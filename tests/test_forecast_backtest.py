"""Rolling-origin backtest: metrics, the selection rule, band ordering and coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openwfm.forecast import DEFAULT_METHODS, BacktestConfig, Method, forecast_queues
from openwfm.forecast.backtest import (
    BAND_BUCKETS,
    BENCHMARK,
    Backtest,
    band_quantiles,
    bands,
    rolling_origins,
    run_backtest,
    select_method,
)
from openwfm.forecast.synthetic import synthetic_history


def test_metrics_match_a_hand_computation() -> None:
    actual = np.array([[[10.0, 0.0], [20.0, np.nan]]])  # 1 origin, 2 days, 2 slots
    fc = np.array([[[12.0, 1.0], [15.0, 3.0]]])
    bt = Backtest(origins=(14,), actual=actual, forecasts={Method.MSTL: fc},
                  scale=np.array([4.0]), steps=np.array([[1, 2]]), week=5)
    acc = bt.accuracy().set_index("horizon")
    # all: |e| = 2, 1, 5 over actual 30; bias (2 + 1 - 5) / 30; MAE 8/3 over scale 4
    assert acc.loc["all", "wape"] == pytest.approx(8 / 30)
    assert acc.loc["all", "bias"] == pytest.approx(-2 / 30)
    assert acc.loc["all", "mase"] == pytest.approx((8 / 3) / 4)
    assert acc.loc["all", "n"] == 3
    assert acc.loc["day 1", "wape"] == pytest.approx(3 / 10)
    assert acc.loc["days 2-5", "wape"] == pytest.approx(5 / 20)
    assert acc.loc["week 1", "wape"] == pytest.approx(8 / 30)
    assert "week 2" not in acc.index


def test_rolling_origins_respect_the_minimum_training() -> None:
    cfg = BacktestConfig(horizon_days=7, n_origins=5, step_days=7, min_train_days=14)
    every_day = np.ones(42, dtype=bool)
    assert rolling_origins(every_day, cfg) == [14, 21, 28, 35]
    assert rolling_origins(every_day[:20], cfg) == []


def test_origins_and_horizons_count_open_days_only() -> None:
    # a five-day center (closed Saturday and Sunday) with a holiday on day 59 (a Friday)
    n = 10 * 7
    wd = np.arange(n) % 7
    open_days = wd < 5
    open_days[59] = False
    y = np.where(open_days[:, None], 10.0, 0.0) * np.ones((1, 4))
    cfg = BacktestConfig(horizon_days=10, n_origins=12, step_days=1, min_train_days=14)
    origins = rolling_origins(open_days, cfg)
    assert len(origins) == 12 and all(open_days[o] for o in origins)
    # one open day apart: the 12 latest open days that leave a week (5 open days) ahead
    idx = np.flatnonzero(open_days)
    assert origins == idx[len(idx) - 5 - 11:len(idx) - 4].tolist()
    bt = run_backtest(y, wd, [Method.MEAN_4W], cfg, open_days=open_days)
    assert bt.week == 5
    for i, o in enumerate(bt.origins):
        span = bt.steps[i] > 0
        days = np.arange(o, o + span.sum())
        # ten open days at most (fewer at the end of history), closed days not counted
        on_open = bt.steps[i][span][open_days[days]]
        assert on_open.tolist() == list(range(1, min(10, open_days[o:].sum()) + 1))
    # a closed day does not consume the horizon: a span over the holiday still holds ten
    # open days, ending on an open day
    spans = [o + np.flatnonzero(bt.steps[i] > 0) for i, o in enumerate(bt.origins)]
    over = [d for d in spans if 59 in d and d[-1] + 3 < n]
    assert over
    for days in over:
        assert open_days[days].sum() == 10 and open_days[days[-1]]


def test_backtest_never_peeks_at_the_future() -> None:
    y = np.arange(28 * 2, dtype=float).reshape(28, 2)
    wd = np.arange(28) % 7
    bt = run_backtest(y, wd, [Method.SEASONAL_NAIVE], BacktestConfig(7, 2, 7, 14))
    # seasonal naive from origin o repeats days o-7 .. o-1
    for i, o in enumerate(bt.origins):
        np.testing.assert_array_equal(bt.forecasts[Method.SEASONAL_NAIVE][i], y[o - 7:o])


_wapes = st.floats(0.0, 5.0, allow_nan=False)


@given(st.dictionaries(st.sampled_from([m.value for m in Method]), _wapes, min_size=1))
def test_selection_is_never_worse_than_the_4_week_mean(wapes: dict) -> None:
    wapes.setdefault(BENCHMARK.value, 1.0)
    acc = pd.DataFrame({"method": list(wapes), "horizon": "week 1",
                        "wape": list(wapes.values())})
    # (no rmse or halves here: the WAPE-only argmin; the other conditions are tested below)
    chosen = select_method(acc)
    assert wapes[chosen.value] <= wapes[BENCHMARK.value]
    assert wapes[chosen.value] <= min(wapes.values()) + 1e-12  # near-ties go to the benchmark


def test_a_win_on_one_half_of_the_origins_only_is_not_taken() -> None:
    acc = pd.DataFrame({"method": ["mean_4w", "calendar_ew", "calendar_4w"],
                        "horizon": "week 1", "wape": [0.30, 0.20, 0.25],
                        "wape_early": [0.30, 0.10, 0.24], "wape_late": [0.30, 0.31, 0.26]})
    assert select_method(acc) == Method.CALENDAR_4W  # calendar_ew lost the newer half


def test_selection_on_real_backtests_is_never_worse_than_the_4_week_mean() -> None:
    h = synthetic_history(4, 6 * 7, tz="Asia/Manila", trend=0.3, seed=11)
    r = forecast_queues(h, horizon="7d", tz="Asia/Manila")
    week = r.accuracy[r.accuracy["horizon"] == "week 1"].set_index(["queue", "method"])
    for q, m in r.chosen.items():
        assert week.loc[(q, m.value), "wape"] <= week.loc[(q, "mean_4w"), "wape"]
        assert week.loc[(q, m.value), "chosen"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 500.0, allow_nan=False), min_size=1, max_size=20),
    st.lists(st.floats(-4.0, 4.0, allow_nan=False), min_size=4, max_size=4),
)
def test_bands_are_ordered(forecast: list, q: list) -> None:
    f = np.array(forecast)[None, :]
    quant = np.tile(np.sort(q), (BAND_BUCKETS, 1))
    lo95, lo80, hi80, hi95 = bands(f, quant)
    assert (lo95 >= 0).all()
    assert (lo95 <= lo80).all() and (lo80 <= f + 1e-12).all()
    assert (f <= hi80 + 1e-12).all() and (hi80 <= hi95).all()


def test_bands_cover_poisson_arrivals_at_the_nominal_rate() -> None:
    # a forecast equal to the true rate: the bands must cover about 80 % and 95 %
    rng = np.random.default_rng(12)
    rate = rng.uniform(0.5, 80, size=(30, 7, 48))
    q = band_quantiles(rng.poisson(rate).astype(float), rate)
    f = rng.uniform(0.5, 80, size=(200, 48))
    lo95, lo80, hi80, hi95 = bands(f, q)
    y = rng.poisson(f)
    cover80 = ((y >= lo80) & (y <= hi80)).mean()
    cover95 = ((y >= lo95) & (y <= hi95)).mean()
    # counts are integers: equality at a bound counts as covered, so coverage is >= nominal
    assert 0.80 <= cover80 <= 0.88
    assert 0.95 <= cover95 <= 0.985


def test_forecast_bands_on_synthetic_history_cover_held_out_weeks() -> None:
    h = synthetic_history(3, 10 * 7, tz="Europe/Paris", start="2026-01-05", seed=13,
                          with_rate=True)
    cut = h["interval_start"].min() + pd.Timedelta(days=8 * 7)
    r = forecast_queues(h[h["interval_start"] < cut].drop(columns="rate"), start=cut,
                        end=cut + pd.Timedelta(days=14), tz="Europe/Paris")
    m = r.frame.merge(h, on=["interval_start", "queue"], suffixes=("", "_act"))
    m = m[m["volume"] > 0]
    cover80 = m["volume_act"].between(m["volume_lo_80"], m["volume_hi_80"]).mean()
    cover95 = m["volume_act"].between(m["volume_lo_95"], m["volume_hi_95"]).mean()
    assert 0.75 <= cover80 <= 0.90
    assert 0.91 <= cover95 <= 0.99


def test_too_short_for_a_backtest_falls_back_to_the_4_week_mean() -> None:
    h = synthetic_history(1, 3, seed=14)  # Monday .. Wednesday only
    r = forecast_queues(h, horizon="1d")
    assert r.chosen == {"q000": Method.MEAN_4W}
    assert r.accuracy.empty
    # Thursday was never seen: it borrows the mean of the three days seen
    assert r.frame["volume"].sum() == pytest.approx(h["volume"].sum() / 3)
    assert (r.frame["volume_hi_95"] >= r.frame["volume"]).all()


def test_overdispersion_recovers_a_known_gamma_mixing() -> None:
    from openwfm.forecast.backtest import overdispersion

    rng = np.random.default_rng(15)
    f = rng.uniform(5, 100, size=(40, 7, 48))
    y = rng.poisson(f * rng.gamma(10.0, 0.1, size=f.shape)).astype(float)  # Var = f + f^2/10
    assert overdispersion(y, f) == pytest.approx(0.1, rel=0.1)
    assert overdispersion(rng.poisson(f).astype(float), f) < 0.005  # Poisson: phi ~ 0
    # with phi, the bands keep their coverage at every level
    q = band_quantiles(y, f, 0.1)
    fut = rng.uniform(5, 100, size=(300, 48))
    obs = rng.poisson(fut * rng.gamma(10.0, 0.1, size=fut.shape))
    lo95, lo80, hi80, hi95 = bands(fut, q, phi=0.1)
    for sel in (fut < 30, fut > 70):
        assert 0.78 <= ((obs >= lo80) & (obs <= hi80))[sel].mean() <= 0.85
        assert 0.94 <= ((obs >= lo95) & (obs <= hi95))[sel].mean() <= 0.97


def test_every_candidate_is_scored_on_the_same_origins() -> None:
    # 28 days, default-like settings: origins after 14 and 21 days; MSTL needs 15 days, so
    # the backtest keeps the origin where all four candidates run instead of dropping MSTL
    h = synthetic_history(1, 28, seed=16)
    r = forecast_queues(h, horizon="7d", methods=list(Method),
                        backtest=BacktestConfig(7, 3, 7, 14))
    overall = r.accuracy[r.accuracy["horizon"] == "all"]
    assert set(overall["method"]) == {m.value for m in Method}
    assert (overall["n"] == overall["n"].iloc[0]).all()  # same intervals for every method
    assert overall["n"].iloc[0] == 7 * 48  # one origin (21 days), 7 days of 30 minutes


@settings(max_examples=40, deadline=None)
@given(st.integers(15, 120), st.integers(0, 2**32 - 1), st.floats(0.0, 0.3),
       st.floats(0.0, 0.2), st.floats(0.05, 30.0))
def test_automatic_choice_is_never_worse_than_the_4_week_mean_on_any_history(
        n_days: int, seed: int, gap_share: float, day_gap_share: float, level: float) -> None:
    # random Poisson histories (sparse to busy, with missing intervals and missing days,
    # calendar effects that may or may not be real): the chosen method's week-ahead
    # backtest WAPE is at most the 4-week mean's on the very same intervals (the issue
    # asks for at most 2 % worse; the selection rule gives 0 %)
    rng = np.random.default_rng(seed)
    shape = np.concatenate([np.zeros(4), rng.gamma(2.0, 1.0, 8)])
    x = (rng.random((n_days, 3)) < 0.05).astype(float)
    rate = level * shape[None, :] * rng.gamma(5.0, 0.2, size=(n_days, 1)) * np.exp(
        x @ rng.normal(0, 0.3, 3))[:, None]
    y = rng.poisson(rate).astype(float)
    y[rng.random(y.shape) < gap_share] = np.nan
    y[rng.random(n_days) < day_gap_share] = np.nan
    wd = np.arange(n_days) % 7
    bt = run_backtest(y, wd, list(DEFAULT_METHODS), BacktestConfig(), features=x)
    acc = bt.accuracy()
    week = acc[acc["horizon"] == "week 1"].set_index("method")
    if week.empty or week["wape"].isna().all():
        return  # no contact in any held-out interval: nothing to compare
    chosen = select_method(acc).value
    assert week.loc[chosen, "wape"] <= week.loc[BENCHMARK.value, "wape"] * (1 + 1e-12)
    overall = acc[acc["horizon"] == "all"].set_index("method")
    assert overall.loc[chosen, "rmse"] <= overall.loc[BENCHMARK.value, "rmse"] * (1 + 1e-12)


def test_a_sparse_queue_does_not_get_last_weeks_zeros() -> None:
    # 0.2 contacts per open half hour: seasonal naive repeats last week's zeros and ones,
    # which wins WAPE (the median is 0) but not RMSE; the choice keeps the mean rate
    rng = np.random.default_rng(21)  # a draw where seasonal naive wins WAPE clearly
    y = rng.poisson(np.tile(np.r_[np.zeros(16), np.full(24, 0.2), np.zeros(8)], (35, 1)))
    bt = run_backtest(y.astype(float), np.arange(35) % 7, list(Method),
                      BacktestConfig(7, 7, 1, 15))
    week = bt.accuracy().query("horizon == 'week 1'").set_index("method")
    overall = bt.accuracy().query("horizon == 'all'").set_index("method")
    assert week.loc["seasonal_naive", "wape"] < week.loc["mean_4w", "wape"]
    assert overall.loc["seasonal_naive", "rmse"] > overall.loc["mean_4w", "rmse"]
    assert select_method(bt.accuracy()) != Method.SEASONAL_NAIVE
