"""The day-level scheduling rules of a labour pack, shared by the builder, the greedy hint,
the history and the checker: days off, consecutive days off, longest run of working days.

The packs themselves (`RulePack`, the built-in `BUILTIN_PACKS`, `rule_pack_for`,
`parse_rule_packs`) live in `openwfm.labour` and are re-exported here.

Examples
--------
>>> from datetime import date
>>> rule_pack_for("CO", date(2026, 3, 30)).max_weekly_h
44.0
"""

from __future__ import annotations

from datetime import date  # noqa: F401  (the doctests use it)

import numpy as np

from openwfm.labour import BUILTIN_PACKS, RulePack, known_packs, parse_rule_packs, rule_pack_for

__all__ = ["BUILTIN_PACKS", "RulePack", "days_ok", "known_packs", "longest_run",
           "parse_rule_packs", "rule_pack_for", "work_patterns"]


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
