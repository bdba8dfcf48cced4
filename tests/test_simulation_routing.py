"""Routing policies and agent presence on hand-checked toys (fixed arrivals, deterministic
handle times and patience), and occupancy <= 1 as a property."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openwfm.simulation import (
    Deterministic,
    Exponential,
    LogNormal,
    Overflow,
    QueueSpec,
    RoutingPolicy,
    SimulationModel,
    group_kpis,
    model_from_staffing,
    simulate,
)

ORIGIN = pd.Timestamp("2026-03-02", tz="UTC")
DET = Deterministic()


def toy(queues, skill_rank, arrivals, arrival_queue, *, segs=None, aht=30.0, horizon=3600.0,
        groups=None, routing=None, patience=None):
    nq = len(queues)
    n = len(skill_rank)
    segs = segs if segs is not None else [(a, 0.0, horizon) for a in range(n)]
    seg_agent, seg_start, seg_end = (np.array(x) for x in zip(*segs, strict=True))
    kw = {}
    if groups is not None:
        ids = tuple(dict.fromkeys(groups))
        kw = {"group_ids": ids, "agent_group": np.array([ids.index(g) for g in groups])}
    return SimulationModel(
        queues=tuple(queues), volume=np.zeros((nq, 1)), aht_s=np.full((nq, 1), aht),
        agent_ids=tuple(f"a{i}" for i in range(n)),
        skill_rank=np.array(skill_rank, dtype=np.int64), seg_agent=seg_agent.astype(np.int64),
        seg_start_s=seg_start.astype(float), seg_end_s=seg_end.astype(float),
        interval_s=horizon, origin=ORIGIN, routing=routing or RoutingPolicy(),
        arrivals_s=np.array(arrivals, float), arrival_queue=np.array(arrival_queue, np.int64),
        patience_s=patience, **kw)


def presence(p):
    """(agent, start, end) of the presence records, sorted."""
    return sorted(zip(p.agent.tolist(), p.start_s.tolist(), p.end_s.tolist(), strict=True))


def run(m):
    return simulate(m, replications=1, seed=0, backend="serial")


def frame(m):
    return run(m).log.to_frame()


# --- agent selection of waiting contacts -------------------------------------------------

def two_queues(prio_low=0, prio_high=5):
    return [QueueSpec("low", handle=DET, priority=prio_low),
            QueueSpec("high", handle=DET, priority=prio_high)]


def test_priority_takes_the_higher_queue_first() -> None:
    """Busy until 30; at 30 both queues wait: priority takes 'high' although it came last."""
    m = toy(two_queues(), [[0, 1]], [0, 1, 2], [0, 0, 1])
    assert frame(m).wait_s.tolist() == [0, 59, 28]


def test_oldest_takes_the_longest_waiting_across_queues() -> None:
    """FIFO across skills: at 30 the low-priority contact that arrived at 1 goes first."""
    m = toy(two_queues(), [[0, 1]], [0, 1, 2], [0, 0, 1],
            routing=RoutingPolicy(agent_selection="oldest"))
    assert frame(m).wait_s.tolist() == [0, 29, 58]


def test_priority_oldest_breaks_equal_priorities_by_wait() -> None:
    """Equal priorities, the agent prefers 'high' (rank 0): priority alone takes it first,
    priority_oldest takes the older 'low' contact."""
    qs = two_queues(prio_low=1, prio_high=1)
    base = toy(qs, [[1, 0]], [0, 1, 2], [0, 0, 1])
    assert frame(base).wait_s.tolist() == [0, 59, 28]
    m = base.with_(routing=RoutingPolicy(agent_selection="priority_oldest"))
    assert frame(m).wait_s.tolist() == [0, 29, 58]
    # a higher priority still wins over an older contact
    m = toy(two_queues(0, 5), [[0, 1]], [0, 1, 2], [0, 0, 1],
            routing=RoutingPolicy(agent_selection="priority_oldest"))
    assert frame(m).wait_s.tolist() == [0, 59, 28]


def test_agent_selection_per_group() -> None:
    """A group's own agent selection overrides the default, both ways."""
    for group, pol, waits in (
            ("fifo", RoutingPolicy(group_agent_selection={"fifo": "oldest"}), [0, 29, 58]),
            ("prio", RoutingPolicy(agent_selection="oldest",
                                   group_agent_selection={"prio": "priority"}), [0, 59, 28])):
        m = toy(two_queues(), [[0, 1]], [0, 1, 2], [0, 0, 1], groups=[group], routing=pol)
        assert frame(m).wait_s.tolist() == waits
    pol = RoutingPolicy(group_agent_selection={"fifo": "oldest"})
    with pytest.raises(ValueError, match="unknown group 'fifo'"):
        run(toy(two_queues(), [[0, 1]], [0], [0], groups=["x"], routing=pol))


