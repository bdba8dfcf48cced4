"""`openwfm schedule` end to end on a 3-agent toy: outputs, .ics, errors, atomic writes."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

from openwfm.scheduling.synthetic import flat_requirement, toy_scenario

TOML = """
name = "Toy"
interval_s = 900
plan_start = "2026-03-30"
[[sites]]
name = "Casablanca"
country = "MA"
tz = "Africa/Casablanca"
seats = 10
cost_per_hour = 9.5
[[queues]]
id = "fr"
client = "Telco"
channel = "voice"
language = "fr"
market = "FR"
[[queues]]
id = "en"
client = "Telco"
channel = "voice"
language = "en"
market = "GB"
[[agents]]
id = "a1"
site = "Casablanca"
skills = "fr"
[[agents]]
id = "a2"
site = "Casablanca"
skills = "en;fr"
[scheduling]
time_limit_s = 10
[[scheduling.shifts]]
start_step_min = 60
lengths_h = [9]
"""


def _run(tmp: Path, req: pd.DataFrame, toml: str = TOML) -> subprocess.CompletedProcess:
    (tmp / "sc.toml").write_text(toml)
    req.to_csv(tmp / "req.csv", index=False)
    return subprocess.run([sys.executable, "-c", "from openwfm.cli import main; main()",
                           "schedule", str(tmp / "sc.toml"), str(tmp / "req.csv"), "-o",
                           str(tmp / "out")], capture_output=True, text=True, timeout=1800)


def _req() -> pd.DataFrame:
    sc = toy_scenario(2, queues=("fr", "en"), skills=(("fr",), ("en", "fr")))
    return flat_requirement(sc, 0.5)


def test_schedule_cli_writes_outputs(tmp_path):
    res = _run(tmp_path, _req())
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    seg = pd.read_csv(out / "segments.csv")
    assert list(seg.columns) == ["agent_id", "site", "activity", "start", "end", "queue",
                                 "start_local", "end_local"]
    local = pd.to_datetime(seg["start_local"].str[:19]) - pd.to_datetime(seg["start"].str[:19])
    assert set(local) <= {pd.Timedelta(hours=1)}  # Casablanca after Ramadan 2026: UTC+1
    assert set(seg["activity"]) == {"work", "break", "meal"}
    summary = dict(pd.read_csv(out / "schedule_summary.csv").itertuples(index=False))
    assert summary["violations"] == "0"
    ics = (out / "ics" / "a2.ics").read_text()
    assert "BEGIN:VEVENT" in ics and "TZID=Africa/Casablanca" in ics
    assert "violations" in res.stdout


def test_schedule_cli_bad_row_exits_2_and_writes_nothing(tmp_path):
    req = _req()
    req.loc[2, "queue"] = "nope"
    res = _run(tmp_path, req)
    assert res.returncode == 2
    assert "row 3" in res.stderr and "'queue'" in res.stderr
    assert not (tmp_path / "out").exists()


def test_schedule_cli_two_weeks(tmp_path):
    # plan_days = 14: scheduled week by week, both weeks in the outputs, summed summary
    toml = TOML.replace('plan_start = "2026-03-30"', 'plan_start = "2026-03-30"\nplan_days = 14')
    sc = toy_scenario(2, queues=("fr", "en"), skills=(("fr",), ("en", "fr")))
    req = flat_requirement(replace(sc, plan_days=14), 0.5)
    res = _run(tmp_path, req, toml)
    assert res.returncode == 0, res.stderr
    shifts = pd.read_csv(tmp_path / "out" / "shifts.csv")
    # a week is the site's local week (a week-1 shift may start Sunday 23:00 local)
    weeks = (shifts["start_local"].str[:10] >= "2026-04-06").value_counts()
    assert weeks[True] == 10 and weeks[False] == 10  # 2 agents x 5 shifts, each week
    summary = dict(pd.read_csv(tmp_path / "out" / "schedule_summary.csv")
                   .itertuples(index=False))
    assert summary["violations"] == "0" and "solver_week2_stage1_cover" in summary
    assert len(pd.read_csv(tmp_path / "out" / "coverage.csv")) == 2 * 14 * 96
