"""Real-time adherence: agent-state events in, live adherence and exceptions out
(docs/rta.md).

* ``POST /api/rta/events`` (admin, or an ``acd`` integration user of one client company):
  a JSON list of ``{event_id, agent_id, state, at[, reason]}``; ``?mapping=genesys|avaya|
  cisco|nice`` reads ``state``/``reason`` as that vendor's codes. Answered only once the
  batch is committed; repeats are acknowledged as duplicates, never stored twice.
* ``GET /api/rta/adherence?team=`` or ``?agent_id=``: per agent, the state now, the
  scheduled activity now, in or out of adherence and since when, adherence and
  conformance so far today (the site's local day).
* ``GET /api/rta/exceptions/stream?team=``: server-sent events; an agent out of
  adherence for at least ``after_s`` seconds appears (``event: exception``) and leaves
  (``event: cleared``) when back.
* ``POST /api/rta/actuals`` (admin, planner, acd): queue actuals per interval (offered,
  handled, abandoned, AHT, ASA, answered within the threshold or the service level); a
  later report of an interval replaces it. ``GET /api/rta/actuals?queue_id=&day=``: a
  local day's intervals.
* ``POST /api/rta/queue-state`` (the same roles): per queue and instant, the contacts
  waiting now, the oldest wait, the contacts in service; a repeat of an instant replaces
  it. ``GET /api/rta/queue-state?queue_id=&at=``: the newest report at or before ``at``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from openwfm.errors import InputError
from openwfm.server import audit
from openwfm.server.actuals import (
    QueueActual,
    center_interval_s,
    check_actuals,
    day_bounds,
    parse_day,
    read_actuals,
    store_actuals,
)
from openwfm.server.db import Database
from openwfm.server.deps import CurrentUser, ReadDB, acting_user, database
from openwfm.server.models import Agent, Queue, Role, Team
from openwfm.server.permissions import (
    Principal,
    agent_filter,
    not_found,
    queue_filter,
    require,
    team_filter,
)
from openwfm.server.queue_state import (
    QueueStateReport,
    check_states,
    latest_states,
    store_states,
)
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, QueryId
from openwfm.server.rta import (
    EventConflict,
    GroupCommit,
    LiveBoard,
    StoreResult,
    mapping_for,
    parse_events,
    store_events,
    visible_agents,
)

router = APIRouter(prefix="/api/rta", tags=["real-time adherence"])

MAX_BATCH = 5000
"""Events per POST."""
TICK_S = 0.5
"""How often the exceptions stream looks (an exception shows within about this much)."""
HEARTBEAT_S = 15.0


class RtaEventIn(BaseModel):
    """One agent-state change as the ACD reports it."""

    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(min_length=1, max_length=200,
                          description="Unique id of the event (repeats are ignored)")
    agent_id: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=1, max_length=100, description=(
        "An openwfm state (logged_out, available, on_contact, after_contact_work, break, "
        "meal, training, meeting, other) or, with ?mapping=, the vendor's state code"))
    reason: str = Field("", max_length=100, description="Vendor reason code (with ?mapping=)")
    at: AwareDatetime = Field(description="When the agent entered the state (ISO 8601 with "
                                          "offset)")


class RtaAck(BaseModel):
    received: int = Field(description="Events in the request")
    stored: int = Field(description="New events stored (committed)")
    duplicates: int = Field(description="Events already stored (same event_id): not "
                                        "stored again")


class AgentAdherence(BaseModel):
    agent_id: str
    team_id: int | None
    site: str
    state: str = Field(description="The agent's state now")
    state_since: datetime | None
    activity: str | None = Field(description="The published schedule's activity now (null: "
                                             "not scheduled)")
    in_adherence: bool | None = Field(description="null when not scheduled now")
    adherence_since: datetime | None = Field(description=(
        "Out of adherence: the start of the spell; in adherence: the end of the last spell "
        "(or the start of the day's first segment)"))
    day: Any = Field(None, description="The site's local day of the figures")
    scheduled_s: float | None
    out_of_adherence_s: float | None = Field(description="Counted spells (>= grace_s)")
    adherence: float | None = Field(description="So far today: (scheduled - out) / scheduled")
    conformance: float | None = Field(description="So far today: worked / scheduled work")
    scheduled_work_s: float | None = Field(None, description="So far today: time scheduled "
                                                             "for work")
    worked_s: float | None = Field(None, description="So far today: time in a work state "
                                                     "(available, on contact, after-contact "
                                                     "work)")
    events: int = Field(description="Events of the agent held for the window (2 days back)")


class AdherenceOut(BaseModel):
    as_of: datetime
    grace_s: float
    team_id: int | None
    agents: list[AgentAdherence]


def writer(request: Request) -> GroupCommit:
    """The process's group commit of event batches (concurrent POSTs share a transaction)."""
    w = getattr(request.app.state, "rta_writer", None)
    if w is None:
        w = request.app.state.rta_writer = GroupCommit(request.app.state.db)
    return w


