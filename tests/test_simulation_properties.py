"""Properties of the engine checked on random small centers (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openwfm.simulation import (
    Exponential,
    LogNormal,
    QueueSpec,
    SimulationModel,
    simulate,
    single_queue_model,
)


@settings(max_examples=25, deadline=None)
@given(rate=st.floats(0.01, 0.2), aht=st.floats(20, 300), n=st.integers(1, 12),
       seed=st.integers(0, 2**32 - 1))
def test_one_more_agent_never_lengthens_a_wait(rate, aht, n, seed) -> None:
    """FIFO G/G/n with the same arrivals and service times (common random numbers): every
    contact's wait is non-increasing in the number of agents (Kiefer-Wolfowitz)."""
    logs = [simulate(single_queue_model(arrival_rate_per_s=rate, aht_s=aht, agents=k,
                                        horizon_s=7200, handle=LogNormal(1.5)),
                     replications=1, seed=seed, backend="serial").log for k in (n, n + 1)]
    assert len(logs[0]) == len(logs[1])
    assert np.all(logs[1].wait_s <= logs[0].wait_s + 1e-9)


@settings(max_examples=20, deadline=None)
@given(n_agents=st.integers(1, 6), conc=st.integers(1, 3), seed=st.integers(0, 2**32 - 1),
       breaks=st.lists(st.tuples(st.integers(0, 5), st.floats(0, 6000), st.floats(60, 1800)),
                       max_size=6))
def test_log_invariants_multiskill(n_agents, conc, seed, breaks) -> None:
    """Served contacts start inside one of their agent's work segments, never before they
    arrive; an agent never holds more than its capacity; abandoned waits equal patience
    draws (< the wait they would have had); every contact has one outcome."""
    rng = np.random.default_rng(seed)
    qs = (QueueSpec("voice", 20, Exponential(), Exponential(), 120.0, priority=1),
          QueueSpec("chat", 60, LogNormal(0.8), None, float("inf"), concurrency=conc))
    rank = rng.integers(-1, 2, size=(n_agents, 2))
    rank[:, 0] = np.where((rank < 0).all(axis=1), 0, rank[:, 0])
    seg = [(a, 0.0, 7200.0) for a in range(n_agents)]
    for a, s, d in breaks:  # cut a hole (break) into agent a's day
        if a < n_agents:
            seg = [x for x in seg if x[0] != a] + [(a, 0.0, s), (a, s + d, 7200.0)]
    seg = [x for x in seg if x[2] > x[1]]
    seg_a, seg_s, seg_e = (np.array(v) for v in zip(*seg, strict=True))
    m = SimulationModel(queues=qs, volume=np.array([[30.0] * 4, [20.0] * 4]),
                        aht_s=np.full((2, 4), 200.0), agent_ids=tuple(map(str, range(n_agents))),
                        skill_rank=rank, seg_agent=seg_a.astype(np.int64),
                        seg_start_s=seg_s.astype(float), seg_end_s=seg_e.astype(float),
                        interval_s=1800.0)
    log = simulate(m, replications=2, seed=seed, backend="serial").log
    assert np.all(np.isin(log.outcome, [0, 1, 2]))
    assert np.all(log.wait_s >= 0)
    s = log.served
    start = log.arrival_s[s] + log.wait_s[s]
    agent = log.agent[s]
    assert np.all(rank[agent, log.queue[s]] >= 0)  # only skilled agents
    inside = np.zeros(start.size, bool)
    for a, lo, hi in zip(seg_a, seg_s, seg_e, strict=True):
        inside |= (agent == a) & (start >= lo - 1e-9) & (start < hi)
    assert inside.all()
    # capacity: at every service start, the agent's load (voice 1, chat 1/conc) <= 1
    load = np.where(log.queue[s] == 0, 1.0, 1.0 / conc)
    end = start + log.handle_s[s]
    rep = log.replication[s]
    for i in range(start.size):
        same = (rep == rep[i]) & (agent == agent[i]) & (start <= start[i]) & (
                end > start[i] + 1e-6)  # start = arrival + wait: rounding of 1 ulp
        assert load[same].sum() <= 1.0 + 1e-9
    assert not np.any(log.abandoned & (log.queue == 1))  # chats here have no patience
