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


def sl_vector(agents: np.ndarray, traffic_erl: np.ndarray, aht_s: np.ndarray,
              answer_within_s: np.ndarray, patience_s: np.ndarray) -> np.ndarray:
    """`sl_fractional` of arrays, in one call of the Erlang kernel."""
    lo = np.floor(agents)
    w = agents - lo
    s = service_level(np.concatenate([lo, lo + 1]), np.tile(traffic_erl, 2),
                      np.tile(aht_s, 2), np.tile(answer_within_s, 2), np.tile(patience_s, 2))
    n = len(agents)
    return (1 - w) * s[:n] + w * s[n:]


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    d = df.copy()
    if "queue" not in d.columns:
        d["queue"] = None
    d["queue"] = d["queue"].astype(object).where(d["queue"].notna(), "")
    return d[KEY]


def touched_intervals(before: pd.DataFrame, after: pd.DataFrame, grid: pd.DatetimeIndex,
                      interval_s: int) -> pd.DatetimeIndex:
    """Intervals of `grid` overlapping a segment in one table and not in the other."""
    m = _keyed(before).merge(_keyed(after), how="outer", on=KEY, indicator=True)
    diff = m[m["_merge"] != "both"]
    step = pd.Timedelta(seconds=interval_s)
    hit = np.zeros(len(grid), dtype=bool)
    for s, e in zip(diff["start"], diff["end"], strict=True):
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
    # one row per (segment, queue it counts on) with its share; then the overlap of every
    # such row with every interval at once (seconds), summed per (interval, queue)
    seg_i: list[int] = []
    queues: list[str] = []
    weights: list[float] = []
    agents, qcol = prod["agent_id"].tolist(), (prod["queue"].tolist() if has_q
                                                else [None] * len(prod))
    for i, (aid, q) in enumerate(zip(agents, qcol, strict=True)):
        if isinstance(q, str) and q:
            seg_i.append(i), queues.append(q), weights.append(1.0)
        else:
            for k in skills[aid]:
                seg_i.append(i), queues.append(k), weights.append(1 / len(skills[aid]))
    if not seg_i:
        return pd.DataFrame(columns=["interval_start", "queue", "agents"])
    idx = np.asarray(seg_i)
    s0 = prod["start"].to_numpy("datetime64[ns]").astype(np.int64)[idx]
    e0 = prod["end"].to_numpy("datetime64[ns]").astype(np.int64)[idx]
    t0 = intervals.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]").astype(
        np.int64)
    step_ns = int(interval_s * 1e9)
    ov = (np.minimum(e0[:, None], t0[None, :] + step_ns)
          - np.maximum(s0[:, None], t0[None, :])).clip(min=0) / 1e9
    names = sorted(set(queues))
    qi = np.array([names.index(q) for q in queues])
    total = np.zeros((len(names), len(t0)))
    np.add.at(total, qi, ov * np.asarray(weights)[:, None] / interval_s)
    for j, q in enumerate(names):
        for m, t in enumerate(intervals):
            if total[j, m] > 0:
                out[(t, q)] = float(total[j, m])
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
    goals = {q.id: q for q in scenario.queues}
    n = len(df)
    slb, sla = np.full(n, np.nan), np.full(n, np.nan)
    if {"volume", "aht_s"} <= set(df.columns) and n:
        vol = df["volume"].to_numpy(float)
        aht = df["aht_s"].to_numpy(float)
        ok = np.isfinite(vol) & np.isfinite(aht) & (aht > 0)
        if ok.any():
            qs = df["queue"][ok]
            t = np.array([goals[q].goal.answer_within_s for q in qs], dtype=float)
            pat = np.array([goals[q].patience_s or np.nan for q in qs], dtype=float)
            erl = vol[ok] * aht[ok] / interval_s
            slb[ok] = sl_vector(df["before"].to_numpy(float)[ok], erl, aht[ok], t, pat)
            sla[ok] = sl_vector(df["after"].to_numpy(float)[ok], erl, aht[ok], t, pat)
        lost = np.where(ok, vol * (slb - sla), np.nan)
    else:
        lost = np.full(n, np.nan)
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
