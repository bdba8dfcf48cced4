"""The previous week's end per agent, so labour rules hold across the plan's first boundary.

A history CSV (``[scheduling] history = "history.csv"`` or ``openwfm schedule --history``)
has one row per agent with columns:

``agent_id``
    An agent of the scenario (each at most once).
``last_shift_end``
    When the agent's last shift before the plan ended: an ISO datetime with an offset
    (``2026-03-29T23:00+01:00``) or without one, then local time in the agent's site zone
    (resolved with the zone's offset *at that instant*, so a DST or Ramadan change between
    the previous week and the plan is taken into account). At most one day after the plan
    starts (a night shift of the previous week may end inside the plan).
``consecutive_days_worked``
    Integer >= 0: local days in a row with a shift, ending on the last local day before the
    plan (0 when the agent was off that day).

Hard rules across the boundary (stage 2 and the checker):

- ``min_rest``: no shift starts before ``last_shift_end + min_rest_h``;
- ``max_consecutive_days``: a run of working days that starts in the previous week counts
  its carried-in days, so an agent with ``max_consecutive_days`` carried in is off on day 0.

``days_off`` and ``consecutive_days_off`` stay within the planned week.

Examples
--------
>>> import numpy as np
>>> longest_run(np.array([True, True, False, True]), carried=5)
7
>>> longest_run(np.array([False, True, True]), carried=5)
2
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from openwfm.errors import InputError
from openwfm.io.records import csv_records
from openwfm.scenario import Scenario
from openwfm.scheduling.rules import RulePack, days_ok, longest_run  # noqa: F401 (re-exported)

COLUMNS = ("agent_id", "last_shift_end", "consecutive_days_worked")


@dataclass(frozen=True)
class HistoryRecord:
    """One row of a history CSV, as read (time zone not yet resolved)."""

    agent_id: str
    last_shift_end: datetime
    """Aware, or naive = local time of the agent's site."""
    consecutive_days: int
    file: str
    row: int


@dataclass(frozen=True)
class AgentHistory:
    """An agent's previous week in the problem's time base."""

    last_end: int
    """End of the last shift before the plan, minutes from the problem's origin (<= 0
    unless a night shift ran past the plan start)."""
    consecutive_days: int
    """Working days in a row ending on the last local day before the plan."""


def read_history(path: Path) -> tuple[HistoryRecord, ...]:
    """Read and validate a history CSV (see the module docstring for the columns).

    Raises `InputError` naming the file, the 1-based data row and the column for a missing
    column or value, a time that is not ISO, a negative or non-integer day count, or an agent
    listed twice.
    """
    file = str(path)
    out: list[HistoryRecord] = []
    seen: dict[str, int] = {}
    for row, rec in csv_records(path, COLUMNS, what="history", expected=", ".join(COLUMNS)):
        aid = rec["agent_id"].strip()
        if aid in seen:
            raise InputError(f"agent {aid!r} listed twice (first in row {seen[aid]})",
                             file=file, row=row, column="agent_id")
        seen[aid] = row
        try:
            end = datetime.fromisoformat(rec["last_shift_end"].strip())
        except ValueError as exc:
            raise InputError("expected an ISO datetime like 2026-03-29T23:00 (local) "
                             f"or 2026-03-29T23:00+01:00, got "
                             f"{rec['last_shift_end']!r}", file=file, row=row,
                             column="last_shift_end") from exc
        raw = rec["consecutive_days_worked"].strip()
        try:
            days = int(raw)
        except ValueError:
            days = -1
        if days < 0:
            raise InputError(f"expected an integer >= 0, got {raw!r}", file=file,
                             row=row, column="consecutive_days_worked")
        out.append(HistoryRecord(aid, end, days, file, row))
    return tuple(out)


def resolve_history(records: tuple[HistoryRecord, ...], scenario: Scenario,
                    origin: pd.Timestamp) -> dict[str, AgentHistory]:
    """Agent id -> `AgentHistory` in minutes from `origin` (naive times in the site zone).

    Raises `InputError` (file, row, column) for an unknown agent, a last shift ending more
    than one day after the plan starts, or days worked in a row up to the day before the plan
    while the last shift ended before that day began.
    """
    by_id = {a.id: a for a in scenario.agents}
    out = {}
    for r in records:
        if r.agent_id not in by_id:
            raise InputError(f"unknown agent {r.agent_id!r}; expected an agent of the scenario",
                             file=r.file, row=r.row, column="agent_id")
        zone = scenario.site(by_id[r.agent_id].site).zone
        end = r.last_shift_end
        utc = pd.Timestamp(end if end.tzinfo else end.replace(tzinfo=zone)).tz_convert("UTC")
        minute = int((utc - origin).total_seconds() // 60)
        if minute > 24 * 60:
            raise InputError(f"last shift ends {utc} (UTC), more than one day after the plan "
                             f"starts ({origin}); expected the end of the previous week",
                             file=r.file, row=r.row, column="last_shift_end")
        eve = datetime.combine(scenario.plan_start - timedelta(days=1), time(0), tzinfo=zone)
        if r.consecutive_days > 0 and utc < pd.Timestamp(eve):
            raise InputError(f"{r.consecutive_days} days worked in a row up to {eve.date()}, "
                             f"but the last shift ended {utc} (UTC), before that day; expected "
                             "0 or a later last_shift_end", file=r.file, row=r.row,
                             column="consecutive_days_worked")
        out[r.agent_id] = AgentHistory(minute, r.consecutive_days)
    return out


@functools.lru_cache(maxsize=256)
def max_work_days(days: int, *, min_days_off: int, min_consecutive_days_off: int,
                  max_consecutive_days: int, carried: int = 0,
                  blocked: frozenset[int] = frozenset()) -> int:
    """Most working days in a plan of `days` local days under the day-level rules (days off,
    consecutive days off, max consecutive days with `carried` days carried in), with the
    days in `blocked` off. Exact: enumerates every work/off pattern (2**days)."""
    pats = (np.arange(2 ** days)[:, None] >> np.arange(days)[None, :]) & 1
    pats = pats.astype(bool)
    pack = RulePack("max_work_days", min_days_off=min_days_off,
                    min_consecutive_days_off=min_consecutive_days_off,
                    max_consecutive_days=max_consecutive_days)
    best = -1
    for w in pats:
        n = int(w.sum())
        if n <= best or any(w[d] for d in blocked) or not days_ok(w, pack, carried):
            continue
        best = n
    return max(best, 0)
