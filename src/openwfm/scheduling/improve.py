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

An interval with a requirement left with nobody also costs `penalty.empty_interval_cost`
in the moves' objective (filling it gains as much): a hole a legal move can close is
closed first.

Where no move lowers the objective, a move that leaves cost and penalty unchanged is
still taken if it spreads the agents above the requirement more evenly (a secondary
objective, `_buffer`: surplus relative to the requirement, full value up to 10 %, half up
to 25 %): users are judged on service in every interval, and a thin surplus where the
forecast errs high is worth more than a thick one elsewhere.

A move is taken only when every hard rule still holds for that agent (one shift per local
day, minimum rest, weekly paid hours in ``[min(contract - tolerance, now), contract]``,
days off, consecutive days off, maximum consecutive days, seats at the site, availability,
night work, shift length; the previous week's last shift and working days carried in,
from the history) and the agent's nights and weekend shifts stay within the most any agent
of the group has (fairness is not made worse, but to cover an empty interval, below).
Preferences (``day_off``, ``start_between``, ``max_nights``) are soft: a broken one costs ``weight x
preference_cost`` paid hours at the agent's site cost, in the moves' objective, and so is
start-time stability (``start_time_spread``: each hour an agent's start times spread beyond
``start_spread_max_h`` costs ``start_spread_weight`` paid hours; a hard rule when
``start_spread_hard``). An agent
still under ``contract - tolerance`` after a sweep gets a two-step repair (re-time one
shift, add one on a day off), or a three-step one when the site's seats are full where it
could add a shift (another agent's shift moves to free the seat, `_repair_via_seat`). An
interval with a requirement left with nobody gets a compound move of one agent
(`_fill_hole`: up to two shifts moved, beyond the fairness caps if nothing else fills it):
in a sweep when it lowers the objective, after the last sweep whatever it costs. Among an
agent's candidates the best one is taken (steepest descent), agents in a fixed order: the
result is the same on any machine, whatever its load.

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
from numba import njit

from openwfm.scheduling.assign import agent_may_work
from openwfm.scheduling.cover import duty_profile, flow_split, productive_profile
from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.penalty import empty_interval_cost
from openwfm.scheduling.preference_costs import shift_penalties
from openwfm.scheduling.preferences import NIGHT_SHIFT_MIN
from openwfm.scheduling.rules import days_ok, work_patterns


@dataclass(frozen=True)
class ImproveResult:
    """Stage-2b result.

    Attributes
    ----------
    shifts : tuple
        ``(agent id, shift type index)`` pairs of the improved schedule.
    moves : int
        Moves applied that lowered the objective.
    sweeps : int
        Passes over all agents.
    objective_before, objective_after : float
        Cost + shortfall penalty with smoothed breaks, before and after.
    """

    shifts: tuple[tuple[str, int], ...]
    moves: int
    spread_moves: int
    """Moves that changed neither cost nor penalty but spread the surplus (`_buffer`)."""
    hole_moves: int
    """Of `moves`, compound moves that covered an interval left with nobody
    (`_fill_hole`)."""
    sweeps: int
    gains: tuple[float, ...]
    """Objective gained in each sweep (with smoothed breaks and the contract term)."""
    objective_before: float
    objective_after: float


@njit(cache=True)
def _piecewise(s: float, hi: np.ndarray, weights: np.ndarray) -> float:
    """Convex piecewise-linear penalty of a shortfall `s` (pieces end at `hi`)."""
    total, lo = 0.0, 0.0
    for k in range(len(weights)):
        if s <= lo:
            break
        total += weights[k] * (min(s, hi[k]) - lo)
        lo = hi[k]
    return total


@njit(cache=True)
def _buffer(surplus: float, req: float) -> float:
    """Secondary objective of one queue-interval: minus the value of agents above the
    requirement, relative to it, with diminishing returns (full value up to 10 % of the
    requirement, half up to 25 %, none beyond); convex in the coverage."""
    if surplus <= 0.0:
        return 0.0
    r = max(req, 1.0)
    a1, a2 = 0.1 * r, 0.15 * r
    return -(min(surplus, a1) + 0.5 * min(max(surplus - a1, 0.0), a2)) / r


@njit(cache=True)
def _deltas(idx: np.ndarray, w: np.ndarray, share: np.ndarray, cov: np.ndarray,
            req: np.ndarray, piece_hi: np.ndarray, weights: np.ndarray, empty: np.ndarray,
            out_pen: np.ndarray, out_buf: np.ndarray) -> None:
    """Add to ``out_pen[c]`` the change of one queue's penalty (plus ``empty[t]`` for each
    interval with a requirement the candidate leaves with nobody, minus it for each it
    fills), and to ``out_buf[c]`` the change of its `_buffer`, when candidate c adds
    ``w[c, l]`` productive agents (times the group's share for the queue) at interval
    ``idx[c, l]``. Entries with weight 0 (past a short shift's end, or clipped to the
    horizon) are skipped, so no interval counts twice."""
    n, m = idx.shape
    for c in range(n):
        acc_pen, acc_buf = 0.0, 0.0
        for j in range(m):
            if w[c, j] == 0.0:
                continue
            t = idx[c, j]
            short = req[t] - cov[t]
            add = share[t] * w[c, j]
            acc_pen += (_piecewise(short - add, piece_hi[t], weights[t])
                        - _piecewise(short, piece_hi[t], weights[t]))
            if empty[t] > 0.0:
                was, now = cov[t] <= 1e-9, cov[t] + add <= 1e-9
                if now and not was:
                    acc_pen += empty[t]
                elif was and not now:
                    acc_pen -= empty[t]
            acc_buf += _buffer(add - short, req[t]) - _buffer(-short, req[t])
        out_pen[c] += acc_pen
        out_buf[c] += acc_buf


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
        self.night = np.array([st.night_min >= NIGHT_SHIFT_MIN for st in types])
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
        # intervals past the horizon's edges wrap to its other end on a cyclic week
        # (`SchedulingProblem.cyclic`), else they carry no weight
        self.idx, inside = p.wrap_intervals(self.t0[:, None] + np.arange(self.L))
        self.w[~inside] = 0.0
        self.on[~inside] = 0

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
        alike: dict[tuple[object, ...], list[np.ndarray]] = {}  # by what `agent_may_work` reads
        for i, a in enumerate(self.agents):
            pack = p.packs[a.site]
            self.hi[i] = min(a.contract_hours, pack.max_weekly_h) * 60
            self.lo[i] = max(0.0, self.hi[i] - tol)
            own = a.id in p.history or a.id in p.unavailable
            key = (a.id,) if own else (a.site, a.min_shift_h, a.max_shift_h, a.night_ok)
            if key not in alike:
                per_day: list[list[int]] = [[] for _ in range(p.days)]
                for s, st in enumerate(types):
                    if st.site == a.site and st.day < p.days and agent_may_work(p, a, st):
                        per_day[st.day].append(s)
                alike[key] = [np.array(v, dtype=int) for v in per_day]
            self.allowed.append(alike[key])
        self.all_c = [np.concatenate(v) if v else np.zeros(0, dtype=int)
                      for v in self.allowed]
        self.order = sorted(range(len(self.agents)), key=lambda i: (self.group[i],
                                                                    self.agents[i].id))
        self.days_ok = {}
        if p.days <= 14:  # a lookup table of every work pattern per site
            for site in p.scenario.sites:
                pk = p.packs[site.name]
                self.days_ok[site.name] = work_patterns(pk, p.days)
        # history: working days carried in from the previous week (min rest after the
        # last shift is in `agent_may_work`, hence in `allowed`)
        self.carried = [p.history[a.id].consecutive_days if a.id in p.history else 0
                        for a in self.agents]
        # preferences, soft: ``weight x preference_cost`` shift-hours per broken wish, an
        # hour priced at the agent's site cost (`preference_costs.shift_penalties` per shift;
        # max_nights per night beyond the wish)
        self.pref_pen = shift_penalties(p)
        self.pref_unit = np.array([p.scenario.site(a.site).cost_per_hour
                                   for a in self.agents])
        self.max_nights: list[list[tuple[int, float]]] = [[] for _ in self.agents]
        for pref in p.preferences:
            if pref.max_nights is not None:
                self.max_nights[self.ai[pref.agent_id]].append(
                    (pref.max_nights, pref.weight * p.config.preference_cost))
        # start-time stability (rule start_time_spread): local start minute per shift
        # type; soft, each minute beyond the spread allowed costs weight x site cost / 60
        cfg = p.config
        self.local = np.array([st.local_start_min for st in types], dtype=float)
        self.spread_max = round(cfg.start_spread_max_h * 60)
        self.spread_hard = cfg.start_spread_hard
        self.spread_w = (0.0 if cfg.start_spread_hard else cfg.start_spread_weight) * \
            self.pref_unit / 60
        self.mine: list[dict[int, int]] = [{} for _ in self.agents]  # day -> shift type
        for aid, s in shifts:
            self.mine[self.ai[aid]][int(self.day[s])] = s
        # seats: agents on duty per site and interval (binding sites only)
        self.site_names = [s.name for s in p.scenario.sites]
        n_site = {s: 0 for s in self.site_names}
        for a in self.agents:
            n_site[a.site] += 1
        self.seats = {s.name: s.seats for s in p.scenario.sites if n_site[s.name] > s.seats}
        # the previous week's shifts running into this one take seats too
        self.occ = {s: p.carried_on_duty(s) for s in self.seats}
        self.supply = p.carried_productive().copy()  # + the previous week's night shifts
        for i, mine in enumerate(self.mine):
            for s in mine.values():
                self._put(i, s, +1)
        self.req = p.required
        # the shortfall penalty's pieces per queue and interval: upper ends and weights
        self.piece_hi = np.cumsum(p.penalty.widths, axis=-1)  # [Q, T, K]
        self.piece_w = np.ascontiguousarray(p.penalty.weights, dtype=float)  # [Q, T, K]
        # below ``contract - tolerance``: 10x the understaffing cost per hour short, so a
        # move that brings an agent back within contract is always worth some shortfall
        self.short_w = 10 * p.config.understaffing_cost_per_hour / 60
        # an interval with a requirement left with nobody: a search term (penalty module)
        self.empty = empty_interval_cost(p.required, p.config.understaffing_cost_per_hour,
                                         p.interval_min * 60)
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
        pen = self.p.penalty.evaluate(self.req - self.cov).sum()
        return float(cost + pen)

    # -- evaluation ----------------------------------------------------------------------
    def delta_short(self, i: int, base: float, added: np.ndarray | float) -> np.ndarray:
        """Change of the contract-shortfall term when agent i goes from its paid minutes
        now to ``base + added``."""
        now = sum(self.paid[s] for s in self.mine[i].values())
        lo = self.lo[i]
        return self.short_w * (np.maximum(lo - base - np.asarray(added, dtype=float), 0.0)
                               - max(lo - now, 0.0))

    def deltas(self, g: int, cands: np.ndarray, sign: int) -> tuple[np.ndarray, np.ndarray]:
        """Change of the penalty and of the secondary objective (`_buffer`: surplus spread
        evenly) of adding (sign +1) or removing (-1) each candidate shift."""
        pen, buf = np.zeros(len(cands)), np.zeros(len(cands))
        if len(cands) == 0:
            return pen, buf
        idx = self.idx[cands]
        w = self.w[cands] * float(sign)
        for q in self.gq[g]:
            _deltas(idx, w, self.share[g][q], self.cov[q], self.req[q], self.piece_hi[q],
                    self.piece_w[q], self.empty[q], pen, buf)
        return pen, buf

    def delta_pen(self, g: int, cands: np.ndarray, sign: int) -> np.ndarray:
        """Penalty change of adding (sign +1) or removing (-1) each candidate shift."""
        return self.deltas(g, cands, sign)[0]

    def spread_after(self, i: int, cands: np.ndarray | None, without: int | None
                     ) -> np.ndarray:
        """Agent i's start-time spread (minutes) once shift `without` (if any) is replaced
        by each candidate (``cands=None``: by nothing)."""
        others = self.local[[s for s in self.mine[i].values() if s != without]]
        if cands is None:
            return np.array([others.max() - others.min() if len(others) else 0.0])
        m = self.local[cands]
        if not len(others):
            return np.zeros(len(cands))
        return np.maximum(others.max(), m) - np.minimum(others.min(), m)

    def delta_spread(self, i: int, cands: np.ndarray | None, without: int | None
                     ) -> np.ndarray:
        """Change of agent i's soft start-time spread cost (currency)."""
        if self.spread_w[i] == 0:
            return np.zeros(1 if cands is None else len(cands))
        now = self.local[list(self.mine[i].values())]
        before = max(0.0, (now.max() - now.min() if len(now) else 0.0) - self.spread_max)
        after = np.maximum(self.spread_after(i, cands, without) - self.spread_max, 0.0)
        return self.spread_w[i] * (after - before)

    def delta_pref(self, i: int, cands: np.ndarray | None, without: int | None
                   ) -> np.ndarray:
        """Change of agent i's preference cost (currency) when shift `without` (if any) is
        replaced by each candidate (``cands=None``: by nothing, a drop)."""
        n = 1 if cands is None else len(cands)
        out = np.zeros(n)
        pen = self.pref_pen.get(self.agents[i].id)
        old_pen = pen[without] if pen is not None and without is not None else 0.0
        if pen is not None:
            out += (0.0 if cands is None else pen[cands]) - old_pen
        if self.max_nights[i]:
            others = sum(self.night[s] for s in self.mine[i].values() if s != without)
            before = others + (self.night[without] if without is not None else 0)
            after = others + (0 if cands is None else self.night[cands].astype(int))
            for m, w in self.max_nights[i]:
                out += w * (np.maximum(after - m, 0) - max(before - m, 0))
        return out * self.pref_unit[i] + self.delta_spread(i, cands, without)

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
                 caps: tuple[int, int], *, floor: bool = True,
                 floor_min: float | None = None) -> np.ndarray:
        """Which candidate shifts agent i may take once shift `without` is removed (with
        ``floor=False`` the paid hours may fall below the contract floor: a first step;
        `floor_min`: the paid minutes the agent had before a compound move's first
        steps, instead of the paid minutes now)."""
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
        ok &= total <= self.hi[i] + 1e-9
        if floor:
            ok &= total >= min(self.lo[i], paid_now if floor_min is None else floor_min) \
                - 1e-9
        nights = sum(self.night[s] for s in others)
        weekends = sum(self.weekend[s] for s in others)
        ok &= (nights + self.night[cands] <= caps[0]) & (weekends + self.weekend[cands]
                                                         <= caps[1])
        if self.spread_hard and others:  # start_time_spread, hard
            ok &= self.spread_after(i, cands, without) <= self.spread_max
        bits = 0
        for s in others:
            bits |= 1 << int(self.day[s])
        cand_bit = np.left_shift(1, self.day[cands])
        ok &= (cand_bit & bits) == 0  # one shift per local day
        carried = self.carried[i]
        if a.site in self.days_ok and not carried:  # days off, consecutive, max consecutive
            ok &= self.days_ok[a.site][bits | cand_bit]
        else:
            for d in np.unique(self.day[cands[ok]]):
                work = np.array([(bits >> k) & 1 for k in range(self.p.days)], dtype=bool)
                work[d] = True
                if not days_ok(work, pack, carried):
                    ok &= self.day[cands] != d
        if a.site in self.occ and ok.any():
            occ = self.occ[a.site].copy()
            if without is not None:
                np.add.at(occ, self.idx[without], -self.on[without])
            load = occ[self.idx[cands]] + self.on[cands]
            ok &= ((load <= self.seats[a.site]) | (self.on[cands] == 0)).all(axis=1)
        return ok


