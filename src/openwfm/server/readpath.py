"""The hot read: an agent's published schedule for a period, in one indexed query.

Hundreds of agents open their week at the start of a shift. Each request costs:

1. the bearer token's signature check, done once per token and process
   (`openwfm.server.security.read_token` keeps verified tokens until they expire);
2. ONE query that reads the signed-in user (still active? which role, agent, team), the
   requested agent (exists? team, zone) and a fingerprint of the published schedules that
   overlap the period (how many, and the sum and maximum of their published version ids) —
   so a disabled user, a changed role or a moved agent count at once, as on every endpoint;
3. the answer from a per-process cache of serialized weeks keyed by (agent, period) and
   checked against that fingerprint: a publish anywhere (any process, any machine) changes
   the fingerprint of the periods it overlaps, so a stale week is never served. On a miss,
   one indexed query (`ix_segments_version_agent`) reads the segments, pydantic-core
   serializes them once, and the bytes are kept.

Published versions are immutable (a publish makes a new version and moves
``schedules.published_version_id`` to it; version ids only grow, and a schedule is never
unpublished), so the fingerprint changes exactly when what an agent reads does. The ETag of
the answer is the fingerprint: ``If-None-Match`` with it answers 304 without a body.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import sqlalchemy as sa

from openwfm.server.models import (
    Agent,
    PlannerClient,
    Role,
    Schedule,
    ScheduleVersion,
    Segment,
    User,
)
from openwfm.server.permissions import POLICY, Principal, agent_filter
from openwfm.server.schemas import AgentScheduleOut, SegmentOut
from openwfm.server.security import read_token

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
CACHE_ENTRIES = 20_000
"""Serialized weeks kept per process (a few kB each)."""

_overlap = sa.and_(Schedule.published_version_id.is_not(None),
                   Schedule.period_start < sa.bindparam("end"),
                   Schedule.period_end > sa.bindparam("start"))


def _of_published(agg: sa.ColumnElement[int]) -> sa.ColumnElement[str]:
    return sa.cast(sa.select(sa.func.coalesce(agg, 0)).where(_overlap).scalar_subquery(),
                   sa.String)


CHECK = (
    sa.select(User.active, User.role, User.agent_id.label("user_agent_id"),
              User.team_id.label("user_team_id"), Agent.id.label("agent_id"), Agent.tz,
              Agent.team_id,
              (_of_published(sa.func.count(Schedule.published_version_id)) + ":"
               + _of_published(sa.func.sum(Schedule.published_version_id)) + ":"
               + _of_published(sa.func.max(Schedule.published_version_id))
               ).label("published"))
    .select_from(User)
    .outerjoin(Agent, Agent.id == sa.bindparam("agent"))
    .where(User.id == sa.bindparam("user"))
)
"""The signed-in user, the requested agent and the fingerprint of the overlapping published
schedules, in one round trip."""

SEGMENTS = (
    sa.select(Segment.activity, Segment.start, Segment.end, Segment.queue_id,
              Schedule.id.label("schedule_id"), ScheduleVersion.number)
    .join(Schedule, Schedule.published_version_id == Segment.version_id)
    .join(ScheduleVersion, ScheduleVersion.id == Segment.version_id)
    .where(Segment.agent_id == sa.bindparam("agent"), _overlap,
           Segment.start < sa.bindparam("end"), Segment.end > sa.bindparam("start"))
    .order_by(Segment.start)
)

LATEST = (sa.select(Schedule.period_start, Schedule.period_end)
          .where(Schedule.published_version_id.is_not(None))
          .order_by(Schedule.period_start.desc(), Schedule.id.desc()).limit(1))


@dataclass(frozen=True)
class Week:
    """One serialized answer and what it was computed from."""

    fingerprint: tuple[str, str]
    etag: str
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    """200, 304, 401 (user gone or disabled), 403 (role), 404 (agent not visible)."""
    etag: str = ""
    body: bytes = b""
    detail: str = ""


class WeekCache:
    """Serialized weeks of one process, least recently used out first."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self.entries = entries
        self._items: OrderedDict[tuple[str, datetime, datetime], Week] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[str, datetime, datetime]) -> Week | None:
        with self._lock:
            week = self._items.get(key)
            if week is not None:
                self._items.move_to_end(key)
            return week

    def put(self, key: tuple[str, datetime, datetime], week: Week) -> None:
        with self._lock:
            self._items[key] = week
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)


def _etag(agent_id: str, start: datetime, end: datetime,
          fingerprint: tuple[str, str]) -> str:
    text = f"{agent_id}|{start.isoformat()}|{end.isoformat()}|{fingerprint}"
    return '"' + hashlib.blake2b(text.encode(), digest_size=12).hexdigest() + '"'


def _visible(conn: sa.Connection, row: sa.Row, user_id: int, agent_id: str) -> bool:
    """Whether the signed-in user may see this agent (`permissions.agent_filter`'s rule)."""
    role = Role(row.role)
    if role == Role.ADMIN:
        return True
    if role == Role.AGENT:
        return row.user_agent_id == agent_id
    if role == Role.TEAM_LEADER:
        return row.team_id is not None and row.team_id == row.user_team_id
    clients = frozenset(conn.scalars(sa.select(PlannerClient.client_id).where(
        PlannerClient.user_id == user_id))) if role == Role.PLANNER else frozenset()
    p = Principal(user_id=user_id, username="", role=role, agent_id=row.user_agent_id,
                  team_id=row.user_team_id, client_ids=clients)
    return conn.scalar(sa.select(Agent.id).where(Agent.id == agent_id,
                                                 agent_filter(p, Agent.id))) is not None


