"""Same input, same plan: the demo planned in a fresh process while busy loops occupy every
core writes byte-identical files to `openwfm demo` run in its own process on a quiet machine
(the session's demo run, `conftest.demo_cli_run`, shared with tests/test_cli_demo.py).
Every solver stops on a work limit (CP-SAT deterministic time, HiGHS node limits, stage-2b
sweeps); no file carries a timing. No timing is measured here: only the files are compared.

The busy run is the whole demo but for the capacity plan's scenarios: forecast, staffing,
the schedule (every solver stage of it), the simulation of that schedule (numba threads)
and the capacity stage's base plan (LP, group MIPs and their node budgets; the five
``[[capacity.scenarios]]`` run the same solver on other inputs and took 4/5 of the
capacity stage's time). It runs in a new process, so nothing solved earlier in the test
worker (the capacity MIPs are remembered by input) can answer for it.

The schedule also leaves no interval with a requirement empty where an agent with the skill
could legally work (issue 10, "Week edges and holes"), by the summary's own function
(`openwfm.scheduling.summary_figures.empty_intervals`, written as the figure
``empty_intervals_with_a_legal_agent`` of ``schedule/schedule_summary.csv``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from burner import cpu_burner

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

# `openwfm demo`'s planning run (openwfm.cli.plan.run_plan_command), capacity without its
# scenarios (`openwfm.app.stages.capacity_stage` with ``scenarios=False``), written by the
# same writer without the report.
_BUSY_RUN = """
import dataclasses, sys
from pathlib import Path
from openwfm.app import plan
from openwfm.app.stages import CAPACITY_MIP_GAP, CAPACITY_NODE_LIMIT
from openwfm.app.writers import write_plan
from openwfm.capacity.run import run_capacity
from openwfm.demo import demo_history, demo_scenario
sc = demo_scenario()
history = demo_history(sc)
result = plan(sc, history, stages=("forecast", "staffing", "schedule", "simulate"))
capacity = run_capacity(sc, history, scenarios=False, node_limit=CAPACITY_NODE_LIMIT,
                        mip_rel_gap=CAPACITY_MIP_GAP)
write_plan(dataclasses.replace(result, capacity=capacity), Path(sys.argv[1]), report=False)
"""


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _figures(out: Path) -> dict[str, str]:
    summary = pd.read_csv(out / "schedule" / "schedule_summary.csv", dtype=str)
    return dict(zip(summary["what"], summary["value"], strict=True))


def test_demo_plan_is_identical_under_a_cpu_burner(tmp_path, demo_cli_run):
    quiet, _ = demo_cli_run
    with cpu_burner():
        proc = subprocess.run([sys.executable, "-c", _BUSY_RUN, str(tmp_path / "busy")],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    busy = _files(tmp_path / "busy")
    reference = _files(quiet)
    assert {"forecast.csv", "requirement.csv", "schedule/segments.csv",
            "schedule/coverage.csv", "simulation_intervals.csv", "simulation_queues.csv",
            "capacity/hiring_plan.csv", "capacity/weekly_plan.csv",
            "capacity/solver.csv"} <= busy.keys()
    assert busy.keys() <= reference.keys()
    differ = [name for name in busy if busy[name] != reference[name]]
    assert differ == []


def test_demo_schedule_keeps_every_rule_and_no_interval_empty_where_an_agent_could_work(
        demo_cli_run):
    out, _ = demo_cli_run
    figures = _figures(out)
    assert figures["violations"] == "0"
    assert figures["empty_intervals_with_a_legal_agent"] == "0", (
        "empty intervals where an agent could legally work: "
        f"{figures['empty_intervals_with_a_legal_agent']} (schedule_summary.csv)")