# --- contact selection of idle agents ----------------------------------------------------

def test_longest_idle_least_skilled_and_proficiency() -> None:
    """a0 has both skills (q0 second), a1 only q0 (first): both idle since 0."""
    qs = [QueueSpec("q0", handle=DET), QueueSpec("q1", handle=DET)]
    rank = [[1, 0], [0, -1]]
    picks = {}
    for sel in ("longest_idle", "least_skilled", "proficiency"):
        m = toy(qs, rank, [0], [0], routing=RoutingPolicy(contact_selection=sel))
        picks[sel] = frame(m).agent.tolist()[0]
    assert picks == {"longest_idle": "a0", "least_skilled": "a1", "proficiency": "a1"}
    # longest idle really is longest idle: a0 freed at 30, a1 idle since 0 -> a1 at 40
    m = toy(qs, rank, [0, 40], [0, 0])
    assert frame(m).agent.tolist() == ["a0", "a1"]


# --- overflow: ordered groups with delays ------------------------------------------------

def overflow_toy(after, arrivals, queues_of, order=("A", "B")):
    qs = [QueueSpec("q", handle=DET), QueueSpec("other", handle=DET)]
    pol = RoutingPolicy(overflow=(Overflow("q", order, after),))
    return toy(qs, [[0, -1], [0, 0]], arrivals, queues_of, groups=["A", "B"], routing=pol,
               aht=100)


def test_overflow_order_without_delay() -> None:
    """Group B is second in q's list: the first contact goes to A even though B's agent
    was idle as long; listing B first reverses it."""
    assert frame(overflow_toy((0, 0), [0], [0])).agent.tolist() == ["a0"]
    assert frame(overflow_toy((0, 0), [0], [0], order=("B", "A"))).agent.tolist() == ["a1"]


def test_overflow_after_delay() -> None:
    """A busy until 100; B idle but only after 30 s in queue: the contact at 10 is taken by
    B at 40 (wait 30); with no delay at once; a contact that B frees for later (B busy with
    'other' until 110) is pulled by B when it frees, having waited more than 30 s."""
    f = frame(overflow_toy((0, 30), [0, 10], [0, 0]))
    assert f.wait_s.tolist() == [0, 30] and f.agent.tolist() == ["a0", "a1"]
    f = frame(overflow_toy((0, 0), [0, 10], [0, 0]))
    assert f.wait_s.tolist() == [0, 0]
    f = frame(overflow_toy((0, 30), [0, 10, 20], [0, 1, 0]))
    # a0 takes q at 0 (till 100); a1 takes 'other' at 10 (till 110); q at 20 waits: A frees
    # at 100 first and takes it (wait 80)
    assert f.wait_s.tolist() == [0, 0, 80] and f.agent.tolist() == ["a0", "a1", "a0"]
    f = frame(overflow_toy((0, 30), [0, 5, 10], [0, 0, 1]))
    # a1 takes 'other' at 10 (idle then, eligible at once for it): q at 5 waits until A
    # frees at 100 (B busy until 110)
    assert f.wait_s.tolist() == [0, 95, 0]


def test_unlisted_group_does_not_take_the_queue() -> None:
    qs = [QueueSpec("q", handle=DET)]
    pol = RoutingPolicy(overflow=(Overflow("q", ("A",)),))
    m = toy(qs, [[0], [0]], [0, 1], [0, 0], groups=["A", "B"], routing=pol, aht=100)
    assert frame(m).agent.tolist() == ["a0", "a0"]
    with pytest.raises(ValueError, match="unknown group 'C'"):
        run(m.with_(routing=RoutingPolicy(overflow=(Overflow("q", ("C",)),))))
    with pytest.raises(ValueError, match="2 groups but 1 after_s"):
        Overflow("q", ("A", "B"), (0,))


# --- patience and handle time by period of arrival ---------------------------------------

