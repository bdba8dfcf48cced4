"""`openwfm quality`: the demo folder, score / calibrate / sample-size / sample, and the
bad-input rules (one line naming file, row and column; exit 2; nothing written)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

CLI = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import run_openwfm

    out = tmp_path_factory.mktemp("quality") / "demo"
    code, stdout, err = run_openwfm("quality", "demo", "-o", str(out))
    assert code == 0, err
    assert "site" in stdout and "Casablanca" in stdout and "Bogota" in stdout
    return out


def test_demo_writes_inputs_and_results(demo_dir: Path) -> None:
    assert len(list((demo_dir / "forms").glob("*.json"))) == 9
    assert len(list((demo_dir / "evaluations").glob("*.csv"))) == 9
    res = demo_dir / "results"
    h = pd.read_csv(res / "homogeneity.csv").set_index("by")
    assert h.loc["site", "highest"] == "Casablanca" and h.loc["site", "lowest"] == "Bogota"
    assert h.loc["site", "spread_points"] > 5
    sites = pd.read_csv(res / "scores_by_site.csv")
    assert set(sites["site"]) == {"Casablanca", "Manila", "Bogota"}
    assert (sites["mean_score_lo"] < sites["mean_score"]).all()
    assert set(pd.read_csv(res / "calibration_evaluators.csv").query("flagged")[
        "evaluator_id"]) == {"qa-5"}
    page = (res / "report.html").read_text(encoding="utf-8")
    assert "homogeneity between sites and teams" in page and "ICC(1)" in page
    trend = pd.read_csv(res / "trend_by_site.csv")
    assert sorted(trend["week"].unique()) == ["2026-03-02", "2026-03-09", "2026-03-16",
                                              "2026-03-23"]
    coaching = pd.read_csv(res / "coaching.csv")
    assert set(coaching["reason"]) == {"low_score", "critical_failure"}


def test_score_one_form_and_calibrate(demo_dir: Path, cli: CLI, tmp_path: Path) -> None:
    form = demo_dir / "forms" / "ridenow-voice.json"
    code, out, err = cli("quality", "score", str(form),
                         str(demo_dir / "evaluations" / "ridenow-voice.csv"),
                         "-o", str(tmp_path / "rv"), "--no-report")
    assert code == 0, err
    scored = pd.read_csv(tmp_path / "rv" / "evaluations_scored.csv")
    assert set(scored["client"]) == {"RideNow"} and not (tmp_path / "rv" / "report.html").exists()
    code, out, err = cli("quality", "calibrate", str(form), str(demo_dir / "calibration.csv"),
                         "-o", str(tmp_path / "cal"))
    assert code == 0, err
    assert "Krippendorff's alpha of the scores" in out and "FLAG" in out
    assert (tmp_path / "cal" / "calibration_items.csv").exists()


def test_bad_rows_exit_2_naming_row_and_column_and_write_nothing(demo_dir: Path, cli: CLI,
                                                                 tmp_path: Path) -> None:
    form = demo_dir / "forms" / "ridenow-voice.json"
    src = pd.read_csv(demo_dir / "evaluations" / "ridenow-voice.csv", dtype=str,
                      keep_default_na=False)
    src.loc[3, "empathy"] = "9"
    bad = tmp_path / "bad.csv"
    src.to_csv(bad, index=False)
    code, _, err = cli("quality", "score", str(form), str(bad), "-o", str(tmp_path / "o"))
    assert code == 2
    assert f"{bad}, row 4, column 'empathy': expected a whole number from 0 to 4" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
    # an existing output folder is left as it was
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.txt").write_text("x")
    assert cli("quality", "score", str(form), str(bad), "-o", str(tmp_path / "o"))[0] == 2
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["keep.txt"]
    shutil.copy(form, tmp_path / "f.json")
    (tmp_path / "f.json").write_text((tmp_path / "f.json").read_text().replace(
        '"points": 4', '"points": "four"', 1))
    code, _, err = cli("quality", "score", str(tmp_path / "f.json"), str(bad), "-o",
                       str(tmp_path / "o2"))
    assert code == 2 and "f.json, key 'sections[1].items[0].points'" in err
    code, _, err = cli("quality", "score", str(form), str(tmp_path / "none.csv"), "-o",
                       str(tmp_path / "o3"))
    assert code == 2 and "none.csv: file not found" in err


def test_sample_size_states_the_formula(cli: CLI) -> None:
    code, out, _ = cli("quality", "sample-size", "--sd", "12", "--margin", "5",
                       "--population", "60")
    assert code == 0 and out.startswith("17 contacts") and "n0 = 22.13" in out
    code, out, _ = cli("quality", "sample-size", "--pass-rate", "0.5", "--margin", "0.1")
    assert code == 0 and out.startswith("97 contacts") and "n0 = 96.04" in out
    code, _, err = cli("quality", "sample-size", "--sd", "12", "--pass-rate", "0.5",
                       "--margin", "5")
    assert code == 2 and "not both" in err
    code, _, err = cli("quality", "sample-size", "--sd", "12", "--margin", "0")
    assert code == 2 and "--margin" in err
    code, _, err = cli("quality", "sample-size", "--pass-rate", "0.5", "--margin", "5")
    assert code == 2 and "below 1" in err


def test_sample_is_stratified_and_seeded(demo_dir: Path, cli: CLI, tmp_path: Path) -> None:
    contacts = pd.read_csv(demo_dir / "contacts.csv")
    few = contacts[contacts["agent_id"].isin(sorted(contacts["agent_id"].unique())[:20])]
    few.to_csv(tmp_path / "c.csv", index=False)
    args = ("quality", "sample", str(tmp_path / "c.csv"), "--sd", "12", "--margin", "5")
    assert cli(*args, "-o", str(tmp_path / "a.csv"), "--seed", "3")[0] == 0
    assert cli(*args, "-o", str(tmp_path / "b.csv"), "--seed", "3")[0] == 0
    a = (tmp_path / "a.csv").read_bytes()
    assert a == (tmp_path / "b.csv").read_bytes()
    s = pd.read_csv(tmp_path / "a.csv")
    n_agent = few.groupby("agent_id").size()
    from openwfm.quality import sample_size_mean

    expected = {a: sample_size_mean(12, 5, population=int(n)) for a, n in n_agent.items()}
    assert s.groupby("agent_id").size().to_dict() == expected
    few.drop(columns="queue").to_csv(tmp_path / "nq.csv", index=False)
    code, _, err = cli("quality", "sample", str(tmp_path / "nq.csv"), "--sd", "12",
                       "--margin", "5", "-o", str(tmp_path / "x.csv"))
    assert code == 2 and "column 'queue': missing column" in err
    assert not (tmp_path / "x.csv").exists()
