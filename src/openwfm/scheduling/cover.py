"""Stage 1: how many shifts of each (group, shift type) — a MILP solved by HiGHS.

Model (per group g of interchangeable agents, shift type s, queue q, interval t):

- ``x[g,s]`` integer >= 0: shifts of type s worked by agents of group g;
- ``f[g,q,t]`` >= 0: agents of g on duty and productive at t assigned to queue q — a
  transport structure, ``sum_q f[g,q,t] <= sum_s w[s,t] x[g,s]``, so a bilingual agent is
  counted once, split between queues, never fully toward each skill;
- ``u[q,t,k]`` >= 0: shortfall below the requirement, in pieces of rising weight
  (``problem.penalty``: the service level lost x offered x cost per missed contact, or
  1x, 2x, 4x the understaffing cost; see `openwfm.scheduling.penalty`), a convex
  piecewise-linear penalty: ``sum_g f[g,q,t] + sum_k u[q,t,k] >= required[q,t]``;
- seats: agents on duty (breaks included) of a site <= its seats in every interval;
- per group and local day: shifts <= agents; per group: paid hours within the agents'
  contract ranges, shifts <= agents x (7 - days off).

Objective: shift cost (paid hours x site cost, plus the night premium) + shortfall penalty.
Breaks are placed later (stage 3); here a break of m minutes in a window of W minutes
lowers the shift's productive weight ``w`` by m / W over that window ("smoothed" breaks).
The LP relaxation of this model is the reported bound: it is exact for the model, and
a close (not certified) bound for the full problem because breaks are smoothed and the
assignment rules of stage 2 are aggregated.

References
----------
Dantzig, G. B. (1954). A comment on Edie's "Traffic delays at toll booths". Operations
Research 2(3), 339-341 (the set-covering shift model). Aykin, T. (1996). Optimal shift
scheduling with multiple break windows. Management Science 42(4), 591-602.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from openwfm._highs import quiet_highs
from openwfm._highs import run as run_highs
from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.penalty import (  # noqa: F401 (piece_widths, PIECE_WEIGHTS re-exported)
    PIECE_WEIGHTS,
    piece_widths,
    pieces_penalty,
    piecewise_pieces,
)
from openwfm.scheduling.rules import work_patterns


def shortfall_penalty(shortfall: np.ndarray, required: np.ndarray, cost_per_interval: float
                      ) -> np.ndarray:
    """The piecewise penalty (1x, 2x, 4x `cost_per_interval` over `piece_widths`) of a
    shortfall (agents) per queue-interval; a problem's own penalty is
    ``problem.penalty.evaluate(shortfall)``.

    Examples
    --------
    >>> float(shortfall_penalty(np.array([2.5]), np.array([10.0]), 1.0)[0])
    4.0
    """
    return pieces_penalty(shortfall, *piecewise_pieces(required, cost_per_interval))


def productive_profile(problem: SchedulingProblem, length: int) -> np.ndarray:
    """Per-interval productive fraction of a shift of `length` minutes (smoothed breaks)."""
    prof = np.ones(length)
    for b in problem.config.breaks:
        if not b.applies(length):
            continue
        a, e = b.window_min(length)
        if e - a > 0:
            prof[a:e] -= b.minutes / (e - a)
    im = problem.interval_min
    nk = math.ceil(length / im)
    padded = np.zeros(nk * im)
    padded[:length] = prof
    return padded.reshape(nk, im).mean(axis=1)


def duty_profile(problem: SchedulingProblem, length: int) -> np.ndarray:
    im = problem.interval_min
    nk = math.ceil(length / im)
    padded = np.zeros(nk * im)
    padded[:length] = 1.0
    return padded.reshape(nk, im).mean(axis=1)


@dataclass(frozen=True)
class CoverModel:
    """The stage-1 MILP in matrix form (``min c x, lb <= A x <= ub``), inspectable."""

    c: np.ndarray
    a: sp.csr_matrix
    lb: np.ndarray
    ub: np.ndarray
    var_lb: np.ndarray
    var_ub: np.ndarray
    integrality: np.ndarray
    x_index: tuple[tuple[int, int], ...]
    """(group index, shift type index) of each x variable (the first len(x_index) columns)."""
    row_names: tuple[str, ...]


@dataclass(frozen=True)
class CoverSolution:
    """Stage-1 result: shift counts per (group, type), objective and the LP bound."""

    counts: dict[tuple[int, int], float]
    """Shifts per (group, shift type); fractional when only the LP was solved."""
    objective: float
    lp_bound: float
    status: str
    mip_gap: float


def _compatible(problem: SchedulingProblem, g: int, s: int) -> bool:
    grp, st = problem.groups[g], problem.shift_types[s]
    if st.site != grp.site or (st.night_min > 0 and not any(a.night_ok for a in grp.agents)):
        return False
    lo = min(a.min_shift_h for a in grp.agents) * 60
    hi = max(a.max_shift_h for a in grp.agents) * 60
    return lo <= st.length <= hi


def _deltas(profile: np.ndarray, t0: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """First differences of a shift's per-interval profile placed at t0, clipped to [0, T).

    Differences before the horizon fold into t = 0 (the running sum's initial value).
    """
    p = np.concatenate([[0.0], profile, [0.0]])
    d = np.diff(p)
    t = t0 + np.arange(len(d))
    keep = (d != 0) & (t < T)
    t, d = np.maximum(t[keep], 0), d[keep]
    if len(t) and t[0] == 0:
        first = t == 0
        t = np.concatenate([[0], t[~first]])
        d = np.concatenate([[d[first].sum()], d[~first]])
    nz = d != 0
    return t[nz], d[nz]


def _placed_deltas(problem: SchedulingProblem, profile: np.ndarray, t0: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """`_deltas` of a shift's profile placed at t0; on a cyclic week (`SchedulingProblem.
    cyclic`) the parts before and after the horizon wrap to its other end."""
    T = problem.n_intervals
    if not problem.cyclic or (t0 >= 0 and t0 + len(profile) <= T):
        return _deltas(profile, t0, T)
    parts = [_deltas(profile, t0 + k * T, T) for k in (-1, 0, 1)]
    tt = np.concatenate([p[0] for p in parts])
    dd = np.concatenate([p[1] for p in parts])
    u, inv = np.unique(tt, return_inverse=True)
    d = np.zeros(len(u))
    np.add.at(d, inv, dd)
    nz = d != 0
    return u[nz], d[nz]


def build_cover_model(problem: SchedulingProblem) -> CoverModel:
    """Build the stage-1 MILP (see the module docstring).

    Productive and on-duty agents per group and interval are running sums
    (``prod[g,t] = prod[g,t-1] + sum_s dw[s,t] x[g,s]``) so each shift variable carries
    only the breakpoints of its profile: the matrix stays sparse at 500 agents x 7 days.
    """
    cfg = problem.config
    T, Q, im = problem.n_intervals, len(problem.queues), problem.interval_min
    req = problem.required
    qidx = {q: i for i, q in enumerate(problem.queues)}
    G = len(problem.groups)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lb: list[np.ndarray] = []
    row_ub: list[np.ndarray] = []
    names: list[str] = []
    n_rows = 0

    def add_rows(n: int, lb: np.ndarray | float, ub: np.ndarray | float, name: str) -> int:
        nonlocal n_rows
        start = n_rows
        row_lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        row_ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        names.extend([name] * n)
        n_rows += n
        return start

    def put(r: np.ndarray, c: np.ndarray | int, v: np.ndarray | float) -> None:
        r = np.asarray(r)
        rows.append(r)
        cols.append(np.broadcast_to(np.asarray(c), r.shape).copy())
        vals.append(np.broadcast_to(np.asarray(v, dtype=float), r.shape).copy())

    x_index = [(g, s) for g in range(G) for s in range(len(problem.shift_types))
               if _compatible(problem, g, s)]
    nx = len(x_index)
    ncol = nx
    prod_col = ncol + np.arange(G * T).reshape(G, T)
    ncol += G * T
    duty_col = ncol + np.arange(G * T).reshape(G, T)
    ncol += G * T
    demand_t = [np.flatnonzero(req[q] > 0) for q in range(Q)]
    f_cols: list[tuple[int, int, np.ndarray]] = []
    for g, grp in enumerate(problem.groups):
        if len(grp.skills) == 1:  # one skill: productive agents go straight to the queue
            continue
        for qn in grp.skills:
            q = qidx[qn]
            f_cols.append((g, q, np.arange(ncol, ncol + len(demand_t[q]))))
            ncol += len(demand_t[q])
    # shortfall pieces u[q,t,k] where the piece has a width: (position in demand_t, column)
    u_cols: list[list[tuple[np.ndarray, np.ndarray]]] = []
    for q in range(Q):
        w = problem.penalty.widths[q, demand_t[q]]
        u_cols.append([])
        for k in range(w.shape[1]):
            pos = np.flatnonzero(w[:, k] > 0)
            u_cols[q].append((pos, np.arange(ncol, ncol + len(pos))))
            ncol += len(pos)
    # days-off patterns (Bailey 1985): y[g, p] agents of group g working exactly the days
    # of pattern p, one of the week patterns the site's rule pack allows
    pat_bits: dict[int, np.ndarray] = {}
    pat_cols: dict[int, np.ndarray] = {}
    if problem.days <= 7:  # 2^days patterns: a week's 128 at most
        tables = {}
        for g, grp in enumerate(problem.groups):
            pack = problem.packs[grp.site]
            if pack not in tables:
                tables[pack] = np.flatnonzero(work_patterns(pack, problem.days))
            if not len(tables[pack]):
                continue  # no week meets the pack (e.g. more days off than days): the
                # checker reports it; the bound stays without pattern rows
            pat_bits[g] = tables[pack]
            pat_cols[g] = np.arange(ncol, ncol + len(pat_bits[g]))
            ncol += len(pat_bits[g])
    c = np.zeros(ncol)
    c[:nx] = [problem.shift_types[s].cost for _, s in x_index]
    var_ub = np.full(ncol, np.inf)
    for q in range(Q):
        for k, (pos, uc) in enumerate(u_cols[q]):
            c[uc] = problem.penalty.weights[q, demand_t[q][pos], k]
            var_ub[uc] = 0.0 if cfg.hard_coverage else problem.penalty.widths[
                q, demand_t[q][pos], k]

    # running sums: prod[g,t] - prod[g,t-1] - sum dw x = 0 (same for duty); agents of the
    # previous week still working here start the productive sum (multi-week plans)
    t = np.arange(T)
    carried = np.diff(problem.carried_productive(), axis=1, prepend=0.0).ravel()
    prod_row = add_rows(G * T, carried, carried, "productive_sum")
    duty_row = add_rows(G * T, 0.0, 0.0, "on_duty_sum")
    n_site = {site.name: sum(len(g.agents) for g in problem.groups if g.site == site.name)
              for site in problem.scenario.sites}
    seats_bind = {site.name: n_site[site.name] > site.seats for site in problem.scenario.sites}
    for base, colmat in ((prod_row, prod_col), (duty_row, duty_col)):
        for g in range(G):
            if colmat is duty_col and not seats_bind[problem.groups[g].site]:
                continue
            put(base + g * T + t, colmat[g], 1.0)
            put(base + g * T + t[1:], colmat[g, :-1], -1.0)
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for j, (g, s) in enumerate(x_index):
        st = problem.shift_types[s]
        if st.length not in cache:
            cache[st.length] = (productive_profile(problem, st.length),
                                duty_profile(problem, st.length))
        prod, duty = cache[st.length]
        for base, prof in ((prod_row, prod), (duty_row, duty)):
            if base == duty_row and not seats_bind[st.site]:
                continue
            tt, dd = _placed_deltas(problem, prof, st.start // im)
            put(base + g * T + tt, j, -dd)
    # supply: sum_q f[g,q,t] <= prod[g,t] where the group's skills have demand
    for g, grp in enumerate(problem.groups):
        if len(grp.skills) == 1:
            continue
        ts = np.unique(np.concatenate([demand_t[qidx[q]] for q in grp.skills]))
        start = add_rows(len(ts), -np.inf, 0.0, f"supply:g{g}")
        rowmap = np.full(T, -1)
        rowmap[ts] = np.arange(start, start + len(ts))
        put(rowmap[ts], prod_col[g, ts], -1.0)
        for g2, q, fc in f_cols:
            if g2 == g:
                put(rowmap[demand_t[q]], fc, 1.0)
    # seats: sum of on-duty agents of a site's groups <= seats
    for site in problem.scenario.sites:
        if not seats_bind[site.name]:
            continue  # fewer agents than seats: the rule cannot bind
        free = np.maximum(0, site.seats - problem.carried_on_duty(site.name)).astype(float)
        start = add_rows(T, -np.inf, free, f"seats:{site.name}")
        for g, grp in enumerate(problem.groups):
            if grp.site == site.name:
                put(start + t, duty_col[g], 1.0)
    # cover: sum_g f[g,q,t] + sum_k u[q,t,k] >= required[q,t]
    cover_start = {}
    for q in range(Q):
        k = len(demand_t[q])
        cover_start[q] = add_rows(k, req[q, demand_t[q]], np.inf, f"cover:{problem.queues[q]}")
        for pos, uc in u_cols[q]:
            put(cover_start[q] + pos, uc, 1.0)
    for _g, q, fc in f_cols:
        put(cover_start[q] + np.arange(len(fc)), fc, 1.0)
    for g, grp in enumerate(problem.groups):
        if len(grp.skills) == 1:
            q = qidx[grp.skills[0]]
            put(cover_start[q] + np.arange(len(demand_t[q])), prod_col[g, demand_t[q]], 1.0)
    # group rows: per local day (all agents, night-capable agents), paid hours, shifts
    x_g = np.array([g for g, _ in x_index], dtype=int)
    x_day = np.array([problem.shift_types[s].day for _, s in x_index], dtype=int)
    x_paid = np.array([problem.shift_types[s].paid_min for _, s in x_index], dtype=float)
    x_night = np.array([problem.shift_types[s].night_min > 0 for _, s in x_index])
    tol = cfg.contract_tolerance_h * 60
    days = problem.days
    for g, grp in enumerate(problem.groups):
        pack = problem.packs[grp.site]
        sel = np.flatnonzero(x_g == g)
        n = len(grp.agents)
        ok = x_day[sel] < days
        start = add_rows(days, -np.inf, n, f"agents_per_day:g{g}")
        put(start + x_day[sel][ok], sel[ok], 1.0)
        n_night = sum(a.night_ok for a in grp.agents)
        if n_night < n:
            nsel = sel[ok & x_night[sel]]
            start = add_rows(days, -np.inf, n_night, f"night_ok:g{g}")
            put(start + x_day[nsel], nsel, 1.0)
        hi = sum(min(a.contract_hours * 60, pack.max_weekly_h * 60) for a in grp.agents)
        lo = 0.0
        days_needed = []
        for a in grp.agents:
            a_hi = min(a.contract_hours * 60, pack.max_weekly_h * 60)
            lengths = {st.paid_min for st in problem.shift_types if st.site == grp.site
                       and a.min_shift_h * 60 <= st.length <= a.max_shift_h * 60}
            floor = min_paid_minutes(lengths, max(0.0, a_hi - tol), a_hi,
                                     max(0, days - pack.min_days_off))
            lo += floor
            days_needed.append(math.ceil(floor / max(lengths) - 1e-9) if lengths else 0)
        if g in pat_cols:
            # shifts on day d = agents whose pattern works d; every agent has one pattern,
            # with at least the days its contract floor needs (longest paid shift each day)
            bits, pc = pat_bits[g], pat_cols[g]
            work = (bits[:, None] >> np.arange(days)) & 1
            start = add_rows(days, 0.0, 0.0, f"work_pattern:g{g}")
            put(start + x_day[sel][ok], sel[ok], 1.0)
            for d in range(days):
                on = np.flatnonzero(work[:, d])
                put(np.full(len(on), start + d), pc[on], -1.0)
            start = add_rows(1, n, n, f"patterns:g{g}")
            put(np.full(len(pc), start), pc, 1.0)
            size = work.sum(axis=1)
            for k in sorted({m for m in days_needed if 0 < m <= size.max()}):
                start = add_rows(1, sum(m >= k for m in days_needed), np.inf,
                                 f"days_needed:g{g}")
                put(np.full(int((size >= k).sum()), start), pc[size >= k], 1.0)
        start = add_rows(1, lo, hi, f"contract_hours:g{g}")
        put(np.full(len(sel), start), sel, x_paid[sel])
        start = add_rows(1, -np.inf, n * max(0, days - pack.min_days_off), f"days_off:g{g}")
        put(np.full(len(sel), start), sel, 1.0)
    a = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n_rows, ncol))
    integrality = np.zeros(ncol)
    integrality[:nx] = 1
    var_lb = np.zeros(ncol)
    return CoverModel(c=c, a=a, lb=np.concatenate(row_lb), ub=np.concatenate(row_ub),
                      var_lb=var_lb, var_ub=var_ub, integrality=integrality,
                      x_index=tuple(x_index), row_names=tuple(names))


def _highs_lp(model: CoverModel, wall_clock_cap_s: float | None, seed: int
              ) -> tuple[np.ndarray | None, float, str]:
    """Solve the LP relaxation with HiGHS' interior point method (fast on this structure).

    The LP runs to completion (no work or time limit): a wall-clock limit here made the
    result (and whether there is one) depend on the machine's load. A second attempt (IPM
    with crossover, then dual simplex) follows when the first ends without an optimal
    status. `wall_clock_cap_s` is the user's optional cap (None: none).
    """
    import highspy

    inf = highspy.kHighsInf
    a = model.a.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
    lp.col_cost_ = model.c
    lp.col_lower_ = model.var_lb
    lp.col_upper_ = np.where(np.isinf(model.var_ub), inf, model.var_ub)
    lp.row_lower_ = np.where(np.isinf(model.lb), -inf, model.lb)
    lp.row_upper_ = np.where(np.isinf(model.ub), inf, model.ub)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    h = quiet_highs()
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("random_seed", int(seed))
    # No `threads` option: HiGHS keeps one process-wide task scheduler, and a Highs object
    # asking for another thread count than the one it was first started with (by the
    # capacity MIP, scipy's milp, ...) refuses to run ("Not Set" status).
    h.setOptionValue("run_crossover", "off")
    if wall_clock_cap_s is not None:
        h.setOptionValue("time_limit", float(wall_clock_cap_s))
    h.passModel(lp)
    run_highs(h)
    status = h.modelStatusToString(h.getModelStatus())
    for solver, crossover in (("ipm", "on"), ("simplex", "off")):
        if status == "Optimal" or "nfeasible" in status or status == "Time limit reached":
            break
        h.clearSolver()
        h.setOptionValue("solver", solver)
        h.setOptionValue("run_crossover", crossover)
        run_highs(h)
        status = h.modelStatusToString(h.getModelStatus())
    if status != "Optimal":
        return None, float("nan"), status
    return np.asarray(h.getSolution().col_value), float(h.getInfo().objective_function_value), \
        status


MIP_NODE_LIMIT = 2000
"""Branch-and-bound nodes of the stage-1 MILP (small models): a work limit, so the counts
do not depend on how fast the machine is."""


def solve_cover(model: CoverModel, *, node_limit: int = MIP_NODE_LIMIT,
                mip_rel_gap: float = 0.005, integer: bool | None = None, seed: int = 0,
                wall_clock_cap_s: float | None = None) -> CoverSolution:
    """Solve the LP relaxation (the bound), then, for small models, the MILP with HiGHS.

    With ``integer=None`` the MILP is solved when there are at most 300 shift variables;
    above that the LP's fractional counts go to stage 2, which rounds them while assigning
    named agents (the LP is then the only bound). The MILP stops at `mip_rel_gap` or after
    `node_limit` branch-and-bound nodes (deterministic work limits); `wall_clock_cap_s` is
    an optional user cap in seconds (None: none; when it stops a solve, the result can
    depend on the machine's load).

    Raises `openwfm.errors.InfeasibleError` when the LP is infeasible or not solved within
    the user's wall-clock cap (the caller's explain step names the rule).
    """
    from openwfm.errors import InfeasibleError

    nx = len(model.x_index)
    x_lp, lp_obj, lp_status = _highs_lp(model, wall_clock_cap_s, seed)
    if x_lp is None:
        rule = "coverage_model" if "nfeasible" in lp_status else "wall_clock_cap_s"
        raise InfeasibleError(f"stage-1 LP: {lp_status}", rule=rule)
    if integer is None:
        integer = nx <= 300
    if integer:
        options: dict[str, float | int] = {"node_limit": int(node_limit),
                                           "mip_rel_gap": mip_rel_gap}
        if wall_clock_cap_s is not None:
            options["time_limit"] = float(wall_clock_cap_s)
        mip = milp(model.c, constraints=LinearConstraint(model.a, model.lb, model.ub),
                   bounds=Bounds(model.var_lb, model.var_ub), integrality=model.integrality,
                   options=options)
        if mip.x is not None:
            x = np.round(mip.x[:nx])
            keep = np.flatnonzero(x > 0)
            return CoverSolution(
                counts={model.x_index[j]: float(x[j]) for j in keep},
                objective=float(mip.fun), lp_bound=lp_obj,
                status="optimal" if mip.status == 0 else "work_limit",
                mip_gap=float(getattr(mip, "mip_gap", np.nan) or 0.0))
    x = x_lp[:nx]
    keep = np.flatnonzero(x > 1e-6)
    return CoverSolution(counts={model.x_index[j]: float(x[j]) for j in keep},
                         objective=lp_obj, lp_bound=lp_obj, status="lp", mip_gap=np.nan)


def min_paid_minutes(lengths: set[int] | list[int], lo: float, hi: float,
                     max_shifts: int) -> float:
    """The least weekly paid minutes in ``[lo, hi]`` that at most `max_shifts` shifts of
    the given paid `lengths` can add up to (`lo` when none can: the pre-checks and the
    rule checker then speak). A valid per-agent floor for the stage-1 LP, tighter than
    ``lo`` when shift lengths are coarse (8 h paid shifts and 38 h owed: 40 h).

    Examples
    --------
    >>> min_paid_minutes({480}, 38 * 60, 40 * 60, 5) / 60
    40.0
    >>> min_paid_minutes({360, 480}, 44 * 60, 48 * 60, 6) / 60
    44.0
    >>> min_paid_minutes({480}, 41 * 60, 42 * 60, 5) / 60  # nothing in range: lo
    41.0
    """
    sums = {0}
    for _ in range(max_shifts):
        sums |= {t + x for t in sums for x in lengths if t + x <= hi + 1e-9}
    fit = [t for t in sums if lo - 1e-9 <= t <= hi + 1e-9]
    return float(min(fit)) if fit else float(lo)


def min_shift_cover(demand: np.ndarray, shift_len: int, *, cyclic: bool = True,
                    integer: bool = True) -> tuple[float, np.ndarray]:
    """Fewest shifts of `shift_len` periods covering `demand` per period (Dantzig's model).

    With ``cyclic`` a shift may wrap around the end of the horizon (24/7 operation).

    Examples
    --------
    The published 24-hour example (REFERENCES.md R7):

    >>> d = [6, 6, 6, 6, 6, 8, 9, 12, 18, 22, 25, 21, 21, 20, 18, 21, 21, 24, 24, 18, 18,
    ...      18, 12, 8]
    >>> min_shift_cover(np.array(d), 8)[0]
    55.0
    """
    d = np.asarray(demand, dtype=float)
    n = len(d)
    starts = n if cyclic else n - shift_len + 1
    a = np.zeros((n, starts))
    for s in range(starts):
        a[(s + np.arange(shift_len)) % n, s] = 1
    res = milp(np.ones(starts), constraints=LinearConstraint(a, d, np.inf),
               integrality=np.full(starts, 1 if integer else 0), bounds=Bounds(0, np.inf))
    return float(round(res.fun, 9)), np.round(res.x, 9)


def flow_coverage(problem: SchedulingProblem, supply: np.ndarray) -> tuple[np.ndarray, float]:
    """Best split of productive agents between their skills, per interval (an LP).

    `flow_split` with the same arguments, without the flows.
    """
    cov, penalty, _flows, _pairs = flow_split(problem, supply)
    return cov, penalty


def flow_split(problem: SchedulingProblem, supply: np.ndarray
               ) -> tuple[np.ndarray, float, np.ndarray, list[tuple[int, int]]]:
    """Best split of productive agents between their skills, per interval (an LP).

    Parameters
    ----------
    supply : ndarray [group, interval]
        Productive agents of each group in each interval (fractions allowed).

    Returns
    -------
    coverage : ndarray [queue, interval]
        Agents working each queue, minimising the shortfall penalty.
    penalty : float
        The shortfall penalty of that coverage.
    flows : ndarray [pair, interval]
        Agents of group ``pairs[p][0]`` working queue ``pairs[p][1]``.
    pairs : list of (group index, queue index)
    """
    T, Q = problem.n_intervals, len(problem.queues)
    qidx = {q: i for i, q in enumerate(problem.queues)}
    req = problem.required
    widths = problem.penalty.widths.reshape(Q * T, -1)
    qt, kk = np.nonzero(widths > 0)  # one shortfall variable per piece with a width
    pairs = [(g, qidx[q]) for g, grp in enumerate(problem.groups) for q in grp.skills]
    nf = len(pairs) * T
    nu = len(qt)
    c = np.concatenate([np.zeros(nf), problem.penalty.weights.reshape(Q * T, -1)[qt, kk]])
    c[:nf] = -1e-6  # tie-break: use idle capacity (overstaffing is free here)
    ub = np.concatenate([np.full(nf, np.inf), widths[qt, kk]])
    t = np.arange(T)
    rows, cols = [], []
    for p, (g, _q) in enumerate(pairs):
        rows.append(g * T + t)
        cols.append(p * T + t)
    n_g = len(problem.groups)
    for p, (_g, q) in enumerate(pairs):
        rows.append(n_g * T + q * T + t)
        cols.append(p * T + t)
    rows.append(n_g * T + qt)
    cols.append(nf + np.arange(nu))
    r, cc = np.concatenate(rows), np.concatenate(cols)
    a = sp.csr_matrix((np.ones(len(r)), (r, cc)), shape=(n_g * T + Q * T, nf + nu))
    lb = np.concatenate([np.full(n_g * T, -np.inf), req.ravel()])
    ubr = np.concatenate([supply.ravel(), np.full(Q * T, np.inf)])
    res = milp(c, constraints=LinearConstraint(a, lb, ubr), bounds=Bounds(0, ub),
               integrality=np.zeros(len(c)))
    f = res.x[:nf].reshape(len(pairs), T)
    cov = np.zeros((Q, T))
    for p, (_g, q) in enumerate(pairs):
        cov[q] += f[p]
    return cov, float(problem.penalty.evaluate(req - cov).sum()), f, pairs
