"""Long-term capacity plan: weekly arithmetic by hand, the MIP against its LP bound,
limits and infeasibility named, scenarios consistent, inputs validated."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openwfm.capacity import (
    CapacityInputs,
    HiringPolicy,
    Launch,
    QueueDrivers,
    Requirement,
    ScenarioVariant,
    SiteCapacity,
    SkillGroup,
    Transfer,
    base_supply,
    build_model,
    cohort_curves,
    launch_volume,
    make_problem,
    parse_capacity,
    required_fte,
    solve,
    weekly_attrition,
    weekly_volume,
)
from openwfm.capacity.demand import intraday_pattern
from openwfm.capacity.scenarios import compare, plan_variant
from openwfm.capacity.supply import convolve_classes
from openwfm.errors import InfeasibleError, InputError
from openwfm.scenario import scenario_from_dict

MONDAY = date(2026, 1, 5)


def monthly_for_weekly(a_w: float) -> float:
    """The monthly rate whose weekly equivalent is `a_w` (inverse of weekly_attrition)."""
    return 1.0 - (1.0 - a_w) ** (52.0 / 12.0)


def one_site(weeks: int = 8, *, seats: int = 100, shifts: float = 2.0, workdays: float = 5.0,
             headcount: float = 10.0, **kw: object) -> CapacityInputs:
    """1 site A, 1 skill k, no attrition; hourly cost 10 x 40 h = 400 a week per FTE."""
    base = {
        "start": MONDAY, "weeks": weeks,
        "sites": (SiteCapacity("A", seats, 10.0, shifts_per_day=shifts,
                               workdays_per_week=workdays),),
        "skills": (SkillGroup("k", ("q",), {"A": 1.0}, ("fr",)),),
        "hiring": HiringPolicy(lead_time_weeks=1, training_weeks=1, nesting_productivity=(0.5,),
                               class_min=0, class_max=10),
        "drivers": (), "headcount": {("A", "k"): headcount}, "attrition_monthly": 0.0,
        "under_penalty_per_fte_week": 3000.0, "over_penalty_per_fte_week": 100.0,
    }
    base.update(kw)
    return CapacityInputs(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------- weekly arithmetic by hand

def test_weekly_attrition_by_hand():
    # ln(0.95) = -0.0512933; x 12/52 = -0.0118369; exp(.) = 0.9882329 -> 0.0117671
    assert weekly_attrition(0.05) == pytest.approx(0.0117671, abs=1e-7)
    # same survival over a year: 52 weeks vs 12 months
    assert (1 - weekly_attrition(0.07)) ** 52 == pytest.approx(0.93**12, rel=1e-12)
    assert weekly_attrition(0.0) == 0.0


def test_cohort_through_training_and_nesting_by_hand():
    # 10% weekly attrition, 2 weeks training, nesting at 0.5 then 0.8, then 1.
    hp = HiringPolicy(training_weeks=2, nesting_productivity=(0.5, 0.8))
    c = cohort_curves(5, 0.1, hp)
    # people of one hire: 1, .9, .81, .729, .6561
    np.testing.assert_allclose(c.headcount, [1, 0.9, 0.81, 0.729, 0.6561])
    # productive: 0, 0, .81*.5 = .405, .729*.8 = .5832, .6561*1
    np.testing.assert_allclose(c.productive, [0, 0, 0.405, 0.5832, 0.6561])
    # seats: trainees in a classroom use none, nesting agents do
    np.testing.assert_allclose(c.seats, [0, 0, 0.81, 0.729, 0.6561])
    np.testing.assert_allclose(c.in_training, [1, 0.9, 0, 0, 0])
    np.testing.assert_allclose(c.in_nesting, [0, 0, 0.81, 0.729, 0])
    seated = cohort_curves(5, 0.1, hp, trainees_use_seats=True)
    np.testing.assert_allclose(seated.seats, c.headcount)


def test_classes_graduating_add_up_by_hand():
    # a class of 10 in week 0 and of 4 in week 2; curve 0, .5, 1 (1 week training, .5 nesting)
    out = convolve_classes(np.array([10.0, 0.0, 4.0, 0.0]), np.array([0.0, 0.5, 1.0, 1.0]))
    # week 0: 0; week 1: 10*.5 = 5; week 2: 10*1 + 4*0 = 10; week 3: 10 + 4*.5 = 12
    np.testing.assert_allclose(out, [0, 5, 10, 12])


def test_base_supply_attrition_and_transfer_by_hand():
    inp = one_site(4, headcount=100.0, attrition_monthly=monthly_for_weekly(0.1),
                   sites=(SiteCapacity("A", 500, 1.0), SiteCapacity("B", 500, 1.0)),
                   transfers=(Transfer(2, "k", "A", "B", 20.0),))
    fte = base_supply(inp).fte[:, 0, :]
    # A: 100, 90, 81 - 20 = 61, 72.9 - 18 = 54.9; B: 0, 0, 20, 18
    np.testing.assert_allclose(fte[0], [100, 90, 61, 54.9])
    np.testing.assert_allclose(fte[1], [0, 0, 20, 18])


def test_transfer_of_more_than_a_site_has_is_an_input_error():
    inp = one_site(4, headcount=5.0, sites=(SiteCapacity("A", 50, 1.0), SiteCapacity("B", 50, 1.0)),
                   transfers=(Transfer(1, "k", "A", "B", 8.0),))
    with pytest.raises(InputError, match="transfers move more"):
        make_problem(inp, np.zeros((2, 1, 4)))


def test_seat_conversion():
    # 100 seats, 2 shifts a day, people work 5 days: 100*2*7/5 = 280 people
    assert SiteCapacity("A", 100, 1.0).seat_headcount == 280.0
    # 3 shifts, 6 days: 100*3*7/6 = 350
    assert SiteCapacity("A", 100, 1.0, shifts_per_day=3, workdays_per_week=6).seat_headcount \
        == pytest.approx(350.0)


def test_launch_ramp_and_seasonality_by_hand():
    la = Launch("q", start_week=2, weekly_volume=1000.0, ramp_weeks=3, ramp_from=0.1)
    # weeks 2..5: .1, .1 + .9/3 = .4, .7, 1.0 of 1000
    np.testing.assert_allclose(launch_volume(la, 7), [0, 0, 100, 400, 700, 1000, 1000])
    seas = tuple([2.0] + [1.0] * 11)  # January doubled
    starts = [date(2026, 1, 26), date(2026, 2, 2)]  # Thursdays Jan 29, Feb 5
    v = weekly_volume(500.0, QueueDrivers("q", seasonality=seas), [], starts)
    growth = 1.0  # no growth
    np.testing.assert_allclose(v, [1000.0 * growth, 500.0])


# ---------------------------------------------------------------- the MIP, solved by hand

def test_plan_closes_gap_as_computed_by_hand():
    """Required 12 FTE, 10 on staff, no attrition; classes start from week 1 (lead 1),
    train 1 week, nest 1 week at 0.5. Hiring 2 in week 1 gives 10, 10, 11, 12, ... :
    under 2 + 2 + 1 = 5 FTE-weeks (15 000) and wages 2 x 400 x 7 weeks (5 600) = 20 600.
    Hiring 4 instead would close week 2 (saving 3 000) for 2 x 2 800 + over 2 x 5 x 100
    = 6 600 more, and 3 saves 1 500 for 3 300: so 2 is optimal."""
    inp = one_site(8)
    plan = solve(build_model(make_problem(inp, np.full((1, 1, 8), 12.0))))
    assert plan.objective == pytest.approx(20600.0)
    assert plan.lp_bound == pytest.approx(20600.0)
    assert plan.hires[["start_week", "size"]].values.tolist() == [[1, 2]]
    w = plan.weekly
    np.testing.assert_allclose(w["available_fte"], [10, 10, 11, 12, 12, 12, 12, 12])
    np.testing.assert_allclose(w["under_fte"], [2, 2, 1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(w["headcount"], [10, 12, 12, 12, 12, 12, 12, 12])
    np.testing.assert_allclose(w["in_training"], [0, 2, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(plan.sites["cost"], [4000] + [4800] * 7)
    assert [lim.rule for lim in plan.limits] == ["lead_time"]


def test_model_is_inspectable():
    m = build_model(make_problem(one_site(8), np.full((1, 1, 8), 12.0)))
    cover = m.rows("cover:A:k:")
    assert len(cover) == 8
    assert m.i_class[0, 0, 0] == -1  # week 0 cannot be recruited in time (lead 1)
    assert (m.i_class[0, 0, 1:] >= 0).all()
    # week 3 row: 1.0 * x_1 (full), 0.5 * x_2 (nesting), 0 * x_3 (training, left out)
    r = m.row_names.index("cover:A:k:w3")
    row = m.a.getrow(r)
    coef = dict(zip([m.var_names[c] for c in row.indices], row.data, strict=True))
    assert coef == {"x:A:k:w1": 1.0, "x:A:k:w2": 0.5, "under:A:k:w3": 1.0,
                    "over:A:k:w3": -1.0}
    assert m.row_lb[r] == m.row_ub[r] == pytest.approx(2.0)  # 12 required - 10 on staff


def test_seats_limit_the_plan_and_are_named():
    """Seats host 11 people (11 seats x 1 shift x 7 / 7 days): with 10 on staff only one
    hire fits once nesting starts; under 2, 2, 1.5, then 1 a week = 10.5 FTE-weeks."""
    inp = one_site(8, seats=11, shifts=1.0, workdays=7.0)
    plan = solve(build_model(make_problem(inp, np.full((1, 1, 8), 12.0))))
    assert plan.total_hires == 1
    assert plan.under_fte_weeks == pytest.approx(10.5)
    assert plan.sites["seats_used"].max() <= 11 + 1e-9
    rules = {lim.rule: lim for lim in plan.limits}
    assert "seats:A" in rules
    assert "11 seats x 1 shifts x 7 / 7 days" in rules["seats:A"].message


def test_hard_coverage_floor_blocked_by_seats_names_the_seats():
    inp = one_site(8, seats=11, shifts=1.0, workdays=7.0, min_coverage=0.95)
    with pytest.raises(InfeasibleError) as e:
        solve(build_model(make_problem(inp, np.full((1, 1, 8), 12.0))))
    assert e.value.rule == "seats:A"


def test_hard_coverage_floor_out_of_reach_names_min_coverage():
    # 10 on staff, 40 required from week 2: classes of at most 10 a week cannot catch up
    inp = one_site(8, min_coverage=0.99)
    with pytest.raises(InfeasibleError) as e:
        solve(build_model(make_problem(inp, np.full((1, 1, 8), 40.0))))
    assert e.value.rule in {"class_max", "min_coverage"}


def test_current_headcount_beyond_seats_is_named():
    inp = one_site(4, seats=11, shifts=1.0, workdays=7.0, headcount=12.0)
    with pytest.raises(InfeasibleError, match="seats x 1 shifts/day") as e:
        build_model(make_problem(inp, np.full((1, 1, 4), 12.0)))
    assert e.value.rule == "seats:A"


def two_sites(weeks: int = 30, **kw: object) -> tuple[CapacityInputs, np.ndarray]:
    inp = CapacityInputs(
        start=MONDAY, weeks=weeks,
        sites=(SiteCapacity("A", 100, 10.0, hire_cost=500, training_cost=1000,
                            max_hires_per_week={"en": 12}),
               SiteCapacity("B", 60, 6.0, max_hires_per_week={"nl": 0})),
        skills=(SkillGroup("fr", ("q1",), {"A": 1.0}, ("fr",)),
                SkillGroup("en", ("q2",), {"A": 0.5, "B": 0.5}, ("en",)),
                SkillGroup("en2", ("q3",), {"A": 1.0}, ("en",)),
                SkillGroup("nl", ("q4",), {"A": 0.5, "B": 0.5}, ("nl",))),
        hiring=HiringPolicy(lead_time_weeks=2, training_weeks=2, nesting_productivity=(0.5,),
                            class_min=5, class_max=20, class_every_weeks=2),
        drivers=(), headcount={("A", "fr"): 50.0, ("A", "en"): 30, ("B", "en"): 20,
                               ("A", "en2"): 10, ("A", "nl"): 5, ("B", "nl"): 5},
        attrition_monthly=0.05)
    inp = replace(inp, **kw)
    t = np.arange(weeks)
    req = np.zeros((2, 4, weeks))
    req[0, 0] = np.linspace(50, 120, weeks)
    req[0, 1] = 30 + t
    req[1, 1] = np.linspace(20, 150, weeks)
    req[0, 2] = 10 + 0.5 * t
    req[0, 3] = req[1, 3] = 6.0
    return inp, req


def test_mip_objective_is_at_least_the_lp_bound_and_matches_its_tables():
    inp, req = two_sites(20)
    model = build_model(make_problem(inp, req))
    plan = solve(model, mip_rel_gap=1e-2)
    assert plan.status.value == "optimal"
    assert plan.objective >= plan.lp_bound - 1e-6
    assert 0 <= plan.mip_gap <= 1e-2 + 1e-9
    assert plan.mip_dual_bound >= plan.lp_bound - 1e-6
    # the objective recomputed from the decoded tables (an independent path)
    per_head = model.hire_cost_per_head
    sites = [s.name for s in inp.sites]
    hire_cost = sum(per_head[sites.index(h.site), h.start_week] * h.size
                    for h in plan.hires.itertuples())
    recomputed = (hire_cost + inp.under_penalty_per_fte_week * plan.under_fte_weeks
                  + inp.over_penalty_per_fte_week * plan.over_fte_weeks)
    assert recomputed == pytest.approx(plan.objective, rel=1e-6)


def test_class_sizes_cadence_and_language_limits_hold():
    inp, req = two_sites(16)
    model = build_model(make_problem(inp, req))
    plan = solve(model, mip_rel_gap=2e-2)
    h = plan.hires
    assert h["size"].between(5, 20).all()
    assert ((h["start_week"] - 2) % 2 == 0).all()
    # Dutch cannot be hired at B: no variable, no class
    assert (model.i_class[1, 3] == -1).all()
    assert not ((h["site"] == "B") & (h["skill"] == "nl")).any()
    # English at A: 12 a week, classes every 2 weeks -> at most 24 a class start over both
    # English groups, and a named row for it
    assert len(model.rows("hires:A:en:")) > 0
    en_a = h[(h["site"] == "A") & h["skill"].isin(["en", "en2"])]
    assert en_a.groupby("start_week")["size"].sum().max() <= 24


# ---------------------------------------------------------------- scenarios

def test_more_attrition_needs_more_hires_and_costs_more():
    inp, req = two_sites(20)
    inp = replace(inp, hiring=replace(inp.hiring, class_min=0))
    weeks = np.arange(inp.weeks)
    by_queue = pd.DataFrame({"queue": np.repeat(["q1", "q2", "q3", "q4"], inp.weeks),
                             "week": np.tile(weeks, 4),
                             "fte": np.concatenate([req[0, 0], req[:, 1].sum(axis=0),
                                                    req[0, 2], req[:, 3].sum(axis=0)])})
    base_req = Requirement(by_queue=by_queue, sites=("A", "B"), skills=("fr", "en", "en2", "nl"),
                           fte=req)
    low = plan_variant(inp, ScenarioVariant("4%", attrition_monthly=0.04), None, None,  # type: ignore[arg-type]
                       base_req, mip_rel_gap=1e-3)
    high = plan_variant(inp, ScenarioVariant("7%", attrition_monthly=0.07), None, None,  # type: ignore[arg-type]
                        base_req, mip_rel_gap=1e-3)
    moved = plan_variant(inp, ScenarioVariant("en to B", skill_sites={"en": {"B": 1.0}}),
                         None, None, base_req, mip_rel_gap=1e-3)  # type: ignore[arg-type]
    assert high.plan.total_hires > low.plan.total_hires
    assert high.plan.total_cost > low.plan.total_cost
    # moving the English group changes where it is required, not how much
    np.testing.assert_allclose(moved.requirement.fte.sum(axis=0), req.sum(axis=0))
    assert moved.requirement.fte[0, 1].sum() == 0
    table = compare([low, high, moved])
    assert table["scenario"].tolist() == ["4%", "7%", "en to B"]
    assert table.loc[1, "hires_vs_base"] == high.plan.total_hires - low.plan.total_hires
    assert table.loc[1, "cost_vs_base"] == pytest.approx(high.plan.total_cost
                                                         - low.plan.total_cost)
    assert table.loc[0, "cost_vs_base"] == 0
    assert (table["hires_A"] + table["hires_B"] == table["hires"]).all()


# ---------------------------------------------------------------- required FTE

def scenario_raw(**capacity: object) -> dict:
    return {
        "name": "t", "plan_start": "2026-03-30", "interval_s": 1800,
        "sites": [{"name": "Casablanca", "country": "MA", "tz": "Africa/Casablanca",
                   "seats": 50, "cost_per_hour": 9.0},
                  {"name": "Manila", "country": "PH", "tz": "Asia/Manila", "seats": 80,
                   "cost_per_hour": 6.0}],
        "queues": [{"id": "fr", "client": "c", "channel": "voice", "language": "fr",
                    "market": "FR", "tz": "Europe/Paris", "sl_target": 0.8,
                    "answer_within_s": 20},
                   {"id": "en", "client": "c", "channel": "voice", "language": "en",
                    "market": "US", "tz": "Africa/Casablanca"}],
        "capacity": capacity,
    }


def load(capacity: dict, tmp_path: Path | None = None):
    sc = scenario_from_dict(scenario_raw(**capacity), base=tmp_path or Path("."),
                            file=str((tmp_path or Path(".")) / "s.toml"))
    return sc, parse_capacity(sc)


SKILLS = [{"name": "fr", "queues": ["fr"], "sites": {"Casablanca": 1.0}},
          {"name": "en", "queues": ["en"], "sites": {"Casablanca": 0.25, "Manila": 0.75}}]


def offered_load_staff(df: pd.DataFrame) -> pd.DataFrame:
    """A simple, hand-checkable staffing rule for the arithmetic test: ceil(offered load)."""
    return df.assign(agents=np.ceil(df["volume"] * df["aht_s"] / df["interval_s"]))


def test_required_fte_chain_by_hand():
    """Flat pattern over 09:00-10:00 (2 half-hours x 7 days = 14 slots); 1400 contacts a
    week -> 100 a slot; AHT 360 s -> load 100 * 360 / 1800 = 20 agents a slot; 14 slots x
    20 agents x 0.5 h = 140 agent-hours; / (40 h x (1 - 0.3)) = 5 FTE (the en group: 1.25 in
    Casablanca, 3.75 in Manila)."""
    sc, inp = load({"weeks": 3, "shrinkage": 0.3, "skills": SKILLS,
                    "queues": [{"id": "fr", "weekly_volume": 0, "aht_s": 300},
                               {"id": "en", "weekly_volume": 1400, "aht_s": 360,
                                "open_hours": [9, 10]}]})
    req = required_fte(inp, sc, None, staff=offered_load_staff)
    en = req.by_queue[req.by_queue["queue"] == "en"]
    np.testing.assert_allclose(en["agent_hours"], [140.0] * 3)
    np.testing.assert_allclose(en["fte"], [5.0] * 3)
    np.testing.assert_allclose(req.fte[:, 1, 0], [1.25, 3.75])
    np.testing.assert_allclose(req.fte[:, 0, :], 0.0)


def erlang_c_agents(calls: float, aht_s: float, interval_s: float, sl: float, t_s: float) -> int:
    """Smallest N with Erlang C service level >= sl, in mpmath with 50 digits."""
    import mpmath as mp

    mp.mp.dps = 50
    a = mp.mpf(calls) * aht_s / interval_s
    n = int(mp.floor(a)) + 1
    while True:
        s = mp.fsum(a**k / mp.factorial(k) for k in range(n))
        top = a**n / mp.factorial(n) * n / (n - a)
        pw = top / (s + top)
        if 1 - pw * mp.e ** (-(n - a) * t_s / aht_s) >= sl:
            return n
        n += 1


def test_required_fte_through_the_staffing_engine_matches_mpmath_erlang_c():
    pytest.importorskip("openwfm.staffing", reason="staffing engine not in this tree")
    from openwfm import staffing

    if not hasattr(staffing, "staff_frame"):
        pytest.skip("openwfm.staffing.staff_frame not in this tree")
    # R1 of REFERENCES.md: 100 calls / 30 min, AHT 180 s, 80% in 20 s (14 agents: SL 0.888)
    n = erlang_c_agents(100, 180, 1800, 0.8, 20)
    sc, inp = load({"weeks": 2, "shrinkage": 0.3, "skills": SKILLS,
                    "queues": [{"id": "fr", "weekly_volume": 700, "aht_s": 180,
                                "open_hours": [9, 9.5]},
                               {"id": "en", "weekly_volume": 0, "aht_s": 180}]})
    req = required_fte(inp, sc, None)
    fr = req.by_queue[req.by_queue["queue"] == "fr"]
    # 7 slots of 100 calls, n agents each, half an hour: 3.5 n agent-hours
    np.testing.assert_allclose(fr["agent_hours"], [3.5 * n] * 2)
    np.testing.assert_allclose(fr["fte"], [3.5 * n / 28.0] * 2)


def history_at_local_nine(tz: str, first: datetime, days: int) -> pd.DataFrame:
    """Every half-hour of `days` days (in UTC); 10 contacts where local time is 09:00."""
    utc = pd.date_range(pd.Timestamp(first, tz="UTC"), periods=48 * days, freq="30min")
    local = utc.tz_convert(tz)
    vol = np.where((local.hour == 9) & (local.minute == 0), 10.0, 0.0)
    return pd.DataFrame({"interval_start": utc, "queue": "fr", "volume": vol, "aht_s": 200.0})


@pytest.mark.parametrize(("tz", "first"), [
    ("Europe/Paris", datetime(2026, 3, 16)),         # DST starts 2026-03-29
    ("Africa/Casablanca", datetime(2026, 2, 2)),     # UTC+1 -> UTC+0 for Ramadan, 2026-02-15
])
def test_intraday_pattern_follows_local_time_across_dst_and_ramadan(tz, first):
    sc, inp = load({"weeks": 2, "skills": SKILLS})
    q = replace(sc.queue("fr"), tz=tz)
    h = history_at_local_nine(tz, first, 28)
    # the offset changes inside the window: the UTC hour of the 09:00 volume is not constant
    hours = h.loc[h["volume"] > 0, "interval_start"].dt.hour.unique()
    assert len(hours) == 2
    shares, aht, weekly = intraday_pattern(h, q, 1800, inp.drivers[0])
    slot = 18 + 48 * np.arange(7)  # local 09:00 of Monday .. Sunday
    np.testing.assert_allclose(shares[slot], 1 / 7)
    assert shares.sum() == pytest.approx(1.0)
    assert weekly == pytest.approx(70.0)
    assert aht == 200.0


# ---------------------------------------------------------------- inputs

def test_inputs_defaults_and_headcount_from_agents():
    raw = scenario_raw(weeks=10, skills=SKILLS)
    raw["agents"] = [
        {"id": "a1", "site": "Casablanca", "skills": "fr;en", "contract_hours": 40},
        {"id": "a2", "site": "Manila", "skills": "en", "contract_hours": 20},
    ]
    sc = scenario_from_dict(raw, base=Path("."))
    inp = parse_capacity(sc)
    # a1 is split over its two groups; a2 is half an FTE
    assert inp.headcount == {("Casablanca", "fr"): 0.5, ("Casablanca", "en"): 0.5,
                             ("Manila", "en"): 0.5}
    assert inp.start == date(2026, 3, 30) and inp.weeks == 10
    assert inp.sites[0].seats == 50 and inp.sites[0].hourly_cost == 9.0


@pytest.mark.parametrize(("capacity", "column"), [
    ({"skills": [{"name": "x", "queues": ["fr"], "sites": {"Paris": 1.0}}]}, "sites"),
    ({"skills": [{"name": "x", "queues": ["fr"], "sites": {"Casablanca": 0.5}}]}, "sites"),
    ({"skills": [{"name": "x", "queues": ["nope"], "sites": "Casablanca"}]}, "queues"),
    ({"weeks": 105, "skills": SKILLS}, "weeks"),
    ({"skills": SKILLS, "hiring": {"class_min": 9, "class_max": 5}}, "class_min"),
    ({"skills": SKILLS, "hiring": {"nesting_productivity": [0.5, 2]}}, "nesting_productivity"),
    ({"skills": SKILLS, "queues": [{"id": "fr", "seasonality": [1, 2]}]}, "seasonality"),
    ({"skills": SKILLS, "sites": [{"name": "Casablanca", "shifts_per_day": "two"}]},
     "shifts_per_day"),
    ({"skills": SKILLS, "transfers": [{"week": 1, "skill": "fr", "from": "Casablanca",
                                       "to": "Lima", "fte": 1}]}, "to"),
    ({}, "skills"),
])
def test_bad_capacity_inputs_name_the_column(capacity, column):
    with pytest.raises(InputError) as e:
        load(capacity)
    assert e.value.location.column == column


def test_bad_csv_rows_name_file_row_and_column(tmp_path):
    (tmp_path / "hc.csv").write_text("site,skill,headcount\nCasablanca,fr,12\nManila,en,x\n")
    with pytest.raises(InputError) as e:
        load({"skills": SKILLS, "headcount": "hc.csv"}, tmp_path)
    assert (e.value.location.row, e.value.location.column) == (2, "headcount")
    assert e.value.location.file.endswith("hc.csv")
    (tmp_path / "la.csv").write_text("queue,start_week,weekly_volume\nen,4,1000\nen,-1,50\n")
    with pytest.raises(InputError) as e:
        load({"skills": SKILLS, "launches": "la.csv"}, tmp_path)
    assert (e.value.location.row, e.value.location.column) == (2, "start_week")
    (tmp_path / "hc2.csv").write_text("site,skill,headcount,contract_hours\nManila,en,10,20\n")
    _, inp = load({"skills": SKILLS, "headcount": "hc2.csv"}, tmp_path)
    assert inp.headcount == {("Manila", "en"): 5.0}
    assert math.isclose(inp.sites[1].seat_headcount, 80 * 2 * 7 / 5)


def test_volume_grid_interpolation_stays_close_to_staffing_every_week():
    """Agent-hours interpolated between volume levels 3% apart vs every week staffed
    exactly (Erlang C through the staffing engine) on a 10x ramp-up. The flat pattern is
    the worst case: the exact hours are a staircase (one more agent in all 168 open
    half-hours at once = 84 h), so the interpolation is within one step of it and within
    1% on average."""
    pytest.importorskip("openwfm.staffing")
    sc, inp = load({"weeks": 104, "skills": SKILLS,
                    "queues": [{"id": "fr", "weekly_volume": 0, "aht_s": 300},
                               {"id": "en", "weekly_volume": 0, "aht_s": 300,
                                "open_hours": [8, 20]}],
                    "launches": [{"queue": "en", "start_week": 0, "ramp_weeks": 103,
                                  "weekly_volume": 20000, "ramp_from": 0.1}]})
    grid = required_fte(inp, sc, None, grid_step=0.03).by_queue
    exact = required_fte(inp, sc, None, grid_step=None).by_queue
    g, e = (d[d["queue"] == "en"]["agent_hours"].to_numpy() for d in (grid, exact))
    from openwfm.capacity.demand import volume_levels

    vol = exact[exact["queue"] == "en"]["volume"].to_numpy()
    assert len(volume_levels(vol, 0.03)[0]) < len(np.unique(vol))  # the grid is in use
    assert np.max(np.abs(g - e)) <= 84.0
    assert np.mean(np.abs(g - e) / e) < 0.01


def test_seat_scenario_changes_the_seats_only():
    inp = one_site(8, seats=11, shifts=1.0, workdays=7.0)
    more = inp.variant(ScenarioVariant("new floor", seats={"A": 20}))
    assert more.sites[0].seats == 20 and inp.sites[0].seats == 11
    plan = solve(build_model(make_problem(more, np.full((1, 1, 8), 12.0))))
    assert plan.total_hires == 2  # the hand-computed plan without the seat limit


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(a_m=st.floats(0.0, 0.2), training=st.integers(0, 6),
       nesting=st.lists(st.floats(0.0, 1.0), max_size=5), weeks=st.integers(1, 40),
       seated=st.booleans())
def test_cohort_invariants(a_m, training, nesting, weeks, seated):
    hp = HiringPolicy(training_weeks=training, nesting_productivity=tuple(nesting))
    c = cohort_curves(weeks, weekly_attrition(a_m), hp, trainees_use_seats=seated)
    assert np.all(np.diff(c.headcount) <= 1e-12)  # nobody joins a class later
    assert np.all(c.productive <= c.headcount + 1e-12)
    assert np.all(c.productive >= 0) and np.all(c.seats <= c.headcount + 1e-12)
    assert np.all(c.in_training + c.in_nesting <= c.headcount + 1e-12)
    assert np.all(c.in_training[training:] == 0) and np.all(c.in_nesting[:training] == 0)
    assert np.all(c.productive[:training] == 0)
    full = training + len(nesting)
    np.testing.assert_allclose(c.productive[full:], c.headcount[full:])


def test_hard_coverage_floor_blocked_by_the_labour_market_names_it():
    # 10 on staff, 14 required; French recruits: 1 a week at A -> a floor of 95% is out of
    # reach within the market, reachable with classes of up to 10
    inp = one_site(8, min_coverage=0.95,
                   sites=(SiteCapacity("A", 100, 10.0, max_hires_per_week={"fr": 1}),))
    with pytest.raises(InfeasibleError) as e:
        solve(build_model(make_problem(inp, np.full((1, 1, 8), 14.0))))
    assert e.value.rule == "hires:A"


def _brute_force_optimum(model) -> float:
    """Every integer plan of a small model (classes 0 or class_min..ub): under/over take
    the remaining gap of each cover row; the cheapest plan keeping every row."""
    import itertools

    hp = model.problem.inputs.hiring
    cls = model.i_class[model.i_class >= 0]
    sizes = [[0, *range(hp.class_min, int(model.var_ub[i]) + 1)] for i in cls]
    cover = model.rows("cover:")
    best = math.inf
    for combo in itertools.product(*sizes):
        x = np.zeros(len(model.c))
        x[cls] = combo
        opened = model.i_open >= 0
        x[model.i_open[opened]] = (x[model.i_class[opened]] > 0).astype(float)
        resid = model.row_ub[cover] - model.a[cover] @ x
        x[model.i_under.ravel()] = np.maximum(resid, 0.0)
        x[model.i_over.ravel()] = np.maximum(-resid, 0.0)
        ax = model.a @ x
        if np.all(ax <= model.row_ub + 1e-9) and np.all(ax >= model.row_lb - 1e-9):
            best = min(best, float(model.c @ x))
    return best


def test_group_bound_is_stronger_than_the_lp_and_the_plan_is_the_enumerated_optimum():
    # a small skill group: 5 required, 2 on staff, 4 % weekly attrition, classes of 6..10
    # every 2 weeks: the LP hires fractions of a class and its bound is loose; every
    # (site, skill) group solved alone gives a bound that knows the class minimum
    inp = one_site(12, headcount=2.0, attrition_monthly=monthly_for_weekly(0.04),
                   hiring=HiringPolicy(lead_time_weeks=1, training_weeks=1,
                                       nesting_productivity=(0.5,), class_min=6,
                                       class_max=10, class_every_weeks=2))
    inp = replace(inp, under_penalty_per_fte_week=3000.0, over_penalty_per_fte_week=100.0)
    model = build_model(make_problem(inp, np.full((1, 1, 12), 5.0)))
    optimum = _brute_force_optimum(model)
    plan = solve(model, mip_rel_gap=1e-6)
    assert plan.objective == pytest.approx(optimum, rel=1e-9)
    assert plan.lp_bound < optimum * 0.97  # the LP relaxation misses the class minimum
    assert plan.mip_dual_bound == pytest.approx(optimum, rel=1e-6)  # proven, not just found
    assert plan.status.value == "optimal" and plan.mip_gap <= 1e-6
    assert (plan.hires["size"] >= 6).all()


def test_useful_class_bound_keeps_the_optimum():
    # the class upper bound derived from the deficit (model._useful_class) must not cut off
    # the optimum: same brute force with the bound lifted to class_max
    inp = one_site(8, headcount=3.0, attrition_monthly=monthly_for_weekly(0.03),
                   hiring=HiringPolicy(lead_time_weeks=1, training_weeks=1,
                                       nesting_productivity=(0.5,), class_min=2,
                                       class_max=9, class_every_weeks=2))
    req = np.linspace(4.0, 7.0, 8)[None, None, :]
    model = build_model(make_problem(inp, req))
    bounds = model.var_ub[model.i_class[model.i_class >= 0]]
    assert bounds.min() < 9 and bounds[-1] == 0  # tighter than class_max; nothing left to do
    loose = model
    ub = loose.var_ub.copy()
    ub[model.i_class[model.i_class >= 0]] = 9.0
    loose = replace(model, var_ub=ub)
    assert _brute_force_optimum(model) == pytest.approx(_brute_force_optimum(loose), rel=1e-12)