def agent_week(engine: sa.Engine, cache: WeekCache, user_id: int, agent_id: str,
               start: datetime | None, end: datetime | None,
               if_none_match: str | None) -> Answer:
    """The answer to ``GET /api/agents/{agent_id}/schedule`` for the signed-in `user_id`
    (once more on a fresh connection when the database had dropped the pooled one)."""
    try:
        return _agent_week(engine, cache, user_id, agent_id, start, end, if_none_match)
    except sa.exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        return _agent_week(engine, cache, user_id, agent_id, start, end, if_none_match)


def _agent_week(engine: sa.Engine, cache: WeekCache, user_id: int, agent_id: str,
                start: datetime | None, end: datetime | None,
                if_none_match: str | None) -> Answer:
    with engine.connect() as conn:
        if start is None and end is None:
            latest = conn.execute(LATEST).first()
            if latest is not None:
                start, end = latest.period_start, latest.period_end
        default = start is None and end is None
        start = start if start is not None else EPOCH
        end = end if end is not None else END_OF_TIME
        row = conn.execute(CHECK, {"user": user_id, "agent": agent_id, "start": start,
                                   "end": end}).first()
        if row is None or not row.active:
            return Answer(401, detail="unknown or disabled user")
        if Role(row.role) not in POLICY[("agent_schedule", "read")]:
            return Answer(403, detail=f"role {row.role} may not read agent_schedule")
        if row.agent_id is None or not _visible(conn, row, user_id, agent_id):
            return Answer(404, detail=f"no agent {agent_id!r}")
        fingerprint = (str(row.published), str(row.tz))
        key = (agent_id, start, end)
        week = cache.get(key)
        if week is not None and week.fingerprint == fingerprint:
            cache.hits += 1
        else:
            cache.misses += 1
            if default:  # nothing published yet: an empty answer at the epoch
                start = end = EPOCH
                segs: list[sa.Row] = []
            else:
                segs = list(conn.execute(SEGMENTS, {"agent": agent_id, "start": start,
                                                    "end": end}))
            out = AgentScheduleOut(
                agent_id=agent_id, tz=row.tz,
                schedule_id=segs[0].schedule_id if segs else None,
                version=segs[0].number if segs else None, start=start, end=end,
                segments=[SegmentOut(agent_id=agent_id, activity=s.activity, start=s.start,
                                     end=s.end, queue_id=s.queue_id) for s in segs])
            week = Week(fingerprint, _etag(agent_id, start, end, fingerprint),
                        out.model_dump_json().encode())
            cache.put(key, week)
    if if_none_match is not None and week.etag in {t.strip().removeprefix("W/")
                                                   for t in if_none_match.split(",")}:
        return Answer(304, etag=week.etag)
    return Answer(200, etag=week.etag, body=week.body)


PREFIX, SUFFIX = "/api/agents/", "/schedule"


def _instant(values: list[str]) -> datetime | bool | None:
    """A query value as a UTC instant (naive: UTC); None when absent; False when it is not
    a plain ISO 8601 date-time (FastAPI's route then parses it or names the error)."""
    if not values:
        return None
    if len(values) > 1:
        return False
    try:
        t = datetime.fromisoformat(values[0])
    except ValueError:
        return False
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


class AgentWeekFastPath:
    """ASGI middleware in front of the FastAPI routes: a well-formed
    ``GET /api/agents/{id}/schedule`` with a valid bearer token is answered here with
    `agent_week` (the route's own function), without FastAPI's routing and dependency
    resolution, which cost more than the answer itself. Only 200 and 304 answers are given
    here; anything else (no or bad token, malformed or extra query parameters, 401/403/404)
    goes on to the documented route, which gives the same answer with its error message."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(PREFIX) and path.endswith(SUFFIX):
                ans = self._answer(scope, path[len(PREFIX):-len(SUFFIX)])
                if ans is not None:
                    headers = [(b"etag", ans.etag.encode()),
                               (b"cache-control", b"private, no-cache")]
                    if ans.status == 200:
                        headers += [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(ans.body)).encode())]
                    await send({"type": "http.response.start", "status": ans.status,
                                "headers": headers})
                    await send({"type": "http.response.body", "body": ans.body})
                    return
        await self.app(scope, receive, send)

    def _answer(self, scope: Any, agent_id: str) -> Answer | None:
        if not agent_id or "/" in agent_id or len(agent_id) > 100:
            return None
        token = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer":
                    return None
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        if not token:
            return None
        state = scope["app"].state
        claims = read_token(state.signing_key, token)
        if claims is None:
            return None
        query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if set(query) - {"start", "end"}:
            return None
        start, end = _instant(query.get("start", [])), _instant(query.get("end", []))
        if start is False or end is False:
            return None
        if start is not None and end is not None and end <= start:  # type: ignore[operator]
            return None
        ans = agent_week(state.db.fast_engine, state.week_cache, claims.user_id,
                         unquote(agent_id), start, end, if_none_match)  # type: ignore[arg-type]
        return ans if ans.status in (200, 304) else None
