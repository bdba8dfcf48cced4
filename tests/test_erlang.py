"""Erlang B / C / A kernels against mpmath (50 digits), published values and brute force."""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from openwfm.staffing import erlang

REF = Path(__file__).parent / "reference"
TOL = 1e-9
ASA_ABSOLUTE_BELOW_S = 1e5  # ASA checked to TOL seconds below this, TOL relative above


@pytest.fixture(scope="module")
def mp_ref() -> pd.DataFrame:
    df = pd.read_csv(REF / "erlang_mpmath.csv")
    assert df["source"].str.contains("mpmath 50 digits").all()
    return df


def _metrics_of(df: pd.DataFrame) -> erlang.QueueMetrics:
    return erlang.metrics(df["agents"].to_numpy(), df["traffic_erl"].to_numpy(),
                          df["aht_s"].to_numpy(), df["answer_within_s"].to_numpy(),
                          df["patience_s"].to_numpy(dtype=float))


def test_reference_covers_the_range(mp_ref: pd.DataFrame) -> None:
    for model in ("erlang_c", "erlang_a"):
        t = mp_ref.loc[mp_ref["model"] == model, "traffic_erl"]
        assert t.min() <= 0.01 and t.max() >= 20_000


@pytest.mark.parametrize("column", ["service_level", "asa_s", "p_wait", "p_abandon",
                                    "occupancy", "erlang_b"])
def test_agrees_with_mpmath_to_1e9(mp_ref: pd.DataFrame, column: str) -> None:
    m = _metrics_of(mp_ref)
    got = (erlang.erlang_b(mp_ref["agents"].to_numpy(), mp_ref["traffic_erl"].to_numpy())
           if column == "erlang_b" else getattr(m, column))
    ref = mp_ref[column].to_numpy(dtype=float)
    given_ = ~np.isnan(ref)
    assert np.isfinite(got[np.isfinite(ref)]).all()
    np.testing.assert_array_equal(np.isinf(got[given_]), np.isinf(ref[given_]))
    fin = np.isfinite(ref)
    # probabilities: 1e-9 absolute. ASA (seconds): 1e-9 s absolute wherever the reference is
    # below 1e5 s (28 hours: every operating point a plan can have); the heavily overloaded
    # rows reach 1e7 s, where one double-precision ulp is ~2e-9 s: there 1e-9 relative.
    tol = (np.where(np.abs(ref[fin]) < ASA_ABSOLUTE_BELOW_S, TOL, TOL * np.abs(ref[fin]))
           if column == "asa_s" else TOL)
    err = np.abs(got[fin] - ref[fin])
    assert (err <= tol).all(), (column, float(err.max()))
    if column == "p_abandon":  # no abandonment model without patience
        assert np.isnan(got[mp_ref["model"] == "erlang_c"]).all()


def test_required_agents_match_mpmath_brute_force(mp_ref: pd.DataFrame) -> None:
    rows = mp_ref.dropna(subset=["required_agents_sl80_20s"]).drop_duplicates(
        ["model", "traffic_erl", "aht_s", "patience_s"])
    assert len(rows) >= 20
    r = erlang.required_agents(rows["traffic_erl"].to_numpy(), rows["aht_s"].to_numpy(), 0.8,
                               20, rows["patience_s"].to_numpy(dtype=float))
    np.testing.assert_array_equal(r.agents, rows["required_agents_sl80_20s"].astype(int))


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    df = pd.read_csv(REF / "published.csv")
    assert df["source"].notna().all()
    return df


@pytest.mark.parametrize("rid", ["R1", "R2", "R3"])
def test_published_queue_values(published: pd.DataFrame, rid: str) -> None:
    rows = published[published["id"] == rid]
    for _, r in rows.iterrows():
        pat = None if np.isnan(r["patience_s"]) else r["patience_s"]
        m = erlang.metrics(int(r["agents"]), r["traffic_erl"], r["aht_s"], r["answer_within_s"],
                           pat)
        assert abs(float(getattr(m, r["quantity"])) - r["value"]) <= r["tolerance"], r.to_dict()


def test_published_erlang_b_table(published: pd.DataFrame) -> None:
    rows = published[published["id"] == "R6"].set_index("quantity")
    b = rows.loc["blocking"]
    assert abs(float(erlang.erlang_b(10, b["traffic_erl"])) - b["value"]) <= b["tolerance"]
    t = rows.loc["traffic_at_blocking_0.01"]
    found = brentq(lambda a: float(erlang.erlang_b(10, a)) - 0.01, 1.0, 10.0, xtol=1e-12)
    assert abs(found - t["value"]) <= t["tolerance"]


