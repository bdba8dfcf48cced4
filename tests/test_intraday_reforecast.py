"""The intraday reforecast: the credibility formula by hand, the Poisson-gamma special case,
priors estimated from history, bands, the rest-of-day requirement through staff_frame, and a
slice of the real bank log."""

from __future__ import annotations

from datetime import date, time

import numpy as np
import pandas as pd
import pytest

from conftest import BANK_LOG
from openwfm.intraday.accuracy import rest_of_day_accuracy
from openwfm.intraday.reforecast import (
    FALLBACK_LEVEL_VARIANCE,
    level_prior_contacts,
    reforecast_day,
    rest_requirement,
)
from openwfm.io.calllog import aggregate_intervals, read_call_log

T = pd.date_range("2026-01-05", periods=24, freq="h", tz="UTC")
NOON = pd.Timestamp("2026-01-05 12:00", tz="UTC")


def forecast(volume: float = 10.0, aht_s: float = 300.0) -> pd.DataFrame:
    return pd.DataFrame({"interval_start": T, "queue": "q", "volume": volume,
                         "volume_lo_80": volume * 0.8, "volume_hi_80": volume * 1.2,
                         "volume_lo_95": volume * 0.6, "volume_hi_95": volume * 1.4,
                         "aht_s": aht_s})


def priors(c: float, v: float, ca: float = np.nan, va: float = np.nan) -> pd.DataFrame:
    return pd.DataFrame({"queue": ["q"], "level_var": [c], "part_var": [v],
                         "aht_level_var": [ca], "aht_part_var": [va]})


def test_credibility_by_hand() -> None:
    # F = 120 forecast so far, A = 180 actual: A/F = 1.5. c = 0.02, v = 0.01:
    # Z = 0.02 / (0.02 + 0.01 + 1/120) = 0.02 / 0.038333... = 0.521739...
    actual = forecast()[T.hour < 12].assign(volume=15.0, handled=15.0, aht_s=360.0)
    r = reforecast_day(forecast(), actual, NOON, interval_s=3600,
                       priors=priors(0.02, 0.01, 0.004, 0.0))
    lv = r.levels.iloc[0]
    z = 0.02 / (0.02 + 0.01 + 1 / 120)
    assert lv["credibility"] == pytest.approx(z)
    assert lv["volume_factor"] == pytest.approx(1 + z * 0.5)
    assert r.frame["volume"].tolist() == pytest.approx([10 * (1 + z * 0.5)] * 12)
    assert r.frame["volume_morning"].tolist() == [10.0] * 12
    # AHT: R = 360/300 = 1.2 on H = 180 handled; Z = 0.004 / (0.004 + 1/180)
    za = 0.004 / (0.004 + 1 / 180)
    assert lv["aht_factor"] == pytest.approx(1 + za * 0.2)
    assert r.frame["aht_s"].iloc[0] == pytest.approx(300 * (1 + za * 0.2))
    # bands: scaled by the level, still ordered
    f = r.frame
    assert (f["volume_lo_95"] <= f["volume_lo_80"]).all()
    assert (f["volume_lo_80"] <= f["volume"]).all() and (f["volume"] <= f["volume_hi_80"]).all()
    assert lv["rest_lo_95"] <= lv["rest_lo_80"] <= lv["rest_volume"] <= lv["rest_hi_80"]
    assert lv["rest_hi_80"] <= lv["rest_hi_95"]


def test_without_part_of_day_effect_it_is_the_poisson_gamma_posterior() -> None:
    k = 60.0
    actual = forecast()[T.hour < 12].assign(volume=7.0)
    r = reforecast_day(forecast(), actual, NOON, interval_s=3600, priors=priors(1 / k, 0.0))
    big_a, big_f = 84.0, 120.0
    assert r.levels["volume_factor"].iloc[0] == pytest.approx((k + big_a) / (k + big_f))


def test_nothing_forecast_so_far_or_no_level_variance_keeps_the_forecast() -> None:
    f = forecast()
    f.loc[T.hour < 12, "volume"] = 0.0
    actual = f[T.hour < 12].assign(volume=3.0)
    r = reforecast_day(f, actual, NOON, interval_s=3600, priors=priors(0.05, 0.0))
    assert r.levels["volume_factor"].iloc[0] == 1.0
    actual = forecast()[T.hour < 12].assign(volume=30.0)
    r = reforecast_day(forecast(), actual, NOON, interval_s=3600, priors=priors(0.0, 0.0))
    assert r.levels["volume_factor"].iloc[0] == 1.0


def test_an_interval_not_complete_at_now_is_not_used() -> None:
    actual = forecast()[T.hour <= 12].assign(volume=20.0)  # 12:00-13:00 not yet complete
    r = reforecast_day(forecast(), actual, NOON, interval_s=3600, priors=priors(1.0, 0.0))
    assert r.levels["actual_so_far"].iloc[0] == 240.0
    assert r.frame["interval_start"].min() == NOON


