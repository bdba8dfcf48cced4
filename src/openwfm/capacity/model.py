"""The hiring plan as a mixed-integer program, built apart from its solution.

Decision variables, for every site ``j`` serving skill group ``k`` and week ``s``:

- ``x[j,k,s]`` integer: people in the class that starts training in week ``s`` (only for
  ``s = lead_time_weeks + i * class_every_weeks``: earlier classes cannot be recruited in
  time);
- ``y[j,k,s]`` binary (only when ``class_min > 0``): whether that class runs, with
  ``class_min * y <= x <= class_max * y``;
- ``under[j,k,t] >= 0`` and ``over[j,k,t] >= 0``: the gap to required FTE.

Constraints:

- ``cover:{site}:{skill}:w{t}``:
  ``base[j,k,t] + sum_s productive[t-s] * x[j,k,s] + under - over = required[j,k,t]``;
- ``hires:{site}:{language}:w{s}``: the classes of a site that need a language stay
  within what the labour market yields between two class starts (``max_hires_per_week *
  class_every_weeks``; 0 forbids the language at that site);
- ``seats:{site}:w{t}``: ``sum_k base + sum_{k,s} seats[t-s] * x <= seat_headcount``
  (see `openwfm.capacity.config.SiteCapacity.seat_headcount`);
- ``coverage:{site}:{skill}:w{t}`` (only when ``min_coverage > 0``, for weeks a class
  started in week ``lead_time_weeks`` can reach): ``under <= (1 - min_coverage) * required``.

Objective (minimised): for each hire, hiring + training cost plus the wages
(``hourly_cost * fte_hours`` a week, attrition included) up to the horizon; plus
``under_penalty_per_fte_week * under + over_penalty_per_fte_week * over``.
Wages of the current headcount are a constant (reported, not optimised: no lay-offs).

Class sizes are also bounded by what an optimal plan can use (`_useful_class`), and the
``class_max`` row uses that bound (``x <= ub * y``).

Solved with HiGHS: the LP relaxation through `scipy.optimize.milp`; a first integer plan
from the LP solution rounded (`rounded_start`); then every (site, skill) group's MIP alone
(`_solve_groups`: without the seat and hiring rows, which are the only rows that couple
groups, the MIP splits into one small MIP per group). The sum of the groups' proven bounds
is a lower bound of the whole MIP that, unlike the LP relaxation, accounts for
``class_min`` (the LP opens a sixth of a class). When the groups' plans together keep every
seat and hiring row they are the plan; otherwise the whole MIP is solved by `highspy` from
the rounded plan. Every MIP stops at its gap or a branch-and-bound node limit (`NODE_LIMIT`,
a work limit: the same plan under any machine load); wall-clock time is only an optional
user cap. The plan reports its objective, the LP bound, the best
proven bound (LP, groups or HiGHS's dual bound, whichever is highest) and the gap to it.

References
----------
.. [1] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
   Mathematical Programming Computation 10 (2018) 119-142 (HiGHS).
.. [2] N. Gans, G. Koole and A. Mandelbaum, "Telephone call centers: tutorial, review,
   and research prospects", MSOM 5(2) (2003), section 5 (hiring and capacity planning).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from openwfm import progress
from openwfm._highs import quiet_highs
from openwfm._highs import run as run_highs
from openwfm.capacity.config import CapacityInputs
from openwfm.capacity.demand import Requirement
from openwfm.capacity.supply import base_supply, cohort_curves, convolve_classes, weekly_attrition
from openwfm.errors import InfeasibleError, InputError


@dataclass(frozen=True)
class CapacityProblem:
    """Inputs plus required and base (no-hire) FTE, arrays of shape (sites, skills, weeks)."""

    inputs: CapacityInputs
    sites: tuple[str, ...]
    skills: tuple[str, ...]
    required: np.ndarray
    base: np.ndarray


def make_problem(inp: CapacityInputs, requirement: Requirement | np.ndarray) -> CapacityProblem:
    """Combine inputs and required FTE (a `Requirement` or an array (sites, skills, weeks)).

    Raises
    ------
    InputError
        When a planned transfer moves more FTE than the sending site has.
    """
    req = requirement.fte if isinstance(requirement, Requirement) else np.asarray(
        requirement, dtype=float)
    base = base_supply(inp)
    expected = (len(base.sites), len(base.skills), inp.weeks)
    if req.shape != expected:
        raise ValueError(f"required FTE has shape {req.shape}, expected {expected}")
    neg = np.argwhere(base.fte < -1e-9)
    if len(neg):
        j, k, t = neg[0]
        raise InputError(f"transfers move more {base.skills[k]} FTE out of {base.sites[j]} "
                         f"than it has in week {t}", file=inp.source, column="transfers")
    return CapacityProblem(inputs=inp, sites=base.sites, skills=base.skills, required=req,
                           base=base.fte)


@dataclass(frozen=True)
class CapacityModel:
    """The MIP in matrix form (``lb <= A x <= ub``), with names for every row and the
    index of every decision variable (-1 where the variable does not exist)."""

    problem: CapacityProblem
    c: np.ndarray
    a: sparse.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    var_lb: np.ndarray
    var_ub: np.ndarray
    integrality: np.ndarray
    row_names: tuple[str, ...]
    var_names: tuple[str, ...]
    i_class: np.ndarray
    """Index of ``x[j,k,s]`` (class size) or -1."""
    i_open: np.ndarray
    i_under: np.ndarray
    i_over: np.ndarray
    hire_cost_per_head: np.ndarray
    """Objective coefficient of one hire, per (site, week) (hiring + training + wages)."""
    first_reachable_week: int

    def rows(self, prefix: str) -> np.ndarray:
        """Indices of the constraints whose name starts with `prefix`."""
        return np.array([i for i, n in enumerate(self.row_names) if n.startswith(prefix)],
                        dtype=int)


def _useful_class(deficit: np.ndarray, productive: np.ndarray, s: int, class_min: int) -> float:
    """The largest class starting in week `s` that an optimal plan can contain.

    With ``m = max_t deficit[t] / productive[t - s]`` (``deficit`` = required - base, at
    least 0), a class of ``n >= m + 1`` still covers every week's whole deficit after
    losing one person, so dropping that person removes cost (wages, over-staffing) and
    adds no under-staffing: the optimal class is at most ``max(ceil(m), class_min)``, and 0
    when no deficit is left from week `s` on. Seat and hiring rows only get looser with
    fewer hires, so the bound holds in the whole MIP.

    Examples
    --------
    >>> _useful_class(np.array([0.0, 0.0, 3.0, 4.0]), np.array([0.0, 0.5, 1.0, 1.0]), 1, 6)
    6.0
    >>> _useful_class(np.array([0.0, 0.0, 9.0, 4.0]), np.array([0.0, 0.5, 1.0, 1.0]), 1, 2)
    18.0
    >>> _useful_class(np.array([5.0, 0.0, 0.0]), np.array([0.0, 1.0, 1.0]), 1, 6)
    0.0
    """
    n = len(deficit) - s
    prod = productive[:n]
    ok = prod > 0
    if not ok.any():
        return 0.0
    m = float(np.max(deficit[s:][ok] / prod[ok]))
    if m <= 1e-9:
        return 0.0
    return float(max(np.ceil(m - 1e-9), class_min))


def build_model(problem: CapacityProblem) -> CapacityModel:
    """Build the hiring MIP of `problem` (see the module docstring), without solving it.

    Raises
    ------
    InfeasibleError
        ``rule="seats:{site}"`` when the current headcount alone exceeds a site's seats.

    Examples
    --------
    One site, 10 FTE on staff, 12 required for 8 weeks, no attrition; a class recruited in
    week 0 trains in week 1, nests at 0.5 in week 2. Hiring 2 in week 1 leaves 2 + 2 + 1
    FTE-weeks short (3 000 each) and costs 2 x 400 x 7 weeks of wages: 20 600.

    >>> from datetime import date
    >>> import numpy as np
    >>> from openwfm.capacity.config import (CapacityInputs, HiringPolicy, SiteCapacity,
    ...     SkillGroup)
    >>> inp = CapacityInputs(start=date(2026, 1, 5), weeks=8,
    ...     sites=(SiteCapacity("A", seats=100, hourly_cost=10.0),),
    ...     skills=(SkillGroup("k", ("q",), {"A": 1.0}, ("fr",)),),
    ...     hiring=HiringPolicy(lead_time_weeks=1, training_weeks=1,
    ...                         nesting_productivity=(0.5,), class_max=10),
    ...     drivers=(), headcount={("A", "k"): 10.0}, attrition_monthly=0.0)
    >>> model = build_model(make_problem(inp, np.full((1, 1, 8), 12.0)))
    >>> len(model.rows("cover:")), model.row_names[0]
    (8, 'cover:A:k:w0')
    >>> plan = solve(model)
    >>> round(plan.objective), plan.hires[["start_week", "size"]].values.tolist()
    (20600, [[1, 2]])
    """
    inp = problem.inputs
    n_j, n_k, n_t = problem.required.shape
    hp = inp.hiring
    a_w = weekly_attrition(inp.attrition_monthly)
    curves = [cohort_curves(n_t, a_w, hp, s.trainees_use_seats) for s in inp.sites]
    lead = hp.lead_time_weeks
    names: list[str] = []
    lb: list[float] = []
    ub: list[float] = []
    integ: list[int] = []
    cost: list[float] = []

    def add(name: str, c: float, lo: float, hi: float, integer: int) -> int:
        names.append(name)
        cost.append(c)
        lb.append(lo)
        ub.append(hi)
        integ.append(integer)
        return len(names) - 1

    i_class = -np.ones((n_j, n_k, n_t), dtype=int)
    i_open = -np.ones((n_j, n_k, n_t), dtype=int)
    i_under = np.zeros((n_j, n_k, n_t), dtype=int)
    i_over = np.zeros((n_j, n_k, n_t), dtype=int)
    per_head = np.zeros((n_j, n_t))
    deficit = np.maximum(problem.required - problem.base, 0.0)
    for j, site in enumerate(inp.sites):
        per_head[j] = site.hire_cost + site.training_cost + site.hourly_cost * inp.fte_hours \
            * np.array([curves[j].headcount[: n_t - s].sum() for s in range(n_t)])
        for k, skill in enumerate(inp.skills):
            serves = skill.site_shares.get(site.name, 0.0) > 0
            closed = any(site.max_hires_per_week.get(lang, np.inf) <= 0
                         for lang in skill.languages)
            if serves and not closed:
                for s in range(lead, n_t, hp.class_every_weeks):
                    cap = hp.class_max
                    for lang in skill.languages:
                        cap = min(cap, site.max_hires_per_week.get(lang, np.inf)
                                  * hp.class_every_weeks)
                    cap = min(cap, _useful_class(deficit[j, k], curves[j].productive, s,
                                                 hp.class_min))
                    i_class[j, k, s] = add(f"x:{site.name}:{skill.name}:w{s}", per_head[j, s], 0.0,
                                      float(np.floor(cap)), 1)
                    if hp.class_min > 0:
                        i_open[j, k, s] = add(f"y:{site.name}:{skill.name}:w{s}", 0.0, 0.0, 1.0, 1)
            for t in range(n_t):
                i_under[j, k, t] = add(f"under:{site.name}:{skill.name}:w{t}",
                                  inp.under_penalty_per_fte_week, 0.0, np.inf, 0)
                i_over[j, k, t] = add(f"over:{site.name}:{skill.name}:w{t}",
                                  inp.over_penalty_per_fte_week, 0.0, np.inf, 0)
    first_reachable = lead + hp.training_weeks
    if inp.min_coverage > 0:
        for j in range(n_j):
            for k in range(n_k):
                for t in range(first_reachable, n_t):
                    ub[i_under[j, k, t]] = (1.0 - inp.min_coverage) * problem.required[j, k, t]

    rows_i: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rlb: list[float] = []
    rub: list[float] = []
    rnames: list[str] = []

    def row(name: str, entries: list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(rnames)
        rnames.append(name)
        for col, v in entries:
            rows_i.append(r)
            cols.append(col)
            vals.append(v)
        rlb.append(lo)
        rub.append(hi)

    for j, site in enumerate(inp.sites):
        prod = curves[j].productive
        for k, skill in enumerate(inp.skills):
            starts = [s for s in range(n_t) if i_class[j, k, s] >= 0]
            for t in range(n_t):
                e = [(i_class[j, k, s], prod[t - s]) for s in starts if s <= t and prod[t - s] > 0]
                e += [(i_under[j, k, t], 1.0), (i_over[j, k, t], -1.0)]
                rhs = problem.required[j, k, t] - problem.base[j, k, t]
                row(f"cover:{site.name}:{skill.name}:w{t}", e, rhs, rhs)
            if hp.class_min > 0:
                for s in starts:
                    row(f"class_max:{site.name}:{skill.name}:w{s}",
                        [(i_class[j, k, s], 1.0), (i_open[j, k, s], -ub[i_class[j, k, s]])],
                        -np.inf, 0.0)
                    row(f"class_min:{site.name}:{skill.name}:w{s}",
                        [(i_class[j, k, s], 1.0), (i_open[j, k, s], -float(hp.class_min))],
                        0.0, np.inf)
        langs = sorted({lang for skill in inp.skills for lang in skill.languages})
        for lang in langs:
            limit = site.max_hires_per_week.get(lang)
            if limit is None or limit <= 0:
                continue
            ks = [k for k, skill in enumerate(inp.skills) if lang in skill.languages]
            for s in range(n_t):
                e = [(i_class[j, k, s], 1.0) for k in ks if i_class[j, k, s] >= 0]
                if len(e) > 1:  # a single class is already bounded by the limit
                    row(f"hires:{site.name}:{lang}:w{s}", e, -np.inf,
                        float(limit) * hp.class_every_weeks)
        seat_curve = curves[j].seats
        cap = site.seat_headcount
        for t in range(n_t):
            used = float(problem.base[j, :, t].sum())
            if used > cap + 1e-9:
                raise InfeasibleError(
                    f"{site.name} already has {used:.1f} FTE in week {t} but its seats host "
                    f"{cap:.1f} = {site.seats} seats x {site.shifts_per_day:g} shifts/day x 7 "
                    f"/ {site.workdays_per_week:g} workdays", rule=f"seats:{site.name}")
            e = [(i_class[j, k, s], seat_curve[t - s]) for k in range(n_k) for s in range(t + 1)
                 if i_class[j, k, s] >= 0 and seat_curve[t - s] > 0]
            if e:
                row(f"seats:{site.name}:w{t}", e, -np.inf, cap - used)

    a = sparse.csr_matrix((vals, (rows_i, cols)), shape=(len(rnames), len(names)))
    return CapacityModel(
        problem=problem, c=np.array(cost), a=a, row_lb=np.array(rlb), row_ub=np.array(rub),
        var_lb=np.array(lb), var_ub=np.array(ub), integrality=np.array(integ),
        row_names=tuple(rnames), var_names=tuple(names), i_class=i_class, i_open=i_open,
        i_under=i_under, i_over=i_over,
        hire_cost_per_head=per_head, first_reachable_week=first_reachable)


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    WORK_LIMIT = "work_limit"
    """Stopped at the node limit (or the user's wall-clock cap) with a feasible plan (see
    `mip_gap`)."""


NODE_LIMIT = 20_000
"""Default branch-and-bound nodes of a whole capacity solve (all its HiGHS runs): the work
limit that makes the plan the same on any machine, whatever its load."""


@dataclass(frozen=True)
class Limit:
    """Why the plan cannot close a gap: the rule that binds, where and when."""

    rule: str
    weeks: tuple[int, ...]
    under_fte_weeks: float
    message: str


@dataclass(frozen=True)
class CapacityPlan:
    """A solved hiring plan.

    ``weekly``: per site, skill and week: ``required_fte``, ``available_fte`` (productive),
    ``headcount`` (paid, trainees included), ``in_training``, ``in_nesting``,
    ``class_start`` (people starting training that week), ``gap_fte`` (available -
    required), ``under_fte``, ``over_fte``.
    ``sites``: per site and week: the same summed, plus ``seats_used`` (headcount on
    production seats), ``seat_capacity`` (headcount the seats host), ``wage_cost``,
    ``hiring_cost``, ``cost``.
    ``mip_dual_bound``: the best proven lower bound (HiGHS's dual bound or the LP
    relaxation, whichever is higher); ``mip_gap`` = (objective - that bound) / objective.
    ``hires``: one row per class: site, skill, languages, ``recruit_from_week``,
    ``start_week`` (training), ``productive_week`` (nesting starts), ``full_week``, size.
    """

    weekly: pd.DataFrame
    sites: pd.DataFrame
    hires: pd.DataFrame
    objective: float
    lp_bound: float
    mip_dual_bound: float
    mip_gap: float
    status: SolveStatus
    solve_s: float
    total_cost: float
    total_hires: int
    under_fte_weeks: float
    over_fte_weeks: float
    limits: tuple[Limit, ...]


def _milp(model: CapacityModel, integral: bool, mip_rel_gap: float,
          drop_prefix: str | None = None, wall_clock_cap_s: float | None = None) -> object:
    """scipy's HiGHS on the model (an LP unless `integral`), without a time limit unless
    the user capped the wall clock (an LP runs to completion: the same answer always)."""
    keep = np.ones(len(model.row_names), dtype=bool)
    ub = model.var_ub.copy()
    if drop_prefix is not None:
        keep[model.rows(drop_prefix + ":")] = False
        if drop_prefix == "coverage":
            ub[model.i_under.ravel()] = np.inf
        if drop_prefix.startswith("class_max"):
            ub[model.i_class[model.i_class >= 0]] = np.inf
        if drop_prefix.startswith("hires:"):  # the labour market also caps single classes
            j = [s.name for s in model.problem.inputs.sites].index(drop_prefix.split(":")[1])
            idx = model.i_class[j][model.i_class[j] >= 0]
            ub[idx] = float(model.problem.inputs.hiring.class_max)
    cons = LinearConstraint(model.a[keep], model.row_lb[keep], model.row_ub[keep])
    options: dict[str, object] = {"mip_rel_gap": mip_rel_gap, "presolve": True}
    if wall_clock_cap_s is not None:
        options["time_limit"] = float(wall_clock_cap_s)
    return milp(model.c, integrality=model.integrality if integral else None,
                bounds=Bounds(model.var_lb, ub), constraints=cons, options=options)


def _explain_infeasible(model: CapacityModel) -> InfeasibleError:
    inp = model.problem.inputs
    candidates = [f"seats:{s.name}" for s in inp.sites] + [
        f"hires:{s.name}" for s in inp.sites] + ["class_max"]
    for prefix in candidates:
        if len(model.rows(prefix + ":")) == 0 and prefix.startswith("seats"):
            continue
        if _milp(model, False, 1e-4, prefix).status == 0:
            what = {"seats": "the seats of", "hires": "the labour-market hiring limits of",
                    "class_max": "the class size limit"}[prefix.split(":")[0]]
            where = prefix.split(":", 1)[1] if ":" in prefix else ""
            return InfeasibleError(
                f"min_coverage {inp.min_coverage:g} cannot be met within {what} {where}"
                .strip() + "; relaxing them makes the plan feasible", rule=prefix)
    return InfeasibleError(
        f"min_coverage {inp.min_coverage:g} cannot be met even without seat, hiring and "
        f"class limits: new hires need {inp.hiring.lead_time_weeks} weeks of recruiting and "
        f"{inp.hiring.training_weeks} of training", rule="min_coverage")


def _carry_round(model: CapacityModel, x_lp: np.ndarray, threshold: float) -> np.ndarray:
    """Accumulate the LP's classes in time order; form a class (at least ``class_min``,
    at most what the seat and hiring rows still allow) once the total reaches
    `threshold`."""
    hp = model.problem.inputs.hiring
    n_j, n_k, n_t = model.i_class.shape
    limit_rows = np.concatenate([model.rows("seats:"), model.rows("hires:")]).astype(int)
    slack = np.full(model.a.shape[0], np.inf)
    slack[limit_rows] = model.row_ub[limit_rows]
    cols = model.a.tocsc()
    carried = np.zeros_like(x_lp)
    carry = np.zeros((n_j, n_k))
    for s in range(n_t):  # in time order, so a class only takes the room that is left
        for j in range(n_j):
            for k in range(n_k):
                i = model.i_class[j, k, s]
                if i < 0:
                    continue
                carry[j, k] = min(carry[j, k] + x_lp[i], float(hp.class_max))
                if carry[j, k] < threshold - 1e-7:
                    continue
                rows = cols.indices[cols.indptr[i]:cols.indptr[i + 1]]
                coef = cols.data[cols.indptr[i]:cols.indptr[i + 1]]
                lim = [slack[r] / c for r, c in zip(rows, coef, strict=True)
                       if c > 0 and np.isfinite(slack[r])]
                room = np.floor(min([model.var_ub[i], *lim]) + 1e-9)
                size = min(float(max(round(carry[j, k]), 1)), room)
                size = max(size, float(hp.class_min)) if size > 0 else 0.0
                if size > room or size <= 0:
                    continue
                carried[i] = size
                carry[j, k] -= size
                for r, c in zip(rows, coef, strict=True):
                    slack[r] -= c * size
    return carried


def rounded_start(model: CapacityModel, x_lp: np.ndarray) -> np.ndarray | None:
    """A feasible integer plan from an LP solution, to start the MIP search from.

    Per site and skill, the LP's class sizes are accumulated week by week and a class is
    formed when the running total reaches a threshold (``class_min`` times 1, 1/2 or 1/4:
    hiring a little early is cheaper than short), capped by what seats and hiring limits
    still allow; the LP's classes rounded down (those below ``class_min`` dropped)
    are the fallback, feasible for every seat and hiring row. ``under``/``over`` take the
    remaining gap; the cheaper feasible candidate is returned (None if neither is, which
    only a hard ``min_coverage`` floor can cause).
    """
    hp = model.problem.inputs.hiring
    candidates = [_carry_round(model, x_lp, max(hp.class_min * f, 0.5))
                  for f in (1.0, 0.5, 0.25)]
    # rounding down keeps every seat and hiring row (their coefficients are >= 0)
    cls = model.i_class[model.i_class >= 0]
    floored = np.zeros_like(x_lp)
    down = np.floor(x_lp[cls] + 1e-7)
    floored[cls] = np.where(down >= hp.class_min, down, 0.0)
    best, best_obj = None, np.inf
    cover = model.rows("cover:")
    for x in (*candidates, floored):
        opened = model.i_open >= 0
        if opened.any():
            x[model.i_open[opened]] = (x[model.i_class[opened]] > 0).astype(float)
        resid = model.row_ub[cover] - model.a[cover] @ x
        x[model.i_under.ravel()] = np.maximum(resid, 0.0)
        x[model.i_over.ravel()] = np.maximum(-resid, 0.0)
        ax = model.a @ x
        ok = (np.all(ax <= model.row_ub + 1e-6) and np.all(ax >= model.row_lb - 1e-6)
              and np.all(x <= model.var_ub + 1e-6))
        if ok and float(model.c @ x) < best_obj:
            best, best_obj = x, float(model.c @ x)
    return best


@dataclass(frozen=True)
class _Highs:
    status: str
    x: np.ndarray | None
    objective: float
    dual_bound: float
    gap: float


def _highs(model: CapacityModel, node_limit: int, mip_rel_gap: float,
           start: np.ndarray | None, cols: np.ndarray | None = None,
           rows: np.ndarray | None = None, wall_clock_cap_s: float | None = None) -> _Highs:
    """Solve the MIP (or its restriction to `cols` and `rows`) with highspy from `start`,
    stopping at `mip_rel_gap` or after `node_limit` branch-and-bound nodes (a work limit:
    deterministic); `wall_clock_cap_s` is the user's optional cap."""
    import highspy

    a = model.a if rows is None else model.a[rows]
    c, lo, hi, integ = model.c, model.var_lb, model.var_ub, model.integrality
    row_lb = model.row_lb if rows is None else model.row_lb[rows]
    row_ub = model.row_ub if rows is None else model.row_ub[rows]
    if cols is not None:
        a = a[:, cols]
        c, lo, hi, integ = c[cols], lo[cols], hi[cols], integ[cols]
        start = None if start is None else start[cols]
    a = sparse.csc_matrix(a)
    key = None
    if wall_clock_cap_s is None:  # a work limit only: the same input gives the same answer
        digest = hashlib.sha256()
        for arr in (a.indptr, a.indices, a.data, c, lo, hi, integ, row_lb, row_ub,
                    np.zeros(0) if start is None else start):
            digest.update(np.ascontiguousarray(arr).tobytes())
            digest.update(b"|")
        key = (digest.hexdigest(), int(node_limit), float(mip_rel_gap), start is None)
        hit = _HIGHS_MEMO.get(key)
        if hit is not None:
            return hit
    h = quiet_highs()
    h.setOptionValue("mip_max_nodes", max(1, int(node_limit)))
    if wall_clock_cap_s is not None:
        h.setOptionValue("time_limit", max(0.01, float(wall_clock_cap_s)))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = len(c)
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = c
    lp.col_lower_ = lo
    lp.col_upper_ = np.where(np.isinf(hi), inf, hi)
    lp.row_lower_ = np.where(np.isinf(row_lb), -inf, row_lb)
    lp.row_upper_ = np.where(np.isinf(row_ub), inf, row_ub)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in integ]
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(start)
        sol.value_valid = True
        h.setSolution(sol)
    run_highs(h)
    status = h.modelStatusToString(h.getModelStatus()).lower()
    info = h.getInfo()
    has_x = info.primal_solution_status == highspy.kSolutionStatusFeasible
    bound = float(info.mip_dual_bound) if integ.any() else float(info.objective_function_value)
    out = _Highs(status=status, x=np.array(h.getSolution().col_value) if has_x else None,
                 objective=float(info.objective_function_value),
                 dual_bound=bound, gap=float(info.mip_gap))
    if key is not None:
        if out.x is not None:
            out.x.setflags(write=False)  # shared by later hits: nobody may change it
        if len(_HIGHS_MEMO) >= HIGHS_MEMO_SIZE:
            del _HIGHS_MEMO[next(iter(_HIGHS_MEMO))]  # the oldest first
        _HIGHS_MEMO[key] = out
    return out


