"""Queues (client x channel x language) and their interval history (service results).
Create, update, delete: admin, and planners for their own client companies; audited with
the queue before and after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import (
    AgentSkill,
    Client,
    ForecastInterval,
    ForecastOverride,
    HistoryInterval,
    Queue,
    RequirementInterval,
    Segment,
    Skill,
)
from openwfm.server.permissions import Principal, client_filter, queue_filter, require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, get_visible
from openwfm.server.schemas import HistoryRowOut, QueueIn, QueueOut, QueueUpdate

router = APIRouter(prefix="/api/queues", tags=["queues"])


@router.get("", response_model=list[QueueOut], responses=AUTH_ERRORS)
async def list_queues(p: CurrentUser, session: ReadDB) -> list[Queue]:
    """The queues this user may see (a client viewer: only their client's)."""
    require(p, "queue", "read")
    return list(session.scalars(sa.select(Queue).where(queue_filter(p, Queue.id))
                                .order_by(Queue.id)))


def visible_queue(session: ReadDB, p: CurrentUser, queue_id: str) -> Queue:
    return get_visible(session, Queue, queue_id, queue_filter(p, Queue.id))


@router.get("/{queue_id}", response_model=QueueOut, responses=AUTH_ERRORS)
async def get_queue(queue_id: str, p: CurrentUser, session: ReadDB) -> Queue:
    require(p, "queue", "read")
    return visible_queue(session, p, queue_id)


@router.get("/{queue_id}/history", response_model=list[HistoryRowOut], responses=AUTH_ERRORS)
async def queue_history(queue_id: str, p: CurrentUser, session: ReadDB,
                  start: Annotated[datetime | None, Query()] = None,
                  end: Annotated[datetime | None, Query()] = None,
                  limit: Annotated[int, Query(ge=1, le=50_000)] = 5000) -> list[HistoryInterval]:
    """The queue's interval history (volume, handle time, service results), UTC,
    ``start <= interval_start < end``."""
    require(p, "history", "read")
    visible_queue(session, p, queue_id)
    stmt = sa.select(HistoryInterval).where(HistoryInterval.queue_id == queue_id)
    if start is not None:
        stmt = stmt.where(HistoryInterval.interval_start >= _utc(start))
    if end is not None:
        stmt = stmt.where(HistoryInterval.interval_start < _utc(end))
    return list(session.scalars(stmt.order_by(HistoryInterval.interval_start).limit(limit)))


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS, 422: {"description": "Invalid field (named)"}}


def _client_for(session: WriteDB, p: Principal, client_id: int) -> None:
    if session.scalar(sa.select(Client.id).where(Client.id == client_id,
                                                 client_filter(p, Client.id))) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["body", "client_id"], "msg": f"no client {client_id}",
            "type": "value_error"}])


@router.post("", response_model=QueueOut, status_code=status.HTTP_201_CREATED,
             responses=BODY_ERRORS)
def create_queue(body: QueueIn, p: CurrentUser, session: WriteDB) -> Queue:  # type: ignore[valid-type]
    """Add a queue and its skill (same id) to a client company (admin; a planner: for the
    client companies assigned)."""
    require(p, "queue", "write")
    fields = body.model_dump(mode="json")  # type: ignore[attr-defined]
    _client_for(session, p, fields["client_id"])
    if session.get(Queue, fields["id"]) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"queue {fields['id']!r} exists")
    queue = Queue(**fields)
    session.add(queue)
    session.flush()
    session.add(Skill(id=queue.id, queue_id=queue.id))
    session.flush()
    audit.record(session, acting_user(session, p), "create", "queue", queue.id,
                 after=audit.snapshot(queue))
    return queue


QueueId = Annotated[str, Path(min_length=1, max_length=100)]


@router.patch("/{queue_id}", response_model=QueueOut, responses=BODY_ERRORS)
def update_queue(queue_id: QueueId, body: QueueUpdate, p: CurrentUser,  # type: ignore[valid-type]
                 session: WriteDB) -> Queue:
    """Change a queue's service goal, zone, channel ... (omitted fields stay as they are;
    ``null`` clears an optional cap)."""
    require(p, "queue", "write")
    queue = visible_queue(session, p, queue_id)
    before = audit.snapshot(queue)
    required = {"channel", "language", "market", "tz", "sl_target", "answer_within_s",
                "concurrency", "priority"}
    for key, value in body.model_dump(mode="json", exclude_unset=True).items():  # type: ignore[attr-defined]
        if value is None and key in required:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
                "loc": ["body", key], "msg": "may not be null", "type": "value_error"}])
        setattr(queue, key, value)
    session.flush()
    audit.record(session, acting_user(session, p), "update", "queue", queue.id, before,
                 audit.snapshot(queue))
    return queue


@router.delete("/{queue_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_queue(queue_id: QueueId, p: CurrentUser, session: WriteDB) -> Response:
    """Remove a queue and its skill while nothing refers to them (no history, forecast,
    requirement, schedule segment or agent skill: 409 naming what does)."""
    require(p, "queue", "write")
    queue = visible_queue(session, p, queue_id)
    skills = sa.select(Skill.id).where(Skill.queue_id == queue_id)
    for col, what in ((AgentSkill.skill_id.in_(skills), "agent skills"),
                      (HistoryInterval.queue_id == queue_id, "history rows"),
                      (ForecastInterval.queue_id == queue_id, "forecast rows"),
                      (ForecastOverride.queue_id == queue_id, "forecast overrides"),
                      (RequirementInterval.queue_id == queue_id, "requirement rows"),
                      (Segment.queue_id == queue_id, "schedule segments")):
        n = session.scalar(sa.select(sa.func.count()).where(col))
        if n:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"queue {queue_id!r} still has {n} {what}")
    before = audit.snapshot(queue)
    session.execute(sa.delete(Skill).where(Skill.queue_id == queue_id))
    session.delete(queue)
    session.flush()
    audit.record(session, acting_user(session, p), "delete", "queue", queue_id, before=before)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
