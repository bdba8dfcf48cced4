"""The demo center's quality data: deterministic, sites that differ the way the demo says,
a calibration session that flags the lenient evaluator and the ambiguous item."""

from __future__ import annotations

import pytest

from openwfm.demo import demo_scenario
from openwfm.demo.quality import quality_demo
from openwfm.quality import calibrate, evaluations_frame, homogeneity, score_summary


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return quality_demo(demo_scenario(), contacts=False)


def test_demo_quality_data_is_deterministic(demo) -> None:  # type: ignore[no-untyped-def]
    again = quality_demo(demo_scenario(), contacts=False)
    assert [(e.id, e.result.score, e.evaluator_id) for e in again.evaluations] == \
        [(e.id, e.result.score, e.evaluator_id) for e in demo.evaluations]
    assert [e.answers for e in again.calibration] == [e.answers for e in demo.calibration]


def test_demo_has_forms_a_month_of_evaluations_and_site_differences(demo) -> None:  # type: ignore[no-untyped-def]
    scenario = demo_scenario()
    pairs = {(q.client, q.channel.value) for q in scenario.queues}
    assert {(f.client, f.channel.value) for f in demo.forms} == pairs
    assert len(demo.evaluations) == 4 * len(scenario.agents)
    df = evaluations_frame(demo.evaluations)
    days = df["evaluated_at"].dt.date
    assert str(days.min()) >= "2026-03-02" and str(days.max()) <= "2026-03-29"
    s = score_summary(df, "site").set_index("site")
    # Casablanca ahead, Bogota behind, beyond the confidence intervals
    assert s.loc["Bogota", "mean_score_hi"] < s.loc["Manila", "mean_score_lo"]
    assert s.loc["Bogota", "mean_score_hi"] < s.loc["Casablanca", "mean_score_lo"]
    h = homogeneity(df, "site")
    assert h.highest == "Casablanca" and h.lowest == "Bogota"
    assert 5 < h.spread_points < 20 and h.p_value < 0.001 and 0 < h.icc1 < 0.2
    assert set(df["team"]) and df["team"].str.startswith(tuple(s.index)).all()
    assert 0 < df["needs_coaching"].mean() < 0.3


def test_demo_calibration_flags_the_lenient_evaluator_and_empathy(demo) -> None:  # type: ignore[no-untyped-def]
    r = calibrate(demo.form("ridenow-voice"), demo.calibration)
    assert r.evaluator_count == 5 and r.contacts == 10
    assert r.flagged_evaluators == ["qa-5"]
    assert "empathy" in r.flagged_items and "verify_identity" not in r.flagged_items
