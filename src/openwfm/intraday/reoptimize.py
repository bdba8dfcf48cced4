"""Intraday re-optimization: move today's remaining breaks and meals and reassign
multi-skilled agents between queues to raise the predicted service level, shifts pinned.

Input: the published schedule (segments ``agent_id, site, activity, start, end[, queue]`` of
the plan, `openwfm.scheduling.check`'s table), the reforecast of the rest of the day
(``interval_start, queue, volume, aht_s``: `openwfm.intraday.reforecast.Reforecast.frame`),
and ``now``. Shifts (their start and end), off-duty segments, meetings, training and every
segment that has started before ``now`` stay where they are. Each break or meal that starts
at or after ``now`` may move, on a grid of ``step_min`` minutes from its shift start, to
any position inside the window of the scenario's break rule it fills (`BreakRule.window_min`,
the rule the checker matches it to), starting at or after ``now`` and overlapping no other
non-work segment of the shift.

**Predicted service level.** The rest of the day is cut into slots (the greatest common
divisor of the interval, ``step_min`` and every segment boundary, so that an agent is either
productive for a whole slot or not at all). A slot of an interval carries the interval's
contacts in proportion to its length and the interval's arrival rate and AHT; with ``n``
productive agents on a queue its service level is Erlang C (Erlang A when the queue has a
``patience_s``; chat queues with their ``concurrency`` slots) through
`openwfm.staffing.erlang.metrics` / `openwfm.staffing.chat.chat_metrics`, each slot a
stationary period. An agent whose work segment names a queue serves that queue only; an
agent with one skill serves it; an agent with several skills and no queue named is routed
as the scenario's router does (`preference_order`), as a spill-over: one agent on its first
queue and, on each next queue, the share of its time the queues before leave it idle (1 -
their occupancy); a fractional agent answers linearly between the whole numbers around it
(`_Model.agents_on`). A queue's predicted service level over the rest of the day is its
contacts answered in time / its contacts; the total weighs the queues by contacts. Email
queues (no Erlang model) are left out.

**Reassignments.** After the breaks, multi-skilled agents may be told to work one queue only
for a contiguous span of their work (a work segment naming the queue), greedily where it
raises the contacts answered in time over all the queues (`reoptimize`, `Reassignment`).

**Search.** Deterministic local search: passes over the movable breaks in (agent id, start)
order; each goes to the grid position that raises the contacts answered in time the most;
when no position changes them (an Erlang C queue with agents <= traffic answers nothing in
time, so one agent back may not be enough), the one that lowers the contacts-weighted load
beyond the agents (sum of contacts x max(0, traffic - agents)) the most, so that a later
move can make the queue stable (ties: the current position, then the earliest); a move is
taken only when the agent's shift passes the independent checker's shift rules
(`check_shifts`) with no more violations than before. Overtime and VTO can be proposed
(`Proposal`, never applied; see `reoptimize`).
The result is checked once more as a whole (`check_schedule`): a result with a violation
the published schedule did not have, or a lower predicted service level, is never returned
(the published schedule comes back with no changes instead).

References
----------
Koole, G. (2013). Call Center Optimization, ch. 7 (intraday: moving breaks and activities
against the intraday forecast). Cleveland, B. (2019). Contact Center Management on Fast
Forward, ch. 9 (real-time management: rescheduling breaks).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from openwfm.activities import BREAK_ACTIVITIES, OFF_DUTY, PRODUCTIVE
from openwfm.errors import InputError
from openwfm.scenario import Agent, Channel, Scenario
from openwfm.scheduling.check import (
    RuleCheck,
    check_schedule,
    check_seats,
    check_shifts,
    shifts_from_segments,
)
from openwfm.scheduling.model import SchedulingProblem
from openwfm.simulation.policy import AgentSelection
from openwfm.staffing import erlang
from openwfm.staffing.chat import chat_metrics

__all__ = ["BreakMove", "Proposal", "Reassignment", "Reoptimization", "apply_changes",
           "predicted_by_interval", "predicted_service_level", "preference_order",
           "reoptimize"]

_BREAKS = frozenset(a.value for a in BREAK_ACTIVITIES)
_SEG_COLS = ["agent_id", "site", "activity", "start", "end", "queue"]


@dataclass(frozen=True)
class BreakMove:
    """One change: a break or meal of an agent moved from one time to another (UTC)."""

    agent_id: str
    activity: str
    rule: str
    old_start: pd.Timestamp
    old_end: pd.Timestamp
    new_start: pd.Timestamp
    new_end: pd.Timestamp


@dataclass(frozen=True)
class Proposal:
    """An overtime or VTO candidate, proposed and not applied: ``kind`` is ``overtime`` (work
    added right after the shift) or ``voluntary_time_off`` (the shift's last minutes off);
    ``answered_in_time_delta`` is the change of the rest of the day's contacts answered in
    time on the re-optimized schedule (positive for overtime, negative or zero for VTO). It
    passed the independent checker with no new violation."""

    kind: str
    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    answered_in_time_delta: float


@dataclass(frozen=True)
class Reassignment:
    """A multi-skilled agent told to work queue `to_queue` only from `start` to `end`
    (UTC): its work segments there name the queue (the checker's ``skills`` rule checks
    it; the schedule and the ACD export carry it). `from_queues`: the queues it served
    there before (its other skills as the router offers them, or the queue its work
    named); `answered_in_time_delta`: the change of the rest of the day's contacts answered
    in time over all the queues (the source queues' loss counted), on the schedule the
    search found it on (after the moves and the reassignments found before it)."""

    agent_id: str
    from_queues: tuple[str, ...]
    to_queue: str
    start: pd.Timestamp
    end: pd.Timestamp
    answered_in_time_delta: float


@dataclass(frozen=True)
class Reoptimization:
    """A re-optimization of the rest of the day.

    Attributes
    ----------
    segments : pandas.DataFrame
        The whole schedule after the changes (the published one when ``changes`` is empty).
    changes : tuple[BreakMove, ...]
        The moves, in (agent id, old start) order.
    service_level : pandas.DataFrame
        One row per queue: ``queue``, ``contacts`` (rest of day), ``service_level_before``,
        ``service_level_after`` (predicted, contacts answered in time / contacts).
    service_level_before, service_level_after : float
        Contacts-weighted over the queues (NaN when no contact is expected).
    check : RuleCheck
        The independent checker on ``segments``.
    now : pandas.Timestamp
    proposals : tuple[Proposal, ...]
        Overtime and VTO candidates (not applied), when asked for.
    reassignments : tuple[Reassignment, ...]
        Multi-skilled agents told to work one queue only for a span (applied in
        ``segments``), in the order the search found them.
    """

    segments: pd.DataFrame
    changes: tuple[BreakMove, ...]
    service_level: pd.DataFrame
    service_level_before: float
    service_level_after: float
    check: RuleCheck
    now: pd.Timestamp
    proposals: tuple[Proposal, ...] = ()
    reassignments: tuple[Reassignment, ...] = ()


@dataclass
class _Pause:
    agent_id: str
    activity: str
    rule: str
    start: int  # minutes from t0
    end: int
    lo: int  # earliest start
    hi: int  # latest start
    step_origin: int  # shift start: the grid of positions


def preference_order(scenario: Scenario, agent: Agent, queues: tuple[str, ...]
                     ) -> tuple[int, ...]:
    """The indices in `queues` of `agent`'s skills in the order the scenario's router
    offers them to the agent when it frees up (`openwfm.simulation.policy`): with the agent
    selection ``priority`` or ``priority_oldest`` (of the agent's routing group, else the
    default), the queue of highest `Queue.priority` first, ties by the agent's own skill
    order (its first skill is its primary); with ``oldest`` (the longest wait across its
    queues, no preference) the agent's own skill order, an approximation.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from openwfm.scheduling.synthetic import toy_scenario
    >>> sc = toy_scenario(1, queues=("q1", "q2", "q3"), skills=(("q2", "q1", "q3"),))
    >>> preference_order(sc, sc.agents[0], ("q1", "q2", "q3"))
    (1, 0, 2)
    >>> sc = replace(sc, queues=(sc.queues[0], sc.queues[1],
    ...                          replace(sc.queues[2], priority=1)))
    >>> preference_order(sc, sc.agents[0], ("q1", "q2"))
    (1, 0)
    >>> preference_order(sc, sc.agents[0], ("q1", "q2", "q3"))
    (2, 1, 0)
    """
    qi = {q: k for k, q in enumerate(queues)}
    own = [q for q in agent.skills if q in qi]
    if scenario.routing.selection_of(agent.routing_group) == AgentSelection.OLDEST:
        return tuple(qi[q] for q in own)
    prio = {q.id: q.priority for q in scenario.queues}
    return tuple(qi[q] for q in sorted(own, key=lambda q: -prio.get(q, 0)))


class _Model:
    """Slots, agents' presence and the answered-in-time tables of the rest of the day."""

    def __init__(self, scenario: Scenario, seg: pd.DataFrame, rest: pd.DataFrame,
                 now: pd.Timestamp, interval_s: int, step_min: int) -> None:
        queues = {q.id: q for q in scenario.queues}
        unknown = sorted(set(rest["queue"]) - set(queues))
        if unknown:
            raise InputError(f"queue {unknown[0]!r} is not a queue of the scenario",
                             column="queue")
        rest = rest[[queues[q].channel != Channel.EMAIL for q in rest["queue"]]]
        self.queues = tuple(sorted(set(rest["queue"])))
        self.t0 = pd.Timestamp(rest["interval_start"].min()) if len(rest) else now
        im = interval_s // 60
        starts = sorted(set(rest["interval_start"]))
        end = pd.Timestamp(starts[-1]) + pd.Timedelta(seconds=interval_s) if starts else now
        self.horizon = self._min(end)
        bounds = [self._min(pd.Timestamp(t)) for t in starts]
        edges = [self._min(x) for x in pd.concat([seg["start"], seg["end"]])]
        g = math.gcd(im, step_min, *bounds, *(e for e in edges if 0 <= e <= self.horizon))
        self.slot = max(1, g)
        n_slots = self.horizon // self.slot
        Q = len(self.queues)
        vol = np.zeros((Q, n_slots))
        aht = np.ones((Q, n_slots))
        qi = {q: k for k, q in enumerate(self.queues)}
        per = im // self.slot
        for t, q, v, h in zip(rest["interval_start"], rest["queue"], rest["volume"],
                              rest["aht_s"], strict=True):
            s = self._min(pd.Timestamp(t)) // self.slot
            vol[qi[q], s:s + per] = max(float(v), 0.0) / per
            aht[qi[q], s:s + per] = float(h) if h > 0 else 1.0
        self.volume = vol
        self.traffic = vol / (self.slot * 60) * aht
        agents = {a.id: a for a in scenario.agents}
        self.agent_ids = tuple(sorted(set(seg["agent_id"]) & set(agents)))
        self.skills = [tuple(qi[q] for q in agents[a].skills if q in qi) for a in self.agent_ids]
        # the routing's preference order of each agent's skills (`preference_order`)
        self.pref = [preference_order(scenario, agents[a], self.queues)
                     for a in self.agent_ids]
        R = max((len(p) for p in self.pref), default=1) or 1
        self.pref_arr = np.full((len(self.agent_ids), R), -1, dtype=np.int64)
        for i, p in enumerate(self.pref):
            self.pref_arr[i, :len(p)] = p
        self.n_pref = np.array([len(p) for p in self.pref], dtype=np.int64)
        # G[q][s, n]: contacts answered in time in slot s with n agents on q
        self.table = []
        self.n_max = np.zeros(Q, dtype=np.int64)
        for k, qid in enumerate(self.queues):
            q = queues[qid]
            n_max = sum(k in sk for sk in self.skills)
            self.n_max[k] = n_max
            n = np.arange(n_max + 1, dtype=float)[None, :]
            rate = vol[k][:, None] / (self.slot * 60)
            traffic = rate * aht[k][:, None]
            if q.channel == Channel.CHAT:
                m = chat_metrics(np.broadcast_to(n, (n_slots, n_max + 1)), traffic,
                                 aht[k][:, None], q.concurrency, q.goal.answer_within_s,
                                 q.patience_s)
            else:
                m = erlang.metrics(np.broadcast_to(n, (n_slots, n_max + 1)), traffic,
                                   aht[k][:, None], q.goal.answer_within_s, q.patience_s)
            sl = np.nan_to_num(m.service_level, nan=0.0)
            self.table.append(vol[k][:, None] * sl)
        self.n_slots = n_slots

    def _min(self, ts: pd.Timestamp) -> int:
        return int((ts - self.t0).total_seconds() // 60)

    def presence(self, seg: pd.DataFrame) -> np.ndarray:
        """Per agent and slot: -2 absent, -1 productive on its skills as routed, q
        productive on queue q only (a work segment naming it)."""
        pos = {a: i for i, a in enumerate(self.agent_ids)}
        qi = {q: k for k, q in enumerate(self.queues)}
        P = np.full((len(self.agent_ids), self.n_slots), -2, dtype=np.int64)
        prod = seg[seg["activity"].isin(PRODUCTIVE) & seg["agent_id"].isin(pos)]
        queue = prod["queue"] if "queue" in prod.columns else pd.Series(None, index=prod.index)
        for aid, s, e, q in zip(prod["agent_id"], prod["start"], prod["end"], queue,
                                strict=True):
            a = max(0, self._min(s)) // self.slot
            b = min(self.n_slots, max(0, self._min(e)) // self.slot)
            if a < b:
                P[pos[aid], a:b] = qi.get(q, -3) if isinstance(q, str) and q else -1
        return P

    def agents_on(self, col: np.ndarray, s: int) -> np.ndarray:
        """Agents per queue in slot `s` for presence column `col` (floats): the routing
        configured, as spill-over (see `preference_order` and the module docstring). An
        agent on a named queue, or with one skill, counts 1 there; a multi-skilled agent
        counts 1 on its first queue and, on each next queue in its order, the share of its
        time the queues before leave it idle (1 - occupancy, the occupancy of a queue being
        its traffic / its agents counted so, at most 1)."""
        Q = len(self.queues)
        named = col >= 0
        n = np.bincount(col[named], minlength=Q).astype(float)
        flex = (col == -1) & (self.n_pref > 0)
        n += np.bincount(self.pref_arr[flex, 0], minlength=Q)
        multi = flex & (self.n_pref > 1)
        if not multi.any():
            return n
        traffic = self.traffic[:, s]
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(n > 0, np.minimum(1.0, traffic / np.maximum(n, 1e-300)),
                           np.where(traffic > 0, 1.0, 0.0))
        pref = self.pref_arr[multi]
        left = 1.0 - rho[pref[:, 0]]
        out = n.copy()
        for r in range(1, pref.shape[1]):
            q = pref[:, r]
            ok = q >= 0
            out += np.bincount(q[ok], weights=left[ok], minlength=Q)
            left = np.where(ok, left * (1.0 - rho[np.maximum(q, 0)]), 0.0)
        return out

    def answered(self, n: np.ndarray, s: int) -> np.ndarray:
        """Contacts answered in time per queue in slot `s` with `n` agents per queue (a
        fractional agent: linear between the whole numbers around it)."""
        n = np.clip(n, 0.0, self.n_max)
        lo = np.floor(n + 1e-9).astype(np.int64)
        lo = np.minimum(lo, self.n_max)
        hi = np.minimum(lo + 1, self.n_max)
        fr = np.clip(n - lo, 0.0, 1.0)
        t_lo = np.array([self.table[k][s, lo[k]] for k in range(len(self.queues))])
        t_hi = np.array([self.table[k][s, hi[k]] for k in range(len(self.queues))])
        return t_lo + fr * (t_hi - t_lo)

    def slot_value(self, col: np.ndarray, s: int) -> tuple[float, np.ndarray]:
        """Contacts answered in time in slot `s` given presence column `col`, and the
        agents per queue (`agents_on`)."""
        n = self.agents_on(col, s)
        return float(self.answered(n, s).sum()), n

    def shortage(self, n: np.ndarray, s: int) -> float:
        """Contacts-weighted load beyond the agents in slot `s`: sum over queues of
        contacts x max(0, traffic - agents) (0 when every queue has agents for its load)."""
        return float((self.volume[:, s] * np.maximum(self.traffic[:, s] - n, 0.0)).sum())

    def by_queue(self, P: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.queues))
        for s in range(self.n_slots):
            out += self.answered(self.agents_on(P[:, s], s), s)
        return out


def _segments_frame(seg: pd.DataFrame) -> pd.DataFrame:
    seg = seg.copy()
    if "queue" not in seg.columns:
        seg["queue"] = None
    for c in ("start", "end"):
        seg[c] = pd.to_datetime(seg[c], utc=True)
    return seg[_SEG_COLS].sort_values(["agent_id", "start"], kind="stable").reset_index(
        drop=True)


def _pauses(problem: SchedulingProblem, seg: pd.DataFrame, model: _Model,
            now: pd.Timestamp) -> list[_Pause]:
    """The breaks and meals that may move, matched to their rules as the checker does."""
    duty = seg[~seg["activity"].isin(OFF_DUTY)]
    now_m = model._min(now)
    out = []
    for sh in shifts_from_segments(duty):
        m = round(sh.minutes - sh.overtime_minutes)
        s0 = model._min(sh.start)
        pauses = [(act, model._min(s), model._min(e)) for act, s, e in sh.parts
                  if act in _BREAKS]
        used: set[int] = set()
        for b in problem.config.breaks:
            if not b.applies(m):
                continue
            lo, hi = b.window_min(m)
            hit = next((k for k, (act, s, e) in enumerate(pauses) if k not in used
                        and act == b.activity.value and e - s == b.minutes
                        and s - s0 >= lo and e - s0 <= hi), None)
            if hit is None:
                continue
            used.add(hit)
            act, s, e = pauses[hit]
            if s < now_m or s >= model.horizon:
                continue  # started already, or beyond the rest of the day
            out.append(_Pause(sh.agent_id, act, b.name, s, e, s0 + lo, s0 + hi - b.minutes,
                              s0))
    return sorted(out, key=lambda p: (p.agent_id, p.start))


def _agent_segments(seg: pd.DataFrame, aid: str, old: _Pause, new_start: int,
                    model: _Model) -> pd.DataFrame:
    """Agent `aid`'s segments with pause `old` moved to `new_start` (work filled around)."""
    mine = seg[seg["agent_id"] == aid]
    t = model.t0
    os_, oe = t + pd.Timedelta(minutes=old.start), t + pd.Timedelta(minutes=old.end)
    ns = t + pd.Timedelta(minutes=new_start)
    ne = ns + pd.Timedelta(minutes=old.end - old.start)
    lo, hi = min(os_, ns), max(oe, ne)
    # the window [lo, hi) holds only work and the pause (others do not overlap it)
    inside = mine[(mine["start"] < hi) & (mine["end"] > lo)]
    work = inside[inside["activity"] != old.activity]
    site = str(mine["site"].iloc[0])
    wq = next((q for q in work["queue"] if isinstance(q, str) and q), None)
    keep = mine[(mine["end"] <= lo) | (mine["start"] >= hi)].copy()
    rows = []
    for a, b, act, q in ((lo, ns, "work", wq), (ns, ne, old.activity, None), (ne, hi, "work", wq)):
        if b > a:
            rows.append({"agent_id": aid, "site": site, "activity": act, "start": a,
                         "end": b, "queue": q})
    # a work segment cut by the window keeps its part outside
    for _, r in inside.iterrows():
        if r["activity"] == "work" or r["activity"] == "overtime":
            if r["start"] < lo:
                rows.append({**r.to_dict(), "end": lo})
            if r["end"] > hi:
                rows.append({**r.to_dict(), "start": hi})
    out = pd.concat([keep, pd.DataFrame(rows, columns=_SEG_COLS)], ignore_index=True)
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return _merge_work(out.sort_values("start", kind="stable"))


def _merge_work(df: pd.DataFrame) -> pd.DataFrame:
    """Join contiguous segments of the same activity and queue."""
    rows: list[dict] = []
    for r in df.to_dict("records"):
        if rows and rows[-1]["end"] == r["start"] and rows[-1]["activity"] == r["activity"] \
                and r["activity"] not in _BREAKS and rows[-1]["queue"] == r["queue"]:
            rows[-1]["end"] = r["end"]
        else:
            rows.append(r)
    return pd.DataFrame(rows, columns=_SEG_COLS)


def _shift_violations(problem: SchedulingProblem, agent_seg: pd.DataFrame) -> Counter:
    duty = agent_seg[~agent_seg["activity"].isin(OFF_DUTY)]
    return Counter((v.rule, v.agent_id) for v in check_shifts(problem,
                                                                shifts_from_segments(duty)))


def _new_violations(before: RuleCheck, after: RuleCheck) -> Counter:
    b = Counter((v.rule, v.agent_id) for v in before.violations)
    a = Counter((v.rule, v.agent_id) for v in after.violations)
    return a - b


def predicted_service_level(problem: SchedulingProblem, segments: pd.DataFrame,
                            rest: pd.DataFrame, now: pd.Timestamp, *, interval_s: int = 1800,
                            step_min: int = 15) -> pd.DataFrame:
    """Predicted service level of each queue over the rest of the day for `segments` (the
    model of the module docstring): ``queue``, ``contacts``, ``answered_in_time``,
    ``service_level``."""
    seg = _segments_frame(segments)
    model = _Model(problem.scenario, seg, rest, now, interval_s, step_min)
    got = model.by_queue(model.presence(seg))
    contacts = model.volume.sum(axis=1)
    return pd.DataFrame({"queue": list(model.queues), "contacts": contacts,
                         "answered_in_time": got,
                         "service_level": np.where(contacts > 0, got / np.maximum(contacts,
                                                                                  1e-300),
                                                   np.nan)})


def predicted_by_interval(scenario: Scenario, segments: pd.DataFrame, rest: pd.DataFrame,
                          now: pd.Timestamp, *, interval_s: int = 1800,
                          step_min: int = 15) -> pd.DataFrame:
    """The predicted service level of every rest-of-day interval for `segments` (the model
    of the module docstring, the one `reoptimize` compares before and after with):
    ``interval_start``, ``queue``, ``contacts``, ``answered_in_time``, ``service_level``
    (NaN without contacts) and ``agents`` (productive agents on the queue, averaged over
    the interval's slots; a multi-skilled agent counts on the queue it is routed to).

    Examples
    --------
    One agent on a queue with 2 contacts of 300 s in a 30-minute interval (traffic 1/3):
    Erlang C with one agent, answered within 20 s = 1 - (1/3) e^(-(1 - 1/3) 20 / 300).

    >>> from openwfm.scheduling.synthetic import toy_scenario
    >>> sc = toy_scenario(n_agents=1)
    >>> q, a = sc.queues[0].id, sc.agents[0]
    >>> t = pd.Timestamp("2026-03-31 09:00", tz="UTC")
    >>> seg = pd.DataFrame({"agent_id": [a.id], "site": [a.site], "activity": ["work"],
    ...                     "start": [t], "end": [t + pd.Timedelta(hours=1)], "queue": [q]})
    >>> rest = pd.DataFrame({"interval_start": [t], "queue": [q], "volume": [2.0],
    ...                      "aht_s": [300.0]})
    >>> r = predicted_by_interval(sc, seg, rest, t).iloc[0]
    >>> round(float(r["service_level"]), 6), float(r["agents"])
    (0.681157, 1.0)
    >>> round(1 - math.exp(-(1 - 1 / 3) * 20 / 300) / 3, 6)
    0.681157
    """
    rest = rest.copy()
    rest["interval_start"] = pd.to_datetime(rest["interval_start"], utc=True)
    rest = rest.sort_values(["queue", "interval_start"])
    seg = _segments_frame(segments)
    model = _Model(scenario, seg, rest, now, interval_s, step_min)
    P = model.presence(seg)
    Q = len(model.queues)
    got = np.zeros((Q, model.n_slots))
    agents = np.zeros((Q, model.n_slots))
    for s in range(model.n_slots):
        n = model.agents_on(P[:, s], s)
        agents[:, s] = n
        got[:, s] = model.answered(n, s)
    per = interval_s // 60 // model.slot
    rows = []
    qi = {q: k for k, q in enumerate(model.queues)}
    for t, q in zip(rest["interval_start"], rest["queue"], strict=True):
        if q not in qi:
            continue  # an email queue: no Erlang model
        k, s = qi[q], model._min(pd.Timestamp(t)) // model.slot
        c = float(model.volume[k, s:s + per].sum())
        a = float(got[k, s:s + per].sum())
        rows.append({"interval_start": t, "queue": q, "contacts": c, "answered_in_time": a,
                     "service_level": a / c if c > 0 else float("nan"),
                     "agents": float(agents[k, s:s + per].mean())})
    return pd.DataFrame(rows, columns=["interval_start", "queue", "contacts",
                                       "answered_in_time", "service_level", "agents"])


def reoptimize(problem: SchedulingProblem, segments: pd.DataFrame, rest: pd.DataFrame,
               now: pd.Timestamp, *, interval_s: int = 1800, step_min: int = 15,
               max_passes: int = 3, propose_min: int = 0,
               max_proposals: int = 5, max_reassignments: int = 10) -> Reoptimization:
    """Move the rest of the day's breaks and meals to raise the predicted service level.

    Parameters
    ----------
    problem : SchedulingProblem
        The plan's problem (scenario, break rules, labour packs) the checker judges with.
    segments : pandas.DataFrame
        The published schedule of the plan: ``agent_id, site, activity, start, end[,
        queue]`` (UTC).
    rest : pandas.DataFrame
        The reforecast of the rest of the day: ``interval_start`` (UTC, at or after
        ``now``), ``queue``, ``volume`` (contacts per interval), ``aht_s``.
    now : pandas.Timestamp
        Timezone-aware; nothing that starts before it moves.
    interval_s : int
        Length of the reforecast's intervals.
    step_min : int
        Grid of break positions, from the shift start.
    max_passes : int
        Passes of the local search (it stops earlier when a pass changes nothing).
    propose_min : int
        > 0: also propose overtime (``propose_min`` minutes of work right after a shift that
        ends in the rest of the day) and VTO (its last ``propose_min`` minutes off) for
        each agent, on the re-optimized schedule; the `max_proposals` overtime candidates
        that add the most contacts answered in time and the VTO candidates that lose the
        fewest, each kept only when the independent checker finds no new violation
        (contract and legal hours, rest, shift lengths, seats).
    max_proposals : int
        At most this many proposals of each kind.
    max_reassignments : int
        At most this many reassignments of multi-skilled agents (0: none). After the
        breaks, greedily: for every agent with two skills or more among the queues, every
        queue it is skilled for and every slot of work from ``now`` on, the change of the
        contacts answered in time (all queues) when it works that queue only there; the
        contiguous span of work with the largest positive total (over all agents and
        queues) is taken, and the search goes on from the schedule with it. Spans lie on
        the slot grid, within work segments, after ``now``; a span is never reassigned
        twice.

    Returns
    -------
    Reoptimization
        Never a schedule with a rule violation the published one did not have, never a
        lower predicted service level; with no improvement, the published schedule and no
        changes.
    """
    if now.tzinfo is None:
        raise InputError("now must carry a time zone (an ISO 8601 offset)", column="now")
    missing = {"interval_start", "queue", "volume", "aht_s"} - set(rest.columns)
    if missing:
        raise InputError(f"the reforecast needs columns {sorted(missing)}",
                         column=sorted(missing)[0])
    if interval_s % 60 or interval_s <= 0:
        raise InputError("interval_s must be a positive whole number of minutes",
                         column="interval_s")
    rest = rest.copy()
    rest["interval_start"] = pd.to_datetime(rest["interval_start"], utc=True)
    rest = rest[rest["interval_start"] >= now].sort_values(["queue", "interval_start"])
    seg = _segments_frame(segments)
    model = _Model(problem.scenario, seg, rest, now, interval_s, step_min)
    P = model.presence(seg)
    before_q = model.by_queue(P)
    base_check = check_schedule(problem, seg)
    pos = {a: i for i, a in enumerate(model.agent_ids)}
    pauses = _pauses(problem, seg, model, now)
    original = {id(p): (p.start, p.end) for p in pauses}
    current = seg
    now_m = model._min(now)

    def mark(row: np.ndarray, a: int, b: int, value: int) -> None:
        lo, hi = max(0, a // model.slot), min(model.n_slots, max(0, b) // model.slot)
        if lo < hi:
            row[lo:hi] = value

    for _ in range(max(1, max_passes)):
        moved = False
        for p in pauses:
            i = pos.get(p.agent_id)
            if i is None:
                continue
            mine = current[current["agent_id"] == p.agent_id]
            base_v = _shift_violations(problem, mine)
            others = [(model._min(s), model._min(e)) for act, s, e in
                      zip(mine["activity"], mine["start"], mine["end"], strict=True)
                      if act not in PRODUCTIVE and not (model._min(s) == p.start
                                                        and act == p.activity)]
            width = p.end - p.start
            first = p.step_origin + -(-(max(p.lo, now_m) - p.step_origin) // step_min) * step_min
            cands = [c for c in range(first, p.hi + 1, step_min)
                     if c != p.start and not any(c < e and s < c + width for s, e in others)]
            if not cands:
                continue
            # the agent's presence with the pause taken out: work (its queue) instead
            is_p = ((mine["start"] == model.t0 + pd.Timedelta(minutes=p.start))
                    & (mine["activity"] == p.activity))
            wq = next((q for q, a in zip(mine["queue"], mine["activity"], strict=True)
                       if a == "work" and isinstance(q, str) and q), None)
            work = model.presence(mine.assign(activity=mine["activity"].where(~is_p, "work"),
                                              queue=mine["queue"].where(~is_p, wq)))[i]
            span = set(range(max(0, p.start // model.slot),
                             min(model.n_slots, max(0, p.end) // model.slot)))
            best_c, best_key, best_seg = None, (0.0, 0.0), None
            for c in cands:
                cand_slots = span | set(range(max(0, c // model.slot),
                                              min(model.n_slots, max(0, c + width)
                                                  // model.slot)))
                new_row = work.copy()
                mark(new_row, c, c + width, -2)
                gain = relief = 0.0
                for s in sorted(cand_slots):
                    col = P[:, s].copy()
                    old_val, old_n = model.slot_value(col, s)
                    col[i] = new_row[s]
                    new_val, new_n = model.slot_value(col, s)
                    gain += new_val - old_val
                    relief += model.shortage(old_n, s) - model.shortage(new_n, s)
                # more contacts answered in time; on a tie (within rounding), less load
                # beyond the agents (a step out of an unstable queue that no single move
                # makes stable)
                key = (gain if abs(gain) > 1e-9 else 0.0, relief if abs(relief) > 1e-9 else 0.0)
                if gain < -1e-12 or key <= best_key:
                    continue
                cand_seg = _agent_segments(current, p.agent_id, p, c, model)
                if _shift_violations(problem, cand_seg) - base_v:
                    continue
                best_c, best_key, best_seg = c, key, cand_seg
            if best_c is None:
                continue
            current = pd.concat([current[current["agent_id"] != p.agent_id], best_seg],
                                ignore_index=True).sort_values(["agent_id", "start"],
                                                               kind="stable")
            current = current.reset_index(drop=True)
            P[i] = model.presence(best_seg)[i]
            p.start, p.end = best_c, best_c + width
            moved = True
        if not moved:
            break

    current, reassigned = _reassign(model, current.reset_index(drop=True), P, now,
                                    max_reassignments)
    after_q = model.by_queue(P)
    contacts = model.volume.sum(axis=1)
    changed = [p for p in pauses if (p.start, p.end) != original[id(p)]]
    after_check = check_schedule(problem, current)

    def total(x: np.ndarray) -> float:
        return float(x.sum() / contacts.sum()) if contacts.sum() > 0 else float("nan")

    worse = total(after_q) < total(before_q) - 1e-12 if contacts.sum() > 0 else False
    if (not changed and not reassigned) or worse or _new_violations(base_check, after_check):
        after_q, current, after_check, changed, reassigned = before_q, seg, base_check, [], []
    t = model.t0
    changes = tuple(BreakMove(p.agent_id, p.activity, p.rule,
                              t + pd.Timedelta(minutes=original[id(p)][0]),
                              t + pd.Timedelta(minutes=original[id(p)][1]),
                              t + pd.Timedelta(minutes=p.start), t + pd.Timedelta(minutes=p.end))
                    for p in changed)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({"queue": list(model.queues), "contacts": contacts,
                              "service_level_before": np.where(contacts > 0,
                                                               before_q / contacts, np.nan),
                              "service_level_after": np.where(contacts > 0,
                                                              after_q / contacts, np.nan)})
    proposals: tuple[Proposal, ...] = ()
    if propose_min > 0:
        proposals = _proposals(problem, model, current.reset_index(drop=True), after_check,
                               now, propose_min, max_proposals)
    return Reoptimization(current.reset_index(drop=True), changes, table, total(before_q),
                          total(after_q), after_check, now, proposals, tuple(reassigned))


def _with_queue(mine: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                queue: str) -> pd.DataFrame:
    """One agent's segments with the work inside ``[start, end)`` naming `queue` (work
    segments cut at the span's ends; other activities unchanged)."""
    rows = []
    for r in mine[_SEG_COLS].to_dict("records"):
        if r["activity"] != "work" or r["end"] <= start or r["start"] >= end:
            rows.append(r)
            continue
        if r["start"] < start:
            rows.append({**r, "end": start})
        rows.append({**r, "start": max(r["start"], start), "end": min(r["end"], end),
                     "queue": queue})
        if r["end"] > end:
            rows.append({**r, "start": end})
    out = pd.DataFrame(rows, columns=_SEG_COLS)
    return _merge_work(out.sort_values("start", kind="stable"))


def _best_span(gain: np.ndarray) -> tuple[float, int, int]:
    """The contiguous run of slots (NaN: not eligible, a run ends there) with the largest
    total gain: (gain, first slot, end slot); (0, 0, 0) when none is positive. Ties: the
    earliest, then the shortest."""
    best = (0.0, 0, 0)
    run, start = 0.0, -1
    for s, g in enumerate(gain.tolist()):
        if g != g:  # NaN
            run, start = 0.0, -1
            continue
        if start < 0 or run <= 1e-12:
            run, start = 0.0, s
        run += g
        if run > best[0] + 1e-9:
            best = (run, start, s + 1)
    return best


def _reassign(model: _Model, seg: pd.DataFrame, P: np.ndarray, now: pd.Timestamp,
              limit: int) -> tuple[pd.DataFrame, list[Reassignment]]:
    """Greedy reassignments of multi-skilled agents (see `reoptimize`); `P` is updated."""
    n_slots = model.n_slots
    now_s = -(-max(0, model._min(now)) // model.slot)
    pos = {a: i for i, a in enumerate(model.agent_ids)}
    work = np.zeros(P.shape, dtype=bool)
    w = seg[(seg["activity"] == "work") & seg["agent_id"].isin(pos)]
    for aid, st, en in zip(w["agent_id"], w["start"], w["end"], strict=True):
        a = max(0, model._min(st)) // model.slot
        b = min(n_slots, max(0, model._min(en)) // model.slot)
        work[pos[aid], max(a, now_s):b] = True
    locked = np.zeros(P.shape, dtype=bool)
    cands = [(i, k) for i in range(len(model.agent_ids)) if len(model.pref[i]) > 1
             for k in model.pref[i] if work[i].any()]
    if limit <= 0 or not cands:
        return seg, []
    base = np.array([model.slot_value(P[:, s], s)[0] for s in range(n_slots)])

    def gains(i: int, k: int, slots: range) -> np.ndarray:
        out = np.full(len(slots), np.nan)
        for j, s in enumerate(slots):
            p = int(P[i, s])
            if not work[i, s] or locked[i, s] or p < -1 or p == k or (
                    p == -1 and k == model.pref[i][0]):
                continue  # not work, reassigned already, work on a queue outside the
                # model (email: its loss would not be seen), or no change
            col = P[:, s].copy()
            col[i] = k
            out[j] = model.slot_value(col, s)[0] - base[s]
        return out

    G = {c: gains(*c, range(n_slots)) for c in cands}
    found: list[Reassignment] = []
    t = model.t0
    for _ in range(limit):
        best: tuple[float, int, int, int, int] | None = None
        for i, k in cands:
            g, a, b = _best_span(G[i, k])
            if g > 1e-9 and (best is None or g > best[0] + 1e-9):
                best = (g, i, k, a, b)
        if best is None:
            break
        g, i, k, a, b = best
        aid = model.agent_ids[i]
        before = {int(p) for p in P[i, a:b]}
        src = (tuple(model.queues[q] for q in model.pref[i] if q != k) if before == {-1}
               else tuple(model.queues[q] for q in sorted(before) if q >= 0))
        start, end = t + pd.Timedelta(minutes=a * model.slot), t + pd.Timedelta(
            minutes=b * model.slot)
        mine = seg[seg["agent_id"] == aid]
        seg = pd.concat([seg[seg["agent_id"] != aid],
                         _with_queue(mine, start, end, model.queues[k])], ignore_index=True)
        seg = seg.sort_values(["agent_id", "start"], kind="stable").reset_index(drop=True)
        P[i, a:b] = k
        locked[i, a:b] = True
        found.append(Reassignment(aid, src, model.queues[k], start, end, float(g)))
        for s in range(a, b):
            base[s] = model.slot_value(P[:, s], s)[0]
        for c in cands:
            G[c][a:b] = gains(*c, range(a, b))
    return seg, found


def _proposals(problem: SchedulingProblem, model: _Model, seg: pd.DataFrame,
               base: RuleCheck, now: pd.Timestamp, minutes: int, k: int
               ) -> tuple[Proposal, ...]:
    """Overtime and VTO candidates on `seg` (see `reoptimize`), best first per kind."""
    P = model.presence(seg)
    pos = {a: i for i, a in enumerate(model.agent_ids)}
    now_m = model._min(now)
    duty = seg[~seg["activity"].isin(OFF_DUTY)]
    cands: dict[str, list[tuple[float, str, int, int]]] = {"overtime": [],
                                                           "voluntary_time_off": []}
    for sh in shifts_from_segments(duty):
        i = pos.get(sh.agent_id)
        end = model._min(sh.end)
        if i is None or not now_m < end <= model.horizon:
            continue
        for kind, a, b, value in (("overtime", end, end + minutes, -1),
                                  ("voluntary_time_off", end - minutes, end, -2)):
            if a < now_m or b > model.horizon or a % model.slot or b % model.slot:
                continue
            if kind == "voluntary_time_off" and not all(
                    act in PRODUCTIVE for act, s, e in sh.parts
                    if model._min(e) > a):
                continue  # only work at the end of the shift is given off
            gain = 0.0
            for s in range(a // model.slot, b // model.slot):
                col = P[:, s].copy()
                old, _ = model.slot_value(col, s)
                col[i] = value
                new, _ = model.slot_value(col, s)
                gain += new - old
            cands[kind].append((gain, sh.agent_id, a, b))
    out = []
    t = model.t0
    base_of = Counter((v.rule, v.agent_id) for v in base.violations)
    for kind, items in cands.items():
        items.sort(key=lambda x: (-x[0], x[1], x[2]))
        n = 0
        for gain, aid, a, b in items:
            if n >= k or (kind == "overtime" and gain <= 1e-9):
                break
            s, e = t + pd.Timedelta(minutes=a), t + pd.Timedelta(minutes=b)
            site = str(seg.loc[seg["agent_id"] == aid, "site"].iloc[0])
            if kind == "overtime":
                trial = pd.concat([seg, pd.DataFrame(
                    [(aid, site, "overtime", s, e, None)], columns=_SEG_COLS)],
                    ignore_index=True)
            else:
                trial = seg.copy()
                cut = (trial["agent_id"] == aid) & (trial["start"] < e) & (trial["end"] > s)
                part = trial[cut & (trial["start"] < s)].assign(end=s)
                trial = pd.concat([trial[~cut], part, pd.DataFrame(
                    [(aid, site, "voluntary_time_off", s, e, None)], columns=_SEG_COLS)],
                    ignore_index=True)
            if _adds_violations(problem, base_of, trial, aid, seats=kind == "overtime"):
                continue
            out.append(Proposal(kind, aid, s, e, float(gain)))
            n += 1
    return tuple(out)


def _adds_violations(problem: SchedulingProblem, base_of: Counter, trial: pd.DataFrame,
                     aid: str, *, seats: bool) -> bool:
    """Whether `trial` (the schedule with one change to agent `aid`) has a violation the
    schedule before it did not (`base_of`: its violations counted by rule and agent), as
    `_new_violations` of two whole checks says, at the cost of one agent's week: every
    rule but the seats is one agent's, so only `aid`'s can change (the check of `aid`'s
    rows alone also finds the other agents without hours: not counted), and the seats
    are counted again only when the change adds time on duty (`seats`)."""
    one = check_schedule(problem, trial[trial["agent_id"] == aid], seats=False)
    mine = Counter({key: n for key, n in base_of.items() if key[1] == aid})
    if Counter((v.rule, v.agent_id) for v in one.violations if v.agent_id == aid) - mine:
        return True
    if not seats:
        return False
    over = check_seats(problem, trial[~trial["activity"].isin(OFF_DUTY)])
    return len(over) > base_of[("seats", None)]


def _move_pause(mine: pd.DataFrame, m: BreakMove) -> pd.DataFrame:
    """One agent's segments with the pause of `m` moved (work filled in where it was and
    cut where it goes); `InputError` when the pause is not where `m` says or the new place
    is not work."""
    hit = ((mine["activity"] == m.activity) & (mine["start"] == m.old_start)
           & (mine["end"] == m.old_end))
    if not hit.any():
        raise InputError(f"{m.agent_id} has no {m.activity} {m.old_start.isoformat()} .. "
                         f"{m.old_end.isoformat()} any more", column="moves")
    wq = next((q for q, a in zip(mine["queue"], mine["activity"], strict=True)
               if a == "work" and isinstance(q, str) and q), None)
    seg = mine.copy()
    seg.loc[hit, "activity"] = "work"
    seg.loc[hit, "queue"] = wq
    inside = seg[(seg["start"] < m.new_end) & (seg["end"] > m.new_start)]
    if not inside["activity"].isin(["work", "overtime"]).all():
        raise InputError(f"{m.agent_id}'s {m.activity} cannot go to "
                         f"{m.new_start.isoformat()}: not work there", column="moves")
    rows = [r for r in seg.to_dict("records")
            if not (r["start"] < m.new_end and r["end"] > m.new_start)]
    for r in inside.to_dict("records"):
        if r["start"] < m.new_start:
            rows.append({**r, "end": m.new_start})
        if r["end"] > m.new_end:
            rows.append({**r, "start": m.new_end})
    rows.append({"agent_id": m.agent_id, "site": mine["site"].iloc[0], "activity": m.activity,
                 "start": m.new_start, "end": m.new_end, "queue": None})
    out = pd.DataFrame(rows, columns=_SEG_COLS).sort_values("start", kind="stable")
    return _merge_work(out)


def apply_changes(problem: SchedulingProblem, segments: pd.DataFrame,
                  moves: tuple[BreakMove, ...] | list[BreakMove],
                  proposals: tuple[Proposal, ...] | list[Proposal] = (),
                  reassignments: tuple[Reassignment, ...] | list[Reassignment] = ()
                  ) -> tuple[pd.DataFrame, list[str]]:
    """The schedule `segments` with the chosen `moves`, `reassignments` and overtime /
    VTO `proposals` applied (a planner accepts some items of a `Reoptimization`), and the
    violations of the independent checker the result has that `segments` did not
    (``"rule: agent"``; empty: it may be published).

    A reassignment names its queue on the agent's work inside its span (a pause there,
    when its move was not chosen, stays a pause). Overtime is a segment ``overtime``; VTO
    cuts the work and adds ``voluntary_time_off`` (as the proposals were checked). Raises
    `InputError` when an item no longer fits the schedule (a pause not where it was, a
    place that is not work, no work in a reassignment's span).
    """
    seg = _segments_frame(segments)
    before = check_schedule(problem, seg)
    for m in moves:
        mine = seg[seg["agent_id"] == m.agent_id]
        seg = pd.concat([seg[seg["agent_id"] != m.agent_id], _move_pause(mine, m)],
                        ignore_index=True)
    for x in reassignments:
        mine = seg[seg["agent_id"] == x.agent_id]
        inside = mine[(mine["activity"] == "work") & (mine["start"] < x.end)
                      & (mine["end"] > x.start)]
        if inside.empty:
            raise InputError(f"{x.agent_id} has no work between {x.start.isoformat()} and "
                             f"{x.end.isoformat()} any more", column="reassignments")
        seg = pd.concat([seg[seg["agent_id"] != x.agent_id],
                         _with_queue(mine, x.start, x.end, x.to_queue)], ignore_index=True)
    for pr in proposals:
        mine = seg[seg["agent_id"] == pr.agent_id]
        if mine.empty:
            raise InputError(f"{pr.agent_id} has no shift in the schedule", column="proposals")
        site = mine["site"].iloc[0]
        if pr.kind == "overtime":
            clash = mine[(mine["start"] < pr.end) & (mine["end"] > pr.start)]
            if len(clash):
                raise InputError(f"{pr.agent_id} is already scheduled at "
                                 f"{pr.start.isoformat()}", column="proposals")
            add = pd.DataFrame([(pr.agent_id, site, "overtime", pr.start, pr.end, None)],
                               columns=_SEG_COLS)
            seg = pd.concat([seg, add], ignore_index=True)
        elif pr.kind == "voluntary_time_off":
            cut = (seg["agent_id"] == pr.agent_id) & (seg["start"] < pr.end) \
                & (seg["end"] > pr.start)
            if not seg.loc[cut, "activity"].isin(["work", "overtime"]).all():
                raise InputError(f"{pr.agent_id} is not at work over the whole VTO",
                                 column="proposals")
            part = seg[cut & (seg["start"] < pr.start)].assign(end=pr.start)
            tail = seg[cut & (seg["end"] > pr.end)].assign(start=pr.end)
            seg = pd.concat([seg[~cut], part, tail, pd.DataFrame(
                [(pr.agent_id, site, "voluntary_time_off", pr.start, pr.end, None)],
                columns=_SEG_COLS)], ignore_index=True)
        else:
            raise InputError(f"unknown proposal kind {pr.kind!r}", column="proposals")
    seg = seg.sort_values(["agent_id", "start"], kind="stable").reset_index(drop=True)
    new = _new_violations(before, check_schedule(problem, seg))
    return seg, sorted(f"{rule}: {agent}" for (rule, agent), n in new.items() if n > 0)