def board(request: Request) -> LiveBoard:
    """The process's live board (one per API process)."""
    b = getattr(request.app.state, "rta_board", None)
    if b is None:
        b = request.app.state.rta_board = LiveBoard()
    return b


def _settings_value(request: Request, name: str, default: float) -> float:
    return float(getattr(request.app.state.settings, name, default))


def _bad(loc: list[str | int], msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": loc, "msg": msg, "type": "value_error"}])


@router.post("/events", response_model=RtaAck, responses={
    **WRITE_ERRORS, 422: {"description": "A bad event (its index and field named)"}})
def post_events(
    request: Request, body: Annotated[list[RtaEventIn], Body(max_length=MAX_BATCH)],
    p: CurrentUser,
    mapping: Annotated[str | None, Query(max_length=32, description=(
        "Vendor preset the state codes are in: genesys, avaya, cisco, nice"))] = None,
) -> RtaAck:
    """Store agent-state events; the answer comes once they are committed. Idempotent on
    ``event_id``: a repeat is counted in ``duplicates``; the same id with other content is
    409. Events may arrive in any order (a late event is placed at its time)."""
    require(p, "rta_event", "write")
    try:
        m = mapping_for(mapping)
    except InputError as exc:
        raise _bad(["query", "mapping"], exc.message) from None
    now = datetime.now(UTC)
    try:
        events = parse_events([e.model_dump() for e in body], m, now=now)
    except InputError as exc:
        raise _bad(["body", exc.location.row or 0, exc.location.column or "state"],
                   exc.message) from None

    def write(session: Session) -> StoreResult:
        _check_agents(session, p, [e.agent_id for e in events])
        return store_events(session, events, source="api", received_at=now)

    try:
        result = writer(request).run(write)  # returns once committed
    except EventConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"item {exc.index}: {exc.message}") from None
    return RtaAck(received=result.received, stored=result.stored,
                  duplicates=result.duplicates)


def _check_agents(session: Session, p: Principal, agent_ids: list[str]) -> None:
    """Every agent exists and is one `p` may post for (an ACD user: agents serving its
    client company's queues); else 422 naming the first bad item."""
    ok = visible_agents(session, p, agent_ids)
    for i, a in enumerate(agent_ids):
        if a not in ok:
            raise _bad(["body", i, "agent_id"], f"no agent {a!r}")


def agents_for(session: Session, p: Principal, team: int | None,
                agent_id: str | None) -> tuple[int | None, list[str]]:
    """(team id, agent ids) the request reads, after the role and tenant checks."""
    if team is None and agent_id is None:
        if p.role == Role.TEAM_LEADER:
            team = p.team_id
        elif p.role == Role.AGENT:
            agent_id = p.agent_id
        else:
            raise _bad(["query", "team"], "give team or agent_id")
    if agent_id is not None:
        found = session.scalar(sa.select(Agent.id).where(Agent.id == agent_id,
                                                         agent_filter(p, Agent.id)))
        if found is None:
            raise not_found("agent", agent_id)
        return team, [found]
    if p.role == Role.AGENT:  # an agent sees no team, only themselves
        raise not_found("team", team)
    if session.scalar(sa.select(Team.id).where(Team.id == team,
                                               team_filter(p, Team.id))) is None:
        raise not_found("team", team)
    ids = list(session.scalars(sa.select(Agent.id).where(
        Agent.team_id == team, agent_filter(p, Agent.id)).order_by(Agent.id)))
    return team, ids


@router.get("/adherence", response_model=AdherenceOut, responses={
    **AUTH_ERRORS, 422: {"description": "Neither team nor agent_id given"}})
