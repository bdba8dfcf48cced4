"""`openwfm staff IN.csv -o OUT.csv` end to end (typer's CliRunner, plus one subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from openwfm.cli import app
from openwfm.errors import InputError

GOOD = (
    "interval_start,queue,volume,aht_s,patience_s,sl_target,sl_seconds,shrinkage\n"
    "2026-03-01T08:00:00Z,fr,100,180,,0.8,20,0.3\n"
    "2026-03-01T08:30:00Z,fr,100,180,300,0.8,20,0.3\n"
    "2026-03-01T09:00:00Z,fr,0,180,300,0.8,20,0.3\n"
)


def _run(tmp_path: Path, text: str) -> tuple[object, Path]:
    src = tmp_path / "in.csv"
    src.write_text(text)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["staff", str(src), "-o", str(out)])
    return result, out


def test_staff_writes_the_contract(tmp_path: Path) -> None:
    result, out = _run(tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == ["interval_start", "queue", "volume", "aht_s", "patience_s",
                                "sl_target", "sl_seconds", "shrinkage", "agents",
                                "service_level", "asa_s", "p_wait", "p_abandon", "occupancy",
                                "scheduled"]
    assert df["agents"].tolist() == [14, 13, 0]
    assert df["p_abandon"].tolist()[0] == ""  # empty without patience
    assert df["interval_start"][0] == "2026-03-01T08:00:00Z"
    assert float(df["scheduled"][0]) == pytest.approx(20.0)


def test_staff_evaluates_given_agents(tmp_path: Path) -> None:
    result, out = _run(tmp_path, "volume,aht_s,agents,sl_seconds\n100,180,14,20\n360,240,55,15\n")
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out)
    assert df["agents"].tolist() == [14, 55]
    assert df["service_level"].round(4).tolist() == [0.8884, 0.8459]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("volume,aht_s\n10,180\n-1,180\n", "row 2, column 'volume'"),
        ("volume,aht_s\n10,180\n10,0\n", "row 2, column 'aht_s'"),
        ("volume,aht_s,sl_target\n10,180,0.8\n10,180,1.2\n", "row 2, column 'sl_target'"),
        ("volume,aht_s\n10,180\n10,abc\n", "row 2, column 'aht_s'"),
        ("volume\n10\n", "column 'aht_s'"),
    ],
)
def test_bad_input_exits_non_zero_without_output(tmp_path: Path, text: str, where: str) -> None:
    result, out = _run(tmp_path, text)
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    assert where in str(result.exception)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]  # no temp file left behind


def test_console_script_prints_row_and_column_and_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("volume,aht_s\n10,180\n10,abc\n")
    out = tmp_path / "out.csv"
    proc = subprocess.run([sys.executable, "-c", "from openwfm.cli import main; main()",
                           "staff", str(src), "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    err = " ".join(proc.stderr.split())  # rich wraps long lines
    assert "row 2, column 'aht_s'" in err
    assert not out.exists()


def test_help_states_the_definitions() -> None:
    result = CliRunner().invoke(app, ["staff", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for phrase in ("answered within sl_seconds / contacts offered", "mean wait of answered",
                   "probability an arriving contact waits", "mean busy agents / agents"):
        assert phrase in text


def test_no_shrinkage_column_no_scheduled_and_every_channel(tmp_path: Path) -> None:
    t = "2026-03-02T08:00:00Z"  # an email row needs its time (issue 18)
    text = ("interval_start,queue,channel,volume,aht_s,patience_s,concurrency,sl_seconds,"
            "sl_target,note\n"
            f"{t},v,voice,100,180,,1,20,0.8,a\n"
            f"{t},va,voice,100,180,120,1,20,0.8,b\n"
            f"{t},c,chat,100,600,,3,60,0.8,c\n"
            f"{t},m,email,30,300,,1,14400,0.9,d\n")
    result, out = _run(tmp_path, text)
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out, keep_default_na=False)
    assert "scheduled" not in df.columns
    assert df["note"].tolist() == ["a", "b", "c", "d"]  # pass-through, order kept
    assert df["p_abandon"].tolist()[0] == "" and float(df["p_abandon"][1]) > 0
    assert df["p_abandon"].tolist()[2:] == ["", ""]  # chat without patience, email
    assert df["agents"].tolist()[0] == 14  # the REFERENCES.md R1 queue: 14 agents, SL 0.888


def test_bad_input_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous run\n")
    result, _ = _run(tmp_path, "volume,aht_s\n10,180\n-3,180\n")
    assert result.exit_code != 0
    assert out.read_text() == "previous run\n"


def test_semicolon_file_is_named_as_such(tmp_path: Path) -> None:
    result, out = _run(tmp_path, "volume;aht_s\n10;180\n")
    assert result.exit_code != 0 and not out.exists()
    assert "semicolon-separated" in str(result.exception)
