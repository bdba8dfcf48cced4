"""Forecast methods on synthetic series whose right answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openwfm.forecast.models import (
    AHT_SHRINK,
    Method,
    aht_profile,
    closed_mask,
    daily_profile,
    historical_average,
    mstl,
    predict,
    seasonal_naive,
)

SLOTS = 48
WEEKDAY = np.array([1.0, 0.95, 0.9, 0.92, 0.85, 0.5, 0.0])


def _shape(slots: int = SLOTS) -> np.ndarray:
    tod = (np.arange(slots) + 0.5) / slots
    s = np.exp(-((tod - 0.45) / 0.12) ** 2) + 0.6 * np.exp(-((tod - 0.7) / 0.1) ** 2)
    return np.where((tod > 8 / 24) & (tod < 20 / 24), s, 0.0)


def _deterministic(days: int, level: float = 1000.0, first_weekday: int = 0):
    wd = (np.arange(days) + first_weekday) % 7
    shape = _shape()
    y = level * WEEKDAY[wd, None] * shape[None, :] / shape.sum()
    return y, wd


def test_historical_average_equals_groupby_mean() -> None:
    rng = np.random.default_rng(3)
    y = rng.poisson(20, size=(35, SLOTS)).astype(float)
    y[rng.random(y.shape) < 0.1] = np.nan  # gaps
    wd = (np.arange(35) + 2) % 7
    got = historical_average(y, wd, np.arange(7))
    frame = pd.DataFrame(y).assign(wd=wd).groupby("wd").mean()
    np.testing.assert_allclose(got, frame.loc[list(range(7))].to_numpy(), rtol=1e-12)


def test_seasonal_naive_repeats_last_week() -> None:
    rng = np.random.default_rng(4)
    y = rng.poisson(20, size=(21, SLOTS)).astype(float)
    wd = np.arange(21) % 7
    np.testing.assert_array_equal(seasonal_naive(y, wd, wd[:7]), y[14:21])


def test_seasonal_naive_skips_a_missing_day() -> None:
    y = np.arange(21 * 2, dtype=float).reshape(21, 2)
    y[14] = np.nan  # last Monday unknown: use the Monday before
    wd = np.arange(21) % 7
    np.testing.assert_array_equal(seasonal_naive(y, wd, np.array([0])), y[[7]])


def test_daily_profile_reproduces_a_noise_free_multiplicative_series() -> None:
    y, wd = _deterministic(56)
    got = daily_profile(y, wd, np.arange(7))
    np.testing.assert_allclose(got, y[:7], rtol=1e-9, atol=1e-9)


def test_daily_profile_ignores_gaps() -> None:
    y, wd = _deterministic(56)
    y[[10, 30, 50]] = np.nan  # missing days
    y[40, 20:25] = np.nan  # missing intervals
    np.testing.assert_allclose(daily_profile(y, wd, np.arange(7)), _deterministic(7)[0],
                               rtol=1e-9, atol=1e-9)


def test_daily_profile_follows_a_level_shift_faster_than_the_average() -> None:
    y, wd = _deterministic(70)
    y[-14:] *= 1.5
    truth = _deterministic(7)[0] * 1.5
    dp = daily_profile(y, wd, np.arange(7))
    ha = historical_average(y, wd, np.arange(7))
    assert np.abs(dp - truth).sum() < 0.5 * np.abs(ha - truth).sum()


def test_daily_profile_keeps_a_weekday_specific_shape_when_busy() -> None:
    y, wd = _deterministic(56, level=1e6)
    y[wd == 4] = np.roll(y[wd == 4], 4, axis=1)  # Fridays peak two hours later
    got = daily_profile(y, wd, np.array([4]))
    np.testing.assert_allclose(got[0], y[wd == 4][-1], rtol=2e-3, atol=1e-6)


def test_mstl_recovers_a_double_seasonal_pattern() -> None:
    y, wd = _deterministic(42, level=5000.0)
    y = y + 5.0  # MSTL is additive; keep the series away from the clip at zero
    got = mstl(y, wd, np.arange(7))
    assert np.abs(got - y[:7]).sum() / y[:7].sum() < 0.02  # WAPE under 2 %
    np.testing.assert_allclose(got, y[:7], atol=0.02 * y.max())


def test_mstl_needs_more_than_two_weeks() -> None:
    y, wd = _deterministic(14)
    assert mstl(y, wd, np.arange(7)) is None


@pytest.mark.parametrize("method", list(Method))
def test_closed_intervals_are_exactly_zero_for_every_method(method: Method) -> None:
    rng = np.random.default_rng(5)
    y, wd = _deterministic(42, level=800.0)
    y = rng.poisson(y).astype(float)
    closed = closed_mask(y, wd)
    assert closed[6].all()  # Sunday closed all day
    assert closed[0, :10].all()  # nights closed
    got = predict(method, y, wd, np.arange(7))
    assert got is not None
    assert (got[closed] == 0).all()
    assert (got >= 0).all()
    assert got[~closed].sum() > 0


def test_aht_profile_shrinks_quiet_cells_toward_their_hour() -> None:
    # one weekday, one hour of two slots: a busy slot (1000 contacts at 200 s) and a quiet
    # one (3 contacts at 600 s); another hour is empty.
    n = np.array([[1000.0, 3.0, 0.0, 0.0]])
    hs = n * np.array([[200.0, 600.0, 0.0, 0.0]])
    got = aht_profile(hs, n, np.array([0]), np.array([0]), 2)[0]
    k = AHT_SHRINK
    overall = hs.sum() / n.sum()
    hour0 = (hs.sum() + k * overall) / (n.sum() + k)
    assert got[0] == pytest.approx((200_000 + k * hour0) / (1000 + k), rel=1e-12)
    assert got[1] == pytest.approx((1800 + k * hour0) / (3 + k), rel=1e-12)
    assert got[2] == pytest.approx(overall, rel=1e-12)  # empty hour -> overall mean
    assert got[0] < 205 and 200 < got[1] < 300


def test_aht_profile_varies_by_hour() -> None:
    rng = np.random.default_rng(6)
    n = rng.poisson(30, size=(28, 24)).astype(float)
    true = np.where(np.arange(24) < 12, 240.0, 300.0)
    hs = n * true
    got = aht_profile(hs, n, np.arange(28) % 7, np.arange(7), 1)
    # each hour is shrunk toward the overall mean by k / (n_hour + k): well under 0.2 %
    np.testing.assert_allclose(got, np.tile(true, (7, 1)), rtol=2e-3)


def test_mstl_matches_statsforecast_mstl() -> None:
    # the reference: statsforecast's MSTL model (statsmodels' default 5 inner STL passes)
    from statsforecast.models import MSTL, SimpleExponentialSmoothingOptimized

    rng = np.random.default_rng(7)
    y, wd = _deterministic(35, level=3000.0)
    y = rng.poisson(y + 2.0).astype(float)
    ours = mstl(y, wd, wd[:14])
    ref = MSTL(season_length=[SLOTS, 7 * SLOTS],
               trend_forecaster=SimpleExponentialSmoothingOptimized()).forecast(
        y=y[-28:].ravel(), h=14 * SLOTS)["mean"].reshape(14, SLOTS)
    ref = np.clip(ref, 0, None)
    assert np.abs(ours - ref).sum() / ref.sum() < 0.02
    # and statsforecast's MSTL as it ships (trend by AutoETS "ZZN"): measured 0.15 % apart
    ref = np.clip(MSTL(season_length=[SLOTS, 7 * SLOTS]).forecast(
        y=y[-28:].ravel(), h=14 * SLOTS)["mean"].reshape(14, SLOTS), 0, None)
    assert np.abs(ours - ref).sum() / ref.sum() < 0.02


def test_mstl_on_a_15_minute_grid_splits_half_hours_by_history() -> None:
    y30, wd = _deterministic(28, level=4000.0)
    y15 = np.repeat(y30 / 2, 2, axis=1)
    y15[:, 1::2] *= 1.5  # second quarter of each half hour is busier
    y15[:, 0::2] *= 0.5
    got = mstl(y15, wd, wd[:7])
    assert got.shape == (7, 2 * SLOTS)
    open_ = y15[:7] > 1
    np.testing.assert_allclose(got[:, 1::2][open_[:, 1::2]] / got[:, 0::2][open_[:, 0::2]], 3.0,
                               rtol=1e-9)
    assert np.abs(got - y15[:7]).sum() / y15[:7].sum() < 0.02


def test_a_sparse_open_interval_is_not_called_closed() -> None:
    # 3 weeks, open 08:00-18:00 every day, nights closed; a sparse queue (0.3 contacts per
    # half hour: most cells see no contact in 3 weeks) and a busy one (30 per half hour)
    rng = np.random.default_rng(17)
    open_slots = np.zeros(48, dtype=bool)
    open_slots[16:36] = True
    wd = np.arange(21) % 7
    for rate in (0.3, 30.0):
        y = rng.poisson(np.where(open_slots, rate, 0.0), size=(21, 48)).astype(float)
        closed = closed_mask(y, wd)
        assert closed[:, :14].all() and closed[:, 38:].all()  # nights (2 h from opening)
        assert not closed[:, 17:35].any()  # open hours (inner) are open, however quiet
        if rate > 1:
            assert (closed == ~open_slots).all()  # busy: the opening edges are exact
