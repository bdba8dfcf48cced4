"""Adherence and conformance, computed by hand (seconds written out in each test), across
midnight, a DST change and Casablanca's Ramadan change; the event log's idempotence and
order independence; live exceptions agree with the batch computation."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openwfm.activities import OFF_DUTY
from openwfm.errors import InputError
from openwfm.intraday.adherence import LiveAdherence, compute_adherence
from openwfm.intraday.events import AgentEvent, EventLog, events_from_frame
from openwfm.intraday.states import ADHERING_STATES, Activity, AgentState, adheres


def seg(rows: list[tuple[str, str, str, str]], site: str = "s", team: str | None = None):
    df = pd.DataFrame(rows, columns=["agent_id", "activity", "start", "end"])
    df["site"] = site
    if team:
        df["team"] = team
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def ev(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["agent_id", "state", "at"])
    df.insert(0, "event_id", [f"e{i}" for i in range(len(df))])
    df["at"] = pd.to_datetime(df["at"], utc=True)
    return df


def one(result, **where):
    df = result.by_agent
    for k, v in where.items():
        df = df[df[k] == v]
    assert len(df) == 1
    return df.iloc[0]


SHIFT = [("a", "work", "2026-01-05 08:00", "2026-01-05 10:00"),
         ("a", "break", "2026-01-05 10:00", "2026-01-05 10:15"),
         ("a", "work", "2026-01-05 10:15", "2026-01-05 12:00")]
# 5 min late (300 s logged out during work), back from the break 10 min late (600 s)
EVENTS = [("a", "available", "2026-01-05 08:05"), ("a", "break", "2026-01-05 10:00"),
          ("a", "on_contact", "2026-01-05 10:25"), ("a", "after_contact_work",
                                                    "2026-01-05 10:31"),
          ("a", "available", "2026-01-05 10:33"), ("a", "logged_out", "2026-01-05 12:00")]


def test_the_adherence_table_is_the_documented_one() -> None:
    assert ADHERING_STATES[Activity.WORK] == {AgentState.AVAILABLE, AgentState.ON_CONTACT,
                                              AgentState.AFTER_CONTACT_WORK}
    for a in (Activity.BREAK, Activity.MEAL, Activity.TRAINING, Activity.MEETING):
        assert ADHERING_STATES[a] == {AgentState(a.value)}
    assert not any(adheres(s, a) for s in ("logged_out", "other") for a in Activity
                   if a not in OFF_DUTY)
    assert all(adheres("logged_out", a) and not adheres("available", a) for a in OFF_DUTY)


@pytest.mark.parametrize(("grace_s", "out_s"), [(0, 900), (300, 900), (301, 600),
                                                (600, 600), (601, 0)])
def test_hand_computed_day_with_grace(grace_s: float, out_s: float) -> None:
    r = compute_adherence(seg(SHIFT), ev(EVENTS), {"s": "Europe/Paris"}, grace_s=grace_s)
    row = one(r, agent_id="a")
    assert row["scheduled_s"] == 4 * 3600
    assert row["out_of_adherence_s"] == out_s
    assert row["adherence"] == pytest.approx((14400 - out_s) / 14400)
    # worked: 08:05-10:00 (6900 s) + 10:25-12:00 (5700 s) of 13500 s scheduled work
    assert row["worked_s"] == 12600 and row["scheduled_work_s"] == 13500
    assert row["conformance"] == pytest.approx(12600 / 13500)
    assert sorted(r.spells["duration_s"]) == [300, 600]
    assert r.spells["counted"].sum() == (r.spells["duration_s"] >= grace_s).sum()


def test_a_spell_runs_across_a_segment_boundary() -> None:
    # available through the first 5 min of the break, then on break until 10:20: two
    # spells of 300 s (available in break; break in work), not one
    e = [("a", "available", "2026-01-05 08:00"), ("a", "break", "2026-01-05 10:05"),
         ("a", "available", "2026-01-05 10:20")]
    r = compute_adherence(seg(SHIFT), ev(e), {"s": "UTC"})
    assert r.spells["duration_s"].tolist() == [300, 300]
    # logged out from 09:50 to 10:20: one spell of 1800 s through both boundaries
    e = [("a", "available", "2026-01-05 08:00"), ("a", "logged_out", "2026-01-05 09:50"),
         ("a", "available", "2026-01-05 10:20")]
    r = compute_adherence(seg(SHIFT), ev(e), {"s": "UTC"}, grace_s=1000)
    assert r.spells["duration_s"].tolist() == [1800]
    assert one(r, agent_id="a")["out_of_adherence_s"] == 1800


def test_overtime_raises_conformance_not_adherence() -> None:
    e = [("a", "available", "2026-01-05 07:00"), ("a", "break", "2026-01-05 10:00"),
         ("a", "available", "2026-01-05 10:15"), ("a", "logged_out", "2026-01-05 13:00")]
    row = one(compute_adherence(seg(SHIFT), ev(e), {"s": "UTC"}), agent_id="a")
    assert row["adherence"] == 1.0
    assert row["worked_s"] == 13500 + 2 * 3600
    assert row["conformance"] == pytest.approx((13500 + 7200) / 13500)


def test_a_night_shift_is_split_at_the_sites_local_midnight() -> None:
    # Paris, winter (UTC+1): 22:00-06:00 local = 21:00-05:00 UTC; out of adherence from
    # 23:50 to 00:20 local (a 30-min spell: counted with a 20-min grace, 10 min on the
    # first day, 20 min on the second)
    s = seg([("n", "work", "2026-01-05 21:00", "2026-01-06 05:00")])
    e = [("n", "available", "2026-01-05 21:00"), ("n", "other", "2026-01-05 22:50"),
         ("n", "available", "2026-01-05 23:20")]
    r = compute_adherence(s, ev(e), {"s": "Europe/Paris"}, grace_s=1200)
    d1 = one(r, day=pd.Timestamp("2026-01-05").date())
    d2 = one(r, day=pd.Timestamp("2026-01-06").date())
    assert (d1["scheduled_s"], d1["out_of_adherence_s"]) == (7200, 600)
    assert (d2["scheduled_s"], d2["out_of_adherence_s"]) == (6 * 3600, 1200)
    assert r.spells["duration_s"].tolist() == [1800]


def test_a_shift_over_the_new_york_spring_forward() -> None:
    # 2026-03-08 00:00-08:00 local is 05:00-12:00 UTC: 7 real hours. Out of adherence from
    # 01:30 EST to 03:30 EDT on the wall clock: 06:30-07:30 UTC, one real hour
    s = seg([("d", "work", "2026-03-08 05:00", "2026-03-08 12:00")])
    e = [("d", "available", "2026-03-08 05:00"), ("d", "other", "2026-03-08 06:30"),
         ("d", "available", "2026-03-08 07:30")]
    row = one(compute_adherence(s, ev(e), {"s": "America/New_York"}), agent_id="d")
    assert row["day"] == pd.Timestamp("2026-03-08").date()
    assert row["scheduled_s"] == 7 * 3600
    assert row["out_of_adherence_s"] == 3600
    assert row["adherence"] == pytest.approx(6 / 7)


def test_casablanca_ramadan_change_gives_a_25_hour_day() -> None:
    # Africa/Casablanca goes from UTC+1 to UTC+0 at 03:00 local on 2026-02-15 (Ramadan).
    # A night shift 20:00 (Feb 14) - 04:00 (Feb 15) local = 19:00-04:00 UTC: 9 real hours,
    # 4 on Feb 14 (19:00-23:00 UTC) and 5 on Feb 15 (23:00-04:00 UTC)
    s = seg([("m", "work", "2026-02-14 19:00", "2026-02-15 04:00")])
    e = [("m", "available", "2026-02-14 19:00")]
    r = compute_adherence(s, ev(e), {"s": "Africa/Casablanca"})
    d14 = one(r, day=pd.Timestamp("2026-02-14").date())
    d15 = one(r, day=pd.Timestamp("2026-02-15").date())
    assert (d14["scheduled_s"], d15["scheduled_s"]) == (4 * 3600, 5 * 3600)
    assert d14["worked_s"] == 4 * 3600
    # worked time is bounded by the local day (Feb 15 is 25 hours long) and by as_of
    assert d15["worked_s"] == 5 * 3600
    r = compute_adherence(s, ev(e), {"s": "Africa/Casablanca"},
                          as_of=pd.Timestamp("2026-02-16 00:00", tz="UTC"))
    assert one(r, day=pd.Timestamp("2026-02-15").date())["worked_s"] == 25 * 3600


def test_team_and_site_are_sums_of_seconds_not_means_of_ratios() -> None:
    s = pd.concat([seg(SHIFT, team="t1"),
                   seg([("b", "work", "2026-01-05 08:00", "2026-01-05 09:00")], team="t1")])
    e = ev([*EVENTS, ("b", "available", "2026-01-05 08:30")])
    r = compute_adherence(s, e, {"s": "UTC"})
    t = r.by_team.iloc[0]
    assert t["scheduled_s"] == 14400 + 3600
    assert t["out_of_adherence_s"] == 900 + 1800
    assert t["adherence"] == pytest.approx((18000 - 2700) / 18000)
    assert r.by_site.iloc[0]["adherence"] == t["adherence"]


def test_live_partial_day_counts_up_to_now_only() -> None:
    r = compute_adherence(seg(SHIFT), ev(EVENTS), {"s": "UTC"},
                          as_of=pd.Timestamp("2026-01-05 10:20", tz="UTC"))
    row = one(r, agent_id="a")
    assert row["scheduled_s"] == 2 * 3600 + 20 * 60
    assert row["out_of_adherence_s"] == 300 + 300


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_event_order_and_repeats_do_not_matter(rnd: random.Random) -> None:
    base = ev(EVENTS)
    shuffled = base.sample(frac=1.0, random_state=rnd.randrange(2**31))
    repeated = pd.concat([shuffled, shuffled.sample(n=3, random_state=1)])
    a = compute_adherence(seg(SHIFT), base, {"s": "UTC"}, grace_s=301).by_agent
    b = compute_adherence(seg(SHIFT), repeated, {"s": "UTC"}, grace_s=301).by_agent
    pd.testing.assert_frame_equal(a, b)


def test_event_log_rejects_a_reused_id_and_orders_ties_by_id() -> None:
    log = EventLog()
    log.add([AgentEvent.make("x", "a", "available", "2026-01-05T08:00:00Z")])
    with pytest.raises(InputError, match="already stored"):
        log.add([AgentEvent.make("x", "a", "break", "2026-01-05T08:00:00Z")])
    log.add([AgentEvent.make("z", "a", "meal", "2026-01-05T09:00:00Z"),
             AgentEvent.make("y", "a", "break", "2026-01-05T09:00:00Z")])
    assert log.state_at("a", pd.Timestamp("2026-01-05T09:00:00Z")) is AgentState.MEAL
    with pytest.raises(InputError) as e:
        events_from_frame(pd.DataFrame({"event_id": ["1", "2"], "agent_id": ["a", "a"],
                                        "state": ["available", "lunch"],
                                        "at": ["2026-01-05T08:00:00Z"] * 2}), file="ev.csv")
    assert (e.value.location.row, e.value.location.column) == (2, "state")
    with pytest.raises(InputError, match="no UTC offset"):
        AgentEvent.make("1", "a", "available", "2026-01-05T08:00:00")


def test_bad_schedules_are_clear() -> None:
    bad = seg([("a", "work", "2026-01-05 08:00", "2026-01-05 10:00"),
               ("a", "break", "2026-01-05 09:50", "2026-01-05 10:05")])
    with pytest.raises(InputError, match="overlapping"):
        compute_adherence(bad, ev(EVENTS), {"s": "UTC"})
    with pytest.raises(InputError, match="no time zone"):
        compute_adherence(seg(SHIFT), ev(EVENTS), {"other": "UTC"})
    lunch = seg([("a", "lunch", "2026-01-05 08:00", "2026-01-05 10:00")])
    with pytest.raises(InputError, match="unknown activity"):
        compute_adherence(lunch, ev(EVENTS), {"s": "UTC"})


def test_live_exceptions_appear_and_clear() -> None:
    live = LiveAdherence(seg(SHIFT))
    live.add(events_from_frame(ev(EVENTS)))
    at = pd.Timestamp("2026-01-05 10:22", tz="UTC")
    x = live.exceptions(at, min_duration_s=300)
    assert x["agent_id"].tolist() == ["a"] and x["duration_s"].tolist() == [420.0]
    assert x["since"].iloc[0] == pd.Timestamp("2026-01-05 10:15", tz="UTC")
    assert live.exceptions(at, min_duration_s=421).empty  # not yet N minutes
    assert live.exceptions(pd.Timestamp("2026-01-05 10:26", tz="UTC")).empty  # back


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=4 * 3600 - 1), st.randoms(use_true_random=False))
def test_live_spell_start_equals_the_batch_spell(offset_s: int, rnd: random.Random) -> None:
    # random state changes over the shift; at any instant the live view's "since" is the
    # start of the batch computation's spell that is still running at that instant
    states = [s.value for s in AgentState]
    times = sorted(rnd.sample(range(-1800, 4 * 3600 + 1800, 60), 12))
    t0 = pd.Timestamp("2026-01-05 08:00", tz="UTC")
    e = ev([("a", rnd.choice(states), str(t0 + pd.Timedelta(seconds=t))) for t in times])
    now = t0 + pd.Timedelta(seconds=offset_s)
    live = LiveAdherence(seg(SHIFT))
    live.add(events_from_frame(e))
    got = live.spell_start("a", now.to_pydatetime())
    r = compute_adherence(seg(SHIFT), e, {"s": "UTC"}, as_of=now)
    running = r.spells[r.spells["end"] == now]
    if got is None or pd.Timestamp(got) == now:  # adhering, or out since this instant
        assert running.empty
    else:
        assert len(running) == 1 and running["start"].iloc[0] == pd.Timestamp(got)
    assert np.isfinite(r.by_agent["scheduled_s"]).all()


def test_an_event_table_follows_the_event_log_rules() -> None:
    e = ev(EVENTS)
    clash = pd.concat([e, e.iloc[[1]].assign(state="meal")])
    with pytest.raises(InputError, match="two different events"):
        compute_adherence(seg(SHIFT), clash, {"s": "UTC"})
    with pytest.raises(InputError) as err:
        compute_adherence(seg(SHIFT), e.assign(state=["available", "lunch", *e["state"][2:]]),
                          {"s": "UTC"})
    assert (err.value.location.row, err.value.location.column) == (2, "state")
    # a table and an EventLog of the same events give the same result
    log = EventLog()
    log.add(events_from_frame(e))
    pd.testing.assert_frame_equal(compute_adherence(seg(SHIFT), e, {"s": "UTC"}).by_agent,
                                  compute_adherence(seg(SHIFT), log, {"s": "UTC"}).by_agent)


def test_an_agent_without_any_event_is_logged_out_throughout() -> None:
    s = seg([("a", "work", "2026-01-05 08:00", "2026-01-05 10:00"),
             ("b", "work", "2026-01-05 08:00", "2026-01-05 10:00")])
    ev = EventLog()
    ev.add([AgentEvent.make("1", "b", "available", "2026-01-05T08:00:00Z")])
    r = compute_adherence(s, ev, {"s": "UTC"}, as_of=pd.Timestamp("2026-01-05 09:00Z"))
    row = r.by_agent.set_index("agent_id").loc["a"]
    assert (row["scheduled_s"], row["out_of_adherence_s"], row["worked_s"]) == (3600, 3600, 0)
    lean = compute_adherence(s, ev, {"s": "UTC"}, as_of=pd.Timestamp("2026-01-05 09:00Z"),
                             totals=False)
    pd.testing.assert_frame_equal(lean.by_agent, r.by_agent)
    assert lean.by_team.empty and lean.by_site.empty
    sub = ev.subset(["a", "b"])
    assert sub.agents == ("b",) and sub.count("b") == 1 and sub.count("a") == 0
    live = LiveAdherence(s, log=ev)
    now = pd.Timestamp("2026-01-05 09:00Z").to_pydatetime()
    assert live.activity_at("a", now) == Activity.WORK
    assert list(live.exceptions(now, agents=["a"])["agent_id"]) == ["a"]
    assert live.exceptions(now, agents=["b"]).empty


# a night shift across the local midnight of Paris's spring DST change (a 23-hour day)
DST_SHIFT = [("n", "work", "2026-03-28 20:00", "2026-03-28 23:30"),
             ("n", "break", "2026-03-28 23:30", "2026-03-28 23:45"),
             ("n", "work", "2026-03-28 23:45", "2026-03-29 04:00"),
             ("n", "meal", "2026-03-29 18:00", "2026-03-29 18:30"),
             ("n", "work", "2026-03-29 18:30", "2026-03-29 22:00")]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=-3600, max_value=28 * 3600), st.sampled_from([0.0, 60.0, 600.0]),
       st.randoms(use_true_random=False))
def test_live_day_so_far_equals_the_batch_row(offset_s: int, grace_s: float,
                                              rnd: random.Random) -> None:
    # the live board's per-agent figures are compute_adherence's row of the local day
    states = [s.value for s in AgentState]
    t0 = pd.Timestamp("2026-03-28 20:00", tz="UTC")
    times = sorted(rnd.sample(range(-1800, 27 * 3600, 60), 20))
    e = ev([("n", rnd.choice(states), str(t0 + pd.Timedelta(seconds=t))) for t in times])
    now = (t0 + pd.Timedelta(seconds=offset_s)).to_pydatetime()
    tz = {"s": "Europe/Paris"}
    live = LiveAdherence(seg(DST_SHIFT), site_tz=tz)
    half = len(e) // 2  # events in two goes: the cached timeline is rebuilt
    live.add(events_from_frame(e.iloc[:half]))
    live.day_so_far("n", now, grace_s)
    live.add(events_from_frame(e.iloc[half:]))
    got = live.day_so_far("n", now, grace_s)
    r = compute_adherence(seg(DST_SHIFT), e, tz, grace_s=grace_s, as_of=now)
    day = pd.Timestamp(now).tz_convert("Europe/Paris").date()
    rows = r.by_agent[r.by_agent["day"] == day]
    if rows.empty:
        assert got is None
        return
    row = rows.iloc[0]
    assert got is not None and got.day == day
    for k in ("scheduled_s", "out_of_adherence_s", "scheduled_work_s", "worked_s",
              "in_adherence_s"):
        assert getattr(got, k) == row[k], k
    for k in ("adherence", "conformance"):
        assert (got.__getattribute__(k) is None) == pd.isna(row[k])
        if not pd.isna(row[k]):
            assert getattr(got, k) == row[k]
    ended = r.spells.loc[r.spells["end"] <= pd.Timestamp(now), "end"]
    assert got.last_spell_end == (ended.max().to_pydatetime() if len(ended) else None)
