"""Week edges: each site plans its local week; the plan week is cyclic, so the site whose
local week holds the hours next to an edge of the plan (in ``plan_tz``) can cover them.

Cases: a site west of UTC (Bogota, UTC-5: Sunday evening there is Monday 00:00-05:00 UTC)
and one east of it (Manila, UTC+8: Monday morning there is Sunday 16:00-24:00 UTC), on a
UTC plan. Before, no shift of either local week could reach those intervals and they
stayed empty whatever the requirement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openwfm.scheduling import build_problem, parse_config, solve_schedule
from openwfm.scheduling.check import check_schedule
from openwfm.scheduling.summary_figures import empty_intervals
from openwfm.scheduling.synthetic import SITES, flat_requirement, toy_scenario

NO_BREAKS = {"time_limit_s": 5, "breaks": [],
             "shifts": [{"start_step_min": 60, "lengths_h": [5]}]}


def _edge_problem(site, first: str, last: str):
    sc = toy_scenario(n_agents=1, site=site, contract_hours=5.0)
    req = flat_requirement(sc, 0.0)
    on = (req["interval_start"] >= pd.Timestamp(first, tz="UTC")) & (
        req["interval_start"] <= pd.Timestamp(last, tz="UTC"))
    req.loc[on, "agents"] = 1.0
    return build_problem(sc, req, parse_config(NO_BREAKS)), on.to_numpy()


@pytest.mark.parametrize(("site", "first", "last", "local_day"), [
    (SITES[2], "2026-03-30 00:00", "2026-03-30 04:45", "2026-04-05"),  # Bogota, Sunday
    (SITES[1], "2026-04-05 19:00", "2026-04-05 23:45", "2026-03-30"),  # Manila, Monday
])
def test_the_site_whose_local_week_holds_the_edge_covers_it(site, first, last, local_day):
    p, on = _edge_problem(site, first, last)
    assert p.cyclic
    r = solve_schedule(p)
    assert r.check.ok, r.check.counts()
    cov = r.coverage["scheduled"].to_numpy()
    assert (cov[on] == 1.0).all(), r.shifts
    # one 5 h shift, on the local day next to the edge of the site's week
    assert len(r.shifts) == 1 and r.shifts["start_local"].iloc[0].startswith(local_day)
    assert empty_intervals(p, r.coverage).empty


def test_a_shift_past_the_edge_counts_on_both_sides_in_the_checker_seats():
    # two Bogota agents, one seat: Sunday 20:00 local (01:00 UTC Monday next week, i.e.
    # the plan's first hours) and Monday 00:00 local (05:00 UTC) overlap on the cyclic week
    site = SITES[2].__class__("Bogota", "CO", "America/Bogota", 1, 8.5, "CO")
    sc = toy_scenario(n_agents=2, site=site, contract_hours=5.0)
    p = build_problem(sc, flat_requirement(sc, 0.0), parse_config(NO_BREAKS))
    ts = pd.Timestamp
    seg = pd.DataFrame({"agent_id": ["a1", "a2"], "site": ["Bogota"] * 2,
                        "activity": ["work"] * 2,
                        "start": [ts("2026-04-06 01:00", tz="UTC"),
                                  ts("2026-03-30 05:00", tz="UTC")],
                        "end": [ts("2026-04-06 06:00", tz="UTC"),
                                ts("2026-03-30 10:00", tz="UTC")]})
    v = [x for x in check_schedule(p, seg).violations if x.rule == "seats"]
    assert [(x.amount, x.at) for x in v] == [(1.0, ts("2026-03-30 05:00", tz="UTC"))]


def test_an_interval_no_agent_may_work_stays_empty_and_is_flagged():
    # the agent may not work nights: 23:00-05:00 local at Casablanca (UTC+1) cannot be
    # covered; the summary tells the empty intervals apart by whether anyone could
    sc = toy_scenario(n_agents=1, contract_hours=5.0, night_ok=False)
    req = flat_requirement(sc, 0.0)
    night = req["interval_start"].dt.hour.isin([0, 1])  # 01:00-03:00 local
    day = req["interval_start"].dt.hour.isin([10, 11]) & (
        req["interval_start"].dt.dayofweek == 2)
    req.loc[night | day, "agents"] = 1.0
    p = build_problem(sc, req, parse_config(NO_BREAKS))
    r = solve_schedule(p)
    assert r.check.ok, r.check.counts()
    empty = empty_intervals(p, r.coverage)
    assert not empty["legal_agent"].any()
    assert len(empty) == int(night.sum())
    cov = r.coverage.set_index(["interval_start", "queue"])["scheduled"]
    assert (cov.to_numpy()[day.to_numpy()] > 0).all()


def test_first_week_is_cyclic_and_later_weeks_take_the_carried_shifts():
    from dataclasses import replace

    from openwfm.scheduling.weeks import schedule_weeks

    sc = replace(toy_scenario(n_agents=2, site=SITES[2]), plan_days=14)
    cfg = parse_config({"time_limit_s": 4, "shifts": [{"start_step_min": 60,
                                                       "lengths_h": [9]}]})
    problem, r = schedule_weeks(sc, flat_requirement(sc, 1.0), cfg)
    assert problem.cyclic
    assert r.check.ok, r.check.counts()
    assert np.isfinite(r.objective)


# ------------------------------------------------------------- start-time stability rule
def _two_shifts(start2: str) -> pd.DataFrame:
    rows = [("a1", "Casablanca", "work", "2026-03-30 07:00", "2026-03-30 12:00"),
            ("a1", "Casablanca", "work", f"2026-04-01 {start2}", "2026-04-01 23:00")]
    df = pd.DataFrame(rows, columns=["agent_id", "site", "activity", "start", "end"])
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def test_rule_start_time_spread_hard_exact_excess():
    # starts 08:00 and 14:00 local (UTC+1): 6 h apart, 2 h allowed -> 4 h over
    sc = toy_scenario(n_agents=1, contract_hours=14.0)
    cfg = {**NO_BREAKS, "shifts": [{"lengths_h": [5, 10]}], "start_spread_hard": True}
    p = build_problem(sc, flat_requirement(sc, 0.0), parse_config(cfg))
    v = [x for x in check_schedule(p, _two_shifts("13:00")).violations
         if x.rule == "start_time_spread"]
    assert [(x.agent_id, x.amount) for x in v] == [("a1", 4.0)]
    soft = build_problem(sc, flat_requirement(sc, 0.0), parse_config(
        {**cfg, "start_spread_hard": False}))
    assert "start_time_spread" not in check_schedule(soft, _two_shifts("13:00")).counts()


def test_start_time_spread_hard_holds_in_the_solved_schedule():
    # demand moves through the day; with a hard 0 h spread each agent starts at one time
    sc = toy_scenario(n_agents=3, contract_hours=40.0)
    req = flat_requirement(sc, 0.0)
    hour = req["interval_start"].dt.hour
    req["agents"] = np.where((hour >= 6 + req["interval_start"].dt.dayofweek)
                             & (hour < 14 + req["interval_start"].dt.dayofweek), 2.0, 0.5)
    cfg = parse_config({"time_limit_s": 5, "breaks": [], "start_spread_hard": True,
                        "start_spread_max_h": 0,
                        "shifts": [{"start_step_min": 60, "lengths_h": [8]}]})
    r = solve_schedule(build_problem(sc, req, cfg))
    assert r.check.ok, r.check.counts()
    local = r.shifts["start_local"].str[11:16]
    assert local.groupby(r.shifts["agent_id"]).agg(lambda x: len(set(x))).max() == 1


def test_start_time_spread_soft_weight_lowers_the_spread():
    from openwfm.scheduling.summary_figures import start_spreads_h

    sc = toy_scenario(n_agents=3, contract_hours=40.0)
    req = flat_requirement(sc, 0.0)
    hour = req["interval_start"].dt.hour
    req["agents"] = np.where((hour >= 6 + req["interval_start"].dt.dayofweek)
                             & (hour < 14 + req["interval_start"].dt.dayofweek), 2.0, 0.5)
    base = {"time_limit_s": 5, "breaks": [], "start_spread_max_h": 0,
            "shifts": [{"start_step_min": 60, "lengths_h": [8]}]}
    free = solve_schedule(build_problem(sc, req, parse_config(
        {**base, "start_spread_weight": 0})))
    stable = solve_schedule(build_problem(sc, req, parse_config(
        {**base, "start_spread_weight": 5})))
    assert free.check.ok and stable.check.ok
    assert start_spreads_h(stable.shifts).sum() < start_spreads_h(free.shifts).sum()


def test_start_spread_settings_are_checked():
    from openwfm.errors import InputError

    with pytest.raises(InputError, match="start_spread_max_h"):
        parse_config({"start_spread_max_h": -1})
    with pytest.raises(InputError, match="start_spread_hard"):
        parse_config({"start_spread_hard": "maybe"})
    with pytest.raises(InputError, match="wall_clock_cap_s"):
        parse_config({"wall_clock_cap_s": 0})