def test_published_halfin_whitt_limit(published: pd.DataFrame) -> None:
    rows = published[published["id"] == "R8"]
    for _, r in rows.iterrows():
        big_r, beta = r["traffic_erl"], r["beta"]
        n = big_r + beta * np.sqrt(big_r)
        got = float(erlang.erlang_c(n, big_r))
        assert abs(got - r["value"]) <= r["tolerance"]
        # and the finite-size error shrinks towards the limit as R grows
        small = float(erlang.erlang_c(1e4 + beta * 100, 1e4))
        assert abs(got - r["value"]) < abs(small - r["value"])


def _brute_force(a, aht, t, pat, target, max_asa=None, max_ab=None, max_occ=None) -> int:
    n = 0
    while True:
        m = erlang.metrics(n, a, aht, t, pat)
        ok = m.service_level >= target
        ok &= max_asa is None or m.asa_s <= max_asa
        ok &= max_ab is None or m.p_abandon <= max_ab
        ok &= max_occ is None or m.occupancy <= max_occ
        if ok:
            return n
        n += 1


def test_required_agents_equal_brute_force_on_a_grid() -> None:
    rng = np.random.default_rng(7)
    for _ in range(60):
        a = float(rng.uniform(0.05, 60))
        aht = float(rng.uniform(30, 600))
        t = float(rng.choice([0, 10, 20, 60]))
        pat = None if rng.random() < 0.4 else float(rng.uniform(10, 1000))
        target = float(rng.uniform(0.5, 0.99))
        max_asa = float(rng.uniform(1, 60)) if rng.random() < 0.3 else None
        max_ab = float(rng.uniform(0.005, 0.2)) if pat and rng.random() < 0.3 else None
        max_occ = float(rng.uniform(0.6, 0.95)) if rng.random() < 0.3 else None
        r = erlang.required_agents(a, aht, target, t, pat, max_asa_s=max_asa,
                                   max_abandon=max_ab, max_occupancy=max_occ)
        assert int(r.agents) == _brute_force(a, aht, t, pat, target, max_asa, max_ab, max_occ)


def test_large_traffic_no_overflow_no_nan() -> None:
    a = np.array([0.01, 1.0, 500.0, 5000.0, 20_000.0, 50_000.0])
    for pat in (None, 60.0, 3600.0):
        r = erlang.required_agents(a, 240, 0.8, 20, pat, max_asa_s=30)
        for name in ("service_level", "asa_s", "p_wait", "occupancy"):
            assert np.isfinite(getattr(r, name)).all(), (pat, name)
        assert (r.service_level >= 0.8).all() and (r.asa_s <= 30).all()
        # one fewer agent misses a target
        m = erlang.metrics(r.agents - 1, a, 240, 20, pat)
        assert ((m.service_level < 0.8) | (m.asa_s > 30)).all()


def test_zero_traffic_needs_no_agent() -> None:
    r = erlang.required_agents([0.0, 0.0], 180, 0.8, 20, [np.nan, 300])
    assert r.agents.tolist() == [0, 0]
    assert r.service_level.tolist() == [1.0, 1.0] and r.occupancy.tolist() == [0.0, 0.0]
    assert np.isnan(r.p_abandon[0]) and r.p_abandon[1] == 0.0  # no patience: no p_abandon


def test_erlang_a_can_staff_below_traffic() -> None:
    r = erlang.required_agents(100.0, 300, 0.5, 60, patience_s=30)
    assert int(r.agents) < 100
    assert int(r.agents) == _brute_force(100.0, 300, 60, 30, 0.5)


def test_unstable_erlang_c_is_reported_as_such() -> None:
    m = erlang.metrics(10, 10.0, 180, 20)
    assert float(m.service_level) == 0.0 and float(m.p_wait) == 1.0 and np.isinf(m.asa_s)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        erlang.required_agents(10.0, 180, 1.0, 20)
    with pytest.raises(ValueError):
        erlang.required_agents(10.0, 0, 0.8, 20)
    with pytest.raises(ValueError):
        erlang.metrics(2.5, 1.0, 180, 20)


# ------------------------------------------------------------------ hypothesis properties
traffic = st.floats(0.05, 300)
aht_s = st.floats(20, 900)
patience = st.one_of(st.none(), st.floats(5, 3000))


@settings(max_examples=60, deadline=None)
@given(traffic, aht_s, st.floats(0, 120), patience, st.integers(0, 40))
def test_sl_rises_with_agents(a, aht, t, pat, extra) -> None:
    n0 = max(1, int(a) - 5 + extra)
    m = erlang.metrics([n0, n0 + 1], a, aht, t, pat)
    assert m.service_level[1] >= m.service_level[0] - 1e-12
    if pat is not None:
        assert m.p_abandon[1] <= m.p_abandon[0] + 1e-12


