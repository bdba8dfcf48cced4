"""The forecast on the real bank call log (Anonymous Bank, February 1999, per 30 minutes)."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import BANK_LOG
from openwfm.forecast import BacktestConfig, Method, forecast_queues
from openwfm.io.calllog import aggregate_intervals, read_call_log

TZ = "Asia/Jerusalem"


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    assert BANK_LOG.exists(), f"shared data missing: {BANK_LOG}"
    return aggregate_intervals(read_call_log(BANK_LOG, tz=TZ), interval_s=1800, tz=TZ)


def test_the_choice_is_never_worse_than_the_4_week_mean_in_its_backtest(bank) -> None:
    r = forecast_queues(bank, horizon="14d", interval_s=1800, tz=TZ, market="IL")
    week = r.accuracy[r.accuracy["horizon"] == "week 1"].set_index(["queue", "method"])
    for q, m in r.chosen.items():
        assert week.loc[(q, m.value), "wape"] <= week.loc[(q, "mean_4w"), "wape"]
    assert set(week.index.get_level_values("method")) == {
        "mean_4w", "median_4w", "calendar_4w", "calendar_ew", "combined_median"}
    # at least 12 origins (one open day apart here), each scored on its first open day
    n_day1 = r.accuracy.query("horizon == 'day 1' and method == 'mean_4w'")["n"]
    assert (n_day1 >= 12 * 48).all()


def test_out_of_sample_the_choice_beats_the_4_week_mean_on_the_main_queue(bank) -> None:
    # forecasts made from the history before each origin only, scored a week ahead on what
    # happened next (docs/forecast-accuracy.md has all queues and origins: PS 0.93)
    t0 = bank["interval_start"].min().tz_convert(TZ).normalize()
    err = {"chosen": 0.0, "mean": 0.0}
    calls = 0.0
    for day in (16, 18, 20):
        origin = (t0 + pd.Timedelta(days=day)).tz_convert("UTC")
        past = bank[(bank["interval_start"] < origin) & (bank["queue"] == "PS")]
        kw = {"start": origin, "end": origin + pd.Timedelta(days=7), "interval_s": 1800,
              "tz": TZ, "market": "IL"}
        chosen = forecast_queues(past, **kw).frame
        mean = forecast_queues(past, methods=[Method.MEAN_4W], method=Method.MEAN_4W,
                               **kw).frame
        actual = chosen[["interval_start"]].merge(bank[bank["queue"] == "PS"],
                                                  on="interval_start")["volume"].to_numpy()
        err["chosen"] += float(abs(chosen["volume"].to_numpy() - actual).sum())
        err["mean"] += float(abs(mean["volume"].to_numpy() - actual).sum())
        calls += actual.sum()
    assert err["chosen"] / calls < err["mean"] / calls


def test_bands_cover_the_held_out_last_week(bank) -> None:
    end = bank["interval_start"].max() + pd.Timedelta(minutes=30)
    cut = end - pd.Timedelta(days=7)
    cfg = BacktestConfig(horizon_days=7, n_origins=8, step_days=1, min_train_days=7)
    r = forecast_queues(bank[bank["interval_start"] < cut], start=cut, end=end,
                        interval_s=1800, tz=TZ, market="IL", backtest=cfg)
    assert len(r.frame) == 6 * 7 * 48
    f = r.frame
    assert (f["volume_lo_95"] <= f["volume_lo_80"]).all()
    assert (f["volume_lo_80"] <= f["volume"]).all() and (f["volume"] <= f["volume_hi_80"]).all()
    assert (f["volume_hi_80"] <= f["volume_hi_95"]).all()
    m = f.merge(bank[["interval_start", "queue", "volume"]], on=["interval_start", "queue"],
                suffixes=("", "_actual"))
    m = m[(m["volume"] > 0) | (m["volume_actual"] > 0)]
    cover80 = m["volume_actual"].between(m["volume_lo_80"], m["volume_hi_80"]).mean()
    cover95 = m["volume_actual"].between(m["volume_lo_95"], m["volume_hi_95"]).mean()
    # measured 0.859 and 0.950 (docs/forecast-accuracy.md); nominal 0.80 and 0.95. Before
    # sparse quiet intervals stopped being called closed and the choice had to keep the
    # average's RMSE: 0.806 and 0.898.
    assert 0.76 <= cover80 <= 0.90
    assert 0.91 <= cover95 <= 0.99
    # the sparse queues (a few calls a day) are the test of the closed rule: an open
    # interval that merely had no call yet must keep a band (it was 0.63 before)
    pe = m[m["queue"] == "PE"]
    assert pe["volume_actual"].between(pe["volume_lo_95"], pe["volume_hi_95"]).mean() >= 0.9

    # a weekday and local time with no call in it nor within an hour of it (closed: most
    # night hours, Friday afternoon, Saturday day) is forecast as exactly zero, bands included
    def key(df: pd.DataFrame) -> pd.DataFrame:
        t = df["interval_start"].dt.tz_convert(TZ)
        return pd.DataFrame({"queue": df["queue"], "dow": t.dt.dayofweek,
                             "slot": t.dt.hour * 2 + t.dt.minute // 30})

    past = bank[bank["interval_start"] < cut]
    seen = past.groupby(list(key(past).to_dict("series").values()))["volume"].sum()
    k = key(f)
    near = sum(seen.reindex(pd.MultiIndex.from_arrays(
        [k["queue"], k["dow"], (k["slot"] + d).clip(0, 47)])).fillna(0).to_numpy()
        for d in (-2, -1, 0, 1, 2))
    silent = near == 0
    assert silent.sum() > 500
    cols = ["volume", "volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95"]
    assert (f.loc[silent, cols] == 0).all().all()
    hour = f["interval_start"].dt.tz_convert(TZ).dt.hour
    # AHT is forecast, varies by hour of day, and is plausible (mean service 176 s)
    ps = f[(f["queue"] == "PS") & (f["volume"] > 0)]
    assert ps["aht_s"].between(60, 600).all()
    assert ps.groupby(hour[ps.index])["aht_s"].mean().std() > 5