def _warm_up() -> None:
    """Run each numba kernel once on a one-interval input, so compiling them (seconds on a
    cold cache) never counts against a user's wall-clock cap."""
    idx, w = np.zeros((1, 1), dtype=np.int64), np.ones((1, 1))
    one, out = np.ones(1), np.zeros(1)
    _deltas(idx, w, one, one * 0.0, one, np.full((1, 1), np.inf), np.ones((1, 1)), one, out,
            out.copy())


def _repair(state: _State, i: int, caps: tuple[int, int]) -> float:
    """An agent under ``contract - tolerance`` whose shifts no single move can lengthen
    (e.g. 4 x 9 h owing 38 h of at most 40 h): re-time one shift or move it to a day off
    (its paid hours may fall) and add one on a day off, both under every rule; the best
    pair that leaves the agent less short is applied. Returns the objective gained (0 when
    nothing applies)."""
    best = _best_repair(state, i, caps)
    if best is None:
        return 0.0
    _, s0, s1, s2 = best
    state.apply(i, s0, -1)
    state.apply(i, s1, +1)
    state.apply(i, s2, +1)
    return -best[0]


def _repair_via_seat(state: _State, i: int, caps: list[tuple[int, int]]) -> float:
    """An agent still under ``contract - tolerance`` because the site's seats are full
    whenever it could add a shift: `_repair`'s best pair found as if the site had no seat
    limit, then another agent of the site whose shift overlaps the pair moves that shift
    (another start or length that day, or one of its days off, under every rule and
    without falling below its own floor) so that the pair fits the seats. The best such
    triple that lowers the objective is applied. Returns the objective gained."""
    site = state.agents[i].site
    if site not in state.seats:
        return 0.0
    gi = state.group[i]
    seats, occ = state.seats.pop(site), state.occ.pop(site)
    try:
        pair = _best_repair(state, i, caps[gi], any_delta=True)
    finally:
        state.seats[site], state.occ[site] = seats, occ
    if pair is None:
        return 0.0
    _, s0, s1, s2 = pair
    need = set(state.idx[s1][state.on[s1] > 0].tolist()) | set(
        state.idx[s2][state.on[s2] > 0].tolist())
    now = sum(state.paid[s] for s in state.mine[i].values())
    short_i = state.short_w * (max(state.lo[i] - (now - state.paid[s0] + state.paid[s1]
                                                  + state.paid[s2]), 0.0)
                               - max(state.lo[i] - now, 0.0))
    best: tuple[float, int, int, int] | None = None
    for j in state.order:
        if j == i or state.agents[j].site != site:
            continue
        gj = state.group[j]
        paid_j = sum(state.paid[s] for s in state.mine[j].values())
        short_j = state.short_w * max(state.lo[j] - paid_j, 0.0)
        for dj, sj in sorted(state.mine[j].items()):
            if not need & set(state.idx[sj][state.on[sj] > 0].tolist()):
                continue
            d_out = (-state.cost[sj] + state.delta_pen(gj, np.array([sj]), -1)[0]
                     + state.delta_pref(j, None, sj)[0])
            state.apply(j, sj, -1)
            if state.feasible(i, np.array([s1]), s0, caps[gi], floor=False)[0]:
                d_i = (-state.cost[s0] + state.delta_pen(gi, np.array([s0]), -1)[0]
                       + state.cost[s1] + state.delta_pref(i, np.array([s1]), s0)[0])
                state.apply(i, s0, -1)
                d_i += state.delta_pen(gi, np.array([s1]), +1)[0]
                state.apply(i, s1, +1)
                if state.feasible(i, np.array([s2]), None, caps[gi])[0]:
                    d_i += (state.cost[s2] + state.delta_pen(gi, np.array([s2]), +1)[0]
                            + state.delta_pref(i, np.array([s2]), None)[0] + short_i)
                    state.apply(i, s2, +1)
                    free = np.array([dd == dj or dd not in state.mine[j]
                                     for dd in range(state.p.days)])
                    all_c = state.all_c[j]
                    cand = all_c[free[state.day[all_c]] & (all_c != sj)]
                    if len(cand):
                        cand = cand[state.feasible(j, cand, None, caps[gj], floor_min=paid_j)]
                    if len(cand):
                        paid2 = paid_j - state.paid[sj] + state.paid[cand]
                        d_in = (state.cost[cand] + state.delta_pen(gj, cand, +1)
                                + state.delta_pref(j, cand, None)
                                + state.short_w * np.maximum(state.lo[j] - paid2, 0.0)
                                - short_j)
                        k = int(np.argmin(d_in))
                        total = d_out + d_i + float(d_in[k])
                        if total < -1e-6 and (best is None or total < best[0] - 1e-9):
                            best = (total, j, sj, int(cand[k]))
                    state.apply(i, s2, -1)
                state.apply(i, s1, -1)
                state.apply(i, s0, +1)
            state.apply(j, sj, +1)
    if best is None:
        return 0.0
    total, j, sj, cj = best
    state.apply(j, sj, -1)
    state.apply(i, s0, -1)
    state.apply(i, s1, +1)
    state.apply(i, s2, +1)
    state.apply(j, cj, +1)
    return -total


