"""Understaffing penalty priced by the service level lost (`openwfm.scheduling.penalty`).

Weights against an independent 50-digit mpmath Erlang C / Erlang A
(tests/reference/make_erlang_reference.py), convexity as a property, a solved toy's
penalty against a hand computation, and where the solver puts a shortfall.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openwfm.errors import InputError
from openwfm.scheduling import build_problem, check_schedule, parse_config, solve_schedule
from openwfm.scheduling.cover import build_cover_model, flow_coverage, shortfall_penalty
from openwfm.scheduling.penalty import (
    SL_PIECES,
    UnderstaffingPenalty,
    pieces_penalty,
    piecewise_pieces,
    service_level_pieces,
)
from openwfm.scheduling.rules import work_patterns
from openwfm.scheduling.synthetic import flat_requirement, toy_scenario
from openwfm.staffing import chat

_spec = importlib.util.spec_from_file_location(
    "make_erlang_reference", Path(__file__).parent / "reference" / "make_erlang_reference.py")
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)

NO_BREAKS = {"time_limit_s": 5, "breaks": [],
             "shifts": [{"start_step_min": 60, "lengths_h": [8]}]}


def _sl_c(n: int, a: float, aht: float, t: float) -> mp.mpf:
    """Erlang C service level at 50 digits (independent of openwfm); SL(0) = 0."""
    if n == 0:
        return mp.mpf(0)
    return REF.erlang_c_metrics(n, mp.mpf(a), mp.mpf(aht), mp.mpf(t))["service_level"]


def _traffic(req: pd.DataFrame, volume, aht_s=180.0, **cols) -> pd.DataFrame:
    out = req.assign(volume=volume, aht_s=aht_s, interval_s=900)
    return out.assign(**cols)


# ------------------------------------------------------------------ weights vs mpmath
@pytest.mark.parametrize(("traffic", "aht", "t", "required", "volume"), [
    (10.0, 180.0, 20.0, 14.0, 100.0),    # REFERENCES.md R1 (SL(14) = 0.88835)
    (48.0, 240.0, 15.0, 55.0, 360.0),    # REFERENCES.md R2 (SL(55) = 0.8459)
    (2.5, 240.0, 60.0, 6.0, 18.75),
    (0.5, 180.0, 20.0, 3.0, 2.5),
])
def test_weights_equal_mpmath_erlang_c_marginal_loss(traffic, aht, t, required, volume):
    cost = 7.0
    w, c = service_level_pieces(required, volume, traffic, aht, t,
                                cost_per_missed_contact=cost)
    r = int(required)
    # loss of the (j+1)-th missing agent, then the running maximum (convex hull from above)
    loss = [cost * volume * (_sl_c(r - j, traffic, aht, t) - _sl_c(r - j - 1, traffic, aht, t))
            for j in range(r)]
    run = [max(loss[:j + 1]) for j in range(r)]
    n = min(r, SL_PIECES)
    np.testing.assert_allclose(c[:n], [float(x) for x in run[:n]], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c[n:], float(max(loss)), rtol=1e-9)
    assert w[:n].tolist() == [1.0] * n and w[n:SL_PIECES].sum() == 0
    assert w[SL_PIECES] == (np.inf if r > SL_PIECES else 0.0)
    # above the load the marginal loss rises as agents go missing: weights = raw losses
    above = [j for j in range(n) if r - j - 1 > traffic]
    np.testing.assert_allclose(c[above], [float(loss[j]) for j in above], rtol=1e-9)


def test_weights_erlang_a_and_chat_slots_against_mpmath():
    # Erlang A (mean patience 300 s), 10 Erlangs, 14 agents (REFERENCES.md R3 at 14)
    _, c = service_level_pieces(14.0, 100.0, 10.0, 180.0, 20.0, 300.0,
                                cost_per_missed_contact=1.0)
    sl = {n: REF.erlang_a_metrics(n, mp.mpf(10), mp.mpf(180), mp.mpf(20),
                                  mp.mpf(300))["service_level"] for n in (12, 13, 14)}
    assert c[0] == pytest.approx(float(100 * (sl[14] - sl[13])), rel=1e-8)
    assert c[1] == pytest.approx(float(100 * (sl[13] - sl[12])), rel=1e-8)
    # chat, 3 chats per agent: 5 agents = 15 Erlang C slots
    _, c = service_level_pieces(5.0, 60.0, 8.0, 600.0, 60.0, concurrency=3,
                                cost_per_missed_contact=1.0)
    want = 60 * (_sl_c(15, 8.0, 600.0, 60.0) - _sl_c(12, 8.0, 600.0, 60.0))
    assert c[0] == pytest.approx(float(want), rel=1e-9)


def test_fractional_requirement_first_piece_is_the_fraction():
    a, aht, t, vol, cost = 3.0, 180.0, 20.0, 15.0, 2.0
    w, c = service_level_pieces(5.3, vol, a, aht, t, cost_per_missed_contact=cost)
    np.testing.assert_allclose(w, [0.3, 1, 1, 1, 1, 1, 0, 0, 0], atol=1e-12)

    def sl_lin(x: float) -> float:  # SL linear between integer agents
        lo = int(np.floor(x))
        return float(_sl_c(lo, a, aht, t) + (x - lo) * (_sl_c(lo + 1, a, aht, t)
                                                         - _sl_c(lo, a, aht, t)))

    for short in (0.3, 0.8, 1.3, 2.3):  # exact while the marginal losses rise (above load)
        got = float(pieces_penalty(short, w, c))
        assert got == pytest.approx(cost * vol * (sl_lin(5.3) - sl_lin(5.3 - short)),
                                    rel=1e-9)
    assert float(pieces_penalty(0.3, w, c)) == pytest.approx(
        0.3 * cost * vol * float(_sl_c(6, a, aht, t) - _sl_c(5, a, aht, t)), rel=1e-9)


@settings(max_examples=60, deadline=None)
# subnormal traffic excluded: Erlang A's kernel returns NaN at 2.2e-309 Erlangs (reported)
@given(traffic=st.floats(0.0, 60.0, allow_subnormal=False), aht=st.floats(20.0, 900.0),
       t=st.floats(0.0, 120.0),
       required=st.floats(0.0, 30.0), patience=st.one_of(st.none(), st.floats(10.0, 3000.0)),
       k=st.integers(1, 3), data=st.data())
def test_pieces_are_convex_and_never_below_the_loss(traffic, aht, t, required, patience, k,
                                                    data):
    vol = traffic * 900 / aht
    w, c = service_level_pieces(required, vol, traffic, aht, t, patience, k,
                                cost_per_missed_contact=3.0)
    assert (w >= 0).all() and (np.diff(c) >= -1e-12).all()  # weights non-decreasing
    top = int(np.ceil(required - 1e-9))
    finite = w[:SL_PIECES].sum()
    if top <= SL_PIECES:  # the pieces cover the requirement down to 0 agents
        assert finite == pytest.approx(required, abs=1e-9) and w[SL_PIECES] == 0
    else:  # first piece r - ceil(r) + 1, 7 whole agents, then open-ended
        assert finite == pytest.approx(required - top + 1 + 7) and w[SL_PIECES] == np.inf
    # never below the true loss: SL linear between integers, from the openwfm kernels
    n = np.arange(top + 1)
    sl = chat.chat_metrics(n, traffic, aht, k, t, patience).service_level if top else [1.0]

    def sl_lin(x: float) -> float:
        return float(np.interp(x, n, sl)) if top else 1.0

    s1, s2 = sorted(data.draw(st.floats(0.0, max(required, 0.0))) for _ in range(2))
    p1, p2, pm = (float(pieces_penalty(s, w, c)) for s in (s1, s2, (s1 + s2) / 2))
    assert pm <= (p1 + p2) / 2 + 1e-9 * (1 + p1 + p2)  # midpoint convexity
    true = 3.0 * vol * (sl_lin(required) - sl_lin(required - s2))
    assert p2 >= true - 1e-9 * (1 + abs(true))


# ---------------------------------------------------------------- the problem's pieces
def test_bare_requirement_keeps_the_piecewise_penalty():
    sc = toy_scenario(1)
    req = flat_requirement(sc, 10.0)
    p = build_problem(sc, req, parse_config(NO_BREAKS))
    assert p.penalty.method is UnderstaffingPenalty.PIECEWISE
    assert not p.penalty.by_service_level.any()
    w, c = piecewise_pieces(p.required, 60.0 * 15 / 60)
    np.testing.assert_array_equal(p.penalty.widths, w)
    np.testing.assert_array_equal(p.penalty.weights, c)
    s = np.full(p.required.shape, 2.5)
    np.testing.assert_array_equal(p.penalty.evaluate(s), shortfall_penalty(s, p.required, 15.0))
    assert "piecewise" in p.penalty.describe()


def test_traffic_selects_service_level_and_config_can_force_piecewise():
    sc = toy_scenario(1)
    req = _traffic(flat_requirement(sc, 3.0), volume=2.5)
    p = build_problem(sc, req, parse_config(NO_BREAKS))
    assert p.penalty.method is UnderstaffingPenalty.SERVICE_LEVEL
    assert p.penalty.by_service_level.all()
    w, c = service_level_pieces(3.0, 2.5, 0.5, 180.0, 20.0, cost_per_missed_contact=10.0)
    np.testing.assert_array_equal(p.penalty.widths[0, 5], w)
    np.testing.assert_array_equal(p.penalty.weights[0, 5], c)
    forced = build_problem(sc, req, parse_config({**NO_BREAKS,
                                                  "understaffing_penalty": "piecewise"}))
    assert forced.penalty.method is UnderstaffingPenalty.PIECEWISE
    priced = build_problem(sc, req, parse_config({**NO_BREAKS, "cost_per_missed_contact": 4}))
    np.testing.assert_allclose(priced.penalty.weights, p.penalty.weights * 0.4)


def test_email_rows_and_empty_traffic_fall_back_to_piecewise():
    sc = toy_scenario(1, queues=("v", "m"))
    req = _traffic(flat_requirement(sc, 2.0), volume=2.5)
    req["channel"] = np.where(req["queue"] == "m", "email", "voice")
    req.loc[3, "volume"] = np.nan
    p = build_problem(sc, req, parse_config(NO_BREAKS))
    mask = p.penalty.by_service_level
    assert mask[0].sum() == mask.shape[1] - 1 and not mask[0, 3] and not mask[1].any()
    w, c = piecewise_pieces(2.0, 15.0)
    np.testing.assert_array_equal(p.penalty.widths[1, 0, :3], w)
    np.testing.assert_array_equal(p.penalty.weights[1, 0, :3], c)
    assert "email" in p.penalty.describe()


@pytest.mark.parametrize(("raw", "column"), [
    ({"understaffing_penalty": "erlang"}, "understaffing_penalty"),
    ({"cost_per_missed_contact": -1}, "cost_per_missed_contact"),
    ({"cost_per_missed_contact": "a lot"}, "cost_per_missed_contact"),
])
def test_bad_penalty_config_names_the_key(raw, column):
    with pytest.raises(InputError) as e:
        parse_config(raw, file="sc.toml")
    assert e.value.location.column == column and e.value.location.file == "sc.toml"


def test_service_level_without_traffic_or_with_bad_rows_names_row_and_column():
    sc = toy_scenario(1)
    cfg = parse_config({**NO_BREAKS, "understaffing_penalty": "service_level"})
    with pytest.raises(InputError) as e:
        build_problem(sc, flat_requirement(sc, 1.0), cfg, requirement_file="req.csv")
    assert e.value.location.column == "volume" and e.value.location.file == "req.csv"
    req = _traffic(flat_requirement(sc, 1.0), volume=2.5)
    twice = pd.concat([req, req.iloc[[4]]], ignore_index=True)
    twice.loc[len(twice) - 1, "agents"] = 0.0
    with pytest.raises(InputError) as e:
        build_problem(sc, twice, cfg, requirement_file="req.csv")
    assert e.value.location.row == len(twice) and e.value.location.column == "interval_start"
    bad = req.copy()
    bad.loc[6, "interval_s"] = 1800
    with pytest.raises(InputError) as e:
        build_problem(sc, bad, cfg, requirement_file="req.csv")
    assert (e.value.location.row, e.value.location.column) == (7, "interval_s")
    bad = req.copy()
    bad["aht_s"] = bad["aht_s"].astype(object)
    bad.loc[9, "aht_s"] = "slow"
    with pytest.raises(InputError) as e:
        build_problem(sc, bad, cfg, requirement_file="req.csv")
    assert (e.value.location.row, e.value.location.column) == (10, "aht_s")


# ----------------------------------------------------------------------- solved toys
def test_solved_toy_penalty_equals_hand_computed_service_level_loss():
    # two agents (40 h each) against 2 required all week: 0.5 Erlang (2.5 calls / 15 min,
    # AHT 180 s); SL(1) - SL(0) > SL(2) - SL(1), so the penalty is exactly the loss
    sc = toy_scenario(2)
    req = _traffic(flat_requirement(sc, 2.0), volume=2.5)
    p = build_problem(sc, req, parse_config({**NO_BREAKS, "cost_per_missed_contact": 3.0}))
    r = solve_schedule(p)
    assert check_schedule(p, r.segments).ok and r.check.ok
    sl = [float(_sl_c(n, 0.5, 180.0, 20.0)) for n in (0, 1, 2)]
    assert sl[1] - sl[0] > sl[2] - sl[1]
    cov = r.coverage["scheduled"].to_numpy()
    hand = (3.0 * 2.5 * (sl[2] - np.interp(cov, [0, 1, 2], sl))).sum()
    assert r.penalty == pytest.approx(hand, rel=1e-6)
    assert r.coverage["shortfall"].sum() > 0  # 80 agent-hours against 336 required


def test_shortfall_goes_to_the_queue_where_it_loses_fewer_contacts():
    # one bilingual agent; "busy" needs 1 agent for 1.5 calls / 15 min (0.3 Erlang),
    # "quiet" needs 3 agents for 0.2 calls / 15 min (a minimum staffing). The piecewise
    # penalty (blind to traffic) puts the agent on the larger requirement; the service-level
    # penalty puts the agent where the calls are and leaves the shortfall on "quiet".
    sc = toy_scenario(1, queues=("busy", "quiet"))
    req = flat_requirement(sc, {"busy": np.full(672, 1.0), "quiet": np.full(672, 3.0)})
    req = _traffic(req, volume=np.where(req["queue"] == "busy", 1.5, 0.2))
    p = build_problem(sc, req, parse_config(NO_BREAKS))
    w = p.penalty.weights[:, 0, 0]
    assert w[0] > w[1] * 3  # one missing agent on busy loses more than 3 on quiet
    r = solve_schedule(p)
    assert r.check.ok
    cov = r.coverage.pivot_table(index="interval_start", columns="queue", values="scheduled")
    working = cov.sum(axis=1) > 0
    assert working.sum() >= 5 * 32 - 4  # about 40 h (breaks none, 8 h shifts)
    np.testing.assert_allclose(cov.loc[working, "busy"], 1.0, atol=1e-6)
    np.testing.assert_allclose(cov.loc[working, "quiet"], 0.0, atol=1e-6)
    # the same supply under the piecewise penalty: the agent goes to "quiet"
    pw = build_problem(sc, req, parse_config({**NO_BREAKS,
                                              "understaffing_penalty": "piecewise"}))
    supply = np.zeros((1, p.n_intervals))
    supply[0, 40:72] = 1.0
    cov_pw, _ = flow_coverage(pw, supply)
    assert cov_pw[1, 40:72] == pytest.approx(np.ones(32)) and cov_pw[0, 40:72].sum() == 0
    cov_sl, pen_sl = flow_coverage(p, supply)
    assert cov_sl[0, 40:72] == pytest.approx(np.ones(32))
    assert pen_sl == pytest.approx(float(p.penalty.evaluate(p.required - cov_sl).sum()))


def test_cover_model_has_one_shortfall_column_per_piece_with_a_width():
    sc = toy_scenario(1)
    req = flat_requirement(sc, 10.0)
    p = build_problem(sc, req, parse_config(NO_BREAKS))
    base = build_cover_model(p)
    sl = build_problem(sc, _traffic(req, volume=np.tile([20.0, 0.0], 336)),
                       parse_config(NO_BREAKS))
    m = build_cover_model(sl)
    # piecewise: 3 pieces per interval; service level: 8 one-agent pieces + open-ended (10 > 8)
    assert m.a.shape[1] - base.a.shape[1] == (9 - 3) * 672
    # the shortfall columns, piece-major, come before the days-off pattern columns
    n_pat = int(work_patterns(sl.packs["Casablanca"], sl.days).sum()) * len(sl.groups)
    u = m.c[-9 * 672 - n_pat:-n_pat].reshape(9, 672)
    np.testing.assert_array_equal(u, sl.penalty.weights[0].T)
    assert (u[:, 1::2] == 0).all() and (u[:, ::2] > 0).all()  # no calls: no penalty


# --------------------------------------------------------------------------------- CLI
TOML = """
name = "Toy"
interval_s = 900
plan_start = "2026-03-30"
[[sites]]
name = "Casablanca"
country = "MA"
tz = "Africa/Casablanca"
seats = 10
cost_per_hour = 9.5
[[queues]]
id = "fr"
client = "Telco"
channel = "voice"
language = "fr"
market = "FR"
[[agents]]
id = "a1"
site = "Casablanca"
skills = "fr"
[[agents]]
id = "a2"
site = "Casablanca"
skills = "fr"
[scheduling]
time_limit_s = 5
cost_per_missed_contact = 4.0
breaks = []
[[scheduling.shifts]]
start_step_min = 60
lengths_h = [8]
"""


def test_staff_then_schedule_prices_the_shortfall_by_service_level(tmp_path, cli):
    sc = toy_scenario(1, queues=("fr",))
    base = flat_requirement(sc, 0.0)[["interval_start", "queue"]]
    hour = base["interval_start"].dt.hour.to_numpy()
    base = base.assign(volume=np.where((hour >= 8) & (hour < 18), 12.0, 1.0), aht_s=200.0,
                       interval_s=900, patience_s=120.0)
    base.to_csv(tmp_path / "traffic.csv", index=False)
    (tmp_path / "sc.toml").write_text(TOML)
    code, _, err = cli("staff", str(tmp_path / "traffic.csv"), "-o", str(tmp_path / "req.csv"))
    assert code == 0, err
    code, out, err = cli("schedule", str(tmp_path / "sc.toml"), str(tmp_path / "req.csv"),
                         "-o", str(tmp_path / "out"))
    assert code == 0, err
    summary = dict(pd.read_csv(tmp_path / "out" / "schedule_summary.csv")
                   .itertuples(index=False))
    assert summary["understaffing_penalty"] == "service_level (4 per missed contact)"
    assert summary["violations"] == "0" and "understaffing_penalty" in out
    # the reported penalty, by hand from the coverage written out: integer agents (no
    # breaks), the Erlang A loss of each missing agent lifted to the running maximum
    req = pd.read_csv(tmp_path / "req.csv")
    cov = pd.read_csv(tmp_path / "out" / "coverage.csv")["scheduled"].to_numpy()
    n = np.arange(SL_PIECES + 1)
    sl = chat.chat_metrics(n[None, :], (req["volume"] * 200 / 900).to_numpy()[:, None], 200.0,
                           1, 20.0, 120.0).service_level  # [row, agents], Erlang A
    hand = 0.0
    for i, (r, c, vol) in enumerate(zip(req["agents"], cov, req["volume"], strict=True)):
        assert r <= SL_PIECES and c == int(c)
        loss = [4.0 * vol * (sl[i, r - j] - sl[i, r - j - 1]) for j in range(r)]
        hand += sum(max(loss[:j + 1]) for j in range(max(0, r - int(c))))
    assert float(summary["shortfall_penalty"]) == pytest.approx(hand, abs=0.01)
    assert hand > 0


def test_demo_stage_summary_names_the_penalty(tmp_path):
    from openwfm.app.stages import schedule_stage, schedule_summary
    from openwfm.app.writers import write_schedule_outputs

    sc = toy_scenario(1, extra={"scheduling": NO_BREAKS})
    for req, want in ((_traffic(flat_requirement(sc, 1.0), volume=2.5),
                       "service_level (10 per missed contact)"),
                      (flat_requirement(sc, 1.0),
                       "piecewise (1x/2x/4x understaffing_cost_per_hour)")):
        planned = schedule_stage(sc, req)
        summary = {w: v for s, w, v in schedule_summary(planned) if s == "schedule"}
        assert summary["understaffing penalty"] == want
        assert planned.result.check.ok
        write_schedule_outputs(planned.problem, planned.result, tmp_path / "schedule")
        written = dict(pd.read_csv(tmp_path / "schedule" / "schedule_summary.csv")
                       .itertuples(index=False))
        assert written["understaffing_penalty"] == want