def test_priors_from_history_see_a_level_that_carries_over() -> None:
    # 5 weeks, every day a level drawn once and shared by morning and afternoon: the
    # covariance estimate of the shared variance is near the truth (0.04), the morning-only
    # part near 0
    rng = np.random.default_rng(7)
    days = pd.date_range("2026-01-05", periods=35, freq="D", tz="UTC")
    t = pd.date_range("2026-01-05", periods=35 * 24, freq="h", tz="UTC")
    level = np.repeat(rng.gamma(25.0, 1 / 25.0, size=len(days)), 24)
    h = pd.DataFrame({"interval_start": t, "queue": "q",
                      "volume": rng.poisson(200.0 * level).astype(float)})
    p = level_prior_contacts(h, split=time(12)).iloc[0]
    assert 0.015 < p["level_var"] < 0.08
    assert p["part_var"] < 0.02
    # too little history: the stated fallback
    p = level_prior_contacts(h[h["interval_start"] < t[48]], split=time(12)).iloc[0]
    assert (p["level_var"], p["part_var"]) == (FALLBACK_LEVEL_VARIANCE, 0.0)


def test_rest_of_day_requirement_goes_through_staff_frame() -> None:
    actual = forecast(volume=100.0)[T.hour < 12].assign(volume=150.0)
    r = reforecast_day(forecast(volume=100.0), actual, NOON, interval_s=3600,
                       priors=priors(1.0, 0.0))
    req = rest_requirement(r, sl_target=0.8, answer_within_s=20, interval_s=3600)
    assert len(req) == 12
    assert (req["agents"] >= req["agents_morning"]).all()
    assert (req["agents"] > req["agents_morning"]).any()
    assert (req["service_level"] >= 0.8).all()


@pytest.mark.slow
def test_on_a_slice_of_the_bank_log() -> None:
    # three weekdays of the last week (history: the days before each); the reforecast is
    # scored against the morning forecast exactly as scripts/intraday_accuracy.py does
    assert BANK_LOG.exists(), f"shared data missing: {BANK_LOG}"
    tz = "Asia/Jerusalem"
    table = aggregate_intervals(read_call_log(BANK_LOG, tz=tz), interval_s=1800, tz=tz)
    got = [rest_of_day_accuracy(table, date(1999, 2, d), tz=tz, market="IL")[0]
           for d in (23, 24, 25)]
    for a in got:
        assert a.actual_so_far > 0 and a.actual_rest > 0
        assert 0 < a.wape_morning < 1 and 0 < a.wape_reforecast < 1
    # measured (docs/intraday-accuracy.md): lower on 23, 24 and 25 February
    assert sum(a.wape_reforecast < a.wape_morning for a in got) >= 2


def test_recency_weighted_level_equals_the_formula_by_hand() -> None:
    from openwfm.intraday.reforecast import LevelWeighting, level_factor

    # two hours of forecast 10 an hour; 12 arrived in the first hour, 20 in the last
    f, a, age = np.array([10.0, 10.0]), np.array([12.0, 20.0]), np.array([1.0, 0.0])
    c, v, h = 0.04, 0.01, 1.0
    w = np.array([0.5, 1.0])
    big_f, big_a, e = 15.0, 26.0, 0.25 * 10 + 10  # sum w f, sum w a, sum w^2 f
    z = c / (c + v + e / big_f**2)
    assert level_factor(f, a, age, c, v, h) == pytest.approx((1 + z * (big_a / big_f - 1), z))
    assert np.allclose(w * f, [5.0, 10.0])
    # equal weights: the whole-morning credibility formula
    assert level_factor(f, a, age, c, v, None) == pytest.approx(
        (1 + c / (c + v + 1 / 20) * (32 / 20 - 1), c / (c + v + 1 / 20)))
    # reforecast_day applies it: the last hour ran at 2x, the half-life follows it
    actual = forecast()[T.hour < 12].assign(volume=np.where(T[T.hour < 12].hour == 11,
                                                             20.0, 10.0))
    flat = reforecast_day(forecast(), actual, NOON, interval_s=3600, priors=priors(1.0, 0.0))
    quick = reforecast_day(forecast(), actual, NOON, interval_s=3600, priors=priors(1.0, 0.0),
                           weighting=LevelWeighting(halflife_h=0.5))
    lf, lq = flat.levels.iloc[0], quick.levels.iloc[0]
    assert lq["volume_factor"] > lf["volume_factor"] > 1.0
    assert lq["halflife_h"] == 0.5 and pd.isna(lf["halflife_h"])


def test_the_half_life_is_chosen_from_past_days_only() -> None:
    from openwfm.intraday.reforecast import choose_level_weighting

    rng = np.random.default_rng(5)
    t = pd.date_range("2026-01-05", periods=21 * 24, freq="h", tz="UTC")
    # a level that holds all day: equal weights are best (the earliest candidate)
    steady = np.repeat(rng.gamma(50.0, 1 / 50.0, size=21), 24)
    h = pd.DataFrame({"interval_start": t, "queue": "q",
                      "volume": rng.poisson(100.0 * steady).astype(float)})
    got = choose_level_weighting(h, split=time(12), interval_s=3600)
    assert got.halflife_h is None and got.days == 21
    assert [x[0] for x in got.errors] == [None, 4.0, 2.0, 1.0]
    # a level that changes at 10:00 and then holds: recent hours win
    late = np.where(t.hour >= 10, np.repeat(rng.gamma(4.0, 1 / 4.0, size=21), 24), 1.0)
    h2 = h.assign(volume=rng.poisson(100.0 * late).astype(float))
    assert choose_level_weighting(h2, split=time(12), interval_s=3600).halflife_h == 1.0
    # too little history: equal weights
    assert choose_level_weighting(h[h["interval_start"] < t[48]], split=time(12),
                                  interval_s=3600).halflife_h is None
