"""Shift bidding: the planner publishes shift patterns (each with a number of places), the
agents rank them, and the places are awarded exactly, with an explanation for each award.

Ranks are 1 for an agent's first choice; a pattern an agent did not rank costs
``len(patterns) + 1`` (any pattern is better than none, the unranked ones equally so). There
must be at least as many places as agents.

- ``seniority``: the award that is best for the most senior agent, then best for the next
  one among those, and so on (the lexicographic optimum over the seniority order). Giving
  each agent in seniority order their best pattern with a place left is exactly that
  optimum (every pattern is acceptable, so a choice never leaves a later agent without a
  place); the test checks it against `scipy.optimize.linear_sum_assignment` with weights
  ``B^(n - i)`` on small cases.
  The seniority order comes from the agents' hire dates (`seniority_order`): the earliest
  hire date first; equal dates by agent id; an agent without a hire date ranks after every
  agent with one, those among themselves by agent id. Each award then names the agent's
  hire date and those of the more senior agents who took a better choice.
- ``fairness``: the least possible worst rank R (bottleneck assignment: the smallest R for
  which `linear_sum_assignment` finds an award using only ranks <= R), then among those the
  least total of ranks (`linear_sum_assignment` on the ranks, ranks above R forbidden).

References
----------
Burkard, Dell'Amico & Martello (2012). Assignment Problems, rev. ed., SIAM, ch. 4 (linear
sum) and 6.2 (bottleneck assignment).

Examples
--------
>>> aw = award_bids({"early": 1, "late": 1}, {"ana": ["early", "late"],
...                 "bo": ["early", "late"]}, BidMethod.SENIORITY, ["bo", "ana"])
>>> [(a.agent_id, a.pattern, a.rank) for a in aw]
[('ana', 'late', 2), ('bo', 'early', 1)]
>>> aw[0].explanation
'choice 2 of 2: early went to more senior bo'
>>> hired = {"ana": date(2021, 5, 3), "bo": date(2019, 4, 1)}
>>> aw = award_bids({"early": 1, "late": 1}, {"ana": ["early", "late"],
...                 "bo": ["early", "late"]}, "seniority", seniority_order(hired), hired)
>>> aw[0].explanation
'choice 2 of 2 (hired 2021-05-03): early went to more senior bo (hired 2019-04-01)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

__all__ = ["Award", "BidMethod", "PatternShift", "award_bids", "hired_label",
           "pattern_segments", "rank_matrix", "seniority_order"]


class BidMethod(StrEnum):
    SENIORITY = "seniority"
    FAIRNESS = "fairness"


@dataclass(frozen=True)
class Award:
    agent_id: str
    pattern: str
    rank: int
    """1 = first choice; ``len(patterns) + 1`` = a pattern the agent did not rank."""
    explanation: str


def seniority_order(hire_dates: Mapping[str, date | None]) -> list[str]:
    """The agents of `hire_dates`, most senior first: the earliest hire date first, equal
    dates by agent id, agents without a hire date (None) last, by agent id.

    >>> seniority_order({"b": date(2020, 1, 6), "a": None, "c": date(2018, 3, 1),
    ...                  "d": date(2020, 1, 6)})
    ['c', 'b', 'd', 'a']
    """
    return sorted(hire_dates, key=lambda a: (hire_dates[a] is None,
                                             hire_dates[a] or date.min, a))


def hired_label(hire_date: date | None) -> str:
    """How an award names an agent's hire date.

    >>> hired_label(date(2019, 4, 1)), hired_label(None)
    ('hired 2019-04-01', 'no hire date')
    """
    return f"hired {hire_date.isoformat()}" if hire_date else "no hire date"


def rank_matrix(patterns: Mapping[str, int], rankings: Mapping[str, Sequence[str]],
                agents: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Ranks [agent, place] (one column per place of each pattern) and each place's pattern."""
    places = [p for p, k in sorted(patterns.items()) for _ in range(k)]
    if len(places) < len(agents):
        raise ValueError(f"{len(places)} places for {len(agents)} agents: publish at least "
                         "one place per agent")
    unranked = len(patterns) + 1
    r = np.full((len(agents), len(places)), unranked, dtype=np.int64)
    for i, a in enumerate(agents):
        ranking = list(rankings.get(a, ()))
        unknown = sorted(set(ranking) - set(patterns))
        if unknown or len(set(ranking)) != len(ranking):
            raise ValueError(f"agent {a}: ranking {ranking} names unknown or repeated "
                             f"patterns {unknown}")
        pos = {p: k + 1 for k, p in enumerate(ranking)}
        for j, p in enumerate(places):
            r[i, j] = pos.get(p, unranked)
    return r, places