async def get_adherence(
    request: Request, p: CurrentUser, session: ReadDB,
    team: QueryId = None,
    agent_id: Annotated[str | None, Query(max_length=100)] = None,
    at: Annotated[AwareDatetime | None, Query(description=(
        "The instant to answer for (default: now)"))] = None,
    grace_s: Annotated[float | None, Query(ge=0, le=86_400, description=(
        "Out-of-adherence spells shorter than this are forgiven in the day's figures "
        "(default OPENWFM_RTA_GRACE_S)"))] = None,
) -> AdherenceOut:
    """Live adherence of a team (a team leader: their own team by default) or one agent
    (an agent: themselves), against the published schedule."""
    require(p, "adherence", "read")
    team_id, ids = agents_for(session, p, team, agent_id)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    grace = grace_s if grace_s is not None else _settings_value(request, "rta_grace_s", 60.0)
    b = board(request)
    b.sync(session, datetime.now(UTC))
    session.rollback()
    rows = b.rows(ids, now, grace)
    return AdherenceOut(as_of=now, grace_s=grace, team_id=team_id,
                        agents=[AgentAdherence(**r) for r in rows])


def _sse(event: str, data: dict[str, Any], seq: int) -> str:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, default=str)}\n\n"


@router.get("/exceptions/stream", responses={
    **AUTH_ERRORS, 200: {"content": {"text/event-stream": {}},
                         "description": "Server-sent events: exception, cleared"}})
async def exceptions_stream(
    request: Request, p: CurrentUser, session: ReadDB,
    db: Annotated[Database, Depends(database)],
    team: QueryId = None,
    after_s: Annotated[float | None, Query(ge=0, le=86_400, description=(
        "An agent out of adherence at least this long is an exception (default "
        "OPENWFM_RTA_EXCEPTION_AFTER_S)"))] = None,
    max_s: Annotated[float | None, Query(ge=0, le=86_400, description=(
        "Close the stream after this many seconds (default: stays open)"))] = None,
) -> StreamingResponse:
    """Server-sent events for a team leader: ``event: exception`` (data: agent_id,
    activity, state, since, duration_s) when an agent has been out of adherence for
    ``after_s`` seconds or its state changes while out, ``event: cleared`` (data: agent_id,
    at) when the agent is back in adherence or no longer scheduled."""
    require(p, "rta_exceptions", "read")
    team_id, ids = agents_for(session, p, team, None)
    session.close()
    limit = (after_s if after_s is not None
             else _settings_value(request, "rta_exception_after_s", 300.0))
    b = board(request)

    def look() -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        if b.due(TICK_S / 2):  # one read per tick for all the streams of the process
            with db.read() as s:
                b.sync(s, now, max_age_s=TICK_S / 2)
        return [{"agent_id": a, "team_id": team_id, "activity": act, "state": st,
                 "since": since.isoformat(), "duration_s": round(dur, 1)}
                for a, act, st, since, dur in b.exceptions(ids, now, limit)]

    async def stream() -> AsyncIterator[str]:
        shown: dict[str, tuple[str, str, str]] = {}
        seq = 0
        yield f"retry: 1000\n: exceptions of team {team_id}, after {limit:g} s\n\n"
        quiet = 0.0
        end = None if max_s is None else asyncio.get_running_loop().time() + max_s
        while True:
            rows = await run_in_threadpool(look)
            now_ids = set()
            sent = False
            for r in rows:
                now_ids.add(r["agent_id"])
                key = (r["activity"], r["state"], r["since"])
                if shown.get(r["agent_id"]) != key:
                    shown[r["agent_id"]] = key
                    seq += 1
                    sent = True
                    yield _sse("exception", r, seq)
            for gone in sorted(set(shown) - now_ids):
                del shown[gone]
                seq += 1
                sent = True
                yield _sse("cleared", {"agent_id": gone, "team_id": team_id,
                                       "at": datetime.now(UTC).isoformat()}, seq)
            quiet = 0.0 if sent else quiet + TICK_S
            if quiet >= HEARTBEAT_S:
                quiet = 0.0
                yield ": keep-alive\n\n"
            if end is not None and asyncio.get_running_loop().time() >= end:
                return
            await asyncio.sleep(TICK_S)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# ----------------------------------------------------------------------- queue actuals
class QueueActualIn(BaseModel):
    """One queue's interval as the ACD reports it (so far, or complete)."""

    model_config = ConfigDict(extra="forbid")
    queue_id: str = Field(min_length=1, max_length=100)
    interval_start: AwareDatetime = Field(description=(
        "Start of the interval (ISO 8601 with offset), a boundary of the queue's local "
        "interval grid"))
    interval_s: int | None = Field(None, ge=60, le=86_400, description=(
        "Interval length (default: the center's, e.g. 1800)"))
    volume: float = Field(ge=0, le=10_000_000, description=(
        "Contacts offered in the interval so far (handled + abandoned)"))
    handled: float | None = Field(None, ge=0, le=10_000_000)
    abandoned: float | None = Field(None, ge=0, le=10_000_000)
    aht_s: float | None = Field(None, ge=0, le=604_800, description=(
        "Mean handle time of the handled contacts (talk + hold + after-contact work)"))
    asa_s: float | None = Field(None, ge=0, le=604_800, description="Mean wait of answered")
    answered_within: float | None = Field(None, ge=0, le=10_000_000, description=(
        "Contacts answered within the queue's answer_within_s"))
    service_level: float | None = Field(None, ge=0, le=1, description=(
        "Or the service level so far, answered_within / volume (a fraction); give one of "
        "the two"))