HIGHS_MEMO_SIZE = 256
"""MIPs remembered by `_highs` (exact input -> answer): a scenario plan whose (site, skill)
group has the same model, start and node limit as the base plan's reuses the base's answer
instead of solving it again (HiGHS is deterministic under a node limit, so the plan is the
same bytes either way; never with a wall-clock cap, whose answer depends on the load)."""
_HIGHS_MEMO: dict[tuple[object, ...], _Highs] = {}


@dataclass(frozen=True)
class _Groups:
    """The plan of every (site, skill) group solved alone (seat and hiring rows dropped)."""

    x: np.ndarray
    objective: float
    bound: float
    """Sum of the groups' proven bounds: a lower bound of the whole MIP."""
    optimal: bool
    feasible: bool
    """Whether the groups' plans together also keep every seat and hiring row."""


def _group_index(model: CapacityModel) -> list[tuple[np.ndarray, np.ndarray]]:
    inp = model.problem.inputs
    out = []
    for j, site in enumerate(inp.sites):
        for k, skill in enumerate(inp.skills):
            cls = model.i_class[j, k][model.i_class[j, k] >= 0]
            opn = model.i_open[j, k][model.i_open[j, k] >= 0]
            cols = np.concatenate([cls, opn, model.i_under[j, k], model.i_over[j, k]])
            rows = np.concatenate([model.rows(f"{p}:{site.name}:{skill.name}:w")
                                   for p in ("cover", "class_max", "class_min")]).astype(int)
            out.append((cols.astype(int), rows))
    return out


