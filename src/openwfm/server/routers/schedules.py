"""Schedules: a draft edited under optimistic concurrency, and published versions.

Every schedule has one draft, revision ``draft_rev``, sent as the ``ETag``. An edit or a
publish must send ``If-Match: "<draft_rev>"``; the first writer moves the revision on, the
second (stale) writer gets 409 and loses nothing: it reloads and retries. Publishing copies
the draft into a new version and points the schedule at it in ONE transaction, so readers
(and a server killed mid-publish) see either the old or the new version, never a mix.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from sqlalchemy.orm import Session

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Agent, Queue, Schedule, ScheduleVersion, Segment
from openwfm.server.permissions import Principal, agent_filter, not_found, require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id, get_visible
from openwfm.server.schemas import (
    AgentDraftIn,
    ScheduleIn,
    ScheduleOut,
    SegmentIn,
    SegmentOut,
    VersionOut,
)

router = APIRouter(prefix="/api/schedules", tags=["schedules"])

CONCURRENCY_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    412: {"description": "If-Match is not a draft revision"},
    422: {"description": "Invalid segment (field and index named)"},
    428: {"description": "If-Match header required"},
}

def _out(session: Session, sched: Schedule) -> ScheduleOut:
    versions = session.scalars(sa.select(ScheduleVersion).where(
        ScheduleVersion.schedule_id == sched.id).order_by(ScheduleVersion.number))
    out = ScheduleOut.model_validate(sched)
    out.versions = [VersionOut.model_validate(v) for v in versions]
    return out

def _etag(rev: int) -> str:
    return f'"{rev}"'

def _if_match(value: str | None) -> int:
    if value is None:
        raise HTTPException(status.HTTP_428_PRECONDITION_REQUIRED,
                            "send If-Match with the draft revision (the ETag of GET)")
    text = value.strip().removeprefix("W/").strip('"')
    try:
        rev = int(text)
    except ValueError:
        rev = -1
    if not 0 <= rev <= 2_147_483_647:  # what every database stores
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED,
                            f"If-Match {value[:60]!r} is not a draft revision")
    return rev

def _get(session: Session, schedule_id: int) -> Schedule:
    return get_visible(session, Schedule, schedule_id)

def _bad(index: int, field: str, msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": ["body", "segments", index, field], "msg": msg,
                           "type": "value_error"}])

def check_segments(session: Session, p: Principal, segments: list[SegmentIn],
                   period: tuple[datetime, datetime]) -> None:
    """Each segment: a visible agent, a known queue, ``start < end`` inside the period, and
    no overlap with the same agent's other segments (422 naming the segment and field)."""
    agent_ids = sorted({s.agent_id for s in segments})
    visible = set(session.scalars(sa.select(Agent.id).where(
        Agent.id.in_(agent_ids), agent_filter(p, Agent.id))))
    queue_ids = sorted({s.queue_id for s in segments if s.queue_id is not None})
    known_queues = set(session.scalars(sa.select(Queue.id).where(Queue.id.in_(queue_ids))))
    by_agent: dict[str, list[tuple[datetime, datetime, int]]] = {}
    for i, s in enumerate(segments):
        if s.agent_id not in visible:
            raise _bad(i, "agent_id", f"no agent {s.agent_id!r}")
        if s.queue_id is not None and s.queue_id not in known_queues:
            raise _bad(i, "queue_id", f"no queue {s.queue_id!r}")
        if s.end <= s.start:
            raise _bad(i, "end", "end must be after start")
        if s.start < period[0] or s.end > period[1]:
            raise _bad(i, "start", f"segment outside the schedule period "
                                   f"{period[0].isoformat()} .. {period[1].isoformat()}")
        by_agent.setdefault(s.agent_id, []).append((s.start, s.end, i))
    for items in by_agent.values():
        items.sort()
        for (_, e0, _), (s1, _, i1) in itertools.pairwise(items):
            if s1 < e0:
                raise _bad(i1, "start", "overlaps another segment of the same agent")

def _rows(schedule_id: int, segments: list[SegmentIn]) -> list[dict[str, Any]]:
    return [{"schedule_id": schedule_id, "version_id": None, "agent_id": s.agent_id,
             "activity": str(s.activity), "start": s.start.astimezone(UTC),
             "end": s.end.astimezone(UTC),
             "queue_id": s.queue_id} for s in segments]

