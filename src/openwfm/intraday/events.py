"""The agent-state event log: idempotent, order-independent, and its state intervals.

An event ``{event_id, agent_id, state, at}`` says that the agent entered `state` at the
instant `at` (timezone-aware). An agent's *timeline* is its events sorted by
``(at, event_id)``: each state lasts from its event to the agent's next event. So

* an event seen twice (same ``event_id``) counts once; the same id with a different
  agent, state or time is an error (two events cannot share an id);
* a late event is inserted at its time: the timeline does not depend on the order the
  events arrived in;
* two events of one agent at the same instant: the one with the larger ``event_id`` is the
  state from then on (a deterministic rule; the first lasts zero seconds);
* before its first event an agent is ``logged_out``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from openwfm.errors import InputError
from openwfm.intraday.states import AgentState

__all__ = ["AgentEvent", "EventLog", "events_from_frame", "read_events_csv"]


@dataclass(frozen=True, order=True)
class AgentEvent:
    """The agent `agent_id` entered `state` at `at` (UTC)."""

    at: datetime
    event_id: str
    agent_id: str
    state: AgentState

    @classmethod
    def make(cls, event_id: str, agent_id: str, state: AgentState | str,
             at: datetime | str) -> AgentEvent:
        """Validate and normalize one event (``at`` to UTC; naive times are refused).

        Examples
        --------
        >>> AgentEvent.make("e1", "a7", "break", "2026-02-15T10:00:00+01:00").at.isoformat()
        '2026-02-15T09:00:00+00:00'
        """
        where = f"event '{event_id}'"
        if not str(event_id).strip():
            raise InputError("an event needs a non-empty event_id", column="event_id")
        if not str(agent_id).strip():
            raise InputError(f"{where} has no agent_id", column="agent_id")
        try:
            s = AgentState(state)
        except ValueError as exc:
            raise InputError(f"{where}: unknown state {state!r}, expected one of "
                             f"{[x.value for x in AgentState]}", column="state") from exc
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError as exc:
                raise InputError(f"{where}: expected an ISO 8601 time with offset, got "
                                 f"{at!r}", column="at") from exc
        ts = pd.Timestamp(at)
        if ts.tzinfo is None:
            raise InputError(f"{where}: time {at} has no UTC offset", column="at")
        return cls(at=ts.tz_convert("UTC").to_pydatetime(), event_id=str(event_id),
                   agent_id=str(agent_id), state=s)


class EventLog:
    """Per-agent timelines of state events; `add` is idempotent and order-independent.

    Examples
    --------
    >>> log = EventLog()
    >>> log.add([AgentEvent.make("2", "a", "break", "2026-01-05T10:15:00Z"),
    ...          AgentEvent.make("1", "a", "available", "2026-01-05T10:00:00Z")])
    2
    >>> log.add([AgentEvent.make("1", "a", "available", "2026-01-05T10:00:00Z")])
    0
    >>> log.state_at("a", pd.Timestamp("2026-01-05T10:05:00Z")).value
    'available'
    """

    def __init__(self) -> None:
        self._by_id: dict[str, AgentEvent] = {}
        self._timelines: dict[str, list[tuple[datetime, str, AgentState]]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def agents(self) -> tuple[str, ...]:
        return tuple(sorted(self._timelines))

    def add(self, events: Iterable[AgentEvent]) -> int:
        """Store events; returns how many were new (repeats of a stored event count 0)."""
        new = 0
        for e in events:
            old = self._by_id.get(e.event_id)
            if old is not None:
                if old != e:
                    raise InputError(
                        f"event_id '{e.event_id}' was already stored for agent "
                        f"'{old.agent_id}' ({old.state.value} at {old.at.isoformat()}); "
                        f"got agent '{e.agent_id}' ({e.state.value} at {e.at.isoformat()})",
                        column="event_id")
                continue
            self._by_id[e.event_id] = e
            bisect.insort(self._timelines.setdefault(e.agent_id, []),
                          (e.at, e.event_id, e.state))
            new += 1
        return new

    def timeline(self, agent_id: str) -> list[tuple[datetime, AgentState]]:
        """The agent's (time, state) changes in time order."""
        return [(t, s) for t, _, s in self._timelines.get(agent_id, [])]

    def state_at(self, agent_id: str, at: datetime) -> AgentState:
        """The agent's state at instant `at` (``logged_out`` before the first event)."""
        tl = self._timelines.get(agent_id, [])
        i = bisect.bisect_right(tl, (at, "\U0010ffff"))
        return tl[i - 1][2] if i else AgentState.LOGGED_OUT

    def state_since(self, agent_id: str, at: datetime) -> datetime | None:
        """When the agent entered its state at `at` (its last event at or before `at`; None
        before the first event)."""
        tl = self._timelines.get(agent_id, [])
        i = bisect.bisect_right(tl, (at, "\U0010ffff"))
        return tl[i - 1][0] if i else None

    def last_change_before(self, agent_id: str, at: datetime) -> datetime | None:
        """The time of the agent's last event strictly before `at` (None if none)."""
        tl = self._timelines.get(agent_id, [])
        i = bisect.bisect_left(tl, (at, ""))
        return tl[i - 1][0] if i else None

    def subset(self, agent_ids: Iterable[str]) -> EventLog:
        """A new log holding only the events of `agent_ids` (the same events, shared).

        Examples
        --------
        >>> log = EventLog()
        >>> _ = log.add([AgentEvent.make("1", "a", "available", "2026-01-05T10:00:00Z"),
        ...              AgentEvent.make("2", "b", "break", "2026-01-05T10:15:00Z")])
        >>> log.subset(["b", "c"]).agents
        ('b',)
        """
        out = EventLog()
        for agent in agent_ids:
            tl = self._timelines.get(agent)
            if tl:
                out._timelines[agent] = list(tl)
                for _, eid, _ in tl:
                    out._by_id[eid] = self._by_id[eid]
        return out

    def count(self, agent_id: str) -> int:
        """How many distinct events of `agent_id` the log holds."""
        return len(self._timelines.get(agent_id, ()))

    def events(self) -> Iterator[AgentEvent]:
        """Every stored event, by agent then time."""
        for agent in self.agents:
            for t, eid, s in self._timelines[agent]:
                yield AgentEvent(at=t, event_id=eid, agent_id=agent, state=s)

    def state_intervals(self, end: datetime | pd.Timestamp) -> pd.DataFrame:
        """Per-agent state intervals up to `end` (the instant the states are known to).

        Returns a DataFrame ``agent_id``, ``state``, ``start``, ``end`` (UTC), one row per
        event at or before `end`, zero-length rows dropped, sorted by agent and start.

        Examples
        --------
        >>> log = EventLog()
        >>> _ = log.add([AgentEvent.make("1", "a", "available", "2026-01-05T10:00:00Z"),
        ...              AgentEvent.make("2", "a", "break", "2026-01-05T10:15:00Z")])
        >>> print(log.state_intervals(pd.Timestamp("2026-01-05T10:30:00Z")).to_string())
          agent_id      state                     start                       end
        0        a  available 2026-01-05 10:00:00+00:00 2026-01-05 10:15:00+00:00
        1        a      break 2026-01-05 10:15:00+00:00 2026-01-05 10:30:00+00:00
        """
        end_ts = pd.Timestamp(end)
        if end_ts.tzinfo is None:
            raise InputError("the end of the state intervals must be timezone-aware")
        end_dt = end_ts.tz_convert("UTC").to_pydatetime()
        rows: list[tuple[str, str, datetime, datetime]] = []
        for agent in self.agents:
            tl = [x for x in self._timelines[agent] if x[0] <= end_dt]
            for k, (t, _, s) in enumerate(tl):
                stop = tl[k + 1][0] if k + 1 < len(tl) else end_dt
                if stop > t:
                    rows.append((agent, s.value, t, stop))
        out = pd.DataFrame(rows, columns=["agent_id", "state", "start", "end"])
        for c in ("start", "end"):
            out[c] = pd.to_datetime(out[c], utc=True)
        return out