def _solve_groups(model: CapacityModel, start: np.ndarray | None, node_limit: int,
                  mip_rel_gap: float, cap: Callable[[], float | None]) -> _Groups | None:
    """Solve each (site, skill) group's MIP alone: the cover, class-size and coverage
    rows of one group touch only its own variables, so without the seat and hiring rows
    (which couple the groups of a site) the MIP splits into one small MIP per group.

    Dropping rows relaxes the problem, so the sum of the groups' proven bounds is a lower
    bound of the whole MIP; it is much stronger than the LP relaxation because each group's
    bound already accounts for ``class_min``. When the groups' plans together keep the seat
    and hiring rows, they are a plan of the whole MIP within the sum of the groups' gaps.

    `node_limit` branch-and-bound nodes are shared out: 40 % in proportion to the groups'
    integer variables, the rest to the groups with the largest absolute gaps (a work
    limit, so the plan does not depend on the machine's load); `cap` gives what is left of
    the user's optional wall-clock cap.
    """
    groups = _group_index(model)
    n_int = [int(model.integrality[cols].sum()) for cols, _ in groups]
    total = max(sum(n_int), 1)
    x = np.zeros(len(model.c))
    obj = np.zeros(len(groups))
    low = np.zeros(len(groups))
    done = np.zeros(len(groups), dtype=bool)
    first = [max(int(0.4 * node_limit * n / total), 10) if n else 1 for n in n_int]
    for g, ((cols, rows), nodes) in enumerate(zip(groups, first, strict=True)):
        res = _highs(model, nodes, mip_rel_gap, start, cols, rows, cap())
        if res.x is None:
            return None
        x[cols] = res.x
        obj[g] = float(model.c[cols] @ res.x)
        low[g] = res.dual_bound if np.isfinite(res.dual_bound) else -np.inf
        done[g] = res.status == "optimal"

    def keeps_rows(v: np.ndarray) -> bool:
        ax = model.a @ v
        return bool(np.all(ax <= model.row_ub + 1e-6) and np.all(ax >= model.row_lb - 1e-6))

    if not keeps_rows(x):  # seats or hiring limits couple the groups: the caller solves
        return _Groups(x=x, objective=float(obj.sum()), bound=float(low.sum()),
                       optimal=False, feasible=False)
    open_gap = np.where(done, 0.0, obj - low)
    order = [g for g in np.argsort(-open_gap, kind="stable") if open_gap[g] > 0]
    left = max(node_limit - sum(first), 0)
    gap_sum = max(float(open_gap[order].sum()), 1e-9) if order else 1.0
    for g in order:
        nodes = int(left * open_gap[g] / gap_sum)
        if nodes < 10:
            continue
        cols, rows = groups[g]
        res = _highs(model, nodes, mip_rel_gap, x, cols, rows, cap())
        if res.x is not None and float(model.c[cols] @ res.x) < obj[g]:
            trial = x.copy()
            trial[cols] = res.x
            if keeps_rows(trial):  # a better group plan must still fit the seats
                x = trial
                obj[g] = float(model.c[cols] @ res.x)
        if np.isfinite(res.dual_bound):
            low[g] = max(low[g], res.dual_bound)
        done[g] = res.status == "optimal"
        open_gap[g] = 0.0
    return _Groups(x=x, objective=float(obj.sum()), bound=float(low.sum()),
                   optimal=bool(done.all()), feasible=True)


