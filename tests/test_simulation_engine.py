"""Engine and routing rules on tiny hand-checked cases (fixed arrivals, deterministic
handle times), plus the backends giving identical logs for the same seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openwfm.errors import InputError
from openwfm.simulation import (
    Deterministic,
    QueueSpec,
    SimulationModel,
    model_from_segments,
    model_from_staffing,
    simulate,
    single_queue_model,
)

ORIGIN = pd.Timestamp("2026-03-02", tz="UTC")


def toy(queues, skill_rank, segs, arrivals, arrival_queue, aht=30.0, horizon=3600.0):
    nq = len(queues)
    seg_agent, seg_start, seg_end = (np.array(x) for x in zip(*segs, strict=True))
    return SimulationModel(
        queues=tuple(queues), volume=np.zeros((nq, 1)), aht_s=np.full((nq, 1), aht),
        agent_ids=tuple(f"a{i}" for i in range(len(skill_rank))),
        skill_rank=np.array(skill_rank, dtype=np.int64), seg_agent=seg_agent.astype(np.int64),
        seg_start_s=seg_start.astype(float), seg_end_s=seg_end.astype(float),
        interval_s=horizon, origin=ORIGIN,
        arrivals_s=np.array(arrivals, float), arrival_queue=np.array(arrival_queue, np.int64))


def frame(m):
    return simulate(m, replications=1, seed=0, backend="serial").log.to_frame()


def test_fifo_single_agent() -> None:
    m = toy([QueueSpec("v", handle=Deterministic())], [[0]], [(0, 0, 3600)], [0, 10, 20], [0] * 3)
    f = frame(m)
    assert f.wait_s.tolist() == [0, 20, 40]
    assert (f.outcome == "served").all()


def test_agent_finishes_contact_when_break_starts() -> None:
    """Work [0,100), break [100,200), work [200,300): a contact taken at 90 ends at 120;
    one arriving at 110 waits for the end of the break."""
    m = toy([QueueSpec("v", handle=Deterministic())], [[0]], [(0, 0, 100), (0, 200, 300)],
            [90, 110], [0, 0])
    f = frame(m)
    assert f.wait_s.tolist() == [0, 90]
    assert f.agent.tolist() == ["a0", "a0"]


def test_abandonment_exact_time() -> None:
    """A contact with patience that would wait 50 s abandons; wait recorded = its patience."""
    q = QueueSpec("v", handle=Deterministic(), patience=Deterministic(), patience_s=25)
    m = toy([q], [[0]], [(0, 0, 3600)], [0, 5], [0, 0], aht=55)
    f = frame(m)
    assert f.outcome.tolist() == ["served", "abandoned"]
    assert f.wait_s.tolist() == [0, 25]
    assert f.agent.tolist()[1] == ""


def test_email_never_abandons_and_is_unserved_at_end() -> None:
    q = QueueSpec("mail", answer_within_s=3600, handle=Deterministic())
    m = toy([q], [[0]], [(0, 0, 100)], [0, 10], [0, 0], aht=200, horizon=1000)
    f = frame(m)
    assert f.outcome.tolist() == ["served", "unserved"]
    assert f.wait_s.tolist()[1] == 990  # censored at the end of the horizon


def test_queue_priority_first() -> None:
    """One agent busy until 30; at 30 both queues wait: the higher priority goes first even
    though its contact arrived later."""
    qs = [QueueSpec("low", handle=Deterministic(), priority=0),
          QueueSpec("high", handle=Deterministic(), priority=5)]
    m = toy(qs, [[0, 1]], [(0, 0, 3600)], [0, 1, 2], [0, 0, 1])
    f = frame(m)
    assert f.wait_s.tolist() == [0, 59, 28]


def test_agent_skill_preference_breaks_priority_ties() -> None:
    qs = [QueueSpec("fr", handle=Deterministic()), QueueSpec("en", handle=Deterministic())]
    # agent prefers en (rank 0) over fr (rank 1)
    m = toy(qs, [[1, 0]], [(0, 0, 3600)], [0, 1, 2], [0, 0, 1])
    assert frame(m).wait_s.tolist() == [0, 59, 28]


def test_longest_idle_agent_gets_the_contact() -> None:
    """a0 finishes at 30, a1 was idle since 0: the contact at 40 goes to a1."""
    m = toy([QueueSpec("v", handle=Deterministic())], [[0], [0]], [(0, 0, 3600), (1, 0, 3600)],
            [0, 40], [0, 0])
    f = frame(m)
    assert f.agent.tolist() == ["a0", "a1"]


def test_chat_concurrency_holds_k_contacts() -> None:
    q = QueueSpec("chat", handle=Deterministic(), concurrency=2)
    m = toy([q], [[0]], [(0, 0, 3600)], [0, 1, 2], [0, 0, 0], aht=100)
    assert frame(m).wait_s.tolist() == [0, 0, 98]


def test_voice_needs_a_free_agent_not_one_chatting() -> None:
    qs = [QueueSpec("chat", handle=Deterministic(), concurrency=3),
          QueueSpec("voice", handle=Deterministic())]
    m = toy(qs, [[0, 1]], [(0, 0, 3600)], [0, 10], [0, 1], aht=100)
    assert frame(m).wait_s.tolist() == [0, 90]


def test_staffing_table_agents_follow_counts() -> None:
    m = model_from_staffing([QueueSpec("v", handle=Deterministic())], np.array([[0.0, 0.0]]),
                            np.array([[30.0, 30.0]]), np.array([[2, 0]]), interval_s=1800,
                            origin=ORIGIN)
    m = m.with_(arrivals_s=np.array([10.0, 10.0, 10.0, 1900.0]),
                arrival_queue=np.zeros(4, np.int64))
    f = frame(m)
    assert f.wait_s.tolist()[:3] == [0, 0, 30]
    assert f.outcome.tolist()[3] == "unserved"


def test_segments_model_and_errors() -> None:
    seg = pd.DataFrame({
        "agent_id": ["x", "x", "x"], "site": "Casablanca",
        "activity": ["work", "break", "work"],
        "start": pd.to_datetime(["2026-03-02 08:00", "2026-03-02 10:00", "2026-03-02 10:15"],
                                utc=True),
        "end": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 10:15", "2026-03-02 12:00"],
                              utc=True)})
    qs = [QueueSpec("v")]
    m = model_from_segments(qs, np.ones((1, 96)), np.full((1, 96), 60.0), seg, {"x": ["v"]},
                            interval_s=900, origin=ORIGIN)
    assert m.seg_start_s.tolist() == [8 * 3600, 10.25 * 3600]
    assert m.seg_end_s.tolist() == [10 * 3600, 12 * 3600]
    with pytest.raises(InputError, match=r"row 1.*agent_id"):
        model_from_segments(qs, np.ones((1, 96)), np.ones((1, 96)), seg, {},
                            interval_s=900, origin=ORIGIN, file="s.csv")
    bad = seg.assign(activity=["work", "lunch", "work"])
    with pytest.raises(InputError, match=r"row 2.*activity"):
        model_from_segments(qs, np.ones((1, 96)), np.ones((1, 96)), bad, {"x": ["v"]},
                            interval_s=900, origin=ORIGIN, file="s.csv")


def test_log_is_immutable_and_kpis_follow_from_it() -> None:
    m = single_queue_model(arrival_rate_per_s=0.1, aht_s=60, agents=7, horizon_s=7200,
                           interval_s=1800, patience_s=30)
    res = simulate(m, replications=3, seed=9)
    with pytest.raises(ValueError):
        res.log.wait_s[0] = 1.0
    f = res.log.to_frame()
    k = res.intervals
    r0 = f[(f.replication == 0) & (f.arrival < m.origin + pd.Timedelta(minutes=30))]
    sl0 = ((r0.outcome == "served") & (r0.wait_s <= 20)).sum() / len(r0)
    within, offered = res.counts.dense("answered_within"), res.counts.dense("offered")
    per_rep = within[0, 0, 0] / offered[0, 0, 0]
    assert sl0 == pytest.approx(per_rep)
    assert k.service_level.iloc[0] == pytest.approx(
        np.mean(within[:, 0, 0] / offered[:, 0, 0]))


def test_backends_identical_for_same_seed() -> None:
    m = single_queue_model(arrival_rate_per_s=0.2, aht_s=60, agents=15, horizon_s=3600,
                           patience_s=60)
    a = simulate(m, replications=4, seed=77, backend="serial").log
    b = simulate(m, replications=4, seed=77, backend="threads").log
    c = simulate(m, replications=4, seed=77, backend="processes", workers=2).log
    for x in (b, c):
        np.testing.assert_array_equal(a.wait_s, x.wait_s)
        np.testing.assert_array_equal(a.agent, x.agent)
    d = simulate(m, replications=4, seed=78, backend="serial").log
    assert len(d) != len(a) or not np.array_equal(d.wait_s, a.wait_s)


@pytest.mark.parametrize("processes", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_dask_local_cluster_identical(processes: bool) -> None:
    """Replications on a real distributed.LocalCluster (worker threads in this process, or
    two worker processes: slow, mostly their start-up) give the local log exactly."""
    distributed = pytest.importorskip("distributed")
    m = single_queue_model(arrival_rate_per_s=0.2, aht_s=60, agents=15, horizon_s=3600,
                           patience_s=60)
    local = simulate(m, replications=3, seed=5, backend="serial").log
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = simulate(m, replications=3, seed=5, backend="dask", client=client).log
    np.testing.assert_array_equal(local.wait_s, remote.wait_s)
    np.testing.assert_array_equal(local.replication, remote.replication)


def test_work_segment_with_queue_restricts_the_agent() -> None:
    """x works 0-100 s on queue w only, then 100-300 s on all skills: a v contact arriving
    at 10 s waits until 100 s; a w contact is taken at once; the log names agent x."""
    seg = pd.DataFrame({"agent_id": ["x", "x"], "site": "Manila", "activity": "work",
                        "queue": ["w", ""],
                        "start": ORIGIN + pd.to_timedelta([0, 100], unit="s"),
                        "end": ORIGIN + pd.to_timedelta([100, 300], unit="s")})
    qs = [QueueSpec("v", handle=Deterministic()), QueueSpec("w", handle=Deterministic())]
    m = model_from_segments(qs, np.zeros((2, 1)), np.full((2, 1), 20.0), seg,
                            {"x": ["v", "w"]}, interval_s=300, origin=ORIGIN)
    m = m.with_(arrivals_s=np.array([10.0, 20.0]), arrival_queue=np.array([0, 1]))
    f = frame(m)
    assert f.wait_s.tolist() == [90, 0]
    assert f.agent.tolist() == ["x", "x"]
    with pytest.raises(InputError, match=r"row 1.*queue"):
        model_from_segments(qs, np.zeros((2, 1)), np.ones((2, 1)), seg.assign(queue=["z", ""]),
                            {"x": ["v"]}, interval_s=300, origin=ORIGIN, file="s.csv")


def test_no_new_contact_at_the_instant_a_shift_ends() -> None:
    """Shift ends at 30 s exactly when the first contact ends: the second is not taken."""
    m = toy([QueueSpec("v", handle=Deterministic())], [[0]], [(0, 0, 30)], [0, 1], [0, 0],
            horizon=100)
    assert frame(m).outcome.tolist() == ["served", "unserved"]
