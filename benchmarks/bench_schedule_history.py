"""Schedule a generated instance with or without a seeded history + preferences.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_schedule_history.py 60 20 with
    PYTHONPATH=src .venv/bin/python benchmarks/bench_schedule_history.py 60 20 without

Arguments: agents, time limit (s), with|without. History: every agent, last shift ending
14:00-23:00 local on the Sunday before the plan, 0-6 days carried in. Preferences: every 3rd
agent a day off (weight 5), every 5th a 14:00-20:00 start (weight 20), every 7th no nights
(weight 5). Prints wall time, violations, objective, gap, preferences met per kind.
"""
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from openwfm.scheduling import build_problem, parse_config, solve_schedule
from openwfm.scheduling.synthetic import generated_instance

n, limit, mode = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
sc, req = generated_instance(n_agents=n, seed=3)
tmp = Path(tempfile.mkdtemp())
rng = np.random.default_rng(7)
cfg = {"time_limit_s": limit, "shifts": [{"start_step_min": 60, "lengths_h": [9]}]}
if mode == "with":
    rows = ["agent_id,last_shift_end,consecutive_days_worked"]
    for a in sc.agents:
        c = int(rng.integers(0, 7))
        end = datetime(2026, 3, 29, 0, 0) + timedelta(hours=int(rng.integers(14, 24)))
        rows.append(f"{a.id},{end.isoformat()},{c}")
    (tmp / "h.csv").write_text("\n".join(rows) + "\n")
    prefs = ["agent_id,kind,value,weight"]
    for a in sc.agents[::3]:
        prefs.append(f"{a.id},day_off,{['sat','sun','fri','mon'][int(rng.integers(4))]},5")
    for a in sc.agents[1::5]:
        prefs.append(f"{a.id},start_between,14:00-20:00,20")
    for a in sc.agents[2::7]:
        prefs.append(f"{a.id},max_nights,0,5")
    (tmp / "p.csv").write_text("\n".join(prefs) + "\n")
    cfg |= {"history": "h.csv", "preferences": "p.csv"}
t = time.perf_counter()
r = solve_schedule(build_problem(sc, req, parse_config(cfg, base=tmp)))
print(mode, n, "agents wall", round(time.perf_counter() - t, 1), "s violations",
      r.check.counts(), "objective", round(r.objective), "gap", round(r.gap, 4),
      "prefs met", int(r.preferences["met"].sum()), "/", len(r.preferences),
      "by kind", r.preferences.groupby("kind")["met"].agg(["sum", "count"]).to_dict("index"))
