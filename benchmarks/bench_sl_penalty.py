"""Service-level vs piecewise understaffing penalty on the demo
(run: .venv/bin/python benchmarks/bench_sl_penalty.py [--solve]).

Builds the demo's requirement as `openwfm demo` does (forecast + staffing stages), then for
each penalty (`[scheduling] understaffing_penalty`): the time to build the problem (the
service-level pieces are computed there), the stage-1 LP's size, solve time and bound split
into shift cost and penalty. With ``--solve`` also the whole schedule (demo time limit) and
each schedule priced by both penalties.

The machine's 2 cores are shared with other jobs while this runs: times vary run to run.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--solve", action="store_true", help="also solve the whole schedule")
    args = ap.parse_args()

    from openwfm.app.stages import forecast_stage, staffing_stage
    from openwfm.demo import demo_history, demo_scenario
    from openwfm.scheduling.cover import _highs_lp, build_cover_model, flow_coverage
    from openwfm.scheduling.model import build_problem, parse_config
    from openwfm.scheduling.solve import productive_supply, solve_schedule

    sc = demo_scenario()
    req = staffing_stage(sc, forecast_stage(sc, demo_history(sc)).frame)
    raw = dict(sc.extra.get("scheduling", {}))
    problems = {}
    for method in ("piecewise", "service_level"):
        cfg = parse_config({**raw, "understaffing_penalty": method}, base=sc.source.parent)
        t0 = time.perf_counter()
        p = build_problem(sc, req, cfg)
        t_build = time.perf_counter() - t0
        problems[method] = p
        model = build_cover_model(p)
        t0 = time.perf_counter()
        x, bound, status = _highs_lp(model, None, 0)
        t_lp = time.perf_counter() - t0
        nx = len(model.x_index)
        cost = float(model.c[:nx] @ x[:nx]) if x is not None else float("nan")
        print(f"[{method}] {p.penalty.describe()}")
        print(f"[{method}] build_problem {t_build:.2f} s; LP {model.a.shape[0]:,} rows x "
              f"{model.a.shape[1]:,} columns, {model.a.nnz:,} nonzeros; solve {t_lp:.2f} s "
              f"({status}); bound {bound:,.0f} = cost {cost:,.0f} + penalty {bound - cost:,.0f}")
    if not args.solve:
        return
    for method, p in problems.items():
        t0 = time.perf_counter()
        r = solve_schedule(p)
        wall = time.perf_counter() - t0
        cov = r.coverage
        share = 1 - float(cov["shortfall"].sum()) / float(cov["required"].sum())
        supply = productive_supply(p, r.segments)
        priced = {m: flow_coverage(q, supply)[1] for m, q in problems.items()}
        print(f"[{method}] schedule wall {wall:.1f} s, {r.status}, {len(r.check.violations)} "
              f"violations; cost {r.cost:,.0f} + penalty {r.penalty:,.0f}, bound "
              f"{r.lp_bound:,.0f}, gap {r.gap:.2%}, covered {share:.2%}; priced piecewise "
              f"{priced['piecewise']:,.0f}, service_level {priced['service_level']:,.0f}")


if __name__ == "__main__":
    main()
