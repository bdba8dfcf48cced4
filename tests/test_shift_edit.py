"""openwfm.app.shift_edit: a moved or resized shift, the labour rules it breaks or fixes
(the independent checker) and the coverage it moves, on the demo center's pattern week."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from openwfm.app.shift_edit import QueueGoal, changed_window, edit_effect, edit_shift
from openwfm.demo import demo_scenario
from openwfm.scheduling.model import build_problem
from openwfm.scheduling.synthetic import flat_requirement
from web_support import shift_segments, week_pattern


@pytest.fixture(scope="module")
def week() -> tuple:
    sc = demo_scenario()
    sites = {a.id: a.site for a in sc.agents}
    rows = [seg for s in week_pattern(sc) for seg in shift_segments(s)]
    seg = pd.DataFrame(rows).rename(columns={"queue_id": "queue"})
    seg["site"] = seg["agent_id"].map(sites)
    for c in ("start", "end"):
        seg[c] = pd.to_datetime(seg[c], utc=True)
    seg = seg[["agent_id", "site", "activity", "start", "end", "queue"]]
    return sc, build_problem(sc, flat_requirement(sc, 0.0)), seg


def _effect(problem, seg, agent, start, new_start, new_end, required, forecast=None,
            goals=None):
    before = seg[seg["agent_id"] == agent]
    after = edit_shift(before, start, new_start, new_end)
    end = before[before["start"] >= start]["end"].iloc[6]
    lo, hi = changed_window([(start, end), (new_start, new_end)], 900)
    window = seg[(seg["start"] < hi) & (seg["end"] > lo)]
    site = window[(window["site"] == before["site"].iloc[0]) & (window["agent_id"] != agent)]
    return edit_effect(problem, agent, before, after, site, window, required, forecast, goals)


def test_a_late_shift_breaks_night_work_and_moving_back_fixes_it(week: tuple) -> None:
    sc, problem, seg = week
    agent = next(a.id for a in sc.agents if not a.night_ok)
    first = seg[seg["agent_id"] == agent]["start"].min()
    late = first.normalize() + timedelta(hours=20)
    required = pd.DataFrame({"queue": [], "interval_start": [], "agents": []})
    eff = _effect(problem, seg, agent, first, late, late + timedelta(hours=8.5), required)
    assert {v.rule for v in eff.new} >= {"night_ok"}
    assert not eff.ok
    moved = seg[seg["agent_id"] == agent].copy()
    moved = edit_shift(moved, first, late, late + timedelta(hours=8.5))
    back = edit_effect(problem, agent, moved, seg[seg["agent_id"] == agent],
                       seg.iloc[:0], seg.iloc[:0], required)
    assert {v.rule for v in back.fixed} >= {"night_ok"} and back.ok


def test_resizing_breaks_the_shift_length_and_coverage_moves(week: tuple) -> None:
    sc, problem, seg = week
    agent = sc.agents[0].id
    mine = seg[seg["agent_id"] == agent]
    first = mine["start"].min()
    queue = mine["queue"].dropna().iloc[0]
    end = first + timedelta(hours=8.5)
    times = pd.date_range(first - timedelta(hours=1), end + timedelta(hours=2), freq="15min")
    required = pd.DataFrame({"queue": queue, "interval_start": times, "agents": 1e6})
    eff = _effect(problem, seg, agent, first, first, end + timedelta(hours=1), required)
    # traffic of 90 % of the agents there before: one more agent matters
    load = {t: r.before * 0.9 for r in eff.coverage if r.before for t in times
            if r.start <= t < r.end}
    forecast = pd.DataFrame({"queue": queue, "interval_start": list(load),
                             "volume": [a * 900 / 300 for a in load.values()],
                             "aht_s": 300.0})
    goals = {queue: QueueGoal(20.0)}
    eff = _effect(problem, seg, agent, first, first, end + timedelta(hours=1), required,
                  forecast, goals)
    assert "shift_length" in {v.rule for v in eff.new}
    # one more agent on the queue: the service level of those intervals goes up
    staffed = [r for r in eff.coverage if r.before]
    assert staffed and all(r.sl_after > r.sl_before for r in staffed)
    runs = [c for c in eff.coverage if c.queue == queue]
    assert runs[0].start == end and runs[-1].end == end + timedelta(hours=1)
    assert all(r.after == r.before + 1 for r in runs)
    assert [c for c in eff.coverage if c.queue != queue] == []
    assert eff.below_before == eff.below_after == 4  # 4 quarter-hours, still short of 1e6


def test_edit_shift_refuses_an_end_before_the_start(week: tuple) -> None:
    _, _, seg = week
    mine = seg[seg["agent_id"] == seg["agent_id"].iloc[0]]
    t = mine["start"].min()
    with pytest.raises(ValueError, match="end after it starts"):
        edit_shift(mine, t, t, t)
    with pytest.raises(KeyError):
        edit_shift(mine, t + timedelta(minutes=1), t, t + timedelta(hours=1))