def _best_repair(state: _State, i: int, caps: tuple[int, int], *, any_delta: bool = False
                 ) -> tuple[float, int, int, int] | None:
    """`_repair`'s best ``(objective change, shift out, shift in, shift added)`` for
    agent i, not applied: one that lowers the objective, or with `any_delta` any (the
    caller adds the rest of a compound move's change)."""
    now = sum(state.paid[s] for s in state.mine[i].values())
    if now >= state.lo[i] - 1e-9:
        return None
    g = state.group[i]
    all_c = np.concatenate(state.allowed[i]) if state.allowed[i] else np.zeros(0, int)
    best: tuple[float, int, int, int] | None = None
    for d, s0 in sorted(state.mine[i].items()):
        # another start or length that day, or the shift moved to a day off (an agent
        # whose working days leave no two consecutive days off can change its pattern)
        free = np.array([dd == d or dd not in state.mine[i] for dd in range(state.p.days)])
        same = all_c[free[state.day[all_c]] & (all_c != s0)]
        if not len(same):
            continue
        same = same[state.feasible(i, same, s0, caps, floor=False)]
        for s1 in same:
            base = (-state.cost[s0] + state.delta_pen(g, np.array([s0]), -1)[0]
                    + state.cost[s1] + state.delta_pref(i, np.array([s1]), s0)[0])
            state.apply(i, s0, -1)
            base += state.delta_pen(g, np.array([s1]), +1)[0]
            state.apply(i, int(s1), +1)
            paid1 = now - state.paid[s0] + state.paid[s1]
            off = np.array([dd not in state.mine[i] for dd in range(state.p.days)])
            add = all_c[off[state.day[all_c]]]
            add = add[paid1 + state.paid[add] > now]  # the pair leaves the agent less short
            if len(add):
                add = add[state.feasible(i, add, None, caps)]
            if len(add):
                delta = (base + state.cost[add] + state.delta_pen(g, add, +1)
                         + state.delta_pref(i, add, None)
                         + state.short_w * (np.maximum(state.lo[i] - paid1 - state.paid[add],
                                                       0.0) - (state.lo[i] - now)))
                k = int(np.argmin(delta))
                if (delta[k] < -1e-6 or any_delta) and (best is None
                                                        or delta[k] < best[0]):
                    best = (float(delta[k]), int(s0), int(s1), int(add[k]))
            state.apply(i, int(s1), -1)
            state.apply(i, s0, +1)
    return best


