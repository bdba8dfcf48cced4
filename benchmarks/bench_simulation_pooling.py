"""Simulation-based multi-skill staffing: how many agents does pooling bilingual agents save
against the per-queue Erlang answer?

A Belgian insurance client: a French and a Dutch voice queue over one day (48 half-hours,
daily profile, AHT 300 s, exponential patience 300 s, target 80 % in 20 s). Per-queue Erlang A
gives a start; `adjust_multiskill` then finds, by simulation, the agents per queue and
interval meeting each queue's target (a) with dedicated agents, (b) with bilingual agents
who take their own queue first and the other when idle.

Run: ``.venv/bin/python benchmarks/bench_simulation_pooling.py``
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from openwfm.simulation import Exponential, QueueSpec, model_from_staffing
from openwfm.simulation.staffing import adjust_multiskill
from openwfm.staffing.erlang import required_agents


def main() -> None:
    hours = np.arange(48) / 2.0
    shape = np.clip(np.exp(-0.5 * ((hours - 12.5) / 3.5) ** 2), 0.03, None)
    vol = np.vstack([90.0 * shape, 30.0 * shape])  # contacts per 30 min, fr and nl
    aht = np.full_like(vol, 300.0)
    start = required_agents(vol * 300 / 1800, aht, 0.8, 20, patience_s=300).agents
    start = np.asarray(start, dtype=np.int64)
    qs = (QueueSpec("insure-fr-voice", 20, Exponential(), Exponential(), 300.0),
          QueueSpec("insure-nl-voice", 20, Exponential(), Exponential(), 300.0))
    base = model_from_staffing(qs, vol, aht, start, interval_s=1800,
                               origin=pd.Timestamp("2026-03-30", tz="UTC"))
    target = np.array([0.8, 0.8])
    print(f"offered per day: fr {vol[0].sum():.0f}, nl {vol[1].sum():.0f}; "
          f"Erlang A per queue: {int(start.sum())} agent-intervals "
          f"(fr {int(start[0].sum())}, nl {int(start[1].sum())})")
    for name, pool in (("dedicated", np.array([0, 1])), ("bilingual pool", np.array([0, 0]))):
        t0 = time.perf_counter()
        r = adjust_multiskill(base, start, target, pool, replications=20, seed=7)
        dt = time.perf_counter() - t0
        busy = vol > 0
        print(f"{name:15}: {int(r.agents.sum())} agent-intervals "
              f"({r.agents.sum() / 2:.1f} agent-hours; fr {int(r.agents[0].sum())}, "
              f"nl {int(r.agents[1].sum())}); saved vs Erlang {r.saved_agent_intervals} "
              f"agent-intervals; peak interval {int(r.agents.sum(axis=0).max())} agents; "
              f"min simulated SL {r.service_level[busy].min():.3f}; "
              f"{r.iterations} steps in {dt:.1f} s")


if __name__ == "__main__":
    main()
