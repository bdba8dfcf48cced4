"""Stage 2b: improve a rule-respecting schedule by local search on coverage.

Stage 2 (CP-SAT, `assign`) gives each group's agents shifts that follow the stage-1 shift
counts; rounding those counts and the per-agent rules leave shortfall the LP did not have.
This stage works on the quantity that matters, cost + shortfall penalty per queue and
interval, one agent's shift at a time:

- **re-time**: another start or length on the same local day;
- **move**: the shift goes to one of the agent's days off (any start that day);
- **drop**: the shift goes, when the agent stays within contract and the cost saved is
  more than the service lost;
- **add**: a shift on a day off, when the agent has paid hours left and the shortfall it
  removes is worth more than its cost.

A move is taken only when every hard rule still holds for that agent (one shift per local
day, minimum rest, weekly paid hours in ``[min(contract - tolerance, now), contract]``,
days off, consecutive days off, maximum consecutive days, seats at the site, availability,
night work, shift length) and the agent's nights and weekend shifts stay within the most
any agent of the group has (fairness is not made worse). Among an agent's candidates the
best one is taken (steepest descent), agents in a fixed order: the result is the same on
any machine, whatever its load.

Coverage is counted as in the final evaluation (`cover.flow_split`): a multi-skill group's
productive agents are split between its queues by the optimal flow of the current
schedule, re-solved after every sweep; between re-solves a change in the group's supply
goes to its queues in those proportions. Breaks are "smoothed" (as in stage 1), so the
evaluation after stage 3 (placed breaks) differs slightly from the figure tracked here.

References
----------
Thompson, G. M. (1995). Improved implicit optimal modeling of the labor shift scheduling
problem. Management Science 41(4), 595-607 (local improvement of shift schedules).
Ernst, A. T., Jiang, H., Krishnamoorthy, M., Sier, D. (2004). Staff scheduling and
rostering: a review of applications, methods and models. EJOR 153(1), 3-27 (section 3.3,
local search after a decomposed construction).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from openwfm.scheduling.assign import _agent_ok
from openwfm.scheduling.cover import (
    duty_profile,
    flow_split,
    productive_profile,
    shortfall_penalty,
)
from openwfm.scheduling.model import SchedulingProblem


@dataclass(frozen=True)
class ImproveResult:
    """Stage-2b result.

    Attributes
    ----------
    shifts : tuple
        ``(agent id, shift type index)`` pairs of the improved schedule.
    moves : int
        Moves applied.
    sweeps : int
        Passes over all agents.
    objective_before, objective_after : float
        Cost + shortfall penalty with smoothed breaks, before and after.
    """

    shifts: tuple[tuple[str, int], ...]
    moves: int
    sweeps: int
    objective_before: float
    objective_after: float


def _days_ok(work: np.ndarray, min_days_off: int, k_off: int, max_consec: int) -> bool:
    """Days off, consecutive days off and maximum consecutive days for one agent's week."""
    n = len(work)
    if work.sum() > n - min_days_off:
        return False
    run = best = 0
    for w in work:
        run = run + 1 if w else 0
        best = max(best, run)
    if best > max_consec:
        return False
    return k_off < 2 or any(not work[d:d + k_off].any() for d in range(n - k_off + 1))