def test_patience_and_handle_time_by_interval_of_arrival() -> None:
    """Interval 0 (0-100 s): patience 10 s, handle 50 s; interval 1: patience 1000 s,
    handle 20 s. One agent busy until 50: the contact at 5 abandons at 15; the one at 120
    (interval 1) is taken at once and takes 20 s."""
    q = QueueSpec("v", handle=DET, patience=DET)
    m = SimulationModel(
        queues=(q,), volume=np.zeros((1, 2)), aht_s=np.array([[50.0, 20.0]]),
        patience_s=np.array([[10.0, 1000.0]]), agent_ids=("a0",),
        skill_rank=np.zeros((1, 1), np.int64), seg_agent=np.array([0]),
        seg_start_s=np.array([0.0]), seg_end_s=np.array([400.0]), interval_s=100.0,
        origin=ORIGIN, arrivals_s=np.array([0.0, 5.0, 120.0]),
        arrival_queue=np.zeros(3, np.int64))
    f = frame(m)
    assert f.outcome.tolist() == ["served", "abandoned", "served"]
    assert f.wait_s.tolist() == [0, 10, 0]
    assert f.handle_s.tolist()[::2] == [50, 20]


# --- agents leaving: idle first, ghosts present ------------------------------------------

def staffed(counts, arrivals, aht):
    m = model_from_staffing([QueueSpec("v", handle=DET)], np.zeros((1, len(counts))),
                            np.full((1, len(counts)), float(aht)), np.array([counts]),
                            interval_s=1800, origin=ORIGIN)
    return m.with_(arrivals_s=np.array(arrivals, float),
                   arrival_queue=np.zeros(len(arrivals), np.int64))


def test_idle_agents_leave_first() -> None:
    """2 agents, 1 from 1800 s: a0 idle since 1000 s, a1 busy until 1900 s -> a0 leaves, a1
    stays; the contact at 1850 waits for a1 (50 s)."""
    res = run(staffed([2, 1], [0, 900, 1850], 1000))
    f = res.log.to_frame()
    assert f.agent.tolist() == ["v#0", "v#1", "v#1"]
    assert f.wait_s.tolist() == [0, 0, 50]
    p = res.log.presence
    assert presence(p) == [
        (0, 0.0, 1800.0), (1, 0.0, 3600.0)]


def test_ghost_agent_finishes_and_counts_as_present() -> None:
    """Both agents busy when the staffing drops to 1 at 1800: one finishes its contact
    (2700) and leaves then -- present until 2700, taking nothing new; occupancy <= 1. Two
    agents, then none: the ghost time is present time (before: occupancy 1.62)."""
    res = run(staffed([2, 1], [1500, 1700, 1900], 1000))
    f = res.log.to_frame()
    assert f.agent.tolist() == ["v#0", "v#1", "v#0"] and f.wait_s.tolist() == [0, 0, 600]
    p = res.log.presence
    assert presence(p) == [
        (0, 0.0, 3600.0), (1, 0.0, 2700.0)]
    iv = res.intervals
    assert (iv.occupancy <= 1 + 1e-12).all()
    # the two-agent case: busy till 3000 s after a shift ending at 1800 s
    res = run(staffed([2, 0], [1000, 1100], 2000))
    iv = res.intervals
    assert res.log.presence.end_s.tolist() == [3000.0, 3100.0]
    assert iv.occupancy.tolist() == pytest.approx([(800 + 700) / 3600, 1.0])
    assert res.queues.occupancy.iloc[0] == pytest.approx(4000 / (3000 + 3100))
    assert float(group_kpis(res.log, res.model).occupancy.iloc[0]) == pytest.approx(
        4000 / (3000 + 3100))


def test_ghost_comes_back_when_staffing_rises() -> None:
    """2 -> 1 -> 2 agents: the agent still finishing at the rise is kept (no new log-on)."""
    res = run(staffed([2, 1, 2], [1700, 1750], 2000))
    p = res.log.presence
    assert presence(p) == [
        (0, 0.0, 5400.0), (1, 0.0, 5400.0)]


@settings(max_examples=25, deadline=None)
@given(n_agents=st.integers(1, 5), conc=st.integers(1, 3), seed=st.integers(0, 2**32 - 1),
       counts=st.lists(st.integers(0, 4), min_size=4, max_size=4),
       breaks=st.lists(st.tuples(st.integers(0, 4), st.floats(0, 6000), st.floats(60, 1800)),
                       max_size=5),
       policy=st.sampled_from(["priority", "oldest", "priority_oldest"]),
       contact=st.sampled_from(["longest_idle", "least_skilled", "proficiency"]))
