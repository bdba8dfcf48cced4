"""The planning run's simulate stage on a toy scenario: schedule and requirement fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openwfm.app import STAGES
from openwfm.app.stages import simulate_stage, simulate_summary
from openwfm.report.simulation import simulation_sections
from openwfm.scenario import scenario_from_dict

RAW = {
    "name": "toy", "interval_s": 1800, "plan_start": "2026-03-02", "plan_days": 1,
    "sites": [{"name": "Casablanca", "country": "MA", "tz": "Africa/Casablanca", "seats": 9,
               "cost_per_hour": 9}],
    "queues": [{"id": "v", "client": "C", "channel": "voice", "language": "fr",
                "market": "FR", "sl_target": 0.8, "answer_within_s": 20, "patience_s": 120}],
    "agents": [{"id": f"A{i}", "site": "Casablanca", "skills": "v"} for i in range(4)],
}


def simulate_for(tmp_path: Path, agents: list[int], segments: pd.DataFrame | None = None):
    sc = scenario_from_dict(RAW, base=tmp_path)
    starts = pd.date_range("2026-03-02 08:00", periods=4, freq="30min", tz="UTC")
    fc = pd.DataFrame({"interval_start": starts, "queue": "v", "volume": 40.0,
                       "aht_s": 150.0})
    req = fc.assign(agents=agents)
    return simulate_stage(sc, fc, segments=segments, requirement=req)


def test_stage_is_registered_after_staffing() -> None:
    names = list(STAGES)
    assert "simulate" in names
    assert names.index("simulate") > names.index("staffing")
    if "schedule" in names:
        assert names.index("simulate") == names.index("schedule") + 1


def test_requirement_fallback_flags_understaffed_interval(tmp_path: Path) -> None:
    # 40 calls / 30 min x 150 s = 3.33 Erlang: 1 agent cannot hold, 6 easily do
    sim = simulate_for(tmp_path, [6, 6, 1, 6])
    iv = sim.intervals
    assert iv.service_level.iloc[2] < 0.8 <= iv.service_level.iloc[0]
    assert iv.service_level_hi.iloc[2] < 0.8
    summary = dict((w, v) for s, w, v in simulate_summary(sim) if s == "simulate")
    assert summary["what was simulated"].startswith("requirement")
    assert summary["intervals below target (mean / CI upper bound)"].startswith("1 / 1 of 4")
    sections = simulation_sections(sim)
    titles = [s.title for s in sections]
    assert "Simulation: where the plan fails" in titles
    html = sections[titles.index("Simulation: where the plan fails")].body_html
    assert "2026-03-02 09:00 UTC" in html and "class='bad'" in html


def test_schedule_segments_are_simulated(tmp_path: Path) -> None:
    seg = pd.DataFrame({
        "agent_id": ["A0", "A1", "A2", "A3"], "site": "Casablanca", "activity": "work",
        "start": pd.Timestamp("2026-03-02 08:00", tz="UTC"),
        "end": pd.Timestamp("2026-03-02 10:00", tz="UTC")})
    sim = simulate_for(tmp_path, [1, 1, 1, 1], segments=seg)
    res = sim.result
    assert len(res.model.agent_ids) == 4
    assert dict((w, v) for s, w, v in simulate_summary(sim))["what was simulated"] == "schedule"
    # four agents working all day = a staffing table of 4 in every interval: same seed,
    # same draws, same routing -> identical waits
    ref = simulate_for(tmp_path, [4, 4, 4, 4])
    np.testing.assert_array_equal(res.log.wait_s, ref.result.log.wait_s)


@pytest.mark.slow
def test_segments_from_the_scheduler_are_simulated(tmp_path: Path) -> None:
    """Integration with openwfm.scheduling: a solved toy schedule (shifts, breaks, meals,
    work segments tagged with a queue) is simulated; nobody starts a contact off shift."""
    from openwfm.scheduling.model import build_problem, parse_config
    from openwfm.scheduling.solve import solve_schedule
    from openwfm.scheduling.synthetic import flat_requirement, toy_scenario

    sc = toy_scenario(n_agents=3)
    req = flat_requirement(sc, 1.0)
    cfg = parse_config({"time_limit_s": 10, "shifts": [{"start_step_min": 60,
                                                        "lengths_h": [9]}]})
    seg = solve_schedule(build_problem(sc, req, cfg)).segments
    fc = req[["interval_start", "queue"]].assign(volume=1.0, aht_s=300.0)
    sim = simulate_stage(sc, fc, segments=seg, requirement=req)
    assert dict((w, v) for s, w, v in simulate_summary(sim))["what was simulated"] == "schedule"
    log = sim.result.log.to_frame()
    served = log[log.outcome == "served"]
    assert len(served) > 0
    # arrival + wait in float seconds: allow 1 ms of rounding at a segment's first instant
    start = served.arrival + pd.to_timedelta(served.wait_s, unit="s") + pd.Timedelta("1ms")
    work = seg[seg.activity == "work"]
    for aid, s in zip(served.agent, start, strict=True):
        w = work[work.agent_id == aid]
        assert ((w.start <= s) & (s < w.end)).any()
