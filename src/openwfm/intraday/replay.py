"""A day of agent states made from a published schedule and a real call log: the source of
`openwfm replay` (a live day to try the real-time pages with, and a load test).

Each agent follows their schedule with seeded human deviations: a shift starts with a
login (``available``) a little late or early, every later segment boundary (break, meal,
back to work, training, meeting) is taken at the boundary plus a deviation, a share of the
boundaries much later (the out-of-adherence cases), and the shift ends with ``logged_out``.
The served calls of the log (their service start and talk time, moved onto the replayed
day at the same local time of day) go, in order, to the agent that is available (planned
``available`` and not on a contact) and idle the longest: ``on_contact`` at the service
start, ``after_contact_work`` at its end, and after ``acw_s`` the agent's planned state at
that moment. A planned change that falls while the agent is on a contact waits for the
contact to end (as on a real floor: the agent is then out of adherence). Calls that find
no available agent are counted, not served.

Everything is deterministic for a seed.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from openwfm.intraday.states import Activity, AgentState

__all__ = ["ReplayDay", "actuals_on_day", "calls_on_day", "queue_states_on_day",
           "replay_events"]

_TARGET = {Activity.WORK: AgentState.AVAILABLE, Activity.BREAK: AgentState.BREAK,
           Activity.MEAL: AgentState.MEAL, Activity.TRAINING: AgentState.TRAINING,
           Activity.MEETING: AgentState.MEETING}


@dataclass(frozen=True)
class ReplayDay:
    """The events of a replayed day and what became of the calls.

    Attributes
    ----------
    events : pandas.DataFrame
        ``event_id``, ``agent_id``, ``state``, ``at`` (UTC), sorted by time.
    calls_served, calls_unserved : int
        Served calls of the log given to an agent, and those that found none available.
    """

    events: pd.DataFrame
    calls_served: int
    calls_unserved: int


def calls_on_day(calls: pd.DataFrame, log_day: date, log_tz: str, day: date, tz: str
                 ) -> pd.DataFrame:
    """The served calls of `log_day` (local to `log_tz`) moved onto `day` at the same
    local time of day in `tz`: ``service_start`` (UTC) and ``handle_s``, sorted.

    Examples
    --------
    >>> calls = pd.DataFrame({"outcome": ["served", "abandoned"], "handle_s": [120.0, None],
    ...     "service_start": pd.to_datetime(["1999-02-01 08:00:05", None], utc=True)})
    >>> calls_on_day(calls, date(1999, 2, 1), "Asia/Jerusalem", date(2026, 12, 7),
    ...              "Africa/Casablanca")["service_start"].iloc[0]
    Timestamp('2026-12-07 09:00:05+0000', tz='UTC')
    """
    served = calls[(calls["outcome"] == "served") & calls["service_start"].notna()]
    local = served["service_start"].dt.tz_convert(log_tz)
    served = served[local.dt.date == log_day]
    local = local[served.index]
    since_midnight = local - local.dt.normalize()
    start = pd.Timestamp(datetime.combine(day, datetime.min.time()), tz=ZoneInfo(tz))
    out = pd.DataFrame({"service_start": (start + since_midnight).dt.tz_convert("UTC"),
                        "handle_s": served["handle_s"].astype(float)})
    return out.sort_values("service_start", ignore_index=True)


def actuals_on_day(calls: pd.DataFrame, log_day: date, log_tz: str, day: date, tz: str, *,
                   interval_s: int, answer_within_s: float,
                   grid_tz: str | None = None) -> pd.DataFrame:
    """The queue actuals of the replayed day: every contact of `log_day` (served and
    abandoned, local to `log_tz`) moved onto `day` at the same local time of day in `tz`
    (as `calls_on_day` moves the served calls given to the agents), aggregated into
    `interval_s` intervals of `grid_tz`'s clock (the queue's; default `tz`) as one queue by
    `openwfm.io.calllog.aggregate_intervals` (the aggregation of ``openwfm import calls``):
    ``interval_start`` (UTC), ``volume`` (offered), ``handled``, ``abandoned``, ``aht_s``,
    ``asa_s``, ``answered_within``.

    Examples
    --------
    >>> calls = pd.DataFrame({
    ...     "arrival": pd.to_datetime(["1999-02-01 08:00:05", "1999-02-01 08:10:00",
    ...                                "1999-02-01 08:20:00"], utc=True),
    ...     "queue": "x", "outcome": ["served", "abandoned", "served"],
    ...     "wait_s": [5.0, 40.0, 30.0], "handle_s": [100.0, None, 200.0],
    ...     "agent": ["a", None, "a"], "priority": pd.array([0, 0, 0], dtype="Int64")})
    >>> a = actuals_on_day(calls, date(1999, 2, 1), "UTC", date(2026, 12, 7), "UTC",
    ...                    interval_s=900, answer_within_s=20)
    >>> a[["interval_start", "volume", "handled", "abandoned", "aht_s", "answered_within"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                 interval_start  volume  handled  abandoned  aht_s  answered_within
    0 2026-12-07 08:00:00+00:00     2.0      1.0        1.0  100.0              1.0
    1 2026-12-07 08:15:00+00:00     1.0      1.0        0.0  200.0              0.0
    """
    from openwfm.io.calllog import aggregate_intervals

    local = calls["arrival"].dt.tz_convert(log_tz)
    part = calls[(local.dt.date == log_day).to_numpy()].copy()
    local = local[part.index]
    start = pd.Timestamp(datetime.combine(day, datetime.min.time()), tz=ZoneInfo(tz))
    shift = (start + (local - local.dt.normalize())).dt.tz_convert("UTC") - part["arrival"]
    for c in ("arrival", "service_start", "queued"):
        if c in part.columns:
            part[c] = part[c] + shift
    part["queue"] = "replay"
    cols = ["interval_start", "volume", "handled", "abandoned", "aht_s", "asa_s",
            "answered_within"]
    if part.empty:
        return pd.DataFrame(columns=cols)
    out = aggregate_intervals(part, interval_s=interval_s, answer_within_s=answer_within_s,
                              tz=grid_tz or tz)
    return out[cols].reset_index(drop=True)


def queue_states_on_day(calls: pd.DataFrame, log_day: date, log_tz: str, day: date, tz: str,
                        *, every_s: int = 60) -> pd.DataFrame:
    """The live queue state of the replayed day, every `every_s` seconds, from the log:
    every contact of `log_day` (local to `log_tz`) moved onto `day` at the same local time
    of day in `tz` (as `actuals_on_day`); at each instant ``at`` (UTC), ``waiting`` = the
    contacts that have arrived and not yet left the queue (arrival <= at < arrival +
    wait_s: answered or abandoned later), ``oldest_wait_s`` = how long the earliest of them
    has waited (NaN when none waits), ``in_service`` = the served contacts in service
    (service start <= at < service start + handle_s). Only instants from the first arrival
    to the last departure of the day. Nothing is made up: the log's own waits.

    Examples
    --------
    >>> calls = pd.DataFrame({
    ...     "arrival": pd.to_datetime(["1999-02-01 08:00:05", "1999-02-01 08:00:30"],
    ...                               utc=True),
    ...     "outcome": ["served", "abandoned"], "wait_s": [100.0, 40.0],
    ...     "service_start": pd.to_datetime(["1999-02-01 08:01:45", None], utc=True),
    ...     "handle_s": [200.0, None]})
    >>> q = queue_states_on_day(calls, date(1999, 2, 1), "UTC", date(2026, 12, 7), "UTC")
    >>> [(t.strftime("%H:%M:%S"), w, o, s) for t, w, o, s in q.itertuples(index=False)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('08:01:00', 2, 55.0, 0), ('08:02:00', 0, nan, 1), ('08:03:00', 0, nan, 1),
     ('08:04:00', 0, nan, 1), ('08:05:00', 0, nan, 1), ('08:06:00', 0, nan, 0)]
    """
    cols = ["at", "waiting", "oldest_wait_s", "in_service"]
    local = calls["arrival"].dt.tz_convert(log_tz)
    part = calls[(local.dt.date == log_day).to_numpy()]
    if part.empty:
        return pd.DataFrame(columns=cols)
    local = local[part.index]
    start = pd.Timestamp(datetime.combine(day, datetime.min.time()), tz=ZoneInfo(tz))
    arrive = (start + (local - local.dt.normalize())).dt.tz_convert("UTC")
    t0 = start.tz_convert("UTC")
    a = (arrive - t0).dt.total_seconds().to_numpy(dtype=float)
    wait = pd.to_numeric(part["wait_s"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    leave = a + wait
    served = (part["outcome"] == "served").to_numpy()
    svc = np.where(served, leave, np.nan)  # service starts when the wait ends
    done = svc + pd.to_numeric(part["handle_s"], errors="coerce").fillna(0.0).to_numpy(float)
    first = np.ceil(a.min() / every_s) * every_s
    last = np.nanmax(np.concatenate([leave, done]))
    grid = np.arange(first, last + every_s, every_s, dtype=float)
    order = np.argsort(a, kind="stable")
    a, leave = a[order], leave[order]
    waiting = np.zeros(grid.size, np.int64)
    oldest = np.full(grid.size, np.nan)
    for i, t in enumerate(grid):  # a day: about 1,400 instants
        n = int(np.searchsorted(a, t, side="right"))
        inq = leave[:n] > t
        waiting[i] = int(inq.sum())
        if waiting[i]:
            oldest[i] = t - a[:n][inq][0]
    ok = np.isfinite(svc)
    sv, dn = np.sort(svc[ok]), np.sort(done[ok])
    in_service = (np.searchsorted(sv, grid, side="right")
                  - np.searchsorted(dn, grid, side="right")).astype(np.int64)
    return pd.DataFrame({"at": t0 + pd.to_timedelta(grid, unit="s"), "waiting": waiting,
                         "oldest_wait_s": oldest, "in_service": in_service})[cols]


def _planned(blocks: list[list[tuple[datetime, datetime, Activity]]], rng: random.Random,
             jitter_s: float, late_share: float, late_s: tuple[float, float]
             ) -> list[tuple[datetime, AgentState]]:
    """The agent's intended (time, state) changes: a deviation at every boundary."""

    def dev(at_login: bool) -> timedelta:
        d = rng.gauss(0.0, jitter_s)
        if rng.random() < late_share:
            d = abs(d) + rng.uniform(*late_s)
        elif at_login:
            d = -abs(d)  # most log in a little early
        return timedelta(seconds=d)

    out: list[tuple[datetime, AgentState]] = []
    for block in blocks:
        for k, (start, _, act) in enumerate(block):
            out.append((start + dev(k == 0), _TARGET[act]))
        end = block[-1][1]
        out.append((end + timedelta(seconds=abs(rng.gauss(0.0, jitter_s))),
                    AgentState.LOGGED_OUT))
    out.sort(key=lambda x: x[0])
    # a deviation may reorder two close boundaries: keep time order, last intent wins
    return out


def replay_events(segments: pd.DataFrame, calls: pd.DataFrame, *, seed: int = 0,
                  acw_s: float = 20.0, jitter_s: float = 60.0, late_share: float = 0.08,
                  late_s: tuple[float, float] = (300.0, 900.0),
                  id_prefix: str = "replay") -> ReplayDay:
    """Agent-state events of a day from its schedule `segments` (``agent_id``,
    ``activity``, ``start``, ``end``, UTC) and its served `calls` (``service_start``,
    ``handle_s``; see `calls_on_day`).

    Examples
    --------
    >>> seg = pd.DataFrame({"agent_id": "a", "activity": ["work", "break", "work"],
    ...     "start": pd.to_datetime(["2026-01-05 08:00", "2026-01-05 10:00",
    ...                              "2026-01-05 10:15"], utc=True),
    ...     "end": pd.to_datetime(["2026-01-05 10:00", "2026-01-05 10:15",
    ...                            "2026-01-05 12:00"], utc=True)})
    >>> calls = pd.DataFrame({"service_start": pd.to_datetime(["2026-01-05 09:00"], utc=True),
    ...                       "handle_s": [300.0]})
    >>> day = replay_events(seg, calls, seed=1, jitter_s=0, late_share=0)
    >>> [(str(t.time()), s) for t, s in zip(day.events["at"], day.events["state"])]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('08:00:00', 'available'), ('09:00:00', 'on_contact'),
     ('09:05:00', 'after_contact_work'), ('09:05:20', 'available'), ('10:00:00', 'break'),
     ('10:15:00', 'available'), ('12:00:00', 'logged_out')]
    """
    rng = random.Random(seed)
    seg = segments.sort_values(["agent_id", "start"], kind="stable")
    plans: dict[str, list[tuple[datetime, AgentState]]] = {}
    for agent, g in seg.groupby("agent_id", sort=True):
        blocks: list[list[tuple[datetime, datetime, Activity]]] = []
        for s, e, a in zip(g["start"], g["end"], g["activity"], strict=True):
            s, e = pd.Timestamp(s).to_pydatetime(), pd.Timestamp(e).to_pydatetime()
            if blocks and blocks[-1][-1][1] == s:
                blocks[-1].append((s, e, Activity(a)))
            else:
                blocks.append([(s, e, Activity(a))])
        plans[str(agent)] = _planned(blocks, rng, jitter_s, late_share, late_s)
    times = {a: [t for t, _ in p] for a, p in plans.items()}

    def planned_at(agent: str, t: datetime) -> AgentState:
        i = bisect.bisect_right(times[agent], t) - 1
        return plans[agent][i][1] if i >= 0 else AgentState.LOGGED_OUT

    busy: dict[str, list[tuple[datetime, datetime]]] = {a: [] for a in plans}
    free_at = dict.fromkeys(plans, datetime.min.replace(tzinfo=UTC))
    served = unserved = 0
    contact_events: list[tuple[datetime, str, AgentState]] = []
    for start, handle in zip(calls["service_start"], calls["handle_s"], strict=True):
        t = pd.Timestamp(start).to_pydatetime()
        h = timedelta(seconds=float(handle) if handle == handle else 0.0)
        ready = [(free_at[a], a) for a in plans
                 if free_at[a] <= t and planned_at(a, t) == AgentState.AVAILABLE]
        if not ready:
            unserved += 1
            continue
        _, agent = min(ready)
        served += 1
        end = t + h
        back = end + timedelta(seconds=acw_s)
        contact_events += [(t, agent, AgentState.ON_CONTACT),
                           (end, agent, AgentState.AFTER_CONTACT_WORK),
                           (back, agent, planned_at(agent, back))]
        busy[agent].append((t, back))
        free_at[agent] = back
    rows: list[tuple[datetime, str, str]] = []
    for agent, plan in plans.items():
        spans = busy[agent]
        starts = [s for s, _ in spans]
        for t, state in plan:
            i = bisect.bisect_right(starts, t) - 1
            if i >= 0 and t < spans[i][1]:
                continue  # on a contact: the change happens when it ends (its last event)
            rows.append((t, agent, state.value))
    rows += [(t, a, s.value) for t, a, s in contact_events]
    ordered = sorted(rows, key=lambda r: r[0])  # stable: a call's events keep their order
    seq: dict[str, int] = {}
    ids = []
    for _, agent, _ in ordered:
        seq[agent] = seq.get(agent, 0) + 1
        ids.append(f"{id_prefix}-{agent}-{seq[agent]:05d}")  # sorts as it happened
    events = pd.DataFrame({"event_id": ids, "agent_id": [a for _, a, _ in ordered],
                           "state": [s for _, _, s in ordered],
                           "at": pd.to_datetime([t for t, _, _ in ordered], utc=True)})
    return ReplayDay(events=events, calls_served=served, calls_unserved=unserved)
