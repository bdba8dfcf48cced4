"""Labour rule packs per country/site, with the date from which each version applies.

A rule pack bundles the hard limits a site's schedules must respect. Packs change by law
(Colombia's Law 2101 of 2021 lowers the legal week step by step), so each pack is a list
of versions with ``effective_from`` dates and `rule_pack_for` picks the version in force on
a given date.

Built-in packs (override or extend them in the scenario's ``[scheduling.rule_packs]``):

- ``MA`` (Morocco, Code du travail art. 184): 44 h per week.
- ``CO`` (Colombia, Law 2101/2021): 47 h from 2023-07-15, 46 h from 2024-07-15,
  44 h from 2025-07-15, 42 h from 2026-07-15.
- ``PH`` (Philippines, Labor Code art. 83, 86 and 91): 8 h per day (48 h per week, one
  rest day after six working days), night shift differential of 10 % for work between
  22:00 and 06:00 local time.

Every pack also carries the scheduling rules used across the group: minimum rest between
shifts (11 h), days off per week (2), of which consecutive (2), maximum consecutive working
days (6).

References
----------
Morocco, Loi 65-99 (Code du travail), art. 184. Colombia, Ley 2101 de 2021, art. 3.
Philippines, Presidential Decree 442 (Labor Code), art. 83 (normal hours) and art. 86
(night shift differential), art. 91 (weekly rest day).

Examples
--------
>>> from datetime import date
>>> rule_pack_for("CO", date(2026, 3, 30)).max_weekly_h
44.0
>>> rule_pack_for("CO", date(2026, 7, 15)).max_weekly_h
42.0
>>> rule_pack_for("PH", date(2026, 1, 1)).night_premium
0.1
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from openwfm.errors import InputError


@dataclass(frozen=True)
class RulePack:
    """One version of a site's labour rules (hours are paid hours, meals unpaid).

    Attributes
    ----------
    name : str
        Pack key (``"MA"``, ``"CO"``, ``"PH"`` or a user name).
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


BUILTIN_PACKS: dict[str, tuple[RulePack, ...]] = {
    "MA": (RulePack("MA", max_weekly_h=44.0, max_daily_h=10.0),),
    "CO": (
        RulePack("CO", date(2023, 7, 15), max_weekly_h=47.0),
        RulePack("CO", date(2024, 7, 15), max_weekly_h=46.0),
        RulePack("CO", date(2025, 7, 15), max_weekly_h=44.0),
        RulePack("CO", date(2026, 7, 15), max_weekly_h=42.0),
    ),
    "PH": (RulePack("PH", max_weekly_h=48.0, max_daily_h=8.0, min_days_off=1,
                    min_consecutive_days_off=1, night_premium=0.10),),
}
_DEFAULT = RulePack("default")


def rule_pack_for(name: str, on: date,
                  packs: dict[str, tuple[RulePack, ...]] | None = None) -> RulePack:
    """The version of pack `name` in force on date `on` (the default pack if unknown)."""
    versions = (packs or BUILTIN_PACKS).get(name) or BUILTIN_PACKS.get(name)
    if not versions:
        return replace(_DEFAULT, name=name or "default")
    valid = [v for v in versions if v.effective_from <= on]
    return max(valid, key=lambda v: v.effective_from) if valid else min(
        versions, key=lambda v: v.effective_from)


def parse_rule_packs(raw: dict[str, Any], file: str) -> dict[str, tuple[RulePack, ...]]:
    """Parse ``[scheduling.rule_packs]``: ``NAME = [{effective_from = "...", ...}, ...]``.

    Unknown keys are errors; missing keys take the built-in pack's (or default) value.
    """
    fields = set(RulePack.__dataclass_fields__) - {"name"}
    out = dict(BUILTIN_PACKS)
    for name, versions in raw.items():
        if isinstance(versions, dict):
            versions = [versions]
        parsed = []
        for i, v in enumerate(versions):
            where = f"scheduling.rule_packs.{name}[{i}]"
            bad = set(v) - fields
            if bad:
                raise InputError(f"{where}: unknown keys {sorted(bad)}; expected {sorted(fields)}",
                                 file=file, column=sorted(bad)[0])
            base = rule_pack_for(name, date.fromisoformat(str(v.get("effective_from",
                                                                    "1900-01-01"))))
            kw: dict[str, Any] = {}
            for k, x in v.items():
                try:
                    kw[k] = (date.fromisoformat(str(x)) if k == "effective_from" else
                             int(x) if isinstance(getattr(base, k), int) else float(x))
                except (TypeError, ValueError) as exc:
                    raise InputError(f"{where}: bad value {x!r}", file=file, column=k) from exc
            parsed.append(replace(base, name=name, **kw))
        out[name] = tuple(parsed)
    return out


def longest_run(work: np.ndarray, carried: int = 0) -> int:
    """Longest run of working days that includes at least one planned day, counting the
    `carried` days worked in a row just before the plan (0 if no day of `work` is worked).

    Examples
    --------
    >>> longest_run(np.array([True, True, False, True]), carried=5)
    7
    >>> longest_run(np.array([False, True, True]), carried=5)
    2
    """
    run = carried
    best = 0
    for w in work:
        run = run + 1 if w else 0
        best = max(best, run)
    return best


def days_ok(work: np.ndarray, pack: RulePack, carried: int = 0) -> bool:
    """Whether a week's working days (booleans per local day) meet the pack's days off,
    consecutive days off (within the planned days) and maximum consecutive days (counting
    `carried` days worked in a row just before the plan, from the agent's history).

    Examples
    --------
    >>> ma = rule_pack_for("MA", date(2026, 3, 30))
    >>> days_ok(np.array([1, 1, 1, 1, 1, 0, 0], bool), ma)   # Mon-Fri
    True
    >>> days_ok(np.array([0, 1, 1, 1, 1, 1, 0], bool), ma)   # Tue-Sat: Mon, Sun not adjacent
    False
    >>> days_ok(np.array([1, 1, 1, 1, 1, 0, 0], bool), ma, carried=2)  # 7 days in a row
    False
    """
    n = len(work)
    if work.sum() > n - pack.min_days_off:
        return False
    if longest_run(work, carried) > pack.max_consecutive_days:
        return False
    k = pack.min_consecutive_days_off
    # a plan shorter than k days cannot hold the rule; the checker skips it too
    return k < 2 or n < k or any(not work[d:d + k].any() for d in range(n - k + 1))


def work_patterns(pack: RulePack, n_days: int) -> np.ndarray:
    """`days_ok` of every work pattern of `n_days` days, indexed by its bits (day d = bit
    d), for n_days <= 14.

    Examples
    --------
    Weeks with >= 2 days off (128 - 1 - 7 = 120) minus those whose days off are never
    adjacent (C(6,2) + C(5,3) + C(4,4) = 26):

    >>> t = work_patterns(rule_pack_for("MA", date(2026, 3, 30)), 7)
    >>> int(t.sum()), bool(t[0b0011111]), bool(t[0b0111110])
    (94, True, False)
    """
    if n_days > 14:
        raise ValueError("work patterns are enumerated for plans of at most 14 days")
    return np.array([days_ok(np.array([(b >> d) & 1 for d in range(n_days)], dtype=bool),
                             pack) for b in range(1 << n_days)])