NO_CAPS = (1 << 30, 1 << 30)
"""Fairness caps that bind nothing: filling an interval left with nobody (`_fill_hole`)
may give one agent more night or weekend shifts than the group's most."""


def _group_caps(state: _State) -> list[tuple[int, int]]:
    """Per group: the most night shifts and the most weekend shifts any of its agents
    has (fairness: a move may not make either larger)."""
    caps = []
    for g in range(len(state.p.groups)):
        members = [i for i in state.order if state.group[i] == g]
        caps.append((max((sum(state.night[s] for s in state.mine[i].values())
                          for i in members), default=0),
                     max((sum(state.weekend[s] for s in state.mine[i].values())
                          for i in members), default=0)))
    return caps


ALL_LEVELS = ((True, 1), (True, 2), (False, 1), (False, 2))
"""`_fill_hole`'s levels in order: (within the fairness caps, shifts removed at most)."""


def _fill_hole(state: _State, q: int, t: int, *, any_delta: bool,
               full: bool = True, levels: tuple[tuple[bool, int], ...] = ALL_LEVELS
               ) -> float | None:
    """Cover queue `q` at interval `t` (a requirement, nobody on it) by the best compound
    move of one agent with the skill: remove none, one or two of the agent's shifts, take
    a shift productive at `t`, and add one on a day off if the agent would fall below its
    contract floor (or if that is better), every hard rule holding at the end. Tried in
    this order until some move fills the interval: one shift removed at most within the
    groups' fairness caps (`_group_caps`), two, then both again without the caps
    (`NO_CAPS`: an empty interval weighs more than one more night or weekend shift).
    Agents in a fixed order; the best (lowest objective change) move of the first level
    that has one is applied: when it lowers the objective, or whatever it costs with
    `any_delta`. With `full`, only a shift productive during the whole of `t` whatever
    its breaks (no break window over `t`) fills it, so placing breaks (stage 3) cannot
    empty the interval again; without, any productive part of it.
    Returns the objective change applied (None: nothing applied).

    Single moves cannot always fill an interval: an agent working Monday to Friday under
    a two-consecutive-days-off rule can only work Saturday with two shifts moved (e.g.
    Thursday and Friday to Saturday and Sunday)."""

    agents = [i for i in state.order if q in state.gq[state.group[i]]]
    group_caps = _group_caps(state)
    # whatever it costs, but not another interval left with nobody: while searching, an
    # empty interval weighs `HOLE_SCALE` times more, and the move must gain on balance
    saved = state.empty
    target = 0.0
    if any_delta:
        state.empty = saved * HOLE_SCALE
        if state.cov[q][t] > 1e-9:  # empty after breaks only: its own gain is not tracked
            target = float(state.empty[q][t])
    try:
        return _fill_hole_search(state, q, t, agents, group_caps, any_delta=any_delta,
                                 full=full, levels=levels, target=target)
    finally:
        state.empty = saved


