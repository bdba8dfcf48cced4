"""The live queue state the ACD reports: per queue and instant, the contacts waiting now,
how long the oldest has waited (when the ACD gives it) and the contacts in service
(docs/rta.md, "Queue state"). The intraday view starts its simulation of the rest of the
day from the newest report (docs/intraday.md).

One row per (queue, instant): a report of an instant already stored **replaces** it (a
retry is harmless), and the newest report at or before an instant is the queue's state
then ("latest wins"). When a queue reports, its reports more than `KEEP_DAYS` days older are
deleted (the view reads only the last minutes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.errors import InputError
from openwfm.server.db import UpsertCount, upsert_by_queue
from openwfm.server.models import Queue, QueueState
from openwfm.server.permissions import Principal, queue_filter

__all__ = ["KEEP_DAYS", "MAX_AHEAD_S", "QueueStateReport", "check_states",
           "latest_states", "store_states"]

MAX_AHEAD_S = 300.0
"""A report dated more than this many seconds after the server's clock is refused."""
KEEP_DAYS = 2
"""Reports older than this are deleted when their queue reports again."""


@dataclass(frozen=True)
class QueueStateReport:
    """One queue at one instant: ``waiting`` contacts in queue, the longest wait among them
    (``oldest_wait_s``, None when the ACD does not give it) and ``in_service`` contacts
    being handled (None when not given)."""

    queue_id: str
    at: datetime
    waiting: int
    oldest_wait_s: float | None = None
    in_service: int | None = None


def check_states(session: Session, p: Principal, items: Sequence[QueueStateReport], *,
                 now: datetime) -> None:
    """Validate a batch: `InputError` with ``row`` = the item's index and ``column`` its
    field: a queue `p` may not write (or unknown), an instant more than `MAX_AHEAD_S` ahead,
    an oldest wait with nobody waiting, the same queue and instant twice."""
    wanted = sorted({a.queue_id for a in items})
    known = set(session.scalars(sa.select(Queue.id).where(
        Queue.id.in_(wanted), queue_filter(p, Queue.id))))
    seen: dict[tuple[str, datetime], int] = {}
    for i, a in enumerate(items):
        def bad(field: str, msg: str, i: int = i) -> InputError:
            return InputError(msg, row=i, column=field)

        if a.queue_id not in known:
            raise bad("queue_id", f"no queue {a.queue_id!r}")
        if (a.at - now).total_seconds() > MAX_AHEAD_S:
            raise bad("at", f"{a.at.isoformat()} is after the server's clock "
                            f"({now.isoformat()})")
        if a.waiting == 0 and a.oldest_wait_s:
            raise bad("oldest_wait_s", f"oldest_wait_s is {a.oldest_wait_s:g} s but no "
                                       "contact is waiting (waiting = 0)")
        key = (a.queue_id, a.at.astimezone(UTC))
        if key in seen:
            raise bad("at", f"queue {a.queue_id!r} at {a.at.isoformat()} is also item "
                            f"{seen[key]}")
        seen[key] = i


def store_states(session: Session, items: Sequence[QueueStateReport], *,
                 now: datetime) -> UpsertCount:
    """Insert or replace the reports of `items` (validated) in the caller's transaction and
    prune each reporting queue's reports more than `KEEP_DAYS` days older than its newest
    one in the batch."""
    rows = [{"queue_id": a.queue_id, "at": a.at.astimezone(UTC), "waiting": a.waiting,
             "oldest_wait_s": a.oldest_wait_s, "in_service": a.in_service,
             "received_at": now} for a in items]
    result = upsert_by_queue(session, QueueState, "at", rows,
                             ("waiting", "oldest_wait_s", "in_service", "received_at"))
    newest: dict[str, datetime] = {}
    for a in items:
        t = a.at.astimezone(UTC)
        newest[a.queue_id] = max(newest.get(a.queue_id, t), t)
    for q, t in sorted(newest.items()):
        session.execute(sa.delete(QueueState).where(
            QueueState.queue_id == q, QueueState.at < t - timedelta(days=KEEP_DAYS)))
    return result


def latest_states(session: Session, queue_ids: Sequence[str], at: datetime, *,
                  max_age_s: float | None = None) -> dict[str, QueueState]:
    """Per queue, the newest report at or before `at` (and, with `max_age_s`, not older
    than that); queues without one are left out."""
    if not queue_ids:
        return {}
    newest = (sa.select(QueueState.queue_id, sa.func.max(QueueState.at).label("at"))
              .where(QueueState.queue_id.in_(list(queue_ids)), QueueState.at <= at)
              .group_by(QueueState.queue_id))
    if max_age_s is not None:
        newest = newest.where(QueueState.at >= at - timedelta(seconds=max_age_s))
    sub = newest.subquery()
    rows = session.scalars(sa.select(QueueState).join(
        sub, sa.and_(QueueState.queue_id == sub.c.queue_id, QueueState.at == sub.c.at)))
    return {r.queue_id: r for r in rows}
