"""Queue actuals during the day: what the ACD reports per queue and interval (contacts
offered, handled, abandoned, AHT, answered within the threshold), stored as rows of the
interval history (`HistoryInterval`, the table the importers fill and the forecast learns
from), so a day's actuals are tomorrow's history (docs/rta.md, "Queue actuals").

A report of an interval already stored **replaces** it (the ACD reports an interval in
progress, then again when it is complete): one row per (queue, interval start), written
with ``INSERT ... ON CONFLICT DO UPDATE``. The reforecast (`openwfm.intraday.reforecast`)
uses only the intervals complete at ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.errors import InputError
from openwfm.server.db import UpsertCount, upsert_by_queue
from openwfm.server.models import HistoryInterval, PlanSetup, Queue
from openwfm.server.permissions import Principal, queue_filter

__all__ = ["QueueActual", "center_interval_s", "check_actuals",
           "day_bounds", "parse_day", "read_actuals", "store_actuals"]

DEFAULT_INTERVAL_S = 1800
MAX_AHEAD_S = 300.0
"""An interval starting more than this many seconds after the server's clock is refused."""
_VALUES = ("volume", "handled", "abandoned", "aht_s", "asa_s", "answered_within")


@dataclass(frozen=True)
class QueueActual:
    """One interval of one queue as reported (counts of contacts, durations in seconds).

    ``volume`` is the contacts offered (handled + abandoned, as in the interval table);
    ``answered_within`` those answered within the queue's ``answer_within_s``."""

    queue_id: str
    interval_start: datetime
    interval_s: int
    volume: float
    handled: float | None = None
    abandoned: float | None = None
    aht_s: float | None = None
    asa_s: float | None = None
    answered_within: float | None = None


def center_interval_s(session: Session) -> int:
    """The center's interval length (the newest plan set-up; 1800 without one)."""
    v = session.scalar(sa.select(PlanSetup.interval_s).order_by(PlanSetup.id.desc()).limit(1))
    return int(v) if v else DEFAULT_INTERVAL_S


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """UTC start and end of the local `day` in `tz` (23 or 25 hours on a clock change).

    >>> [t.isoformat() for t in day_bounds(date(2026, 3, 29), "Europe/Paris")]
    ['2026-03-28T23:00:00+00:00', '2026-03-29T22:00:00+00:00']
    """
    zone = ZoneInfo(tz)
    d0 = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
    d1 = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    return d0, d1


def _aligned(start: datetime, interval_s: int, tz: str) -> bool:
    """Whether `start` is an interval boundary of the queue's local clock."""
    local = start.astimezone(ZoneInfo(tz))
    since = local.hour * 3600 + local.minute * 60 + local.second
    return local.microsecond == 0 and since % interval_s == 0


def check_actuals(session: Session, p: Principal, items: Sequence[QueueActual], *,
                  now: datetime) -> None:
    """Validate a batch; `InputError` with ``row`` = the item's index and ``column`` its
    field: a queue `p` may not write (or unknown), an interval not on the queue's local
    grid or more than `MAX_AHEAD_S` ahead, counts that do not add up, a repeated interval."""
    wanted = sorted({a.queue_id for a in items})
    tz = dict(session.execute(sa.select(Queue.id, Queue.tz).where(
        Queue.id.in_(wanted), queue_filter(p, Queue.id))).all())
    seen: dict[tuple[str, datetime], int] = {}
    for i, a in enumerate(items):
        def bad(field: str, msg: str, i: int = i) -> InputError:
            return InputError(msg, row=i, column=field)

        if a.queue_id not in tz:
            raise bad("queue_id", f"no queue {a.queue_id!r}")
        if a.interval_s % 60 or 86_400 % a.interval_s:
            raise bad("interval_s", f"expected whole minutes dividing a day (900, 1800, "
                                    f"3600 ...), got {a.interval_s}")
        if not _aligned(a.interval_start, a.interval_s, tz[a.queue_id]):
            raise bad("interval_start", (
                f"{a.interval_start.isoformat()} is not an interval boundary of the queue's "
                f"clock ({tz[a.queue_id]}, every {a.interval_s // 60} min from local "
                "midnight)"))
        if (a.interval_start - now).total_seconds() > MAX_AHEAD_S:
            raise bad("interval_start", f"the interval starts after the server's clock "
                                        f"({now.isoformat()})")
        key = (a.queue_id, a.interval_start.astimezone(UTC))
        if key in seen:
            raise bad("interval_start", f"queue {a.queue_id!r} at "
                                        f"{a.interval_start.isoformat()} is also item "
                                        f"{seen[key]}")
        seen[key] = i
        parts = (a.handled or 0.0) + (a.abandoned or 0.0)
        if parts > a.volume + 1e-9:
            raise bad("volume", f"handled + abandoned = {parts:g} is more than the contacts "
                                f"offered ({a.volume:g})")
        if a.answered_within is not None:
            limit = a.handled if a.handled is not None else a.volume
            if a.answered_within > limit + 1e-9:
                raise bad("answered_within", f"{a.answered_within:g} answered within the "
                                             f"threshold is more than the {limit:g} "
                                             + ("handled" if a.handled is not None
                                                else "offered"))


def store_actuals(session: Session, items: Sequence[QueueActual]) -> UpsertCount:
    """Insert or replace the intervals of `items` (validated) in the caller's transaction."""
    rows = [{"queue_id": a.queue_id, "interval_start": a.interval_start.astimezone(UTC),
             "interval_s": a.interval_s, "import_id": None,
             **{c: getattr(a, c) for c in _VALUES}} for a in items]
    return upsert_by_queue(session, HistoryInterval, "interval_start", rows,
                           ("interval_s", *_VALUES, "import_id"))


def read_actuals(session: Session, queue_ids: Sequence[str], start: datetime,
                 end: datetime) -> list[HistoryInterval]:
    """The stored intervals of `queue_ids` starting in ``[start, end)``."""
    return list(session.scalars(sa.select(HistoryInterval).where(
        HistoryInterval.queue_id.in_(list(queue_ids)),
        HistoryInterval.interval_start >= start, HistoryInterval.interval_start < end)
        .order_by(HistoryInterval.queue_id, HistoryInterval.interval_start)))


def parse_day(text: str | None, tz: str, now: datetime) -> date:
    """`text` (YYYY-MM-DD) or today in `tz`."""
    if not text:
        return now.astimezone(ZoneInfo(tz)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD, got {text!r}", column="day") from None