def solve(model: CapacityModel, *, node_limit: int = NODE_LIMIT,
          time_limit_s: float | None = None, mip_rel_gap: float = 5e-3) -> CapacityPlan:
    """Solve the LP relaxation, round it into a first integer plan, solve every (site, skill)
    group alone (a strong lower bound; the plan when seats and hiring limits hold), else
    the whole MIP with HiGHS from the rounded plan; decode the plan.

    ``status`` is ``optimal`` when the plan is proven within `mip_rel_gap` of the best
    bound, else ``work_limit``. The MIPs stop at `mip_rel_gap` or after `node_limit`
    branch-and-bound nodes in all (deterministic: the same plan on any machine under any
    load); `time_limit_s` is an optional wall-clock cap (None: none; when it stops a
    solve, the plan can depend on the load).

    Raises
    ------
    InfeasibleError
        Naming the rule that makes the hard coverage floor unreachable
        (``seats:{site}``, ``hires:{site}``, ``class_max`` or ``min_coverage``).
    """
    t0 = time.perf_counter()

    def cap() -> float | None:
        if time_limit_s is None:
            return None
        return max(time_limit_s - (time.perf_counter() - t0), 0.01)

    progress.stage("capacity: LP relaxation (HiGHS)")
    lp = _milp(model, False, mip_rel_gap, wall_clock_cap_s=cap())
    if lp.status == 2:
        raise _explain_infeasible(model)
    if lp.x is None:
        raise InfeasibleError(f"HiGHS could not solve the LP relaxation: {lp.message}",
                              rule="solver")
    start = rounded_start(model, lp.x)
    progress.stage("capacity: group MIPs (HiGHS)")
    groups = _solve_groups(model, start, node_limit, mip_rel_gap, cap)
    bound = float(lp.fun)
    if groups is not None and np.isfinite(groups.bound):
        bound = max(bound, groups.bound)
    if groups is not None and groups.feasible:
        x, objective = groups.x, groups.objective
        gap = (objective - bound) / max(abs(objective), 1e-9)
        optimal = groups.optimal or gap <= mip_rel_gap
    else:
        progress.stage("capacity: whole MIP (HiGHS)")
        res = _highs(model, node_limit, mip_rel_gap, start, wall_clock_cap_s=cap())
        if res.x is None:
            if "infeasible" in res.status:
                raise _explain_infeasible(model)
            raise InfeasibleError(f"HiGHS found no integer plan: {res.status}", rule="solver")
        x, objective = res.x, res.objective
        # the LP relaxation, the groups' bounds and HiGHS's dual bound are all valid lower
        # bounds: take the best
        if np.isfinite(res.dual_bound):
            bound = max(bound, res.dual_bound)
        gap = (objective - bound) / max(abs(objective), 1e-9)
        optimal = res.status == "optimal" or gap <= mip_rel_gap
    status = SolveStatus.OPTIMAL if optimal else SolveStatus.WORK_LIMIT
    return decode(model, np.round(x, 9), objective=objective,
                  lp_bound=float(lp.fun), mip_dual_bound=bound, mip_gap=max(gap, 0.0),
                  status=status, solve_s=time.perf_counter() - t0)


