"""Real-time adherence on the server: agent-state events stored idempotently, and the live
board each API process keeps in step with the database (docs/rta.md).

The computing is `openwfm.intraday`'s: `AgentEvent.make` validates an event, `EventLog`
holds the timelines, `LiveAdherence` says who is out of adherence and since when, and
(`day_so_far`, the per-agent form of `compute_adherence`) adherence and conformance so
far today. This module only moves rows between the database and those objects.

* `store_events` writes a batch in the caller's transaction: an ``event_id`` already stored
  with the same content is a duplicate (acknowledged, not stored again), with other content
  a conflict (`EventConflict`); new rows go in with ``INSERT ... ON CONFLICT DO NOTHING``,
  so two writers racing on one id store it once.
* `LiveBoard` is one per API process: the published schedule around now and the events of
  that window. `sync` reads the events stored since the last call (``rta_events.id``
  above a mark), so what one worker process stored is visible to every other at its next
  read: an event is visible as soon as its transaction has committed.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.errors import InputError
from openwfm.intraday.adherence import LiveAdherence
from openwfm.intraday.events import AgentEvent, EventLog
from openwfm.intraday.mapping import PRESETS, StateMapping, load_state_mapping
from openwfm.intraday.states import AgentState
from openwfm.server.models import Agent, RtaEvent, Schedule, Segment, Site
from openwfm.server.permissions import Principal, agent_filter

__all__ = ["MAX_FUTURE_S", "EventConflict", "GroupCommit", "LiveBoard", "StoreResult",
           "parse_events", "store_events", "visible_agents"]

MAX_FUTURE_S = 300.0
"""An event more than this many seconds ahead of the server's clock is refused (a wrong
clock or time zone at the sender)."""

_CHUNK = 500  # ids per IN (...) query
GAP_SPAN = 5000
"""Ids below the highest read that a PostgreSQL board still looks for at its first read."""
GAP_TTL_S = 60.0
"""How long an id skipped by the board is looked for (a rolled-back insert never comes)."""


@dataclass(frozen=True)
class StoreResult:
    """What became of a batch: ``received`` = ``stored`` (new) + ``duplicates``."""

    received: int
    stored: int
    duplicates: int


class EventConflict(Exception):
    """An ``event_id`` already used by another event (other agent, state or time)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def mapping_for(name: str | None) -> StateMapping | None:
    """The preset `name` (`openwfm.intraday.mapping.PRESETS`), None for openwfm states."""
    if name is None or name == "":
        return None
    if name not in PRESETS:
        raise InputError(f"unknown state mapping {name!r}: expected one of {list(PRESETS)}",
                         column="mapping")
    return load_state_mapping(name)


def parse_events(items: Sequence[Mapping[str, Any]], mapping: StateMapping | None, *,
                 now: datetime) -> list[AgentEvent]:
    """Events from ``{event_id, agent_id, state, at[, reason]}`` items: `state` is an openwfm
    state, or with `mapping` a vendor code (and `reason` its reason code). Raises
    `InputError` whose ``row`` is the 0-based item index and ``column`` the field.

    Examples
    --------
    >>> now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    >>> parse_events([{"event_id": "1", "agent_id": "a", "state": "BREAK",
    ...                "at": "2026-01-05T11:00:00+01:00"}], load_state_mapping("genesys"),
    ...              now=now)[0].state.value
    'break'
    """
    out = []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):
                raise InputError("expected an object {event_id, agent_id, state, at}")
            missing = [k for k in ("event_id", "agent_id", "state", "at") if k not in item]
            if missing:
                raise InputError(f"missing field(s) {missing}", column=missing[0])
            code, reason = str(item["state"]), str(item.get("reason") or "")
            if mapping is not None:
                state = mapping.state_of(code, reason)
                if state is None:
                    raise InputError(
                        f"state code {code!r}" + (f" with reason {reason!r}" if reason else "")
                        + f" is not in the mapping {mapping.name} (known codes: "
                        f"{sorted(mapping.states)})", column="state")
            else:
                if reason:
                    raise InputError("a reason code needs a vendor mapping (?mapping=...)",
                                     column="reason")
                state = code  # AgentEvent.make names the openwfm states when unknown
            at = item["at"]
            if isinstance(at, datetime):
                at = at.isoformat()
            event = AgentEvent.make(str(item["event_id"]), str(item["agent_id"]),
                                    state if isinstance(state, str) else AgentState(state),
                                    str(at))
            if (event.at - now).total_seconds() > MAX_FUTURE_S:
                raise InputError(f"time {event.at.isoformat()} is more than {MAX_FUTURE_S:.0f}"
                                 f" s after the server's clock ({now.isoformat()})",
                                 column="at")
        except InputError as exc:
            raise InputError(exc.message, row=i, column=exc.location.column) from exc
        out.append(event)
    return out