class _State:
    """Supply per queue and interval, seats per site, shifts per agent; the move checks."""

    def __init__(self, problem: SchedulingProblem, shifts: list[tuple[str, int]]):
        p = problem
        self.p = p
        im, T = p.interval_min, p.n_intervals
        self.T = T
        types = p.shift_types
        self.t0 = np.array([st.start // im for st in types], dtype=int)
        self.start = np.array([st.start for st in types], dtype=int)
        self.end = np.array([st.end for st in types], dtype=int)
        self.day = np.array([st.day for st in types], dtype=int)
        self.paid = np.array([st.paid_min for st in types], dtype=int)
        self.cost = np.array([st.cost for st in types], dtype=float)
        self.night = np.array([st.night_min >= 120 for st in types])
        self.weekend = np.array([st.weekend for st in types])
        lengths = sorted({st.length for st in types})
        self.L = max((math.ceil(n / im) for n in lengths), default=1)
        prod = {n: productive_profile(p, n) for n in lengths}
        duty = {n: duty_profile(p, n) for n in lengths}
        # per type: productive weights and on-duty indicator over L intervals from t0
        self.w = np.zeros((len(types), self.L))
        self.on = np.zeros((len(types), self.L), dtype=int)
        for s, st in enumerate(types):
            self.w[s, :len(prod[st.length])] = prod[st.length]
            self.on[s, :len(duty[st.length])] = duty[st.length] > 0
        # intervals outside the horizon carry no weight
        idx = self.t0[:, None] + np.arange(self.L)
        inside = (idx >= 0) & (idx < T)
        self.w[~inside] = 0.0
        self.on[~inside] = 0
        self.idx = np.clip(idx, 0, T - 1)

        self.agents = list(p.scenario.agents)
        self.ai = {a.id: i for i, a in enumerate(self.agents)}
        gi = {a.id: g for g, grp in enumerate(p.groups) for a in grp.agents}
        self.group = np.array([gi[a.id] for a in self.agents], dtype=int)
        qidx = {q: i for i, q in enumerate(p.queues)}
        self.gq = [[qidx[q] for q in grp.skills] for grp in p.groups]
        tol = p.config.contract_tolerance_h * 60
        self.hi = np.zeros(len(self.agents))
        self.lo = np.zeros(len(self.agents))
        self.allowed: list[list[np.ndarray]] = []
        for i, a in enumerate(self.agents):
            pack = p.packs[a.site]
            self.hi[i] = min(a.contract_hours, pack.max_weekly_h) * 60
            self.lo[i] = max(0.0, self.hi[i] - tol)
            per_day: list[list[int]] = [[] for _ in range(p.days)]
            for s, st in enumerate(types):
                if st.site == a.site and st.day < p.days and _agent_ok(p, a, st):
                    per_day[st.day].append(s)
            self.allowed.append([np.array(v, dtype=int) for v in per_day])
        self.mine: list[dict[int, int]] = [{} for _ in self.agents]  # day -> shift type
        for aid, s in shifts:
            self.mine[self.ai[aid]][int(self.day[s])] = s
        # seats: agents on duty per site and interval (binding sites only)
        self.site_names = [s.name for s in p.scenario.sites]
        n_site = {s: 0 for s in self.site_names}
        for a in self.agents:
            n_site[a.site] += 1
        self.seats = {s.name: s.seats for s in p.scenario.sites if n_site[s.name] > s.seats}
        self.occ = {s: np.zeros(T, dtype=int) for s in self.seats}
        self.supply = np.zeros((len(p.groups), T))
        for i, mine in enumerate(self.mine):
            for s in mine.values():
                self._put(i, s, +1)
        self.req = p.required
        self.pen = p.config.understaffing_cost_per_hour * im / 60
        self.refresh_split()

    # -- bookkeeping -------------------------------------------------------------------
    def _put(self, i: int, s: int, sign: int) -> None:
        np.add.at(self.supply[self.group[i]], self.idx[s], sign * self.w[s])
        site = self.agents[i].site
        if site in self.occ:
            np.add.at(self.occ[site], self.idx[s], sign * self.on[s])

    def refresh_split(self) -> float:
        """Re-split multi-skill supply by the optimal flow; returns the exact penalty."""
        cov, penalty, flows, pairs = flow_split(self.p, self.supply)
        G = len(self.p.groups)
        self.share = [dict() for _ in range(G)]  # g -> {q: fraction per interval}
        for (g, q), f in zip(pairs, flows, strict=True):
            sup = self.supply[g]
            frac = np.divide(f, sup, out=np.zeros_like(f), where=sup > 1e-9)
            self.share[g][q] = frac
        for g in range(G):
            qs = self.gq[g]
            if len(qs) == 1:
                self.share[g][qs[0]] = np.ones(self.T)
                continue
            # where the group has no supply yet, new supply goes to its neediest queue
            empty = self.supply[g] <= 1e-9
            short = np.stack([self.req[q] - cov[q] for q in qs])
            best = np.argmax(short, axis=0)
            for k, q in enumerate(qs):
                self.share[g][q] = np.where(empty, (best == k).astype(float), self.share[g][q])
        self.cov = cov
        return penalty

    def objective(self) -> float:
        cost = sum(self.cost[s] for mine in self.mine for s in mine.values())
        pen = shortfall_penalty(self.req - self.cov, self.req, self.pen).sum()
        return float(cost + pen)

    # -- evaluation ----------------------------------------------------------------------
    def delta_pen(self, g: int, cands: np.ndarray, sign: int) -> np.ndarray:
        """Penalty change of adding (sign +1) or removing (-1) each candidate shift."""
        out = np.zeros(len(cands))
        if len(cands) == 0:
            return out
        idx = self.idx[cands]
        w = self.w[cands] * sign
        for q in self.gq[g]:
            d = self.share[g][q][idx] * w
            cur = self.cov[q][idx]
            r = self.req[q][idx]
            new = shortfall_penalty(r - cur - d, r, self.pen)
            old = shortfall_penalty(r - cur, r, self.pen)
            # an interval may repeat in a row only where the weight is 0 (clipped): no change
            out += (new - old).sum(axis=1)
        return out

    def apply(self, i: int, s: int, sign: int) -> None:
        g = self.group[i]
        for q in self.gq[g]:
            np.add.at(self.cov[q], self.idx[s], sign * self.share[g][q][self.idx[s]]
                      * self.w[s])
        self._put(i, s, sign)
        if sign > 0:
            self.mine[i][int(self.day[s])] = s
        else:
            del self.mine[i][int(self.day[s])]

    # -- rules ---------------------------------------------------------------------------
    def feasible(self, i: int, cands: np.ndarray, without: int | None,
                 caps: tuple[int, int]) -> np.ndarray:
        """Which candidate shifts agent i may take once shift `without` is removed."""
        a = self.agents[i]
        pack = self.p.packs[a.site]
        rest = round(pack.min_rest_h * 60)
        others = [s for s in self.mine[i].values() if s != without]
        ok = np.ones(len(cands), dtype=bool)
        cs, ce = self.start[cands], self.end[cands]
        for o in others:
            ok &= (cs >= self.end[o] + rest) | (ce + rest <= self.start[o])
        paid_now = sum(self.paid[s] for s in self.mine[i].values())
        base = paid_now - (self.paid[without] if without is not None else 0)
        total = base + self.paid[cands]
        ok &= (total <= self.hi[i] + 1e-9) & (total >= min(self.lo[i], paid_now) - 1e-9)
        nights = sum(self.night[s] for s in others)
        weekends = sum(self.weekend[s] for s in others)
        ok &= (nights + self.night[cands] <= caps[0]) & (weekends + self.weekend[cands]
                                                         <= caps[1])
        days = np.zeros(self.p.days, dtype=bool)
        for s in others:
            days[self.day[s]] = True
        ok &= ~days[self.day[cands]]  # one shift per local day
        for d in np.unique(self.day[cands[ok]]):
            w2 = days.copy()
            w2[d] = True
            if not _days_ok(w2, pack.min_days_off, pack.min_consecutive_days_off,
                            pack.max_consecutive_days):
                ok &= self.day[cands] != d
        if a.site in self.occ and ok.any():
            occ = self.occ[a.site].copy()
            if without is not None:
                np.add.at(occ, self.idx[without], -self.on[without])
            load = occ[self.idx[cands]] + self.on[cands]
            ok &= (load <= self.seats[a.site]).all(axis=1) | ~self.on[cands].any(axis=1)
        return ok


def improve_schedule(problem: SchedulingProblem, shifts: list[tuple[str, int]], *,
                     max_sweeps: int = 12, time_limit_s: float | None = None
                     ) -> ImproveResult:
    """Local search on cost + shortfall penalty from a rule-respecting schedule (module
    docstring). Deterministic for given inputs; `time_limit_s` (wall clock) is only a guard.

    Examples
    --------
    An agent scheduled away from the demand is moved onto it:

    >>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
    >>> from openwfm.scheduling.model import build_problem, parse_config
    >>> sc = toy_scenario(n_agents=1, contract_hours=9.0)
    >>> req = flat_requirement(sc, 0.0)
    >>> req.loc[(req.interval_start.dt.hour >= 8) & (req.interval_start.dt.hour < 17)
    ...         & (req.interval_start.dt.dayofweek == 1), "agents"] = 1.0
    >>> cfg = parse_config({"shifts": [{"start_step_min": 60, "lengths_h": [9]}]})
    >>> p = build_problem(sc, req, cfg)
    >>> late = next(s for s, st in enumerate(p.shift_types) if st.day == 3 and st.start
    ...             == 3 * 1440 + 20 * 60)
    >>> r = improve_schedule(p, [("a1", late)])
    >>> st = p.shift_types[r.shifts[0][1]]
    >>> st.day, st.start % 1440 // 60  # Tuesday, 08:00 UTC (09:00 in Casablanca)
    (1, 8)
    >>> r.objective_after < r.objective_before
    True
    """
    t_begin = time.perf_counter()
    state = _State(problem, shifts)
    before = state.objective()
    moves = sweeps = 0
    order = sorted(range(len(state.agents)), key=lambda i: (state.group[i],
                                                            state.agents[i].id))
    G = len(problem.groups)
    for sweep in range(1, max_sweeps + 1):
        sweeps = sweep
        caps = []
        for g in range(G):
            members = [i for i in order if state.group[i] == g]
            caps.append((max((sum(state.night[s] for s in state.mine[i].values())
                              for i in members), default=0),
                         max((sum(state.weekend[s] for s in state.mine[i].values())
                              for i in members), default=0)))
        gained = 0.0
        for i in order:
            g = state.group[i]
            all_c = np.concatenate(state.allowed[i]) if state.allowed[i] else np.zeros(0, int)
            # add a shift on a day off (no shift removed)
            off = np.array([d not in state.mine[i] for d in range(problem.days)])
            cand = all_c[off[state.day[all_c]]] if len(all_c) else all_c
            if len(cand):
                ok = state.feasible(i, cand, None, caps[g])
                cand = cand[ok]
                if len(cand):
                    delta = state.cost[cand] + state.delta_pen(g, cand, +1)
                    k = int(np.argmin(delta))
                    if delta[k] < -1e-6:
                        state.apply(i, int(cand[k]), +1)
                        moves += 1
                        gained -= delta[k]
            for d in sorted(state.mine[i]):
                s0 = state.mine[i].get(d)
                if s0 is None:
                    continue
                # candidates: another shift that day, or the shift on a day off
                free = np.array([dd == d or dd not in state.mine[i]
                                 for dd in range(problem.days)])
                cand = all_c[free[state.day[all_c]] & (all_c != s0)]
                if len(cand):
                    cand = cand[state.feasible(i, cand, s0, caps[g])]
                paid_now = sum(state.paid[s] for s in state.mine[i].values())
                can_drop = paid_now - state.paid[s0] >= min(state.lo[i], paid_now) - 1e-9
                removal = -state.cost[s0] + state.delta_pen(g, np.array([s0]), -1)[0]
                state.apply(i, s0, -1)
                best_s, best_d = None, -1e-6
                if can_drop and removal < best_d:  # drop the shift
                    best_s, best_d = -1, float(removal)
                if len(cand):
                    delta = removal + state.cost[cand] + state.delta_pen(g, cand, +1)
                    k = int(np.argmin(delta))
                    if delta[k] < best_d:
                        best_s, best_d = int(cand[k]), float(delta[k])
                if best_s is None:
                    state.apply(i, s0, +1)
                    continue
                if best_s >= 0:
                    state.apply(i, best_s, +1)
                moves += 1
                gained -= best_d
        state.refresh_split()
        if gained < 1e-6 * max(1.0, abs(before)):
            break
        if time_limit_s is not None and time.perf_counter() - t_begin > time_limit_s:
            break
    out = tuple(sorted((state.agents[i].id, s) for i, mine in enumerate(state.mine)
                       for s in mine.values()))
    return ImproveResult(shifts=out, moves=moves, sweeps=sweeps, objective_before=before,
                         objective_after=state.objective())
