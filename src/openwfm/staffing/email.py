"""Email / back-office staffing: a backlog (fluid FIFO) model over the day, not Erlang.

Email waits across intervals, so an interval's requirement depends on the backlog it
inherits. The model, for one queue over consecutive intervals ``i`` of length ``L_i``:

- items arrive uniformly within interval ``i`` (``volume_i`` items), each bringing
  ``aht_s_i`` seconds of work; agents work the backlog first-in first-out; ``n_i`` agents
  process ``n_i`` seconds of work per second (a fluid, i.e. deterministic, model);
- the work backlog ``Q`` follows ``Q' = w_i - n_i`` while ``Q > 0`` (``w_i`` = arriving
  work per second), and ``P(t)`` = work done by time ``t``; an item arriving at ``s``
  after ``A(s)`` seconds of work is answered at the first ``t`` with ``P(t) >= A(s)``;
- after the last interval agents keep working at the last interval's level with no new
  arrivals (so items near the end are judged on the capacity that would follow);
- an item is answered within the deadline ``D`` iff ``P(s + D) >= A(s)``. Since ``P`` and
  ``A`` are piecewise linear, the fraction of items meeting it is computed exactly.

Per interval we report ``service_level`` (fraction of that interval's items answered within
the deadline), ``asa_s`` (their mean response time, a 256-point midpoint rule),
``p_wait`` (fraction that find a backlog), and ``occupancy`` (work done / capacity).
The requirement is a **level profile**: the smallest constant integer number of agents over
the given intervals such that the fraction of all items answered within the deadline is at
least the target (found by bisection: more capacity never answers an item later). Overnight
closures are the caller's to cut out of the rows; a level profile staffs every row given.

References
----------
.. [1] G. Koole (2013), "Call Center Optimization", chapter on email and back office
   (deadlines across intervals, fluid models).
.. [2] G. F. Newell (1982), "Applications of Queueing Theory", ch. 2-3: fluid (cumulative
   curve) approximations of queues.

Examples
--------
Two hours; 200 items in the first (36 s of work each), none in the second; one agent is
half as fast as the arrivals, so the item arriving at ``s`` is answered at ``2 s``:

>>> r = backlog_metrics([200, 0], 36, 3600, [1, 1], deadline_s=1800)
>>> float(r.service_level), r.interval_service_level.tolist(), r.asa_s.round(1).tolist()
(0.5, [0.5, 1.0], [1800.0, 0.0])
>>> int(backlog_required_agents([200, 0], 36, 3600, 0.9, deadline_s=1800).agents[0])
2
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["BacklogResult", "backlog_metrics", "backlog_required_agents"]

_SAMPLES = 256


@dataclass(frozen=True)
class BacklogResult:
    """Per-interval results of the fluid FIFO backlog model (arrays of length m).

    ``service_level`` is the overall fraction of items answered within the deadline;
    ``interval_service_level`` the same per arrival interval (1 where no item arrives).
    """

    agents: NDArray[np.int64]
    service_level: float
    interval_service_level: NDArray[np.float64]
    asa_s: NDArray[np.float64]
    p_wait: NDArray[np.float64]
    occupancy: NDArray[np.float64]
    backlog_end_s: NDArray[np.float64]
    """Work (agent-seconds) still waiting at the end of each interval."""


def _arrays(volume, aht_s, interval_s, agents, deadline_s):
    v, aht, length, n, d = (np.asarray(x, dtype=np.float64) for x in
                            (volume, aht_s, interval_s, agents, deadline_s))
    m = np.broadcast_shapes(v.shape, aht.shape, length.shape, n.shape, d.shape)
    if len(m) != 1:
        raise ValueError("backlog inputs must be one-dimensional (one value per interval)")
    v, aht, length, n, d = (np.broadcast_to(x, m).copy() for x in (v, aht, length, n, d))
    if np.any(~(v >= 0)) or np.any(~(aht > 0)) or np.any(~(length > 0)) or np.any(~(n >= 0)):
        raise ValueError("need volume >= 0, aht_s > 0, interval_s > 0, agents >= 0")
    if np.any(~(d >= 0)):
        raise ValueError("deadline_s must be >= 0")
    return v, aht, length, n, d


def _knots(w, n, t):
    """Knots (time, work done) of the piecewise-linear P(t), and backlog at interval ends."""
    tk, pk = [0.0], [0.0]
    q = 0.0
    a = 0.0
    q_end = np.empty(len(w))
    for i in range(len(w)):
        length = t[i + 1] - t[i]
        if q > 0.0 and n[i] > w[i]:
            tau = q / (n[i] - w[i])
            if tau < length:
                tk.append(t[i] + tau)
                pk.append(a + w[i] * tau)
                q = 0.0
                a += w[i] * length
                tk.append(t[i + 1])
                pk.append(a)
                q_end[i] = 0.0
                continue
        q = max(0.0, q + (w[i] - n[i]) * length)
        a += w[i] * length
        tk.append(t[i + 1])
        pk.append(a - q)
        q_end[i] = q
    if q > 0.0 and n[-1] > 0.0:
        tk.append(t[-1] + q / n[-1])
        pk.append(a)
    return np.asarray(tk), np.asarray(pk), q_end


def _evaluate(v, aht, length, n, d):
    m = len(v)
    t = np.concatenate([[0.0], np.cumsum(length)])
    w = v * aht / length
    tk, pk, q_end = _knots(w, n, t)
    a_start = np.concatenate([[0.0], np.cumsum(w * length)])

    def done(s):
        return np.interp(s, tk, pk)

    frac = np.ones(m)
    asa_s = np.zeros(m)
    p_wait = np.zeros(m)
    q_start = np.concatenate([[0.0], q_end[:-1]])
    for i in range(m):
        if v[i] <= 0.0:
            continue
        lo, hi = t[i], t[i + 1]
        shifted = tk - d[i]
        pts = np.unique(np.concatenate([[lo, hi], shifted[(shifted > lo) & (shifted < hi)]]))
        g = done(pts + d[i]) - (a_start[i] + w[i] * (pts - lo))
        tol = 1e-9 * max(1.0, a_start[-1])
        ok_len = 0.0
        for j in range(len(pts) - 1):
            g0, g1 = g[j], g[j + 1]
            seg = pts[j + 1] - pts[j]
            if g0 >= -tol and g1 >= -tol:
                ok_len += seg
            elif g0 >= -tol or g1 >= -tol:
                root = g0 / (g0 - g1)  # fraction of the segment where g crosses 0
                ok_len += seg * (root if g0 >= -tol else 1.0 - root)
        frac[i] = ok_len / (hi - lo)
        # mean response time: first t with P(t) >= A(s), midpoint rule over s
        s = lo + (np.arange(_SAMPLES) + 0.5) / _SAMPLES * (hi - lo)
        target = a_start[i] + w[i] * (s - lo)
        k = np.searchsorted(pk, target - tol, side="left")
        finish = np.full(_SAMPLES, np.inf)
        inside = k < len(pk)
        kk = np.clip(k, 1, len(pk) - 1)
        dp = pk[kk] - pk[kk - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            tt = tk[kk - 1] + np.where(dp > 0, (target - pk[kk - 1]) / dp, 0.0) * (
                tk[kk] - tk[kk - 1])
        tt = np.where(k == 0, tk[0], tt)
        finish[inside] = tt[inside]
        asa_s[i] = float(np.mean(np.maximum(finish - s, 0.0)))
        # fraction of the interval with a backlog
        if w[i] > n[i]:
            p_wait[i] = 1.0
        elif w[i] == n[i]:
            p_wait[i] = 1.0 if q_start[i] > 0 else 0.0
        else:
            p_wait[i] = min(1.0, q_start[i] / (n[i] - w[i]) / length[i])
    work_done = np.diff(np.interp(t, tk, pk))
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(n > 0, work_done / (n * length), 0.0)
    total = float(v.sum())
    overall = float((v * frac).sum() / total) if total > 0 else 1.0
    return BacklogResult(agents=n.astype(np.int64), service_level=overall,
                         interval_service_level=frac, asa_s=asa_s, p_wait=p_wait,
                         occupancy=occ, backlog_end_s=q_end)


def backlog_metrics(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    agents: ArrayLike,
    deadline_s: ArrayLike,
) -> BacklogResult:
    """Evaluate given agents per interval under the fluid FIFO backlog model.

    Parameters
    ----------
    volume : array_like
        Items arriving in each consecutive interval.
    aht_s : array_like
        Work per item (seconds), per interval or scalar.
    interval_s : array_like
        Interval lengths (seconds).
    agents : array_like
        Productive agents per interval.
    deadline_s : array_like
        Response-time target (seconds) of the items arriving in each interval.

    Examples
    --------
    >>> r = backlog_metrics([100], 36, 3600, [1], deadline_s=0)   # capacity = arrivals
    >>> float(r.service_level), float(r.occupancy[0]), float(r.p_wait[0])
    (1.0, 1.0, 0.0)
    """
    return _evaluate(*_arrays(volume, aht_s, interval_s, agents, deadline_s))


def backlog_required_agents(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    sl_target: float,
    deadline_s: ArrayLike,
) -> BacklogResult:
    """Smallest constant (level) agent count answering ``sl_target`` of items in time.

    Examples
    --------
    >>> r = backlog_required_agents([200, 0], 36, 3600, 0.5, deadline_s=1800)
    >>> r.agents.tolist(), r.service_level
    ([1, 1], 0.5)
    """
    if not 0.0 < sl_target < 1.0:
        raise ValueError("sl_target must lie in (0, 1)")
    v, aht, length, _, d = _arrays(volume, aht_s, interval_s, 0.0, deadline_s)
    if v.sum() <= 0:
        return _evaluate(v, aht, length, np.zeros_like(v), d)

    def meets(k: int) -> bool:
        return _evaluate(v, aht, length, np.full_like(v, k), d).service_level >= sl_target

    hi = max(1, math.ceil(float(np.max(v * aht / length))))  # never a backlog: all on time
    lo = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid
    return _evaluate(v, aht, length, np.full_like(v, hi), d)
