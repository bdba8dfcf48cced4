"""The discrete-event engine: a compiled event loop over flat numpy arrays.

Per replication, everything random is drawn up front with numpy (vectorized): the day-level
busyness factors, the Poisson number of arrivals per queue and interval (only the cells with
a volume), their uniform times inside the interval (a non-homogeneous Poisson process with
piecewise-constant rate), handle times and patience, both with the mean of the contact's
queue and interval of *arrival*. The numba loop (`_event_loop`) then merges five
time-ordered streams: shift events (segment ends, group staffing changes, segment starts;
a sorted array), service completions (a binary heap), overflow re-offers of waiting contacts
(a heap) and arrivals (a sorted array). Waiting contacts sit in per-queue FIFO buffers;
abandonment is exact but lazy: a contact whose ``arrival + patience`` has passed when it
reaches the head of its queue is recorded as abandoned at that instant, never served.

Routing (`openwfm.simulation.policy`, tables in `openwfm.simulation.routing`): an arriving
contact goes to the free agent allowed to take it of lowest tier (overflow position, then
least skilled / proficiency when chosen), then lowest load, then longest idle; a contact
still waiting when it has waited an overflow delay is offered to the groups it became
eligible for. An agent that frees capacity takes a waiting contact by its group's agent
selection (queue priority; oldest across its queues; priority then oldest). A chat contact
uses ``1 / concurrency`` of an agent, a voice or email contact the whole agent.

Presence: an agent whose work segment ends, or who is sent away by a staffing drop (idle
agents first), finishes what it holds and takes nothing new; it stays *present* until then
(a "ghost" agent), and the presence records (`openwfm.simulation.records.PresenceLog`) are
what occupancy divides by.

Replications are seeded with ``np.random.SeedSequence(seed).spawn(R)``: replication r gets
the same random numbers whichever backend runs it ("serial", "threads" -- the loop releases
the GIL, so threads use all cores --, "processes", or "dask" on a `distributed.Client`).
Events at the same instant are taken in this order: segment ends, staffing changes, segment
starts, completions, overflow re-offers, arrivals (an agent whose shift ends when its
contact ends takes no new one).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Literal

import numba as nb
import numpy as np
from numpy.typing import NDArray

from openwfm import progress
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
def _find_agent(q, waited, need, q_ptr, q_agents, q_tier, q_delay, a_on, a_load, a_idle):
    """The free agent for a contact of queue q that has waited `waited` s (-1 if none)."""
    best = -1
    best_tier = 0
    best_load = np.inf
    best_idle = np.inf
    for k in range(q_ptr[q], q_ptr[q + 1]):
        if q_delay[k] > waited + _EPS:
            continue
        if best >= 0 and q_tier[k] > best_tier:
            break
        b = q_agents[k]
        if not a_on[b] or a_load[b] + need > 1.0 + _EPS:
            continue
        if best < 0 or a_load[b] < best_load - _EPS or (
                a_load[b] <= best_load + _EPS and a_idle[b] < best_idle):
            best = b
            best_tier = q_tier[k]
            best_load = a_load[b]
            best_idle = a_idle[b]
    return best


@nb.njit(cache=True, nogil=True)
def _pull(a, t, arr_t, arr_q, arr_h, arr_p, q_load, q_prio, a_ptr, a_queues, a_delay,
          a_policy, buf, head, tail, wait, agent_of, outcome, a_load, ht, hc, hn):
    """Agent a, with free capacity at time t, takes waiting contacts; returns the heap size."""
    policy = a_policy[a]
    while True:
        best_q = -1
        best_c = -1
        for k in range(a_ptr[a], a_ptr[a + 1]):
            q = a_queues[k]
            if a_load[a] + q_load[q] > 1.0 + _EPS:
                continue
            while head[q] < tail[q]:  # drop contacts taken elsewhere or out of patience
                c = buf[head[q]]
                if outcome[c] != 2:
                    head[q] += 1
                elif arr_t[c] + arr_p[c] <= t:
                    outcome[c] = 1
                    wait[c] = arr_p[c]
                    head[q] += 1
                else:
                    break
            if head[q] == tail[q]:
                continue
            c = buf[head[q]]
            if t - arr_t[c] < a_delay[k] - _EPS:  # not yet overflowed to this agent
                continue
            if best_c < 0:
                best_q = q
                best_c = c
                if policy == 0:  # priority: the agent's list is already in that order
                    break
            elif policy == 1:
                if arr_t[c] < arr_t[best_c]:
                    best_q = q
                    best_c = c
            elif q_prio[q] > q_prio[best_q] or (
                    q_prio[q] == q_prio[best_q] and arr_t[c] < arr_t[best_c]):
                best_q = q
                best_c = c
        if best_c < 0:
            return hn
        head[best_q] += 1
        wait[best_c] = t - arr_t[best_c]
        agent_of[best_c] = a
        outcome[best_c] = 0
        a_load[a] += q_load[best_q]
        hn = _heap_push(ht, hc, hn, t + arr_h[best_c], best_c)


@nb.njit(cache=True, nogil=True)
def _event_loop(arr_t, arr_q, arr_h, arr_p, q_load, q_prio, q_ptr, q_agents, q_tier, q_delay,
                qd_ptr, qd_delay, a_ptr, a_queues, a_delay, a_policy, g_ptr, g_agents,
                ev_t, ev_kind, ev_x, ev_n, n_agents, buf_ptr, horizon_s,
                pr_cap, n_busy, busy_agent):  # pragma: no cover - numba
    n = arr_t.size
    nq = q_load.size
    wait = np.full(n, np.nan)
    agent_of = np.full(n, -1, np.int64)
    outcome = np.full(n, 2, np.int8)  # 0 served, 1 abandoned, 2 waiting / unserved at the end
    a_on = np.zeros(n_agents, np.bool_)  # takes new contacts
    a_pr = np.full(n_agents, -1, np.int64)  # open presence record, -1 when absent
    a_load = np.zeros(n_agents)
    a_idle = np.zeros(n_agents)
    pr_a = np.empty(pr_cap, np.int64)
    pr_s = np.empty(pr_cap)
    pr_e = np.empty(pr_cap)
    n_pr = 0
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
    max_levels = 0
    for q in range(nq):
        if qd_ptr[q + 1] - qd_ptr[q] > max_levels:
            max_levels = qd_ptr[q + 1] - qd_ptr[q]
    rcap = n * max_levels + 1
    rt = np.empty(rcap)
    rc = np.empty(rcap, np.int64)
    rn = 0
    # contacts 0 .. n_busy - 1 are in service at the start (InitialState): their agent
    # holds them from their "arrival" (the start) for their residual handle time
    for c in range(n_busy):
        b = busy_agent[c]
        wait[c] = 0.0
        agent_of[c] = b
        outcome[c] = 0
        a_load[b] += q_load[arr_q[c]]
        hn = _heap_push(ht, hc, hn, arr_t[c] + arr_h[c], c)
        if a_pr[b] < 0:
            pr_a[n_pr] = b
            pr_s[n_pr] = arr_t[c]
            a_pr[b] = n_pr
            n_pr += 1
    ia = n_busy
    ie = 0
    ne = ev_t.size
    t = 0.0
    inf = np.inf
    while True:
        ta = arr_t[ia] if ia < n else inf
        te = ev_t[ie] if ie < ne else inf
        tc = ht[0] if hn > 0 else inf
        tr = rt[0] if rn > 0 else inf
        if ta == inf and te == inf and tc == inf and tr == inf:
            break
        a = -1
        if te <= tc and te <= tr and te <= ta:  # shift events first on ties
            t = te
            kind = ev_kind[ie]
            x = ev_x[ie]
            ie += 1
            if kind == 0:  # end of a work segment: leave now, or when the contact ends
                if a_on[x]:
                    a_on[x] = False
                    if a_load[x] < _EPS and a_pr[x] >= 0:
                        pr_e[a_pr[x]] = t
                        a_pr[x] = -1
            elif kind == 2:  # start of a work segment
                if not a_on[x]:
                    a_on[x] = True
                    a_idle[x] = t
                    if a_pr[x] < 0:
                        pr_a[n_pr] = x
                        pr_s[n_pr] = t
                        a_pr[x] = n_pr
                        n_pr += 1
                    a = x
            else:  # group x is staffed with ev_n agents from now on
                target = ev_n[ie - 1]
                active = 0
                for k in range(g_ptr[x], g_ptr[x + 1]):
                    if a_on[g_agents[k]]:
                        active += 1
                while active > target:  # idle agents leave first, longest idle first
                    pick = -1
                    for k in range(g_ptr[x], g_ptr[x + 1]):
                        b = g_agents[k]
                        if a_on[b] and a_load[b] < _EPS and (pick < 0 or a_idle[b] < a_idle[pick]):
                            pick = b
                    if pick < 0:
                        break
                    a_on[pick] = False
                    pr_e[a_pr[pick]] = t
                    a_pr[pick] = -1
                    active -= 1
                while active > target:  # then busy ones: they finish (ghosts), least loaded first
                    pick = -1
                    for k in range(g_ptr[x + 1] - 1, g_ptr[x] - 1, -1):
                        b = g_agents[k]
                        if a_on[b] and (pick < 0 or a_load[b] < a_load[pick] - _EPS):
                            pick = b
                    a_on[pick] = False
                    active -= 1
                if active < target:  # ghosts still present come back first, then others
                    for k in range(g_ptr[x], g_ptr[x + 1]):
                        b = g_agents[k]
                        if active < target and not a_on[b] and a_pr[b] >= 0:
                            a_on[b] = True
                            active += 1
                            hn = _pull(b, t, arr_t, arr_q, arr_h, arr_p, q_load, q_prio, a_ptr,
                                       a_queues, a_delay, a_policy, buf, head, tail, wait,
                                       agent_of, outcome, a_load, ht, hc, hn)
                    for k in range(g_ptr[x], g_ptr[x + 1]):
                        b = g_agents[k]
                        if active < target and not a_on[b]:
                            a_on[b] = True
                            a_idle[b] = t
                            pr_a[n_pr] = b
                            pr_s[n_pr] = t
                            a_pr[b] = n_pr
                            n_pr += 1
                            active += 1
                            hn = _pull(b, t, arr_t, arr_q, arr_h, arr_p, q_load, q_prio, a_ptr,
                                       a_queues, a_delay, a_policy, buf, head, tail, wait,
                                       agent_of, outcome, a_load, ht, hc, hn)
        elif tc <= tr and tc <= ta:
            t = tc
            c = hc[0]
            hn = _heap_pop(ht, hc, hn)
            b = agent_of[c]
            a_load[b] -= q_load[arr_q[c]]
            if a_load[b] < _EPS:
                a_load[b] = 0.0
            a_idle[b] = t
            if a_on[b]:
                a = b
            elif a_load[b] == 0.0 and a_pr[b] >= 0:  # a ghost agent's last contact ended
                pr_e[a_pr[b]] = t
                a_pr[b] = -1
        elif tr <= ta:  # a waiting contact has waited an overflow delay
            t = tr
            c = rc[0]
            rn = _heap_pop(rt, rc, rn)
            if outcome[c] == 2 and arr_t[c] + arr_p[c] > t:
                q = arr_q[c]
                b = _find_agent(q, t - arr_t[c], q_load[q], q_ptr, q_agents, q_tier, q_delay,
                                a_on, a_load, a_idle)
                if b >= 0:  # served now; its buffer slot is skipped later
                    wait[c] = t - arr_t[c]
                    agent_of[c] = b
                    outcome[c] = 0
                    a_load[b] += q_load[q]
                    hn = _heap_push(ht, hc, hn, t + arr_h[c], c)
        else:
            t = ta
            c = ia
            ia += 1
            q = arr_q[c]
            b = _find_agent(q, 0.0, q_load[q], q_ptr, q_agents, q_tier, q_delay, a_on, a_load,
                            a_idle)
            if b >= 0:
                wait[c] = 0.0
                agent_of[c] = b
                outcome[c] = 0
                a_load[b] += q_load[q]
                hn = _heap_push(ht, hc, hn, t + arr_h[c], c)
            else:
                buf[tail[q]] = c
                tail[q] += 1
                for k in range(qd_ptr[q], qd_ptr[q + 1]):
                    if qd_delay[k] < arr_p[c]:
                        rn = _heap_push(rt, rc, rn, t + qd_delay[k], c)
        if a >= 0:  # an agent with free capacity pulls waiting contacts
            hn = _pull(a, t, arr_t, arr_q, arr_h, arr_p, q_load, q_prio, a_ptr, a_queues,
                       a_delay, a_policy, buf, head, tail, wait, agent_of, outcome, a_load,
                       ht, hc, hn)
    t_end = max(t, horizon_s)
    for q in range(nq):
        for k in range(head[q], tail[q]):
            c = buf[k]
            if outcome[c] == 2 and np.isfinite(arr_p[c]):
                outcome[c] = 1
                wait[c] = arr_p[c]
                if arr_t[c] + arr_p[c] > t_end:
                    t_end = arr_t[c] + arr_p[c]
    for q in range(nq):
        for k in range(head[q], tail[q]):
            c = buf[k]
            if outcome[c] == 2:
                wait[c] = t_end - arr_t[c]
    for b in range(n_agents):  # agents present until the end
        if a_pr[b] >= 0:
            pr_e[a_pr[b]] = t_end
    return wait, agent_of, outcome, pr_a[:n_pr], pr_s[:n_pr], pr_e[:n_pr], t_end


def _draw_arrivals(model: SimulationModel, rng: np.random.Generator
                   ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    if model.arrivals_s is not None:
        t = np.asarray(model.arrivals_s, dtype=float)
        q = np.asarray(model.arrival_queue, dtype=np.int64)
        order = np.argsort(t, kind="stable")
        return t[order], q[order]
    vol = np.asarray(model.volume, dtype=float)
    cq, ct = np.nonzero(vol > 0)  # only the cells with a volume (no Python loop per queue)
    lam = vol[cq, ct]
    if model.busyness_cv > 0:
        ndays = int(np.ceil(model.horizon_s / 86400.0))
        k = 1.0 / model.busyness_cv**2
        factor = rng.gamma(k, 1.0 / k, size=ndays)
        day = (ct * model.interval_s // 86400).astype(np.int64)
        lam = lam * factor[day]
    counts = rng.poisson(lam)
    cell = np.repeat(np.arange(lam.size), counts)
    q = cq[cell]
    t = (ct[cell] + rng.random(cell.size)) * model.interval_s
    order = np.argsort(t, kind="stable")
    return t[order], q[order].astype(np.int64)


def _draw_durations(model: SimulationModel, t: NDArray[np.float64], q: NDArray[np.int64],
                    rng: np.random.Generator, *,
                    handle_elapsed_s: NDArray[np.float64] | None = None,
                    waited_s: NDArray[np.float64] | None = None
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Handle time and patience of each contact, with the means of its queue and interval
    of arrival; one numpy draw per distinct distribution (not per queue).

    `handle_elapsed_s` (contacts in service at the start): the residual handle time after
    it; `waited_s` (contacts waiting at the start): the patience conditioned on having
    waited that long (the total patience, ``waited + residual``)."""
    nt = model.n_intervals
    ti = np.clip((t // model.interval_s).astype(np.int64), 0, nt - 1)
    mean_h = np.asarray(model.aht_s, dtype=float)[q, ti]
    handle = np.empty(t.size)
    for dist, qs in _by_distribution([s.handle for s in model.queues]).items():
        m = np.isin(q, qs) if len(qs) < len(model.queues) else slice(None)
        if handle_elapsed_s is None:
            handle[m] = dist.sample(rng, mean_h[m])
        else:
            handle[m] = dist.residual(rng, mean_h[m], handle_elapsed_s[m])
    patience = np.full(t.size, np.inf)
    abandons = [s.patience if s.patience is not None and (
        model.patience_s is not None or np.isfinite(s.patience_s)) else None
        for s in model.queues]
    if any(d is not None for d in abandons):
        if model.patience_s is not None:
            mean_p = np.asarray(model.patience_s, dtype=float)[q, ti]
        else:
            mean_p = np.array([s.patience_s for s in model.queues], dtype=float)[q]
        for dist, qs in _by_distribution(abandons).items():
            m = np.isin(q, qs)
            if waited_s is None:
                patience[m] = dist.sample(rng, mean_p[m])
            else:
                patience[m] = waited_s[m] + dist.residual(rng, mean_p[m], waited_s[m])
        patience[~np.isfinite(patience) | np.isnan(patience)] = np.inf
    return handle, patience


def _with_initial(model: SimulationModel, rng: np.random.Generator, t: NDArray[np.float64],
                  q: NDArray[np.int64], handle: NDArray[np.float64],
                  patience: NDArray[np.float64]) -> tuple[
                      NDArray[np.float64], NDArray[np.int64], NDArray[np.float64],
                      NDArray[np.float64], NDArray[np.int8], NDArray[np.int64]]:
    """The contacts of a replication that starts from `model.initial`: in service first
    (``carried`` 2, "arriving" at the start), then waiting (1, by arrival), then the drawn
    arrivals at or after the start (0). Drawn after the usual arrivals, so an empty state
    gives the same random numbers as no state."""
    s = model.initial
    assert s is not None
    t0 = float(s.start_s)
    later = t >= t0
    t, q, handle, patience = t[later], q[later], handle[later], patience[later]
    nq = len(model.queues)
    counts = np.asarray(s.waiting, dtype=np.int64)
    wq = np.repeat(np.arange(nq, dtype=np.int64), counts)
    oldest = np.nan_to_num(np.asarray(s.oldest_wait_s, dtype=float), nan=0.0)[wq]
    first = np.zeros(wq.size, dtype=bool)
    first[(np.cumsum(counts) - counts)[counts > 0]] = True
    waited = np.where(first, 1.0, rng.random(wq.size)) * oldest
    at0 = np.full(wq.size, t0)
    w_handle, w_patience = _draw_durations(model, at0, wq, rng, waited_s=waited)
    order = np.argsort(-waited, kind="stable")  # oldest first
    wq, waited, w_handle, w_patience = wq[order], waited[order], w_handle[order], \
        w_patience[order]
    ba = np.asarray(s.busy_agent, dtype=np.int64)
    bq = np.asarray(s.busy_queue, dtype=np.int64)
    b_handle, _ = _draw_durations(model, np.full(ba.size, t0), bq, rng,
                                  handle_elapsed_s=np.asarray(s.busy_elapsed_s, dtype=float))
    cat = np.concatenate
    return (cat([np.full(ba.size, t0), t0 - waited, t]), cat([bq, wq, q]),
            cat([b_handle, w_handle, handle]),
            cat([np.full(ba.size, np.inf), w_patience, patience]),
            cat([np.full(ba.size, 2, np.int8), np.ones(wq.size, np.int8),
                 np.zeros(t.size, np.int8)]), ba)


def _by_distribution(dists: Sequence[Any]) -> dict[Any, NDArray[np.int64]]:
    """Queue indices per distinct distribution (None left out), in first-seen order."""
    out: dict[Any, list[int]] = {}
    for i, d in enumerate(dists):
        if d is not None:
            out.setdefault(d, []).append(i)
    return {d: np.asarray(v, dtype=np.int64) for d, v in out.items()}


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
    carried = np.zeros(t.size, np.int8)
    busy_agent = np.zeros(0, np.int64)
    if model.initial is not None:
        t, q, handle, patience, carried, busy_agent = _with_initial(
            model, rng, t, q, handle, patience)
    buf_ptr = np.zeros(len(model.queues) + 1, dtype=np.int64)
    buf_ptr[1:] = np.cumsum(np.bincount(q, minlength=len(model.queues)))
    r = tables
    wait, agent, outcome, pr_a, pr_s, pr_e, t_end = _event_loop(
        t, q, handle, patience, r.q_load, r.q_prio, r.q_ptr, r.q_agents, r.q_tier, r.q_delay,
        r.qd_ptr, r.qd_delay, r.a_ptr, r.a_queues, r.a_delay, r.a_policy, r.g_ptr, r.g_agents,
        r.ev_t, r.ev_kind, r.ev_x, r.ev_n, len(model.agent_ids), buf_ptr, model.horizon_s,
        r.presence_capacity, busy_agent.size, busy_agent)
    return Replication(t, q, handle, patience, wait, agent, outcome, pr_a, pr_s, pr_e,
                       float(t_end), carried)


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
    progress.stage(f"simulate: {replications} replications")
    if backend == "serial" or (backend == "threads" and (replications == 1 or workers == 1)):
        tables = routing_tables(model)
        reps = [replicate(model, s, tables) for s in seeds]
    elif backend == "threads":
        tables = routing_tables(model)
        first = replicate(model, seeds[0], tables)  # loads the compiled loop once
        ex = ThreadPoolExecutor(max_workers=workers)
        try:
            reps = [first, *ex.map(lambda s: replicate(model, s, tables), seeds[1:])]
        except BaseException:  # Ctrl-C: do not wait for the replications not started
            ex.shutdown(wait=False, cancel_futures=True)
            raise
        ex.shutdown()
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