def visible_agents(session: Session, p: Principal, agent_ids: Iterable[str]) -> set[str]:
    """The agents of `agent_ids` that exist and `p` may see (an ``acd`` user: those serving
    its client company's queues)."""
    wanted = sorted(set(agent_ids))
    ok: set[str] = set()
    for k in range(0, len(wanted), _CHUNK):
        ok.update(session.scalars(sa.select(Agent.id).where(
            Agent.id.in_(wanted[k:k + _CHUNK]), agent_filter(p, Agent.id))))
    return ok


def _insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the server supports SQLite and PostgreSQL
        raise RuntimeError(f"no INSERT ... ON CONFLICT for {name}")
    return insert(RtaEvent).on_conflict_do_nothing(index_elements=["event_id"])


def store_events(session: Session, events: Sequence[AgentEvent], *, source: str,
                 received_at: datetime | None = None) -> StoreResult:
    """Store `events` in `session`'s transaction (the caller commits, then acknowledges).

    A repeat of a stored event (same id and content), in the batch or from before, is
    counted in ``duplicates``; the same id with other content raises `EventConflict`
    naming the first such item.
    """
    received_at = received_at or datetime.now(UTC)
    first: dict[str, tuple[int, AgentEvent]] = {}
    for i, e in enumerate(events):
        seen = first.get(e.event_id)
        if seen is None:
            first[e.event_id] = (i, e)
        elif seen[1] != e:
            raise EventConflict(i, f"event_id {e.event_id!r} is used by items {seen[0]} and "
                                   f"{i} with different content")
    ids = list(first)
    for k in range(0, len(ids), _CHUNK):
        rows = session.execute(sa.select(RtaEvent.event_id, RtaEvent.agent_id, RtaEvent.state,
                                         RtaEvent.at)
                               .where(RtaEvent.event_id.in_(ids[k:k + _CHUNK])))
        for row in rows:
            i, e = first.pop(row.event_id)
            if (row.agent_id, row.state, row.at) != (e.agent_id, e.state.value, e.at):
                raise EventConflict(i, (
                    f"event_id {e.event_id!r} was already stored for agent {row.agent_id!r} "
                    f"({row.state} at {row.at.isoformat()}); got agent {e.agent_id!r} "
                    f"({e.state.value} at {e.at.isoformat()})"))
    stored = 0
    if first:
        params = [{"event_id": e.event_id, "agent_id": e.agent_id, "state": e.state.value,
                   "at": e.at, "received_at": received_at, "source": source}
                  for _, e in first.values()]
        result = session.execute(_insert(session).returning(RtaEvent.event_id), params)
        stored = len(result.all())
    return StoreResult(received=len(events), stored=stored,
                       duplicates=len(events) - stored)


