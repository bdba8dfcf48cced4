"""Labour packs: the hard limits of a market's law, with the date each version applies from.

A labour pack bundles what a site's schedules must respect and what differs by market:
weekly and daily maximum hours, rest, days off (and how many in a row), the longest run of
working days, the night window and its premium, and which local weekdays are the weekend
(Saturday-Sunday in most markets, Friday-Saturday in Israel and Saudi Arabia). Packs change
by law (Colombia's Law 2101 of 2021 lowers the legal week step by step), so each pack is a
list of versions with ``effective_from`` dates and `rule_pack_for` picks the version in force
on a given date. The schedule builder and the independent checker read the same pack.

Built-in packs (override or extend them in the scenario's ``[scheduling.rule_packs]``):

- ``MA`` (Morocco, Code du travail art. 184): 44 h per week.
- ``CO`` (Colombia, Law 2101/2021): 47 h from 2023-07-15, 46 h from 2024-07-15,
  44 h from 2025-07-15, 42 h from 2026-07-15.
- ``PH`` (Philippines, Labor Code art. 83, 86 and 91): 8 h per day (48 h per week, one
  rest day after six working days), night shift differential of 10 % for work between
  22:00 and 06:00 local time.
- ``IL`` (Israel, Hours of Work and Rest Law 5711-1951 with the 2018 extension order):
  42 h per week; the weekend is Friday-Saturday.
- ``default``: 48 h per week, 10 h per shift, Saturday-Sunday weekend; only when a site
  names it (``rules = "default"``): an unknown pack is an error, never a silent default.

Every pack also carries the scheduling rules used across the group unless it says otherwise:
minimum rest between shifts (11 h), days off per week (2), of which consecutive (2), maximum
consecutive working days (6), night window 22:00-06:00.

References
----------
Morocco, Loi 65-99 (Code du travail), art. 184. Colombia, Ley 2101 de 2021, art. 3.
Philippines, Presidential Decree 442 (Labor Code), art. 83 (normal hours) and art. 86
(night shift differential), art. 91 (weekly rest day). Israel, Hours of Work and Rest Law,
5711-1951, and the 2017 extension order on the shortening of the work week (42 h from
2018-04-01).

Examples
--------
>>> from datetime import date
>>> rule_pack_for("CO", date(2026, 3, 30)).max_weekly_h
44.0
>>> rule_pack_for("CO", date(2026, 7, 15)).max_weekly_h
42.0
>>> rule_pack_for("PH", date(2026, 1, 1)).night_premium
0.1
>>> rule_pack_for("IL", date(2026, 1, 1)).weekend_days
(4, 5)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from openwfm.errors import InputError
from openwfm.schema import RulePacks, nearest, validate

__all__ = ["BUILTIN_PACKS", "RulePack", "known_packs", "parse_rule_packs", "rule_pack_for"]


@dataclass(frozen=True)
class RulePack:
    """One version of a site's labour rules (hours are paid hours, meals unpaid).

    The keys, units and bounds a scenario may set are `openwfm.schema.RulePackSpec`; the
    values here are the default pack's.

    Attributes
    ----------
    name : str
        Pack key (``"MA"``, ``"CO"``, ``"PH"``, ``"IL"``, ``"default"`` or a user name).
    effective_from : date
        First day this version applies.
    max_weekly_h, max_daily_h : float
        Legal maximum paid hours per week (Mon-Sun local) and per shift.
    min_rest_h : float
        Minimum rest between the end of one shift and the start of the next.
    min_days_off : int
        Days with no shift start per planned week (7 local days).
    min_consecutive_days_off : int
        At least this many of the days off are consecutive (0 or 1: no rule).
    max_consecutive_days : int
        Maximum consecutive local days with a shift.
    night_premium : float
        Extra pay fraction for hours worked in ``[night_start_h, night_end_h)`` local time.
    night_start_h, night_end_h : float
        The night window (local hours; it wraps midnight when start > end).
    weekend_days : tuple of int
        Local weekdays of the weekend (Monday = 0): a shift starting on one is a weekend
        shift, spread fairly.
    """

    name: str
    effective_from: date = date(1900, 1, 1)
    max_weekly_h: float = 48.0
    max_daily_h: float = 10.0
    min_rest_h: float = 11.0
    min_days_off: int = 2
    min_consecutive_days_off: int = 2
    max_consecutive_days: int = 6
    night_premium: float = 0.0
    night_start_h: float = 22.0
    night_end_h: float = 6.0
    weekend_days: tuple[int, ...] = (5, 6)

    def is_weekend(self, weekday: int) -> bool:
        """Whether a shift starting on local `weekday` (Monday = 0) is a weekend shift.

        Examples
        --------
        >>> RulePack("x").is_weekend(4), RulePack("x", weekend_days=(4, 5)).is_weekend(4)
        (False, True)
        """
        return weekday in self.weekend_days

    def night_minutes(self, local_minute: int | np.ndarray, length_min: int) -> int:
        """Minutes of a shift starting at `local_minute` (minutes after local midnight,
        scalar or one per minute already) lasting `length_min` that fall in the night
        window. With an array, it holds the local minute-of-day of each worked minute and
        `length_min` is ignored.

        Examples
        --------
        >>> RulePack("x").night_minutes(20 * 60, 8 * 60)   # 20:00-04:00: 22:00-04:00
        360
        >>> RulePack("x", night_start_h=0, night_end_h=5).night_minutes(22 * 60, 8 * 60)
        300
        """
        mins = (np.asarray(local_minute) if np.ndim(local_minute)
                else int(local_minute) + np.arange(length_min))
        tod = mins % 1440
        ns, ne = round(self.night_start_h * 60), round(self.night_end_h * 60)
        night = (tod >= ns) | (tod < ne) if ns > ne else (tod >= ns) & (tod < ne)
        return int(night.sum())


BUILTIN_PACKS: dict[str, tuple[RulePack, ...]] = {
    "default": (RulePack("default"),),
    "MA": (RulePack("MA", max_weekly_h=44.0, max_daily_h=10.0),),
    "CO": (
        RulePack("CO", date(2023, 7, 15), max_weekly_h=47.0),
        RulePack("CO", date(2024, 7, 15), max_weekly_h=46.0),
        RulePack("CO", date(2025, 7, 15), max_weekly_h=44.0),
        RulePack("CO", date(2026, 7, 15), max_weekly_h=42.0),
    ),
    "PH": (RulePack("PH", max_weekly_h=48.0, max_daily_h=8.0, min_days_off=1,
                    min_consecutive_days_off=1, night_premium=0.10),),
    "IL": (RulePack("IL", max_weekly_h=42.0, weekend_days=(4, 5)),),
}


def known_packs(packs: dict[str, tuple[RulePack, ...]] | None = None) -> list[str]:
    """Names of the built-in packs and of `packs` (a scenario's), sorted."""
    return sorted(set(BUILTIN_PACKS) | set(packs or {}))


def rule_pack_for(name: str, on: date,
                  packs: dict[str, tuple[RulePack, ...]] | None = None, *,
                  file: str | None = None, key: str | None = None) -> RulePack:
    """The version of pack `name` in force on date `on` (`packs` first, then built-ins).

    Raises
    ------
    InputError
        When no pack has that name: the known ones are listed (never a silent default).

    Examples
    --------
    >>> rule_pack_for("ZZ", date(2026, 3, 30))
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: unknown labour pack 'ZZ'; known packs: CO, IL, MA, PH, default ...
    """
    versions = (packs or {}).get(name) or BUILTIN_PACKS.get(name)
    if not versions:
        hint = nearest(name, known_packs(packs))
        raise InputError(
            f"unknown labour pack {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
            + f"; known packs: {', '.join(known_packs(packs))} (add one in "
            "[scheduling.rule_packs])", file=file, key=key)
    valid = [v for v in versions if v.effective_from <= on]
    return max(valid, key=lambda v: v.effective_from) if valid else min(
        versions, key=lambda v: v.effective_from)


def parse_rule_packs(raw: dict[str, Any], file: str,
                     prefix: str = "scheduling.rule_packs") -> dict[str, tuple[RulePack, ...]]:
    """Parse ``[scheduling.rule_packs]``: ``NAME = [{effective_from = "...", ...}, ...]``.

    Keys are `openwfm.schema.RulePackSpec`'s (unknown keys are errors); keys left out take
    the built-in pack's value (the default pack's for a new name) in force on that date.

    Examples
    --------
    >>> p = parse_rule_packs({"SA": {"max_weekly_h": 48, "weekend_days": [4, 5]}}, "s.toml")
    >>> p["SA"][0].weekend_days, p["SA"][0].max_daily_h, sorted(p)
    ((4, 5), 10.0, ['CO', 'IL', 'MA', 'PH', 'SA', 'default'])
    """
    packs = validate(RulePacks, raw, file=file, prefix=prefix)
    out = dict(BUILTIN_PACKS)
    for name, versions in packs.items():
        parsed = []
        for v in versions:
            start = v.effective_from or date(1900, 1, 1)
            base = (rule_pack_for(name, start) if name in BUILTIN_PACKS
                    else RulePack(name))
            kw = v.model_dump(exclude_none=True)
            kw["effective_from"] = start
            if "weekend_days" in kw:
                kw["weekend_days"] = tuple(sorted(set(kw["weekend_days"])))
            parsed.append(replace(base, name=name, **kw))
        out[name] = tuple(parsed)
    return out
