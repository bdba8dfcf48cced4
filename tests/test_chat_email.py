"""Chat (slots) and email (fluid FIFO backlog) staffing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openwfm.staffing import chat, email, erlang


# ------------------------------------------------------------------------------ chat
@pytest.mark.parametrize("patience", [None, 240.0])
def test_chat_with_concurrency_one_is_exactly_erlang(patience) -> None:
    a = np.array([0.3, 4.0, 37.5, 250.0])
    c = chat.chat_required_agents(a, 420, 1, 0.85, 45, patience)
    e = erlang.required_agents(a, 420, 0.85, 45, patience)
    for name in ("agents", "service_level", "asa_s", "p_wait", "occupancy"):
        np.testing.assert_array_equal(getattr(c, name), getattr(e, name))
    m = chat.chat_metrics([3, 9], [1.0, 5.0], 300, 1, 30, patience)
    np.testing.assert_array_equal(m.service_level,
                                  erlang.metrics([3, 9], [1.0, 5.0], 300, 30, patience)
                                  .service_level)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.1, 200), st.integers(1, 4), st.floats(0.5, 0.95),
       st.one_of(st.none(), st.floats(30, 1200)))
def test_chat_agents_are_the_fewest_whose_slots_meet_the_target(a, k, target, pat) -> None:
    r = chat.chat_required_agents(a, 600, k, target, 60, pat)
    n = int(r.agents)
    assert float(r.service_level) >= target
    # the metrics are those of n*k slots, and n-1 agents (fewer slots) miss the target
    assert float(r.service_level) == float(erlang.service_level(n * k, a, 600, 60, pat))
    assert float(chat.chat_metrics(n - 1, a, 600, k, 60, pat).service_level) < target


def test_chat_concurrency_must_be_integer() -> None:
    with pytest.raises(ValueError):
        chat.chat_required_agents(5.0, 600, 1.5, 0.8, 60)


# ----------------------------------------------------------------------------- email
def test_backlog_hand_case_half_speed() -> None:
    # 200 items in hour 1 (36 s each = 2 agent-s of work per s); 1 agent does 1 per s.
    # Item arriving at s is answered at 2 s: response s, mean 1800 s; within D iff s <= D.
    for deadline, frac in ((900, 0.25), (1800, 0.5), (3600, 1.0)):
        r = email.backlog_metrics([200, 0], 36, 3600, [1, 1], deadline)
        assert r.service_level == pytest.approx(frac, abs=1e-12)
    r = email.backlog_metrics([200, 0], 36, 3600, [1, 1], 1800)
    assert r.asa_s[0] == pytest.approx(1800.0, rel=1e-6)
    assert r.occupancy.tolist() == [1.0, 1.0]          # busy both hours
    assert r.backlog_end_s.tolist() == [3600.0, 0.0]   # one hour of work carried over
    assert r.p_wait.tolist() == [1.0, 0.0]


def test_backlog_hand_case_drains_inside_an_interval() -> None:
    # hour 1: 100 items x 72 s with 1 agent -> 3600 s of work left at 1 h.
    # hour 2: 50 items x 36 s (0.5 work/s) with 3 agents: the backlog drains at 2.5/s,
    # i.e. after 1440 s; then no wait. Hour-2 items arriving before 1440 s wait.
    r = email.backlog_metrics([100, 50], [72, 36], 3600, [1, 3], deadline_s=3600)
    assert r.backlog_end_s.tolist() == [3600.0, 0.0]
    assert r.p_wait[1] == pytest.approx(1440 / 3600)
    # work done in hour 2: 3600 (backlog) + 1800 (arrivals) over 3 * 3600 capacity
    assert r.occupancy[1] == pytest.approx(5400 / 10800)
    # hour-1 item at s needs 2 s of work done before it -> answered at 2 s (P(t) = t until
    # 1 h, then 1 h + 3 (t - 1 h) while draining): answered within 1 h iff s <= 1800 + ...
    # P(s + 3600) = 3600 + 3 s (for s + 3600 <= 3600 + 1440) >= A(s) = 2 s always -> all
    assert r.interval_service_level[0] == pytest.approx(1.0)
    r2 = email.backlog_metrics([100, 50], [72, 36], 3600, [1, 3], deadline_s=1200)
    # hour 1: P(s + 1200) = s + 1200 >= 2 s  iff  s <= 1200 (for s + 1200 <= 3600);
    # for s > 2400: P(s + 1200) = 3600 + 3 (s - 2400) >= 2 s iff s >= 3600: late.
    # Met on [0, 1200] only: fraction 1/3.
    assert r2.interval_service_level[0] == pytest.approx(1 / 3, abs=1e-12)


def test_backlog_required_is_the_smallest_level() -> None:
    v = np.array([10, 80, 200, 150, 60, 20, 0, 0], dtype=float)
    for target, deadline in ((0.8, 1800), (0.9, 4 * 3600), (0.99, 600)):
        r = email.backlog_required_agents(v, 300, 1800, target, deadline)
        n = int(r.agents[0])
        assert (r.agents == n).all() and r.service_level >= target
        fewer = email.backlog_metrics(v, 300, 1800, np.full(8, n - 1), deadline)
        assert fewer.service_level < target


def test_backlog_zero_volume_needs_no_agent() -> None:
    r = email.backlog_required_agents([0, 0], 300, 1800, 0.9, 3600)
    assert r.agents.tolist() == [0, 0] and r.service_level == 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 300), min_size=1, max_size=12), st.floats(0, 8 * 3600),
       st.integers(0, 30))
def test_backlog_more_agents_never_worse(volumes, deadline, n) -> None:
    v = np.array(volumes)
    a = email.backlog_metrics(v, 240, 1800, np.full(len(v), n), deadline)
    b = email.backlog_metrics(v, 240, 1800, np.full(len(v), n + 1), deadline)
    assert b.service_level >= a.service_level - 1e-12
    assert (b.backlog_end_s <= a.backlog_end_s + 1e-9).all()
