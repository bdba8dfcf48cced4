"""The embedded demo contact center: scenario, roster and the generated history."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openwfm.demo import demo_actuals, demo_history, demo_scenario
from openwfm.demo.history import generate_history, opening_mask, parse_history_model
from openwfm.demo.roster import build_roster
from openwfm.errors import InputError
from openwfm.scenario import Channel, Scenario


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return demo_scenario()


@pytest.fixture(scope="module")
def history(scenario: Scenario) -> pd.DataFrame:
    return demo_history(scenario)


@pytest.fixture(scope="module")
def actuals(scenario: Scenario) -> pd.DataFrame:
    return demo_actuals(scenario)


def _digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()
                          ).hexdigest()


def _local(h: pd.DataFrame, tz: str) -> pd.DataFrame:
    wall = h["interval_start"].dt.tz_convert(tz)
    return h.assign(day=wall.dt.date, hour=wall.dt.hour, weekday=wall.dt.dayofweek,
                    minute=wall.dt.hour * 60 + wall.dt.minute)


# ------------------------------------------------------------------------------ scenario
def test_scenario_loads_through_the_user_validation(scenario: Scenario) -> None:
    assert scenario.source is not None and scenario.source.name == "demo.toml"
    assert {s.name: s.tz for s in scenario.sites} == {
        "Casablanca": "Africa/Casablanca", "Manila": "Asia/Manila", "Bogota": "America/Bogota"}
    assert {s.name: s.cost_per_hour for s in scenario.sites} == {
        "Casablanca": 9.0, "Manila": 6.0, "Bogota": 7.0}
    assert scenario.extra["currency"] == "EUR"
    assert 10 <= len(scenario.queues) <= 14
    assert scenario.interval_s == 900
    assert (scenario.plan_start, scenario.plan_days) == (date(2026, 3, 30), 7)
    assert {q.channel for q in scenario.queues} == set(Channel)
    assert {q.language for q in scenario.queues} >= {"en", "es", "fr", "nl", "sv", "no", "ru"}


def test_service_goals_per_channel(scenario: Scenario) -> None:
    for q in scenario.queues:
        if q.channel is Channel.VOICE:
            assert q.goal.sl_target == 0.8 and q.goal.answer_within_s <= 30
            assert q.patience_s is not None and 120 <= q.patience_s <= 300
        elif q.channel is Channel.CHAT:
            assert (q.goal.sl_target, q.goal.answer_within_s) == (0.8, 60)
            assert 2 <= q.concurrency <= 3
        else:
            assert (q.goal.sl_target, q.goal.answer_within_s) == (0.9, 14400)


def test_queue_history_models_are_complete(scenario: Scenario) -> None:
    model = parse_history_model(scenario)
    assert [m.id for m in model.queues] == [q.id for q in scenario.queues]
    assert (model.first_day, model.last_day) == (date(2025, 12, 1), date(2026, 3, 29))


# -------------------------------------------------------------------------------- roster
def test_shipped_roster_equals_a_fresh_seeded_build(scenario: Scenario) -> None:
    assert scenario.source is not None
    shipped = pd.read_csv(scenario.source.parent / "agents.csv")
    fresh = build_roster(scenario)
    pd.testing.assert_frame_equal(shipped, fresh, check_dtype=False)
    assert build_roster(scenario).equals(fresh)
    assert [a.id for a in scenario.agents] == fresh["id"].tolist()


def test_roster_mix_and_labour_law(scenario: Scenario) -> None:
    agents = scenario.agents
    assert 180 <= len(agents) <= 320
    law = {"Casablanca": {44.0, 30.0}, "Bogota": {44.0}, "Manila": {40.0, 48.0}}
    for a in agents:
        assert a.contract_hours in law[a.site], a
        site = scenario.site(a.site)
        for s in a.skills:  # every skill is a queue the site can serve in its language
            assert scenario.queue(s).id == s
        assert site.tz
    skills = {a.skills for a in agents}
    assert ("insure-nl-voice", "insure-fr-voice") in skills  # fr+nl bilingual, Casablanca
    assert ("ride-es-voice", "ride-en-voice") in skills  # en+es bilingual, Bogota
    assert ("ride-en-chat",) in skills and ("ride-en-email",) in skills  # chat-/email-only
    single = sum(len(a.skills) == 1 for a in agents)
    assert single / len(agents) > 0.6


def test_roster_names_depend_on_the_seed_only(scenario: Scenario) -> None:
    a, b = build_roster(scenario, seed=1), build_roster(scenario, seed=2)
    assert a.drop(columns="name").equals(b.drop(columns="name"))
    assert not a["name"].equals(b["name"])


# ------------------------------------------------------------------------------- history
def test_interval_table_shape(scenario: Scenario, history: pd.DataFrame) -> None:
    assert list(history.columns) == ["interval_start", "queue", "volume", "aht_s", "handled",
                                     "abandoned"]
    assert str(history["interval_start"].dtype) == "datetime64[ns, UTC]"
    assert 120_000 <= len(history) <= 160_000
    assert not history.duplicated(["interval_start", "queue"]).any()
    v, hd, ab = (history[c].to_numpy() for c in ("volume", "handled", "abandoned"))
    assert (v >= 0).all() and (hd >= 0).all() and (ab >= 0).all()
    np.testing.assert_array_equal(hd + ab, v)
    np.testing.assert_array_equal(v, np.round(v))
    assert (history["aht_s"].isna().to_numpy() == (hd == 0)).all()
    for q in scenario.queues:
        t = history.loc[history["queue"] == q.id, "interval_start"]
        assert t.is_monotonic_increasing
        assert (t.diff().dropna() == pd.Timedelta(minutes=15)).all()


def test_history_covers_whole_local_days_and_stops_at_the_plan(
        scenario: Scenario, history: pd.DataFrame) -> None:
    plan0 = pd.Timestamp("2026-03-30", tz=scenario.plan_tz)
    assert history["interval_start"].max() < plan0
    for q in scenario.queues:
        t = history.loc[history["queue"] == q.id, "interval_start"]
        assert t.min() == pd.Timestamp("2025-12-01", tz=q.tz)
        end = min(pd.Timestamp("2026-03-30", tz=q.tz), plan0)
        assert t.max() == end - pd.Timedelta(minutes=15)
    # Paris drops one hour on 2026-03-29: that local day has 92 intervals
    paris = _local(history[history["queue"] == "telco-fr-email"], "Europe/Paris")
    assert (paris["day"] == date(2026, 3, 29)).sum() == 92


def test_same_output_twice_and_in_another_process_time_zone(history: pd.DataFrame) -> None:
    assert _digest(demo_history()) == _digest(history)
    code = ("import hashlib, pandas as pd; from openwfm.demo import demo_history; "
            "h = demo_history(); print(hashlib.sha256(pd.util.hash_pandas_object(h, "
            "index=True).to_numpy().tobytes()).hexdigest())")
    env = {**os.environ, "TZ": "Pacific/Kiritimati"}  # UTC+14: any local-clock use shows
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == _digest(history)


def test_nothing_reads_the_clock() -> None:
    import openwfm.demo as pkg

    src = "".join(p.read_text() for p in Path(pkg.__path__[0]).glob("*.py"))
    for call in ("today(", "now(", "utcnow(", "time.time(", "default_rng()"):
        assert call not in src, call


@pytest.mark.parametrize(("queue", "tz", "switch"), [
    ("ride-en-voice", "America/New_York", "2026-03-08 07:00"),  # US DST: UTC-5 -> UTC-4
    ("bank-ma-voice", "Africa/Casablanca", "2026-02-15 02:00"),  # Ramadan: UTC+1 -> UTC+0
    ("bank-ma-voice", "Africa/Casablanca", "2026-03-22 02:00"),  # after: back to UTC+1
    ("telco-fr-voice", "Europe/Paris", "2026-03-29 01:00"),  # EU DST (then the plan week)
])
def test_daily_shape_follows_the_customers_clock(history: pd.DataFrame,
                                                 actuals: pd.DataFrame, queue: str, tz: str,
                                                 switch: str) -> None:
    both = pd.concat([history, actuals], ignore_index=True)
    h = _local(both[both["queue"] == queue], tz)
    h["utc_hour"] = h["interval_start"].dt.hour
    t = pd.Timestamp(switch, tz="UTC")
    shift_h = round((t.tz_convert(tz).utcoffset() - (t - pd.Timedelta(hours=1))
                     .tz_convert(tz).utcoffset()).total_seconds() / 3600)
    assert abs(shift_h) == 1
    before = h[(h["interval_start"] < t) & (h["interval_start"] >= t - pd.Timedelta(days=28))]
    after = h[(h["interval_start"] >= t) & (h["interval_start"] < t + pd.Timedelta(days=28))]
    # the local hourly profile keeps its shape and its peak hour ...
    local_before = before.groupby("hour")["volume"].mean()
    local_after = after.groupby("hour")["volume"].mean()
    common = local_before.index.intersection(local_after.index)
    assert np.corrcoef(local_before[common], local_after[common])[0, 1] > 0.98
    assert local_before.idxmax() == local_after.idxmax()
    # ... while the UTC profile moves by the offset change: earlier when clocks go forward
    utc_before = before.groupby("utc_hour")["volume"].mean().reindex(range(24), fill_value=0)
    utc_after = after.groupby("utc_hour")["volume"].mean().reindex(range(24), fill_value=0)
    fit = {k: np.corrcoef(utc_before, np.roll(utc_after.to_numpy(), k))[0, 1]
           for k in (-1, 0, 1)}
    assert max(fit, key=fit.get) == shift_h, fit


def test_ramadan_offset_moves_the_utc_opening(history: pd.DataFrame) -> None:
    """The bank opens at 08:00 Casablanca time: 07:00 UTC at UTC+1, 08:00 UTC in Ramadan."""
    bank = history[(history["queue"] == "bank-ma-voice") & (history["volume"] > 0)]

    def first_open_utc(start: str, end: str) -> str:
        t = bank["interval_start"]
        sel = t[(t >= pd.Timestamp(start, tz="UTC")) & (t < pd.Timestamp(end, tz="UTC"))]
        return (sel - sel.dt.normalize()).min().components.hours

    assert first_open_utc("2026-02-01", "2026-02-15") == 7
    assert first_open_utc("2026-02-16", "2026-03-21") == 8
    assert first_open_utc("2026-03-23", "2026-03-30") == 7


def test_closed_hours_are_zero_and_open_hours_are_not(scenario: Scenario,
                                                      history: pd.DataFrame) -> None:
    model = {m.id: m for m in parse_history_model(scenario).queues}
    for q in scenario.queues:
        h = _local(history[history["queue"] == q.id], q.tz)
        mask = opening_mask(model[q.id].hours, scenario.interval_s)
        is_open = mask[h["weekday"].to_numpy(), h["minute"].to_numpy() // 15]
        assert (h["volume"].to_numpy()[~is_open] == 0).all(), q.id
        assert h["volume"].to_numpy()[is_open].mean() > 1.0, q.id
    tel = _local(history[history["queue"] == "telco-fr-voice"], "Europe/Paris")
    assert tel.loc[tel["weekday"] == 6, "volume"].sum() == 0  # Sunday
    assert tel.loc[(tel["hour"] < 8) | (tel["hour"] >= 21), "volume"].sum() == 0


def test_holidays_reduce_volume(scenario: Scenario, history: pd.DataFrame) -> None:
    model = {m.id: m for m in parse_history_model(scenario).queues}
    for q in scenario.queues:
        h = _local(history[history["queue"] == q.id], q.tz)
        hol = set(holidays.country_holidays(q.market, years=[2025, 2026]))
        daily = h.groupby(["day", "weekday"])["volume"].sum().reset_index()
        daily["hol"] = daily["day"].isin(hol)
        # compare each holiday with the mean of the same weekday's ordinary days
        base = daily[~daily["hol"]].groupby("weekday")["volume"].mean()
        ratios = [r.volume / base[r.weekday] for r in daily[daily["hol"]].itertuples()
                  if base[r.weekday] > 0]
        assert ratios, q.id
        factor = model[q.id].holiday
        if factor == 0:
            assert max(ratios) == 0, q.id
        else:
            assert np.mean(ratios) < 1 - (1 - factor) / 2, (q.id, np.mean(ratios))
    us = _local(history[history["queue"] == "ride-en-voice"], "America/New_York")
    xmas = us.loc[us["day"] == date(2025, 12, 25), "volume"].sum()
    thursdays = us[(us["weekday"] == 3) & (us["day"] != date(2025, 12, 25))]
    assert xmas < 0.85 * thursdays.groupby("day")["volume"].sum().mean()
    ma = _local(history[history["queue"] == "bank-ma-voice"], "Africa/Casablanca")
    assert ma.loc[ma["day"] == date(2026, 3, 20), "volume"].sum() == 0  # Eid al-Fitr


def test_aht_is_longer_at_night(history: pd.DataFrame) -> None:
    h = _local(history[history["queue"] == "ride-en-voice"], "America/New_York")
    h = h[h["handled"] > 0]
    hs = (h["aht_s"] * h["handled"]).groupby(h["hour"]).sum() / h.groupby("hour")["handled"
                                                                                 ].sum()
    assert hs.loc[2:4].mean() > 1.15 * hs.loc[13:16].mean()
    assert hs.idxmax() in range(0, 7) and hs.idxmin() in range(11, 20)


@pytest.mark.parametrize("queue", ["ride-en-voice", "telco-fr-voice", "insure-nl-voice",
                                   "ride-en-email"])
def test_daily_volume_means_a_mean_ordinary_day_at_the_trend_origin(
        scenario: Scenario, history: pd.DataFrame, queue: str) -> None:
    """De-trended, holiday-free days average `daily_volume` over the weekdays (the
    documented meaning of the parameter), within 3 % (day effects have a 7 % cv)."""
    model = parse_history_model(scenario)
    m = next(x for x in model.queues if x.id == queue)
    q = scenario.queue(queue)
    h = _local(history[history["queue"] == queue], q.tz)
    days = h.groupby(["day", "weekday"])["volume"].sum().reset_index()
    days = days[~days["day"].isin(set(holidays.country_holidays(q.market, years=[2025, 2026])))
                & (days["day"] > model.first_day) & (days["day"] < model.last_day)]
    years = (pd.to_datetime(days["day"]) - pd.Timestamp(model.trend_origin)).dt.days / 365.25
    days["detrended"] = days["volume"] / (1 + m.trend_yearly) ** years
    by_weekday = days.groupby("weekday")["detrended"].mean().reindex(range(7), fill_value=0)
    assert by_weekday.mean() == pytest.approx(m.daily_volume, rel=0.03)


def test_aht_follows_its_hour_of_day_formula(scenario: Scenario,
                                             history: pd.DataFrame) -> None:
    """Handled-weighted AHT per local hour = aht_s (1 + aht_night (1 + cos(2 pi (h - 3)/24))
    / 2) at the hour's centre, within 5 % (3 sigma at the quietest hour, ~3,000 contacts;
    a flat AHT would miss by up to 22 %)."""
    m = next(x for x in parse_history_model(scenario).queues if x.id == "ride-en-voice")
    h = _local(history[history["queue"] == "ride-en-voice"], "America/New_York")
    h = h[h["handled"] > 0]
    observed = ((h["aht_s"] * h["handled"]).groupby(h["hour"]).sum()
                / h.groupby("hour")["handled"].sum())
    centre = observed.index.to_numpy() + 0.5
    expected = m.aht_s * (1 + m.aht_night * (1 + np.cos(2 * np.pi * (centre - 3) / 24)) / 2)
    np.testing.assert_allclose(observed.to_numpy(), expected, rtol=0.05)


@pytest.mark.parametrize("queue", ["ride-en-voice", "ride-en-chat", "telco-fr-voice"])
def test_counts_are_overdispersed_as_the_model_says(scenario: Scenario,
                                                    history: pd.DataFrame,
                                                    queue: str) -> None:
    """Across the weeks, an interval's count N has Var N = E N + c (E N)^2 with
    c = (1 + 1/dispersion)(1 + day_cv^2) - 1 (Poisson-gamma mixing times a gamma day
    effect; Poisson alone would give c = 0). The pooled estimate of c over all local
    weekday x time cells with a mean above 5 is within [0.75 c, 1.35 c] (the slow trend
    adds a little)."""
    model = parse_history_model(scenario)
    q = scenario.queue(queue)
    h = _local(history[history["queue"] == queue], q.tz)
    h = h[~h["day"].isin(set(holidays.country_holidays(q.market, years=[2025, 2026])))]
    g = h.groupby(["weekday", "minute"])["volume"]
    mean, var = g.mean(), g.var()
    ok = mean > 5
    c_hat = (var - mean)[ok].sum() / (mean[ok] ** 2).sum()
    c = (1 + 1 / model.dispersion) * (1 + model.day_cv**2) - 1
    assert 0.75 * c <= c_hat <= 1.35 * c, (c_hat, c)


def _typical_plan_week(scenario: Scenario, history: pd.DataFrame) -> pd.DataFrame:
    """The plan week's UTC intervals, each with the mean of the last 4 weeks at the same
    local weekday and time of its queue (a placeholder forecast), staffed with each queue's
    goal by `openwfm.staffing.staff_frame` (Erlang A voice, chat slots, email backlog)."""
    from openwfm.staffing import staff_frame

    plan = pd.date_range(pd.Timestamp(scenario.plan_start, tz=scenario.plan_tz),
                         periods=scenario.plan_days * 96, freq="15min").tz_convert("UTC")
    last = history[history["interval_start"] >= history["interval_start"].max()
                   - pd.Timedelta(days=28)]
    rows = []
    for q in scenario.queues:
        h = _local(last[last["queue"] == q.id], q.tz)
        w = h.assign(work=h["aht_s"].fillna(0) * h["handled"])
        g = w.groupby(["weekday", "minute"])[["volume", "work", "handled"]].mean()
        wall = plan.tz_convert(q.tz)
        key = pd.MultiIndex.from_arrays([wall.dayofweek, wall.hour * 60 + wall.minute])
        g = g.reindex(key).fillna(0.0)
        aht = (g["work"] / g["handled"]).fillna(float(np.nanmean(h["aht_s"])))
        rows.append(pd.DataFrame({
            "interval_start": plan, "queue": q.id, "channel": q.channel.value,
            "volume": g["volume"].to_numpy(), "aht_s": aht.to_numpy(), "interval_s": 900,
            "patience_s": q.patience_s if q.patience_s is not None else np.nan,
            "sl_target": q.goal.sl_target, "sl_seconds": q.goal.answer_within_s,
            "concurrency": q.concurrency}))
    return staff_frame(pd.concat(rows, ignore_index=True))


@pytest.fixture(scope="module")
def plan_week(scenario: Scenario, history: pd.DataFrame) -> pd.DataFrame:
    return _typical_plan_week(scenario, history)


def test_volumes_need_a_plausible_number_of_agents(scenario: Scenario,
                                                   plan_week: pd.DataFrame) -> None:
    req = plan_week
    peaks = req.groupby("queue")["agents"].max()
    assert 150 <= peaks.sum() <= 220, peaks.to_dict()  # each queue at its own peak
    simultaneous = req.groupby("interval_start")["agents"].sum().max()
    assert 80 <= simultaneous <= peaks.sum()
    # the roster covers the week: paid hours x (1 - shrinkage) >= productive hours needed,
    # with a margin that is realistic (not a roster twice too big)
    need = req.groupby("queue")["agents"].sum() * 0.25
    supply = sum(a.contract_hours for a in scenario.agents) * (1 - scenario.shrinkage)
    assert 1.0 < supply / need.sum() < 1.15, (supply, need.sum())
    home = {q.id: Counter(a.site for a in scenario.agents if q.id in a.skills).most_common(1)
            [0][0] for q in scenario.queues}
    for site in scenario.sites:
        mine = [a for a in scenario.agents if a.site == site.name]
        queues = sorted(q for q, s in home.items() if s == site.name)
        have = sum(a.contract_hours for a in mine) * (1 - scenario.shrinkage)
        assert have >= need[queues].sum(), site.name  # each site covers its home queues
        # and its seats hold the busiest interval's scheduled heads of those queues
        busiest = req[req["queue"].isin(queues)].groupby("interval_start")["agents"].sum()
        assert busiest.max() / (1 - scenario.shrinkage) <= site.seats, site.name


# -------------------------------------------------------------------- plan-week actuals
def test_actuals_fill_the_plan_window_right_after_the_history(
        scenario: Scenario, history: pd.DataFrame) -> None:
    actuals = demo_actuals(scenario)
    plan = pd.date_range(pd.Timestamp(scenario.plan_start, tz=scenario.plan_tz),
                         periods=scenario.plan_days * 96, freq="15min")
    for q in scenario.queues:
        t = actuals.loc[actuals["queue"] == q.id, "interval_start"]
        assert t.tolist() == plan.tolist(), q.id
    assert actuals["interval_start"].min() > history["interval_start"].max()
    assert list(actuals.columns) == list(history.columns)
    assert _digest(demo_actuals(scenario)) == _digest(actuals)


def test_actuals_continue_the_history_and_its_holidays(scenario: Scenario,
                                                       plan_week: pd.DataFrame) -> None:
    """The plan week is what the history predicts: the mean of the last 4 weeks at the same
    local weekday and time is close on ordinary days (daily WAPE < 12 %, 15-minute WAPE
    < 35 %: Poisson-gamma noise on small counts), and the Holy Week holidays of the Nordic
    markets (Maundy Thursday NO, Good Friday) fall well below it."""
    req = plan_week  # volume = the 4-week local mean
    merged = demo_actuals(scenario).merge(req[["interval_start", "queue", "volume"]],
                                          on=["interval_start", "queue"],
                                          suffixes=("", "_mean"))
    ordinary, daily, holiday = [], [], {}
    for q in scenario.queues:
        m = _local(merged[merged["queue"] == q.id], q.tz)
        hol = m["day"].isin(set(holidays.country_holidays(q.market, years=[2026])))
        ordinary.append(m[~hol])
        daily.append(m[~hol].groupby("day")[["volume", "volume_mean"]].sum())
        weekday_hol = m[hol & (m["weekday"] < 5)]
        if weekday_hol["volume_mean"].sum() > 50:
            holiday[q.id] = weekday_hol["volume"].sum() / weekday_hol["volume_mean"].sum()

    def wape(x: pd.DataFrame) -> float:
        return float((x["volume"] - x["volume_mean"]).abs().sum() / x["volume"].sum())

    assert wape(pd.concat(daily)) < 0.12
    assert wape(pd.concat(ordinary)) < 0.35
    assert set(holiday) == {"travel-sv-voice", "travel-no-voice"}
    assert all(ratio < 0.75 for ratio in holiday.values()), holiday


# ----------------------------------------------------------------------- bad [demo] input
def _with_demo(scenario: Scenario, edit) -> Scenario:
    extra = copy.deepcopy(scenario.extra)
    edit(extra["demo"])
    return Scenario(**{**scenario.__dict__, "extra": extra})


def test_bad_opening_window_names_the_column(scenario: Scenario) -> None:
    bad = _with_demo(scenario, lambda d: d["queues"][0].update(hours=["Mon-Fri 8h-18h"]))
    with pytest.raises(InputError, match="Mon-Fri 8h-18h") as err:
        generate_history(bad)
    assert err.value.location.column == "hours"


def test_unknown_queue_and_missing_model_are_rejected(scenario: Scenario) -> None:
    bad = _with_demo(scenario, lambda d: d["queues"][0].update(id="nope"))
    with pytest.raises(InputError, match="unknown queue 'nope'"):
        parse_history_model(bad)
    short = _with_demo(scenario, lambda d: d["queues"].pop())
    with pytest.raises(InputError, match=r"no \[\[demo\.queues\]\] model"):
        parse_history_model(short)


def test_opening_mask_rejects_reversed_windows() -> None:
    with pytest.raises(InputError, match="from < to"):
        opening_mask(["Mon 18:00-08:00"], 900)


@given(d0=st.integers(0, 6), span=st.integers(0, 6), h0=st.integers(0, 23),
       length_q=st.integers(1, 96), interval_s=st.sampled_from([900, 1800, 3600]))
@settings(max_examples=60, deadline=None)
def test_opening_mask_counts_the_window(d0: int, span: int, h0: int, length_q: int,
                                        interval_s: int) -> None:
    """A window 'D0-D1 HH:MM-HH:MM' opens exactly the slots whose start lies in it."""
    d1 = min(6, d0 + span)
    t0 = h0 * 3600
    t1 = min(86400, t0 + length_q * 900)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    to = "24:00" if t1 == 86400 else f"{t1 // 3600:02d}:{t1 % 3600 // 60:02d}"
    mask = opening_mask([f"{days[d0]}-{days[d1]} {h0:02d}:00-{to}"], interval_s)
    starts = np.arange(86400 // interval_s) * interval_s
    per_day = int(((starts >= t0) & (starts < t1)).sum())
    assert mask.sum(axis=1).tolist() == [per_day if d0 <= d <= d1 else 0 for d in range(7)]


def test_bad_roster_and_profile_input_is_named(scenario: Scenario) -> None:
    bad = _with_demo(scenario, lambda d: d["roster"][0].update(site="Lisbon"))
    with pytest.raises(InputError, match="unknown site 'Lisbon'") as err:
        build_roster(bad)
    assert err.value.location.column == "site"
    bad = _with_demo(scenario, lambda d: d["roster"][0].update(skills=["nope"]))
    with pytest.raises(InputError, match="nope") as err:
        build_roster(bad)
    assert err.value.location.column == "skills"
    bad = _with_demo(scenario, lambda d: d["profiles"]["business"].update(hourly=[1.0] * 23))
    with pytest.raises(InputError, match="list of 24 numbers") as err:
        parse_history_model(bad)
    assert err.value.location.column == "hourly"