@router.get("", response_model=list[ScheduleOut], responses=AUTH_ERRORS)
async def list_schedules(p: CurrentUser, session: ReadDB) -> list[ScheduleOut]:
    require(p, "schedule", "read")
    scheds = session.scalars(sa.select(Schedule).order_by(Schedule.id))
    return [_out(session, s) for s in scheds]

@router.post("", response_model=ScheduleOut, status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 422: {"description": "Invalid segment"}})
def create_schedule(body: ScheduleIn, p: CurrentUser, session: WriteDB,
                    response: Response) -> ScheduleOut:
    """A new schedule whose draft holds `segments` (e.g. from `openwfm schedule`)."""
    require(p, "schedule", "write")
    if body.period_end <= body.period_start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body", "period_end"], "msg": "must be after period_start",
                              "type": "value_error"}])
    period = (body.period_start.astimezone(UTC), body.period_end.astimezone(UTC))
    check_segments(session, p, body.segments, period)
    sched = Schedule(name=body.name, period_start=period[0], period_end=period[1], draft_rev=1)
    session.add(sched)
    session.flush()
    if body.segments:
        session.execute(sa.insert(Segment), _rows(sched.id, body.segments))
    audit.record(session, acting_user(session, p), "create", "schedule", sched.id,
                 after={**audit.snapshot(sched), "segments": len(body.segments)})
    response.headers["ETag"] = _etag(sched.draft_rev)
    return _out(session, sched)

@router.get("/{schedule_id}", response_model=ScheduleOut, responses=AUTH_ERRORS)
async def get_schedule(schedule_id: Id, p: CurrentUser, session: ReadDB,
                 response: Response) -> ScheduleOut:
    """The schedule with its versions; ``ETag`` is the draft revision to send back."""
    require(p, "schedule", "read")
    sched = _get(session, schedule_id)
    response.headers["ETag"] = _etag(sched.draft_rev)
    return _out(session, sched)

@router.get("/{schedule_id}/segments", response_model=list[SegmentOut], responses=AUTH_ERRORS)
async def schedule_segments(
    schedule_id: Id, p: CurrentUser, session: ReadDB,
    version: Annotated[str, Query(pattern=r"^(draft|published|[0-9]{1,9})$",
                                  description="draft, published, or a version number")]
    = "published",
    agent_id: Annotated[str | None, Query(max_length=100)] = None,
) -> list[Segment]:
    """Segments of the draft, of the published version or of version N (a team leader:
    their team's agents only)."""
    require(p, "schedule", "read")
    sched = _get(session, schedule_id)
    stmt = sa.select(Segment).where(Segment.schedule_id == schedule_id,
                                    agent_filter(p, Segment.agent_id))
    if version == "draft":
        stmt = stmt.where(Segment.version_id.is_(None))
    else:
        if version == "published":
            version_id = sched.published_version_id
        else:
            version_id = session.scalar(sa.select(ScheduleVersion.id).where(
                ScheduleVersion.schedule_id == schedule_id,
                ScheduleVersion.number == int(version)))
        if version_id is None:
            raise not_found("schedule version", f"{schedule_id}/{version}")
        stmt = stmt.where(Segment.version_id == version_id)
    if agent_id is not None:
        stmt = stmt.where(Segment.agent_id == agent_id)
    return list(session.scalars(stmt.order_by(Segment.agent_id, Segment.start)))

def _claim(session: Session, sched: Schedule, rev: int, *, bump: bool) -> None:
    """Move the draft on from revision `rev` (compare-and-set); 409 when someone else did."""
    values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
    if bump:
        values["draft_rev"] = Schedule.draft_rev + 1
    done = session.execute(sa.update(Schedule).where(
        Schedule.id == sched.id, Schedule.draft_rev == rev).values(**values)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(sched)
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"the draft changed: you sent revision {rev}, it is now "
                            f"{sched.draft_rev}; reload and retry")
    session.refresh(sched)

@router.put("/{schedule_id}/draft/agents/{agent_id}", response_model=ScheduleOut,
            responses=CONCURRENCY_ERRORS)
