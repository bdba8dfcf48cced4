"""Plans of several weeks: week by week, the rules hold across every week boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from openwfm.errors import InputError
from openwfm.scheduling import parse_config
from openwfm.scheduling.synthetic import flat_requirement, toy_scenario
from openwfm.scheduling.weeks import history_after, schedule_weeks

CFG = {"time_limit_s": 4, "shifts": [{"start_step_min": 60, "lengths_h": [8, 9]}]}


def _two_weeks(n=3):
    sc = replace(toy_scenario(n_agents=n), plan_days=14)
    req = flat_requirement(sc, 0.5)
    ts = pd.to_datetime(req["interval_start"], utc=True)
    # a busy Sunday evening and Monday morning around the week boundary: the pull to work
    # late on Sunday and early on Monday is what the history must hold back
    busy = (ts >= pd.Timestamp("2026-04-05 16:00", tz="UTC")) & (
        ts < pd.Timestamp("2026-04-06 12:00", tz="UTC"))
    req.loc[busy, "agents"] = 3.0
    return sc, req


def test_two_weeks_rest_and_consecutive_days_across_the_boundary():
    sc, req = _two_weeks()
    problem, r = schedule_weeks(sc, req, parse_config(CFG))
    assert r.check.ok, r.check.counts()
    assert len(r.coverage) == 14 * 96
    pack = problem.packs["Casablanca"]
    zone = "Africa/Casablanca"
    for aid, sh in r.shifts.groupby("agent_id"):
        start = pd.to_datetime(sh["start_utc"], utc=True).sort_values().to_numpy()
        end = pd.to_datetime(sh["end_utc"], utc=True).sort_values().to_numpy()
        rest_h = (start[1:] - end[:-1]) / np.timedelta64(1, "h")
        assert rest_h.min() >= pack.min_rest_h - 1e-9, aid  # over the whole fortnight
        days = sorted({(pd.Timestamp(s).tz_convert(zone).date() - sc.plan_start).days
                       for s in sh["start_utc"]})
        run = best = 0
        for d in range(14):
            run = run + 1 if d in days else 0
            best = max(best, run)
        assert best <= pack.max_consecutive_days, aid
        for w in range(2):  # weekly hours judged per week
            paid = sh.loc[[(pd.Timestamp(s).tz_convert(zone).date() - sc.plan_start).days
                           // 7 == w for s in sh["start_utc"]], "paid_h"].sum()
            assert 38 - 1e-9 <= paid <= 40 + 1e-9, (aid, w, paid)
    assert r.objective == pytest.approx(r.cost + r.penalty)
    assert r.lp_bound <= r.objective * (1 + 1e-8) + 1e-6  # IPM tolerance


def test_history_after_counts_the_run_to_the_last_day():
    sc = toy_scenario(n_agents=2)
    _problem, r = schedule_weeks(sc, flat_requirement(sc, 1.0), parse_config(CFG))
    hist = {h.agent_id: h for h in history_after(_problem, r)}
    for aid, sh in r.shifts.groupby("agent_id"):
        worked = {datetime.fromisoformat(x).date() for x in sh["start_local"]}
        run, d = 0, date(2026, 4, 5)
        while d in worked:
            run, d = run + 1, d - timedelta(days=1)
        assert hist[aid].consecutive_days == run
        assert pd.Timestamp(hist[aid].last_shift_end) == max(pd.to_datetime(sh["end_utc"],
                                                                            utc=True))


def test_plan_not_whole_weeks_names_plan_days():
    sc = replace(toy_scenario(n_agents=1), plan_days=10)
    with pytest.raises(InputError) as e:
        schedule_weeks(sc, flat_requirement(sc, 1.0), parse_config(CFG))
    assert e.value.location.column == "plan_days"


def test_previous_weeks_night_shift_takes_its_seat():
    # one seat, two 8 h agents; shifts start Sunday 20:00-21:00 (9 h, into Monday) or
    # Monday 00:00-06:00 (local). Week 1's Sunday night shift still holds the seat early on
    # Monday of week 2, so week 2's Monday shift starts only once it ends; the fortnight's
    # seats are re-checked as a whole (a week's own check cannot see the carried shift)
    site = replace(toy_scenario().sites[0], seats=1)
    sc = replace(toy_scenario(n_agents=2, site=site, contract_hours=8.0), plan_days=14)
    req = flat_requirement(sc, 0.2)
    ts = pd.to_datetime(req["interval_start"], utc=True)
    night = (ts >= pd.Timestamp("2026-04-05 19:00", tz="UTC")) & (
        ts < pd.Timestamp("2026-04-06 12:00", tz="UTC"))
    req.loc[night, "agents"] = 2.0
    cfg = {"time_limit_s": 4, "shifts": [
        {"name": "night", "start_step_min": 60, "earliest": "20:00", "latest": "21:00",
         "lengths_h": [9], "days": [6]},
        {"name": "early", "start_step_min": 60, "earliest": "00:00", "latest": "06:00",
         "lengths_h": [9], "days": [0]}]}
    _problem, r = schedule_weeks(sc, req, parse_config(cfg))
    assert r.check.ok, r.check.counts()
    start = pd.to_datetime(r.shifts["start_utc"], utc=True)
    end = pd.to_datetime(r.shifts["end_utc"], utc=True)
    boundary = pd.Timestamp("2026-04-05 22:00", tz="UTC")  # Monday 00:00 in Casablanca
    carried = end[(start < boundary) & (end > boundary)]
    assert len(carried) == 1  # week 1 ends with a night shift running into week 2
    monday = start[(start >= boundary) & (start < boundary + pd.Timedelta(hours=24))]
    assert len(monday) == 1 and monday.iloc[0] >= carried.iloc[0]
    # ... and covers week 2's first hours: the coverage table counts every work segment
    # in them, the carried shift's included (one queue, one skill: no split)
    lo, hi = boundary, boundary + pd.Timedelta(hours=4)
    seg = r.segments[r.segments["activity"] == "work"]
    work_h = ((seg["end"].clip(lower=lo, upper=hi) - seg["start"].clip(lower=lo, upper=hi))
              .dt.total_seconds().sum() / 3600)
    cov = r.coverage
    t = pd.to_datetime(cov["interval_start"], utc=True)
    first = cov[(t >= lo) & (t < hi)]
    assert len(first) == 16
    assert first["scheduled"].sum() / 4 == pytest.approx(work_h)
    carried_h = ((seg["end"].clip(upper=hi) - seg["start"].clip(lower=lo)).dt.total_seconds()
                 [(seg["start"] < lo) & (seg["end"] > lo)].sum() / 3600)
    assert carried_h > 1.0  # the carried shift does work in week 2
