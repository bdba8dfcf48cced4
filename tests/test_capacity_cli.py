"""`openwfm capacity` end to end on a small scenario, and the pipeline stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from openwfm.cli import app
from openwfm.scenario import load_scenario

SCENARIO = """
name = "Small BPO"
interval_s = 1800
plan_start = "2026-03-30"
history = "history.csv"

[[sites]]
name = "Casablanca"
country = "MA"
tz = "Africa/Casablanca"
seats = 30
cost_per_hour = 9.0

[[sites]]
name = "Manila"
country = "PH"
tz = "Asia/Manila"
seats = 40
cost_per_hour = 6.0

[[queues]]
id = "fr-voice"
client = "Telco"
channel = "voice"
language = "fr"
market = "FR"
tz = "Europe/Paris"

[[queues]]
id = "en-chat"
client = "App"
channel = "chat"
language = "en"
market = "US"
tz = "America/New_York"
concurrency = 2
answer_within_s = 60

[capacity]
weeks = 16
headcount = "headcount.csv"
attrition_monthly = 0.05

[capacity.hiring]
lead_time_weeks = 2
training_weeks = 2
nesting_productivity = [0.6]
class_max = 12

[[capacity.sites]]
name = "Casablanca"
hire_cost = 400
max_hires_per_week = { en = 0 }

[[capacity.skills]]
name = "fr"
queues = ["fr-voice"]
sites = { Casablanca = 1.0 }

[[capacity.skills]]
name = "en"
queues = ["en-chat"]
sites = { Manila = 1.0 }

[[capacity.queues]]
id = "en-chat"
aht_s = 600
open_hours = [0, 24]

[[capacity.launches]]
queue = "en-chat"
start_week = 3
ramp_weeks = 8
weekly_volume = 3000
ramp_from = 0.25

[[capacity.scenarios]]
name = "attrition 8%"
attrition_monthly = 0.08

