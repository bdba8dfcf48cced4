"""Replay a real call log through the simulator and compare with what happened.

`replay_call_log(calls)` takes a call log (the shape of ``docs/architecture.md``, e.g. from
`openwfm.io.calllog.read_call_log`), keeps served and abandoned contacts, and simulates:

- the **real arrival instants** (every queue pooled, or one simulated queue per `priority`
  level with higher levels served first);
- in each interval, the **agents actually working** = distinct agents seen serving at some
  moment of the interval;
- **handle times** resampled from the served contacts (empirical shape), scaled to the
  mean handle time of the contacts' hour of day;
- **patience** exponential with the censored maximum-likelihood mean (waits of all queued
  contacts ÷ abandons; Brown et al. 2005, section 6).

It returns, per interval, observed and simulated offered / ASA / abandonment / service
level, so the agreement can be measured (see ``docs/simulation.md``).

References
----------
Brown, Gans, Mandelbaum, Sakov, Shen, Zeltyn & Zhao (2005), JASA 100(469):36-50.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from openwfm.simulation import simulate
from openwfm.simulation.distributions import Empirical, Exponential
from openwfm.simulation.kpis import count_by_replication
from openwfm.simulation.model import QueueSpec, SimulationModel, model_from_staffing

__all__ = ["ReplayResult", "agents_working", "replay_call_log"]


def _presence(calls: pd.DataFrame, origin: pd.Timestamp, interval_s: float,
              n_intervals: int) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """(interval, agent code) pairs where the agent served at some moment, and the names."""
    s = calls[calls["outcome"] == "served"]
    start = (s["arrival"] - origin).dt.total_seconds().to_numpy() + s["wait_s"].to_numpy()
    end = start + s["handle_s"].fillna(0).to_numpy()
    k0 = np.floor(start / interval_s).astype(np.int64)
    k1 = np.floor(np.maximum(end - 1e-9, start) / interval_s).astype(np.int64)
    agent, names = pd.factorize(s["agent"])
    span = k1 - k0 + 1
    rows = np.repeat(np.arange(len(s)), span)
    k = np.repeat(k0, span) + (np.arange(rows.size) - np.repeat(np.cumsum(span) - span, span))
    keep = (k >= 0) & (k < n_intervals)
    pairs = np.unique(np.stack([k[keep], agent[rows[keep]]]), axis=1)
    return pairs[0], pairs[1], names


def agents_working(calls: pd.DataFrame, origin: pd.Timestamp, interval_s: float,
                   n_intervals: int) -> np.ndarray:
    """Distinct agents serving at some moment of each interval (served contacts only).

    Examples
    --------
    >>> import pandas as pd
    >>> t0 = pd.Timestamp("1999-02-01", tz="UTC")
    >>> calls = pd.DataFrame({"outcome": ["served"] * 3, "agent": ["a", "b", "a"],
    ...     "arrival": [t0, t0, t0 + pd.Timedelta(minutes=40)], "wait_s": [0.0, 0, 0],
    ...     "handle_s": [2000.0, 60, 60]})
    >>> agents_working(calls, t0, 1800, 3).tolist()
    [2, 1, 0]
    """
    k, _, _ = _presence(calls, origin, interval_s, n_intervals)
    return np.bincount(k, minlength=n_intervals)


@dataclass(frozen=True, eq=False)
class ReplayResult:
    """Observed vs simulated per interval (`frame`) and the inputs that were estimated."""

    frame: pd.DataFrame
    patience_s: float
    handle_cv: float
    replications: int


def replay_call_log(calls: pd.DataFrame, *, interval_s: float = 1800.0,
                    answer_within_s: float = 20.0, replications: int = 10, seed: int = 0,
                    routing: Literal["pooled", "priority", "skills"] = "pooled"
                    ) -> ReplayResult:
    """Replay `calls` (module docstring). `frame` has, per interval: ``interval_start``,
    ``agents`` (working), ``offered``, observed ``asa_s``, ``p_abandon``, ``service_level``
    and simulated ``sim_asa_s``, ``sim_p_abandon``, ``sim_service_level`` (means over
    replications).

    `routing`: "pooled" (one FIFO queue, every agent takes every call), "priority" (one
    queue per `priority` level, higher first), "skills" (one queue per `queue` of the log;
    each real agent works the intervals where they were seen serving and takes the queues
    they served during the period, most frequent first).
    """
    c = calls[calls["outcome"].isin(["served", "abandoned"])].copy()
    c = c.sort_values("arrival", kind="stable").reset_index(drop=True)
    first = c["arrival"].min()
    origin = first.floor("D")
    t = (c["arrival"] - origin).dt.total_seconds().to_numpy()
    nt = int(np.floor(t.max() / interval_s)) + 2  # one spare interval: no cut at the end
    agents = agents_working(c, origin, interval_s, nt)
    served = c["outcome"] == "served"
    handle = c.loc[served, "handle_s"].to_numpy(dtype=float)
    handle = handle[np.isfinite(handle) & (handle > 0)]
    # mean handle time per hour of day (local clock = UTC offset is constant in February)
    hour = ((t // 3600) % 24).astype(np.int64)
    aht_hour = pd.Series(c.loc[served, "handle_s"].to_numpy(dtype=float)).groupby(
        hour[served.to_numpy()]).mean().reindex(range(24)).fillna(handle.mean()).to_numpy()
    ti_hour = ((np.arange(nt) * interval_s // 3600) % 24).astype(np.int64)
    queued = c["queued"].to_numpy(bool) if "queued" in c else (c["wait_s"] > 0).to_numpy()
    exposure = c.loc[queued, "wait_s"].sum()
    abandons = int((c["outcome"] == "abandoned").sum())
    patience_s = float(exposure / abandons) if abandons else float("inf")
    shape = Empirical.from_samples(handle)
    pat = Exponential() if np.isfinite(patience_s) else None
    if routing == "priority":
        levels = sorted(pd.unique(c["priority"].fillna(0).astype(int)))
        qid = c["priority"].fillna(0).astype(int).map({lv: i for i, lv in enumerate(levels)})
        qs = tuple(QueueSpec(f"priority-{lv}", answer_within_s, shape, pat, patience_s,
                             priority=int(lv)) for lv in levels)
    elif routing == "pooled":
        qid = pd.Series(0, index=c.index)
        qs = (QueueSpec("all", answer_within_s, shape, pat, patience_s),)
    elif routing == "skills":
        types = sorted(pd.unique(c["queue"].astype(str)))
        qid = c["queue"].astype(str).map({q: i for i, q in enumerate(types)})
        qs = tuple(QueueSpec(q, answer_within_s, shape, pat, patience_s) for q in types)
    else:
        raise ValueError(f"unknown routing {routing!r}")
    nq = len(qs)
    vol = np.zeros((nq, nt))
    aht = np.repeat(aht_hour[ti_hour][None, :], nq, axis=0)
    if routing == "skills":
        k, a, names = _presence(c, origin, interval_s, nt)
        sv = c[served]
        freq = pd.crosstab(sv["agent"].astype(str), sv["queue"].astype(str))
        freq = freq.reindex(index=[str(x) for x in names], columns=types, fill_value=0)
        fq = freq.to_numpy()
        order = np.argsort(-fq, axis=1, kind="stable")
        rank = np.full((len(names), nq), -1, dtype=np.int64)
        for i in range(len(names)):
            r = 0
            for q in order[i]:
                if fq[i, q] > 0:
                    rank[i, q] = r
                    r += 1
        on = np.zeros((len(names), nt), dtype=bool)
        on[a, k] = True
        seg_a, seg_s, seg_e = [], [], []
        for i in range(len(names)):
            d = np.diff(np.concatenate([[0], on[i].astype(np.int8), [0]]))
            st, en = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
            seg_a += [i] * len(st)
            seg_s += (st * interval_s).tolist()
            seg_e += (en * interval_s).tolist()
        model = SimulationModel(
            queues=qs, volume=vol, aht_s=aht, agent_ids=tuple(str(x) for x in names),
            skill_rank=rank, seg_agent=np.asarray(seg_a, np.int64),
            seg_start_s=np.asarray(seg_s, float), seg_end_s=np.asarray(seg_e, float),
            interval_s=interval_s, origin=origin, arrivals_s=t,
            arrival_queue=qid.to_numpy(np.int64))
    else:
        # every agent takes every simulated queue: one anonymous pool with all skills
        model = model_from_staffing(qs[:1], vol[:1], aht[:1], agents[None, :],
                                    interval_s=interval_s, origin=origin)
        model = model.with_(queues=qs, volume=vol, aht_s=aht,
                            skill_rank=np.zeros((len(model.agent_ids), nq), np.int64),
                            arrivals_s=t, arrival_queue=qid.to_numpy(np.int64))
    res = simulate(model, replications=replications, seed=seed)
    cnt = count_by_replication(res.log, model)

    def total(name: str) -> np.ndarray:  # replications x intervals (all queues)
        return cnt.dense(name).sum(axis=1)

    off = total("offered")
    with np.errstate(invalid="ignore", divide="ignore"):
        sim_asa = (total("wait_answered_s") / total("answered")).mean(axis=0)
        sim_pab = (total("abandoned") / off).mean(axis=0)
        sim_sl = (total("answered_within") / off).mean(axis=0)
    ti = np.floor(t / interval_s).astype(np.int64)
    obs = pd.DataFrame({"ti": ti, "served": served.to_numpy(),
                        "ab": (~served).to_numpy(),
                        "wait_served": np.where(served, c["wait_s"], 0.0),
                        "within": served.to_numpy() & (c["wait_s"].to_numpy()
                                                       <= answer_within_s)})
    g = obs.groupby("ti").sum().reindex(range(nt), fill_value=0)
    offered = (g["served"] + g["ab"]).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({
            "interval_start": origin + pd.to_timedelta(np.arange(nt) * interval_s, unit="s"),
            "agents": agents,
            "offered": offered,
            "asa_s": g["wait_served"].to_numpy() / g["served"].to_numpy(),
            "p_abandon": g["ab"].to_numpy() / offered,
            "service_level": g["within"].to_numpy() / offered,
            "sim_asa_s": sim_asa,
            "sim_p_abandon": sim_pab,
            "sim_service_level": sim_sl,
        })
    cv = float(np.std(np.asarray(shape.unit)))
    return ReplayResult(frame=frame[frame["offered"] > 0].reset_index(drop=True),
                        patience_s=patience_s, handle_cv=cv, replications=replications)