HOLE_SCALE = 1000.0
"""`_fill_hole` with ``any_delta``: how much more an empty interval weighs in its search."""


def _fill_hole_search(state: _State, q: int, t: int, agents: list[int],
                      group_caps: list[tuple[int, int]], *, any_delta: bool, full: bool,
                      levels: tuple[tuple[bool, int], ...], target: float) -> float | None:
    """`_fill_hole`'s search and move (see there)."""
    from itertools import combinations

    for capped, n_removed in levels:
        best: tuple[float, int, tuple[int, ...], int, int] | None = None
        for i in agents:
            g = state.group[i]
            caps = group_caps[g] if capped else NO_CAPS
            all_c = state.all_c[i]
            at_t = (state.idx[all_c] == t) & (state.w[all_c] > 0)
            covers = all_c[at_t.any(axis=1)]
            if not len(covers):
                continue
            w_t = np.where(at_t[at_t.any(axis=1)], state.w[covers], 0.0).sum(axis=1)
            paid0 = sum(state.paid[s] for s in state.mine[i].values())
            floor0 = min(state.lo[i], paid0)
            short0 = state.short_w * max(state.lo[i] - paid0, 0.0)
            mine = sorted(state.mine[i].values())
            sizes = (0, 1) if n_removed == 1 else (2,)
            sets = [r for k in sizes for r in combinations(mine, k)]
            for removed in sets:
                d_rem = 0.0
                for s0 in removed:
                    d_rem += (-state.cost[s0] + state.delta_pen(g, np.array([s0]), -1)[0]
                              + state.delta_pref(i, None, s0)[0])
                    state.apply(i, s0, -1)
                paid_r = paid0 - sum(state.paid[s0] for s0 in removed)
                ok = state.feasible(i, covers, None, caps, floor=False)
                ok &= state.share[g][q][t] * w_t > 1e-9  # fills it
                if full:
                    ok &= w_t >= 1 - 1e-9
                hs = covers[ok]
                if len(hs):
                    d_h = (state.cost[hs] + state.delta_pen(g, hs, +1)
                           + state.delta_pref(i, hs, None))
                    paid1 = paid_r + state.paid[hs]
                    alone = d_rem + d_h + state.short_w * np.maximum(
                        state.lo[i] - paid1, 0.0) - short0
                    alone[paid1 < floor0 - 1e-9] = np.inf
                    k = int(np.argmin(alone))
                    if np.isfinite(alone[k]) and (best is None or alone[k] < best[0] - 1e-9):
                        best = (float(alone[k]), int(i), removed, int(hs[k]), -1)
                    # with a shift added on a day off: for the three best shifts at t
                    for k in np.argsort(d_h, kind="stable")[:3]:
                        h = int(hs[k])
                        state.apply(i, h, +1)
                        off = np.array([d not in state.mine[i] for d in range(state.p.days)])
                        add = all_c[off[state.day[all_c]]]
                        if len(add):
                            add = add[state.feasible(i, add, None, caps,
                                                     floor_min=floor0)]
                        if len(add):
                            paid2 = paid1[k] + state.paid[add]
                            d_a = (d_rem + d_h[k] + state.cost[add]
                                   + state.delta_pen(g, add, +1)
                                   + state.delta_pref(i, add, None)
                                   + state.short_w * np.maximum(state.lo[i] - paid2, 0.0)
                                   - short0)
                            j = int(np.argmin(d_a))
                            if best is None or d_a[j] < best[0] - 1e-9:
                                best = (float(d_a[j]), int(i), removed, h, int(add[j]))
                        state.apply(i, h, -1)
                for s0 in reversed(removed):
                    state.apply(i, s0, +1)
        if best is not None:
            break
    if best is None or best[0] - target >= -1e-6:
        return None
    delta, i, removed, h, a = best
    for s0 in removed:
        state.apply(i, s0, -1)
    state.apply(i, h, +1)
    if a >= 0:
        state.apply(i, a, +1)
    return delta


