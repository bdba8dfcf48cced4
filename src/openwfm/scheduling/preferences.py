"""Agent preferences: soft wishes the scheduler meets when they cost less than their weight.

A preferences CSV (``[scheduling] preferences = "preferences.csv"`` or ``openwfm schedule
--preferences``) has columns ``agent_id, kind, value`` and optionally ``weight`` (a number
>= 0, default 1). Kinds:

``day_off``
    ``value`` is an ISO date of a local plan day (``2026-04-01``) or a weekday name
    (``wednesday`` or ``wed``: every plan day on that weekday). Violated once per shift
    starting on such a local day.
``start_between``
    ``value`` is ``HH:MM-HH:MM`` local time of the agent's site, both ends included
    (``22:00-02:00`` wraps midnight): the agent prefers shifts starting in it (a student:
    ``14:00-23:30``). Violated once per shift starting outside it.
``max_nights``
    ``value`` is an integer >= 0: at most that many night shifts (at least 2 h in the
    site's night window, as in the fairness term). Violated once per night shift beyond it.

Stage 2 adds ``weight x preference_cost`` per violation to the CP-SAT objective
(`openwfm.scheduling.assign.soft_preferences`); ``preference_cost`` (``[scheduling]``,
default 1.0) is in units of one shift-hour moved away from the stage-1 plan, so a weight-1
preference is met whenever it costs no coverage (a swap between interchangeable agents)
and a hard rule always wins over it. A preference is *met* when it has no violation; the
report (`openwfm.scheduling.preference_costs.preference_report`, ``preferences.csv``) is
computed from the schedule's segments; what a preference costs in a problem (per shift type)
is `openwfm.scheduling.preference_costs.shift_penalties`.

Examples
--------
>>> p = parse_preference("a1", "start_between", "22:00-02:00", "2", file="p.csv", row=1)
>>> p.weight, p.window, p.start_ok(23 * 60), p.start_ok(8 * 60)
(2.0, (1320, 120), True, False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from enum import StrEnum
from pathlib import Path

from openwfm.errors import InputError
from openwfm.io.records import csv_records
from openwfm.scenario import Scenario

NIGHT_SHIFT_MIN = 120
"""A shift with at least this many minutes in the night window is a night shift."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REPORT_COLUMNS = ["agent_id", "kind", "value", "weight", "met", "violations", "penalty"]


class PreferenceKind(StrEnum):
    """What an agent prefers (see the module docstring)."""

    DAY_OFF = "day_off"
    START_BETWEEN = "start_between"
    MAX_NIGHTS = "max_nights"


@dataclass(frozen=True)
class Preference:
    """One preference row; exactly one of `on_date`/`weekday`, `window`, `max_nights` is
    set, according to `kind`."""

    agent_id: str
    kind: PreferenceKind
    value: str
    weight: float = 1.0
    on_date: date | None = None
    weekday: int | None = None
    """Monday = 0."""
    window: tuple[int, int] | None = None
    """Local start window ``(lo, hi)`` in minutes after midnight, inclusive; lo > hi wraps."""
    max_nights: int | None = None
    file: str = "<preferences>"
    row: int = 0
    week_start: date | None = None
    """Set: the wish holds only in the plan week containing this day (a wish an agent
    entered for one week, `openwfm.server.availability`); None: in every week of the plan."""

    def in_week(self, start: date) -> bool:
        """Whether the wish applies to the plan week from `start` (7 days).

        Examples
        --------
        >>> p = parse_preference("a1", "max_nights", "0", None, file="p.csv", row=1)
        >>> p.in_week(date(2026, 4, 6)), replace(p, week_start=date(2026, 3, 30)).in_week(
        ...     date(2026, 4, 6))
        (True, False)
        """
        end = start + timedelta(days=7)
        return ((self.on_date is None or start <= self.on_date < end)
                and (self.week_start is None or start <= self.week_start < end))

    def plan_days(self, plan_start: date, days: int) -> tuple[int, ...]:
        """Plan day indices a ``day_off`` preference names (empty for other kinds)."""
        if self.on_date is not None:
            return ((self.on_date - plan_start).days,)
        if self.weekday is not None:
            return tuple(d for d in range(days)
                         if (plan_start + timedelta(days=d)).weekday() == self.weekday)
        return ()

    def start_ok(self, local_minute: int) -> bool:
        """Whether a shift starting at `local_minute` (after local midnight) is in the window."""
        if self.window is None:
            return True
        lo, hi = self.window
        return lo <= local_minute <= hi if lo <= hi else (local_minute >= lo
                                                         or local_minute <= hi)


