"""A simulation that starts from the floor as it is (`InitialState`): contacts waiting and
agents busy at the start.

The reference is independent of the simulator: the exact transient law of the number of
contacts in an M/M/c (and M/M/c+M) system from that state, by the Kolmogorov forward
equations of its birth-death chain (``scipy.sparse.linalg.expm_multiply``), and the
service level of the contacts arriving in an interval by PASTA: an arrival at time t sees
n contacts with probability p_n(t); with n < c its wait is 0, else (FCFS, no abandonment)
it waits an Erlang(n - c + 1, c mu) time; with exponential patience theta the chance of
being answered within tau comes from the absorbing chain of its place in line. The
simulated figure (ratio of sums over replications, delta-method 95 % CI) must cover it.

Truncation: the number in system at t <= T is at most n0 + (arrivals in [0, T]), so
truncating the chain at N = n0 + the 1 - 1e-12 quantile of Poisson(lambda T) changes every
probability by less than 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, linalg, sparse, special, stats
from scipy.sparse.linalg import expm_multiply

from openwfm.simulation import Exponential, InitialState, LogNormal, simulate, single_queue_model
from openwfm.simulation.distributions import Deterministic, Empirical, Gamma
from openwfm.simulation.kpis import ratio_ci

C, AHT, TRAFFIC, TAU = 5, 180.0, 4.5, 20.0
LAM, MU = TRAFFIC / AHT, 1.0 / AHT
Q0 = 10  # contacts waiting at the start, all agents busy
T, STEP = 1800.0, 600.0  # three intervals of 10 minutes


def _p_served_within(c: int, mu: float, theta: float, tau: float, k_max: int) -> np.ndarray:
    """P(answered within tau) of a contact k-th in line (k = 1 .. k_max), FCFS, c busy
    agents of rate mu, every waiting contact abandoning at rate theta. Without abandonment
    it is the Erlang(k, c mu) CDF at tau."""
    k = np.arange(1, k_max + 1)
    if theta == 0:
        return special.gammainc(k, c * mu * tau)
    # states 0 .. k_max - 1 = places 1 .. k_max, then "served", "abandoned"
    n = k_max + 2
    g = np.zeros((n, n))
    for i in range(k_max):
        place = i + 1
        if place == 1:
            g[i, k_max] = c * mu
        else:
            g[i, i - 1] = c * mu + (place - 1) * theta
        g[i, k_max + 1] = theta
        g[i, i] = -g[i].sum()
    return linalg.expm(g * tau)[:k_max, k_max]


def exact_service_level(c: int, lam: float, mu: float, theta: float, q0: int, tau: float,
                        bounds: list[tuple[float, float]]) -> tuple[list[float], float]:
    """Expected contacts answered within tau among the arrivals of each interval of
    `bounds`, divided by their expected number, and the same for the q0 contacts waiting
    at 0 (k-th in line, just arrived): (per interval, waiting at the start)."""
    n0 = c + q0
    t_end = max(b for _, b in bounds)
    n_max = n0 + int(stats.poisson.ppf(1 - 1e-12, lam * t_end)) + 1
    n = np.arange(n_max + 1)
    death = np.minimum(n, c) * mu + np.maximum(n - c, 0) * theta
    birth = np.where(n < n_max, lam, 0.0)
    gen = sparse.diags([birth[:-1], death[1:], -(birth + death)], [1, -1, 0], format="csc")
    within = np.ones(n_max + 1)
    within[c:] = _p_served_within(c, mu, theta, tau, n_max - c + 1)
    p0 = np.zeros(n_max + 1)
    p0[n0] = 1.0
    out = []
    for a, b in bounds:
        ts = np.linspace(a, b, 201)
        p = expm_multiply(gen.T, p0 if a == 0 else expm_multiply(gen.T * a, p0),
                          start=0.0, stop=b - a, num=201, endpoint=True)
        assert abs(p.sum(axis=1) - 1).max() < 1e-9  # truncation bound holds
        out.append(float(integrate.simpson(p @ within, x=ts) / (b - a)))
    at_start = _p_served_within(c, mu, theta, tau, q0) if q0 else np.zeros(0)
    return out, float(at_start.mean()) if q0 else math.nan


def _model(patience_s: float | None) -> object:
    m = single_queue_model(arrival_rate_per_s=LAM, aht_s=AHT, agents=C, horizon_s=T,
                           answer_within_s=TAU, patience_s=patience_s, interval_s=STEP)
    return m.with_(initial=InitialState(
        0.0, np.array([Q0]), np.array([0.0]), busy_agent=np.arange(C),
        busy_queue=np.zeros(C, np.int64), busy_elapsed_s=np.full(C, np.nan)))


def _per_replication(log: object, nt: int, carried: int) -> tuple[np.ndarray, np.ndarray]:
    """(answered within tau, offered) per replication and interval, among the contacts
    with this `carried` code."""
    m = (log.carried == carried)  # type: ignore[attr-defined]
    rep = log.replication[m].astype(np.int64)  # type: ignore[attr-defined]
    k = np.clip((np.maximum(log.arrival_s[m], 0) // STEP).astype(np.int64), 0, nt - 1)  # type: ignore[attr-defined]
    ok = (log.outcome[m] == 0) & (log.wait_s[m] <= TAU)  # type: ignore[attr-defined]
    nr = log.replications  # type: ignore[attr-defined]
    key = rep * nt + k
    within = np.bincount(key, weights=ok, minlength=nr * nt).reshape(nr, nt)
    offered = np.bincount(key, minlength=nr * nt).reshape(nr, nt).astype(float)
    return within, offered


@pytest.mark.parametrize("patience_s", [None, 300.0], ids=["M/M/c", "M/M/c+M"])
def test_from_a_backlog_matches_the_exact_transient(patience_s: float | None) -> None:
    theta = 0.0 if patience_s is None else 1.0 / patience_s
    bounds = [(i * STEP, (i + 1) * STEP) for i in range(3)]
    exact, exact_waiting = exact_service_level(C, LAM, MU, theta, Q0, TAU, bounds)
    model = _model(patience_s)
    res = simulate(model, replications=2000, seed=11)  # type: ignore[arg-type]
    within, offered = _per_replication(res.log, 3, carried=0)
    for i in range(3):
        r, lo, hi = ratio_ci(within[:, i], offered[:, i])
        assert lo <= exact[i] <= hi, (i, exact[i], r, lo, hi)
    w1, o1 = _per_replication(res.log, 3, carried=1)
    assert (o1[:, 0] == Q0).all() and o1[:, 1:].sum() == 0  # the backlog, all counted
    r, lo, hi = ratio_ci(w1[:, 0], o1[:, 0])
    assert lo <= exact_waiting <= hi, (exact_waiting, r, lo, hi)
    # the interval in progress counts the waiting contacts too (kpis: the interval of
    # the start), the later ones only their arrivals
    c = res.counts
    got = c.dense("answered_within")[:, 0, :], c.dense("offered")[:, 0, :]
    assert np.array_equal(got[1][:, 0], offered[:, 0] + o1[:, 0])
    assert np.array_equal(got[0][:, 1:], within[:, 1:])
    both = (exact_waiting * Q0 + exact[0] * LAM * STEP) / (Q0 + LAM * STEP)
    r, lo, hi = ratio_ci(got[0][:, 0], got[1][:, 0])
    assert lo <= both <= hi, (both, r, lo, hi)
    # the backlog weighs on the interval in progress and less on the later ones
    assert exact[0] < exact[1] < exact[2]


def test_an_empty_state_is_the_run_from_empty() -> None:
    """An empty state at 0 draws the same random numbers: the same log (so the Erlang C
    and Erlang A checks of test_simulation_validation.py hold for it); an empty state
    later in a long day converges to Erlang C."""
    m = single_queue_model(arrival_rate_per_s=LAM, aht_s=AHT, agents=C, horizon_s=T,
                           answer_within_s=TAU, patience_s=300.0, interval_s=STEP)
    a = simulate(m, replications=3, seed=5).log
    b = simulate(m.with_(initial=InitialState(0.0, np.zeros(1, np.int64),
                                              np.full(1, np.nan))),
                 replications=3, seed=5).log
    assert np.array_equal(a.arrival_s, b.arrival_s) and np.array_equal(a.wait_s, b.wait_s)
    assert (b.carried == 0).all()
    # 12 h from an empty state at 30 min, the first 2 h left out: Erlang C (3.5 Erlang)
    a_ = 3.5
    long = single_queue_model(arrival_rate_per_s=a_ / AHT, aht_s=AHT, agents=C,
                              horizon_s=12 * 3600, answer_within_s=TAU, interval_s=1800,
                              warmup_s=7200)
    long = long.with_(initial=InitialState(1800.0, np.zeros(1, np.int64),
                                           np.full(1, np.nan)))
    res = simulate(long, replications=40, seed=4)
    assert (res.log.arrival_s >= 1800).all()
    q = res.queues.iloc[0]
    terms = sum(a_**k / math.factorial(k) for k in range(C))
    last = a_**C / math.factorial(C) * C / (C - a_)
    sl = 1 - last / (terms + last) * math.exp(-(C - a_) * TAU / AHT)
    assert q.service_level_lo <= sl <= q.service_level_hi, (sl, q.service_level_lo,
                                                            q.service_level_hi)


def test_a_backlog_lowers_the_first_interval_and_fades() -> None:
    """Ten agents all busy and 20 callers waiting (the oldest for 60 s), traffic 7 Erlang:
    the interval in progress is far below the Erlang C figure, the fourth is back at it."""
    c, aht, traffic = 10, 300.0, 7.0
    m = single_queue_model(arrival_rate_per_s=traffic / aht, aht_s=aht, agents=c,
                           horizon_s=4 * 1800, answer_within_s=TAU, interval_s=1800)
    m = m.with_(initial=InitialState(0.0, np.array([20]), np.array([60.0]),
                                     busy_agent=np.arange(c),
                                     busy_queue=np.zeros(c, np.int64),
                                     busy_elapsed_s=np.full(c, 100.0)))
    res = simulate(m, replications=200, seed=8)
    sl = res.intervals["service_level"].to_numpy()
    terms = sum(traffic**k / math.factorial(k) for k in range(c))
    last = traffic**c / math.factorial(c) * c / (c - traffic)
    erlang = 1 - last / (terms + last) * math.exp(-(c - traffic) * TAU / aht)
    assert sl[0] < erlang - 0.3, (sl, erlang)
    assert sl[0] < sl[1] < sl[3]
    assert abs(sl[3] - erlang) < 0.03, (sl, erlang)
    # the oldest caller's wait counts in full: one at 60 s, the others uniform below
    log = res.log
    w = log.arrival_s[log.carried == 1]
    assert w.min() == -60.0 and (w <= 0).all() and (w > -60.0).sum() == 19 * 200


@pytest.mark.parametrize("dist", [Exponential(), LogNormal(1.5), Gamma(2.0),
                                  Empirical.from_samples(np.arange(1.0, 400.0)),
                                  Deterministic()], ids=lambda d: d.name)
def test_residual_times_against_sampled_conditionals(dist: object) -> None:
    """The residual after a known elapsed time has the law of X - e given X > e (compared
    with samples of X); after an unknown one, its mean is E[X^2] / 2 E[X]."""
    rng = np.random.default_rng(4)
    n, mean, e = 200_000, 100.0, 150.0
    m = np.full(n, mean)
    x = dist.sample(rng, m)  # type: ignore[attr-defined]
    r = dist.residual(rng, m, np.full(n, e))  # type: ignore[attr-defined]
    tail = x[x > e] - e
    if tail.size > 1000:
        res = stats.ks_2samp(r, tail)
        assert res.pvalue > 0.001, res
    else:  # deterministic: nothing lasts longer, it ends now
        assert (r == 0).all()
    eq = dist.residual(rng, m, np.full(n, np.nan))  # type: ignore[attr-defined]
    want = (dist.variance(mean) + mean**2) / (2 * mean)  # type: ignore[attr-defined]
    assert eq.mean() == pytest.approx(want, rel=0.03)


def test_bad_initial_states_are_refused() -> None:
    m = single_queue_model(arrival_rate_per_s=LAM, aht_s=AHT, agents=2, horizon_s=T)
    with pytest.raises(ValueError, match="inside the horizon"):
        m.with_(initial=InitialState(T, np.zeros(1, np.int64), np.zeros(1)))
    with pytest.raises(ValueError, match="one value per queue"):
        m.with_(initial=InitialState(0.0, np.zeros(2, np.int64), np.zeros(2)))
    with pytest.raises(ValueError, match="capacity"):
        m.with_(initial=InitialState(0.0, np.zeros(1, np.int64), np.zeros(1),
                                     busy_agent=np.array([0, 0]),
                                     busy_queue=np.zeros(2, np.int64),
                                     busy_elapsed_s=np.zeros(2)))


@settings(max_examples=25, deadline=None)
@given(c=st.integers(1, 4), waiting=st.integers(0, 6), n_busy=st.integers(0, 4),
       oldest=st.one_of(st.none(), st.floats(0, 600)), start=st.floats(0, 1700),
       patience=st.one_of(st.none(), st.floats(30, 600)), seed=st.integers(0, 2**32))
def test_a_run_from_any_state_keeps_the_floor_rules(c: int, waiting: int, n_busy: int,
                                                    oldest: float | None, start: float,
                                                    patience: float | None,
                                                    seed: int) -> None:
    """Whatever the state: nothing is served before the start; the busy agents finish
    their contact first; the waiting contacts keep their place (served oldest first,
    their wait counted from their arrival, the oldest exactly the reported one); an agent
    never holds two calls; the same seed gives the same log."""
    n_busy = min(n_busy, c)
    m = single_queue_model(arrival_rate_per_s=2.0 / AHT, aht_s=AHT, agents=c, horizon_s=T,
                           answer_within_s=TAU, patience_s=patience, interval_s=STEP)
    m = m.with_(initial=InitialState(
        start, np.array([waiting]), np.array([np.nan if oldest is None else oldest]),
        busy_agent=np.arange(n_busy), busy_queue=np.zeros(n_busy, np.int64),
        busy_elapsed_s=np.full(n_busy, 30.0)))
    log = simulate(m, replications=2, seed=seed, backend="serial").log
    again = simulate(m, replications=2, seed=seed, backend="serial").log
    assert np.array_equal(log.wait_s, again.wait_s)
    for r in range(2):
        mine = log.replication == r
        car, arr = log.carried[mine], log.arrival_s[mine]
        wait, out = log.wait_s[mine], log.outcome[mine]
        agent, handle = log.agent[mine], log.handle_s[mine]
        assert (car == 2).sum() == n_busy and (car == 1).sum() == waiting
        assert (arr[car == 2] == start).all() and (wait[car == 2] == 0).all()
        assert (agent[car == 2] == np.arange(n_busy)).all()
        w_arr = arr[car == 1]
        assert (w_arr <= start).all() and (arr[car == 0] >= start).all()
        if waiting:
            assert w_arr.min() == pytest.approx(start - (oldest or 0.0))
        served = out == 0
        begin = arr + wait
        assert (begin[served] >= start - 1e-9).all()
        # served in arrival order (FIFO, one queue): the backlog first, then the arrivals
        ws = served & (car != 2)
        order = np.argsort(arr[ws], kind="stable")
        assert (np.diff(begin[ws][order]) >= -1e-9).all()
        for a in range(c):  # one call at a time per agent
            x = served & (agent == a)
            s0 = np.sort(begin[x])
            e0 = (begin[x] + handle[x])[np.argsort(begin[x])]
            assert (s0[1:] >= e0[:-1] - 1e-9).all()
