"""Cost of the simulated prediction in the intraday view at demo scale.

The demo center (7 sites, the pattern week of tests/web_support.py: 317 agents, every one
scheduled) on a SQLite file; for a queue at an instant of the pattern week, the view's
inputs are read once (`day_inputs`), every scheduled agent working now is in a work state
(a third of them on a contact for 100 s) and the ACD reports 12 contacts waiting, the
oldest for 90 s. It times, in the same run, the whole view (`queue_day`) with the
simulation at several replication counts, and its peer without the simulation (the Erlang
model alone, `predicted_by_interval` on the same inputs), and prints the extra cost and its
ratio to the peer. Usage::

    .venv/bin/python benchmarks/bench_intraday_simulation.py [--queue ride-en-voice]
        [--at 2026-03-31T14:30:00Z] [--replications 25 50 100 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from web_support import PASSWORD, store_queue_data, store_week  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queue", default="ride-en-voice")
    ap.add_argument("--at", default="2026-03-31T14:30:00Z")
    ap.add_argument("--replications", type=int, nargs="+", default=[25, 50, 100, 200])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from openwfm.demo import demo_scenario
    from openwfm.intraday.current import live_segments
    from openwfm.intraday.reoptimize import predicted_by_interval
    from openwfm.intraday.states import AgentState
    from openwfm.server.db import Database
    from openwfm.server.demo import load_demo
    from openwfm.server.intraday import day_inputs, other_agents_segments, queue_day
    from openwfm.server.migrate import upgrade
    from openwfm.server.models import Queue, User

    now = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database.connect(url)
        with db.transaction() as s:
            load_demo(s, PASSWORD, history=False)
        scenario = demo_scenario()
        with db.read() as s:
            admin = s.scalar(sa.select(User.id).where(User.username == "admin"))
        store_week(db, scenario, int(admin))
        store_queue_data(db, scenario)
        with db.read() as s:
            q = s.get(Queue, args.queue)
            assert q is not None, args.queue
            inputs = day_inputs(s, q, now)
            others = other_agents_segments(s, inputs)
        seg = pd.concat([inputs.segments, others], ignore_index=True)
        t = pd.Timestamp(now)
        on = seg[(seg["activity"] == "work") & (seg["start"] <= t) & (seg["end"] > t)]
        working = sorted(set(on["agent_id"]))
        states = {a: AgentState.AVAILABLE for a in sorted(set(seg["agent_id"]))}
        busy = {}
        for i, a in enumerate(working):
            states[a] = AgentState.AVAILABLE if i % 3 else AgentState.ON_CONTACT
            if i % 3 == 0:
                busy[a] = 100.0
        for a in set(states) - set(working):
            states[a] = AgentState.LOGGED_OUT
        report = {x: SimpleNamespace(at=now, waiting=12, oldest_wait_s=90.0, in_service=None)
                  for x in (args.queue,)}
        rest = inputs.reforecast.frame
        print(f"queue {args.queue} at {args.at}: {len(working)} agents working now "
              f"({len(busy)} on a contact), {seg['agent_id'].nunique()} agents "
              f"serving the {len(inputs.queues)} related queues, "
              f"{int(rest['interval_start'].nunique())} intervals left, "
              f"{rest['volume'].sum():.0f} contacts expected; load {os.getloadavg()[0]:.1f}")

        def peer() -> None:
            cut = inputs.cut
            live = live_segments(seg.drop(columns="schedule_id"), states, cut,
                                 cut + pd.Timedelta(seconds=inputs.interval_s))
            predicted_by_interval(inputs.scenario, live, rest, cut,
                                  interval_s=inputs.interval_s)

        def best(f: object) -> float:
            out = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                f()  # type: ignore[operator]
                out.append(time.perf_counter() - t0)
            return min(out)

        t0 = time.perf_counter()
        queue_day(inputs, states, now, busy=busy, queue_states=report, others=others,
                  replications=2)
        print(f"first call (loads the compiled engine from its cache): "
              f"{time.perf_counter() - t0:.2f} s")
        base = best(peer)
        print(f"Erlang model alone (predicted_by_interval): {base:.3f} s")
        for r in args.replications:
            v: dict[str, object] = {}

            def view(r: int = r, v: dict[str, object] = v) -> None:
                v.update(queue_day(inputs, states, now, busy=busy, queue_states=report,
                                   others=others, replications=r))

            total = best(view)
            cur = next(x for x in v["intervals"] if x["part"] == "current")  # type: ignore[attr-defined]
            print(f"R = {r:4d}: whole view {total:.3f} s, simulation extra "
                  f"{total - base:.3f} s ({(total - base) / base:.1f} x the Erlang model); "
                  f"rest {v['predicted_service_level_rest']:.3f} "
                  f"[{v['predicted_service_level_rest_lo']:.3f}, "
                  f"{v['predicted_service_level_rest_hi']:.3f}] vs Erlang "
                  f"{v['predicted_service_level_rest_erlang']:.3f}; current "
                  f"{cur['predicted_service_level']:.3f} vs Erlang "
                  f"{cur['predicted_service_level_erlang']:.3f}")
        db.dispose()


if __name__ == "__main__":
    main()
