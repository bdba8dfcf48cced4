"""Benchmark: backtest + fit + forecast of many queues (goal: 1,000 queues x 1 year of
30-minute history, 4 weeks ahead, in under 5 minutes on a 2-core machine).

Run:  .venv/bin/python benchmarks/bench_forecast.py [--queues 1000] [--days 364] [--jobs 2]
      [--no-dask]

Synthetic queues (`openwfm.forecast.synthetic.synthetic_history`, fixed seed, Europe/Paris
local time with DST, 10 % yearly growth) go through `forecast_queues` exactly as in
production: per queue a rolling-origin backtest of the default candidates (12 origins x 14
open days: the 4-week mean and median, the daily-total calendar model with the recent and
the long profile, and `combined_median`), the choice, the final forecast with 80/95 % bands and
the AHT profile.
Then the same on Dask (`backend="dask"`, a `distributed.LocalCluster` of `--jobs` worker
processes, one thread each), checked identical to the local run. The machine is shared:
the load average is printed before and after each run.

Peer, measured in the same run on a sample of queues: statsforecast's own orchestrator
(`StatsForecast(models=[MSTL(season_length=[48, 336])], n_jobs=...)`, default settings) fitting
and forecasting the same queues 28 days ahead once (no backtest, no choice, no bands): the
ratio tells what our complete per-queue work costs relative to one plain MSTL fit.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import pandas as pd

from openwfm.forecast import DEFAULT_METHODS, forecast_queues
from openwfm.forecast.synthetic import synthetic_history

TZ = "Europe/Paris"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--days", type=int, default=364)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--peer-queues", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask run")
    args = parser.parse_args()

    t0 = time.perf_counter()
    hist = synthetic_history(args.queues, args.days, tz=TZ, start="2025-01-06", trend=0.1,
                             seed=2026)
    hist["queue"] = hist["queue"].astype("category")
    gen_s = time.perf_counter() - t0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at start")
    print(f"history: {args.queues} queues x {args.days} days of 30-min intervals = "
          f"{len(hist):,} rows (generated in {gen_s:.1f} s); {args.jobs} process(es)")

    # warm-up (numba compilation of statsforecast kernels) on one small queue, not timed
    forecast_queues(synthetic_history(1, 28, tz=TZ, seed=1), horizon="1d", tz=TZ)

    t0 = time.perf_counter()
    cpu0 = _cpu_s()
    result = forecast_queues(hist, horizon="28d", tz=TZ, n_jobs=args.jobs, batch_size=20)
    total_s = time.perf_counter() - t0
    cpu_s = _cpu_s() - cpu0
    rows = len(result.frame)
    chosen = pd.Series({q: m.value for q, m in result.chosen.items()}).value_counts()
    print(f"openwfm forecast_queues: {args.queues} queues, backtest + choice + 28-day forecast "
          f"with bands and AHT: {total_s:.1f} s ({1000 * total_s / args.queues:.0f} ms/queue, "
          f"{rows:,} forecast rows); goal < 300 s for 1,000 queues: "
          f"{('MET' if total_s < 300 else 'MISSED') if args.queues >= 1000 else 'n/a'}")
    # CPU seconds do not depend on the other jobs of a shared machine: the wall time the
    # same work takes on an idle machine of `jobs` cores is about cpu_s / jobs
    per_1000 = cpu_s / args.queues * 1000 / args.jobs
    print(f"CPU time (this process + its workers): {cpu_s:.1f} s = "
          f"{1000 * cpu_s / args.queues:.0f} ms/queue; on an idle {args.jobs}-core machine "
          "1,000 queues take about "
          f"{per_1000:.0f} s: {'MET' if per_1000 < 300 else 'MISSED'} (goal < 300 s)")
    print("methods chosen:", ", ".join(f"{m} {n}" for m, n in chosen.items()))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    acc = result.accuracy[result.accuracy["horizon"] == "week 1"]
    best = acc[acc["chosen"]]["wape"].to_numpy()
    ha = acc[acc["method"] == "mean_4w"]["wape"].to_numpy()
    print(f"backtest week-ahead WAPE (mean over queues): chosen {best.mean():.4f}, 4-week "
          f"mean {ha.mean():.4f} (ratio {best.mean() / ha.mean():.3f})")

    if not args.no_dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=args.jobs, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            print(f"load average before the Dask run: {os.getloadavg()[0]:.1f}")
            t0 = time.perf_counter()
            on_dask = forecast_queues(hist, horizon="28d", tz=TZ, backend="dask",
                                      client=client, batch_size=20)
            dask_s = time.perf_counter() - t0
            dask_cpu = sum(client.run(_cpu_s).values())
        same = on_dask.frame.equals(result.frame) and on_dask.chosen == result.chosen
        print(f"Dask LocalCluster ({args.jobs} worker processes): {dask_s:.1f} s, "
              f"identical to the local run: {same}; workers' CPU time {dask_cpu:.1f} s "
              f"(includes their start-up): 1,000 queues on an idle {args.jobs}-core machine "
              f"about {dask_cpu / args.queues * 1000 / args.jobs:.0f} s; "
              f"load average after: {os.getloadavg()[0]:.1f}")

    # peer: statsforecast MSTL on a sample, same process count
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import MSTL
    except ImportError:  # pragma: no cover
        return
    sample = sorted(hist["queue"].cat.categories)[: args.peer_queues]
    sub = hist[hist["queue"].isin(sample)].copy()
    sub["queue"] = sub["queue"].astype(str)
    df = pd.DataFrame({"unique_id": sub["queue"],
                       "ds": sub["interval_start"].dt.tz_localize(None),
                       "y": sub["volume"]})
    sf = StatsForecast(models=[MSTL(season_length=[48, 336])], freq="30min",
                       n_jobs=args.jobs)
    t0 = time.perf_counter()
    sf.forecast(df=df, h=28 * 48)
    peer_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    forecast_queues(sub, horizon="28d", tz=TZ, n_jobs=args.jobs, batch_size=10)
    ours_s = time.perf_counter() - t0
    print(f"same {len(sample)} queues: statsforecast MSTL with default settings (one fit on "
          f"the full year, no backtest) {peer_s:.1f} s, openwfm (backtest of the "
          f"{len(DEFAULT_METHODS)} default candidates + "
          f"choice + bands + AHT) {ours_s:.1f} s: ratio openwfm / statsforecast = "
          f"{ours_s / peer_s:.3f}")


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
