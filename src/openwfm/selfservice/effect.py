"""The effect of a schedule change on coverage and on the Erlang service level of the
intervals it touches.

Coverage of a queue in an interval is the mean number of agents in a productive activity
(`openwfm.activities.PRODUCTIVE`) on it: a segment with a ``queue`` counts on that queue, a
segment without one counts ``1 / k`` on each of the agent's ``k`` skills. The touched
intervals are those of the requirement grid that overlap a segment present in one table and
not in the other. Where the requirement carries traffic (``volume`` and ``aht_s``, as
``openwfm staff`` writes), the service level with ``n`` agents is Erlang C (Erlang A when
the queue has ``patience_s``; `openwfm.staffing.erlang.service_level`, the formula of
``openwfm staff``) with the queue's ``answer_within_s``, linear between the integers around
a fractional ``n`` (as `openwfm.scheduling.penalty` does). The contacts lost are
``volume x (SL_before - SL_after)`` summed over the touched intervals: contacts that miss
the service goal because of the change (negative: the change helps).

Examples
--------
>>> s13, s14 = (sl_fractional(n, 10.0, 180.0, 20.0, None) for n in (13, 14))
>>> round(s14, 5)                                   # REFERENCES.md R1
0.88835
>>> abs(sl_fractional(13.5, 10.0, 180.0, 20.0, None) - (s13 + s14) / 2) < 1e-12
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from openwfm.activities import PRODUCTIVE
from openwfm.scenario import Scenario
from openwfm.staffing.erlang import service_level

__all__ = ["Effect", "change_effect", "coverage", "sl_fractional", "touched_intervals"]

KEY = ["agent_id", "site", "activity", "start", "end", "queue"]


@dataclass(frozen=True)
class Effect:
    """Per touched (interval, queue): required, agents before/after, service level before
    and after (NaN without traffic) and contacts lost; with the totals."""

    intervals: pd.DataFrame
    coverage_change_agent_h: float
    """Productive agent-hours gained (negative: lost) on the touched intervals."""
    contacts_lost: float | None
    """Contacts missing the service goal because of the change (None: no traffic)."""
    worst_sl_after: float | None
    """Lowest service level after the change over the touched intervals (None: none)."""

    def as_dict(self) -> dict:
        rows = [{k: (v.isoformat() if isinstance(v, pd.Timestamp) else
                     (None if isinstance(v, float) and math.isnan(v) else v))
                 for k, v in r.items()} for r in self.intervals.to_dict("records")]
        return {"coverage_change_agent_h": round(self.coverage_change_agent_h, 4),
                "contacts_lost": None if self.contacts_lost is None
                else round(self.contacts_lost, 4),
                "worst_sl_after": None if self.worst_sl_after is None
                else round(self.worst_sl_after, 4),
                "intervals": rows}


def sl_fractional(agents: float, traffic_erl: float, aht_s: float, answer_within_s: float,
                  patience_s: float | None) -> float:
    """Service level with `agents` (fractional: linear between the integers around it)."""
    lo = math.floor(agents)
    w = agents - lo
    pat = patience_s if patience_s else None
    s = service_level(np.array([lo, lo + 1], dtype=float), traffic_erl, aht_s,
                      answer_within_s, pat)
    return float((1 - w) * s[0] + w * s[1])


def _key(df: pd.DataFrame) -> set[tuple]:
    d = df.copy()
    if "queue" not in d.columns:
        d["queue"] = None
    d["queue"] = d["queue"].where(d["queue"].notna(), None)
    return set(map(tuple, d[KEY].astype(object).itertuples(index=False, name=None)))


def touched_intervals(before: pd.DataFrame, after: pd.DataFrame, grid: pd.DatetimeIndex,
                      interval_s: int) -> pd.DatetimeIndex:
    """Intervals of `grid` overlapping a segment in one table and not in the other."""
    diff = _key(before) ^ _key(after)
    step = pd.Timedelta(seconds=interval_s)
    hit = np.zeros(len(grid), dtype=bool)
    for r in diff:
        s, e = r[3], r[4]
        hit |= (grid < e) & (grid + step > s)
    return grid[hit]


def coverage(segments: pd.DataFrame, scenario: Scenario, intervals: pd.DatetimeIndex,
             interval_s: int) -> pd.DataFrame:
    """Mean productive agents per (interval_start, queue) on `intervals` (module doc)."""
    skills = {a.id: a.skills for a in scenario.agents}
    step = pd.Timedelta(seconds=interval_s)
    out: dict[tuple[pd.Timestamp, str], float] = {}
    if len(intervals) == 0:
        return pd.DataFrame(columns=["interval_start", "queue", "agents"])
    lo, hi = intervals.min(), intervals.max() + step
    prod = segments[segments["activity"].isin(PRODUCTIVE) & (segments["start"] < hi)
                    & (segments["end"] > lo)]
    has_q = "queue" in prod.columns
    for r in prod.to_dict("records"):
        q = r.get("queue") if has_q else None
        shares = ({q: 1.0} if isinstance(q, str) and q else
                  {k: 1 / len(skills[r["agent_id"]]) for k in skills[r["agent_id"]]})
        for t in intervals:
            ov = (min(r["end"], t + step) - max(r["start"], t)).total_seconds()
            if ov > 0:
                for k, w in shares.items():
                    out[(t, k)] = out.get((t, k), 0.0) + w * ov / interval_s
    return pd.DataFrame([(t, q, a) for (t, q), a in sorted(out.items())],
                        columns=["interval_start", "queue", "agents"])


def change_effect(scenario: Scenario, requirement: pd.DataFrame, before: pd.DataFrame,
                  after: pd.DataFrame) -> Effect:
    """The effect of going from `before` to `after` (module docstring).

    `requirement`: ``interval_start, queue, agents[, volume, aht_s]`` on the scenario's
    interval grid.
    """
    interval_s = scenario.interval_s
    req = requirement.copy()
    req["interval_start"] = pd.to_datetime(req["interval_start"], utc=True)
    grid = pd.DatetimeIndex(sorted(req["interval_start"].unique()))
    touched = touched_intervals(before, after, grid, interval_s)
    b = coverage(before, scenario, touched, interval_s).rename(columns={"agents": "before"})
    a = coverage(after, scenario, touched, interval_s).rename(columns={"agents": "after"})
    rows = req[req["interval_start"].isin(touched)]
    df = rows.rename(columns={"agents": "required"}).merge(
        b, on=["interval_start", "queue"], how="left").merge(
        a, on=["interval_start", "queue"], how="left")
    df[["before", "after"]] = df[["before", "after"]].fillna(0.0)
    df = df[(df["before"] - df["after"]).abs() > 1e-9].sort_values(
        ["interval_start", "queue"]).reset_index(drop=True)
    traffic = {"volume", "aht_s"} <= set(df.columns)
    goals = {q.id: q for q in scenario.queues}
    slb, sla, lost = [], [], []
    for r in df.to_dict("records"):
        if traffic and r["volume"] == r["volume"] and r["aht_s"] == r["aht_s"] \
                and r["aht_s"] > 0:
            q = goals[r["queue"]]
            erl = r["volume"] * r["aht_s"] / interval_s
            s0 = sl_fractional(r["before"], erl, r["aht_s"], q.goal.answer_within_s,
                               q.patience_s)
            s1 = sl_fractional(r["after"], erl, r["aht_s"], q.goal.answer_within_s,
                               q.patience_s)
            slb.append(s0)
            sla.append(s1)
            lost.append(r["volume"] * (s0 - s1))
        else:
            slb.append(math.nan)
            sla.append(math.nan)
            lost.append(math.nan)
    out = pd.DataFrame({"interval_start": df["interval_start"], "queue": df["queue"],
                        "required": df["required"].astype(float), "before": df["before"],
                        "after": df["after"], "sl_before": slb, "sl_after": sla,
                        "contacts_lost": lost})
    known = out["contacts_lost"].dropna()
    return Effect(
        intervals=out,
        coverage_change_agent_h=float((out["after"] - out["before"]).sum() * interval_s / 3600),
        contacts_lost=float(known.sum()) if len(known) else None,
        worst_sl_after=float(out["sl_after"].min()) if out["sl_after"].notna().any() else None)