def award_bids(patterns: Mapping[str, int], rankings: Mapping[str, Sequence[str]],
               method: BidMethod | str, seniority: Sequence[str],
               hire_dates: Mapping[str, date | None] | None = None) -> list[Award]:
    """Award one pattern to each agent of `seniority` (most senior first); sorted by agent.
    With `hire_dates`, a seniority award names the agent's hire date and those of the more
    senior agents who took their better choices."""
    method = BidMethod(method)
    agents = list(seniority)
    if len(set(agents)) != len(agents):
        raise ValueError("an agent appears twice in the seniority order")
    r, places = rank_matrix(patterns, rankings, agents)
    n = len(agents)
    if method is BidMethod.SENIORITY:
        free = set(range(len(places)))
        col = [0] * n
        for i in range(n):
            j = min(free, key=lambda j: (r[i, j], places[j], j))
            col[i] = j
            free.discard(j)
        owner = {}
        out = []

        def who(agent: str) -> str:
            return (f"{agent} ({hired_label(hire_dates.get(agent))})"
                    if hire_dates is not None else agent)

        for i, a in enumerate(agents):
            got = places[col[i]]
            better = [p for p in rankings.get(a, ())[: r[i, col[i]] - 1]]
            taken = [f"{p} went to more senior {who(owner[p]) if p in owner else '?'}"
                     for p in better]
            mine = (f" ({hired_label(hire_dates.get(a))})" if hire_dates is not None else "")
            out.append(Award(a, got, int(r[i, col[i]]), _choice(r[i, col[i]], rankings.get(
                a, ()), patterns) + mine + (": " + ", ".join(taken) if taken else "")))
            owner.setdefault(got, a)
        return sorted(out, key=lambda x: x.agent_id)
    # fairness: bottleneck, then least total under it
    levels = sorted(set(r.ravel().tolist()))
    worst = levels[-1]
    for level in levels:
        ri, ci = linear_sum_assignment((r > level).astype(np.int64))
        if not (r[ri, ci] > level).any():
            worst = level
            break
    cost = np.where(r <= worst, r, n * (worst + 1) + 1)
    ri, ci = linear_sum_assignment(cost)
    total = int(r[ri, ci].sum())
    holder = {}
    for i, j in zip(ri, ci, strict=True):
        holder.setdefault(places[j], []).append(agents[i])
    out = []
    for i, j in zip(ri, ci, strict=True):
        a = agents[i]
        better = list(rankings.get(a, ()))[: int(r[i, j]) - 1]
        why = [f"{p} went to {', '.join(holder.get(p, []))}" for p in better]
        out.append(Award(a, places[j], int(r[i, j]),
                         _choice(r[i, j], rankings.get(a, ()), patterns)
                         + f"; every agent got one of their first {worst} choices and the "
                         f"total of ranks ({total}) is the least possible"
                         + (": " + ", ".join(why) if why else "")))
    return sorted(out, key=lambda x: x.agent_id)


def _choice(rank: int, ranking: Sequence[str], patterns: Mapping[str, int]) -> str:
    if rank > len(patterns):
        return "not among your ranked patterns (all were taken)"
    return f"choice {int(rank)} of {len(ranking)}"


@dataclass(frozen=True)
class PatternShift:
    """One shift of a bid pattern: the local day (0 = the period's first day), the local
    start time at the agent's site, and its parts (activity, minutes) in order."""

    day: int
    start: time
    parts: tuple[tuple[str, int], ...]


def pattern_segments(shifts: Sequence[PatternShift], agent_id: str, site: str, tz: str,
                     period_start: date) -> pd.DataFrame:
    """The segments (``agent_id, site, activity, start, end, queue``; UTC; no queue: the
    agent's time counts on each of their skills) of a pattern worked by `agent_id`.

    >>> df = pattern_segments([PatternShift(0, time(8), (("work", 120), ("break", 15)))],
    ...                       "a1", "S", "America/Bogota", date(2026, 3, 30))
    >>> [(r.activity, r.start.strftime("%d %H:%M"), r.end.strftime("%H:%M"))
    ...  for r in df.itertuples()]
    [('work', '30 13:00', '15:00'), ('break', '30 15:00', '15:15')]
    """
    zone = ZoneInfo(tz)
    rows = []
    for sh in shifts:
        t = pd.Timestamp(datetime.combine(period_start + timedelta(days=sh.day), sh.start,
                                          zone)).tz_convert("UTC")
        for activity, minutes in sh.parts:
            end = t + pd.Timedelta(minutes=minutes)
            rows.append({"agent_id": agent_id, "site": site, "activity": activity,
                         "start": t, "end": end, "queue": None})
            t = end
    return pd.DataFrame(rows, columns=["agent_id", "site", "activity", "start", "end",
                                       "queue"])