def decode(model: CapacityModel, x: np.ndarray, *, objective: float, lp_bound: float,
           mip_dual_bound: float, mip_gap: float, status: SolveStatus,
           solve_s: float) -> CapacityPlan:
    """Turn a solution vector into the weekly tables (also used to evaluate a given plan)."""
    p = model.problem
    inp = p.inputs
    n_t = p.required.shape[2]
    a_w = weekly_attrition(inp.attrition_monthly)
    classes = np.where(model.i_class >= 0, x[np.maximum(model.i_class, 0)], 0.0)
    classes = np.round(classes)
    starts = pd.to_datetime(inp.week_starts())
    weekly, site_rows, hire_rows = [], [], []
    hp = inp.hiring
    for j, site in enumerate(inp.sites):
        cur = cohort_curves(n_t, a_w, hp, site.trainees_use_seats)
        avail = p.base[j] + convolve_classes(classes[j], cur.productive)
        head = p.base[j] + convolve_classes(classes[j], cur.headcount)
        training = convolve_classes(classes[j], cur.in_training)
        nesting = convolve_classes(classes[j], cur.in_nesting)
        seats = p.base[j].sum(axis=0) + convolve_classes(classes[j], cur.seats).sum(axis=0)
        gap = avail - p.required[j]
        for k, skill in enumerate(inp.skills):
            if p.required[j, k].max() <= 0 and head[k].max() <= 0:
                continue
            weekly.append(pd.DataFrame({
                "week": np.arange(n_t), "week_start": starts, "site": site.name,
                "skill": skill.name, "required_fte": p.required[j, k],
                "available_fte": avail[k], "headcount": head[k], "in_training": training[k],
                "in_nesting": nesting[k], "class_start": classes[j, k],
                "gap_fte": gap[k], "under_fte": np.maximum(-gap[k], 0.0),
                "over_fte": np.maximum(gap[k], 0.0)}))
            for s in np.flatnonzero(classes[j, k] > 0):
                hire_rows.append({
                    "site": site.name, "skill": skill.name,
                    "languages": ";".join(skill.languages),
                    "recruit_from_week": int(s) - hp.lead_time_weeks,
                    "start_week": int(s), "start_date": starts[s].date(),
                    "productive_week": int(s) + hp.training_weeks,
                    "full_week": int(s) + hp.training_weeks + len(hp.nesting_productivity),
                    "size": int(classes[j, k, s])})
        wage = site.hourly_cost * inp.fte_hours * head.sum(axis=0)
        hiring = (site.hire_cost + site.training_cost) * classes[j].sum(axis=0)
        site_rows.append(pd.DataFrame({
            "week": np.arange(n_t), "week_start": starts, "site": site.name,
            "required_fte": p.required[j].sum(axis=0), "available_fte": avail.sum(axis=0),
            "headcount": head.sum(axis=0), "class_start": classes[j].sum(axis=0),
            "under_fte": np.maximum(-gap, 0.0).sum(axis=0),
            "over_fte": np.maximum(gap, 0.0).sum(axis=0),
            "seats_used": seats, "seat_capacity": site.seat_headcount,
            "wage_cost": wage, "hiring_cost": hiring, "cost": wage + hiring}))
    weekly_df = pd.concat(weekly, ignore_index=True)
    sites_df = pd.concat(site_rows, ignore_index=True)
    hires_df = pd.DataFrame(hire_rows, columns=[
        "site", "skill", "languages", "recruit_from_week", "start_week", "start_date",
        "productive_week", "full_week", "size"])
    return CapacityPlan(
        weekly=weekly_df, sites=sites_df, hires=hires_df, objective=objective,
        lp_bound=lp_bound, mip_dual_bound=mip_dual_bound, mip_gap=mip_gap, status=status,
        solve_s=solve_s, total_cost=float(sites_df["cost"].sum()),
        total_hires=int(classes.sum()), under_fte_weeks=float(weekly_df["under_fte"].sum()),
        over_fte_weeks=float(weekly_df["over_fte"].sum()),
        limits=_limits(model, x, weekly_df, sites_df))


