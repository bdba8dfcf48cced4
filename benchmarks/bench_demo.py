"""How long the demo center takes to load and to generate its history (goal: < 3 s).

Run: ``.venv/bin/python benchmarks/bench_demo.py``. Prints the best of 5 runs of
`demo_scenario` and `demo_history` (after one warm-up), the history size and the
requirement figures of a typical plan week (docs/demo.md quotes them). No peer exists.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from openwfm.demo import demo_history, demo_scenario


def best_of(fn, n: int = 5) -> float:
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def typical_week(scenario, history) -> pd.DataFrame:
    """Mean of the last 4 weeks at the same local weekday and time, staffed per goal."""
    from openwfm.staffing import staff_frame

    plan = pd.date_range(pd.Timestamp(scenario.plan_start, tz=scenario.plan_tz),
                         periods=scenario.plan_days * 86400 // scenario.interval_s,
                         freq=f"{scenario.interval_s}s").tz_convert("UTC")
    last = history[history["interval_start"] >= history["interval_start"].max()
                   - pd.Timedelta(days=28)]
    rows = []
    for q in scenario.queues:
        h = last[last["queue"] == q.id]
        wall = h["interval_start"].dt.tz_convert(q.tz)
        g = (h.assign(work=h["aht_s"].fillna(0) * h["handled"], wd=wall.dt.dayofweek,
                      mi=wall.dt.hour * 60 + wall.dt.minute)
             .groupby(["wd", "mi"])[["volume", "work", "handled"]].mean())
        pw = plan.tz_convert(q.tz)
        g = g.reindex(pd.MultiIndex.from_arrays([pw.dayofweek, pw.hour * 60 + pw.minute]))
        g = g.fillna(0.0)
        aht = (g["work"] / g["handled"]).fillna(float(np.nanmean(h["aht_s"])))
        rows.append(pd.DataFrame({
            "interval_start": plan, "queue": q.id, "channel": q.channel.value,
            "volume": g["volume"].to_numpy(), "aht_s": aht.to_numpy(),
            "interval_s": scenario.interval_s,
            "patience_s": q.patience_s if q.patience_s is not None else np.nan,
            "sl_target": q.goal.sl_target, "sl_seconds": q.goal.answer_within_s,
            "concurrency": q.concurrency}))
    return staff_frame(pd.concat(rows, ignore_index=True))


def main() -> None:
    scenario = demo_scenario()
    t_load = best_of(demo_scenario)
    t_hist = best_of(lambda: demo_history(scenario))
    history = demo_history(scenario)
    print(f"demo_scenario: {t_load * 1e3:.0f} ms; demo_history: {t_hist:.2f} s "
          f"({len(history):,} rows, {len(history) / t_hist:,.0f} rows/s; goal < 3 s)")
    req = typical_week(scenario, history)
    peaks = req.groupby("queue")["agents"].max()
    hours = req.groupby("queue")["agents"].sum() * scenario.interval_s / 3600
    paid = sum(a.contract_hours for a in scenario.agents)
    print(f"typical plan week: sum of per-queue peaks {peaks.sum():.0f} agents, "
          f"simultaneous peak {req.groupby('interval_start')['agents'].sum().max():.0f}, "
          f"productive hours {hours.sum():,.0f}; roster {len(scenario.agents)} agents, "
          f"{paid:,.0f} paid h x (1 - {scenario.shrinkage}) = "
          f"{paid * (1 - scenario.shrinkage):,.0f} productive h")
    for q in scenario.queues:
        h = history[history["queue"] == q.id]
        per_day = h["volume"].sum() / (len(h) * scenario.interval_s / 86400)
        print(f"  {q.id:16s} {q.channel.value:5s} peak {peaks[q.id]:3.0f} agents "
              f"{hours[q.id]:6.0f} h/week {per_day:7.0f} contacts/day (history mean)")


if __name__ == "__main__":
    main()