# --------------------------------------------------------------------------- group commit
@dataclass
class _Job:
    write: Callable[[Session], Any]
    wake: threading.Event
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Concurrent writers of one process share one transaction (group commit).

    `run` hands a write function to the process's writer: a caller finding nobody writing
    becomes the writer and runs every function waiting at that moment, each in its own
    savepoint (one failing, e.g. an `EventConflict`, is rolled back alone and raised to
    its caller), then commits once; every caller returns only after the commit of its
    function (an event is acknowledged only once stored). The callers arriving meanwhile
    queue up; the first of them then writes the next transaction (each writer writes one:
    nobody waits on others' work for long). So concurrent POSTs make fewer, larger
    transactions, and the threads of a process never wait on the database's write lock
    for each other. A failure of the transaction itself (the database down) is raised to
    every caller in it: nothing of theirs was stored.
    """

    def __init__(self, db: Any) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._writing = False
        self.transactions = 0
        self.writes = 0

    def run(self, write: Callable[[Session], Any]) -> Any:
        job = _Job(write, threading.Event())
        with self._lock:
            self._queue.append(job)
            lead = not self._writing
            self._writing = True
        while True:
            if lead:
                with self._lock:
                    jobs, self._queue = self._queue, []
                self._commit(jobs)  # includes this caller's job
                with self._lock:
                    if self._queue:  # the next writer: the first who waits
                        self._queue[0].wake.set()
                    else:
                        self._writing = False
            job.wake.wait()
            if job.done:
                break
            job.wake.clear()  # woken to write the next transaction
            lead = True
        if job.error is not None:
            raise job.error
        return job.result

    def _commit(self, jobs: list[_Job]) -> None:
        try:
            with self.db.transaction() as session:
                for job in jobs:
                    try:
                        with session.begin_nested():
                            job.result = job.write(session)
                    except Exception as exc:  # this caller's error only
                        job.error = exc
            self.transactions += 1
            self.writes += len(jobs)
        except BaseException as exc:  # the transaction failed: nobody's write is stored
            for job in jobs:
                if job.error is None:
                    job.error, job.result = exc, None
            if not isinstance(exc, Exception):
                raise
        finally:
            for job in jobs:
                job.done = True
                job.wake.set()


# --------------------------------------------------------------------------- the live board
@dataclass(frozen=True)
class AgentInfo:
    team_id: int | None
    site: str
    tz: str


class LiveBoard:
    """The published schedule around now and the events of that window, for one process.

    `sync` brings it up to date with the database; `rows` and `exceptions` answer for a
    set of agents at an instant. Thread-safe (one lock).

    Parameters
    ----------
    back : timedelta
        How far before now the window starts (covers "today" in every zone).
    ahead : timedelta
        How far after now schedule segments are kept.
    """

    def __init__(self, back: timedelta = timedelta(days=2),
                 ahead: timedelta = timedelta(days=1)) -> None:
        self.back, self.ahead = back, ahead
        self.lock = threading.Lock()
        self.synced_at = 0.0
        self._reset(None)

    def _reset(self, window_start: datetime | None) -> None:
        self.log = EventLog()
        self.live: LiveAdherence | None = None
        self.segments = pd.DataFrame(columns=["agent_id", "site", "team", "activity",
                                              "start", "end"])
        self.agents: dict[str, AgentInfo] = {}
        self.mark = 0
        self.gaps: dict[int, float] = {}  # id -> when first missed (PostgreSQL)
        self.window_start = window_start
        self.schedule_key: tuple[Any, ...] | None = None

    # ---------------------------------------------------------------- keeping in step
    def sync(self, session: Session, now: datetime, max_age_s: float = 0.0) -> int:
        """Read what changed since the last call: a newly published schedule, a new day's
        window, the events stored since; returns how many events were new to the board.
        With `max_age_s`, a board synced less than that many seconds ago is not read again
        (the exceptions streams of many team leaders share one read per tick)."""
        with self.lock:
            if max_age_s and time.monotonic() - self.synced_at < max_age_s:
                return 0
            self.synced_at = time.monotonic()
            start = (now - self.back).replace(minute=0, second=0, microsecond=0)
            if self.window_start is None or start - self.window_start >= timedelta(hours=6):
                self._reset(start)  # the window moved on: read it afresh
            key = tuple(tuple(r) for r in session.execute(
                sa.select(Schedule.id, Schedule.published_version_id)
                .where(Schedule.published_version_id.is_not(None))
                .order_by(Schedule.id)))
            if key != self.schedule_key:
                self._load_schedule(session, now)
                self.schedule_key = key
            return self._load_events(session)

    def _load_schedule(self, session: Session, now: datetime) -> None:
        assert self.window_start is not None
        self.agents = {r.id: AgentInfo(r.team_id, r.site, r.tz) for r in session.execute(
            sa.select(Agent.id, Agent.team_id, Site.name.label("site"), Site.tz)
            .join(Site, Site.id == Agent.site_id))}
        published = sa.select(Schedule.published_version_id).where(
            Schedule.published_version_id.is_not(None))
        rows = session.execute(
            sa.select(Segment.agent_id, Segment.activity, Segment.start, Segment.end,
                      Segment.version_id)
            .where(Segment.version_id.in_(published), Segment.end > self.window_start,
                   Segment.start < now + self.ahead)
            .order_by(Segment.version_id.desc(), Segment.agent_id, Segment.start)).all()
        # two published schedules covering one agent's time: the newer version wins
        kept: dict[str, list[tuple[datetime, datetime]]] = {}
        out = []
        for r in rows:
            spans = kept.setdefault(r.agent_id, [])
            if any(r.start < e and s < r.end for s, e in spans) or r.agent_id not in self.agents:
                continue
            spans.append((r.start, r.end))
            info = self.agents[r.agent_id]
            out.append((r.agent_id, info.site, str(info.team_id), r.activity, r.start, r.end))
        seg = pd.DataFrame(out, columns=["agent_id", "site", "team", "activity", "start",
                                         "end"])
        for c in ("start", "end"):
            seg[c] = pd.to_datetime(seg[c], utc=True)
        self.segments = seg.sort_values(["agent_id", "start"], ignore_index=True)
        self.live = (LiveAdherence(self.segments, log=self.log,
                                   site_tz={i.site: i.tz for i in self.agents.values()})
                     if len(seg) else None)

    def _load_events(self, session: Session) -> int:
        """Add the events stored since the last read.

        SQLite serializes writers: ids become visible in order, reading above the mark is
        enough. PostgreSQL takes ids before the commit, so a transaction may commit after a
        later id was read: the ids skipped below the mark are remembered as *gaps* and read
        again until they appear (a rolled-back insert leaves a gap for good: forgotten
        after `GAP_TTL_S`). The first read takes the window's events and treats the last
        `GAP_SPAN` ids as the range to look for gaps in.
        """
        cols = (RtaEvent.id, RtaEvent.event_id, RtaEvent.agent_id, RtaEvent.state,
                RtaEvent.at)
        first = self.mark == 0
        top = self.mark
        if first:
            top = int(session.scalar(sa.select(sa.func.max(RtaEvent.id))) or 0)
            lo = max(top - GAP_SPAN, 0)
            q = sa.select(*cols).where(sa.or_(RtaEvent.at >= self.window_start,
                                              RtaEvent.id > lo))
        else:
            lo = self.mark
            cond = RtaEvent.id > self.mark
            if self.gaps:
                cond = sa.or_(cond, RtaEvent.id.in_(sorted(self.gaps)[:1000]))
            q = sa.select(*cols).where(cond)
        batch = []
        seen: set[int] = set()
        for r in session.execute(q):
            seen.add(r.id)
            top = max(top, r.id)
            if r.at >= self.window_start:
                batch.append(AgentEvent(at=r.at, event_id=r.event_id, agent_id=r.agent_id,
                                        state=AgentState(r.state)))
        now = time.monotonic()
        for i in seen:
            self.gaps.pop(i, None)
        if session.get_bind().dialect.name != "sqlite":
            for i in range(lo + 1, top + 1):
                if i not in seen:
                    self.gaps.setdefault(i, now)
        for i, t in list(self.gaps.items()):
            if now - t > GAP_TTL_S:
                del self.gaps[i]
        self.mark = top
        return self.log.add(batch) if batch else 0

    # ---------------------------------------------------------------- reading
    def due(self, max_age_s: float) -> bool:
        """Whether a `sync` with `max_age_s` would read the database (the streams check
        this before they open a session)."""
        return time.monotonic() - self.synced_at >= max_age_s

    def exceptions(self, agent_ids: Iterable[str], now: datetime, min_out_s: float
                   ) -> list[tuple[str, str, str, datetime, float]]:
        """`LiveAdherence.exception_rows` for `agent_ids`: (agent_id, activity, state,
        since, duration_s), longest first (empty when nothing is scheduled)."""
        with self.lock:
            if self.live is None:
                return []
            return self.live.exception_rows(now, min_duration_s=min_out_s, agents=agent_ids)

    def segments_between(self, agent_ids: Iterable[str], start: datetime, end: datetime
                         ) -> dict[str, list[tuple[datetime, datetime, str]]]:
        """Per agent, the published segments (start, end, activity) overlapping
        [`start`, `end`), in time order (the board's window: 2 days back, 1 ahead)."""
        with self.lock:
            live = self.live
            return {a: ([(s, e, act.value) for s, e, act in live.segments_of(a)
                         if s < end and e > start] if live is not None else [])
                    for a in agent_ids}

    def rows(self, agent_ids: Sequence[str], now: datetime, grace_s: float
             ) -> list[dict[str, Any]]:
        """Per agent: state now and since when, the scheduled activity now, in or out of
        adherence and since when, and adherence and conformance so far in the local day
        (`LiveAdherence.day_so_far`: the agent's own figures, no whole-day table)."""
        with self.lock:
            live = self.live
            out = []
            for a in agent_ids:
                info = self.agents.get(a)
                if info is None:
                    continue
                state = self.log.state_at(a, now)
                times = [t for t, _ in self.log.timeline(a)]
                k = bisect.bisect_right(times, now)
                changed = times[k - 1] if k else None
                activity = live.activity_at(a, now) if live is not None else None
                out_since = (live.spell_start(a, now)
                             if live is not None and activity is not None else None)
                day = live.day_so_far(a, now, grace_s) if live is not None else None
                since = out_since
                if activity is not None and out_since is None:
                    first = next((s for s, e, _ in live.segments_of(a)  # type: ignore[union-attr]
                                  if e > now - timedelta(days=1)), None)
                    last_end = day.last_spell_end if day is not None else None
                    cands = [x for x in (last_end, first) if x is not None and x <= now]
                    since = max(cands) if cands else None
                out.append({
                    "agent_id": a, "team_id": info.team_id, "site": info.site,
                    "state": state.value, "state_since": changed,
                    "activity": activity.value if activity is not None else None,
                    "in_adherence": None if activity is None else out_since is None,
                    "adherence_since": since,
                    "day": day.day if day is not None else None,
                    "scheduled_s": day.scheduled_s if day is not None else None,
                    "out_of_adherence_s": day.out_of_adherence_s if day is not None else None,
                    "adherence": day.adherence if day is not None else None,
                    "conformance": day.conformance if day is not None else None,
                    "scheduled_work_s": day.scheduled_work_s if day is not None else None,
                    "worked_s": day.worked_s if day is not None else None,
                    "events": self.log.count(a),
                })
            return out
