"""Import speed: call logs and interval reports, against bare pandas on the same files.

Cases
1. The real bank log (33,344 calls): `read_call_log` and `aggregate_intervals` (30 min).
2. A synthetic generic call-log CSV (default 1,000,000 calls, 20 queues, 60 days, naive
   local times in Europe/Paris across the March DST change): `read_call_log(format="csv")`
   then `aggregate_intervals`; baseline: `pandas.read_csv` + `groupby` of the floored
   arrival (no validation, no time zones, no complete grid) on the same file.
3. A synthetic interval CSV (default 20 queues x 1 year of 15-minute intervals, naive local
   times in Africa/Casablanca incl. the Ramadan changes): `read_interval_csv`; baseline:
   `pandas.read_csv(parse_dates=...)`.

Figures are rows per second of wall time (best of `--repeat`); the ratio is openwfm's time
over the baseline's: the price of validation, time-zone handling and the complete grid.

Run: ``.venv/bin/python benchmarks/bench_import.py [--quick]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from openwfm.io.calllog import aggregate_intervals, read_call_log
from openwfm.io.intervals import read_interval_csv

BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "anonymous_bank_1999_02.tsv"


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_call_log(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-03-01 00:00")
    # daytime arrivals 07:00-23:00 local over 60 days, avoiding the 02:00-03:00 DST gap
    day = rng.integers(0, 60, n)
    sec = rng.integers(7 * 3600, 23 * 3600, n)
    arrival = (start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(sec, unit="s"))
    order = np.argsort(arrival.to_numpy())
    outcome = rng.choice(["served", "abandoned", "other"], n, p=[0.85, 0.14, 0.01])
    wait = np.round(rng.exponential(40.0, n), 1)
    handle = np.where(outcome == "served", np.round(rng.lognormal(5.0, 0.8, n), 1), np.nan)
    agent = np.where(outcome == "served", rng.integers(0, 400, n).astype(str), "")
    df = pd.DataFrame({
        "arrival": arrival.strftime("%Y-%m-%d %H:%M:%S")[order],
        "queue": np.char.add("q", rng.integers(0, 20, n).astype(str))[order],
        "outcome": outcome[order], "wait_s": wait[order], "handle_s": handle[order],
        "agent": agent[order],
    })
    df.to_csv(path, index=False)


def make_interval_csv(path: Path, queues: int, days: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    utc = pd.date_range("2026-01-01", periods=days * 96, freq="15min", tz="UTC")
    local = utc.tz_convert("Africa/Casablanca").strftime("%Y-%m-%d %H:%M")
    frames = [pd.DataFrame({"Interval": local, "Skill": f"q{q}",
                            "Offered": rng.poisson(30, len(utc)),
                            "AHT": np.round(rng.normal(300, 30, len(utc)), 1)})
              for q in range(queues)]
    df = pd.concat(frames)
    df.to_csv(path, index=False)
    return len(df)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller synthetic files")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n_calls = 100_000 if args.quick else 1_000_000
    days = 60 if args.quick else 365

    print("1. bank log (real, 33,344 calls)")
    t_read = best(lambda: read_call_log(BANK), args.repeat)
    calls = read_call_log(BANK)
    t_agg = best(lambda: aggregate_intervals(calls, interval_s=1800, tz="Asia/Jerusalem"),
                 args.repeat)
    print(f"   read_call_log        {t_read:7.3f} s  {len(calls) / t_read:12,.0f} calls/s")
    print(f"   aggregate_intervals  {t_agg:7.3f} s  {len(calls) / t_agg:12,.0f} calls/s")

    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "calls.csv"
        make_call_log(log, n_calls, seed=1)
        print(f"2. synthetic call log ({n_calls:,} calls, Europe/Paris naive times)")

        def ours() -> None:
            c = read_call_log(log, format="csv", tz="Europe/Paris")
            aggregate_intervals(c, interval_s=1800, tz="Europe/Paris")

        def bare() -> None:
            c = pd.read_csv(log, parse_dates=["arrival"])
            c["slot"] = c["arrival"].dt.floor("30min")
            c.groupby(["queue", "slot"]).agg(volume=("outcome", "size"),
                                             aht_s=("handle_s", "mean"))

        t_ours, t_bare = best(ours, args.repeat), best(bare, args.repeat)
        print(f"   openwfm read+aggregate {t_ours:7.3f} s  {n_calls / t_ours:12,.0f} calls/s")
        print(f"   bare pandas            {t_bare:7.3f} s  {n_calls / t_bare:12,.0f} calls/s")
        print(f"   ratio openwfm / bare   {t_ours / t_bare:7.2f}")

        iv = Path(d) / "intervals.csv"
        rows = make_interval_csv(iv, queues=20, days=days, seed=2)
        print(f"3. interval CSV ({rows:,} rows: 20 queues x {days} days x 96, "
              "Africa/Casablanca naive times)")
        mapping = {"Interval": "interval_start", "Skill": "queue", "Offered": "volume",
                   "AHT": "aht_s"}
        t_ours = best(lambda: read_interval_csv(iv, tz="Africa/Casablanca", mapping=mapping),
                      args.repeat)
        t_bare = best(lambda: pd.read_csv(iv, parse_dates=["Interval"]), args.repeat)
        print(f"   read_interval_csv      {t_ours:7.3f} s  {rows / t_ours:12,.0f} rows/s")
        print(f"   bare pandas read_csv   {t_bare:7.3f} s  {rows / t_bare:12,.0f} rows/s")
        print(f"   ratio openwfm / bare   {t_ours / t_bare:7.2f}")


if __name__ == "__main__":
    main()