def _runs(weeks: list[int]) -> str:
    if not weeks:
        return ""
    out, a, b = [], weeks[0], weeks[0]
    for w in weeks[1:]:
        if w == b + 1:
            b = w
            continue
        out.append(f"{a}" if a == b else f"{a}-{b}")
        a = b = w
    out.append(f"{a}" if a == b else f"{a}-{b}")
    return ", ".join(out)


def _limits(model: CapacityModel, x: np.ndarray, weekly: pd.DataFrame,
            sites: pd.DataFrame) -> tuple[Limit, ...]:
    """Explain remaining under-staffing: lead time, seats or hiring limits that bind."""
    inp = model.problem.inputs
    out: list[Limit] = []
    under = weekly.groupby(["site", "week"])["under_fte"].sum()
    reach = model.first_reachable_week
    early = weekly[(weekly["week"] < reach) & (weekly["under_fte"] > 1e-6)]
    if len(early):
        wk = sorted(early["week"].unique().tolist())
        out.append(Limit("lead_time", tuple(wk), float(early["under_fte"].sum()),
                         f"under-staffing in weeks {_runs(wk)} cannot be closed by hiring: a "
                         f"class needs {inp.hiring.lead_time_weeks} weeks of recruiting and "
                         f"{inp.hiring.training_weeks} of training before it is productive"))
    ax = model.a @ x
    for prefix, label in (("seats", "seats"), ("hires", "hiring limit")):
        rows = model.rows(prefix + ":")
        by_site: dict[str, list[int]] = {}
        for r in rows:
            if ax[r] >= model.row_ub[r] - 0.5:
                _, site, *rest = model.row_names[r].split(":")
                by_site.setdefault(site, []).append(int(rest[-1][1:]))
        for site, wk in by_site.items():
            wk = sorted(set(wk))
            u = float(sum(under.get((site, w), 0.0) for w in range(min(wk), model.problem
                                                                    .required.shape[2])))
            if u <= 1e-6:
                continue
            cap = ""
            if prefix == "seats":
                sc = inp.site(site)
                cap = (f" ({sc.seats} seats x {sc.shifts_per_day:g} shifts x 7 / "
                       f"{sc.workdays_per_week:g} days = {sc.seat_headcount:.0f} headcount)")
            out.append(Limit(f"{prefix}:{site}", tuple(wk), u,
                             f"{label} at {site}{cap} bind in weeks {_runs(wk)}; "
                             f"under-staffing from then on: {u:.1f} FTE-weeks"))
    return tuple(out)


def plan_capacity(problem: CapacityProblem, *, node_limit: int = NODE_LIMIT,
                  time_limit_s: float | None = None, mip_rel_gap: float = 5e-3
                  ) -> CapacityPlan:
    """`build_model` then `solve`."""
    return solve(build_model(problem), node_limit=node_limit, time_limit_s=time_limit_s,
                 mip_rel_gap=mip_rel_gap)


