"""Planner's figures of a written schedule folder (coverage.csv, shifts.csv).

Usage: ``python benchmarks/measure_schedule.py OUT/schedule`` (e.g. after
``openwfm demo -o OUT``). Prints the empty intervals with a requirement (per queue), the
intervals below requirement, the share of the requirement covered, the start-time spread
per agent (largest difference between start times, local time of day) and the shift cost.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def main(folder: str) -> None:
    cov = pd.read_csv(f"{folder}/coverage.csv")
    sh = pd.read_csv(f"{folder}/shifts.csv")
    empty = cov[(cov["required"] > 0) & (cov["scheduled"] <= 1e-9)]
    print("empty intervals with requirement > 0:", len(empty))
    if len(empty):
        print(empty.groupby("queue")["interval_start"].agg(["min", "max", "count"]))
    below = cov[cov["scheduled"] < cov["required"] - 1e-6]
    print("below requirement:", len(below), "of", int((cov["required"] > 0).sum()))
    covered = np.minimum(cov["scheduled"], cov["required"]).sum() / cov["required"].sum()
    print(f"requirement covered: {covered:.2%}")
    local = [pd.Timestamp(x) for x in sh["start_local"]]
    minute = pd.Series([t.hour * 60 + t.minute for t in local], index=sh.index)
    g = minute.groupby(sh["agent_id"])
    spread = (g.max() - g.min()) / 60
    print(f"start-time spread h: median {spread.median():g}, mean {spread.mean():.2f}, "
          f"p90 {spread.quantile(0.9):g}, max {spread.max():g}")
    print(f"shifts {len(sh)}, cost {sh['cost'].sum():,.1f}")


if __name__ == "__main__":
    main(sys.argv[1])