SWEEP_LEVELS = ((True, 1), (False, 1))
"""`_fill_hole`'s levels inside a sweep (one shift removed at most: cheap); after the last
sweep, `ALL_LEVELS`."""


def _fill_holes(state: _State, *, any_delta: bool, failed: set[tuple[int, int]] | None = None,
                levels: tuple[tuple[bool, int], ...] = ALL_LEVELS) -> tuple[int, float]:
    """`_fill_hole` on every queue-interval with a requirement and nobody on it, in time
    order (queue order within an interval): a shift productive during the whole interval
    first, else any. With `failed`, holes in it are skipped and those no move fills are
    added (a work limit: a sweep does not retry them; the last pass does). Returns (moves
    applied, objective gained)."""
    moves, gained = 0, 0.0
    holes = np.argwhere((state.req > 0) & (state.cov <= 1e-9))
    for t, q in sorted((int(t), int(q)) for q, t in holes):
        if state.cov[q][t] > 1e-9 or (failed is not None and (q, t) in failed):
            continue
        d = _fill_hole(state, q, t, any_delta=any_delta, levels=levels)
        if d is None:
            d = _fill_hole(state, q, t, any_delta=any_delta, full=False,
                           levels=tuple(x for x in levels if not x[0]))
        if d is not None:
            moves += 1
            gained -= d
        elif failed is not None:
            failed.add((q, t))
    return moves, gained


