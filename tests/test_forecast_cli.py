"""`openwfm forecast` and `openwfm backtest` end to end: output shape, errors, no half-writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openwfm.forecast.synthetic import synthetic_history

COLUMNS = ["interval_start", "queue", "volume", "volume_lo_80", "volume_hi_80",
           "volume_lo_95", "volume_hi_95"]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """Three weeks of two queues, times with their Casablanca offset (Ramadan included)."""
    h = synthetic_history(2, 21, tz="Africa/Casablanca", start="2026-02-02", seed=21)
    h = h.drop(columns="handled")
    local = h["interval_start"].dt.tz_convert("Africa/Casablanca")
    text = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(
        r"(\d{2})(\d{2})$", r"\1:\2", regex=True)
    p = tmp_path_factory.mktemp("fc") / "history.csv"
    h.assign(interval_start=text).to_csv(p, index=False)
    return p


def test_forecast_writes_one_row_per_queue_and_future_interval(cli, history, tmp_path) -> None:
    out = tmp_path / "forecast.csv"
    code, stdout, stderr = cli("forecast", str(history), "--horizon", "2d", "-o", str(out),
                               "--tz", "Africa/Casablanca", "--holidays", "MA")
    assert code == 0, stderr
    f = pd.read_csv(out)
    assert list(f.columns) == [*COLUMNS, "aht_s"]
    assert len(f) == 2 * 2 * 48 and set(f["queue"]) == {"q000", "q001"}
    t = pd.to_datetime(f["interval_start"], utc=False)
    assert all(s.endswith("+00:00") for s in f["interval_start"])  # ISO 8601, UTC
    assert t.min() == pd.Timestamp("2026-02-23 00:00", tz="UTC")  # end of history
    b = f[COLUMNS[2:]].to_numpy()
    assert (b[:, 3] <= b[:, 1]).all() and (b[:, 1] <= b[:, 0]).all()
    assert (b[:, 0] <= b[:, 2]).all() and (b[:, 2] <= b[:, 4]).all()
    # the synthetic mean handle time is 240 s before local noon, 300 s after
    hour = t.dt.tz_convert("Africa/Casablanca").dt.hour
    for am, true in ((True, 240.0), (False, 300.0)):
        sel = (hour < 12) == am
        w = f.loc[sel, "volume"]
        assert (f.loc[sel, "aht_s"] * w).sum() / w.sum() == pytest.approx(true, rel=0.05)
    assert "wrote" in stdout


def test_forecast_of_naive_local_times_with_tz(cli, tmp_path) -> None:
    h = synthetic_history(1, 21, tz="Europe/Paris", start="2026-03-09", seed=22)
    local = h["interval_start"].dt.tz_convert("Europe/Paris").dt.strftime("%Y-%m-%d %H:%M")
    src = tmp_path / "naive.csv"
    h[["volume"]].assign(interval_start=local).to_csv(src, index=False)
    out = tmp_path / "f.csv"
    code, _, stderr = cli("forecast", str(src), "--horizon", "1d", "-o", str(out),
                          "--tz", "Europe/Paris")
    assert code == 0, stderr
    f = pd.read_csv(out)
    assert list(f.columns) == COLUMNS  # no aht_s in history -> none in the forecast
    assert set(f["queue"]) == {"all"}
    assert len(f) == 48


def test_special_days_file_is_applied(cli, history, tmp_path) -> None:
    special = tmp_path / "special.csv"
    special.write_text("date,multiplier,label\n2026-02-23,2.0,campaign\n")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert cli("forecast", str(history), "--horizon", "1d", "-o", str(a),
               "--tz", "Africa/Casablanca")[0] == 0
    assert cli("forecast", str(history), "--horizon", "1d", "-o", str(b),
               "--tz", "Africa/Casablanca", "--special-days", str(special))[0] == 0
    np.testing.assert_allclose(pd.read_csv(b)["volume"], 2 * pd.read_csv(a)["volume"])


@pytest.mark.parametrize(("rows", "row", "column"), [
    (["2026-03-02T08:00:00+00:00,5", "2026-03-02T08:30:00+00:00,-3"], 2, "volume"),
    (["2026-03-02T08:00:00+00:00,5", "2026-03-02T08:00:00+00:00,4"], 2, "interval_start"),
    (["2026-03-02T08:00:00+00:00,5", "not a time,4"], 2, "interval_start"),
    (["2026-03-02T08:00:00+00:00,5", "2026-03-02T08:30:00+00:00,4",
      "2026-03-02T09:00:00+00:00,4", "2026-03-02T09:15:00+00:00,4"], 4, "interval_start"),
])
def test_bad_history_names_the_row_and_writes_nothing(cli, tmp_path, rows, row, column) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("interval_start,volume\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out.csv"
    code, _, stderr = cli("forecast", str(src), "--horizon", "1d", "-o", str(out))
    assert code == 2
    text = " ".join(stderr.split())
    assert f"row {row}" in text and f"'{column}'" in text and "bad.csv" in text
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_bad_options_exit_nonzero_without_output(cli, history, tmp_path) -> None:
    out = tmp_path / "out.csv"
    for args in (["--horizon", "soon"], ["--tz", "Mars/Olympus"], ["--holidays", "XX"]):
        code, _, stderr = cli("forecast", str(history), "-o", str(out), *args)
        assert code == 2, args
        assert "error" in stderr
    assert not out.exists()


def test_backtest_prints_the_table_and_the_choice(cli, history, tmp_path) -> None:
    out = tmp_path / "acc.csv"
    code, stdout, stderr = cli("backtest", str(history), "--tz", "Africa/Casablanca",
                               "--origins", "3", "--step-days", "1", "--min-train-days", "15",
                               "--horizon-days", "5",
                               "-o", str(out))
    assert code == 0, stderr
    for name in ("rolling-origin backtest", "q000", "q001", "calendar_ew", "WAPE", "chosen",
                 "yes"):
        assert name in stdout
    acc = pd.read_csv(out)
    assert set(acc["method"]) == {"mean_4w", "median_4w", "calendar_4w", "calendar_ew",
                                  "combined_median"}
    assert set(acc["queue"]) == {"q000", "q001"}
    chosen = acc[acc["chosen"]]
    assert chosen.groupby("queue")["method"].nunique().eq(1).all()  # one method per queue
    assert set(chosen["horizon"]) == {"day 1", "days 2-5", "week 1", "all"}
    day1 = acc.loc[acc["horizon"] == "day 1", "n"]
    assert (day1 % 48 == 0).all() and (day1 >= 48).all()  # whole days, one per origin
    # every number is printed whole (no cell cut to fit 80 columns), and the choice is named
    assert "\u2026" not in stdout
    for _, row in acc[acc["horizon"] == "all"].iterrows():
        assert f"{row['bias']:+.3f}" in stdout and f"{row['wape']:.3f}" in stdout
    names = ", ".join(f"{q} {m}" for q, m in zip(chosen.drop_duplicates("queue")["queue"],
                                                 chosen.drop_duplicates("queue")["method"],
                                                 strict=True))
    assert f"chosen method: {names}" in " ".join(stdout.split())


def test_too_short_history_names_the_file_and_writes_nothing(cli, tmp_path) -> None:
    src = tmp_path / "short.csv"
    src.write_text("interval_start,volume\n2026-03-02T08:00:00+00:00,5\n"
                   "2026-03-02T08:30:00+00:00,6\n")
    out = tmp_path / "out.csv"
    for cmd in (["forecast", str(src), "--horizon", "1d", "-o", str(out)],
                ["backtest", str(src), "-o", str(out)]):
        code, _, stderr = cli(*cmd)
        assert code == 2, cmd
        text = " ".join(stderr.split())
        assert "short.csv" in "".join(stderr.split())  # a long path may wrap anywhere
        assert "'interval_start'" in text and "full" in text
    assert list(tmp_path.iterdir()) == [src]


def test_queues_on_different_interval_lengths_are_refused(cli, tmp_path) -> None:
    # queue a every 30 min, queue b every 15 min: each step of a is a multiple of 15 min,
    # so only the queue's own grid tells that a is not 15-minute data with gaps
    fmt = "%Y-%m-%dT%H:%M:%S+00:00"
    a = pd.date_range("2026-03-02", periods=3 * 48, freq="30min", tz="UTC")
    b = pd.date_range("2026-03-02", periods=3 * 96, freq="15min", tz="UTC")
    src = tmp_path / "mixed.csv"
    pd.concat([pd.DataFrame({"interval_start": a.strftime(fmt), "queue": "a", "volume": 4}),
               pd.DataFrame({"interval_start": b.strftime(fmt), "queue": "b", "volume": 1})]
              ).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, _, stderr = cli("forecast", str(src), "--horizon", "1d", "-o", str(out))
    assert code == 2
    text = " ".join(stderr.split())
    assert "queue 'a'" in text and "mixed interval lengths" in text and "'interval_start'" in text
    assert list(tmp_path.iterdir()) == [src]


def test_queue_zones_and_markets_per_queue(cli, tmp_path) -> None:
    # one multi-site file: a Casablanca queue and a Manila queue, each learned in its own
    # local time with its own holidays; the CLI equals the Python call with mappings
    from openwfm.forecast import forecast_queues

    ma = synthetic_history(1, 21, tz="Africa/Casablanca", start="2026-02-02", seed=41)
    ph = synthetic_history(1, 21, tz="Asia/Manila", start="2026-02-02", seed=42)
    h = pd.concat([ma.assign(queue="ma"), ph.assign(queue="ph")]).drop(columns="handled")
    src = tmp_path / "sites.csv"
    h.assign(interval_start=h["interval_start"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
             ).to_csv(src, index=False)
    out = tmp_path / "fc.csv"
    code, _, stderr = cli("forecast", str(src), "--horizon", "2d", "-o", str(out),
                          "--queue-tz", "ma=Africa/Casablanca", "--queue-tz", "ph=Asia/Manila",
                          "--queue-holidays", "ma=MA", "--holidays", "PH")
    assert code == 0, stderr
    zones = {"ma": "Africa/Casablanca", "ph": "Asia/Manila"}
    ref = forecast_queues(h, horizon="2d", tz=zones, market={"ma": "MA", "ph": "PH"})
    got = pd.read_csv(out)
    np.testing.assert_allclose(got["volume"], ref.frame["volume"].to_numpy())
    single = forecast_queues(h, horizon="2d", tz="UTC")
    assert not np.allclose(single.frame["volume"], ref.frame["volume"])  # zones matter
    for bad in (["--queue-tz", "xx=Asia/Manila"], ["--queue-tz", "ma"],
                ["--queue-tz", "ma=Mars/Base"]):
        code, _, stderr = cli("forecast", str(src), "--horizon", "1d", "-o",
                              str(tmp_path / "no.csv"), *bad)
        assert code == 2, bad
        text = " ".join(stderr.split())
        assert "--queue-tz" in text or "'Mars/Base' is not an IANA time zone" in text, bad
    assert not (tmp_path / "no.csv").exists()


def test_forecast_method_option_forces_a_method_and_refuses_an_unknown_one(
        cli, history, tmp_path) -> None:
    out = tmp_path / "forced.csv"
    code, stdout, stderr = cli("forecast", str(history), "--horizon", "1d", "-o", str(out),
                               "--tz", "Africa/Casablanca", "--method", "combined")
    assert code == 0, stderr
    assert "q000: combined" in stdout and "q001: combined" in stdout
    assert len(pd.read_csv(out)) == 2 * 48
    bad = tmp_path / "bad.csv"
    code, stdout, stderr = cli("forecast", str(history), "--horizon", "1d", "-o", str(bad),
                               "--method", "prophet")
    assert code == 2 and not bad.exists()
    assert "expected one of" in stdout + stderr and "prophet" in stdout + stderr
