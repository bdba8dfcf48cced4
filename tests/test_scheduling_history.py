"""Scheduling across the previous week's boundary (history) and agent preferences (soft)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openwfm.errors import InfeasibleError, InputError
from openwfm.scheduling import build_problem, check_schedule, parse_config, solve_schedule
from openwfm.scheduling.history import longest_run, max_work_days
from openwfm.scheduling.preference_costs import preference_report, shift_penalties
from openwfm.scheduling.synthetic import flat_requirement, toy_scenario

EIGHT = {"time_limit_s": 10, "breaks": [], "shifts": [{"start_step_min": 60, "lengths_h": [8]}]}


def _csv(tmp: Path, name: str, text: str) -> str:
    (tmp / name).write_text(text.strip() + "\n")
    return name


def _problem(tmp: Path, *, history: str | None = None, preferences: str | None = None,
             cfg: dict = EIGHT, req: float = 1.0, n: int = 1, **kw):
    raw = dict(cfg)
    if history is not None:
        raw["history"] = _csv(tmp, "history.csv", history)
    if preferences is not None:
        raw["preferences"] = _csv(tmp, "preferences.csv", preferences)
    sc = toy_scenario(n_agents=n, **kw)
    return build_problem(sc, flat_requirement(sc, req), parse_config(raw, base=tmp))


def _seg(rows):
    df = pd.DataFrame(rows, columns=["agent_id", "site", "activity", "start", "end"])
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def _starts(result) -> pd.Series:
    return pd.to_datetime(result.shifts["start_utc"], utc=True)


# ---------------------------------------------------------------- history: reading

def test_history_local_time_resolved_in_site_zone(tmp_path):
    # Casablanca is UTC+1 on 2026-03-29: 23:00 local = 22:00 UTC = 120 min before the origin
    p = _problem(tmp_path, history="agent_id,last_shift_end,consecutive_days_worked\n"
                                   "a1,2026-03-29T23:00,3")
    assert p.history["a1"].last_end == -120 and p.history["a1"].consecutive_days == 3
    p = _problem(tmp_path, history="agent_id,last_shift_end,consecutive_days_worked\n"
                                   "a1,2026-03-29T23:00+00:00,0")
    assert p.history["a1"].last_end == -60


@pytest.mark.parametrize(("text", "row", "column"), [
    ("a1,2026-03-29 25:00,1", 1, "last_shift_end"),
    ("a1,2026-03-29T23:00,-1", 1, "consecutive_days_worked"),
    ("a1,2026-03-29T23:00,two", 1, "consecutive_days_worked"),
    ("a1,2026-03-29T23:00,1\na1,2026-03-29T22:00,1", 2, "agent_id"),
    ("a1,2026-03-29T23:00,1\nzz,2026-03-29T22:00,1", 2, "agent_id"),
    ("a1,,1", 1, "last_shift_end"),
    ("a1,2026-04-01T08:00,1", 1, "last_shift_end"),  # not the previous week
    ("a1,2026-03-28T23:00,1", 1, "consecutive_days_worked"),  # off on Sunday 29
])
def test_history_bad_rows_name_row_and_column(tmp_path, text, row, column):
    with pytest.raises(InputError) as e:
        _problem(tmp_path, history="agent_id,last_shift_end,consecutive_days_worked\n" + text)
    loc = e.value.location
    assert (Path(loc.file).name, loc.row, loc.column) == ("history.csv", row, column)


def test_history_missing_column(tmp_path):
    with pytest.raises(InputError) as e:
        _problem(tmp_path, history="agent_id,last_shift_end\na1,2026-03-29T23:00")
    assert e.value.location.column == "consecutive_days_worked"


# ---------------------------------------------------------------- history: checker

def test_checker_min_rest_after_history_exact(tmp_path):
    p = _problem(tmp_path, history="agent_id,last_shift_end,consecutive_days_worked\n"
                                   "a1,2026-03-29T23:00,0", req=0.0, contract_hours=8)
    # last shift ended 22:00 UTC; a shift at 07:00 UTC leaves 9 h of the 11 h rest
    bad = check_schedule(p, _seg([("a1", "Casablanca", "work", "2026-03-30 07:00",
                                   "2026-03-30 15:00")])).violations
    assert [(x.rule, x.amount) for x in bad] == [("min_rest", 2.0)]
    ok = check_schedule(p, _seg([("a1", "Casablanca", "work", "2026-03-30 09:00",
                                  "2026-03-30 17:00")]))
    assert ok.ok, ok.counts()


def test_checker_max_consecutive_days_counts_carried_in(tmp_path):
    hist = "agent_id,last_shift_end,consecutive_days_worked\na1,2026-03-29T17:00,{}"
    rows = [("a1", "Casablanca", "work", f"2026-03-{30 + d} 08:00", f"2026-03-{30 + d} 16:00")
            for d in range(2)]
    pk = {**EIGHT, "rule_packs": {"MA": [{"min_days_off": 0, "min_consecutive_days_off": 0}]}}
    for carried, excess in ((4, 0), (5, 1), (6, 2)):
        p = _problem(tmp_path, history=hist.format(carried), req=0.0, contract_hours=16,
                     cfg=pk)
        v = check_schedule(p, _seg(rows)).violations
        assert [(x.rule, x.amount) for x in v] == ([("max_consecutive_days", excess)]
                                                   if excess else [])


# ---------------------------------------------------------------- history: solver

def test_solver_rest_after_last_shift_at_23h_local(tmp_path):
    # demand only early on day 0 (00:00-09:00 UTC): without history the agent starts there
    sc = toy_scenario(n_agents=1)
    req = flat_requirement(sc, 0.2)
    t = pd.to_datetime(req["interval_start"], utc=True)
    req.loc[t < pd.Timestamp("2026-03-30 09:00", tz="UTC"), "agents"] = 3.0
    free = solve_schedule(build_problem(sc, req, parse_config(EIGHT)))
    assert free.check.ok and (_starts(free) < pd.Timestamp("2026-03-30 09:00", tz="UTC")).any()
    _csv(tmp_path, "h.csv", "agent_id,last_shift_end,consecutive_days_worked\n"
                            "a1,2026-03-29T23:00,1")
    p = build_problem(sc, req, parse_config({**EIGHT, "history": "h.csv"}, base=tmp_path))
    r = solve_schedule(p)
    assert r.check.ok, r.check.counts()
    # 23:00 local (UTC+1) + 11 h = 10:00 local = 09:00 UTC on 2026-03-30
    assert _starts(r).min() >= pd.Timestamp("2026-03-30 09:00", tz="UTC")
    assert len(r.shifts) == 5


def test_solver_six_days_carried_in_gets_day0_off(tmp_path):
    # day 0 needs the most agents, so stage 1 puts a shift there that stage 2 cannot give
    sc = toy_scenario(n_agents=1)
    req = flat_requirement(sc, 0.3)
    t = pd.to_datetime(req["interval_start"], utc=True)
    req.loc[t < pd.Timestamp("2026-03-30 23:00", tz="UTC"), "agents"] = 3.0
    _csv(tmp_path, "h.csv", "agent_id,last_shift_end,consecutive_days_worked\n"
                            "a1,2026-03-29T17:00,6")
    r = solve_schedule(build_problem(sc, req, parse_config({**EIGHT, "history": "h.csv"},
                                                           base=tmp_path)))
    assert r.check.ok, r.check.counts()
    local_days = {(s.tz_convert("Africa/Casablanca").date() - date(2026, 3, 30)).days
                  for s in _starts(r)}
    assert 0 not in local_days and len(local_days) == 5


def test_ramadan_offset_change_between_history_and_plan(tmp_path):
    # Morocco leaves Ramadan time (UTC+0 -> UTC+1) on 2026-03-22 at 02:00 UTC. The last
    # shift ended 2026-03-21 23:00 local = 23:00 UTC (UTC+0 then): the plan (starting
    # 2026-03-22, UTC+1) may start shifts from 10:00 UTC = 11:00 local, not 10:00 local.
    hist = "agent_id,last_shift_end,consecutive_days_worked\na1,2026-03-21T23:00,2"
    p = _problem(tmp_path, history=hist, plan_start=date(2026, 3, 22))
    assert p.history["a1"].last_end == -60
    bad = check_schedule(p, _seg([("a1", "Casablanca", "work", "2026-03-22 09:30",
                                   "2026-03-22 17:30")])).counts()
    assert bad.get("min_rest") == 1  # 10:30 local: 10.5 h of rest
    r = solve_schedule(p)
    assert r.check.ok, r.check.counts()
    assert _starts(r).min() >= pd.Timestamp("2026-03-22 10:00", tz="UTC")


def test_max_work_days_equals_hand_count():
    # 7 days, 1 day off, at most 3 in a row: 1110111 -> 6; 3 carried in: 0111011 -> 5
    rules = {"min_days_off": 1, "min_consecutive_days_off": 0, "max_consecutive_days": 3}
    assert max_work_days(7, **rules) == 6
    assert max_work_days(7, carried=3, **rules) == 5
    assert max_work_days(7, blocked=frozenset({0}), **rules) == 5
    assert longest_run(np.array([True] * 3), carried=3) == 6


def test_infeasible_history_names_rule_and_agent(tmp_path):
    from openwfm.scheduling.explain import precheck

    # 44 h contract (42 h needed), 8 h shifts, max 3 days in a row: 6 days (48 h) fit
    # without history, 5 (40 h) after 3 carried-in days or with day 0 blocked by the rest
    cfg = {**EIGHT, "rule_packs": {"MA": [{"max_consecutive_days": 3, "min_days_off": 1,
                                           "min_consecutive_days_off": 0}]}}
    precheck(_problem(tmp_path, cfg=cfg, contract_hours=44))
    head = "agent_id,last_shift_end,consecutive_days_worked\n"
    p = _problem(tmp_path, cfg=cfg, contract_hours=44, history=head + "a1,2026-03-29T17:00,3")
    with pytest.raises(InfeasibleError, match="40 h fit") as e:
        solve_schedule(p)
    assert e.value.rule == "max_consecutive_days:a1"
    # a night shift ending 14:00 local on day 0: no day-0 start (latest 23:00) is 11 h later
    p = _problem(tmp_path, cfg=cfg, contract_hours=44, history=head + "a1,2026-03-30T14:00,0")
    with pytest.raises(InfeasibleError) as e:
        solve_schedule(p)
    assert e.value.rule == "min_rest:a1"


# ---------------------------------------------------------------- preferences

PREF = "agent_id,kind,value,weight\n"


@pytest.mark.parametrize(("text", "row", "column"), [
    ("a1,day_on,monday,1", 1, "kind"),
    ("a1,day_off,someday,1", 1, "value"),
    ("a1,day_off,2026-05-01,1", 1, "value"),  # outside the plan week
    ("a1,start_between,14:00,1", 1, "value"),
    ("a1,start_between,14:00-25:00,1", 1, "value"),
    ("a1,max_nights,-2,1", 1, "value"),
    ("a1,max_nights,2,-1", 1, "weight"),
    ("a1,max_nights,2,1\nzz,max_nights,2,1", 2, "agent_id"),
    ("a1,,2,1", 1, "kind"),
])
def test_preferences_bad_rows_name_row_and_column(tmp_path, text, row, column):
    with pytest.raises(InputError) as e:
        _problem(tmp_path, preferences=PREF + text)
    loc = e.value.location
    assert (Path(loc.file).name, loc.row, loc.column) == ("preferences.csv", row, column)


def test_preference_report_exact_counts(tmp_path):
    prefs = PREF + ("a1,day_off,tuesday,2\na1,start_between,14:00-23:00,1\n"
                    "a1,max_nights,0,3\na1,day_off,2026-04-02,1\na1,start_between,06:00-09:00,")
    p = _problem(tmp_path, preferences=prefs, req=0.0, contract_hours=24)
    # Casablanca UTC+1: Mon 09:00 local, Tue 15:00 local, Thu 21:00 local (3 h of night)
    rows = [("a1", "Casablanca", "work", "2026-03-30 08:00", "2026-03-30 16:00"),
            ("a1", "Casablanca", "work", "2026-03-31 14:00", "2026-03-31 22:00"),
            ("a1", "Casablanca", "work", "2026-04-02 20:00", "2026-04-03 04:00")]
    rep = preference_report(p, _seg(rows))
    assert rep[["kind", "violations", "met", "penalty"]].values.tolist() == [
        ["day_off", 1, False, 2.0], ["start_between", 1, False, 1.0],
        ["max_nights", 1, False, 3.0], ["day_off", 1, False, 1.0],
        ["start_between", 2, False, 2.0]]
    assert rep["weight"].tolist() == [2.0, 1.0, 3.0, 1.0, 1.0]  # blank weight = 1


def test_preference_met_at_no_cost_by_swapping_agents(tmp_path):
    # two interchangeable agents: find a day only one of them works, and let that agent
    # prefer it off; swapping their weeks costs nothing, so the preference is met
    sc = toy_scenario(n_agents=2)
    req = flat_requirement(sc, 1.0)
    # start times free to move (rule start_time_spread off): with it, both agents work the
    # same days at steady times and there is no week to swap
    eight = {**EIGHT, "start_spread_weight": 0}
    free = solve_schedule(build_problem(sc, req, parse_config(eight)))
    days = {a: {(s.tz_convert("Africa/Casablanca").date() - date(2026, 3, 30)).days
                for s in pd.to_datetime(df["start_utc"], utc=True)}
            for a, df in free.shifts.groupby("agent_id")}
    only = sorted(days["a1"] - days["a2"])
    assert only, days
    day = date(2026, 3, 30 + only[0]) if only[0] < 2 else date(2026, 4, only[0] - 1)
    _csv(tmp_path, "p.csv", PREF + f"a1,day_off,{day.isoformat()},1")
    p = build_problem(sc, req, parse_config({**eight, "preferences": "p.csv"}, base=tmp_path))
    r = solve_schedule(p)
    assert r.check.ok, r.check.counts()
    assert r.preferences["met"].tolist() == [True]
    assert r.cost == pytest.approx(free.cost)


def test_preference_against_contract_hours_is_not_met(tmp_path):
    # a 40 h contract needs 5 shifts of 8 h: at most 2 of 7 day-off wishes can be met
    week = "\n".join(f"a1,day_off,{d},5" for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                   "sun"))
    r = solve_schedule(_problem(tmp_path, preferences=PREF + week))
    assert r.check.ok, r.check.counts()
    assert r.preferences["met"].sum() == 2
    assert (r.preferences.loc[~r.preferences["met"], "violations"] == 1).all()


def test_start_between_preference_followed(tmp_path):
    # a student prefers starts 14:00-20:00 local. Moving an 8 h shift off the stage-1 plan
    # costs 2 x 8 = 16 shift-hours in stage 2: weight 1 does not pay for it, weight 20 does
    def local_starts(weight):
        r = solve_schedule(_problem(
            tmp_path, preferences=PREF + f"a1,start_between,14:00-20:00,{weight}", req=0.5))
        assert r.check.ok, r.check.counts()
        local = _starts(r).dt.tz_convert("Africa/Casablanca")
        return r.preferences, (local.dt.hour * 60 + local.dt.minute)

    weak, minutes = local_starts(1)  # the report counts the starts outside the window
    assert weak["violations"].iloc[0] == ((minutes < 14 * 60) | (minutes > 20 * 60)).sum()
    strong, minutes = local_starts(20)
    assert strong["met"].tolist() == [True]
    assert ((minutes >= 14 * 60) & (minutes <= 20 * 60)).all()


def test_schedule_cli_history_and_preferences(tmp_path, cli):
    from test_cli_schedule import TOML, _req  # tests/ is on sys.path (rootdir conftest)

    (tmp_path / "sc.toml").write_text(TOML)
    _req().to_csv(tmp_path / "req.csv", index=False)
    _csv(tmp_path, "h.csv", "agent_id,last_shift_end,consecutive_days_worked\n"
                            "a1,2026-03-29T23:00,6")
    _csv(tmp_path, "p.csv", PREF + "a2,day_off,sunday,1\na2,max_nights,0,")
    code, _, err = cli("schedule", str(tmp_path / "sc.toml"), str(tmp_path / "req.csv"),
                       "-o", str(tmp_path / "out"), "--history", str(tmp_path / "h.csv"),
                       "--preferences", str(tmp_path / "p.csv"))
    assert code == 0, err
    summary = dict(pd.read_csv(tmp_path / "out" / "schedule_summary.csv")
                   .itertuples(index=False))
    assert summary["violations"] == "0" and summary["preferences_total"] == "2"
    rep = pd.read_csv(tmp_path / "out" / "preferences.csv")
    assert rep["agent_id"].tolist() == ["a2", "a2"]
    assert int(summary["preferences_met"]) == int(rep["met"].sum())
    seg = pd.read_csv(tmp_path / "out" / "segments.csv", parse_dates=["start"])
    first = seg.loc[seg["agent_id"] == "a1", "start"].min()
    assert first >= pd.Timestamp("2026-03-31", tz="UTC")  # day 0 off after 6 days
    _csv(tmp_path, "p.csv", PREF + "a2,day_off,sunday,1\na2,max_nights,x,1")
    code, _out, err = cli("schedule", str(tmp_path / "sc.toml"), str(tmp_path / "req.csv"),
                         "-o", str(tmp_path / "out2"), "--preferences", str(tmp_path / "p.csv"))
    assert code == 2 and "row 2" in err and "'value'" in err
    assert not (tmp_path / "out2").exists()


def test_rule_max_consecutive_days_carried_in_equals_enumeration(tmp_path):
    # every work/off pattern of the week x carried-in days 0..m+1: the CP-SAT rule and the
    # checker both agree with a brute-force scan of the runs of [1] * carried + week
    from ortools.sat.python import cp_model

    from openwfm.scheduling.assign import GroupModel, rule_max_consecutive_days

    m = 3
    cfg = {**EIGHT, "rule_packs": {"MA": [{"max_consecutive_days": m, "min_days_off": 0,
                                           "min_consecutive_days_off": 0}]}}
    for carried in range(m + 2):
        p = _problem(tmp_path, cfg=cfg, req=0.0, history="agent_id,last_shift_end,"
                     f"consecutive_days_worked\na1,2026-03-29T12:00,{carried}")
        day_type = {}
        for s, st in enumerate(p.shift_types):  # the 10:00 UTC shift of each plan day
            if st.day < p.days and st.start % 1440 == 600:
                day_type.setdefault(st.day, s)
        assert sorted(day_type) == list(range(7))
        for bits in range(2 ** 7):
            work = [(bits >> d) & 1 for d in range(7)]
            seq = [1] * carried + work
            runs, n = [], 0
            for k, w in enumerate(seq):  # (length, last index) of each run of ones
                n = n + 1 if w else 0
                if w and (k + 1 == len(seq) or not seq[k + 1]):
                    runs.append((n, k))
            expected = all(n <= m for n, k in runs if k >= carried)  # runs reaching the plan
            model = cp_model.CpModel()
            z = {(0, s): model.NewBoolVar(f"z{s}") for s in day_type.values()}
            rule_max_consecutive_days(GroupModel(p, p.groups[0], list(day_type.values()), z,
                                                 model, []))
            for d, s in day_type.items():
                model.Add(z[0, s] == work[d])
            status = cp_model.CpSolver().Solve(model)
            assert (status == cp_model.OPTIMAL) == expected, (carried, work)
            rows = [("a1", "Casablanca", "work", p.ts(p.shift_types[day_type[d]].start),
                     p.ts(p.shift_types[day_type[d]].end)) for d in range(7) if work[d]]
            flagged = check_schedule(p, _seg(rows)).counts().get("max_consecutive_days", 0)
            assert (flagged == 0) == expected, (carried, work)


def test_soft_preferences_penalty_equals_report(tmp_path):
    # the CP-SAT term of fixed shifts = the report's penalty x 100 (objective units of one
    # shift-hour off the stage-1 counts), with preference_cost 2.5
    from ortools.sat.python import cp_model

    from openwfm.scheduling.assign import PREFERENCE_UNIT, GroupModel, soft_preferences

    prefs = PREF + ("a1,day_off,tuesday,2\na1,start_between,14:00-23:00,1\n"
                    "a1,max_nights,0,3\na1,start_between,06:00-09:00,")
    p = _problem(tmp_path, preferences=prefs, req=0.0, contract_hours=24,
                 cfg={**EIGHT, "preference_cost": 2.5})
    want = {(0, 8 * 60), (1, 14 * 60), (3, 20 * 60)}  # UTC starts: Mon 09:00, Tue 15:00,
    types = [s for s, st in enumerate(p.shift_types)  # Thu 21:00 local
             if (st.day, st.start % 1440) in want]
    assert len(types) == 3
    model = cp_model.CpModel()
    z = {(0, s): model.NewBoolVar(f"z{s}") for s in types}
    ctx = GroupModel(p, p.groups[0], types, z, model, [])
    soft_preferences(ctx)
    for v in z.values():
        model.Add(v == 1)
    model.Minimize(sum(ctx.objective))
    solver = cp_model.CpSolver()
    assert solver.Solve(model) == cp_model.OPTIMAL
    rows = [("a1", "Casablanca", "work", p.ts(p.shift_types[s].start), p.ts(p.shift_types[s].end))
            for s in types]
    rep = preference_report(p, _seg(rows))
    assert rep["violations"].tolist() == [1, 1, 1, 2]
    assert rep["penalty"].sum() == pytest.approx(2.5 * (2 + 1 + 3 + 2))
    assert solver.ObjectiveValue() == pytest.approx(rep["penalty"].sum() * PREFERENCE_UNIT)
    # per-type penalties (day_off, start_between) of the same shifts: all but max_nights
    pen = shift_penalties(p)["a1"]
    per_shift = rep.loc[rep["kind"] != "max_nights", "penalty"].sum()
    assert pen[types].sum() == pytest.approx(per_shift)


def test_contract_wins_over_a_day_off_wish(tmp_path):
    # 6 days carried in: Monday off; two consecutive days off within the week: the only
    # 5-day week left is Wednesday-Sunday, Friday included. The contract (hard up to the
    # tolerance) beats the soft wish for Friday off, which the report shows unmet
    p = _problem(tmp_path, history="agent_id,last_shift_end,consecutive_days_worked\n"
                                   "a1,2026-03-29T20:00,6",
                 preferences="agent_id,kind,value,weight\na1,day_off,Friday,5")
    r = solve_schedule(p)
    assert r.check.ok, r.check.counts()
    assert r.shifts["paid_h"].sum() == 40
    pref = r.preferences.iloc[0]
    assert not pref["met"] and pref["violations"] == 1
