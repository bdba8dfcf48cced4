"""Call-log import (Anonymous Bank, generic CSV) and aggregation into interval tables."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BANK_LOG as BANK
from openwfm.errors import InputError
from openwfm.io.calllog import CALL_LOG_COLUMNS, aggregate_intervals, read_call_log

HEADER = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time"
          "\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n")
GOOD = ("AA0101\t1\t0\t2\tPS\t990201\t8:09:16\t8:09:22\t6\t8:09:22\t8:09:27\t5\tAGENT"
        "\t8:09:27\t8:10:00\t33\tDORIT\n")


@pytest.fixture(scope="module")
def raw() -> list[dict[str, str]]:
    """The bank file read with the csv module only: the independent reference."""
    assert BANK.exists(), f"shared data missing: {BANK}"
    with BANK.open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    return read_call_log(BANK)


@pytest.fixture(scope="module")
def agg(calls) -> pd.DataFrame:
    return aggregate_intervals(calls, interval_s=1800, answer_within_s=20, tz="Asia/Jerusalem")


def test_readme_counts(calls):
    # /work/shared/data/README.md: 33,344 records, 27,162 served, 5,904 abandoned, 278 phantom
    assert len(calls) == 33_344
    assert calls["outcome"].value_counts().to_dict() == {
        "served": 27_162, "abandoned": 5_904, "other": 278}
    served = calls[calls["outcome"] == "served"]
    assert round(served["handle_s"].mean()) == 176
    assert served["handle_s"].median() == 107
    assert round(calls.loc[calls["queued"], "wait_s"].mean()) == 76
    assert list(calls.columns[:7]) == list(CALL_LOG_COLUMNS)
    assert str(calls["arrival"].dtype) == "datetime64[ns, UTC]"
    assert calls["queue"].nunique() == 6
    assert calls["agent"].dropna().nunique() == 24  # 25 server names minus NO_SERVER


def test_fields_match_the_raw_file(calls, raw):
    out = calls["outcome"].map({"served": "AGENT", "abandoned": "HANG", "other": "PHANTOM"})
    assert out.tolist() == [r["outcome"] for r in raw]
    queued = [r["q_start"] != "0:00:00" for r in raw]
    assert calls["queued"].tolist() == queued
    assert calls["wait_s"].tolist() == [float(r["q_time"]) if q else 0.0
                                        for r, q in zip(raw, queued, strict=True)]
    assert calls["priority"].tolist() == [int(r["priority"]) for r in raw]
    assert calls["agent"].tolist() == [None if r["server"] == "NO_SERVER" else r["server"]
                                       for r in raw]


def test_arrival_is_local_jerusalem_time_in_utc(calls, raw):
    z = ZoneInfo("Asia/Jerusalem")
    for i in (0, 3, 10_000, 33_343):
        r = raw[i]
        clock = r["q_start"] if r["q_start"] != "0:00:00" else r["vru_exit"]
        local = datetime.strptime(r["date"] + " " + clock, "%y%m%d %H:%M:%S").replace(tzinfo=z)
        assert calls["arrival"].iloc[i] == pd.Timestamp(local.astimezone(UTC))
    # February 1999: Israel on standard time, UTC+2
    assert calls["arrival"].iloc[0] == pd.Timestamp("1999-02-01 05:02:56", tz="UTC")


def test_times_after_midnight_belong_to_the_next_day(calls, raw):
    crossing = [i for i, r in enumerate(raw)
                if r["ser_exit"] != "0:00:00" and r["ser_exit"].startswith("0:")
                and r["vru_entry"].startswith("23:")]
    assert len(crossing) >= 10
    for i in crossing:
        assert calls["service_start"].iloc[i] >= calls["vru_entry"].iloc[i] - pd.Timedelta("60s")
    i = next(i for i, r in enumerate(raw) if r["date"] == "990215"
             and r["vru_entry"] == "23:59:54" and r["ser_start"] == "0:00:26")
    # 1999-02-16 00:00:26 Jerusalem (UTC+2)
    assert calls["service_start"].iloc[i] == pd.Timestamp("1999-02-15 22:00:26", tz="UTC")
    assert calls["vru_s"].max() < 3600  # no call spans a fake extra day


def test_aggregated_totals_equal_raw_totals(agg, raw):
    served = [r for r in raw if r["outcome"] == "AGENT"]
    assert agg["volume"].sum() == 27_162 + 5_904
    assert agg["handled"].sum() == 27_162
    assert agg["abandoned"].sum() == 5_904
    assert agg["other"].sum() == 278
    h = agg["handled"].to_numpy()
    assert np.nansum(agg["aht_s"].to_numpy() * h) == pytest.approx(
        sum(float(r["ser_time"]) for r in served), rel=1e-12)
    waits = [float(r["q_time"]) if r["q_start"] != "0:00:00" else 0.0 for r in served]
    assert np.nansum(agg["asa_s"].to_numpy() * h) == pytest.approx(sum(waits), rel=1e-12)
    assert agg["answered_within"].sum() == sum(w <= 20 for w in waits)
    ok = agg["volume"] > 0
    assert (agg.loc[ok, "service_level"] == agg.loc[ok, "answered_within"]
            / agg.loc[ok, "volume"]).all()
    assert agg.loc[~ok, "service_level"].isna().all()
    # busy agent-seconds: all service time lies within the grid except what runs past its end
    busy_s = agg["busy_agents"].sum() * 1800
    total_s = sum(float(r["ser_time"]) for r in served)
    assert 0.999 * total_s <= busy_s <= total_s + 1e-6


def test_complete_grid_per_queue(agg, calls):
    assert str(agg["interval_start"].dtype) == "datetime64[ns, UTC]"
    sizes = agg.groupby("queue").size()
    n = sizes.iloc[0]
    assert (sizes == n).all()
    assert len(agg) == 6 * n
    for _, g in agg.groupby("queue"):
        steps = g["interval_start"].diff().dropna().dt.total_seconds()
        assert (steps == 1800).all()
        assert g["interval_start"].iloc[0] <= calls["arrival"].min()
        assert g["interval_start"].iloc[-1] + pd.Timedelta("30min") > calls["arrival"].max()
    # intervals without arrivals (nights, the Sabbath) are zero rows, not missing:
    # Jerusalem is UTC+2, so 30-minute local boundaries are 30-minute UTC boundaries
    busy_cells = set(zip(calls["queue"], calls["arrival"].dt.floor("30min"), strict=True))
    empty = agg[agg["volume"] + agg["other"] == 0]
    assert len(empty) == len(agg) - len(busy_cells) > len(agg) // 2
    assert not set(zip(empty["queue"], empty["interval_start"], strict=True)) & busy_cells
    assert (empty[["handled", "abandoned", "answered_within"]] == 0).all().all()


def test_agents_observed_on_the_bank(agg, calls):
    # independent: agents whose service of a queue's call overlaps the interval
    c = calls[(calls["outcome"] == "served") & calls["agent"].notna()]
    t0 = pd.Timestamp("1999-02-01 08:00", tz="UTC")
    t1 = t0 + pd.Timedelta("30min")
    start = c["service_start"].fillna(c["arrival"] + pd.to_timedelta(c["wait_s"], unit="s"))
    end = start + pd.to_timedelta(c["handle_s"], unit="s")
    live = c[(start < t1) & (end > t0)]
    row = agg[agg["interval_start"] == t0].set_index("queue")
    for q, n in live.groupby("queue")["agent"].nunique().items():
        assert row.loc[q, "agents_observed"] == n
    assert row["agents_observed"].sum() >= live["agent"].nunique()


def bank_file(tmp_path: Path, *rows: str) -> Path:
    p = tmp_path / "bank.tsv"
    p.write_text(HEADER + "".join(rows))
    return p


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("vru_entry", "7:61:00", "H:MM:SS"), ("q_exit", "25:00:00", "within a day"),
     ("q_start", "8:09", "H:MM:SS"), ("ser_exit", "8:1O:00", "H:MM:SS"),
     ("ser_start", "108:09:27", "H:MM:SS"),
     ("date", "990230", "yymmdd"), ("outcome", "BUSY", "AGENT, HANG or PHANTOM"),
     ("priority", "1.5", "integer priority"), ("q_time", "abc", "expected a number"),
     ("ser_time", "-4", ">= 0"), ("type", "", "service type"),
     ("vru_entry", "0:00:00", "entered the IVR")],
)
def test_bank_bad_field_names_row_and_column(tmp_path, field, value, match):
    cols = HEADER.strip().split("\t")
    bad = GOOD.rstrip("\n").split("\t")
    bad[cols.index(field)] = value
    p = bank_file(tmp_path, GOOD, GOOD, "\t".join(bad) + "\n")
    with pytest.raises(InputError, match=match) as info:
        read_call_log(p)
    assert (info.value.location.file, info.value.location.row,
            info.value.location.column) == ("bank.tsv", 3, field)


def test_bank_missing_column(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text(HEADER.replace("\tserver", "") + GOOD.rsplit("\t", 1)[0] + "\n")
    with pytest.raises(InputError, match="missing column") as info:
        read_call_log(p)
    assert info.value.location.column == "server"


def test_bank_dst_overlap_is_an_error(tmp_path):
    # Jerusalem fell back on 1999-09-03 at 02:00 (IDT -> IST): 01:30 happened twice
    row = GOOD.replace("990201", "990903").replace("8:09:", "1:30:")
    with pytest.raises(InputError, match="DST") as info:
        read_call_log(bank_file(tmp_path, row))
    assert info.value.location.row == 1


def generic(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "log.csv"
    p.write_text(text)
    return p


def test_generic_log_with_mapping_and_offsets(tmp_path):
    p = generic(tmp_path, "Start,Skill,Result,Queue Time,Talk,Agent,Prio\n"
                          "2026-03-29T01:59:50+01:00,fr,Answered,0:15,4:00,amina,1\n"
                          "2026-03-29T03:00:10+02:00,fr,Abandoned,40,,,\n"
                          "2026-03-29T03:01:00+02:00,nl,other,0,,,2\n")
    m = {"Start": "arrival", "Skill": "queue", "Result": "outcome", "Queue Time": "wait_s",
         "Talk": "handle_s", "Agent": "agent", "Prio": "priority"}
    c = read_call_log(p, format="csv", mapping=m, tz="Europe/Paris")
    assert c["arrival"].tolist() == [pd.Timestamp("2026-03-29 00:59:50", tz="UTC"),
                                     pd.Timestamp("2026-03-29 01:00:10", tz="UTC"),
                                     pd.Timestamp("2026-03-29 01:01:00", tz="UTC")]
    assert c["outcome"].tolist() == ["served", "abandoned", "other"]
    assert c["wait_s"].tolist() == [15.0, 40.0, 0.0]
    assert c["handle_s"].iloc[0] == 240.0 and np.isnan(c["handle_s"].iloc[1:]).all()
    assert c["agent"].tolist() == ["amina", None, None]
    assert c["priority"].iloc[0] == 1 and pd.isna(c["priority"].iloc[1])
    assert c["queued"].tolist() == [True, True, False]
    assert c["service_start"].iloc[0] == pd.Timestamp("2026-03-29 01:00:05", tz="UTC")


def test_generic_naive_times_across_casablanca_ramadan_change(tmp_path):
    # 2026-02-15 03:00 local (UTC+1) -> 02:00 local (UTC+0): 02:00-03:00 happens twice
    p = generic(tmp_path, "arrival,outcome,wait_s,handle_s\n"
                          "2026-02-15 01:30:00,served,5,100\n2026-02-15 03:30:00,served,5,100\n")
    c = read_call_log(p, format="csv", tz="Africa/Casablanca")
    assert c["arrival"].tolist() == [pd.Timestamp("2026-02-15 00:30", tz="UTC"),
                                     pd.Timestamp("2026-02-15 03:30", tz="UTC")]
    amb = generic(tmp_path, "arrival,outcome,wait_s,handle_s\n"
                            "2026-02-15 01:30:00,served,5,100\n2026-02-15 02:30:00,served,5,100\n")
    with pytest.raises(InputError, match="happens twice") as info:
        read_call_log(amb, format="csv", tz="Africa/Casablanca")
    assert (info.value.location.row, info.value.location.column) == (2, "arrival")
    gap = generic(tmp_path, "arrival,outcome,wait_s,handle_s\n2026-03-22 02:15:00,served,5,100\n")
    with pytest.raises(InputError, match="does not exist") as info:
        read_call_log(gap, format="csv", tz="Africa/Casablanca")
    assert info.value.location.row == 1


@pytest.mark.parametrize(
    ("text", "row", "column", "match"),
    [("2026-01-05T08:00Z,served,5,\n", 2, "handle_s", "needs its handle time"),
     ("2026-01-05T08:00Z,busy,5,10\n", 2, "outcome", "served \\(answered\\), abandoned"),
     ("2026-01-05T08:00Z,served,-5,10\n", 2, "wait_s", ">= 0"),
     ("yesterday,served,5,10\n", 2, "arrival", "ISO 8601"),
     ("2026-01-05T08:00Z,served,5,ten\n", 2, "handle_s", "got 'ten'")],
)
def test_generic_bad_rows(tmp_path, text, row, column, match):
    p = generic(tmp_path, "arrival,outcome,wait_s,handle_s\n2026-01-05T07:00Z,served,1,1\n" + text)
    with pytest.raises(InputError, match=match) as info:
        read_call_log(p, format="csv")
    assert (info.value.location.row, info.value.location.column) == (row, column)


def test_generic_missing_column_and_unknown_format(tmp_path):
    p = generic(tmp_path, "arrival,outcome\n2026-01-05T07:00Z,served\n")
    with pytest.raises(InputError, match="missing required column 'wait_s'"):
        read_call_log(p, format="csv")
    with pytest.raises(InputError, match="unknown call-log format"):
        read_call_log(p, format="avaya")  # type: ignore[arg-type]


def toy(arrivals: list[str], outcome: list[str], wait: list[float], handle: list[float],
        agent: list[str | None], queue: str | list[str] = "q") -> pd.DataFrame:
    return pd.DataFrame({"arrival": pd.to_datetime(arrivals, utc=True), "queue": queue,
                         "outcome": outcome, "wait_s": wait, "handle_s": handle,
                         "agent": agent})


def test_service_spanning_intervals_busy_and_agents():
    # one 45-minute service from 09:10 to 09:55 on 15-minute intervals
    c = toy(["2026-01-05 09:09:00", "2026-01-05 09:50:00"], ["served", "served"], [60.0, 0.0],
            [2700.0, 60.0], ["a", "b"])
    agg = aggregate_intervals(c, interval_s=900)
    assert agg["interval_start"].dt.strftime("%H:%M").tolist() == ["09:00", "09:15", "09:30",
                                                                   "09:45"]
    assert agg["busy_agents"].tolist() == pytest.approx([300 / 900, 1, 1, (600 + 60) / 900])
    assert agg["agents_observed"].tolist() == [1, 1, 1, 2]
    assert agg["volume"].tolist() == [1, 0, 0, 1]


def test_grid_follows_local_boundaries():
    # Asia/Kolkata is UTC+05:30: hourly intervals start at :30 UTC
    c = toy(["2026-01-05 03:40", "2026-01-05 05:10"], ["served", "abandoned"], [1.0, 9.0],
            [10.0, np.nan], ["a", None])
    agg = aggregate_intervals(c, interval_s=3600, tz="Asia/Kolkata")
    assert agg["interval_start"].tolist() == [pd.Timestamp("2026-01-05 03:30", tz="UTC"),
                                              pd.Timestamp("2026-01-05 04:30", tz="UTC")]
    assert agg["volume"].tolist() == [1, 1]


def test_grid_across_new_york_fall_back():
    c = toy(["2026-11-01 04:10", "2026-11-01 05:10", "2026-11-01 06:10"],
            ["served"] * 3, [0.0] * 3, [10.0] * 3, ["a"] * 3)
    agg = aggregate_intervals(c, interval_s=3600, tz="America/New_York")
    local = agg["interval_start"].dt.tz_convert("America/New_York").dt.strftime("%H:%M %z")
    assert local.tolist() == ["00:00 -0400", "01:00 -0400", "01:00 -0500"]
    assert agg["volume"].tolist() == [1, 1, 1]


def test_aggregate_rejects_bad_options():
    c = toy(["2026-01-05 09:09"], ["served"], [1.0], [1.0], ["a"])
    with pytest.raises(InputError, match="divide an hour"):
        aggregate_intervals(c, interval_s=7 * 60)
    with pytest.raises(InputError, match="missing column"):
        aggregate_intervals(c.drop(columns="wait_s"))
    with pytest.raises(InputError, match="expected outcome") as info:
        aggregate_intervals(c.assign(outcome="ok"))
    assert info.value.location.row == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 86_399), st.sampled_from(["served", "abandoned",
                                                                    "other"]),
                          st.floats(0, 600), st.floats(0, 3600), st.sampled_from("abc"),
                          st.sampled_from(["x", "y"])), min_size=1, max_size=60),
       st.sampled_from([900, 1800, 3600]))
def test_aggregation_preserves_totals(rows, interval_s):
    t0 = pd.Timestamp("2026-02-15 00:00", tz="UTC")
    c = pd.DataFrame({
        "arrival": [t0 + pd.Timedelta(seconds=r[0]) for r in rows],
        "outcome": [r[1] for r in rows], "wait_s": [r[2] for r in rows],
        "handle_s": [r[3] if r[1] == "served" else np.nan for r in rows],
        "agent": [r[4] if r[1] == "served" else None for r in rows],
        "queue": [r[5] for r in rows]})
    agg = aggregate_intervals(c, interval_s=interval_s, tz="Africa/Casablanca")
    served = c["outcome"] == "served"
    assert agg["handled"].sum() == served.sum()
    assert agg["volume"].sum() == (c["outcome"] != "other").sum()
    assert np.nansum(agg["aht_s"] * agg["handled"]) == pytest.approx(c["handle_s"].sum())
    assert agg["busy_agents"].sum() * interval_s <= c["handle_s"].sum() + 1e-6
    sizes = agg.groupby("queue").size()
    assert (sizes == sizes.iloc[0]).all()
    assert ((agg["agents_observed"] >= 0) & (agg["agents_observed"] <= 3)).all()
    assert agg["service_level"].dropna().between(0, 1).all()


def test_bank_log_written_as_csv_reads_back_identically(calls, agg, tmp_path):
    p = tmp_path / "calls.csv"
    calls.to_csv(p, index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00")
    back = read_call_log(p, format="csv")
    for col in ("arrival", "queue", "outcome", "wait_s", "agent", "priority", "queued"):
        pd.testing.assert_series_equal(back[col], calls[col], check_dtype=False)
    served = calls["outcome"] == "served"
    assert back.loc[served, "service_start"].equals(
        calls.loc[served, "service_start"].fillna(
            calls["arrival"] + pd.to_timedelta(calls["wait_s"], unit="s")))
    again = aggregate_intervals(back, interval_s=1800, answer_within_s=20, tz="Asia/Jerusalem")
    pd.testing.assert_frame_equal(again, agg)


def test_generic_queued_flag_is_validated(tmp_path):
    p = generic(tmp_path, "arrival,outcome,wait_s,handle_s,queued\n"
                          "2026-01-05T07:00Z,served,0,5,true\n2026-01-05T07:01Z,served,0,5,maybe\n")
    with pytest.raises(InputError, match="true or false") as info:
        read_call_log(p, format="csv")
    assert (info.value.location.row, info.value.location.column) == (2, "queued")


def test_bank_dst_gap_names_the_arrival_column(tmp_path):
    # Jerusalem sprang forward on 1999-04-02 at 02:00: 02:30 did not exist. A call that did
    # not queue arrives at its IVR exit, so the error names vru_exit
    cols = HEADER.strip().split("\t")
    row = GOOD.rstrip("\n").split("\t")
    row[cols.index("date")] = "990402"
    for c, v in [("vru_entry", "1:59:50"), ("vru_exit", "2:30:05"), ("q_start", "0:00:00"),
                 ("q_exit", "0:00:00"), ("q_time", "0"), ("ser_start", "0:00:00"),
                 ("ser_exit", "0:00:00"), ("outcome", "HANG"), ("ser_time", "0")]:
        row[cols.index(c)] = v
    with pytest.raises(InputError, match="does not exist or happens twice") as info:
        read_call_log(bank_file(tmp_path, GOOD, "\t".join(row) + "\n"))
    assert (info.value.location.row, info.value.location.column) == (2, "vru_exit")


def test_short_abandons_are_a_named_option(calls):
    base = aggregate_intervals(calls, interval_s=3600, tz="Asia/Jerusalem")
    assert "short_abandoned" not in base.columns
    agg = aggregate_intervals(calls, interval_s=3600, tz="Asia/Jerusalem", short_abandon_s=5)
    aband = calls["outcome"] == "abandoned"
    short = int((aband & (calls["wait_s"] < 5)).sum())
    assert agg["short_abandoned"].sum() == short > 0
    assert agg["abandoned"].sum() == 5_904 - short
    assert agg["volume"].sum() == base["volume"].sum() - short
    assert (agg["handled"] == base["handled"]).all()
    ok = agg["volume"] > 0
    assert (agg.loc[ok, "service_level"] >= base.loc[ok, "service_level"]).all()
    with pytest.raises(InputError, match="short_abandon_s"):
        aggregate_intervals(calls, short_abandon_s=-1)


def test_agents_and_busy_time_match_a_brute_force_count(calls, agg):
    """Every (queue, interval): distinct serving agents and busy seconds, by plain loops."""
    origin = agg["interval_start"].min()
    n = agg.groupby("queue").size().iloc[0]
    agents: dict[tuple[str, int], set[str]] = {}
    busy: dict[tuple[str, int], float] = {}
    served = calls[calls["outcome"] == "served"]
    start = served["service_start"].fillna(
        served["arrival"] + pd.to_timedelta(served["wait_s"], unit="s"))
    for q, a, s0, d in zip(served["queue"], served["agent"],
                           (start - origin).dt.total_seconds(), served["handle_s"],
                           strict=True):
        s1 = s0 + d
        k = max(int(s0 // 1800), 0)
        while k < n and (k * 1800 < s1 or (d == 0 and k == int(s0 // 1800))):
            lo, hi = max(s0, k * 1800.0), min(s1, (k + 1) * 1800.0)
            busy[(q, k)] = busy.get((q, k), 0.0) + max(hi - lo, 0.0)
            if a is not None:
                agents.setdefault((q, k), set()).add(a)
            k += 1
    idx = ((agg["interval_start"] - origin) // pd.Timedelta("30min")).to_numpy()
    for q, k, n_agents, b in zip(agg["queue"], idx, agg["agents_observed"],
                                 agg["busy_agents"], strict=True):
        assert n_agents == len(agents.get((q, k), ())), (q, k)
        assert b * 1800 == pytest.approx(busy.get((q, k), 0.0), abs=1e-6), (q, k)


def test_absurd_span_is_refused_not_allocated():
    c = toy(["1900-01-01 09:00", "2026-01-05 09:00"], ["served"] * 2, [0.0] * 2, [1.0] * 2,
            ["a", "b"], queue=["q1", "q2"])
    with pytest.raises(InputError, match="too large a grid"):
        aggregate_intervals(c, interval_s=300)
