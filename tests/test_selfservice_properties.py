"""Property: whatever sequence of requests agents make and team leaders decide, no approved
change ever leaves a schedule that breaks a labour rule or over-books a seat."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openwfm.activities import OFF_DUTY, Activity
from openwfm.scheduling.check import check_schedule
from openwfm.selfservice import (
    ActivityChange,
    AutoApprovalRule,
    Ledger,
    Offer,
    RequestStatus,
    Swap,
    TimeOff,
)
from openwfm.selfservice.ledger import VersionConflict
from selfservice_support import MONDAY, shift_rows, small_center

H = pd.Timedelta(hours=1)
AGENTS = ("a1", "a2", "a3", "a4")


def center():
    """2 seats, Mon-Fri 9-hour shifts starting at 08:00 (a1), 09:00 (a2), 17:00 (a3),
    18:00 (a4): at most 2 on duty, so an hour of overtime next to 17:00 over-books."""
    problem, seg, req = small_center(seats=2, days={a: [] for a in AGENTS},
                                     skills=(("q1",), ("q1",), ("q1", "q2"), ("q1", "q2")))
    rows = [r for a, h in zip(AGENTS, (8, 9, 17, 18), strict=True) for d in range(5)
            for r in shift_rows(a, "Casablanca", MONDAY + pd.Timedelta(days=d, hours=h))]
    seg = pd.DataFrame(rows)
    assert check_schedule(problem, seg).ok
    return problem, seg, req


PROBLEM, SEGMENTS, REQUIREMENT = center()


def shift_starts(seg: pd.DataFrame, agent: str) -> list[pd.Timestamp]:
    mine = seg[(seg["agent_id"] == agent) & ~seg["activity"].isin(OFF_DUTY)].sort_values("start")
    starts = mine["start"][~mine["start"].isin(set(mine["end"]))]
    return sorted(starts)


def seats_ok(seg: pd.DataFrame, seats: int) -> bool:
    """Independent seat count: agents on duty at every segment start."""
    duty = seg[~seg["activity"].isin(OFF_DUTY)]
    for t in duty["start"]:
        on = duty[(duty["start"] <= t) & (duty["end"] > t)]["agent_id"].nunique()
        if on > seats:
            return False
    return True


op = st.one_of(
    st.tuples(st.just("time_off"), st.sampled_from(AGENTS), st.integers(0, 6),
              st.sampled_from([(0, 24), (8, 12), (13, 17), (17, 21)])),
    st.tuples(st.just("vto"), st.sampled_from(AGENTS), st.integers(0, 6),
              st.sampled_from([(0, 24), (15, 17)])),
    st.tuples(st.just("swap"), st.sampled_from(AGENTS), st.integers(0, 4),
              st.sampled_from(AGENTS), st.integers(0, 4)),
    st.tuples(st.just("offer"), st.sampled_from(AGENTS), st.integers(0, 4),
              st.sampled_from(AGENTS)),
    st.tuples(st.just("activity"), st.sampled_from(AGENTS), st.integers(0, 6),
              st.integers(0, 23), st.sampled_from([Activity.MEETING, Activity.TRAINING,
                                                   Activity.OVERTIME, Activity.ONE_TO_ONE])),
)
decision = st.sampled_from(["approve", "reject", "stale", "leave"])


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(op, decision, st.booleans()), min_size=1, max_size=5))
def test_no_approved_change_breaks_a_rule_or_a_seat(steps) -> None:
    led = Ledger(PROBLEM, SEGMENTS.copy(), REQUIREMENT,
                 rule=AutoApprovalRule(max_contacts_lost=1e9, quota_per_day_team=1),
                 teams={a: "T" for a in AGENTS})
    for (o, dec, accept) in steps:
        kind, agent = o[0], o[1]
        starts = shift_starts(led.segments, agent)
        if kind in ("time_off", "vto"):
            day = MONDAY + pd.Timedelta(days=o[2])
            change = TimeOff(agent, day + o[3][0] * H, day + o[3][1] * H,
                             Activity.TIME_OFF if kind == "time_off"
                             else Activity.VOLUNTARY_TIME_OFF)
            r = led.submit("time_off" if kind == "time_off" else "voluntary_time_off",
                           agent, change)
        elif kind == "activity":
            t = MONDAY + pd.Timedelta(days=o[2], hours=o[3])
            r = led.submit("activity", agent, ActivityChange(agent, t, t + H, o[4]))
        else:
            if not starts:
                continue
            mine = starts[min(o[2], len(starts) - 1)]
            other = shift_starts(led.segments, o[3])
            if kind == "swap":
                if not other or o[3] == agent:
                    continue
                r = led.submit("swap", agent, Swap(agent, mine, o[3],
                                                   other[min(o[4], len(other) - 1)]))
            else:
                if o[3] == agent:
                    continue
                r = led.submit("offer", agent, Offer(agent, mine, o[3]))
            if r.status is RequestStatus.PENDING_ACCEPTANCE:
                r = led.accept(r.id, o[3]) if accept else led.decline(r.id, o[3])
        if r.status is RequestStatus.PENDING_APPROVAL:
            if dec == "approve":
                r = led.approve(r.id, "tl", led.version)
            elif dec == "reject":
                r = led.reject(r.id, "tl")
            elif dec == "stale":
                try:
                    led.approve(r.id, "tl", led.version - 1)
                except VersionConflict as e:
                    assert "version" in str(e)
        event(f"{kind} {r.status.value}")
        if r.status in (RequestStatus.APPROVED, RequestStatus.AUTO_APPROVED):
            assert r.history[-1][2].startswith(("schedule version", "within"))
        check = check_schedule(PROBLEM, led.segments)
        assert check.ok, check.to_frame().to_string()
        assert seats_ok(led.segments, 2)
    approved = sum(r.status in (RequestStatus.APPROVED, RequestStatus.AUTO_APPROVED)
                   for r in led.requests.values())
    assert led.version == 1 + approved
