"""Scheduling benchmarks (run: .venv/bin/python benchmarks/bench_schedule.py [--agents N]).

1. Generated instance: N agents (default 500), 3 sites in 3 time zones, 6 skills, 7 days of
   15-min intervals: wall time, rule violations (independent checker), objective, stage-1 LP
   bound and gap.
2. REFERENCES.md R7: cyclic 24-hour cover with 8-hour shifts (55 shifts optimal).
3. Side by side with pyworkforce's MinAbsDifference / MinRequiredResources (CP-SAT) on the
   same one-day requirement and shift set: objective (sum |scheduled - required| and number
   of shifts) and time, ratio measured in this run.

The machine's 2 cores are shared with other jobs while this runs: times vary run to run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def bench_generated(n_agents: int, time_limit_s: float, start_step_min: int = 60,
                    workers: int = 2) -> None:
    from openwfm.scheduling import build_problem, parse_config, solve_schedule
    from openwfm.scheduling.synthetic import generated_instance

    sc, req = generated_instance(n_agents=n_agents, seed=0)
    cfg = parse_config({"time_limit_s": time_limit_s, "num_workers": workers, "seed": 0,
                        "shifts": [{"start_step_min": start_step_min, "lengths_h": [9.0]}]})
    t0 = time.perf_counter()
    problem = build_problem(sc, req, cfg)
    r = solve_schedule(problem)
    wall = time.perf_counter() - t0
    cov = r.coverage
    print(f"[generated] {n_agents} agents, {len(sc.sites)} sites, {len(sc.queues)} skills, "
          f"{problem.n_intervals} intervals, {len(problem.shift_types)} shift types, "
          f"{len(problem.groups)} groups; starts every {start_step_min} min, "
          f"{workers} CP-SAT worker(s)")
    print(f"[generated] wall {wall:.1f} s (work budget {time_limit_s:g} deterministic s); "
          "stages "
          + ", ".join(f"{k} {v:.1f} s" for k, v in r.timings_s))
    print(f"[generated] violations {len(r.check.violations)} {r.check.counts()}; "
          f"solver {dict(r.stages)}")
    print(f"[generated] objective {r.objective:,.1f} = cost {r.cost:,.1f} + shortfall "
          f"penalty {r.penalty:,.1f}; LP bound {r.lp_bound:,.1f}; gap {r.gap:.2%} "
          f"(goal < 2%); requirement covered "
          f"{1 - cov['shortfall'].sum() / cov['required'].sum():.1%}")


def bench_r7() -> None:
    from openwfm.scheduling.cover import min_shift_cover

    d = np.array([6, 6, 6, 6, 6, 8, 9, 12, 18, 22, 25, 21, 21, 20, 18, 21, 21, 24, 24, 18, 18,
                  18, 12, 8])
    t0 = time.perf_counter()
    best, _ = min_shift_cover(d, 8)
    lp, _ = min_shift_cover(d, 8, integer=False)
    print(f"[R7] cyclic 24 h, 8 h shifts: {best:g} shifts (published optimum 55); LP "
          f"relaxation {lp:g}; volume bound sum/8 = {d.sum() / 8:g} (published 'LP bound 46'); "
          f"{time.perf_counter() - t0:.3f} s")


def bench_pyworkforce() -> None:
    from pyworkforce.scheduling import MinAbsDifference, MinRequiredResources
    from scipy.optimize import LinearConstraint, milp

    periods = 24
    req = [6, 6, 6, 6, 6, 8, 9, 12, 18, 22, 25, 21, 21, 20, 18, 21, 21, 24, 24, 18, 18, 18,
           12, 8]
    shifts = {}
    for s in range(0, periods - 8 + 1):  # non-cyclic 8 h shifts within the day
        cover = [0] * periods
        for k in range(8):
            cover[s + k] = 1
        shifts[f"s{s:02d}"] = cover
    a = np.array(list(shifts.values())).T.astype(float)
    r = np.array(req, dtype=float)

    # openwfm's model (HiGHS MILP), same objective as MinAbsDifference: sum |A x - r|
    n = a.shape[1]
    c = np.concatenate([np.zeros(n), np.ones(periods), np.ones(periods)])
    aeq = np.hstack([a, -np.eye(periods), np.eye(periods)])
    t0 = time.perf_counter()
    res = milp(c, constraints=LinearConstraint(aeq, r, r),
               integrality=np.concatenate([np.ones(n), np.zeros(2 * periods)]))
    t_ours_abs = time.perf_counter() - t0
    t0 = time.perf_counter()
    res_min = milp(np.ones(n), constraints=LinearConstraint(a, r, np.inf),
                   integrality=np.ones(n))
    t_ours_min = time.perf_counter() - t0

    t0 = time.perf_counter()
    pw = MinAbsDifference(num_days=1, periods=periods, shifts_coverage=shifts,
                          required_resources=[req], max_period_concurrency=60,
                          max_shift_concurrency=40, max_search_time=60.0,
                          num_search_workers=2).solve()
    t_pw_abs = time.perf_counter() - t0
    t0 = time.perf_counter()
    pw_min = MinRequiredResources(num_days=1, periods=periods, shifts_coverage=shifts,
                                  required_resources=[req], max_period_concurrency=60,
                                  max_shift_concurrency=40, max_search_time=60.0,
                                  num_search_workers=2).solve()
    t_pw_min = time.perf_counter() - t0
    print(f"[pyworkforce] MinAbsDifference: objective {pw['cost']:g} ({pw['status']}) in "
          f"{t_pw_abs:.3f} s; openwfm (HiGHS) {res.fun:g} in {t_ours_abs:.3f} s; time ratio "
          f"pyworkforce/openwfm {t_pw_abs / t_ours_abs:.1f}x")
    print(f"[pyworkforce] MinRequiredResources: shifts {pw_min['cost']:g} "
          f"({pw_min['status']}) in {t_pw_min:.3f} s; openwfm (HiGHS) {res_min.fun:g} in "
          f"{t_ours_min:.3f} s; time ratio {t_pw_min / t_ours_min:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    ap.add_argument("--start-step-min", type=int, default=15)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--skip-generated", action="store_true")
    args = ap.parse_args()
    bench_r7()
    bench_pyworkforce()
    if not args.skip_generated:
        bench_generated(args.agents, args.time_limit_s, args.start_step_min, args.workers)


if __name__ == "__main__":
    main()
