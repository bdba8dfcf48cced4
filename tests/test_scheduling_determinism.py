"""Same input, same schedule: whatever else the machine is doing.

Every solver stage stops on a deterministic work limit (CP-SAT deterministic time, HiGHS
node limits, stage-2b sweeps), never on the wall clock. A schedule solved alone and one
solved while busy loops occupy every core must be byte-identical. No timing is measured.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from burner import cpu_burner
from openwfm.scheduling import parse_config
from openwfm.scheduling.synthetic import generated_instance
from openwfm.scheduling.weeks import schedule_weeks


def _digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()


def _solve() -> tuple[str, str, str]:
    sc, req = generated_instance(n_agents=90, seed=3)
    cfg = parse_config({"time_limit_s": 6, "shifts": [{"start_step_min": 30,
                                                        "lengths_h": [8, 9]}]})
    _p, r = schedule_weeks(sc, req, cfg)
    return _digest(r.segments), _digest(r.coverage), _digest(r.shifts)


def test_schedule_is_identical_under_a_cpu_burner():
    alone = _solve()
    with cpu_burner():
        busy = _solve()
    assert alone == busy


def test_wall_clock_cap_is_optional_and_off_by_default():
    assert parse_config({}).wall_clock_cap_s is None
    assert parse_config({"wall_clock_cap_s": 120}).wall_clock_cap_s == 120.0
