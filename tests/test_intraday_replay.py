"""The replay's day of agent states: deterministic for a seed, follows the schedule, and
gives the real bank calls to available agents only, one contact at a time."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from conftest import BANK_LOG
from openwfm.intraday.adherence import compute_adherence
from openwfm.intraday.replay import calls_on_day, replay_events
from openwfm.io.calllog import read_call_log


def _schedule(agents: int) -> pd.DataFrame:
    rows = []
    for i in range(agents):
        t0 = pd.Timestamp("2026-12-06 06:00", tz="UTC") + pd.Timedelta(hours=i % 6)
        brk = t0 + pd.Timedelta(hours=4)
        for act, a, b in (("work", t0, brk), ("break", brk, brk + pd.Timedelta(minutes=30)),
                          ("work", brk + pd.Timedelta(minutes=30), t0 + pd.Timedelta(hours=9))):
            rows.append((f"a{i:02d}", act, a, b))
    return pd.DataFrame(rows, columns=["agent_id", "activity", "start", "end"])


@pytest.fixture(scope="module")
def bank_calls() -> pd.DataFrame:
    if not BANK_LOG.exists():
        pytest.skip(f"the bank log is not at {BANK_LOG} (see tests/conftest.py)")
    return calls_on_day(read_call_log(BANK_LOG), date(1999, 2, 1), "Asia/Jerusalem",
                        date(2026, 12, 6), "Africa/Casablanca")


def test_a_day_from_the_bank_log_follows_the_schedule(bank_calls: pd.DataFrame) -> None:
    seg = _schedule(30)
    day = replay_events(seg, bank_calls, seed=3)
    again = replay_events(seg, bank_calls, seed=3)
    pd.testing.assert_frame_equal(day.events, again.events)  # same seed, same day
    assert day.calls_served + day.calls_unserved == len(bank_calls) > 500
    assert day.calls_served > 0.5 * len(bank_calls)
    ev = day.events
    assert ev["event_id"].is_unique and ev["at"].is_monotonic_increasing
    # every contact starts while its agent is scheduled to work (give or take the seeded
    # deviations: early logins, late breaks, at most 15 minutes and some jitter)
    contacts = ev[ev["state"] == "on_contact"]
    assert len(contacts) == day.calls_served
    for agent, g in ev.groupby("agent_id"):
        s = seg[seg["agent_id"] == agent]
        for t in g.loc[g["state"] == "on_contact", "at"]:
            slack = pd.Timedelta(minutes=20)
            assert ((s["activity"] == "work") & (s["start"] - slack <= t)
                    & (t < s["end"] + slack)).any()
        states = g["state"].tolist()
        for k, st in enumerate(states[:-1]):
            if st == "on_contact":
                assert states[k + 1] == "after_contact_work"
        assert states[-1] == "logged_out"
    # the day is mostly adherent, not perfectly: the seeded deviations show
    res = compute_adherence(seg.assign(site="cas"), ev, {"cas": "Africa/Casablanca"},
                            grace_s=60)
    adherence = res.by_site["adherence"].iloc[0]
    assert 0.8 < adherence < 1.0
