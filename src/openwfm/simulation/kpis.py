"""KPIs computed from the contact log, per queue and interval, with 95% confidence intervals.

Definitions (openwfm's, see ``docs/simulation.md``); a contact belongs to the interval in
which it *arrives*; contacts arriving before the model's warm-up are left out:

- ``service_level`` = contacts answered within ``answer_within_s`` ÷ contacts offered
  (abandons count as failures; a zero wait counts as a success; ``wait <= answer_within_s``);
- ``asa_s`` = mean wait of answered contacts (zero waits included);
- ``p_abandon`` = abandoned ÷ offered;
- ``occupancy`` = agent-seconds spent handling ÷ agent-seconds in work segments, over the
  agents having the queue among their skills (a chat counts ``1 / concurrency``); with
  dedicated agents this is the textbook mean busy agents ÷ agents.

Each KPI is computed in each replication; the table gives the mean over replications and a
95% confidence interval, n counting the replications in which the KPI is defined (e.g.
offered > 0): for ``asa_s`` the Student-t interval ``mean ± t(0.975, n-1) · sd / sqrt(n)``
(`mean_ci`, lower end at least 0); for the proportions (``service_level``, ``p_abandon``,
``occupancy``) the Wilson score interval on the effective sample size
``p(1 - p) / (sd² / n)`` with the same t quantile (`proportion_ci`), which stays inside
[0, 1] and equals the t interval when the proportion is far from 0 and 1.

References
----------
Law, A. M. (2015). *Simulation Modeling and Analysis*, 5th ed., ch. 9 (independent
replications, t confidence intervals).
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22(158):209-212.
Korn, E. L. & Graubard, B. I. (1998). Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. *Survey Methodology*
24(2):193-201 (Wilson interval on the effective sample size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from openwfm.simulation.model import SimulationModel
from openwfm.simulation.records import ContactLog

__all__ = ["ReplicationCounts", "count_by_replication", "interval_kpis", "kpi_ci", "mean_ci",
           "proportion_ci", "queue_kpis"]

KPIS: tuple[str, ...] = ("service_level", "asa_s", "p_abandon", "occupancy")
PROPORTIONS: tuple[str, ...] = ("service_level", "p_abandon", "occupancy")
"""The KPIs that are proportions: their confidence intervals stay in [0, 1]."""


def mean_ci(x: NDArray[np.float64], axis: int = 0, level: float = 0.95
            ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Mean and Student-t confidence bounds along `axis`, ignoring NaN.

    Examples
    --------
    >>> import numpy as np
    >>> m, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0, np.nan]))
    >>> float(m), round(float(lo), 4), round(float(hi), 4)   # 2 ± 4.303 / sqrt(3)
    (2.0, -0.4841, 4.4841)
    """
    x = np.asarray(x, dtype=float)
    n = np.sum(np.isfinite(x), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.nanmean(x, axis=axis)
            sd = np.nanstd(x, axis=axis, ddof=1)
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    return m, m - half, m + half


def proportion_ci(x: NDArray[np.float64], axis: int = 0, level: float = 0.95
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Mean of per-replication proportions and its Wilson score interval on the effective
    sample size ``n_eff = p(1 - p) / var(mean)`` (Korn & Graubard 1998), ignoring NaN.

    With ``z`` the Student-t quantile of `mean_ci`, the bounds are
    ``(p + z²/2n_eff ± z·sqrt(p(1-p)/n_eff + z²/4n_eff²)) / (1 + z²/n_eff)``: always inside
    [0, 1], and equal to the t interval as ``n_eff`` grows (``p(1-p)/n_eff`` is the variance
    of the mean). Values outside [0, 1] are clipped into it.

    Examples
    --------
    >>> import numpy as np
    >>> m, lo, hi = proportion_ci(np.array([0.9, 1.0]))   # the t interval: 0.95 ± 0.635
    >>> float(m), round(float(lo), 4), round(float(hi), 4)
    (0.95, 0.0951, 0.9997)
    >>> m, lo, hi = proportion_ci(np.array([1.0, 1.0, 1.0]))
    >>> float(lo), float(hi)
    (1.0, 1.0)
    """
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    n = np.sum(np.isfinite(x), axis=axis)
    import warnings

    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = np.nanmean(x, axis=axis)
        var_mean = np.nanvar(x, axis=axis, ddof=1) / n
        z2 = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) ** 2
        # z²/n_eff = z² var(mean) / p(1-p); 0 where the replications agree exactly
        pq = p * (1.0 - p)
        k = np.where(var_mean > 0, z2 * var_mean / np.where(pq > 0, pq, np.nan), 0.0)
        centre = (p + k / 2) / (1 + k)
        half = np.sqrt(z2 * var_mean + k * k / 4) / (1 + k)
    ok = n >= 2
    lo = np.where(ok, np.clip(centre - half, 0.0, 1.0), np.nan)
    hi = np.where(ok, np.clip(centre + half, 0.0, 1.0), np.nan)
    return p, lo, hi


def kpi_ci(name: str, x: NDArray[np.float64], axis: int = 0, level: float = 0.95
           ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The confidence interval each KPI gets: `proportion_ci` for the proportions, else
    `mean_ci` with the lower end at least 0 (all other KPIs are non-negative)."""
    if name in PROPORTIONS:
        return proportion_ci(x, axis=axis, level=level)
    m, lo, hi = mean_ci(x, axis=axis, level=level)
    return m, np.maximum(lo, 0.0), hi


@nb.njit(cache=True)
def _spread(rep, row, start, end, weight, out, interval_s, t0):  # pragma: no cover - numba
    nt = out.shape[2]
    for i in range(start.size):
        s = start[i]
        e = min(end[i], nt * interval_s)
        if s < t0:
            s = t0
        k = int(s // interval_s)
        while k < nt and s < e:
            b = (k + 1) * interval_s
            seg = min(e, b) - s
            out[rep[i], row[i], k] += seg * weight[i]
            s = b
            k += 1


@dataclass(frozen=True, eq=False)
class ReplicationCounts:
    """Per replication, queue and interval: (replications x queues x intervals) arrays."""

    offered: NDArray[np.float64]
    answered: NDArray[np.float64]
    answered_within: NDArray[np.float64]
    abandoned: NDArray[np.float64]
    wait_answered_s: NDArray[np.float64]
    busy_s: NDArray[np.float64]
    available_s: NDArray[np.float64]


def count_by_replication(log: ContactLog, model: SimulationModel) -> ReplicationCounts:
    """Count the log per replication, queue and arrival interval (after warm-up), and the
    busy / available agent-seconds of each queue's agent pool per interval."""
    nr, nq, nt = log.replications, len(model.queues), model.n_intervals
    keep = (log.arrival_s >= model.warmup_s) & (log.arrival_s < model.horizon_s)
    ti = np.clip((log.arrival_s // model.interval_s).astype(np.int64), 0, nt - 1)
    cell = (log.replication.astype(np.int64) * nq + log.queue) * nt + ti
    size = nr * nq * nt
    within_s = np.array([q.answer_within_s for q in model.queues])[log.queue]
    served = log.served

    def count(mask: NDArray[np.bool_], w: NDArray[np.float64] | None = None) -> NDArray:
        m = keep & mask
        out = np.bincount(cell[m], weights=None if w is None else w[m], minlength=size)
        return out.astype(float).reshape(nr, nq, nt)

    ones = np.ones(len(log), dtype=bool)
    conc = np.array([max(1, q.concurrency) for q in model.queues], dtype=float)
    na = len(model.agent_ids)
    busy_a = np.zeros((nr, na, nt))
    s = log.arrival_s + log.wait_s
    _spread(log.replication[served].astype(np.int64), log.agent[served].astype(np.int64),
            s[served], s[served] + log.handle_s[served], 1.0 / conc[log.queue[served]],
            busy_a, float(model.interval_s), float(model.warmup_s))
    avail_a = np.zeros((1, na, nt))
    _spread(np.zeros(len(model.seg_agent), np.int64), np.asarray(model.seg_agent, np.int64),
            np.asarray(model.seg_start_s, float), np.asarray(model.seg_end_s, float),
            np.ones(len(model.seg_agent)), avail_a, float(model.interval_s),
            float(model.warmup_s))
    pool = (np.asarray(model.skill_rank) >= 0).astype(float)  # agents x queues
    return ReplicationCounts(
        offered=count(ones),
        answered=count(served),
        answered_within=count(served & (log.wait_s <= within_s)),
        abandoned=count(log.abandoned),
        wait_answered_s=count(served, log.wait_s),
        busy_s=np.einsum("rat,aq->rqt", busy_a, pool),
        available_s=np.broadcast_to(np.einsum("rat,aq->rqt", avail_a, pool), (nr, nq, nt)),
    )


def _ratios(c: ReplicationCounts, axis: tuple[int, ...] | None = None
            ) -> dict[str, NDArray[np.float64]]:
    def s(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return x if axis is None else x.sum(axis=axis)

    with np.errstate(invalid="ignore", divide="ignore"):
        off, ans = s(c.offered), s(c.answered)
        return {
            "service_level": np.where(off > 0, s(c.answered_within) / off, np.nan),
            "asa_s": np.where(ans > 0, s(c.wait_answered_s) / ans, np.nan),
            "p_abandon": np.where(off > 0, s(c.abandoned) / off, np.nan),
            "occupancy": np.where(s(c.available_s) > 0, s(c.busy_s) / s(c.available_s),
                                  np.nan),
        }


def interval_kpis(log: ContactLog, model: SimulationModel, *, level: float = 0.95,
                  counts: ReplicationCounts | None = None) -> pd.DataFrame:
    """Per queue and interval: mean offered/answered/abandoned per replication and each KPI
    with its confidence bounds (``<kpi>_lo``, ``<kpi>_hi``).

    Examples
    --------
    >>> from openwfm.simulation import single_queue_model, simulate
    >>> m = single_queue_model(arrival_rate_per_s=0.1, aht_s=60, agents=8, horizon_s=7200,
    ...                        interval_s=1800)
    >>> k = interval_kpis(simulate(m, replications=4, seed=3).log, m)
    >>> len(k), bool((k.service_level_lo <= k.service_level).all())
    (4, True)
    """
    c = counts or count_by_replication(log, model)
    nq, nt = len(model.queues), model.n_intervals
    starts = model.origin + pd.to_timedelta(np.arange(nt) * model.interval_s, unit="s")
    out = pd.DataFrame({
        "interval_start": np.tile(starts, nq),
        "queue": np.repeat([q.id for q in model.queues], nt),
        "answer_within_s": np.repeat([q.answer_within_s for q in model.queues], nt),
        "offered": c.offered.mean(axis=0).ravel(),
        "answered": c.answered.mean(axis=0).ravel(),
        "abandoned": c.abandoned.mean(axis=0).ravel(),
    })
    for name, x in _ratios(c).items():
        m, lo, hi = kpi_ci(name, x, axis=0, level=level)
        out[name], out[f"{name}_lo"], out[f"{name}_hi"] = m.ravel(), lo.ravel(), hi.ravel()
    out["replications"] = log.replications
    out["interval_start"] = pd.to_datetime(out["interval_start"], utc=True)
    return out


def queue_kpis(log: ContactLog, model: SimulationModel, *, level: float = 0.95,
               counts: ReplicationCounts | None = None) -> pd.DataFrame:
    """Per queue over the whole horizon (after warm-up): each KPI as a ratio of sums in each
    replication, then mean and confidence bounds across replications."""
    c = counts or count_by_replication(log, model)
    out = pd.DataFrame({
        "queue": [q.id for q in model.queues],
        "answer_within_s": [q.answer_within_s for q in model.queues],
        "offered": c.offered.sum(axis=2).mean(axis=0),
        "answered": c.answered.sum(axis=2).mean(axis=0),
        "abandoned": c.abandoned.sum(axis=2).mean(axis=0),
    })
    for name, x in _ratios(c, axis=(2,)).items():
        m, lo, hi = kpi_ci(name, x, axis=0, level=level)
        out[name], out[f"{name}_lo"], out[f"{name}_hi"] = m, lo, hi
    out["replications"] = log.replications
    return out
