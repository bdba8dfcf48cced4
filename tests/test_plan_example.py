"""`openwfm plan` on a center that is not the demo: examples/tejo (two sites, six queues,
48 agents, a generated history), end to end through the CLI, and `openwfm.plan` in Python."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from openwfm.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "tejo"


def make_history_module():
    spec = importlib.util.spec_from_file_location("tejo_make_history",
                                                  EXAMPLE / "make_history.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def history_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tejo") / "history.csv"
    make_history_module().write(path)
    return path


@pytest.fixture(scope="module")
def run(history_csv: Path, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("tejo-plan") / "out"
    db = f"sqlite:///{out.parent / 'runs.db'}"
    proc = subprocess.run(
        [sys.executable, "-c", "from openwfm.cli import main; main()", "plan",
         str(EXAMPLE / "scenario.toml"), "--history", str(history_csv), "-o", str(out),
         "--weeks", "1", "--seed", "7", "--db", db],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_the_example_is_its_own_center() -> None:
    sc = load_scenario(EXAMPLE / "scenario.toml")
    assert (len(sc.sites), len(sc.queues), len(sc.agents)) == (2, 6, 48)
    assert {s.name for s in sc.sites} == {"Lisbon", "Tunis"}
    assert "demo" not in sc.extra and "capacity" in sc.extra


def test_history_is_generated_deterministically(history_csv: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.csv"
    make_history_module().write(again)
    assert again.read_bytes() == history_csv.read_bytes()
    h = pd.read_csv(history_csv)
    sc = load_scenario(EXAMPLE / "scenario.toml")
    assert set(h["queue"]) == {q.id for q in sc.queues}
    assert pd.to_datetime(h["interval_start"], utc=True).max() < pd.Timestamp(
        "2026-06-08", tz="Europe/Lisbon")


@pytest.mark.slow
def test_plan_writes_a_complete_output_with_no_rule_violation(run) -> None:
    out, stdout = run
    sc = load_scenario(EXAMPLE / "scenario.toml")
    for name in ("forecast.csv", "forecast_backtest.csv", "requirement.csv",
                 "schedule/segments.csv", "schedule/shifts.csv", "schedule/coverage.csv",
                 "schedule/rule_check.csv", "schedule/schedule_summary.csv",
                 "simulation_intervals.csv", "simulation_queues.csv",
                 "capacity/weekly_plan.csv", "capacity/hiring_plan.csv", "report.html"):
        assert (out / name).is_file(), name
    assert len(pd.read_csv(out / "schedule" / "rule_check.csv")) == 0
    summary = dict(pd.read_csv(out / "schedule" / "schedule_summary.csv")
                   .itertuples(index=False))
    assert summary["violations"] == "0"
    # no interval with a requirement left empty where an agent could legally work (the
    # summary's figure is `summary_figures.empty_intervals`); empty ones are listed
    cov = pd.read_csv(out / "schedule" / "coverage.csv")
    empty = cov[(cov["required"] > 0) & (cov["scheduled"] <= 1e-9)]
    assert summary["empty_intervals_with_a_legal_agent"] == "0", empty.to_string()
    per_queue = sc.plan_days * 86_400 // sc.interval_s
    req = pd.read_csv(out / "requirement.csv")
    assert (req.groupby("queue").size() == per_queue).all()
    assert set(req["queue"]) == {q.id for q in sc.queues}
    seg = pd.read_csv(out / "schedule" / "segments.csv")
    assert set(seg["site"]) == {"Lisbon", "Tunis"}
    assert seg["agent_id"].nunique() >= 40  # nearly everyone works
    assert set(pd.read_csv(out / "simulation_queues.csv")["queue"]) == {q.id for q in sc.queues}
    assert len(list((out / "schedule" / "ics").glob("*.ics"))) == seg["agent_id"].nunique()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Tejo Contact" in html and "Lisbon" in html and "Tunis" in html
    assert "(seed 7)" in html  # --seed reaches the simulation
    assert "status / violations" in stdout and "ok / 0" in stdout
    from openwfm.store import RunStore

    (saved,) = RunStore(f"sqlite:///{out.parent / 'runs.db'}").runs()
    assert (saved.name, saved.scenario) == ("plan", "Tejo Contact")
    assert set(saved.tables) == {"forecast", "requirement", "segments"}


@pytest.mark.slow
def test_report_reaches_every_agent_and_stays_small(run) -> None:
    from openwfm.report import figure_specs

    out, _ = run
    sc = load_scenario(EXAMPLE / "scenario.toml")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("id='owfm-plotly'") == 1  # one plotly.js for every chart
    assert len(page.encode()) < 3_000_000
    gantts = [f for f in figure_specs(page)
              if f["layout"].get("yaxis", {}).get("title", {}).get("text") == "agent"]
    assert len(gantts) == len(sc.sites)
    rows = [a for f in gantts for a in f["layout"]["yaxis"]["categoryarray"]]
    assert sorted(rows) == sorted(a.id for a in sc.agents)  # every agent, once
    for f in gantts:  # a menu choice per queue of the site's agents
        labels = [b["label"] for b in f["layout"]["updatemenus"][0]["buttons"]]
        site_queues = {q for a in sc.agents if a.id in f["layout"]["yaxis"]["categoryarray"]
                       for q in a.skills}
        assert {lab.split()[1] for lab in labels if lab.startswith("queue ")} == site_queues


def test_plan_in_python_returns_typed_frozen_results(history_csv: Path) -> None:
    import openwfm
    from openwfm.io.intervals import read_interval_csv

    sc = load_scenario(EXAMPLE / "scenario.toml")
    history = read_interval_csv(history_csv, tz=sc.plan_tz, interval_s=sc.interval_s).frame
    seen = []
    r = openwfm.plan(sc, history, weeks=1, stages=("forecast", "staffing"),
                     on_stage=lambda name, s: seen.append(name))
    assert isinstance(r, openwfm.PlanResult)
    assert seen == ["forecast", "staffing"]
    assert r.schedule is None and r.simulation is None and r.capacity is None
    assert set(r.forecast.frame["queue"]) == set(r.requirement["queue"])
    assert [s.stage for s in r.summary] == ["forecast"] * 3 + ["staffing"] * 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.schedule = None  # type: ignore[misc]


def test_plan_weeks_and_unknown_stage_are_checked(history_csv: Path) -> None:
    from openwfm.app import plan, with_weeks
    from openwfm.errors import InputError

    sc = load_scenario(EXAMPLE / "scenario.toml")
    assert with_weeks(sc, 3).plan_days == 21
    with pytest.raises(InputError, match="weeks must be an integer >= 1"):
        with_weeks(sc, 0)
    with pytest.raises(InputError, match="unknown stage"):
        plan(sc, pd.DataFrame(), stages=("forecast", "staffing", "rostering"))


def test_plan_without_a_history_says_so_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", "from openwfm.cli import main; main()", "plan",
         str(EXAMPLE / "scenario.toml"), "-o", str(out)],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 2
    assert "no history: pass --history" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_capacity_email_rows_in_slot_order_and_staff_csv_needs_their_times(tmp_path) -> None:
    """The capacity plan staffs a representative week's email slots as one backlog in row
    order (no times); `openwfm staff` on a user's CSV with email rows and no interval_start
    refuses it at the edge (exit 2, nothing written)."""
    from openwfm.staffing import staff_frame

    rows = pd.DataFrame({"queue": ["m"] * 3, "channel": ["email"] * 3,
                         "volume": [5.0, 6.0, 4.0], "aht_s": [300.0] * 3,
                         "sl_target": [0.9] * 3, "sl_seconds": [14400.0] * 3,
                         "interval_s": [3600] * 3})
    assert len(staff_frame(rows)) == 3
    csv = tmp_path / "in.csv"
    rows.to_csv(csv, index=False)
    out = tmp_path / "out.csv"
    proc = subprocess.run([sys.executable, "-c", "from openwfm.cli import main; main()",
                           "staff", str(csv), "-o", str(out)], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 2, proc.stderr
    assert "row 1, column 'interval_start'" in proc.stderr
    assert "an email row needs its interval_start" in proc.stderr
    assert not out.exists()
