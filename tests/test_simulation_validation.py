"""Simulation vs theory, statistically: the analytic or published value must lie inside the
95% confidence interval of the simulated estimate (replications, warm-up where a steady
state is compared).

References: REFERENCES.md R1 (Erlang C), R3 (Erlang A), R4/R5 (ContactCenters MMC/MMCAb).
The analytic values are computed here independently of openwfm: Erlang C in closed form,
Erlang A from the birth-death chain with the answered-within-t probability of a tagged
customer obtained from a small absorbing Markov chain (matrix exponential); both are checked
against the published values first.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from openwfm.simulation import (
    Deterministic,
    LogNormal,
    QueueSpec,
    simulate,
    single_queue_model,
)
from openwfm.simulation.model import SimulationModel


def erlang_c_ref(n: int, lam: float, mu: float, t: float) -> tuple[float, float]:
    """(P(wait), SL) of M/M/n, Erlang's closed form."""
    a = lam / mu
    s = sum(a**k / math.factorial(k) for k in range(n))
    last = a**n / math.factorial(n) * n / (n - a)
    pw = last / (s + last)
    return pw, 1.0 - pw * math.exp(-(n * mu - lam) * t)


def erlang_a_ref(n: int, lam: float, mu: float, theta: float, t: float, kmax: int = 400
                 ) -> tuple[float, float]:
    """(P(abandon), SL answered within t / offered) of M/M/n+M from the birth-death chain."""
    rates = [min(k, n) * mu + max(k - n, 0) * theta for k in range(1, kmax + 1)]
    logp = [0.0]
    for r in rates:
        logp.append(logp[-1] + math.log(lam) - math.log(r))
    p = np.exp(np.array(logp) - max(logp))
    p /= p.sum()
    queue_mean = float(sum(p[k] * (k - n) for k in range(n, kmax + 1)))
    p_ab = theta * queue_mean / lam
    # tagged customer with j ahead: j -> j-1 at n mu + j theta; 0 -> served at n mu;
    # any -> abandoned at theta (its own patience).
    m = kmax - n + 1
    q = np.zeros((m + 2, m + 2))
    served, gone = m, m + 1
    for j in range(m):
        if j == 0:
            q[j, served] = n * mu
        else:
            q[j, j - 1] = n * mu + j * theta
        q[j, gone] = theta
        q[j, j] = -q[j].sum()
    pt = expm(q * t)[:m, served]
    sl = float(p[:n].sum() + sum(p[n + j] * pt[j] for j in range(m)))
    return p_ab, sl


def test_reference_formulas_match_published_values() -> None:
    # R1: 100 calls / 30 min, AHT 180 s, 14 agents, 20 s -> SL 0.88835, P(wait) 0.17413
    pw, sl = erlang_c_ref(14, 100 / 1800, 1 / 180, 20)
    assert pw == pytest.approx(0.17413, abs=1e-5)
    assert sl == pytest.approx(0.88835, abs=1e-5)
    # R3: same with mean patience 300 s -> P(abandon) 0.013984, SL 0.916792
    pab, sl = erlang_a_ref(14, 100 / 1800, 1 / 180, 1 / 300, 20)
    assert pab == pytest.approx(0.013984, abs=1e-6)
    assert sl == pytest.approx(0.916792, abs=1e-6)


def _steady(agents: int, patience_s: float | None = None, handle=None, reps: int = 60,
            seed: int = 12):
    m = single_queue_model(arrival_rate_per_s=100 / 1800, aht_s=180, agents=agents,
                           horizon_s=12 * 3600, interval_s=1800, warmup_s=2 * 3600,
                           answer_within_s=20, patience_s=patience_s, handle=handle)
    return simulate(m, replications=reps, seed=seed).queues.iloc[0]


def test_erlang_c_inside_ci() -> None:
    """M/M/14, R1: simulated SL, P(wait)-driven ASA and occupancy contain the theory."""
    q = _steady(14)
    _, sl = erlang_c_ref(14, 100 / 1800, 1 / 180, 20)
    assert q.service_level_lo <= sl <= q.service_level_hi
    occ = (100 / 1800 * 180) / 14
    assert q.occupancy_lo <= occ <= q.occupancy_hi
    pw, _ = erlang_c_ref(14, 100 / 1800, 1 / 180, 0)
    asa = pw / (14 / 180 - 100 / 1800)
    assert q.asa_s_lo <= asa <= q.asa_s_hi


def test_erlang_a_inside_ci() -> None:
    """M/M/14+M, R3: simulated P(abandon) and SL contain the birth-death values."""
    q = _steady(14, patience_s=300)
    pab, sl = erlang_a_ref(14, 100 / 1800, 1 / 180, 1 / 300, 20)
    assert q.p_abandon_lo <= pab <= q.p_abandon_hi
    assert q.service_level_lo <= sl <= q.service_level_hi


