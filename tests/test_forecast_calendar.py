"""Local time (DST, Morocco's Ramadan offset), holidays, special days, closed periods, gaps."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from openwfm.errors import InputError
from openwfm.forecast import Method, SpecialDay, forecast_queues, read_special_days
from openwfm.forecast.calendar import local_keys, to_day_grid
from openwfm.forecast.synthetic import synthetic_history

HA = [Method.HISTORICAL_AVERAGE]


def _local(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    loc = frame["interval_start"].dt.tz_convert(tz)
    return frame.assign(day=loc.dt.date, tod=loc.dt.hour * 60 + loc.dt.minute)


def test_ramadan_offset_change_does_not_shift_the_daily_shape() -> None:
    # Casablanca is UTC+1, UTC+0 from 2026-02-15 to 2026-03-22 (Ramadan): history spans
    # the first change, the forecast the second.
    tz = "Africa/Casablanca"
    h = synthetic_history(1, 8 * 7, tz=tz, start="2026-01-19", seed=1, with_rate=True)
    assert set(h["interval_start"].dt.tz_convert(tz).map(lambda t: t.utcoffset())) == {
        pd.Timedelta(0), pd.Timedelta(hours=1)}
    r = forecast_queues(h.drop(columns="rate"), horizon="14d", tz=tz, methods=HA)
    f = _local(r.frame, tz)
    assert {t.utcoffset() for t in r.frame["interval_start"].dt.tz_convert(tz)} == {
        pd.Timedelta(0), pd.Timedelta(hours=1)}
    # same weekday before and after the change back to UTC+1: identical local shape
    before = f[f["day"] == date(2026, 3, 16)].set_index("tod")["volume"]
    after = f[f["day"] == date(2026, 3, 23)].set_index("tod")["volume"]
    pd.testing.assert_series_equal(before, after, check_names=False)
    # the peak stays at the same local time on every open day
    peaks = f[f["volume"] > 0].groupby("day")["volume"].idxmax()
    assert f.loc[peaks, "tod"].nunique() <= 2  # two neighbouring slots share the crest


def test_learning_in_local_time_beats_learning_in_utc_across_ramadan() -> None:
    tz = "Africa/Casablanca"
    h = synthetic_history(1, 8 * 7, tz=tz, start="2026-01-19", seed=2, level=(200, 200),
                          with_rate=True)
    truth = synthetic_history(1, 8 * 7 + 14, tz=tz, start="2026-01-19", seed=2,
                              level=(200, 200), with_rate=True)
    end = h["interval_start"].max()
    truth = truth[truth["interval_start"] > end]
    errs = {}
    for zone in (tz, "UTC"):
        r = forecast_queues(h.drop(columns="rate"), horizon="14d", tz=zone, methods=HA)
        m = r.frame.merge(truth, on=["interval_start", "queue"])
        errs[zone] = np.abs(m["volume_x"] - m["rate"]).sum() / m["rate"].sum()
    assert errs[tz] < 0.6 * errs["UTC"]


def test_dst_spring_forward_and_fall_back_days() -> None:
    tz = "Europe/Paris"
    h = synthetic_history(1, 6 * 7, tz=tz, start="2026-02-09", seed=3)
    r = forecast_queues(h, horizon="14d", tz=tz, methods=HA)
    f = _local(r.frame, tz)
    # 2026-03-29 has 23 local hours: 46 half hours, none at 02:00 or 02:30
    assert (f["day"] == date(2026, 3, 29)).sum() == 46
    assert not f[(f["day"] == date(2026, 3, 29)) & f["tod"].isin([120, 150])].size
    # UTC output is a regular grid
    assert (r.frame["interval_start"].diff().dropna() == pd.Timedelta("30min")).all()
    before = f[f["day"] == date(2026, 3, 23)].set_index("tod")["volume"]
    after = f[f["day"] == date(2026, 3, 30)].set_index("tod")["volume"]
    pd.testing.assert_series_equal(before, after, check_names=False)

    # fall back on 2026-10-25: the repeated hour's two UTC intervals share one forecast
    h = synthetic_history(1, 6 * 7, tz=tz, start="2026-09-07", seed=4, level=(50, 50))
    h.loc[h["interval_start"].dt.tz_convert(tz).dt.hour.isin([2]), "volume"] = 7.0
    r = forecast_queues(h, horizon="14d", tz=tz, methods=HA)
    f = _local(r.frame, tz)
    day = f[f["day"] == date(2026, 10, 25)]
    assert len(day) == 50
    assert (day[day["tod"].isin([120, 150])]["volume"] == 7.0).all()


def test_day_grid_averages_the_repeated_hour() -> None:
    t = pd.date_range("2026-10-24 22:00", "2026-10-25 22:30", freq="30min", tz="UTC")
    v = np.arange(len(t), dtype=float)
    g = to_day_grid(t, v, "Europe/Paris", 1800)
    d, s = local_keys(t, "Europe/Paris", 1800)
    twice = [i for i in range(len(t)) if ((s == s[i]) & (d == d[i])).sum() == 2]
    assert len(twice) == 4  # 02:00 and 02:30 local, each twice
    assert g.values[0, s[twice[0]]] == pytest.approx(v[[twice[0], twice[2]]].mean())


def test_closed_periods_are_zero_with_zero_bands() -> None:
    h = synthetic_history(2, 6 * 7, tz="America/Bogota", seed=5)
    r = forecast_queues(h, horizon="14d", tz="America/Bogota")
    f = _local(r.frame, "America/Bogota")
    band_cols = ["volume", "volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95"]
    sunday = pd.to_datetime(f["day"]).dt.dayofweek == 6
    night = f["tod"] < 7 * 60
    assert (f.loc[sunday | night, band_cols] == 0).all().all()
    assert (f.loc[~sunday & (f["tod"] == 11 * 60), "volume"] > 0).all()


def test_gaps_in_history_are_tolerated() -> None:
    h = synthetic_history(1, 8 * 7, tz="Asia/Manila", seed=6, level=(100, 100))
    loc = h["interval_start"].dt.tz_convert("Asia/Manila")
    gone = loc.dt.date.isin([date(2026, 1, 14), date(2026, 2, 3)]) | (
        (loc.dt.date == date(2026, 2, 10)) & loc.dt.hour.between(9, 11))
    full = forecast_queues(h, horizon="7d", tz="Asia/Manila", methods=HA)
    gappy = forecast_queues(h[~gone], horizon="7d", tz="Asia/Manila", methods=HA)
    assert len(gappy.frame) == len(full.frame) == 7 * 48
    rel = np.abs(gappy.frame["volume"] - full.frame["volume"]).sum() / full.frame["volume"].sum()
    assert 0 < rel < 0.05


def test_a_past_holiday_does_not_drag_the_weekday_down() -> None:
    tz = "Europe/Paris"
    h = synthetic_history(1, 6 * 7, tz=tz, start="2026-06-15", seed=7, level=(80, 80))
    loc = h["interval_start"].dt.tz_convert(tz)
    h.loc[loc.dt.date == date(2026, 7, 14), "volume"] = 0.0  # Bastille Day, a Tuesday
    tue = (loc.dt.dayofweek == 1) & (loc.dt.date != date(2026, 7, 14))
    expected = h[tue].groupby(loc[tue].dt.hour * 60 + loc[tue].dt.minute)["volume"].mean()
    r = forecast_queues(h, horizon="7d", tz=tz, market="FR", methods=HA)
    f = _local(r.frame, tz)
    got = f[pd.to_datetime(f["day"]).dt.dayofweek == 1].set_index("tod")["volume"]
    np.testing.assert_allclose(got.to_numpy(), expected.reindex(got.index).to_numpy())
    naive = forecast_queues(h, horizon="7d", tz=tz, methods=HA)
    assert naive.frame["volume"].sum() < r.frame["volume"].sum()


def test_a_future_holiday_gets_the_past_holiday_ratio() -> None:
    tz = "Europe/Paris"
    # history has Easter Monday, 2026-05-01 and 2026-05-08 (FR holidays) at half volume
    h = synthetic_history(1, 41, tz=tz, start="2026-04-01", seed=8, level=(80, 80))
    loc = h["interval_start"].dt.tz_convert(tz)
    hol = loc.dt.date.isin([date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8)])
    normal = forecast_queues(h[~hol], horizon="7d", tz=tz, methods=HA).frame
    h.loc[hol, "volume"] = np.round(h.loc[hol, "volume"] * 0.5)
    # the ratio the engine must learn: holiday volume / same-weekday average (non-holidays)
    day = pd.to_datetime(loc.dt.date)
    keyed = h.assign(dow=day.dt.dayofweek, tod=loc.dt.hour * 60 + loc.dt.minute)
    avg = keyed[~hol].groupby(["dow", "tod"])["volume"].mean()
    expected = avg.reindex(pd.MultiIndex.from_frame(keyed.loc[hol, ["dow", "tod"]])).sum()
    ratio = h.loc[hol, "volume"].sum() / expected
    assert 0.4 < ratio < 0.6
    # forecast over Ascension (Thursday 2026-05-14): the Thursday forecast times the ratio
    r = forecast_queues(h, horizon="7d", tz=tz, market="FR", methods=HA)
    f, n = _local(r.frame, tz), _local(normal, tz)
    asc, asc_n = f["day"] == date(2026, 5, 14), n["day"] == date(2026, 5, 14)
    np.testing.assert_allclose(f.loc[asc, "volume"].to_numpy(),
                               ratio * n.loc[asc_n, "volume"].to_numpy(), rtol=1e-9)
    other = f["day"] == date(2026, 5, 15)
    np.testing.assert_allclose(f.loc[other, "volume"].to_numpy(),
                               n.loc[n["day"] == date(2026, 5, 15), "volume"].to_numpy())


def test_a_queue_closed_on_holidays_forecasts_zero_on_the_next_one() -> None:
    tz = "Europe/Paris"
    h = synthetic_history(1, 41, tz=tz, start="2026-04-01", seed=9, level=(80, 80))
    loc = h["interval_start"].dt.tz_convert(tz)
    hol = loc.dt.date.isin([date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8)])
    h.loc[hol, "volume"] = 0.0
    r = forecast_queues(h, horizon="7d", tz=tz, market="FR")
    f = _local(r.frame, tz)
    cols = ["volume", "volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95"]
    assert (f.loc[f["day"] == date(2026, 5, 14), cols] == 0).all().all()
    assert f.loc[f["day"] == date(2026, 5, 15), "volume"].sum() > 100


def test_special_days_multiplier_and_exclude() -> None:
    tz = "Asia/Manila"
    h = synthetic_history(1, 6 * 7, tz=tz, seed=9, level=(60, 60))
    base = forecast_queues(h, horizon="7d", tz=tz, methods=HA).frame
    camp = forecast_queues(h, horizon="7d", tz=tz, methods=HA,
                           special_days=[SpecialDay(date(2026, 2, 17), multiplier=1.5)]).frame
    day = _local(camp, tz)["day"] == date(2026, 2, 17)
    np.testing.assert_allclose(camp.loc[day, "volume"], 1.5 * base.loc[day, "volume"])
    np.testing.assert_allclose(camp.loc[~day, "volume"], base.loc[~day, "volume"])
    assert (camp.loc[day, "volume_hi_95"] >= camp.loc[day, "volume"]).all()

    # an outage excluded from history == the day missing from history
    loc = h["interval_start"].dt.tz_convert(tz)
    out = h.copy()
    out.loc[loc.dt.date == date(2026, 2, 3), "volume"] = 0.0
    excl = forecast_queues(out, horizon="7d", tz=tz, methods=HA,
                           special_days=[SpecialDay(date(2026, 2, 3), exclude=True)]).frame
    missing = forecast_queues(h[loc.dt.date != date(2026, 2, 3)], horizon="7d", tz=tz,
                              methods=HA).frame
    np.testing.assert_allclose(excl["volume"], missing["volume"])
    # a special day for another queue changes nothing
    other = forecast_queues(h, horizon="7d", tz=tz, methods=HA, special_days=[
        SpecialDay(date(2026, 2, 17), multiplier=2.0, queue="elsewhere")]).frame
    np.testing.assert_allclose(other["volume"], base["volume"])


@pytest.mark.parametrize(("text", "row", "column"), [
    ("date,multiplier\n2026-02-17,1.2\n17/02/2026,1.2\n", 2, "date"),
    ("date,multiplier\n2026-02-17,-1\n", 1, "multiplier"),
    ("date,exclude\n2026-02-17,maybe\n", 1, "exclude"),
    ("day,multiplier\n2026-02-17,1.2\n", None, "date"),
])
def test_special_days_file_errors_name_row_and_column(tmp_path, text, row, column) -> None:
    p = tmp_path / "special.csv"
    p.write_text(text)
    with pytest.raises(InputError) as err:
        read_special_days(p)
    assert err.value.location.row == row
    assert err.value.location.column == column
    assert err.value.location.file == str(p)


def test_unknown_market_is_an_input_error() -> None:
    h = synthetic_history(1, 21, seed=10)
    with pytest.raises(InputError, match="holiday market"):
        forecast_queues(h, horizon="1d", market="XX", methods=HA)
