"""KPIs computed from the contact log, per queue and interval, with 95% confidence intervals.

Definitions (openwfm's, see ``docs/simulation.md``); a contact belongs to the interval in
which it *arrives*; contacts arriving before the model's warm-up are left out. A run from a
state (`openwfm.simulation.model.InitialState`): a contact waiting at the start belongs to
the interval holding the start, with its whole wait; one in service at the start to none:

- ``service_level`` = contacts answered within ``answer_within_s`` ÷ contacts offered
  (abandons count as failures; a zero wait counts as a success; ``wait <= answer_within_s``);
- ``asa_s`` = mean wait of answered contacts (zero waits included);
- ``p_abandon`` = abandoned ÷ offered;
- ``occupancy`` = agent-seconds spent handling ÷ agent-seconds present, over the agents
  having the queue among their skills (a chat counts ``1 / concurrency``); an agent
  finishing a contact after its shift ended is present until it ends (a "ghost" agent), so
  occupancy never exceeds 1; with dedicated agents this is the textbook mean busy agents ÷
  agents.

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

__all__ = ["ReplicationCounts", "count_by_replication", "group_kpis", "interval_kpis",
           "kpi_ci", "mean_ci", "proportion_ci", "queue_kpis", "ratio_ci"]

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
def _pieces(start, end, interval_s, t0, nt):  # pragma: no cover - numba
    """Split each [start, end) (clipped to [t0, nt * interval_s)) at interval boundaries:
    (row of the span, interval, seconds) per piece."""
    m = start.size
    count = 0
    for i in range(m):
        s = max(start[i], t0)
        e = min(end[i], nt * interval_s)
        k = int(s // interval_s)
        while s < e:
            count += 1
            k += 1
            s = k * interval_s
    row = np.empty(count, np.int64)
    k_out = np.empty(count, np.int64)
    sec = np.empty(count)
    j = 0
    for i in range(m):
        s = max(start[i], t0)
        e = min(end[i], nt * interval_s)
        k = int(s // interval_s)
        while s < e:
            b = (k + 1) * interval_s
            row[j] = i
            k_out[j] = k
            sec[j] = min(e, b) - s
            j += 1
            s = b
            k += 1
    return row, k_out, sec


@dataclass(frozen=True, eq=False)
class ReplicationCounts:
    """Per replication and *used cell* (a queue and interval with a volume, a contact or an
    agent of the queue's pool present):
    (replications x cells) arrays; `cell_queue`, `cell_interval` name the cells. Memory is
    proportional to replications x used cells, never replications x queues x intervals;
    `dense(name)` gives the (replications x queues x intervals) array of a small model."""

    offered: NDArray[np.float64]
    answered: NDArray[np.float64]
    answered_within: NDArray[np.float64]
    abandoned: NDArray[np.float64]
    abandoned_after: NDArray[np.float64]
    wait_answered_s: NDArray[np.float64]
    busy_s: NDArray[np.float64]
    available_s: NDArray[np.float64]
    cell_queue: NDArray[np.int64]
    cell_interval: NDArray[np.int64]
    n_queues: int
    n_intervals: int

    def dense(self, name: str) -> NDArray[np.float64]:
        """Count `name` as a (replications x queues x intervals) array (zeros elsewhere)."""
        x = getattr(self, name)
        out = np.zeros((x.shape[0], self.n_queues, self.n_intervals))
        out[:, self.cell_queue, self.cell_interval] = x
        return out

    def by_queue(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Sum a (replications x cells) array per queue: (replications x queues)."""
        nr = x.shape[0]
        flat = (np.arange(nr)[:, None] * self.n_queues + self.cell_queue[None, :]).ravel()
        return np.bincount(flat, weights=np.asarray(x, dtype=float).ravel(),
                           minlength=nr * self.n_queues).reshape(nr, self.n_queues)


def _skills_csr(model: SimulationModel) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    rank = np.asarray(model.skill_rank)
    a, q = np.nonzero(rank >= 0)
    ptr = np.zeros(rank.shape[0] + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(a, minlength=rank.shape[0]))
    return ptr, q.astype(np.int64)


def _by_skill(rep, agent, k, sec, model, nt):
    """Seconds per (replication, agent, interval) -> (replication, cell key, seconds) for
    every queue among the agent's skills (the queue's agent pool); key = queue * nt + k."""
    ptr, qs = _skills_csr(model)
    n_sk = ptr[agent + 1] - ptr[agent]
    rows = np.repeat(np.arange(agent.size), n_sk)
    offs = np.arange(rows.size) - np.repeat(np.cumsum(n_sk) - n_sk, n_sk)
    q = qs[ptr[agent][rows] + offs]
    return rep[rows], q * nt + k[rows], sec[rows]


def _to_cells(rep, key, sec, cells, nr):
    """Sum seconds per (replication, used cell); keys outside `cells` are dropped."""
    if cells.size == 0:
        return np.zeros((nr, 0))
    pos = np.minimum(np.searchsorted(cells, key), cells.size - 1)
    hit = cells[pos] == key
    return np.bincount(rep[hit] * cells.size + pos[hit], weights=sec[hit],
                       minlength=nr * cells.size).reshape(nr, cells.size)


def count_by_replication(log: ContactLog, model: SimulationModel) -> ReplicationCounts:
    """Count the log per replication and arrival cell (after warm-up), and the busy /
    present agent-seconds of each queue's agent pool per interval (presence includes ghost
    agents finishing a contact after their shift, so busy <= present)."""
    nr, nq, nt = log.replications, len(model.queues), model.n_intervals
    # a contact waiting at the start of a run from a state counts at the start (the
    # interval in progress); one in service at the start is not counted (answered before)
    at = log.arrival_s
    if model.initial is not None:
        at = np.where(log.carried == 1, float(model.initial.start_s), log.arrival_s)
    keep = (at >= model.warmup_s) & (at < model.horizon_s) & (log.carried != 2)
    ti = np.clip((at // model.interval_s).astype(np.int64), 0, nt - 1)
    key = log.queue.astype(np.int64) * nt + ti
    # agents present per queue pool and interval (ghosts included)
    p = log.presence
    row, k, sec = _pieces(np.asarray(p.start_s), np.asarray(p.end_s), float(model.interval_s),
                          float(model.warmup_s), nt)
    p_rep, p_key, p_sec = _by_skill(p.replication.astype(np.int64)[row],
                                    p.agent.astype(np.int64)[row], k, sec, model, nt)
    vq, vt = np.nonzero(np.asarray(model.volume) > 0)
    cells = np.unique(np.concatenate([vq.astype(np.int64) * nt + vt, key[keep], p_key]))
    nc = cells.size
    cell = np.searchsorted(cells, key)
    flat = log.replication.astype(np.int64) * nc + cell
    within_s = np.array([q.answer_within_s for q in model.queues])[log.queue]
    served = log.served

    def count(mask: NDArray[np.bool_], w: NDArray[np.float64] | None = None) -> NDArray:
        m = keep & mask
        out = np.bincount(flat[m], weights=None if w is None else w[m], minlength=nr * nc)
        return out.astype(float).reshape(nr, nc)

    ones = np.ones(len(log), dtype=bool)
    conc = np.array([max(1, q.concurrency) for q in model.queues], dtype=float)
    s = log.arrival_s[served] + log.wait_s[served]
    row, k, sec = _pieces(s, s + log.handle_s[served], float(model.interval_s),
                          float(model.warmup_s), nt)
    w = (1.0 / conc[log.queue[served]])[row]
    busy = _to_cells(*_by_skill(log.replication[served].astype(np.int64)[row],
                                log.agent[served].astype(np.int64)[row], k, sec * w, model,
                                nt), cells, nr)
    avail = _to_cells(p_rep, p_key, p_sec, cells, nr)
    return ReplicationCounts(
        offered=count(ones),
        answered=count(served),
        answered_within=count(served & (log.wait_s <= within_s)),
        abandoned=count(log.abandoned),
        abandoned_after=count(log.abandoned & (log.wait_s >= within_s)),
        wait_answered_s=count(served, log.wait_s),
        busy_s=busy,
        available_s=avail,
        cell_queue=(cells // max(nt, 1)).astype(np.int64),
        cell_interval=(cells % max(nt, 1)).astype(np.int64),
        n_queues=nq,
        n_intervals=nt,
    )


def _ratios(c: ReplicationCounts, by_queue: bool = False) -> dict[str, NDArray[np.float64]]:
    def s(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return c.by_queue(x) if by_queue else x

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
    """Per queue and interval with a volume, a contact or an agent present (queue-major, in
    time order): mean
    offered/answered/abandoned per replication and each KPI with its confidence bounds
    (``<kpi>_lo``, ``<kpi>_hi``).

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
    ids = np.array([q.id for q in model.queues], dtype=object)
    within = np.array([q.answer_within_s for q in model.queues], dtype=float)
    out = pd.DataFrame({
        "interval_start": model.origin + pd.to_timedelta(c.cell_interval * model.interval_s,
                                                         unit="s"),
        "queue": ids[c.cell_queue],
        "answer_within_s": within[c.cell_queue],
        "offered": c.offered.mean(axis=0),
        "answered": c.answered.mean(axis=0),
        "abandoned": c.abandoned.mean(axis=0),
    })
    for name, x in _ratios(c).items():
        m, lo, hi = kpi_ci(name, x, axis=0, level=level)
        out[name], out[f"{name}_lo"], out[f"{name}_hi"] = m, lo, hi
    out["replications"] = log.replications
    out["interval_start"] = pd.to_datetime(out["interval_start"], utc=True)
    return out


def queue_kpis(log: ContactLog, model: SimulationModel, *, level: float = 0.95,
               counts: ReplicationCounts | None = None) -> pd.DataFrame:
    """Per queue over the whole horizon (after warm-up): each KPI as a ratio of sums in each
    replication, then mean and confidence bounds across replications."""
    c = counts or count_by_replication(log, model)

    def per_queue(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return c.by_queue(x).mean(axis=0)

    out = pd.DataFrame({
        "queue": [q.id for q in model.queues],
        "answer_within_s": [q.answer_within_s for q in model.queues],
        "offered": per_queue(c.offered),
        "answered": per_queue(c.answered),
        "abandoned": per_queue(c.abandoned),
    })
    for name, x in _ratios(c, by_queue=True).items():
        m, lo, hi = kpi_ci(name, x, axis=0, level=level)
        out[name], out[f"{name}_lo"], out[f"{name}_hi"] = m, lo, hi
    out["replications"] = log.replications
    return out


def ratio_ci(num: NDArray[np.float64], den: NDArray[np.float64], level: float = 0.95
             ) -> tuple[float, float, float]:
    """Ratio of means ``sum(num) / sum(den)`` over replications with its delta-method
    confidence interval (ContactCenters' "function of averages"): the estimator of a
    long-run ratio such as a day's service level or occupancy when days differ in size.

    References
    ----------
    Law, A. M. (2015), *Simulation Modeling and Analysis*, 5th ed., sec. 9.5 (ratio
    estimators); L'Ecuyer, SSJ ``FunctionOfMultipleMeansTally`` (delta method).

    Examples
    --------
    >>> import numpy as np
    >>> r, lo, hi = ratio_ci(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]))
    >>> r, round(lo, 6), round(hi, 6)
    (0.5, 0.5, 0.5)
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    n = num.size
    mx, my = num.mean(), den.mean()
    r = mx / my
    if n < 2:
        return float(r), float("nan"), float("nan")
    cov = np.cov(np.stack([num, den]), ddof=1)
    var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (my * my)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * np.sqrt(max(var, 0.0) / n)
    return float(r), float(r - half), float(r + half)


def group_kpis(log: ContactLog, model: SimulationModel, *, level: float = 0.95
               ) -> pd.DataFrame:
    """Per agent group over each whole replication -- from the warm-up to the instant the
    last contact leaves, so agents staying after the horizon (a day's wrap-up) count --:
    ``busy_s`` and ``present_s`` (agent-seconds per replication, ghost agents finishing a
    contact after leaving included) and ``occupancy`` = busy ÷ present as a ratio of means
    with its delta-method CI (`ratio_ci`), as ContactCenters reports it."""
    group_ids, agent_group = model.groups()
    ng, nr = len(group_ids), log.replications
    conc = np.array([max(1, q.concurrency) for q in model.queues], dtype=float)
    t0 = float(model.warmup_s)
    sv = log.served
    s = log.arrival_s[sv] + log.wait_s[sv]
    busy_sec = np.clip(s + log.handle_s[sv], t0, None) - np.clip(s, t0, None)
    busy = np.bincount(log.replication[sv].astype(np.int64) * ng
                       + agent_group[log.agent[sv]],
                       weights=busy_sec / conc[log.queue[sv]], minlength=nr * ng)
    p = log.presence
    pres_sec = np.clip(p.end_s, t0, None) - np.clip(p.start_s, t0, None)
    present = np.bincount(p.replication.astype(np.int64) * ng + agent_group[p.agent],
                          weights=pres_sec, minlength=nr * ng)
    busy, present = busy.reshape(nr, ng), present.reshape(nr, ng)
    rows = []
    for g, gid in enumerate(group_ids):
        occ = ratio_ci(busy[:, g], present[:, g], level) if present[:, g].sum() > 0 else (
            np.nan, np.nan, np.nan)
        occ = (occ[0], *np.clip(occ[1:], 0.0, 1.0))  # a proportion: bounds inside [0, 1]
        rows.append({"group": gid, "agents": int((agent_group == g).sum()),
                     "busy_s": busy[:, g].mean(), "present_s": present[:, g].mean(),
                     "occupancy": occ[0], "occupancy_lo": occ[1], "occupancy_hi": occ[2]})
    return pd.DataFrame(rows)