def test_matches_openwfm_erlang_kernels() -> None:
    """The same cases against `openwfm.staffing.erlang` (another engineer's kernels)."""
    erlang = pytest.importorskip("openwfm.staffing.erlang")
    for patience in (None, 300.0):
        q = _steady(14, patience_s=patience, seed=5)
        m = erlang.metrics(14, 10.0, 180, 20, patience_s=patience)
        assert q.service_level_lo <= float(m.service_level) <= q.service_level_hi
        assert q.asa_s_lo <= float(m.asa_s) <= q.asa_s_hi


def test_r4_contactcenters_mmc() -> None:
    """R4: 8-hour day from empty, M/M/12, 4.2/min, 0.5/min, 20 s: SL 0.902 [0.900, 0.904],
    ASA 0.099 min, occupancy 0.695 (1000 days in the published run; 300 here)."""
    m = single_queue_model(arrival_rate_per_s=4.2 / 60, aht_s=120, agents=12,
                           horizon_s=8 * 3600, answer_within_s=20)
    q = simulate(m, replications=300, seed=2024).queues.iloc[0]
    assert q.service_level_lo <= 0.902 <= q.service_level_hi
    assert q.asa_s_lo <= 0.099 * 60 <= q.asa_s_hi + 0.05 * 60 * 0.001  # printed to 3 digits
    assert abs(q.occupancy - 0.695) < 0.005


def test_r5_contactcenters_mmc_abandonment() -> None:
    """R5: same with patience rate 1/min: SL answered in 20 s / answered 0.975, 58.6
    abandons per day."""
    m = single_queue_model(arrival_rate_per_s=4.2 / 60, aht_s=120, agents=12,
                           horizon_s=8 * 3600, answer_within_s=20, patience_s=60)
    res = simulate(m, replications=300, seed=2025)
    log = res.log
    per_rep_sl = []
    per_rep_ab = []
    for r in range(log.replications):
        sel = log.replication == r
        served = log.served[sel]
        per_rep_sl.append(np.mean(log.wait_s[sel][served] <= 20))
        per_rep_ab.append(log.abandoned[sel].sum())
    from openwfm.simulation import mean_ci

    _, lo, hi = mean_ci(np.array(per_rep_sl))
    assert lo - 0.0005 <= 0.975 <= hi + 0.0005  # published to 3 digits
    _, lo, hi = mean_ci(np.array(per_rep_ab, dtype=float))
    assert lo <= 58.6 <= hi


def test_chat_concurrency_is_pooled_servers() -> None:
    """k chats per agent with handle times independent of load = M/M/(n k): Erlang C."""
    n, k = 5, 3
    q = QueueSpec("chat", answer_within_s=20, concurrency=k)
    base = single_queue_model(arrival_rate_per_s=100 / 1800, aht_s=180, agents=n,
                              horizon_s=12 * 3600, interval_s=1800, warmup_s=2 * 3600)
    m = base.with_(queues=(q,))
    r = simulate(m, replications=40, seed=3).queues.iloc[0]
    _, sl = erlang_c_ref(n * k, 100 / 1800, 1 / 180, 20)
    assert r.service_level_lo <= sl <= r.service_level_hi
    # a chat occupies 1/k of an agent: occupancy = traffic / (n k)
    assert r.occupancy_lo <= 10.0 / (n * k) <= r.occupancy_hi


def test_lognormal_handle_same_mean_occupancy() -> None:
    """Occupancy = traffic / agents whatever the handle distribution (Little's law)."""
    q = _steady(14, handle=LogNormal(cv=1.5), seed=8)
    assert q.occupancy_lo <= 10 / 14 <= q.occupancy_hi


def test_over_dispersion_variance() -> None:
    """Gamma day factor of cv c: daily count variance = L + (L c)^2 (negative binomial)."""
    lam, cv, days = 500.0, 0.2, 400
    m = SimulationModel(
        queues=(QueueSpec("q"),), volume=np.full((1, days), lam), aht_s=np.full((1, days), 1.0),
        agent_ids=("a",), skill_rank=np.zeros((1, 1), np.int64),
        seg_agent=np.array([0]), seg_start_s=np.array([0.0]),
        seg_end_s=np.array([days * 86400.0]), interval_s=86400.0, busyness_cv=cv)
    res = simulate(m, replications=1, seed=4)
    counts = np.bincount((res.log.arrival_s // 86400).astype(int), minlength=days)
    var = counts.var(ddof=1)
    theory = lam + (lam * cv) ** 2
    # sample variance of `days` draws: relative sd about sqrt(2 / days) (~7%); allow 4 sd
    assert abs(var / theory - 1) < 4 * math.sqrt(2 / days)
    assert abs(counts.mean() - lam) < 4 * math.sqrt(theory / days)


@pytest.mark.parametrize("dist", [LogNormal(cv=0.7), Deterministic()])
def test_distributions_against_theory(dist) -> None:
    from openwfm.simulation import Exponential, Gamma

    for d in (dist, Exponential(), Gamma(k=2.5)):
        x = d.sample(np.random.default_rng(0), np.full(200_000, 120.0))
        assert abs(x.mean() - d.mean(120.0)) < 4 * math.sqrt(d.variance(120.0) / x.size) + 1e-9
        if d.variance(120.0) > 0:
            assert x.var() == pytest.approx(d.variance(120.0), rel=0.05)