def events_from_frame(frame: pd.DataFrame, *, file: str | None = None) -> list[AgentEvent]:
    """Events from a table with ``event_id``, ``agent_id``, ``state``, ``at`` (UTC).

    Errors name the 1-based row of `frame` (its position).
    """
    missing = [c for c in ("event_id", "agent_id", "state", "at") if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}", file=file, column=missing[0])
    out = []
    records: list[Mapping[str, Any]] = frame[["event_id", "agent_id", "state", "at"]].to_dict(
        "records")
    for i, r in enumerate(records):
        try:
            out.append(AgentEvent.make(r["event_id"], r["agent_id"], r["state"], r["at"]))
        except InputError as exc:
            raise InputError(exc.message, file=file, row=i + 1,
                             column=exc.location.column) from exc
    return out



def read_events_csv(path: str, *, tz: str | None = None) -> list[AgentEvent]:
    """Read an openwfm event CSV: ``event_id``, ``agent_id``, ``state``, ``at`` (ISO 8601
    with offset; naive times are local to `tz`). Errors name the file, row and column."""
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from openwfm.io.intervals import parse_times, read_text_table, strip_text

    p = Path(path)
    raw = read_text_table(p)
    missing = [c for c in ("event_id", "agent_id", "state", "at") if c not in raw.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; the file has {list(raw.columns)} "
                         "(a vendor export? give --preset or --mapping)", file=p.name,
                         column=missing[0])
    if raw.empty:
        raise InputError("no data rows", file=p.name)
    agent = strip_text(raw["agent_id"])
    at = parse_times(raw["at"], tz=ZoneInfo(tz) if tz else None, file=p.name, column="at",
                     groups=agent)
    out = []
    for i, (eid, a, s, t) in enumerate(zip(strip_text(raw["event_id"]), agent,
                                           strip_text(raw["state"]), at, strict=True)):
        try:
            out.append(AgentEvent.make(eid, a, s, t))
        except InputError as exc:
            raise InputError(exc.message, file=p.name, row=int(raw.index[i]) + 1,
                             column=exc.location.column) from exc
    return out
