"""Local-time day grids, holidays per market, and user special days.

Contact volumes follow the wall clock of the customers, not UTC. The forecast therefore
works on a *local day grid*: a matrix of ``days x slots`` where row ``d`` is one local
calendar day of the queue's IANA zone and column ``s`` the interval that starts
``s * interval_s`` seconds after local midnight. A DST change or Morocco's Ramadan offset
change moves UTC times, not grid cells, so the learned daily shape does not shift:

* spring forward: the skipped local hour has no UTC interval (its cells stay empty);
* fall back: the repeated local hour maps two UTC intervals onto one cell, which holds their
  mean (a rate per interval), and both UTC intervals get that cell's forecast back.

Missing cells (gaps in history) are ``NaN``; every model is NaN-aware.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as _holidays
import numpy as np
import pandas as pd

from openwfm.errors import InputError

__all__ = [
    "CALENDAR_EFFECTS",
    "DayGrid",
    "SpecialDay",
    "day_features",
    "holiday_dates",
    "local_keys",
    "read_special_days",
    "to_day_grid",
]


@dataclass(frozen=True, eq=False)
class DayGrid:
    """Values of one queue on its local day grid.

    Attributes
    ----------
    days : numpy.ndarray
        ``datetime64[D]`` local calendar dates, consecutive, one per row.
    values : numpy.ndarray
        ``(len(days), slots)`` float matrix; ``NaN`` where nothing was observed.
    interval_s : int
        Interval length in seconds (``slots = 86400 // interval_s``).
    tz : str
        IANA zone of the local days.
    """

    days: np.ndarray
    values: np.ndarray
    interval_s: int
    tz: str

    @property
    def slots(self) -> int:
        """Intervals per local day."""
        return self.values.shape[1]

    @property
    def weekdays(self) -> np.ndarray:
        """Weekday of each row, Monday = 0."""
        return weekday_of(self.days)


def weekday_of(days: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 for ``datetime64[D]`` dates.

    Examples
    --------
    >>> weekday_of(np.array(["2026-03-30", "2026-04-05"], dtype="datetime64[D]")).tolist()
    [0, 6]
    """
    return ((days.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(np.int64)


def local_keys(
    times_utc: pd.DatetimeIndex | pd.Series, tz: str, interval_s: int
) -> tuple[np.ndarray, np.ndarray]:
    """Local calendar date and slot of each UTC interval start.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``datetime64[D]`` local dates and integer slots ``0 .. 86400 // interval_s - 1``.

    Examples
    --------
    Morocco is UTC+1 but UTC+0 during Ramadan (2026-02-15 .. 2026-03-22): 08:00 local is
    07:00 UTC before Ramadan and 08:00 UTC during it, the same slot both times.

    >>> t = pd.DatetimeIndex(["2026-02-10 07:00", "2026-03-01 08:00"], tz="UTC")
    >>> d, s = local_keys(t, "Africa/Casablanca", 1800)
    >>> d.astype(str).tolist(), s.tolist()
    (['2026-02-10', '2026-03-01'], [16, 16])
    """
    idx = pd.DatetimeIndex(times_utc).tz_convert(tz)
    # wall clock as naive numbers: days and seconds since local midnight
    naive = idx.tz_localize(None).to_numpy().astype("datetime64[s]").astype(np.int64)
    day = naive // 86400
    sec = naive - day * 86400
    return day.astype("datetime64[D]"), (sec // interval_s).astype(np.int64)


def to_day_grid(
    times_utc: pd.DatetimeIndex | pd.Series,
    values: np.ndarray,
    tz: str,
    interval_s: int,
    *,
    days: np.ndarray | None = None,
) -> DayGrid:
    """Put a UTC interval series onto the local day grid of `tz` (mean per cell).

    Parameters
    ----------
    times_utc : DatetimeIndex
        Interval starts (UTC).
    values : numpy.ndarray
        One value per interval; ``NaN`` is treated as missing.
    tz : str
        IANA zone of the local days.
    interval_s : int
        Interval length in seconds; must divide a day.
    days : numpy.ndarray, optional
        The ``datetime64[D]`` rows to use (default: first to last local date observed).

    Examples
    --------
    Europe/Paris springs forward on 2026-03-29: the day has 23 hours and the 02:00-03:00
    local slots stay empty; 09:00 local is still column 18.

    >>> t = pd.date_range("2026-03-28 23:00", "2026-03-29 21:30", freq="30min", tz="UTC")
    >>> g = to_day_grid(t, np.ones(len(t)), "Europe/Paris", 1800)
    >>> g.values.shape, int(np.isnan(g.values).sum()), float(g.values[0, 18])
    ((1, 48), 2, 1.0)
    """
    if 86400 % interval_s:
        raise ValueError(f"interval_s={interval_s} does not divide a day")
    slots = 86400 // interval_s
    d, s = local_keys(times_utc, tz, interval_s)
    v = np.asarray(values, dtype=float)
    if days is None:
        if len(d) == 0:
            raise ValueError("no intervals to put on a day grid")
        days = np.arange(d.min(), d.max() + np.timedelta64(1, "D"), dtype="datetime64[D]")
    row = (d - days[0]).astype(np.int64)
    ok = (row >= 0) & (row < len(days)) & ~np.isnan(v)
    flat = row[ok] * slots + s[ok]
    total = np.bincount(flat, weights=v[ok], minlength=len(days) * slots)
    count = np.bincount(flat, minlength=len(days) * slots)
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return DayGrid(days=days, values=grid.reshape(len(days), slots), interval_s=interval_s, tz=tz)


def holiday_dates(market: str | None, years: Iterable[int]) -> frozenset[date]:
    """Public holidays of `market` (ISO country code, e.g. "MA", "FR", "PH", "CO").

    Uses the `holidays` package; an empty or None market means no holidays.

    Examples
    --------
    >>> date(2026, 7, 14) in holiday_dates("FR", [2026])
    True
    >>> date(2026, 7, 30) in holiday_dates("MA", [2026])  # Throne Day
    True
    """
    if not market:
        return frozenset()
    try:
        return frozenset(_holidays.country_holidays(market.upper(), years=sorted(set(years))))
    except NotImplementedError as exc:
        raise InputError(
            f"unknown holiday market '{market}': use an ISO country code known to the "
            "holidays package (e.g. MA, FR, US, PH, CO, NL)",
            column="market",
        ) from exc


@dataclass(frozen=True)
class SpecialDay:
    """A local date that is not like the others, for one queue or for all.

    Attributes
    ----------
    day : datetime.date
        Local calendar date in the queue's zone.
    multiplier : float
        Volume factor: in the future the forecast is multiplied by it (a campaign: 1.3);
        in history the observed volumes are divided by it before learning.
    exclude : bool
        In history: drop the day from learning (an outage). Ignored in the future.
    queue : str or None
        The queue it applies to; None for every queue.
    label : str
        Free text shown in reports.
    """

    day: date
    multiplier: float = 1.0
    exclude: bool = False
    queue: str | None = None
    label: str = ""


_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"", "0", "false", "no", "n"}


def read_special_days(path: str | os.PathLike[str]) -> tuple[SpecialDay, ...]:
    """Read special days from a CSV with columns ``date`` (YYYY-MM-DD, local) and optional
    ``multiplier`` (> 0, default 1), ``exclude`` (true/false), ``queue``, ``label``.

    Raises
    ------
    InputError
        Naming the file, the 1-based data row and the column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "special.csv"
    >>> _ = p.write_text("date,multiplier,exclude,label\\n2026-04-01,1.5,,campaign\\n"
    ...                  "2026-03-10,,true,outage\\n")
    >>> [(s.day.isoformat(), s.multiplier, s.exclude) for s in read_special_days(p)]
    [('2026-04-01', 1.5, False), ('2026-03-10', 1.0, True)]
    """
    file = str(path)
    out: list[SpecialDay] = []
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip() for f in (reader.fieldnames or [])]
        if "date" not in fields:
            raise InputError("missing required column 'date'", file=file, column="date")
        for i, raw in enumerate(reader, start=1):
            rec = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            try:
                day = date.fromisoformat(rec["date"])
            except ValueError as exc:
                raise InputError(f"expected a date YYYY-MM-DD, got '{rec['date']}'",
                                 file=file, row=i, column="date") from exc
            mult = 1.0
            if rec.get("multiplier"):
                try:
                    mult = float(rec["multiplier"])
                except ValueError:
                    mult = float("nan")
                if not np.isfinite(mult) or mult <= 0:
                    raise InputError(f"expected a number > 0, got '{rec['multiplier']}'",
                                     file=file, row=i, column="multiplier")
            flag = rec.get("exclude", "").lower()
            if flag not in _TRUE | _FALSE:
                raise InputError(f"expected true or false, got '{rec['exclude']}'",
                                 file=file, row=i, column="exclude")
            out.append(SpecialDay(day=day, multiplier=mult, exclude=flag in _TRUE,
                                  queue=rec.get("queue") or None, label=rec.get("label", "")))
    return tuple(out)


def check_tz(tz: str) -> str:
    """Return `tz` if it is an IANA zone, else raise `InputError`.

    Examples
    --------
    >>> check_tz("Asia/Manila")
    'Asia/Manila'
    """
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"'{tz}' is not an IANA time zone (e.g. 'Africa/Casablanca')",
                         column="tz") from exc
    return tz


def special_for(queue: str, special: Sequence[SpecialDay]) -> list[SpecialDay]:
    """The special days that apply to `queue`."""
    return [s for s in special if s.queue is None or s.queue == queue]


#: Names of the calendar effects of the daily-total model (`day_features`), in column order.
CALENDAR_EFFECTS: tuple[str, ...] = (
    "business_day_1", "business_day_2", "business_day_3",
    "business_day_last_2", "business_day_last",
    "after_closure", "before_holiday", "after_holiday_2",
)


def day_features(
    days: np.ndarray,
    *,
    holidays: np.ndarray,
    open_weekdays: np.ndarray,
    closed: np.ndarray | None = None,
    special_labels: Sequence[tuple[str, np.ndarray]] = (),
) -> np.ndarray:
    """Calendar effects of each local day: a ``(len(days), k)`` 0/1 matrix.

    Columns are `CALENDAR_EFFECTS` then one per user special-day label. A **business
    day** is a day whose weekday the queue is regularly open (`open_weekdays`, a ``(7,)``
    bool) and that is neither a public holiday of its market nor a known closure:

    * ``business_day_1`` .. ``business_day_3``: the first three business days of the
      calendar month (pay days, statements), ``business_day_last_2`` and
      ``business_day_last``: the last two (month-end); counted on the whole month,
      so a month that runs past the rows still ranks correctly;
    * ``after_closure``: the first business day after one or more days on which the queue
      was closed though its weekday is open (a holiday or a `closed` day in history);
    * ``before_holiday``: the business day right before a holiday;
    * ``after_holiday_2``: the second business day after a holiday (the first is
      ``after_closure``);
    * one column per special-day label: 1 on that label's days (`special_labels`: pairs of
      label and ``datetime64[D]`` dates), so a recurring event learns its own effect.

    Parameters
    ----------
    days : numpy.ndarray
        ``datetime64[D]`` local dates (any order; usually consecutive).
    holidays : numpy.ndarray
        ``datetime64[D]`` public holidays of the market.
    open_weekdays : numpy.ndarray
        ``(7,)`` bool, Monday first: weekdays the queue is regularly open.
    closed : numpy.ndarray, optional
        ``(len(days),)`` bool: days known to have been closed (history without contacts).

    Examples
    --------
    February 1999 in a center open every day but Saturday; the 2nd is a holiday.

    >>> days = np.arange("1999-02-01", "1999-03-04", dtype="datetime64[D]")
    >>> x = day_features(days, holidays=np.array(["1999-02-02"], dtype="datetime64[D]"),
    ...                  open_weekdays=np.array([1, 1, 1, 1, 1, 0, 1], dtype=bool))
    >>> [str(d) for d in days[x[:, 0] == 1]]  # first business day of each month
    ['1999-02-01', '1999-03-01']
    >>> [str(d) for d in days[x[:, 1] == 1]], [str(d) for d in days[x[:, 5] == 1]]
    (['1999-02-03', '1999-03-02'], ['1999-02-03'])
    >>> [str(d) for d in days[x[:, 4] == 1]], [str(d) for d in days[x[:, 7] == 1]]
    (['1999-02-28'], ['1999-02-04'])
    """
    days = np.asarray(days, dtype="datetime64[D]")
    k = len(CALENDAR_EFFECTS) + len(special_labels)
    out = np.zeros((len(days), k))
    if len(days) == 0:
        return out
    # every calendar day of the months touched, one day beyond each end
    first = days.min().astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D")
    last = (days.max().astype("datetime64[M]") + np.timedelta64(1, "M")).astype(
        "datetime64[D]") + np.timedelta64(1, "D")
    span = np.arange(first, last, dtype="datetime64[D]")
    wd = weekday_of(span)
    hol = np.isin(span, np.asarray(holidays, dtype="datetime64[D]"))
    known_closed = np.zeros(len(span), dtype=bool)
    if closed is not None:
        known_closed[np.searchsorted(span, days[np.asarray(closed, dtype=bool)])] = True
    shut = (hol | known_closed) & np.asarray(open_weekdays, dtype=bool)[wd]
    business = np.asarray(open_weekdays, dtype=bool)[wd] & ~hol & ~known_closed
    month = span.astype("datetime64[M]")
    _, start_idx, inv = np.unique(month, return_index=True, return_inverse=True)
    rank = np.zeros(len(span), dtype=np.int64)  # 1-based business-day rank in its month
    back = np.zeros(len(span), dtype=np.int64)  # 1 = last business day of the month
    cum = np.cumsum(business)
    before_month = np.r_[0, cum][start_idx][inv]
    rank[business] = (cum - before_month)[business]
    total = np.bincount(inv, weights=business)[inv].astype(np.int64)
    back[business] = total[business] - rank[business] + 1
    # after a closure: the first business day after a shut day (regular closed weekdays
    # in between do not break the run)
    after = np.zeros(len(span), dtype=bool)
    after2 = np.zeros(len(span), dtype=bool)
    before = np.zeros(len(span), dtype=bool)
    seen_shut, seen_hol, since_hol = False, False, 0
    for i in range(len(span)):
        if shut[i]:
            seen_shut, seen_hol, since_hol = True, seen_hol or hol[i], 0
            continue
        if business[i]:
            if seen_shut:
                after[i] = True
                since_hol = 1 if seen_hol else 0
                seen_shut = seen_hol = False
            elif since_hol == 1:
                after2[i] = True
                since_hol = 0
    nxt_hol = False
    for i in range(len(span) - 1, -1, -1):
        if hol[i] and np.asarray(open_weekdays, dtype=bool)[wd[i]]:
            nxt_hol = True
        elif business[i]:
            before[i] = nxt_hol
            nxt_hol = False
    cols = [rank == 1, rank == 2, rank == 3, back == 2, back == 1, after, before, after2]
    idx = np.searchsorted(span, days)
    for j, c in enumerate(cols):
        out[:, j] = c[idx]
    for j, (_, dates) in enumerate(special_labels):
        out[:, len(CALENDAR_EFFECTS) + j] = np.isin(days, np.asarray(dates, dtype="datetime64[D]"))
    return out