@settings(max_examples=60, deadline=None)
@given(traffic, aht_s, st.floats(0, 120), patience, st.floats(1.01, 1.5))
def test_sl_falls_with_volume_and_aht(a, aht, t, pat, f) -> None:
    n = int(a * 1.1) + 2
    base = float(erlang.service_level(n, a, aht, t, pat))
    more_volume = float(erlang.service_level(n, a * f, aht, t, pat))  # same AHT
    longer_aht = float(erlang.service_level(n, a * f, aht * f, t, pat))  # same calls
    assert more_volume <= base + 1e-12
    assert longer_aht <= base + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.floats(0.5, 200), aht_s, st.floats(0, 60), st.floats(0.5, 0.95))
def test_erlang_a_tends_to_erlang_c(a, aht, t, target) -> None:
    n = int(a) + 1 + int(np.sqrt(a))
    c = erlang.metrics(n, a, aht, t)
    gaps = []
    for pat in (1e4 * aht, 1e6 * aht):
        m = erlang.metrics(n, a, aht, t, pat)
        gaps.append(abs(float(m.service_level - c.service_level))
                    + abs(float(m.p_wait - c.p_wait)))
    # the gap shrinks like 1/patience, and like 1/sqrt(patience) as the load nears 1
    # (critically loaded queues): 100 times the patience cuts it at least 5-fold
    assert gaps[1] <= 0.2 * gaps[0] + 1e-10


@settings(max_examples=60, deadline=None)
@given(traffic, aht_s, st.floats(0, 120), patience, st.floats(0.3, 0.99))
def test_required_agents_minimal(a, aht, t, pat, target) -> None:
    r = erlang.required_agents(a, aht, target, t, pat)
    n = int(r.agents)
    assert r.service_level >= target
    assert float(erlang.service_level(n - 1, a, aht, t, pat)) < target


# ------------------------------------------------------- simulation vs theory (Erlang A)
@numba.njit(cache=False)
def _fcfs_abandon(arrivals, service, patience, n):
    free = np.zeros(n)
    wait = np.empty(arrivals.shape[0])
    answered = np.empty(arrivals.shape[0], dtype=np.bool_)
    for i in range(arrivals.shape[0]):
        k = np.argmin(free)
        offered = max(0.0, free[k] - arrivals[i])
        if offered <= patience[i]:
            answered[i] = True
            wait[i] = offered
            free[k] = arrivals[i] + offered + service[i]
        else:
            answered[i] = False
            wait[i] = patience[i]
    return wait, answered


def _simulate_mmn_m(n, lam, mu, theta, customers, seed):
    """Exact FCFS M/M/n+M simulation by the multi-server recursion: each arrival takes the
    earliest-free agent unless its (exponential) patience runs out first. Returns per-
    customer (wait, answered); an abandoning customer's wait is its patience."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / lam, customers))
    service = rng.exponential(1 / mu, customers)
    patience = rng.exponential(1 / theta, customers)
    return _fcfs_abandon(arrivals, service, patience, n)


def test_erlang_a_matches_simulation_within_confidence_intervals() -> None:
    from scipy import stats

    n, aht, pat, t = 14, 180.0, 300.0, 20.0
    a = 10.0
    wait, answered = _simulate_mmn_m(n, a / aht, 1 / aht, 1 / pat, 4_020_000, seed=11)
    wait, answered = wait[20_000:], answered[20_000:]  # warm-up
    batches = 20
    sl = [np.mean(ans & (w <= t)) for w, ans in zip(np.array_split(wait, batches),
                                                    np.array_split(answered, batches),
                                                    strict=True)]
    ab = [np.mean(~ans) for ans in np.array_split(answered, batches)]
    asa_ = [np.mean(w[ans]) for w, ans in zip(np.array_split(wait, batches),
                                              np.array_split(answered, batches), strict=True)]
    pw = [np.mean(w > 0) for w in np.array_split(wait, batches)]
    m = erlang.metrics(n, a, aht, t, pat)
    q = stats.t.ppf(0.995, batches - 1)
    for name, sample, theory in (("service_level", sl, m.service_level),
                                 ("p_abandon", ab, m.p_abandon), ("asa_s", asa_, m.asa_s),
                                 ("p_wait", pw, m.p_wait)):
        mean, half = np.mean(sample), q * np.std(sample, ddof=1) / np.sqrt(batches)
        assert abs(mean - float(theory)) <= half, (name, mean, half, float(theory))
        if name == "asa_s":  # precise enough to tell ASA of answered from mean wait of all
            assert half < 0.5 * abs(float(m.p_abandon) * pat - float(theory))
