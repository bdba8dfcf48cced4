"""`openwfm import calls|intervals` end to end: outputs, summary, exit codes, no half-writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import BANK_LOG as BANK
from openwfm.io.calllog import read_call_log
from openwfm.io.intervals import read_interval_csv
from openwfm.io.patience import kaplan_meier_patience


@pytest.fixture(scope="module")
def bank_run(cli, tmp_path_factory) -> tuple[Path, Path, Path, str]:
    assert BANK.exists(), f"shared data missing: {BANK}"
    d = tmp_path_factory.mktemp("bank")
    out, calls_out, km = d / "bank_intervals.csv", d / "calls.csv", d / "km.csv"
    code, stdout, stderr = cli("import", "calls", str(BANK), "-o", str(out),
                               "--calls-out", str(calls_out), "--patience-out", str(km))
    assert code == 0, stderr
    return out, calls_out, km, stdout


def test_patience_curve_output(bank_run):
    km = pd.read_csv(bank_run[2])
    assert set(km["queue"]) == {"PS", "PE", "IN", "NE", "NW", "TT", "all"}
    curve = kaplan_meier_patience(read_call_log(BANK))
    everyone = km[km["queue"] == "all"]
    assert everyone["time_s"].tolist() == curve.time_s.tolist()
    assert everyone["survival"].to_numpy() == pytest.approx(curve.survival, rel=1e-12)
    assert (km["ci_low"] <= km["survival"] + 1e-12).all()
    assert (km["survival"] <= km["ci_high"] + 1e-12).all()


def test_import_calls_on_the_bank(bank_run):
    out, calls_out, _, stdout = bank_run
    # the forecaster reads the output back with the interval reader
    t = read_interval_csv(out)
    assert t.interval_s == 1800
    f = t.frame
    assert f["volume"].sum() == 27_162 + 5_904
    assert f["handled"].sum() == 27_162
    assert f["abandoned"].sum() == 5_904
    assert f["other"].sum() == 278
    assert set(t.queues) == {"PS", "PE", "IN", "NE", "NW", "TT"}
    # the summary: totals, AHT 176 s (README), patience with its interval
    assert "33,066" in stdout and "27,162" in stdout and "5,904" in stdout
    assert "176" in stdout and "patience" in stdout and "95% CI" in stdout
    assert "Asia/Jerusalem" in stdout
    calls = pd.read_csv(calls_out)
    assert len(calls) == 33_344
    assert calls["outcome"].value_counts()["abandoned"] == 5_904


def test_import_calls_interval_and_threshold(cli, tmp_path):
    part = tmp_path / "bank_part.tsv"
    part.write_text("".join(BANK.read_text().splitlines(keepends=True)[:4001]))
    out = tmp_path / "h.csv"
    code, _, err = cli("import", "calls", str(part), "-o", str(out), "--interval", "1h",
                       "--answer-within", "30", "--tz", "Asia/Jerusalem")
    assert code == 0, err
    t = read_interval_csv(out)
    assert t.interval_s == 3600
    calls = read_call_log(part)
    assert len(calls) == 4000
    served = calls["outcome"] == "served"
    assert t.frame["answered_within"].sum() == (served & (calls["wait_s"] <= 30)).sum()


def test_bad_call_log_exits_2_and_writes_nothing(cli, tmp_path):
    lines = BANK.read_text().splitlines(keepends=True)[:6]
    cols = lines[0].rstrip("\n").split("\t")
    bad = lines[4].rstrip("\n").split("\t")
    bad[cols.index("q_time")] = "12s"
    lines[4] = "\t".join(bad) + "\n"
    src = tmp_path / "bank.tsv"
    src.write_text("".join(lines))
    out = tmp_path / "out.csv"
    out.write_text("previous")
    code, _, err = cli("import", "calls", str(src), "-o", str(out))
    assert code == 2
    assert "bank.tsv" in err and "row 4" in err and "'q_time'" in err and "'12s'" in err
    assert out.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.tsv", "out.csv"]


def test_generic_call_log_with_map(cli, tmp_path):
    src = tmp_path / "log.csv"
    src.write_text("Start,Skill,Result,Queue Time,Talk,Agent\n"
                   "2026-02-14 09:05:00,fr_voice,Answered,10,300,amina\n"
                   "2026-02-14 09:40:00,fr_voice,Abandoned,50,,\n"
                   "2026-02-16 09:05:00,fr_voice,Answered,25,200,omar\n")
    mp = tmp_path / "map.toml"
    mp.write_text('Start = "arrival"\nSkill = "queue"\nResult = "outcome"\n'
                  '"Queue Time" = "wait_s"\nTalk = "handle_s"\nAgent = "agent"\n')
    out = tmp_path / "iv.csv"
    code, _, err = cli("import", "calls", str(src), "--format", "csv", "--map", str(mp),
                       "--tz", "Africa/Casablanca", "-o", str(out))
    assert code == 0, err
    f = read_interval_csv(out).frame
    # 14 Feb is UTC+1 in Casablanca, 16 Feb (Ramadan) UTC+0: the grid follows local time
    first = f.loc[f["volume"] > 0, "interval_start"].tolist()
    assert first == [pd.Timestamp("2026-02-14 08:00", tz="UTC"),
                     pd.Timestamp("2026-02-14 08:30", tz="UTC"),
                     pd.Timestamp("2026-02-16 09:00", tz="UTC")]
    assert f["volume"].sum() == 3 and f["handled"].sum() == 2
    assert len(f) == (f["interval_start"].max() - f["interval_start"].min()) / pd.Timedelta(
        "30min") + 1


def test_import_intervals_with_map_and_tz(cli, tmp_path):
    src = tmp_path / "acd.csv"
    src.write_text("Interval;Skill;Calls Offered;AHT\n"
                   "2026-10-25 01:30;fr;10;180\n2026-10-25 02:00;fr;8;170\n"
                   "2026-10-25 02:30;fr;7;160\n2026-10-25 02:00;fr;6;150\n"
                   "2026-10-25 02:30;fr;5;140\n2026-10-25 03:00;fr;4;130\n")
    mp = tmp_path / "map.toml"
    mp.write_text('[columns]\nInterval = "interval_start"\nSkill = "queue"\n'
                  '"Calls Offered" = "volume"\nAHT = "aht_s"\n')
    out = tmp_path / "out.csv"
    code, stdout, err = cli("import", "intervals", str(src), "--map", str(mp), "--tz",
                            "Europe/Paris", "-o", str(out))
    assert code == 0, err
    text = out.read_text().splitlines()
    assert text[0] == "interval_start,queue,volume,aht_s"
    # Paris falls back at 03:00 CEST -> 02:00 CET: the second 02:00 and 02:30 are an hour later
    assert [line.split(",")[0] for line in text[1:]] == [
        "2026-10-24T23:30:00+00:00", "2026-10-25T00:00:00+00:00", "2026-10-25T00:30:00+00:00",
        "2026-10-25T01:00:00+00:00", "2026-10-25T01:30:00+00:00", "2026-10-25T02:00:00+00:00"]
    assert "fr" in stdout and "40" in stdout and "30 min" in stdout


@pytest.mark.parametrize(
    ("body", "args", "needle"),
    [("Interval;Calls Offered\n2026-01-05 08:00;1\n2026-01-05 08:30;2\n2026-01-05 08:45;3\n"
      "2026-01-05 09:15;1\n", ["--interval", "30m"], "row 3, column 'Interval'"),
     ("Interval;Calls Offered\n2026-03-29 01:30;1\n2026-03-29 02:30;2\n", [],
      "row 2, column 'Interval'"),
     ("Interval;Calls Offered\n2026-01-05 08:00;1\n2026-01-05 08:30;-2\n", [],
      "row 2, column 'Calls Offered'"),
     ("Interval;Calls Offered\n2026-01-05 08:00;1\n", ["--interval", "7x"], "--interval")],
)
def test_import_intervals_errors(cli, tmp_path, body, args, needle):
    src = tmp_path / "acd.csv"
    src.write_text(body)
    mp = tmp_path / "map.json"
    mp.write_text('{"Interval": "interval_start", "Calls Offered": "volume"}')
    out = tmp_path / "out.csv"
    code, _, err = cli("import", "intervals", str(src), "--map", str(mp), "--tz",
                       "Europe/Paris", "-o", str(out), *args)
    assert code == 2
    assert needle in " ".join(err.split())
    assert not out.exists()


def test_short_abandon_option(cli, tmp_path):
    src = tmp_path / "log.csv"
    src.write_text("arrival,outcome,wait_s,handle_s\n"
                   "2026-01-05T08:00:00Z,abandoned,2,\n2026-01-05T08:01:00Z,abandoned,30,\n"
                   "2026-01-05T08:02:00Z,served,5,100\n")
    out = tmp_path / "o.csv"
    code, stdout, err = cli("import", "calls", str(src), "--format", "csv", "-o", str(out),
                            "--short-abandon", "5")
    assert code == 0, err
    f = read_interval_csv(out, interval_s=1800).frame
    assert f[["volume", "abandoned", "short_abandoned"]].iloc[0].tolist() == [2.0, 1.0, 1.0]
    assert "50.0%" in stdout  # SL: 1 answered within 20 s of 2 offered


def test_import_calls_output_is_staffable_as_it_is(bank_run, cli, tmp_path):
    """Issue 10: the importer's own output goes straight into `openwfm staff`. Intervals
    where nothing was handled (no traffic, or every contact abandoned), or only contacts with
    no logged handle time, carry the queue's mean handle time and say so in aht_rule; the
    others keep their own mean."""
    out = bank_run[0]
    f = pd.read_csv(out)
    observed = f["aht_rule"] == "observed"
    assert (f.loc[observed, "handled"] > 0).all()
    assert not observed[f["handled"] == 0].any()
    assert set(f["aht_rule"]) == {"observed", "queue_mean"}
    assert f["aht_s"].notna().all()
    # the filled value is the queue's handled-weighted mean of the observed intervals
    ps = f[f["queue"] == "PS"]
    mean_ps = (ps["aht_s"] * ps["handled"]).sum() / ps["handled"].sum()
    assert ps.loc[~observed, "aht_s"].to_numpy() == pytest.approx(mean_ps, rel=1e-12)
    staffed = tmp_path / "staffed.csv"
    code, _, err = cli("staff", str(out), "-o", str(staffed))
    assert code == 0, err
    s = pd.read_csv(staffed)
    assert len(s) == len(f)
    assert (s.loc[f["volume"].to_numpy() == 0, "agents"] == 0).all()
