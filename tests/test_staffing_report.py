"""Staffing report sections and the planning run's staffing stage on a two-queue toy."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from openwfm.app.stages import staffing_stage, staffing_summary_lines
from openwfm.report.staffing import (
    requirement_figure,
    requirement_selector_figure,
    staffing_sections,
)
from openwfm.scenario import Channel, Queue, Scenario, ServiceGoal
from openwfm.staffing.summary import staffing_summary


def _scenario() -> Scenario:
    queues = (
        Queue("ma-voice", "bank", Channel.VOICE, "fr", "MA", ServiceGoal(0.8, 20.0),
              patience_s=120.0, tz="Africa/Casablanca"),
        Queue("fr-mail", "telco", Channel.EMAIL, "fr", "FR", ServiceGoal(0.9, 4 * 3600.0),
              tz="Europe/Paris"),
    )
    return Scenario(name="toy", interval_s=1800, sites=(), queues=queues, agents=(),
                    plan_start=date(2026, 2, 14), plan_days=2, shrinkage=0.25)


def _forecast() -> pd.DataFrame:
    # 14-16 Feb 2026 UTC: Morocco leaves UTC+1 for UTC+0 (Ramadan) on Sunday 15 Feb 03:00
    idx = pd.date_range("2026-02-14", periods=96, freq="30min", tz="UTC")
    rows = [pd.DataFrame({"interval_start": idx, "queue": q, "volume": v, "aht_s": 240.0})
            for q, v in (("ma-voice", np.linspace(0, 120, 96)), ("fr-mail", 20.0))]
    return pd.concat(rows, ignore_index=True)


def test_stage_staffing_fills_requirement_report_and_summary() -> None:
    req = staffing_stage(_scenario(), _forecast())
    assert len(req) == 192
    voice = req[req["queue"] == "ma-voice"]
    assert voice["agents"].iloc[0] == 0 and voice["p_abandon"].notna().all()
    assert voice["scheduled"].to_numpy() == pytest.approx(voice["agents"].to_numpy() / 0.75)
    mail = req[req["queue"] == "fr-mail"]
    local_day = pd.to_datetime(mail["interval_start"], utc=True).dt.tz_convert(
        "Europe/Paris").dt.date
    levels = mail.groupby(local_day)["agents"].agg(["min", "max"])
    assert (levels["min"] == levels["max"]).all()  # one level per local day
    assert (mail["tz"] == "Europe/Paris").all()
    titles = [s.title for s in staffing_sections(req, _scenario())]
    assert titles == ["Staffing requirement: summary",
                      "Staffing requirement per queue and interval"]  # one chart, a menu
    summary = staffing_summary_lines(req)
    assert {what for stage, what, _ in summary if stage == "staffing"} >= {
        "agent-hours required (productive)", "service level if staffed as required"}


def test_chart_hover_is_in_the_queue_local_time_across_the_ramadan_change() -> None:
    req = _forecast()
    req["agents"] = 1
    q = req[req["queue"] == "ma-voice"]
    fig = requirement_figure(q, "ma-voice", "Africa/Casablanca")
    hover = dict(zip(pd.DatetimeIndex(fig.data[0].x).strftime("%d %H:%M"),
                     fig.data[0].customdata, strict=True))
    # Casablanca goes from UTC+1 to UTC+0 at 15 Feb 2026 02:00 UTC (03:00 -> 02:00 local)
    assert hover["15 01:30"] == "Sun 15 Feb 02:30 local (UTC+01:00)"
    assert hover["15 02:00"] == "Sun 15 Feb 02:00 local (UTC+00:00)"
    assert hover["14 23:00"] == "Sun 15 Feb 00:00 local (UTC+01:00)"
    assert pd.DatetimeIndex(fig.data[0].x).is_monotonic_increasing  # no loop back
    assert len(fig.data) == 1  # no scheduled column, no scheduled trace
    assert "Africa/Casablanca" in fig.layout.xaxis.title.text


def test_summary_table_values() -> None:
    req = pd.DataFrame({"queue": ["a", "a", "b"], "volume": [100.0, 300.0, 0.0],
                        "agents": [14, 30, 0], "service_level": [0.9, 0.8, 1.0],
                        "scheduled": [20.0, 40.0, 0.0], "interval_s": [1800, 1800, 900]})
    s = staffing_summary(req).set_index("queue")
    assert s.loc["a", "peak_agents"] == 30 and s.loc["a", "agent_hours"] == 22.0
    assert s.loc["a", "scheduled_hours"] == 30.0
    assert s.loc["a", "service_level"] == pytest.approx(0.825)
    assert s.loc["b", "service_level"] == 1.0


def test_one_chart_with_a_queue_menu_showing_each_queue_alone() -> None:
    req = _forecast()
    req["agents"] = np.where(req["queue"] == "ma-voice", 7, 3)
    req["scheduled"] = req["agents"] / 0.75
    fig = requirement_selector_figure(req, {"ma-voice": "Africa/Casablanca",
                                            "fr-mail": "Europe/Paris"})
    menu = fig.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == ["fr-mail", "ma-voice"]
    assert len(fig.data) == 4  # agents + scheduled per queue
    for button, agents in zip(menu.buttons, (3, 7), strict=True):
        shown = [t for t, v in zip(fig.data, button.args[0]["visible"], strict=True) if v]
        assert [t.name for t in shown] == ["productive agents", "scheduled (after shrinkage)"]
        assert set(shown[0].y) == {agents}
        assert shown[1].y == pytest.approx(np.full(96, agents / 0.75), abs=0.005)
    assert [t.visible for t in fig.data] == [True, True, False, False]
    voice = fig.data[2]  # hover in Casablanca time across the Ramadan change
    hover = dict(zip(pd.DatetimeIndex(voice.x).strftime("%d %H:%M"), voice.customdata,
                     strict=True))
    assert hover["15 02:00"] == "Sun 15 Feb 02:00 local (UTC+00:00)"
    assert "Africa/Casablanca" in menu.buttons[1].args[1]["xaxis.title.text"]