def parse_preference(agent_id: str, kind: str, value: str, weight: str | None, *,
                     file: str, row: int) -> Preference:
    """Parse one row (strings as in the CSV); `InputError` names the row and column."""
    try:
        k = PreferenceKind(kind.strip().lower())
    except ValueError as exc:
        raise InputError(f"unknown kind {kind!r}; expected one of "
                         f"{', '.join(x.value for x in PreferenceKind)}", file=file, row=row,
                         column="kind") from exc
    w = 1.0
    if weight is not None and weight.strip():
        try:
            w = float(weight)
        except ValueError:
            w = -1.0
        if not math.isfinite(w) or w < 0:
            raise InputError(f"expected a number >= 0, got {weight!r}", file=file, row=row,
                             column="weight")
    v = value.strip()
    base = Preference(agent_id, k, v, w, file=file, row=row)
    if k is PreferenceKind.DAY_OFF:
        name = v.lower()
        hit = [i for i, d in enumerate(WEEKDAYS) if name in (d, d[:3])]
        if hit:
            return replace(base, weekday=hit[0])
        try:
            return replace(base, on_date=date.fromisoformat(v))
        except ValueError as exc:
            raise InputError(f"expected an ISO date (2026-04-01) or a weekday name, got {v!r}",
                             file=file, row=row, column="value") from exc
    if k is PreferenceKind.START_BETWEEN:
        try:
            a, b = (time.fromisoformat(x.strip()) for x in v.split("-"))
        except ValueError as exc:
            raise InputError(f"expected HH:MM-HH:MM (local), got {v!r}", file=file, row=row,
                             column="value") from exc
        return replace(base, window=(a.hour * 60 + a.minute, b.hour * 60 + b.minute))
    try:
        n = int(v)
    except ValueError:
        n = -1
    if n < 0:
        raise InputError(f"expected an integer >= 0 (night shifts), got {v!r}", file=file,
                         row=row, column="value")
    return replace(base, max_nights=n)


def read_preferences(path: Path) -> tuple[Preference, ...]:
    """Read and validate a preferences CSV (columns in the module docstring)."""
    file = str(path)
    return tuple(parse_preference(rec["agent_id"].strip(), rec["kind"], rec["value"],
                                  rec.get("weight"), file=file, row=row)
                 for row, rec in csv_records(path, ("agent_id", "kind", "value"),
                                             what="preferences",
                                             expected="agent_id, kind, value[, weight]"))


def validate_preferences(prefs: tuple[Preference, ...], scenario: Scenario) -> None:
    """`InputError` for an unknown agent or a ``day_off`` date outside the plan."""
    ids = {a.id for a in scenario.agents}
    for p in prefs:
        if p.agent_id not in ids:
            raise InputError(f"unknown agent {p.agent_id!r}; expected an agent of the "
                             "scenario", file=p.file, row=p.row, column="agent_id")
    check_preference_dates(prefs, scenario.plan_start, scenario.plan_days)


def check_preference_dates(prefs: tuple[Preference, ...], plan_start: date,
                           plan_days: int) -> None:
    """`InputError` for a ``day_off`` date outside the plan ``plan_start`` + `plan_days`.

    Examples
    --------
    >>> p = parse_preference("a1", "day_off", "2026-04-09", None, file="p.csv", row=3)
    >>> try:
    ...     check_preference_dates((p,), date(2026, 3, 30), 7)
    ... except InputError as e:
    ...     print(e.location.column, e.message)
    value date 2026-04-09 is outside the plan (2026-03-30 to 2026-04-05)
    """
    end = plan_start + timedelta(days=plan_days - 1)
    for p in prefs:
        if p.on_date is not None and not plan_start <= p.on_date <= end:
            raise InputError(f"date {p.on_date} is outside the plan ({plan_start} "
                             f"to {end})", file=p.file, row=p.row, column="value")
