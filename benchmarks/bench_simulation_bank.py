"""Replay the real bank call log (Anonymous Bank, February 1999) through the simulator and
print how simulated waiting and abandonment compare with what was observed.

Real arrivals, the agents seen working in each interval (distinct agents serving at some
moment of it, counted at several resolutions), handle times resampled from the served
calls (scaled to the hour-of-day mean), exponential patience with the censored MLE mean.
See docs/simulation.md for the discussion.

Run: ``.venv/bin/python benchmarks/bench_simulation_bank.py``
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from openwfm.io.calllog import read_call_log
from openwfm.simulation.replay import agents_working, replay_call_log

BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "anonymous_bank_1999_02.tsv"


def summary(f: pd.DataFrame) -> dict[str, float]:
    w = f["offered"]
    out = {}
    for a in ("asa_s", "p_abandon", "service_level"):
        ok = f[a].notna() & f[f"sim_{a}"].notna()
        out[a] = float(np.average(f[a][ok], weights=w[ok]))
        out[f"sim_{a}"] = float(np.average(f[f"sim_{a}"][ok], weights=w[ok]))
        out[f"corr_{a}"] = float(np.corrcoef(f[a][ok], f[f"sim_{a}"][ok])[0, 1])
    return out


def main() -> None:
    calls = read_call_log(BANK)
    print(f"{len(calls):,} calls; SL threshold 20 s; 10 replications, seed 1")
    served = calls[calls["outcome"] == "served"]
    origin = calls["arrival"].min().floor("D")
    span = (calls["arrival"].max() - origin).total_seconds()
    occ = {}
    for routing in ("pooled", "priority", "skills"):
        r = replay_call_log(calls, interval_s=1800, replications=10, seed=1, routing=routing)
        s = summary(r.frame)
        print(f"routing {routing:8} (agents per 30 min): ASA {s['asa_s']:.1f} / "
              f"{s['sim_asa_s']:.1f}, P(abandon) {s['p_abandon']:.3f} / "
              f"{s['sim_p_abandon']:.3f}, SL {s['service_level']:.3f} / "
              f"{s['sim_service_level']:.3f}")
    print("agents counted per | sim s | ASA obs / sim (corr) | P(abandon) obs / sim (corr) "
          "| SL obs / sim (corr)")
    for res_s in (1800, 900, 300):
        nt = int(span // res_s) + 2
        occ[res_s] = served["handle_s"].sum() / (agents_working(calls, origin, res_s, nt).sum()
                                                 * res_s)
        t0 = time.perf_counter()
        r = replay_call_log(calls, interval_s=res_s, replications=10, seed=1)
        dt = time.perf_counter() - t0
        s = summary(r.frame)
        print(f"{res_s:>6} s           | {dt:5.1f} | {s['asa_s']:5.1f} / {s['sim_asa_s']:5.1f} "
              f"({s['corr_asa_s']:.2f})   | {s['p_abandon']:.3f} / {s['sim_p_abandon']:.3f} "
              f"({s['corr_p_abandon']:.2f})     | {s['service_level']:.3f} / "
              f"{s['sim_service_level']:.3f} ({s['corr_service_level']:.2f})")
    print(f"patience (exponential MLE, censored): {r.patience_s:.0f} s; handle-time cv "
          f"{r.handle_cv:.2f}")
    print("observed occupancy of the counted agents (talk time / counted agent time): "
          + ", ".join(f"{k} s: {v:.2f}" for k, v in occ.items()))
    r = replay_call_log(calls, interval_s=1800, replications=10, seed=1)
    f = r.frame
    f = f.assign(hour=f["interval_start"].dt.tz_convert("Asia/Jerusalem").dt.hour)
    f = f[(f["hour"] >= 7)]
    rows = []
    for h, d in f.groupby("hour"):
        w = d["offered"]
        rows.append({"hour": h, "offered": int(w.sum()), "agents": round(d["agents"].mean(), 1),
                     "asa_obs": np.average(d["asa_s"].fillna(0), weights=w),
                     "asa_sim": np.average(d["sim_asa_s"].fillna(0), weights=w),
                     "pab_obs": np.average(d["p_abandon"], weights=w),
                     "pab_sim": np.average(d["sim_p_abandon"].fillna(0), weights=w)})
    print("by local hour (agents counted per 30 min):")
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