class ActualsAck(BaseModel):
    received: int
    inserted: int = Field(description="Intervals not reported before")
    replaced: int = Field(description="Intervals reported before: the new report replaces")


class QueueActualOut(BaseModel):
    queue_id: str
    interval_start: datetime
    interval_s: int
    volume: float = Field(description="Contacts offered")
    handled: float | None
    abandoned: float | None
    aht_s: float | None
    asa_s: float | None
    answered_within: float | None
    service_level: float | None = Field(description="answered_within / volume")


@router.post("/actuals", response_model=ActualsAck, responses={
    **WRITE_ERRORS, 422: {"description": "A bad item (its index and field named)"}})
def post_actuals(
    body: Annotated[list[QueueActualIn], Body(max_length=MAX_BATCH)],
    p: CurrentUser, db: Annotated[Database, Depends(database)],
) -> ActualsAck:
    """Store queue actuals per interval. Idempotent: a report of an interval already
    stored replaces it (an interval in progress, then complete). The rows are the queue's
    interval history (what the importers write and the forecast learns from). Nothing of
    the batch is stored when an item is bad (422 naming the item and field)."""
    require(p, "queue_actuals", "write")
    now = datetime.now(UTC)
    with db.transaction() as session:
        step = center_interval_s(session)
        items = []
        for i, a in enumerate(body):
            aw = a.answered_within
            if a.service_level is not None:
                if aw is not None:
                    raise _bad(["body", i, "service_level"],
                               "give answered_within or service_level, not both")
                aw = a.service_level * a.volume
            items.append(QueueActual(
                queue_id=a.queue_id, interval_start=a.interval_start.astimezone(UTC),
                interval_s=a.interval_s or step, volume=a.volume, handled=a.handled,
                abandoned=a.abandoned, aht_s=a.aht_s, asa_s=a.asa_s, answered_within=aw))
        try:
            check_actuals(session, p, items, now=now)
        except InputError as exc:
            raise _bad(["body", exc.location.row or 0, exc.location.column or "queue_id"],
                       exc.message) from None
        result = store_actuals(session, items)
        if items:
            audit.record(session, acting_user(session, p), "report", "queue_actuals",
                         ",".join(sorted({a.queue_id for a in items}))[:100],
                         after={"intervals": len(items), "inserted": result.inserted,
                                "replaced": result.replaced,
                                "first": min(a.interval_start for a in items).isoformat(),
                                "last": max(a.interval_start for a in items).isoformat()})
    return ActualsAck(received=result.received, inserted=result.inserted,
                      replaced=result.replaced)


@router.get("/actuals", response_model=list[QueueActualOut], responses={
    **AUTH_ERRORS, 422: {"description": "A bad day"}})
async def get_actuals(
    p: CurrentUser, session: ReadDB,
    queue_id: Annotated[str | None, Query(max_length=100, description=(
        "One queue (default: every queue the user may see)"))] = None,
    day: Annotated[str | None, Query(max_length=10, description=(
        "The local day of each queue, YYYY-MM-DD (default: today in the queue's zone)"))]
    = None,
) -> list[QueueActualOut]:
    """The actuals of a local day, per queue and interval."""
    require(p, "queue_actuals", "read")
    stmt = sa.select(Queue.id, Queue.tz).where(queue_filter(p, Queue.id)).order_by(Queue.id)
    if queue_id is not None:
        stmt = stmt.where(Queue.id == queue_id)
    queues = session.execute(stmt).all()
    if queue_id is not None and not queues:
        raise not_found("queue", queue_id)
    now = datetime.now(UTC)
    out: list[QueueActualOut] = []
    for q, tz in queues:
        try:
            d = parse_day(day, tz, now)
        except InputError as exc:
            raise _bad(["query", "day"], exc.message) from None
        start, end = day_bounds(d, tz)
        for r in read_actuals(session, [q], start, end):
            sl = (r.answered_within / r.volume if r.answered_within is not None
                  and r.volume > 0 else None)
            out.append(QueueActualOut(
                queue_id=r.queue_id, interval_start=r.interval_start,
                interval_s=r.interval_s, volume=r.volume, handled=r.handled,
                abandoned=r.abandoned, aht_s=r.aht_s, asa_s=r.asa_s,
                answered_within=r.answered_within, service_level=sl))
    return out


