"""`openwfm demo -o DIR` end to end: the main job's outputs, terminal summary and report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from openwfm.demo import demo_scenario
from openwfm.report import figure_specs

# the whole planning run, once per session (`conftest.demo_cli_run`), in one xdist worker
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def demo_run(demo_cli_run) -> tuple[Path, str]:
    return demo_cli_run


def test_requirement_csv_has_every_queue_and_interval_of_the_plan_week(demo_run) -> None:
    out, _ = demo_run
    scenario = demo_scenario()
    req = pd.read_csv(out / "requirement.csv")
    assert set(req["queue"]) == {q.id for q in scenario.queues}
    per_queue = scenario.plan_days * 86_400 // scenario.interval_s
    assert (req.groupby("queue").size() == per_queue).all()
    start = pd.to_datetime(req["interval_start"], utc=True)
    assert start.min() == pd.Timestamp(scenario.plan_start, tz="UTC")
    for col in ("agents", "service_level", "asa_s", "p_wait", "p_abandon", "occupancy",
                "scheduled"):
        assert col in req.columns
    assert (req["agents"] >= 0).all() and (req["agents"] % 1 == 0).all()
    assert req["scheduled"].to_numpy() == pytest.approx(
        req["agents"].to_numpy() / (1 - req["shrinkage"].to_numpy()))
    voice = req[req["channel"] == "voice"]
    assert (voice["service_level"] >= voice["sl_target"] - 1e-12).all()


def test_report_has_one_requirement_chart_with_a_menu_of_every_queue(demo_run) -> None:
    out, _ = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<h2>Staffing requirement per queue and interval</h2>") == 1
    assert html.count("<h2>Staffing requirement: summary</h2>") == 1
    assert html.count("<h2>Staffing requirement") == 2  # no chart section per queue
    chart = html.split("<h2>Staffing requirement per queue and interval</h2>", 1)[1]
    chart = chart.split("<h2", 1)[0]
    (fig,) = figure_specs(chart)
    labels = [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]]
    assert sorted(labels) == sorted(q.id for q in demo_scenario().queues)


def test_terminal_shows_stages_and_summary(demo_run) -> None:
    out, stdout = demo_run
    assert "done staffing" in stdout and "openwfm demo: summary" in stdout
    assert f"wrote {out}/" in " ".join(stdout.split())
    assert (out / "forecast.csv").exists()
