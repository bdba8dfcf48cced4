"""Queues (client x channel x language) and their interval history (service results)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query

from openwfm.server.deps import CurrentUser, ReadDB
from openwfm.server.models import HistoryInterval, Queue
from openwfm.server.permissions import queue_filter, require
from openwfm.server.routers.common import AUTH_ERRORS, get_visible
from openwfm.server.schemas import HistoryRowOut, QueueOut

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
    from datetime import UTC

    return t.replace(tzinfo=UTC) if t.tzinfo is None else t
