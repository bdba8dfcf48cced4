"""The rest of the day simulated from the current state (`openwfm.intraday.simulated`):
common random numbers between two schedules, and the ratio-of-means figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from openwfm.intraday.simulated import compare_rest_of_day, simulate_rest_of_day
from openwfm.scheduling.synthetic import toy_scenario

T = pd.Timestamp("2026-03-31 09:00", tz="UTC")


def _inputs() -> tuple[object, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    sc = toy_scenario(n_agents=3)
    q = sc.queues[0].id
    ids = [a.id for a in sc.agents]
    full = pd.DataFrame({"agent_id": ids, "site": "s", "activity": "work", "start": T,
                         "end": T + pd.Timedelta(hours=2)})
    # the second agent on a break from 09:30 to 10:00
    brk = pd.concat([full[full.agent_id != ids[1]],
                     pd.DataFrame({"agent_id": [ids[1]] * 2, "site": "s",
                                   "activity": "work", "start": [T, T + pd.Timedelta(hours=1)],
                                   "end": [T + pd.Timedelta(minutes=30),
                                           T + pd.Timedelta(hours=2)]})])
    rest = pd.DataFrame({"interval_start": [T + pd.Timedelta(minutes=30 * i) for i in range(4)],
                         "queue": q, "volume": 25.0, "aht_s": 180.0})
    return sc, full, brk, rest


def test_common_random_numbers_isolate_the_schedule() -> None:
    sc, full, brk, rest = _inputs()
    start = T + pd.Timedelta(minutes=5)
    kw = {"interval_s": 1800, "waiting": {sc.queues[0].id: (4, 60.0)},  # type: ignore[attr-defined]
          "replications": 60, "seed": 9}
    same = compare_rest_of_day(sc, full, full, rest, start, **kw)  # type: ignore[arg-type]
    assert (same.rest["delta"] == 0).all() and (same.rest["delta_hi"] == 0).all()
    a = simulate_rest_of_day(sc, brk, rest, start, **kw)  # type: ignore[arg-type]
    b = simulate_rest_of_day(sc, full, rest, start, **kw)  # type: ignore[arg-type]
    # the same contacts in both runs, replication by replication
    assert np.array_equal(a.counts.dense("offered"), b.counts.dense("offered"))
    c = compare_rest_of_day(sc, full, brk, rest, start, **kw)  # type: ignore[arg-type]
    iv = c.intervals.set_index("interval_start")
    hit = iv.loc[T + pd.Timedelta(minutes=30)]  # the break's interval loses
    assert hit.delta_hi < 0 and hit.service_level_after < hit.service_level_before
    r = c.rest.iloc[0]
    assert r.delta_hi < 0
    # paired: narrower than the two runs' own bands side by side
    unpaired = (a.rest.iloc[0].service_level_hi - a.rest.iloc[0].service_level_lo
                + b.rest.iloc[0].service_level_hi - b.rest.iloc[0].service_level_lo)
    assert r.delta_hi - r.delta_lo < unpaired / 2