def test_occupancy_never_exceeds_one(n_agents, conc, seed, counts, breaks, policy,
                                     contact) -> None:
    """Random centers -- scheduled agents with breaks plus a staffed group whose count
    changes every interval, long lognormal handle times, chats -- under every policy:
    occupancy <= 1 per queue and interval, per queue, per group; busy <= present."""
    rng = np.random.default_rng(seed)
    qs = (QueueSpec("voice", 20, LogNormal(1.5), Exponential(), 120.0, priority=1),
          QueueSpec("chat", 60, LogNormal(0.8), None, float("inf"), concurrency=conc))
    n_staff = max(counts) or 1
    rank = rng.integers(-1, 2, size=(n_agents + n_staff, 2))
    rank[:, 0] = np.where((rank < 0).all(axis=1), 0, rank[:, 0])
    seg = [(a, 0.0, 7200.0) for a in range(n_agents)]
    for a, s, d in breaks:
        if a < n_agents:
            seg = [x for x in seg if x[0] != a] + [(a, 0.0, s), (a, s + d, 7200.0)]
    seg = [x for x in seg if x[2] > x[1]] or [(0, 0.0, 10.0)]
    seg_a, seg_s, seg_e = (np.array(v) for v in zip(*seg, strict=True))
    m = SimulationModel(
        queues=qs, volume=np.array([[30.0] * 4, [20.0] * 4]), aht_s=np.full((2, 4), 400.0),
        agent_ids=tuple(map(str, range(n_agents + n_staff))), skill_rank=rank,
        seg_agent=seg_a.astype(np.int64), seg_start_s=seg_s.astype(float),
        seg_end_s=seg_e.astype(float), interval_s=1800.0,
        group_ids=("scheduled", "staffed"),
        agent_group=np.array([0] * n_agents + [1] * n_staff),
        staff_t_s=np.arange(5) * 1800.0, staff_group=np.ones(5, np.int64),
        staff_agents=np.array([*counts, 0]),
        routing=RoutingPolicy(agent_selection=policy, contact_selection=contact))
    res = simulate(m, replications=2, seed=seed, backend="serial")
    assert (res.intervals.occupancy.dropna() <= 1 + 1e-9).all()
    assert (res.queues.occupancy.dropna() <= 1 + 1e-9).all()
    g = res.groups
    assert (g.busy_s <= g.present_s + 1e-6).all()
    c = res.counts
    assert np.all(c.busy_s <= c.available_s + 1e-6)
    # presence records of one agent never overlap
    p = res.log.presence
    for r in range(2):
        for a in np.unique(p.agent):
            sel = (p.replication == r) & (p.agent == a)
            s, e = np.sort(p.start_s[sel]), p.end_s[sel][np.argsort(p.start_s[sel])]
            assert np.all(s[1:] >= e[:-1] - 1e-9) and np.all(e >= s)


def test_two_thousand_queues_count_only_the_cells_used() -> None:
    """2,000 queues over a week of 15-min intervals (1.3 million queue-intervals), each
    queue busy in one interval with its own agent: the counts and the interval table hold
    the used cells only (the interval with contacts, and the next one where a ghost agent
    may finish), not replications x queues x intervals."""
    nq, nt, step = 2000, 672, 900.0
    t_used = (np.arange(nq) * 7) % (nt - 1)
    vol = np.zeros((nq, nt))
    vol[np.arange(nq), t_used] = 4.0
    m = SimulationModel(
        queues=tuple(QueueSpec(f"q{i}", handle=Exponential()) for i in range(nq)),
        volume=vol, aht_s=np.full((nq, nt), 120.0), agent_ids=tuple(f"a{i}" for i in range(nq)),
        skill_rank=np.where(np.eye(nq, dtype=bool), 0, -1).astype(np.int64),
        seg_agent=np.arange(nq), seg_start_s=t_used * step, seg_end_s=(t_used + 1) * step,
        interval_s=step)
    res = simulate(m, replications=3, seed=1, backend="serial")
    c = res.counts
    assert nq <= c.offered.shape[1] <= 2 * nq and c.offered.shape[0] == 3
    iv = res.intervals
    assert len(iv) == c.offered.shape[1]
    assert iv.offered.sum() == pytest.approx(len(res.log) / 3)
    assert (iv.occupancy.dropna() <= 1 + 1e-9).all()
