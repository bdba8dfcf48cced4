"""The daily-total model with calendar effects, the 4-week benchmarks, the profile's
partial pooling, a history that ends mid-day, the bias warning and the choice's stability.

References: the calendar effects are checked against a day-by-day count with `datetime`
(an independent reference); the model against histories whose true effects are known.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd
import pytest

from openwfm.forecast import BacktestConfig, Method, forecast_queues
from openwfm.forecast.calendar import CALENDAR_EFFECTS, day_features
from openwfm.forecast.models import (
    forecast_daily_totals,
    intraday_profile,
    mean_4w,
    median_4w,
)
from openwfm.forecast.synthetic import intraday_shape

SLOTS = 48


def test_4_week_benchmarks_equal_a_pandas_reference() -> None:
    rng = np.random.default_rng(1)
    y = rng.poisson(20, size=(60, SLOTS)).astype(float)
    y[rng.random(y.shape) < 0.15] = np.nan  # gaps: the last 4 *observed* values count
    wd = (np.arange(60) + 3) % 7
    frame = pd.DataFrame(y).assign(wd=wd)
    for w in range(7):
        rows = frame[frame["wd"] == w].drop(columns="wd").tail(8)  # the 8-week lookback
        last4 = rows.apply(lambda c: c.dropna().tail(4))
        np.testing.assert_allclose(mean_4w(y, wd, np.array([w]))[0], last4.mean(), rtol=1e-12)
        np.testing.assert_allclose(median_4w(y, wd, np.array([w]))[0], last4.median(),
                                   rtol=1e-12)


def _reference_features(days: list[date], hol: set[date], open_wd: set[int]) -> np.ndarray:
    """Day-by-day count with datetime: the independent reference of `day_features`."""
    def business(d: date) -> bool:
        return d.weekday() in open_wd and d not in hol

    def shut(d: date) -> bool:
        return d.weekday() in open_wd and d in hol

    out = np.zeros((len(days), len(CALENDAR_EFFECTS)))
    for i, d in enumerate(days):
        if not business(d):
            continue
        month = [date(d.year, d.month, k) for k in range(1, 32)
                 if _valid(d.year, d.month, k) and business(date(d.year, d.month, k))]
        rank, back = month.index(d) + 1, len(month) - month.index(d)
        prev = d - timedelta(days=1)
        while not business(prev) and not shut(prev):  # regular closed days: skip
            prev -= timedelta(days=1)
        after = shut(prev)
        # second business day after a holiday
        p1 = d - timedelta(days=1)
        while not business(p1) and not shut(p1):
            p1 -= timedelta(days=1)
        after2 = False
        if business(p1):
            p2 = p1 - timedelta(days=1)
            while not business(p2) and not shut(p2):
                p2 -= timedelta(days=1)
            after2 = p2 in hol and shut(p2)
        nxt = d + timedelta(days=1)
        while not business(nxt) and not shut(nxt):
            nxt += timedelta(days=1)
        before = shut(nxt)
        out[i] = [rank == 1, rank == 2, rank == 3, back == 2, back == 1, after, before, after2]
    return out


def _valid(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("market,open_wd", [("FR", {0, 1, 2, 3, 4}), ("IL", {0, 1, 2, 3, 4, 6}),
                                            ("US", set(range(7)))])
def test_calendar_effects_match_a_day_by_day_count(market: str, open_wd: set) -> None:
    days = [date(2025, 1, 1) + timedelta(days=k) for k in range(730)]
    hol = set(holidays.country_holidays(market, years=[2024, 2025, 2026, 2027]))
    got = day_features(np.array(days, dtype="datetime64[D]"),
                       holidays=np.array(sorted(hol), dtype="datetime64[D]"),
                       open_weekdays=np.array([w in open_wd for w in range(7)]))
    np.testing.assert_array_equal(got, _reference_features(days, hol, open_wd))
    assert got[:, CALENDAR_EFFECTS.index("after_closure")].sum() >= 8  # a year of holidays


def test_the_daily_model_recovers_real_effects_and_shrinks_spurious_ones() -> None:
    rng = np.random.default_rng(2)
    n = 2 * 364
    wd = np.arange(n) % 7
    x = np.zeros((n, 3))
    x[rng.choice(n, 24, replace=False), 0] = 1  # real: +25 %
    x[rng.choice(n, 3, replace=False), 1] = 1  # seen 3 times, no real effect
    x[rng.choice(n, 24, replace=False), 2] = 1  # real: -20 %
    weekday = np.array([1.1, 1.0, 1.0, 1.0, 0.9, 0.5, 0.3])
    truth = 2000.0 * weekday[wd] * np.exp(x @ np.log([1.25, 1.0, 0.8]))
    totals = rng.poisson(truth * rng.gamma(100.0, 0.01, n)).astype(float)  # 10 % day noise
    fx = np.eye(3)
    got = forecast_daily_totals(totals, wd, np.array([0, 0, 0]), (x, fx))
    base = forecast_daily_totals(totals, wd, np.array([0]), (x, np.zeros((1, 3))))[0]
    assert base == pytest.approx(2200.0, rel=0.05)
    assert got[0] / base == pytest.approx(1.25, abs=0.06)
    assert got[2] / base == pytest.approx(0.80, abs=0.06)
    # three noisy days cannot make an effect: the prior keeps it within a few percent of 0
    assert abs(got[1] / base - 1.0) < 0.05


def test_full_days_borrow_from_each_other_on_three_weeks_and_keep_real_differences() -> None:
    """Partial pooling of the full days (empirical Bayes): against the truth, by simulation.

    Three weeks of a Sunday-Thursday center whose full days are truly equal: the model's
    weekday pattern (each full day's forecast relative to their geometric mean; the
    level is another matter) is much closer to the truth (flat) than that of each day's
    own mean (the per-weekday estimate the model made before pooling). Two years with a
    real Sunday +20 % and Thursday -20 %: those stay.
    """
    rng = np.random.default_rng(11)
    wd = (np.arange(21) + 6) % 7  # starts on a Sunday
    truth_w = np.array([1000.0, 1000, 1000, 1000, 300, 120, 1000])  # Fri/Sat short
    fut = np.array([6, 0, 1, 2, 3])  # Sunday .. Thursday
    err_model, err_own = [], []
    for _ in range(200):
        totals = truth_w[wd] * np.exp(rng.normal(0.0, 0.15, 21))
        f = forecast_daily_totals(totals, wd, fut)
        own = np.array([totals[wd == w].mean() for w in fut])
        err_model.append(np.var(np.log(f)))  # the truth: all equal, variance 0
        err_own.append(np.var(np.log(own)))
    assert np.mean(err_model) < 0.5 * np.mean(err_own)
    n = 2 * 364
    wd = (np.arange(n) + 6) % 7
    truth_w = np.array([1000.0, 1000, 1000, 800, 300, 120, 1200])
    totals = truth_w[wd] * np.exp(rng.normal(0.0, 0.10, n))
    f = forecast_daily_totals(totals, wd, np.array([6, 0, 3]))
    assert f[0] / f[1] == pytest.approx(1.2, abs=0.03)
    assert f[2] / f[1] == pytest.approx(0.8, abs=0.03)


def test_profile_pools_weekdays_that_differ_by_noise_only_not_a_different_friday() -> None:
    rng = np.random.default_rng(3)
    shape = intraday_shape(np.arange(SLOTS) * 1800.0)
    friday = np.roll(shape, 6)  # Friday peaks three hours later
    wd = np.arange(56) % 7
    true = np.where((wd == 4)[:, None], friday, shape) / shape.sum()
    y = rng.poisson(40.0 * true * SLOTS).astype(float)  # ~ 40 contacts per open half hour
    prof = intraday_profile(y, wd, "recent")
    # Monday: pooled with the other weekdays, much closer to the truth than its own shares
    own = y[wd == 0][-4:].sum(axis=0) / y[wd == 0][-4:].sum()
    t = shape / shape.sum()
    assert np.abs(prof[0] - t).sum() < 0.6 * np.abs(own - t).sum()
    # Friday keeps its own shape
    assert np.abs(prof[4] - friday / friday.sum()).sum() < 0.1


def _calendar_history(days: int, seed: int) -> pd.DataFrame:
    """A five-day French center whose daily level follows the calendar: +20 % on the first
    two business days of a month, +35 % the day after a holiday, closed on holidays."""
    rng = np.random.default_rng(seed)
    first = date(2025, 1, 6)
    dates = [first + timedelta(days=k) for k in range(days)]
    hol = holidays.country_holidays("FR", years=[2025, 2026])
    dd = np.array(dates, dtype="datetime64[D]")
    x = day_features(dd, holidays=np.array(sorted(hol), dtype="datetime64[D]"),
                     open_weekdays=np.array([True] * 5 + [False] * 2))
    factor = np.exp(x[:, :2].sum(axis=1) * np.log(1.2) + x[:, 5] * np.log(1.35))
    wdf = np.array([1.15, 1.0, 0.95, 0.95, 0.85, 0.0, 0.0])
    shape = intraday_shape(np.arange(SLOTS) * 1800.0)
    shape = shape / shape.sum()
    rows = []
    for i, d in enumerate(dates):
        level = 0.0 if d in hol else 1500.0 * wdf[d.weekday()] * factor[i]
        level *= rng.gamma(200.0, 1 / 200.0)  # 7 % day noise
        y = rng.poisson(level * shape)
        start = pd.Timestamp(d, tz="Europe/Paris")
        t = pd.date_range(start, periods=SLOTS, freq="30min").tz_convert("UTC")
        rows.append(pd.DataFrame({"interval_start": t, "queue": "fr", "volume": y}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.slow
def test_on_a_calendar_driven_center_the_choice_beats_the_4_week_mean_out_of_sample() -> None:
    h = _calendar_history(56 * 7, seed=4)
    tz = "Europe/Paris"
    err = {"chosen": 0.0, "mean_4w": 0.0}
    total = 0.0
    chosen_methods = set()
    for k in range(6):  # six weekly origins over the last weeks, each from its past only
        origin = pd.Timestamp(date(2025, 1, 6) + timedelta(days=7 * (49 + k)), tz=tz)
        origin = origin.tz_convert("UTC")
        past = h[h["interval_start"] < origin]
        kw = {"start": origin, "end": origin + pd.Timedelta(days=7), "tz": tz, "market": "FR"}
        ch = forecast_queues(past, **kw)
        chosen_methods |= {m.value for m in ch.chosen.values()}
        mean = forecast_queues(past, methods=[Method.MEAN_4W], method=Method.MEAN_4W, **kw)
        act = ch.frame[["interval_start"]].merge(h, on="interval_start")["volume"].to_numpy()
        err["chosen"] += float(np.abs(ch.frame["volume"].to_numpy() - act).sum())
        err["mean_4w"] += float(np.abs(mean.frame["volume"].to_numpy() - act).sum())
        total += float(act.sum())
    assert chosen_methods <= {"calendar_4w", "calendar_ew", "combined_median"}
    assert err["chosen"] / err["mean_4w"] <= 0.90


def test_the_choice_holds_with_fewer_or_more_origins() -> None:
    h = _calendar_history(30 * 7, seed=5)
    kw = {"horizon": "7d", "tz": "Europe/Paris", "market": "FR"}
    chosen = {n: forecast_queues(h, backtest=BacktestConfig(n_origins=n), **kw).chosen["fr"]
              for n in (8, 12, 16)}
    assert len(set(chosen.values())) == 1, chosen
    assert chosen[12] in (Method.CALENDAR_4W, Method.CALENDAR_EW, Method.COMBINED)


def test_history_that_ends_mid_day_is_kept_and_the_forecast_starts_after_it() -> None:
    h = _calendar_history(8 * 7, seed=6)
    tz = "Europe/Paris"
    t_local = h["interval_start"].dt.tz_convert(tz)
    cut = pd.Timestamp("2025-02-26 14:00", tz=tz).tz_convert("UTC")  # a Wednesday
    past = h[h["interval_start"] < cut]
    r = forecast_queues(past, horizon="2d", tz=tz, market="FR", method=Method.CALENDAR_4W,
                        methods=[Method.CALENDAR_4W])
    assert r.frame["interval_start"].iloc[0] == cut  # right after the last history interval
    assert len(r.frame) == 2 * SLOTS
    # the morning of the cut day is history: a busier morning raises the forecast
    busy = past.copy()
    morning = (t_local.reindex(busy.index).dt.date == date(2025, 2, 26))
    busy.loc[morning, "volume"] *= 2
    r2 = forecast_queues(busy, horizon="2d", tz=tz, market="FR", method=Method.CALENDAR_4W,
                         methods=[Method.CALENDAR_4W])
    assert r2.frame["volume"].sum() > 1.01 * r.frame["volume"].sum()
    # and the 4-week mean of the afternoon is that of the last four Wednesdays' afternoons
    r3 = forecast_queues(past, horizon="2d", tz=tz, method=Method.MEAN_4W,
                         methods=[Method.MEAN_4W])
    wed = past[(t_local.reindex(past.index).dt.dayofweek == 2)
               & (t_local.reindex(past.index).dt.hour == 15)
               & (t_local.reindex(past.index).dt.minute == 0)]
    got = r3.frame.set_index("interval_start")["volume"]
    assert got[pd.Timestamp("2025-02-26 15:00", tz=tz).tz_convert("UTC")] == pytest.approx(
        wed["volume"].tail(4).mean())


def test_a_strongly_biased_choice_is_warned_about(cli, tmp_path) -> None:
    # volumes fall 3 % a day: every method over-forecasts a week ahead by more than 10 %
    t = pd.date_range("2026-01-05", periods=42 * SLOTS, freq="30min", tz="UTC")
    day = np.arange(len(t)) // SLOTS
    rate = 200.0 * intraday_shape(np.asarray(t.hour * 3600 + t.minute * 60)) * 0.97 ** day
    h = pd.DataFrame({"interval_start": t, "queue": "q", "volume": np.round(rate)})
    r = forecast_queues(h, horizon="7d")
    assert len(r.warnings) == 1 and "'q'" in r.warnings[0] and "bias" in r.warnings[0]
    src = tmp_path / "h.csv"
    h.assign(interval_start=h["interval_start"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")).to_csv(
        src, index=False)
    code, stdout, stderr = cli("forecast", str(src), "--horizon", "7d", "-o",
                               str(tmp_path / "f.csv"))
    assert code == 0, stderr
    assert "warning" in stdout and "bias" in stdout


def test_the_level_smoother_equals_the_dense_kernel_and_the_median_numpy() -> None:
    from openwfm.forecast.models import _nanmedian0, _two_sided_smooth

    rng = np.random.default_rng(7)
    t = np.sort(rng.choice(400, 250, replace=False)).astype(float)
    v = rng.normal(size=250)
    k = 0.5 ** (np.abs(t[:, None] - t[None, :]) / 14.0)
    np.testing.assert_allclose(_two_sided_smooth(t, v, 14.0), (k @ v) / k.sum(axis=1),
                               rtol=1e-9)
    x = rng.poisson(5, size=(4, 200)).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    x[:, 0] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        ref = np.nanmedian(x, axis=0)
    np.testing.assert_array_equal(_nanmedian0(x), ref)


def test_the_smoothed_profile_equals_a_loop_and_is_closer_to_a_smooth_truth() -> None:
    from openwfm.forecast.models import SMOOTH_KERNEL, closed_mask, smooth_profile

    rng = np.random.default_rng(11)
    shares = rng.random((7, SLOTS))
    closed = np.zeros((7, SLOTS), dtype=bool)
    closed[:, :14] = True  # closed until 07:00
    closed[4, 28:] = True  # Friday closes at 14:00
    got = smooth_profile(shares, closed)
    ref = np.zeros((7, SLOTS))  # reference: a plain loop over neighbours
    for w in range(7):
        for s in range(SLOTS):
            if closed[w, s]:
                continue
            num = den = 0.0
            for off, k in zip((-1, 0, 1), SMOOTH_KERNEL, strict=True):
                j = s + off
                if 0 <= j < SLOTS and not closed[w, j]:
                    num += k * shares[w, j]
                    den += k
            ref[w, s] = num / den
        ref[w] /= ref[w].sum()
    assert np.allclose(got, ref)
    assert (got[closed] == 0).all() and np.allclose(got.sum(axis=1), 1.0)
    # a smooth true shape seen through Poisson counts of four weeks: the smoothed shares
    # are closer to the truth than the raw ones
    truth = intraday_shape(np.arange(SLOTS) * 1800.0)
    truth = truth / truth.sum()
    wd = np.arange(28) % 7
    h = rng.poisson(600 * truth, size=(28, SLOTS)).astype(float)
    raw = intraday_profile(h, wd, "recent")
    sm = smooth_profile(raw, closed_mask(h, wd))
    assert np.abs(sm - truth).sum() < 0.9 * np.abs(raw - truth).sum()


def test_the_combination_is_the_mean_of_its_two_members() -> None:
    from openwfm.forecast.models import calendar_smooth, combined

    rng = np.random.default_rng(3)
    h = rng.poisson(20.0, size=(35, SLOTS)).astype(float)
    wd = np.arange(35) % 7
    fwd = np.arange(35, 42) % 7
    both = combined(h, wd, fwd)
    assert np.allclose(both, 0.5 * (calendar_smooth(h, wd, fwd) + median_4w(h, wd, fwd)))
    assert (both >= 0).all() and both.shape == (7, SLOTS)


def test_the_median_combination_is_the_median_of_its_three_members() -> None:
    from openwfm.forecast.models import calendar_4w, calendar_smooth, combined_median

    rng = np.random.default_rng(4)
    h = rng.poisson(8.0, size=(35, SLOTS)).astype(float)
    wd = np.arange(35) % 7
    fwd = np.arange(35, 42) % 7
    got = combined_median(h, wd, fwd)
    members = [calendar_4w(h, wd, fwd), calendar_smooth(h, wd, fwd), median_4w(h, wd, fwd)]
    lo, hi = np.minimum.reduce(members), np.maximum.reduce(members)
    assert np.allclose(got, sum(members) - lo - hi)  # the middle one of three
    assert (got >= 0).all() and got.shape == (7, SLOTS)


def test_the_level_is_simple_exponential_smoothing_with_the_least_squares_weight() -> None:
    """`ses_level` against a direct reference: the level after the last value of SES
    started at the first value, with the weight of least one-step squared error found by
    a fine grid search (0.0001 steps) in plain numpy."""
    from openwfm.forecast.models import ses_level

    rng = np.random.default_rng(5)
    alphas = np.linspace(0.01, 0.99, 9801)
    for _ in range(3):
        y = np.cumsum(rng.normal(0.0, 0.05, 60)) + rng.normal(0.0, 0.15, 60)
        level = np.full(len(alphas), y[0])
        sse = np.zeros(len(alphas))
        for v in y[1:]:
            sse += (v - level) ** 2
            level += alphas * (v - level)
        assert ses_level(y) == pytest.approx(level[np.argmin(sse)], abs=1e-4)