def edit_draft(schedule_id: Id, agent_id: str, body: AgentDraftIn, p: CurrentUser,
               session: WriteDB, response: Response,
               if_match: Annotated[str | None, Header()] = None) -> ScheduleOut:
    """Replace one agent's draft segments (audited with before/after). Requires
    ``If-Match`` = the draft revision; a stale revision answers 409."""
    require(p, "schedule", "write")
    rev = _if_match(if_match)
    sched = _get(session, schedule_id)
    if session.scalar(sa.select(Agent.id).where(Agent.id == agent_id,
                                                agent_filter(p, Agent.id))) is None:
        raise not_found("agent", agent_id)
    for i, s in enumerate(body.segments):
        if s.agent_id != agent_id:
            raise _bad(i, "agent_id", f"segment of {s.agent_id!r} in {agent_id!r}'s draft")
    check_segments(session, p, body.segments, (sched.period_start, sched.period_end))
    _claim(session, sched, rev, bump=True)
    old = session.scalars(sa.select(Segment).where(
        Segment.schedule_id == schedule_id, Segment.version_id.is_(None),
        Segment.agent_id == agent_id).order_by(Segment.start)).all()
    before = [SegmentOut.model_validate(s).model_dump(mode="json") for s in old]
    session.execute(sa.delete(Segment).where(
        Segment.schedule_id == schedule_id, Segment.version_id.is_(None),
        Segment.agent_id == agent_id))
    if body.segments:
        session.execute(sa.insert(Segment), _rows(schedule_id, body.segments))
    audit.record(session, acting_user(session, p), "edit_draft", "schedule",
                 f"{schedule_id}/{agent_id}", before={"draft_rev": rev, "segments": before},
                 after={"draft_rev": sched.draft_rev,
                        "segments": [s.model_dump(mode="json") for s in body.segments]})
    out = _out(session, sched)
    session.commit()  # end the transaction (and its locks) in this thread, not at exit
    response.headers["ETag"] = _etag(sched.draft_rev)
    return out


def publish_draft(session: Session, sched: Schedule, user_id: int | None,
                  pause_s: float = 0.0) -> ScheduleVersion:
    """Copy the draft into a new published version and point `sched` at it (the caller's
    transaction makes it all or nothing)."""
    number = (session.scalar(sa.select(sa.func.max(ScheduleVersion.number)).where(
        ScheduleVersion.schedule_id == sched.id)) or 0) + 1
    count = session.scalar(sa.select(sa.func.count()).select_from(Segment).where(
        Segment.schedule_id == sched.id, Segment.version_id.is_(None))) or 0
    version = ScheduleVersion(schedule_id=sched.id, number=number, draft_rev=sched.draft_rev,
                              segments=count, published_by=user_id,
                              published_at=datetime.now(UTC))
    session.add(version)
    session.flush()
    cols = ("schedule_id", "agent_id", "activity", "start", "end", "queue_id")
    src = sa.select(Segment.schedule_id, sa.literal(version.id).label("version_id"),
                    Segment.agent_id, Segment.activity, Segment.start, Segment.end,
                    Segment.queue_id).where(Segment.schedule_id == sched.id,
                                            Segment.version_id.is_(None))
    session.execute(sa.insert(Segment).from_select(
        [cols[0], "version_id", *cols[1:]], src))
    if pause_s > 0:  # fault injection for the crash test (OPENWFM_PUBLISH_PAUSE_S)
        session.flush()
        time.sleep(pause_s)
    sched.published_version_id = version.id
    session.flush()
    return version

@router.post("/{schedule_id}/publish", response_model=ScheduleOut,
             responses=CONCURRENCY_ERRORS)
def publish(schedule_id: Id, p: CurrentUser, session: WriteDB, request: Request,
            response: Response,
            if_match: Annotated[str | None, Header()] = None) -> ScheduleOut:
    """Publish the draft at revision ``If-Match`` as the next version, in one transaction
    (a stale revision answers 409)."""
    require(p, "schedule", "write")
    rev = _if_match(if_match)
    sched = _get(session, schedule_id)
    _claim(session, sched, rev, bump=False)
    before = sched.published_version_id
    version = publish_draft(session, sched, p.user_id,
                            request.app.state.settings.publish_pause_s)
    audit.record(session, acting_user(session, p), "publish", "schedule", schedule_id,
                 before={"published_version_id": before},
                 after={"published_version_id": version.id, "number": version.number,
                        "segments": version.segments, "draft_rev": rev})
    out = _out(session, sched)
    session.commit()  # end the transaction (and its locks) in this thread, not at exit
    response.headers["ETag"] = _etag(sched.draft_rev)
    return out

VersionSelector = Literal["draft", "published"]