# ----------------------------------------------------------------------- queue state
class QueueStateIn(BaseModel):
    """One queue at one instant, as the ACD's real-time queue statistics give it."""

    model_config = ConfigDict(extra="forbid")
    queue_id: str = Field(min_length=1, max_length=100)
    at: AwareDatetime = Field(description="The instant of the figures (ISO 8601 with offset)")
    waiting: int = Field(ge=0, le=1_000_000, description="Contacts waiting in queue now")
    oldest_wait_s: float | None = Field(None, ge=0, le=604_800, description=(
        "How long the oldest waiting contact has waited (seconds); omitted when the ACD "
        "does not give it (the waiting contacts then count as just arrived)"))
    in_service: int | None = Field(None, ge=0, le=1_000_000, description=(
        "Contacts being handled now (talk, hold, after-contact work)"))


class QueueStateAck(BaseModel):
    received: int
    inserted: int = Field(description="Instants not reported before")
    replaced: int = Field(description="Instants reported before: the new report replaces")


class QueueStateOut(BaseModel):
    queue_id: str
    at: datetime
    waiting: int
    oldest_wait_s: float | None
    in_service: int | None
    age_s: float = Field(description="Seconds between the report and the instant asked for")


@router.post("/queue-state", response_model=QueueStateAck, responses={
    **WRITE_ERRORS, 422: {"description": "A bad item (its index and field named)"}})
def post_queue_state(
    body: Annotated[list[QueueStateIn], Body(max_length=MAX_BATCH)],
    p: CurrentUser, db: Annotated[Database, Depends(database)],
) -> QueueStateAck:
    """Store the live state of queues (contacts waiting, oldest wait, in service). The
    intraday view simulates the rest of the day from the newest one. Idempotent: a report
    of the same queue and instant replaces it. Nothing of the batch is stored when an
    item is bad (422 naming the item and field)."""
    require(p, "queue_state", "write")
    now = datetime.now(UTC)
    items = [QueueStateReport(queue_id=a.queue_id, at=a.at.astimezone(UTC), waiting=a.waiting,
                              oldest_wait_s=a.oldest_wait_s, in_service=a.in_service)
             for a in body]
    with db.transaction() as session:
        try:
            check_states(session, p, items, now=now)
        except InputError as exc:
            raise _bad(["body", exc.location.row or 0, exc.location.column or "queue_id"],
                       exc.message) from None
        result = store_states(session, items, now=now)
        if items:
            audit.record(session, acting_user(session, p), "report", "queue_state",
                         ",".join(sorted({a.queue_id for a in items}))[:100],
                         after={"reports": len(items), "inserted": result.inserted,
                                "replaced": result.replaced,
                                "last": max(a.at for a in items).isoformat()})
    return QueueStateAck(received=result.received, inserted=result.inserted,
                         replaced=result.replaced)


@router.get("/queue-state", response_model=list[QueueStateOut], responses=AUTH_ERRORS)
async def get_queue_state(
    p: CurrentUser, session: ReadDB,
    queue_id: Annotated[str | None, Query(max_length=100, description=(
        "One queue (default: every queue the user may see)"))] = None,
    at: Annotated[AwareDatetime | None, Query(description=(
        "The instant (default: now): the newest report at or before it"))] = None,
) -> list[QueueStateOut]:
    """The newest reported state of each queue at or before ``at`` (queues that never
    reported are left out)."""
    require(p, "queue_state", "read")
    stmt = sa.select(Queue.id).where(queue_filter(p, Queue.id)).order_by(Queue.id)
    if queue_id is not None:
        stmt = stmt.where(Queue.id == queue_id)
    ids = list(session.scalars(stmt))
    if queue_id is not None and not ids:
        raise not_found("queue", queue_id)
    when = (at or datetime.now(UTC)).astimezone(UTC)
    got = latest_states(session, ids, when)
    return [QueueStateOut(queue_id=q, at=r.at, waiting=r.waiting,
                          oldest_wait_s=r.oldest_wait_s, in_service=r.in_service,
                          age_s=(when - r.at).total_seconds())
            for q, r in sorted(got.items())]