def cover_empty(problem: SchedulingProblem, shifts: list[tuple[str, int]],
                empty: list[tuple[int, int]]) -> tuple[tuple[str, int], ...] | None:
    """After breaks are placed: queue-intervals ``(queue index, interval)`` found with
    nobody (an agent's only break there) are covered by `_fill_hole` with a shift
    productive during the whole interval, whatever it costs. Returns the new shifts, or
    None when no move covers any of them."""
    state = _State(problem, shifts)
    moves = 0
    for q, t in sorted(empty, key=lambda x: (x[1], x[0])):
        if (_fill_hole(state, q, t, any_delta=True) is not None
                or _fill_hole(state, q, t, any_delta=True, full=False,
                              levels=((False, 1), (False, 2))) is not None):
            moves += 1
    if not moves:
        return None
    return tuple(sorted((state.agents[i].id, s) for i, mine in enumerate(state.mine)
                        for s in mine.values()))


def improve_schedule(problem: SchedulingProblem, shifts: list[tuple[str, int]], *,
                     max_sweeps: int = 12, wall_clock_cap_s: float | None = None
                     ) -> ImproveResult:
    """Local search on cost + shortfall penalty from a rule-respecting schedule (module
    docstring). Stops when a sweep gains < 0.01 % or after `max_sweeps` sweeps (a work
    limit): deterministic for given inputs, whatever the machine's load.
    `wall_clock_cap_s` is the user's optional cap (None: none; when it stops the search,
    the result can depend on the load).

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
    _warm_up()  # compile the kernels before a wall-clock cap starts (a cold numba cache)
    t_begin = time.perf_counter()
    state = _State(problem, shifts)
    before = state.objective()
    moves = sweeps = 0
    gains: list[float] = []
    no_repair: set[int] = set()
    buffer_moves = hole_moves = 0
    failed_holes: set[tuple[int, int]] = set()
    order = state.order
    for sweep in range(1, max_sweeps + 1):
        sweeps = sweep
        caps = _group_caps(state)
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
                    paid_now = sum(state.paid[s] for s in state.mine[i].values())
                    delta = (state.cost[cand] + state.delta_pen(g, cand, +1)
                             + state.delta_short(i, paid_now, state.paid[cand])
                             + state.delta_pref(i, cand, None))
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
                base = paid_now - state.paid[s0]
                pen0, buf0 = state.deltas(g, np.array([s0]), -1)
                removal, removal2 = -state.cost[s0] + pen0[0], buf0[0]
                drop = (removal + float(state.delta_short(i, base, 0.0))
                        + float(state.delta_pref(i, None, s0)[0]))
                short_c = (state.delta_short(i, base, state.paid[cand])
                           + state.delta_pref(i, cand, s0))
                state.apply(i, s0, -1)
                best_s, best_d = None, -1e-6
                if can_drop and drop < best_d:  # drop the shift
                    best_s, best_d = -1, float(drop)
                if len(cand):
                    pen_c, buf_c = state.deltas(g, cand, +1)
                    delta = removal + state.cost[cand] + pen_c + short_c
                    delta2 = removal2 + buf_c
                    k = int(np.lexsort((delta2, np.round(delta, 9)))[0])
                    if delta[k] < best_d:
                        best_s, best_d = int(cand[k]), float(delta[k])
                    elif best_s is None:
                        # no better objective: a move that changes neither cost nor
                        # penalty but spreads the surplus where it is thinnest
                        tie = np.flatnonzero(np.abs(delta) <= 1e-9)
                        if len(tie) and delta2[tie].min() < -1e-9:
                            k = int(tie[np.argmin(delta2[tie])])
                            state.apply(i, int(cand[k]), +1)
                            buffer_moves += 1
                            continue
                if best_s is None:
                    state.apply(i, s0, +1)
                    continue
                if best_s >= 0:
                    state.apply(i, best_s, +1)
                moves += 1
                gained -= best_d
        # intervals with a requirement left with nobody: compound moves that pay off
        filled, got = _fill_holes(state, any_delta=False, failed=failed_holes,
                                  levels=SWEEP_LEVELS)
        moves += filled
        hole_moves += filled
        gained += got
        for i in order:  # agents still under contract: two-step moves
            if i in no_repair:
                continue  # tried in an earlier sweep and nothing applied
            got = _repair(state, i, caps[state.group[i]])
            if got <= 0:  # the seats are full where the agent could add a shift
                got = _repair_via_seat(state, i, caps)
            if got > 0:
                gained += got
                moves += 1
            elif state.lo[i] > sum(state.paid[s] for s in state.mine[i].values()) + 1e-9:
                no_repair.add(i)
        state.refresh_split()
        gains.append(float(gained))
        if gained < 1e-4 * max(1.0, abs(before)):  # < 0.01 %: converged
            break
        if wall_clock_cap_s is not None and time.perf_counter() - t_begin > wall_clock_cap_s:
            break
    # last, every interval still left with nobody that one agent's compound move can
    # cover is covered, whatever it costs (no sweep follows that could undo it)
    state.refresh_split()
    filled, _ = _fill_holes(state, any_delta=True)
    moves += filled
    hole_moves += filled
    if filled:
        state.refresh_split()  # the exact split of the final schedule (`objective_after`)
    out = tuple(sorted((state.agents[i].id, s) for i, mine in enumerate(state.mine)
                       for s in mine.values()))
    return ImproveResult(shifts=out, moves=moves, spread_moves=buffer_moves,
                         hole_moves=hole_moves, sweeps=sweeps,
                         gains=tuple(gains), objective_before=before,
                         objective_after=state.objective())
