"""The schedule as timeline rows: each agent's segments grouped into shifts and placed on
the period as percentages (rendered as HTML by the server: no client-side layout)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Part:
    """One segment inside a shift box, in % of the shift's width."""

    activity: str
    left_pct: float
    width_pct: float
    start: datetime
    end: datetime
    queue_id: str | None


@dataclass(frozen=True)
class ShiftBox:
    """A shift (an agent's contiguous segments) in % of the period's width."""

    start: datetime
    end: datetime
    left_pct: float
    width_pct: float
    parts: tuple[Part, ...]


ACTIVITY_COLOURS = {"work": "--work", "break": "--break", "meal": "--meal"}


def gradient(parts: Sequence[Part]) -> str:
    """The shift's segments as one CSS gradient (one element per shift, not per segment).

    >>> from datetime import UTC
    >>> t = datetime(2026, 3, 30, tzinfo=UTC)
    >>> gradient([Part("work", 0, 50, t, t, None), Part("break", 50, 50, t, t, None)])
    'linear-gradient(to right,var(--work) 0.0% 50.0%,var(--break) 50.0% 100.0%)'
    """
    stops = ",".join(f"var({ACTIVITY_COLOURS.get(g.activity, '--other')}) "
                     f"{g.left_pct:.1f}% {g.left_pct + g.width_pct:.1f}%" for g in parts)
    return f"linear-gradient(to right,{stops})"


@dataclass(frozen=True)
class Row:
    agent_id: str
    name: str
    site: str
    tz: str
    shifts: tuple[ShiftBox, ...]


@dataclass(frozen=True)
class SegmentRow:
    agent_id: str
    activity: str
    start: datetime
    end: datetime
    queue_id: str | None


def group_shifts(segments: Sequence[SegmentRow]) -> list[list[SegmentRow]]:
    """An agent's segments (sorted by start) grouped into shifts: a segment starting where
    the previous one ends belongs to the same shift.

    >>> from datetime import UTC
    >>> t = lambda h: datetime(2026, 3, 30, h, tzinfo=UTC)
    >>> s = [SegmentRow("a", "work", t(8), t(10), None),
    ...      SegmentRow("a", "break", t(10), t(11), None),
    ...      SegmentRow("a", "work", t(12), t(14), None)]
    >>> [len(g) for g in group_shifts(s)]
    [2, 1]
    """
    out: list[list[SegmentRow]] = []
    for s in segments:
        if out and out[-1][-1].end == s.start:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def place(segments: Iterable[SegmentRow], period: tuple[datetime, datetime]
          ) -> tuple[ShiftBox, ...]:
    """The shift boxes of one agent's segments on `period` (clipped to it)."""
    p0, p1 = period
    span = (p1 - p0).total_seconds()
    boxes = []
    for shift in group_shifts(sorted(segments, key=lambda s: s.start)):
        s0, s1 = max(shift[0].start, p0), min(shift[-1].end, p1)
        if s1 <= s0:
            continue
        width = (s1 - s0).total_seconds()
        parts = tuple(
            Part(g.activity, 100 * (max(g.start, s0) - s0).total_seconds() / width,
                 100 * (min(g.end, s1) - max(g.start, s0)).total_seconds() / width,
                 g.start, g.end, g.queue_id)
            for g in shift if min(g.end, s1) > max(g.start, s0))
        boxes.append(ShiftBox(shift[0].start, shift[-1].end,
                              100 * (s0 - p0).total_seconds() / span, 100 * width / span,
                              parts))
    return tuple(boxes)


@dataclass(frozen=True)
class DayMark:
    """A local midnight inside the period: where a day column starts (in %)."""

    day: datetime
    left_pct: float


def day_marks(period: tuple[datetime, datetime], tz: str) -> list[DayMark]:
    """Local midnights of `tz` from the period's start (the first day starts at the period's
    start when that is not a midnight); exact on DST changes.

    >>> from datetime import UTC
    >>> m = day_marks((datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 4, 6, tzinfo=UTC)), "UTC")
    >>> len(m), m[1].left_pct == 100 / 7
    (7, True)
    """
    zone = ZoneInfo(tz)
    p0, p1 = period
    span = (p1 - p0).total_seconds()
    local = p0.astimezone(zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    marks = []
    while True:
        start = max(day.astimezone(p0.tzinfo), p0)
        if start >= p1:
            break
        marks.append(DayMark(day, 100 * (start - p0).total_seconds() / span))
        day = (day + timedelta(days=1, hours=3)).replace(hour=0, tzinfo=zone)
    return marks
