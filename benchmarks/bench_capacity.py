"""Capacity planning on the demo center (78 weeks, 3 sites, 9 skill groups, 15 queues).

Prints:
1. required FTE: seconds with the 3% volume grid vs staffing every week (ratio, and the
   largest difference in weekly FTE between the two);
2. the hiring MIP: openwfm's solve (LP relaxation, rounded start, per-group MIPs and their
   bound, HiGHS via highspy) vs
   `scipy.optimize.milp` (HiGHS, no start) with the same time limit: objective, proven
   gap and seconds, and the objective ratio.

Run: ``.venv/bin/python benchmarks/bench_capacity.py [--time-limit 5]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from openwfm.capacity import build_model, make_problem, parse_capacity, required_fte, solve
from openwfm.demo import demo_history, demo_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=5.0)
    args = ap.parse_args()
    sc = demo_scenario()
    history = demo_history(sc)
    inp = parse_capacity(sc)
    required_fte(inp, sc, history, grid_step=0.5)  # compile the staffing kernels first

    t0 = time.perf_counter()
    grid = required_fte(inp, sc, history)
    t_grid = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact = required_fte(inp, sc, history, grid_step=None)
    t_exact = time.perf_counter() - t0
    diff = np.abs(grid.fte.sum(axis=(0, 1)) - exact.fte.sum(axis=(0, 1)))
    print(f"required FTE, 3% volume grid : {t_grid:6.2f} s")
    print(f"required FTE, every week     : {t_exact:6.2f} s  (grid is {t_exact / t_grid:.1f}x "
          f"faster; largest weekly difference {diff.max():.2f} FTE of "
          f"{exact.fte.sum(axis=(0, 1)).max():.0f})")

    model = build_model(make_problem(inp, grid))
    print(f"MIP: {model.a.shape[1]} variables ({int(model.integrality.sum())} integer), "
          f"{model.a.shape[0]} rows; time limit {args.time_limit:g} s each")
    t0 = time.perf_counter()
    plan = solve(model, time_limit_s=args.time_limit, mip_rel_gap=1e-3)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = milp(model.c, integrality=model.integrality,
               bounds=Bounds(model.var_lb, model.var_ub),
               constraints=LinearConstraint(model.a, model.row_lb, model.row_ub),
               options={"time_limit": args.time_limit, "mip_rel_gap": 1e-3})
    t_scipy = time.perf_counter() - t0
    print(f"openwfm solve      : objective {plan.objective:14,.0f}  gap {plan.mip_gap:6.2%}  "
          f"{t_ours:5.1f} s  ({plan.status.value}; LP bound {plan.lp_bound:,.0f})")
    if res.x is None:
        print(f"scipy milp, no start: no integer plan within the limit ({res.message}); "
              f"{t_scipy:5.1f} s")
    else:
        gap = (res.fun - max(plan.lp_bound, getattr(res, "mip_dual_bound", -np.inf))) / res.fun
        print(f"scipy milp, no start: objective {res.fun:14,.0f}  gap {gap:6.2%}  "
              f"{t_scipy:5.1f} s")
        print(f"objective ratio scipy / openwfm: {res.fun / plan.objective:.3f}")


if __name__ == "__main__":
    main()
