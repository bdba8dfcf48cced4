"""The discrete-event engine: a compiled event loop over flat numpy arrays.

Per replication, everything random is drawn up front with numpy (vectorized): the day-level
busyness factors, the Poisson number of arrivals per queue and interval, their uniform
times inside the interval (a non-homogeneous Poisson process with piecewise-constant rate),
handle times and patience. The numba loop (`_event_loop`) then merges three time-ordered
streams: arrivals (sorted array), agent log-on/log-off events (sorted array) and service
completions (a binary heap). Waiting contacts sit in per-queue FIFO buffers; abandonment is
exact but lazy: a contact whose ``arrival + patience`` has passed when it reaches the head
of its queue is recorded as abandoned at that instant, never served.

Routing (`openwfm.simulation.routing`): an arriving contact goes to the available agent
with that skill with the lowest load, ties to the longest idle; an agent that frees
capacity takes, among its skills, the queue of highest priority, ties by the agent's skill
preference order, oldest contact first (FIFO). A chat contact uses ``1 / concurrency`` of an
agent, a voice or email contact the whole agent. An agent whose work segment ends finishes
what it holds and takes nothing new.

Replications are seeded with ``np.random.SeedSequence(seed).spawn(R)``: replication r gets
the same random numbers whichever backend runs it ("serial", "threads" -- the loop releases
the GIL, so threads use all cores --, "processes", or "dask" on a `distributed.Client`).
Events at the same instant are taken in this order: log-on/log-off, completions, arrivals
(an agent whose shift ends when its contact ends takes no new one).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Literal

import numba as nb
import numpy as np
from numpy.typing import NDArray

from openwfm.simulation.model import SimulationModel
from openwfm.simulation.records import ContactLog, Replication
from openwfm.simulation.routing import RoutingTables, routing_tables

__all__ = ["Backend", "Replication", "replicate", "run_replications"]

Backend = Literal["serial", "threads", "processes", "dask"]

_EPS = 1e-9


@nb.njit(cache=True, nogil=True)
def _heap_push(ht: NDArray[np.float64], hc: NDArray[np.int64], n: int, t: float, c: int) -> int:
    i = n
    ht[i] = t
    hc[i] = c
    while i > 0:
        p = (i - 1) >> 1
        if ht[p] <= ht[i]:
            break
        ht[p], ht[i] = ht[i], ht[p]
        hc[p], hc[i] = hc[i], hc[p]
        i = p
    return n + 1


@nb.njit(cache=True, nogil=True)
def _heap_pop(ht: NDArray[np.float64], hc: NDArray[np.int64], n: int) -> int:
    n -= 1
    ht[0] = ht[n]
    hc[0] = hc[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        m = left
        if left + 1 < n and ht[left + 1] < ht[left]:
            m = left + 1
        if ht[i] <= ht[m]:
            break
        ht[m], ht[i] = ht[i], ht[m]
        hc[m], hc[i] = hc[i], hc[m]
        i = m
    return n


@nb.njit(cache=True, nogil=True)
def _event_loop(arr_t, arr_q, arr_h, arr_p, q_load, q_ptr, q_agents, a_ptr, a_queues,
                ev_t, ev_a, ev_on, n_agents, buf_ptr, horizon_s):  # pragma: no cover - numba
    n = arr_t.size
    nq = q_load.size
    wait = np.full(n, np.nan)
    agent_of = np.full(n, -1, np.int64)
    outcome = np.full(n, 2, np.int8)  # 0 served, 1 abandoned, 2 unserved at the end
    a_on = np.zeros(n_agents, np.bool_)
    a_load = np.zeros(n_agents)
    a_idle = np.zeros(n_agents)
    buf = np.empty(max(n, 1), np.int64)
    head = buf_ptr[:nq].copy()
    tail = buf_ptr[:nq].copy()
    # capacity of the completion heap: every agent full of the smallest-load contacts
    max_conc = 1
    for q in range(nq):
        k = round(1.0 / q_load[q])
        if k > max_conc:
            max_conc = k
    cap = n_agents * max_conc + 1
    ht = np.empty(cap)
    hc = np.empty(cap, np.int64)
    hn = 0
    ia = 0
    ie = 0
    ne = ev_t.size
    t = 0.0
    inf = np.inf
    while True:
        ta = arr_t[ia] if ia < n else inf
        te = ev_t[ie] if ie < ne else inf
        tc = ht[0] if hn > 0 else inf
        a = -1
        if ta == inf and te == inf and tc == inf:
            break
        if tc < te and tc <= ta:  # on ties: shift events, then completions, then arrivals
            t = tc
            c = hc[0]
            hn = _heap_pop(ht, hc, hn)
            a = agent_of[c]
            a_load[a] -= q_load[arr_q[c]]
            if a_load[a] < _EPS:
                a_load[a] = 0.0
            a_idle[a] = t
            if not a_on[a]:
                a = -1
        elif te <= ta:
            t = te
            a = ev_a[ie]
            on = ev_on[ie]
            ie += 1
            if on:
                if not a_on[a]:
                    a_on[a] = True
                    a_idle[a] = t
            else:
                a_on[a] = False
                a = -1
        else:
            t = ta
            c = ia
            ia += 1
            q = arr_q[c]
            best = -1
            best_load = inf
            best_idle = inf
            need = q_load[q]
            for k in range(q_ptr[q], q_ptr[q + 1]):
                b = q_agents[k]
                if (a_on[b] and a_load[b] + need <= 1.0 + _EPS) and (
                    a_load[b] < best_load - _EPS
                    or (a_load[b] <= best_load + _EPS and a_idle[b] < best_idle)
                ):
                    best = b
                    best_load = a_load[b]
                    best_idle = a_idle[b]
            if best >= 0:
                wait[c] = 0.0
                agent_of[c] = best
                outcome[c] = 0
                a_load[best] += need
                hn = _heap_push(ht, hc, hn, t + arr_h[c], c)
            else:
                buf[tail[q]] = c
                tail[q] += 1
        # an agent with free capacity pulls waiting contacts
        while a >= 0:
            took = False
            for k in range(a_ptr[a], a_ptr[a + 1]):
                q = a_queues[k]
                if a_load[a] + q_load[q] > 1.0 + _EPS:
                    continue
                while head[q] < tail[q]:
                    c = buf[head[q]]
                    if arr_t[c] + arr_p[c] <= t:
                        outcome[c] = 1
                        wait[c] = arr_p[c]
                        head[q] += 1
                    else:
                        break
                if head[q] < tail[q]:
                    c = buf[head[q]]
                    head[q] += 1
                    wait[c] = t - arr_t[c]
                    agent_of[c] = a
                    outcome[c] = 0
                    a_load[a] += q_load[q]
                    hn = _heap_push(ht, hc, hn, t + arr_h[c], c)
                    took = True
                    break
            if not took:
                break
    t_end = max(t, horizon_s)
    for q in range(nq):
        for k in range(head[q], tail[q]):
            c = buf[k]
            if np.isfinite(arr_p[c]):
                outcome[c] = 1
                wait[c] = arr_p[c]
            else:
                wait[c] = t_end - arr_t[c]
    return wait, agent_of, outcome


def _draw_arrivals(model: SimulationModel, rng: np.random.Generator
                   ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    if model.arrivals_s is not None:
        t = np.asarray(model.arrivals_s, dtype=float)
        q = np.asarray(model.arrival_queue, dtype=np.int64)
        order = np.argsort(t, kind="stable")
        return t[order], q[order]
    nq, nt = model.volume.shape
    lam = np.asarray(model.volume, dtype=float)
    if model.busyness_cv > 0:
        ndays = int(np.ceil(model.horizon_s / 86400.0))
        k = 1.0 / model.busyness_cv**2
        factor = rng.gamma(k, 1.0 / k, size=ndays)
        day = (np.arange(nt) * model.interval_s // 86400).astype(np.int64)
        lam = lam * factor[day][None, :]
    counts = rng.poisson(lam).ravel()
    cell = np.repeat(np.arange(nq * nt), counts)
    q = cell // nt
    ti = cell % nt
    t = (ti + rng.random(cell.size)) * model.interval_s
    order = np.argsort(t, kind="stable")
    return t[order], q[order].astype(np.int64)


def _draw_durations(model: SimulationModel, t: NDArray[np.float64], q: NDArray[np.int64],
                    rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    nt = model.n_intervals
    ti = np.clip((t // model.interval_s).astype(np.int64), 0, nt - 1)
    mean_h = np.asarray(model.aht_s, dtype=float)[q, ti]
    handle = np.empty(t.size)
    patience = np.full(t.size, np.inf)
    for qi, spec in enumerate(model.queues):
        m = q == qi
        handle[m] = spec.handle.sample(rng, mean_h[m])
        if spec.patience is not None and np.isfinite(spec.patience_s):
            patience[m] = spec.patience.sample(rng, np.full(int(m.sum()), spec.patience_s))
    return handle, patience


def replicate(model: SimulationModel, seed: np.random.SeedSequence | int,
              tables: RoutingTables | None = None) -> Replication:
    """Simulate one replication of `model` with its own seed.

    Examples
    --------
    >>> from openwfm.simulation.model import single_queue_model
    >>> m = single_queue_model(arrival_rate_per_s=0.5, aht_s=10, agents=8, horizon_s=3600)
    >>> r = replicate(m, 7)
    >>> bool((r.outcome == 0).all()), bool((r.wait_s >= 0).all())
    (True, True)
    """
    rng = np.random.default_rng(seed)
    tables = tables or routing_tables(model)
    t, q = _draw_arrivals(model, rng)
    handle, patience = _draw_durations(model, t, q, rng)
    buf_ptr = np.zeros(len(model.queues) + 1, dtype=np.int64)
    buf_ptr[1:] = np.cumsum(np.bincount(q, minlength=len(model.queues)))
    wait, agent, outcome = _event_loop(
        t, q, handle, patience, tables.q_load, tables.q_ptr, tables.q_agents, tables.a_ptr,
        tables.a_queues, tables.ev_t, tables.ev_a, tables.ev_on, len(model.agent_ids),
        buf_ptr, model.horizon_s)
    return Replication(t, q, handle, patience, wait, agent, outcome)


def _one(args: tuple[SimulationModel, np.random.SeedSequence]) -> Replication:
    return replicate(args[0], args[1])


def _dask_one(model: SimulationModel, seed: np.random.SeedSequence) -> Replication:
    return replicate(model, seed)


def run_replications(
    model: SimulationModel,
    replications: int,
    seed: int | np.random.SeedSequence | None,
    *,
    backend: Backend = "threads",
    client: Any = None,
    workers: int | None = None,
) -> ContactLog:
    """Simulate `replications` independent replications and return their contact log.

    Replication r uses child r of ``SeedSequence(seed)``, so the log is identical for the
    same seed whatever the backend.
    """
    if replications < 1:
        raise ValueError("replications must be >= 1")
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    seeds: Sequence[np.random.SeedSequence] = ss.spawn(replications)
    workers = workers or os.cpu_count() or 1
    if backend == "serial" or (backend == "threads" and (replications == 1 or workers == 1)):
        tables = routing_tables(model)
        reps = [replicate(model, s, tables) for s in seeds]
    elif backend == "threads":
        tables = routing_tables(model)
        first = replicate(model, seeds[0], tables)  # loads the compiled loop once
        with ThreadPoolExecutor(max_workers=workers) as ex:
            reps = [first, *ex.map(lambda s: replicate(model, s, tables), seeds[1:])]
    elif backend == "processes":
        with ProcessPoolExecutor(max_workers=workers) as ex:
            reps = list(ex.map(_one, [(model, s) for s in seeds]))
    elif backend == "dask":
        if client is None:
            raise ValueError("backend='dask' needs a distributed.Client (client=...)")
        [fmodel] = client.scatter([model], broadcast=True)
        futures = client.map(_dask_one, [fmodel] * replications, list(seeds), pure=False)
        reps = client.gather(futures)
    else:
        raise ValueError(f"unknown backend {backend!r}")
    return ContactLog.from_replications(model, reps)
