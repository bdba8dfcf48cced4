"""Staffing by simulation: evaluate or find agents per row, and multi-skill adjustment.

`simulation_solver(replications, seed)` plugs into `openwfm.staffing.staff_frame` (the
``openwfm staff --method simulation`` option): every voice/chat row is simulated as its own
queue in steady state -- one interval of warm-up at the row's rate, the measured interval,
one interval of cool-down so that contacts arriving late in the measured interval are served
as they would be -- with exponential handle times and patience (the Erlang A assumptions, so
that the only difference from the formula is the estimation), chat rows with ``concurrency``
contacts per agent. All rows of the same ``interval_s`` run in one simulation with common
random numbers, so a search changes only the agent counts. Without an ``agents`` column the
search starts from the analytic answer and moves to the smallest count whose simulated mean
meets every target. Email rows (a backlog carried across rows) keep the analytic backlog
model; their confidence columns are empty.

`adjust_multiskill(model, targets)` does the same for a whole multi-skill center: it raises
(and then lowers) the agents of each queue and interval until the simulated service level
meets each queue's target, with agents who have several skills shared by the router.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openwfm.simulation import kpi_ci, proportion_ci, simulate
from openwfm.simulation.distributions import Exponential
from openwfm.simulation.kpis import count_by_replication
from openwfm.simulation.model import QueueSpec, SimulationModel, model_from_staffing

__all__ = ["CI_COLUMNS", "MultiSkillResult", "adjust_multiskill", "evaluate_rows",
           "simulation_solver"]

CI_COLUMNS = ("service_level_lo", "service_level_hi", "asa_s_lo", "asa_s_hi",
              "p_abandon_lo", "p_abandon_hi")


def _row_kpis(model: SimulationModel, replications: int, seed: int, t: int
              ) -> dict[str, tuple[NDArray, NDArray, NDArray]]:
    res = simulate(model, replications=replications, seed=seed)
    c = count_by_replication(res.log, model)
    d = {k: c.dense(k)[:, :, t] for k in ("offered", "answered", "answered_within",
                                          "abandoned", "wait_answered_s", "busy_s",
                                          "available_s")}
    sl_t = d["offered"]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = {
            "service_level": np.where(sl_t > 0, d["answered_within"] / sl_t, 1.0),
            "asa_s": np.where(d["answered"] > 0, d["wait_answered_s"] / d["answered"], 0.0),
            "p_abandon": np.where(sl_t > 0, d["abandoned"] / sl_t, 0.0),
            "occupancy": np.where(d["available_s"] > 0, d["busy_s"] / d["available_s"],
                                  np.nan),
        }
    return {k: kpi_ci(k, v, axis=0) for k, v in ratios.items()}


def evaluate_rows(volume: NDArray[np.float64], aht_s: NDArray[np.float64], interval_s: float,
                  answer_within_s: NDArray[np.float64], patience_s: NDArray[np.float64],
                  concurrency: NDArray[np.float64], agents: NDArray[np.int64], *,
                  replications: int = 20, seed: int = 0
                  ) -> dict[str, tuple[NDArray, NDArray, NDArray]]:
    """Simulated (mean, lo, hi) of service_level, asa_s, p_abandon, occupancy per row, each
    row an independent single queue in steady state (see module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> k = evaluate_rows(np.array([100.0]), np.array([180.0]), 1800, np.array([20.0]),
    ...                   np.array([np.inf]), np.array([1.0]), np.array([14]),
    ...                   replications=40, seed=1)
    >>> m, lo, hi = k["service_level"]
    >>> bool(lo[0] < 0.88835 < hi[0])          # Erlang C, REFERENCES.md R1
    True
    """
    n = len(volume)
    specs = tuple(
        QueueSpec(f"r{i}", float(answer_within_s[i]), Exponential(),
                  Exponential() if np.isfinite(patience_s[i]) else None,
                  float(patience_s[i]) if np.isfinite(patience_s[i]) else float("inf"),
                  concurrency=int(concurrency[i]))
        for i in range(n))
    vol = np.repeat(np.asarray(volume, float)[:, None], 3, axis=1)
    aht = np.repeat(np.asarray(aht_s, float)[:, None], 3, axis=1)
    ag = np.repeat(np.asarray(agents, np.int64)[:, None], 3, axis=1)
    model = model_from_staffing(specs, vol, aht, ag, interval_s=interval_s,
                                origin=pd.Timestamp("2026-01-01", tz="UTC"))
    model = model.with_(warmup_s=float(interval_s))
    return _row_kpis(model, replications, seed, 1)


def _meets(k: dict[str, tuple[NDArray, NDArray, NDArray]], sl_target: NDArray,
           max_asa: NDArray, max_ab: NDArray, max_occ: NDArray) -> NDArray[np.bool_]:
    ok = k["service_level"][0] >= sl_target
    ok &= ~(k["asa_s"][0] > max_asa)  # NaN targets never bind
    ok &= ~(k["p_abandon"][0] > max_ab)
    ok &= ~(k["occupancy"][0] > max_occ)
    return ok


def simulation_solver(replications: int = 20, seed: int = 0,
                      max_steps: int = 200) -> Callable:
    """A `staff_frame` solver that evaluates or finds agents by simulation (module
    docstring). Returns the output columns plus the 95% bounds in `CI_COLUMNS`."""

    def solve(inp) -> dict[str, NDArray[np.float64]]:  # inp: openwfm.staffing.StaffInput
        from openwfm.staffing.frame import Channel, staff_input

        out = staff_input(inp)  # analytic: starting point, and the email rows
        c = inp.columns
        m = len(c["volume"])
        for name in CI_COLUMNS:
            out[name] = np.full(m, np.nan)
        live = inp.channel != Channel.EMAIL.value
        k = np.where(inp.channel == Channel.CHAT.value, c["concurrency"], 1.0)
        for ivs in np.unique(c["interval_s"][live]):
            rows = np.flatnonzero(live & (c["interval_s"] == ivs))
            args = (c["volume"][rows], c["aht_s"][rows], float(ivs), c["sl_seconds"][rows],
                    np.where(np.isnan(c["patience_s"][rows]), np.inf, c["patience_s"][rows]),
                    k[rows])
            n = np.asarray(out["agents"][rows], dtype=np.int64)
            if inp.evaluate:
                n = np.asarray(c["agents"][rows], dtype=np.int64)

            def run(agents: NDArray[np.int64], args=args):
                return evaluate_rows(*args, agents, replications=replications, seed=seed)

            kp = run(n)
            if not inp.evaluate:
                goals = (c["sl_target"][rows], c["max_asa_s"][rows], c["max_abandon"][rows],
                         c["max_occupancy"][rows])
                busy = c["volume"][rows] > 0
                ok = _meets(kp, *goals) | ~busy
                for _ in range(max_steps):  # up: until every row meets its targets
                    if ok.all():
                        break
                    n = n + (~ok)
                    kp = run(n)
                    ok = _meets(kp, *goals) | ~busy
                trying = busy & (n > 0)
                for _ in range(max_steps):  # down: while one fewer still meets them
                    if not trying.any():
                        break
                    cand = n - trying
                    kc = run(cand)
                    better = trying & _meets(kc, *goals)
                    n = np.where(better, cand, n)
                    trying = better & (n > 0)
                kp = run(n)
            out["agents"][rows] = n
            for name in ("service_level", "asa_s", "p_abandon", "occupancy"):
                mean, lo, hi = kp[name]
                out[name][rows] = mean
                if f"{name}_lo" in CI_COLUMNS:
                    out[f"{name}_lo"][rows] = lo
                    out[f"{name}_hi"][rows] = hi
            out["p_wait"][rows] = np.nan  # not estimated by the simulation
        return out

    return solve


@dataclass(frozen=True, eq=False)
class MultiSkillResult:
    """Agents per queue and interval found by simulation, against the per-queue start."""

    start: NDArray[np.int64]
    agents: NDArray[np.int64]
    service_level: NDArray[np.float64]
    service_level_lo: NDArray[np.float64]
    service_level_hi: NDArray[np.float64]
    iterations: int

    @property
    def saved_agent_intervals(self) -> int:
        """Agent-intervals saved against the start (positive = fewer agents needed)."""
        return int(self.start.sum() - self.agents.sum())


def _multiskill_model(base: SimulationModel, agents: NDArray[np.int64],
                      pool: NDArray[np.int64]) -> SimulationModel:
    """Agents per (queue, interval) as dedicated-by-home-queue agents whose skills are the
    home queue first, then the queues of `pool[home]` (same pool id) in order."""
    m = model_from_staffing(base.queues, base.volume, base.aht_s, agents,
                            interval_s=base.interval_s, origin=base.origin,
                            busyness_cv=base.busyness_cv)
    rank = np.asarray(m.skill_rank).copy()
    home = np.argmax(rank >= 0, axis=1)
    for a in range(rank.shape[0]):
        others = [q for q in range(len(base.queues)) if q != home[a] and pool[q] == pool[home[a]]]
        for r, q in enumerate(others, start=1):
            rank[a, q] = r
    return m.with_(skill_rank=rank, warmup_s=base.warmup_s)


def adjust_multiskill(base: SimulationModel, start: NDArray[np.int64],
                      sl_target: NDArray[np.float64], pool: NDArray[np.int64], *,
                      replications: int = 10, seed: int = 0, max_steps: int = 100
                      ) -> MultiSkillResult:
    """Find agents per queue and interval meeting each queue's simulated SL target when the
    agents of queues sharing a `pool` id (e.g. bilingual agents) can take each other's
    contacts; start from `start` (e.g. the per-queue Erlang answer), raise the cells below
    target, then lower cells one agent at a time while every queue of that interval (and of
    the next, which inherits its backlog) still meets its target, never retrying a refused
    cell (common random numbers throughout; a local search, not a proven optimum).

    Parameters
    ----------
    base : model giving queues, volume, aht_s, interval_s (its agents are ignored).
    start : (queues x intervals) starting agents.
    sl_target : per queue.
    pool : per queue; queues with the same id share their agents (each agent's own queue
        first). All different = dedicated agents (the per-queue answer).
    """
    agents = np.asarray(start, dtype=np.int64).copy()
    target = np.asarray(sl_target, float)[:, None]
    busy = np.asarray(base.volume) > 0
    steps = 0

    def kpis(a: NDArray[np.int64]):
        m = _multiskill_model(base, a, pool)
        res = simulate(m, replications=replications, seed=seed)
        c = count_by_replication(res.log, m)
        off, within = c.dense("offered"), c.dense("answered_within")
        with np.errstate(invalid="ignore", divide="ignore"):
            sl = np.where(off > 0, within / off, 1.0)
        return proportion_ci(sl, axis=0)

    def raise_until_met(agents, sl, lo, hi, steps):
        for _ in range(max_steps):
            bad = busy & (sl < target)
            if not bad.any():
                break
            agents = agents + bad
            steps += 1
            sl, lo, hi = kpis(agents)
        return agents, sl, lo, hi, steps

    sl, lo, hi = kpis(agents)
    agents, sl, lo, hi, steps = raise_until_met(agents, sl, lo, hi, steps)
    # lower, in every interval at once, the queue with the most slack by one agent; keep it
    # where that interval and the next still meet every target, re-simulate what was kept;
    # a cell whose lowering was refused is not tried again (so the search ends)
    frozen = np.zeros(agents.shape, dtype=bool)
    nt = agents.shape[1]
    for _ in range(max_steps):
        slack = np.where(busy & (agents > 0) & ~frozen, sl - target, -np.inf)
        q_best = np.argmax(slack, axis=0)
        t_idx = np.flatnonzero(slack.max(axis=0) > 0)
        if t_idx.size == 0:
            break
        cand = agents.copy()
        cand[q_best[t_idx], t_idx] -= 1
        steps += 1
        s2, _, _ = kpis(cand)
        ok_t = np.all((s2 >= target) | ~busy, axis=0)
        ok_next = np.append(ok_t[1:], True) if nt > 1 else ok_t
        accept = np.zeros(nt, bool)
        accept[t_idx] = ok_t[t_idx] & ok_next[t_idx]
        frozen[q_best[t_idx[~accept[t_idx]]], t_idx[~accept[t_idx]]] = True
        if not accept.any():
            continue
        agents = np.where(accept[None, :], cand, agents)
        sl, lo, hi = kpis(agents)
        agents, sl, lo, hi, steps = raise_until_met(agents, sl, lo, hi, steps)
    return MultiSkillResult(start=np.asarray(start, np.int64), agents=agents,
                            service_level=sl, service_level_lo=lo, service_level_hi=hi,
                            iterations=steps)
