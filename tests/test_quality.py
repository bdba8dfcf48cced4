"""openwfm.quality: score arithmetic against hand computations, forms and evaluation CSVs
with their errors, disputes, sample sizes against the stated formulas, Krippendorff's alpha
against Krippendorff's (2011) published examples, homogeneity and coaching."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openwfm.errors import InputError
from openwfm.quality import (
    CoachingReason,
    DisputeOutcome,
    EvaluationStatus,
    QualityStateError,
    alpha,
    calibrate,
    coaching_tasks,
    evaluate,
    evaluations_frame,
    homogeneity,
    load_form,
    open_dispute,
    parse_form,
    plan_sample,
    read_evaluations,
    resolve_dispute,
    sample_size_mean,
    sample_size_proportion,
    score_answers,
    score_summary,
)
from openwfm.quality.sampling import pooled_sd

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)

# A form worked by hand below: sections of weights 1, 3 and 1.
FORM = {
    "id": "f", "version": 3, "client": "RideNow", "channel": "voice", "pass_score": 80,
    "coaching_below": 70,
    "sections": [
        {"id": "open", "weight": 1, "items": [
            {"id": "greet", "weight": 1, "points": 2},
            {"id": "verify", "weight": 1, "points": 1, "critical": True}]},
        {"id": "handle", "weight": 3, "items": [
            {"id": "need", "weight": 2, "points": 4},
            {"id": "answer", "weight": 3, "points": 4},
            {"id": "hold", "weight": 1, "points": 1, "na_allowed": True}]},
        {"id": "close", "weight": 1, "items": [
            {"id": "disclosure", "points": 1, "critical": True, "na_allowed": True},
            {"id": "recap", "points": 2, "critical": True, "pass_points": 1}]},
    ],
}


@pytest.fixture(scope="module")
def form():  # type: ignore[no-untyped-def]
    return parse_form(FORM)


# ------------------------------------------------------------------ score arithmetic
@pytest.mark.parametrize(("answers", "raw", "sections"), [
    # all full marks
    ({"greet": 2, "verify": 1, "need": 4, "answer": 4, "hold": 1, "disclosure": 1,
      "recap": 2}, 100.0, (1.0, 1.0, 1.0)),
    # open = (1·½ + 1·1)/2 = 0.75; handle = (2·¾ + 3·½ + 1·1)/6 = 4/6;
    # close = (1 + ½)/2 = 0.75; raw = 100 (0.75 + 3·⅔ + 0.75)/5 = 70
    ({"greet": 1, "verify": 1, "need": 3, "answer": 2, "hold": 1, "disclosure": 1,
      "recap": 1}, 70.0, (0.75, 4 / 6, 0.75)),
    # hold N/A: handle renormalised over weights 2 + 3 = (2·¾ + 3·½)/5 = 0.6;
    # disclosure N/A: close = recap alone = ½; raw = 100 (0.75 + 1.8 + 0.5)/5 = 61
    ({"greet": 1, "verify": 1, "need": 3, "answer": 2, "hold": None, "disclosure": None,
      "recap": 1}, 61.0, (0.75, 0.6, 0.5)),
])
def test_score_arithmetic_by_hand(form, answers, raw, sections) -> None:  # type: ignore[no-untyped-def]
    r = score_answers(form, answers)
    assert r.raw_score == pytest.approx(raw, abs=1e-9)
    assert r.score == pytest.approx(raw, abs=1e-9)
    assert tuple(r.section_scores.values()) == pytest.approx(sections)
    assert r.critical_failed == ()
    assert r.passed == (raw >= 80)
    assert r.needs_coaching == (raw < 70)


def test_a_section_all_na_leaves_the_score(form) -> None:  # type: ignore[no-untyped-def]
    ff = parse_form({**FORM, "sections": [*FORM["sections"], {"id": "extra", "weight": 10,
                     "items": [{"id": "x", "points": 1, "na_allowed": True}]}]})
    a = {"greet": 1, "verify": 1, "need": 3, "answer": 2, "hold": 1, "disclosure": 1,
         "recap": 1}
    r = score_answers(ff, {**a, "x": None})
    assert r.section_scores["extra"] is None and r.raw_score == pytest.approx(70.0)
    # answered, the heavy section dominates: 100 (3.5 + 10·0)/15
    assert score_answers(ff, {**a, "x": 0}).raw_score == pytest.approx(350 / 15)


def test_critical_items_fail_the_evaluation(form) -> None:  # type: ignore[no-untyped-def]
    full = {"greet": 2, "verify": 1, "need": 4, "answer": 4, "hold": 1, "disclosure": 1,
            "recap": 2}
    r = score_answers(form, {**full, "verify": 0})
    # open = ½, raw = 100 (½ + 3 + 1)/5 = 90, but the critical failure zeroes it
    assert r.raw_score == pytest.approx(90.0) and r.score == 0.0
    assert not r.passed and r.critical_failed == ("verify",) and r.needs_coaching
    # pass_points 1 on a 0..2 item: 1 passes, 0 fails
    assert score_answers(form, {**full, "recap": 1}).critical_failed == ()
    assert score_answers(form, {**full, "recap": 0}).critical_failed == ("recap",)
    # a critical item answered N/A does not fail
    assert score_answers(form, {**full, "disclosure": None}).passed
    # without critical_zeroes_score the score stays but the evaluation still fails
    keep = parse_form({**FORM, "critical_zeroes_score": False})
    r = score_answers(keep, {**full, "verify": 0})
    assert r.score == pytest.approx(90.0) and not r.passed


def test_answers_are_checked_against_the_scale(form) -> None:  # type: ignore[no-untyped-def]
    full = {"greet": 2, "verify": 1, "need": 4, "answer": 4, "hold": 1, "disclosure": 1,
            "recap": 2}
    with pytest.raises(InputError, match="'greet' does not allow N/A"):
        score_answers(form, {**full, "greet": None})
    with pytest.raises(InputError, match="from 0 to 4, got 5"):
        score_answers(form, {**full, "need": 5})
    with pytest.raises(InputError, match="missing answer to item 'recap'"):
        score_answers(form, {k: v for k, v in full.items() if k != "recap"})
    with pytest.raises(InputError, match="'bogus' is not on form f@3"):
        score_answers(form, {**full, "bogus": 1})
    with pytest.raises(InputError, match="every item is N/A"):
        score_answers(parse_form({**FORM, "sections": [{"id": "s", "items": [
            {"id": "a", "na_allowed": True}]}]}), {"a": None})


# ------------------------------------------------------------------ form files
def test_forms_load_from_toml_and_json_with_located_errors(tmp_path: Path) -> None:
    (tmp_path / "f.json").write_text(json.dumps(FORM))
    assert load_form(tmp_path / "f.json").key == "f@3"
    toml = tmp_path / "f.toml"
    toml.write_text('id = "f"\nclient = "C"\nchannel = "chat"\n[[sections]]\nid = "s"\n'
                    '[[sections.items]]\nid = "a"\npoints = 2\ncritical = true\n'
                    'pass_points = 3\n')
    with pytest.raises(InputError) as e:
        load_form(toml)
    assert str(e.value) == (f"{toml}, key 'sections[0].items[0].pass_points': pass_points 3 "
                            "is above the scale's top points 2")
    dup = {**FORM, "sections": [FORM["sections"][0], {"id": "x", "items": [
        {"id": "greet"}]}]}
    with pytest.raises(InputError, match=r"key 'sections\[1\].items\[0\].id': item id "
                       "'greet' used twice"):
        parse_form(dup, file="d.json")
    with pytest.raises(InputError, match="key 'channel': expected"):
        parse_form({**FORM, "channel": "fax"})
    with pytest.raises(InputError, match="key 'sections': expected at least 1"):
        parse_form({**FORM, "sections": []})
    (tmp_path / "bad.json").write_text("{\n  \"id\": ,\n}")
    with pytest.raises(InputError, match="not valid JSON at line 2"):
        load_form(tmp_path / "bad.json")
    with pytest.raises(InputError, match="form file not found"):
        load_form(tmp_path / "none.json")


# ------------------------------------------------------------------ evaluation CSV
HEADER = ("evaluation_id,contact_id,agent_id,evaluator_id,evaluated_at,queue,site,team,"
          "greet,verify,need,answer,hold,disclosure,recap\n")


def _csv(tmp_path: Path, *rows: str) -> Path:
    p = tmp_path / "evals.csv"
    p.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return p


GOOD = "E1,C1,A1,qa,2026-03-02T10:00:00Z,q,Manila,Manila 1,1,1,3,2,NA,na,1"


def test_read_evaluations_scores_each_row(tmp_path: Path, form) -> None:  # type: ignore[no-untyped-def]
    evs = read_evaluations(_csv(tmp_path, GOOD, GOOD.replace("E1,C1", "E2,C2")
                                .replace(",1,1,3,2,NA,na,1", ",2,0,4,4,1,1,2")), form)
    assert [e.result.score for e in evs] == pytest.approx([61.0, 0.0])
    assert evs[1].result.critical_failed == ("verify",)
    df = evaluations_frame(evs, client="RideNow")
    assert list(df["score"]) == pytest.approx([61.0, 0.0]) and set(df["client"]) == {"RideNow"}


@pytest.mark.parametrize(("row", "where", "message"), [
    (GOOD.replace(",1,1,3,2,", ",1,1,7,2,"), "row 1, column 'need'", "from 0 to 4"),
    (GOOD.replace(",1,1,3,2,", ",NA,1,3,2,"), "row 1, column 'greet'", "does not allow N/A"),
    (GOOD.replace(",1,1,3,2,", ",1.5,1,3,2,"), "row 1, column 'greet'", "whole number"),
    (GOOD.replace("2026-03-02T10:00:00Z", "2026-03-02 10:00"), "row 1, column 'evaluated_at'",
     "UTC offset"),
    (GOOD.replace(",A1,qa,", ",A1,A1,"), "row 1, column 'evaluator_id'", "own contact"),
    (GOOD.replace("E1,C1,A1", "E1,C1,"), "row 1, column 'agent_id'", "missing value"),
])
def test_bad_evaluation_rows_name_row_and_column(tmp_path: Path, form, row, where,  # type: ignore[no-untyped-def]
                                                 message) -> None:
    with pytest.raises(InputError) as e:
        read_evaluations(_csv(tmp_path, row), form)
    assert where in str(e.value) and message in str(e.value) and "evals.csv" in str(e.value)


def test_bad_evaluation_files(tmp_path: Path, form) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"row 2, column 'evaluation_id': evaluation id 'E1' "
                       r"listed twice \(also row 1\)"):
        read_evaluations(_csv(tmp_path, GOOD, GOOD), form)
    p = tmp_path / "x.csv"
    p.write_text(HEADER.replace(",recap", ",recpa") + GOOD + "\n")
    with pytest.raises(InputError, match="column 'recap': missing column 'recap'"):
        read_evaluations(p, form)
    p.write_text(HEADER.replace("\n", ",recpa\n") + GOOD + ",1\n")
    with pytest.raises(InputError, match="column 'recpa': unknown column; did you mean 'recap'"):
        read_evaluations(p, form)
    with pytest.raises(InputError, match="file not found"):
        read_evaluations(tmp_path / "none.csv", form)


# ------------------------------------------------------------------ disputes
def test_dispute_life(form) -> None:  # type: ignore[no-untyped-def]
    a = {"greet": 1, "verify": 1, "need": 3, "answer": 2, "hold": None, "disclosure": None,
         "recap": 1}
    ev = evaluate(form, id="E1", contact_id="C1", agent_id="A1", evaluator_id="qa",
                  evaluated_at=T0, answers=a, item_comments={"answer": "wrong fare"})
    with pytest.raises(QualityStateError, match="only the agent evaluated"):
        open_dispute(ev, by="A2", reason="x", at=T0)
    with pytest.raises(QualityStateError, match="window of 14 days"):
        open_dispute(ev, by="A1", reason="x", at=T0 + timedelta(days=15))
    with pytest.raises(QualityStateError, match="no open dispute"):
        resolve_dispute(ev, form, by="lead", at=T0, outcome=DisputeOutcome.UPHELD)
    d = open_dispute(ev, by="A1", reason="the fare was right", at=T0 + timedelta(days=2))
    assert d.status == EvaluationStatus.DISPUTED
    with pytest.raises(QualityStateError, match="only a submitted"):
        open_dispute(d, by="A1", reason="again", at=T0 + timedelta(days=3))
    with pytest.raises(QualityStateError, match="own dispute"):
        resolve_dispute(d, form, by="A1", at=T0, outcome=DisputeOutcome.UPHELD)
    up = resolve_dispute(d, form, by="lead", at=T0 + timedelta(days=3),
                         outcome=DisputeOutcome.UPHELD, note="fare table v2")
    assert up.status == EvaluationStatus.UPHELD and up.result.score == pytest.approx(61.0)
    rev = resolve_dispute(d, form, by="lead", at=T0 + timedelta(days=3),
                          outcome=DisputeOutcome.REVISED, answers={"answer": 4})
    # handle = (2·¾ + 3·1)/5 = 0.9 -> 100 (0.75 + 2.7 + 0.5)/5 = 79
    assert rev.result.score == pytest.approx(79.0) and rev.dispute.previous_score == 61.0
    assert rev.answers["answer"] == 4 and rev.status == EvaluationStatus.REVISED


# ------------------------------------------------------------------ sampling
def test_sample_size_mean_matches_the_formula_by_hand() -> None:
    z = 1.959963984540054
    # n0 = (z σ / E)²; n = n0 / (1 + n0 / N), rounded up
    for sd, e, big_n in [(12, 5, None), (12, 5, 60), (15, 3, 500), (8, 2, 30), (20, 10, 4)]:
        n0 = (z * sd / e) ** 2
        n = n0 if big_n is None else n0 / (1 + n0 / big_n)
        assert sample_size_mean(sd, e, population=big_n) == math.ceil(n), (sd, e, big_n)
    assert (sample_size_mean(12, 5), sample_size_mean(12, 5, population=60)) == (23, 17)
    assert sample_size_mean(15, 3) == 97          # n0 = (1.96 · 5)² = 96.04
    assert sample_size_mean(15, 3, population=500) == 81   # 96.04 / 1.19208 = 80.56
    assert sample_size_mean(12, 5, level=0.90) == 16       # (1.644854 · 2.4)² = 15.58
    assert sample_size_mean(100, 1, population=25) == 25   # never above N


def test_sample_size_proportion_matches_the_formula_by_hand() -> None:
    z = 1.959963984540054
    for p, e, big_n in [(0.5, 0.1, None), (0.5, 0.1, 200), (0.8, 0.05, 1000), (0.9, 0.1, 20)]:
        n0 = z * z * p * (1 - p) / e**2
        n = n0 if big_n is None else n0 / (1 + (n0 - 1) / big_n)
        assert sample_size_proportion(e, p=p, population=big_n) == math.ceil(n)
    assert sample_size_proportion(0.1) == 97                     # 96.04
    assert sample_size_proportion(0.1, population=200) == 66     # 96.04 / 1.4752 = 65.10
    assert sample_size_proportion(0.05, p=0.8, population=1000) == 198  # 245.86 / 1.24486
    with pytest.raises(InputError, match="margin in \\(0, 1\\)"):
        sample_size_proportion(5)


def test_stratified_plan_allocates_in_proportion_and_is_seeded() -> None:
    rows = []
    for agent, n_a, n_b in [("a1", 150, 50), ("a2", 30, 10)]:
        rows += [{"contact_id": f"{agent}-{i}", "agent_id": agent, "queue": "qa",
                  "channel": "voice"} for i in range(n_a)]
        rows += [{"contact_id": f"{agent}-b{i}", "agent_id": agent, "queue": "qb",
                  "channel": "chat"} for i in range(n_b)]
    contacts = pd.DataFrame(rows).sample(frac=1, random_state=3)   # order must not matter
    plan = plan_sample(contacts, sd=12, margin=5, seed=7)
    alloc = plan.allocation.set_index(["agent_id", "queue"])["sample"]
    # a1: N = 200, n = 22.127 / (1 + 22.127/200) = 19.92 -> 20: 15 + 5
    # a2: N = 40, n = 22.127 / 1.5532 = 14.25 -> 15: 11.25 / 3.75 -> 11 + 4
    assert alloc.to_dict() == {("a1", "qa"): 15, ("a1", "qb"): 5, ("a2", "qa"): 11,
                               ("a2", "qb"): 4}
    assert len(plan.sample) == 35 and plan.sample["contact_id"].is_unique
    same = plan_sample(contacts.sort_values("contact_id"), sd=12, margin=5, seed=7)
    assert list(same.sample["contact_id"]) == list(plan.sample["contact_id"])
    other = plan_sample(contacts, sd=12, margin=5, seed=8)
    assert list(other.sample["contact_id"]) != list(plan.sample["contact_id"])


def test_pooled_sd_by_hand() -> None:
    df = pd.DataFrame({"agent_id": list("aaabbc"), "score": [70, 80, 90, 60, 70, 99.0]})
    assert pooled_sd(df) == pytest.approx(math.sqrt((200 + 50) / 3))


# ------------------------------------------------------------------ calibration
NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers, 12 units,
# missing values (unit 12 has one value only and is not pairable).
KRIPP_C = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
                    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
                    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
                    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]])


@pytest.mark.parametrize(("level", "published"), [
    ("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_alpha_matches_krippendorff_2011_missing_data_example(level, published) -> None:  # type: ignore[no-untyped-def]
    assert round(alpha(KRIPP_C, level), 3) == published


def test_alpha_matches_krippendorff_2011_binary_example() -> None:
    # two observers, ten units, binary: alpha = 0.095
    data = np.array([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]], float)
    assert round(alpha(data, "nominal"), 3) == 0.095


def test_calibration_flags_the_disagreeing_item_and_evaluator(form) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    evs = []
    for c in range(12):
        truth = {"greet": int(rng.integers(3)), "verify": 1, "need": int(rng.integers(5)),
                 "answer": int(rng.integers(5)), "hold": None, "disclosure": 1, "recap": 2}
        for who in ("e1", "e2", "e3", "e4"):
            a = dict(truth)
            if who == "e4":   # lenient on the larger scales: one point more
                a["need"], a["answer"] = min(a["need"] + 1, 4), min(a["answer"] + 1, 4)
            a["greet"] = int(rng.integers(3))   # nobody agrees on greet
            evs.append(evaluate(form, id=f"{c}-{who}", contact_id=f"c{c}", agent_id="A",
                                evaluator_id=who, evaluated_at=T0, answers=a))
    r = calibrate(form, evs)
    items = r.items.set_index("item_id")
    assert "greet" in r.flagged_items
    assert items.loc["greet", "alpha"] < 0.3 < items.loc["need", "alpha"]
    assert math.isnan(items.loc["verify", "alpha"])      # every answer 1: nothing to agree on
    assert not items.loc["verify", "flagged"]
    assert r.flagged_evaluators == ["e4"]
    ev = r.evaluators.set_index("evaluator_id")
    assert ev.loc["e4", "bias"] > 5 and ev.loc["e4", "alpha_without"] > r.alpha_score
    assert r.contacts == 12 and r.evaluator_count == 4
    with pytest.raises(InputError, match="at least two evaluators"):
        calibrate(form, [e for e in evs if e.evaluator_id == "e1"])


# ------------------------------------------------------------------ scores, homogeneity
def test_summary_and_homogeneity_by_hand() -> None:
    df = pd.DataFrame({"site": list("AAAABBBB"), "score": [70, 80, 90, 80, 60, 70, 80, 70.0],
                       "passed": [False, True, True, True, False, False, True, False],
                       "critical_failed": ["", "", "", "", "k", "", "", ""]})
    s = score_summary(df, "site").set_index("site")
    # A: mean 80, sd = sqrt(200/3) = 8.165, t(0.975, 3) = 3.182446: 80 ± 12.99
    assert s.loc["A", "mean_score"] == 80
    half = 3.182446305284263 * math.sqrt(200 / 3) / 2
    assert s.loc["A", "mean_score_lo"] == pytest.approx(80 - half)
    assert s.loc["A", "pass_rate"] == 0.75 and s.loc["B", "critical_failures"] == 1
    h = homogeneity(df, "site", min_evaluations=4)
    # means 80 and 70; MSB = 4·25·2 / 1 = 200; MSW = (200 + 200) / 6; n0 = 4
    msb, msw = 200.0, 400 / 6
    assert h.spread_points == 10 and h.highest == "A" and h.lowest == "B"
    assert h.icc1 == pytest.approx((msb - msw) / (msb + 3 * msw))
    from scipy import stats
    assert h.p_value == pytest.approx(stats.f_oneway([70, 80, 90, 80], [60, 70, 80, 70]).pvalue)
    with pytest.raises(InputError, match="at least two site groups"):
        homogeneity(df, "site", min_evaluations=5)


# ------------------------------------------------------------------ coaching
def test_coaching_opens_on_low_score_or_critical_failure(form) -> None:  # type: ignore[no-untyped-def]
    full = {"greet": 2, "verify": 1, "need": 4, "answer": 4, "hold": 1, "disclosure": 1,
            "recap": 2}
    evs = [evaluate(form, id=f"E{i}", contact_id=f"C{i}", agent_id="A1", evaluator_id="qa",
                    evaluated_at=T0, answers={**full, **a})
           for i, a in enumerate([{}, {"need": 0, "answer": 1}, {"verify": 0}])]
    tasks = coaching_tasks(evs, coaching_below=form.coaching_below)
    assert [(t.evaluation_id, t.reason) for t in tasks] == [
        ("E1", CoachingReason.LOW_SCORE), ("E2", CoachingReason.CRITICAL_FAILURE)]
    assert tasks[0].due_by - tasks[0].due_from == timedelta(days=7)
    disputed = open_dispute(evs[1], by="A1", reason="no", at=T0)
    assert coaching_tasks([disputed], coaching_below=70) == []   # waits for the outcome