[[capacity.scenarios]]
name = "volume +20%"
volume_factor = 1.2
"""


def write_case(folder: Path, headcount: str = "site,skill,headcount\nCasablanca,fr,6\n"
               "Manila,en,4\n") -> Path:
    """A scenario folder: TOML, headcount CSV and 4 weeks of half-hourly history (fr-voice
    120 calls a day 09:00-17:00 Paris time, AHT 300 s; en-chat without history)."""
    (folder / "s.toml").write_text(SCENARIO)
    (folder / "headcount.csv").write_text(headcount)
    utc = pd.date_range("2026-03-02", periods=48 * 28, freq="30min", tz="UTC")
    local = utc.tz_convert("Europe/Paris")
    open_ = (local.hour >= 9) & (local.hour < 17)
    pd.DataFrame({"interval_start": utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "queue": "fr-voice",
                  "volume": np.where(open_, 7.5, 0.0), "aht_s": 300.0}).to_csv(
        folder / "history.csv", index=False)
    return folder / "s.toml"


def test_capacity_command_writes_every_table_atomically(tmp_path):
    toml = write_case(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["capacity", str(toml), "--scenarios", "--weeks", "12",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"weekly_plan.csv", "site_plan.csv", "hiring_plan.csv", "required_by_queue.csv",
            "scenarios.csv", "limits.csv", "solver.csv", "capacity.xlsx",
            "capacity_charts.html"} <= names
    sheets = openpyxl.load_workbook(out / "capacity.xlsx", read_only=True).sheetnames
    assert {"weekly_plan", "hiring_plan", "site_plan", "scenarios"} <= set(sheets)
    weekly = pd.read_csv(out / "weekly_plan.csv")
    assert weekly["week"].max() == 11
    # 120 calls a day, 16 half-hours: fr needs people every week; en ramps up from week 3
    req = weekly.groupby(["skill", "week"])["required_fte"].sum()
    assert (req["fr"] > 0).all()
    assert req["en"].iloc[3] > 0 and req["en"].iloc[:3].eq(0).all()
    assert req["en"].iloc[11] > req["en"].iloc[3]
    hires = pd.read_csv(out / "hiring_plan.csv")
    assert not ((hires["site"] == "Casablanca") & (hires["skill"] == "en")).any()
    assert (hires["start_week"] >= 2).all()
    sc = pd.read_csv(out / "scenarios.csv")
    assert sc["scenario"].tolist() == ["base", "attrition 8%", "volume +20%"]
    assert sc.loc[1, "hires"] >= sc.loc[0, "hires"]
    assert "plotly" in (out / "capacity_charts.html").read_text()
    assert "attrition 8%" in res.output


def test_bad_headcount_row_exits_2_and_writes_nothing(tmp_path):
    toml = write_case(tmp_path, "site,skill,headcount\nCasablanca,fr,6\nLima,en,4\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["capacity", str(toml), "-o", str(out)],
                             standalone_mode=False, catch_exceptions=True)
    from openwfm.errors import InputError

    assert isinstance(res.exception, InputError)
    loc = res.exception.location
    assert (loc.row, loc.column) == (2, "site") and loc.file.endswith("headcount.csv")
    assert not out.exists()


def test_pipeline_stage_adds_sections_summary_and_csvs(tmp_path):
    from openwfm.app.stages import capacity_stage, capacity_summary
    from openwfm.app.writers import write_capacity_outputs
    from openwfm.io.intervals import read_interval_csv
    from openwfm.report.capacity import capacity_sections

    toml = write_case(tmp_path)
    sc = load_scenario(toml)
    history = read_interval_csv(tmp_path / "history.csv").frame
    result = capacity_stage(sc, history)
    summary = capacity_summary(result)
    write_capacity_outputs(result, tmp_path / "run" / "capacity", excel=False, charts=False)
    titles = [s.title for s in capacity_sections(result)]
    assert titles == ["Capacity: required vs available FTE per site",
                      "Capacity: the fastest-growing client's ramp-up",
                      "Capacity: hiring plan (classes per site and week)",
                      "Capacity: seats", "Capacity: scenarios side by side"]
    whats = [w for stage, w, _ in summary if stage == "capacity"]
    assert "hires" in whats and "scenario attrition 8%" in whats
    assert (tmp_path / "run" / "capacity" / "weekly_plan.csv").exists()
    plan = result.plan
    assert plan.objective >= plan.mip_dual_bound - 1e-6 >= plan.lp_bound - 2e-6
    # the ramp-up line names the group with the largest growth of required FTE, with the
    # figures of the weekly plan
    w = plan.weekly.pivot_table(index="skill", columns="week", values="required_fte",
                                aggfunc="sum")
    growth = {k: r.iloc[-1] - r[r > 1e-9].iloc[0] for k, r in w.iterrows() if (r > 1e-9).any()}
    top = max(growth, key=growth.get)
    line = dict((w, v) for stage, w, v in summary if stage == "capacity")[
        "fastest-growing group"]
    assert line.startswith(top) and f"{w.loc[top].iloc[-1]:,.0f} in week" in line
    cmp = result.comparison
    assert (cmp["objective_vs_base_min"] <= cmp["objective"] - cmp.loc[0, "objective"]
            + 1e-6).all()
    assert (cmp["objective"] - cmp.loc[0, "objective"] <= cmp["objective_vs_base_max"]
            + 1e-6).all()


def test_stage_without_capacity_section_says_so(tmp_path):
    from openwfm.app.stages import capacity_stage, capacity_summary

    toml = write_case(tmp_path)
    sc = load_scenario(toml)
    sc = type(sc)(**{**sc.__dict__, "extra": {}})
    result = capacity_stage(sc, pd.DataFrame())
    assert result is None
    assert capacity_summary(result) == [("capacity", "plan",
                                         "skipped: the scenario has no [capacity]")]


@pytest.mark.slow
def test_demo_capacity_plan_ramps_the_driver_line_from_30_to_320():
    from openwfm.capacity import parse_capacity, required_fte
    from openwfm.demo import demo_history, demo_scenario

    sc = demo_scenario()
    inp = parse_capacity(sc)
    assert inp.weeks == 78
    req = required_fte(inp, sc, demo_history(sc))
    q = req.by_queue
    driver = q[q["queue"].str.startswith("ride-driver")].groupby("week")["fte"].sum()
    assert driver.iloc[:4].eq(0).all()
    assert 25 <= driver.iloc[4] <= 40
    assert 300 <= driver.iloc[74] <= 340


def test_scenario_difference_proven_only_when_interval_excludes_zero():
    from types import SimpleNamespace

    import pandas as pd

    from openwfm.capacity.scenarios import compare

    def plan(objective, bound):
        sites = pd.DataFrame({"week": [0], "site": ["A"], "required_fte": [1.0],
                              "available_fte": [1.0], "seats_used": [1.0],
                              "seat_capacity": [2.0], "class_start": [0]})
        return SimpleNamespace(plan=SimpleNamespace(
            sites=sites, total_cost=objective, total_hires=0, under_fte_weeks=0.0,
            over_fte_weeks=0.0, mip_gap=(objective - bound) / objective, objective=objective,
            mip_dual_bound=bound), name=f"s{objective}")

    cmp = compare([plan(1000.0, 900.0), plan(1200.0, 1150.0), plan(1050.0, 980.0)])
    # base vs itself: [0, 0], nothing proven; +150..+300 proven; -20..+150 not
    assert cmp.loc[0, ["objective_vs_base_min", "objective_vs_base_max"]].tolist() == [0, 0]
    assert cmp["difference_proven"].tolist() == [False, True, False]
