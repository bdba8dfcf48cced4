"""Same input, same plan: the demo planned in-process while busy loops occupy every core
writes byte-identical files to `openwfm demo` run in its own process on a quiet machine
(the session's demo run, `conftest.demo_cli_run`, shared with tests/test_cli_demo.py).
Every solver stops on a work limit (CP-SAT deterministic time, HiGHS node limits, stage-2b
sweeps); no file carries a timing. No timing is measured here: only the files are compared.

The schedule also leaves no interval with a requirement empty where an agent with the skill
could legally work (issue 10, "Week edges and holes"), by the summary's own function
(`openwfm.scheduling.summary_figures.empty_intervals`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from burner import cpu_burner
from openwfm.app import plan
from openwfm.app.writers import write_plan
from openwfm.demo import demo_history, demo_scenario
from openwfm.scheduling.summary_figures import empty_intervals

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_demo_schedule_and_capacity_are_identical_under_a_cpu_burner(tmp_path, demo_cli_run):
    quiet, _ = demo_cli_run
    sc = demo_scenario()
    with cpu_burner():
        result = plan(sc, demo_history(sc), stages=("forecast", "staffing", "schedule",
                                                     "capacity"))
    write_plan(result, tmp_path / "busy", report=False)
    busy = _files(tmp_path / "busy")
    reference = _files(quiet)
    assert {"schedule/segments.csv", "schedule/coverage.csv", "capacity/hiring_plan.csv",
            "capacity/solver.csv"} <= busy.keys()
    assert busy.keys() <= reference.keys()
    differ = [name for name in busy if busy[name] != reference[name]]
    assert differ == []
    summary = pd.read_csv(tmp_path / "busy" / "schedule" / "schedule_summary.csv")
    figures = dict(zip(summary["what"], summary["value"], strict=True))
    assert figures["violations"] == "0"
    sched = result.schedule
    assert sched is not None
    empty = empty_intervals(sched.problem, sched.result.coverage)
    legal = empty[empty["legal_agent"]]
    assert legal.empty, f"empty intervals where an agent could legally work:\n{legal}"
    assert figures["empty_intervals_with_a_legal_agent"] == "0"
