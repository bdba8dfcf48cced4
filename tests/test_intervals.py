"""Interval CSV reader/writer: parsing, time zones (DST, Morocco's Ramadan change), errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openwfm.errors import InputError
from openwfm.io.intervals import IntervalTable, read_interval_csv, write_interval_csv


def write(tmp_path: Path, text: str, name: str = "acd.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def utc(local: str, zone: str, fold: int = 0) -> pd.Timestamp:
    """Independent reference: zoneinfo's own conversion of a naive local time."""
    dt = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone), fold=fold)
    return pd.Timestamp(dt.astimezone(UTC))


def raises_at(path: Path, row: int | None, column: str | None, match: str, **kw) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        read_interval_csv(path, **kw)
    assert info.value.location.file == path.name
    assert info.value.location.row == row
    assert info.value.location.column == column
    return info.value


def test_offsets_and_z_parse_to_utc(tmp_path):
    p = write(tmp_path, "interval_start,queue,volume\n"
                        "2026-01-05T08:00:00+01:00,fr,10\n"
                        "2026-01-05T07:30:00Z,fr,4\n")
    t = read_interval_csv(p)
    assert isinstance(t, IntervalTable)
    assert str(t.frame["interval_start"].dtype) == "datetime64[ns, UTC]"
    assert list(t.frame["interval_start"]) == [pd.Timestamp("2026-01-05 07:00", tz="UTC"),
                                               pd.Timestamp("2026-01-05 07:30", tz="UTC")]
    assert t.interval_s == 1800
    assert t.source == "acd.csv"
    assert t.frame["volume"].dtype == float
    assert t.queues == ("fr",)
    assert t.span == (pd.Timestamp("2026-01-05 07:00", tz="UTC"),
                      pd.Timestamp("2026-01-05 08:00", tz="UTC"))


def test_mapping_dict_toml_and_json(tmp_path):
    p = write(tmp_path, "Interval;Skill;Calls Offered;AHT;Abandoned\n"
                        "2026-06-01 09:00;es_voice;12;3:05;1\n"
                        "2026-06-01 09:15;es_voice;15;0:02:50;0\n")
    mapping = {"Interval": "interval_start", "Skill": "queue", "Calls Offered": "volume",
               "AHT": "aht_s", "Abandoned": "abandoned"}
    toml = write(tmp_path, "[columns]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in mapping.items()),
                 "map.toml")
    js = write(tmp_path, json.dumps(mapping), "map.json")
    frames = [read_interval_csv(p, tz="America/Bogota", mapping=m).frame
              for m in (mapping, toml, js)]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0])
    f = frames[0]
    assert list(f.columns) == ["interval_start", "queue", "volume", "aht_s", "abandoned"]
    assert list(f["aht_s"]) == [185.0, 170.0]
    assert f["interval_start"].iloc[0] == utc("2026-06-01T09:00", "America/Bogota")
    assert read_interval_csv(p, tz="America/Bogota", mapping=mapping).interval_s == 900


def test_no_queue_column_uses_all_and_extra_columns_pass_through(tmp_path):
    p = write(tmp_path, "interval_start,volume,note\n2026-01-05T08:00Z,1,x\n2026-01-05T09:00Z,2,\n")
    f = read_interval_csv(p).frame
    assert set(f["queue"]) == {"all"}
    assert list(f["note"]) == ["x", ""]


def test_new_york_fall_back_resolved_from_order(tmp_path):
    rows = ["00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]
    p = write(tmp_path, "interval_start,queue,volume\n"
              + "".join(f"2026-11-01 {r},us,{i}\n" for i, r in enumerate(rows)))
    f = read_interval_csv(p, tz="America/New_York").frame
    seen: set[str] = set()
    expected = []
    for r in rows:
        expected.append(utc(f"2026-11-01T{r}", "America/New_York", fold=int(r in seen)))
        seen.add(r)
    assert list(f["interval_start"]) == expected
    assert list(f["volume"]) == [0, 1, 2, 3, 4, 5]
    assert f["interval_start"].diff().dropna().dt.total_seconds().eq(1800).all()


def test_fall_back_ambiguity_is_per_queue(tmp_path):
    p = write(tmp_path, "interval_start,queue,volume\n"
                        "2026-10-25 02:00,a,1\n2026-10-25 02:00,b,1\n"
                        "2026-10-25 02:00,a,2\n2026-10-25 02:00,b,2\n")
    f = read_interval_csv(p, tz="Europe/Paris").frame
    first, second = utc("2026-10-25T02:00", "Europe/Paris"), utc("2026-10-25T02:00",
                                                                  "Europe/Paris", fold=1)
    for q in ("a", "b"):
        sub = f[f["queue"] == q]
        assert list(sub["interval_start"]) == [first, second]
        assert list(sub["volume"]) == [1, 2]


def test_single_ambiguous_time_is_an_error(tmp_path):
    p = write(tmp_path, "interval_start,queue,volume\n"
                        "2026-10-25 01:00,fr,1\n2026-10-25 02:00,fr,1\n2026-10-25 03:00,fr,1\n")
    err = raises_at(p, 2, "interval_start", "happens twice", tz="Europe/Paris")
    assert "+0200" in str(err) and "+0100" in str(err)


@pytest.mark.parametrize(
    ("zone", "local"),
    [("America/New_York", "2026-03-08 02:30"), ("Europe/Paris", "2026-03-29 02:30"),
     ("Africa/Casablanca", "2026-03-22 02:30")],
)
def test_nonexistent_local_time_names_the_row(tmp_path, zone, local):
    p = write(tmp_path, f"interval_start,volume\n{local[:11]}01:30,1\n{local},2\n")
    raises_at(p, 2, "interval_start", "does not exist", tz=zone)


def test_casablanca_ramadan_change_2026(tmp_path):
    z = ZoneInfo("Africa/Casablanca")
    # zoneinfo: UTC+1 until 2026-02-15 03:00 local, then UTC+0 until 2026-03-22 02:00 local
    assert datetime(2026, 2, 14, 12, tzinfo=z).utcoffset().total_seconds() == 3600
    assert datetime(2026, 3, 1, 12, tzinfo=z).utcoffset().total_seconds() == 0
    assert datetime(2026, 3, 23, 12, tzinfo=z).utcoffset().total_seconds() == 3600
    rows = ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
    p = write(tmp_path, "interval_start,queue,volume\n"
              + "".join(f"2026-02-15 {r},fr_voice,{i}\n" for i, r in enumerate(rows)))
    f = read_interval_csv(p, tz="Africa/Casablanca").frame
    assert f["interval_start"].diff().dropna().dt.total_seconds().eq(1800).all()
    assert f["interval_start"].iloc[0] == pd.Timestamp("2026-02-15 00:30", tz="UTC")
    assert f["interval_start"].iloc[-1] == pd.Timestamp("2026-02-15 03:00", tz="UTC")
    # the end of Ramadan: 02:00 -> 03:00, so 01:30 then 03:00 are 30 min apart
    p2 = write(tmp_path, "interval_start,volume\n2026-03-22 01:30,1\n2026-03-22 03:00,1\n", "b.csv")
    t = read_interval_csv(p2, tz="Africa/Casablanca")
    assert t.interval_s == 1800
    assert t.frame["interval_start"].iloc[1] == utc("2026-03-22T03:00", "Africa/Casablanca")


def test_interval_inferred_with_gaps_and_given(tmp_path):
    p = write(tmp_path, "interval_start,queue,volume\n"
                        "2026-01-05T08:00Z,a,1\n2026-01-05T08:15Z,a,1\n2026-01-05T09:00Z,a,1\n"
                        "2026-01-05T08:00Z,b,1\n2026-01-05T08:15Z,b,1\n")
    assert read_interval_csv(p).interval_s == 900
    assert read_interval_csv(p, interval_s=300).interval_s == 300


def test_single_interval_needs_interval_s(tmp_path):
    p = write(tmp_path, "interval_start,volume\n2026-01-05T08:00Z,1\n")
    raises_at(p, None, "interval_start", "cannot infer the interval length")
    assert read_interval_csv(p, interval_s=1800).interval_s == 1800


def test_mixed_interval_lengths_name_the_row(tmp_path):
    p = write(tmp_path, "Interval,Calls\n" + "".join(
        f"2026-01-05T{t}Z,1\n" for t in ["08:00", "08:30", "09:00", "09:15", "09:45", "10:15"]))
    mapping = {"Interval": "interval_start", "Calls": "volume"}
    raises_at(p, 4, "Interval", "mixed interval lengths", mapping=mapping)
    raises_at(p, 2, "Interval", "expected steps of 60 min", mapping=mapping, interval_s=3600)


def test_unparseable_time(tmp_path):
    p = write(tmp_path, "interval_start,volume\n2026-01-05T08:00Z,1\n05/01/2026 8h30,1\n")
    raises_at(p, 2, "interval_start", "expected an ISO 8601 date-time")


def test_empty_time(tmp_path):
    p = write(tmp_path, "interval_start,volume\n2026-01-05T08:00Z,1\n,1\n")
    raises_at(p, 2, "interval_start", "empty cell")


def test_naive_time_without_tz(tmp_path):
    p = write(tmp_path, "interval_start,volume\n2026-01-05T08:00Z,1\n2026-01-05 08:30,1\n")
    raises_at(p, 2, "interval_start", "no UTC offset")


def test_duplicated_queue_interval(tmp_path):
    p = write(tmp_path, "interval_start,queue,volume\n"
                        "2026-01-05T08:00Z,a,1\n2026-01-05T08:00Z,b,1\n"
                        "2026-01-05T09:00+01:00,a,1\n")
    err = raises_at(p, 3, "interval_start", "duplicated interval")
    assert "row 1" in str(err)


def test_negative_volume(tmp_path):
    p = write(tmp_path, "interval_start,volume\n2026-01-05T08:00Z,1\n2026-01-05T08:30Z,-3\n")
    raises_at(p, 2, "volume", "expected a number >= 0")


def test_text_in_number_column_names_vendor_column(tmp_path):
    p = write(tmp_path, "interval_start,volume,Handle Time\n"
                        "2026-01-05T08:00Z,1,180\n2026-01-05T08:30Z,1,abc\n")
    raises_at(p, 2, "Handle Time", "got 'abc'", mapping={"Handle Time": "aht_s"})


def test_empty_volume_is_an_error_empty_optional_is_nan(tmp_path):
    p = write(tmp_path, "interval_start,volume,aht_s\n2026-01-05T08:00Z,1,\n2026-01-05T08:30Z,,1\n")
    raises_at(p, 2, "volume", "empty cell")
    ok = write(tmp_path, "interval_start,volume,aht_s\n2026-01-05T08:00Z,1,\n"
                         "2026-01-05T08:30Z,2,1\n", "ok.csv")
    assert read_interval_csv(ok).frame["aht_s"].isna().tolist() == [True, False]


def test_blank_lines_keep_row_numbers(tmp_path):
    p = write(tmp_path, "interval_start,volume\n2026-01-05T08:00Z,1\n\n2026-01-05T09:00Z,x\n")
    raises_at(p, 3, "volume", "got 'x'")


def test_missing_required_column(tmp_path):
    p = write(tmp_path, "Interval,Offered\n2026-01-05T08:00Z,1\n")
    raises_at(p, None, "volume", "missing required column 'volume'",
              mapping={"Interval": "interval_start"})
    err = raises_at(p, None, "volume", "which is not in the file",
                    mapping={"Interval": "interval_start", "Calls Offered": "volume"})
    assert "Offered" in str(err)


def test_unknown_zone_and_bad_mapping_file(tmp_path):
    p = write(tmp_path, "interval_start,volume\n2026-01-05 08:00,1\n")
    raises_at(p, None, None, "unknown time zone", tz="Mars/Olympus")
    bad = write(tmp_path, "columns = [1, 2", "map.toml")
    with pytest.raises(InputError, match="cannot parse the column mapping") as info:
        read_interval_csv(p, tz="UTC", mapping=bad)
    assert info.value.location.file == "map.toml"


def test_missing_file():
    with pytest.raises(InputError, match="file not found"):
        read_interval_csv("/nonexistent/acd.csv")


def test_write_local_offsets_and_read_back(tmp_path):
    starts = pd.date_range("2026-10-24 22:00", periods=10, freq="30min", tz="UTC")
    df = pd.DataFrame({"interval_start": starts, "queue": "fr", "volume": range(10)})
    df["volume"] = df["volume"].astype(float)
    out = write_interval_csv(df, tmp_path / "o.csv", tz="Europe/Paris")
    text = out.read_text()
    assert "2026-10-25T02:30:00+02:00" in text and "2026-10-25T02:30:00+01:00" in text
    back = read_interval_csv(out)
    pd.testing.assert_frame_equal(back.frame, df)
    assert not list(tmp_path.glob(".*.tmp"))


@settings(max_examples=25, deadline=None)
@given(volumes=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=30),
       step_min=st.sampled_from([15, 30, 60]))
def test_roundtrip_property(tmp_path_factory, volumes, step_min):
    tmp = tmp_path_factory.mktemp("rt")
    starts = pd.date_range("2026-03-28 20:00", periods=len(volumes), freq=f"{step_min}min",
                           tz="UTC")
    df = pd.DataFrame({"interval_start": starts, "queue": "q", "volume": volumes})
    back = read_interval_csv(write_interval_csv(df, tmp / "x.csv", tz="Europe/Paris"))
    assert back.interval_s == step_min * 60
    pd.testing.assert_frame_equal(back.frame, df)


def test_date_only_is_naive_not_an_offset(tmp_path):
    # "2026-01-05" ends in "-05" but carries no offset: it is local midnight in `tz`
    p = write(tmp_path, "interval_start,volume\n2026-01-05,100\n2026-01-06,90\n")
    t = read_interval_csv(p, tz="America/New_York")
    assert t.interval_s == 86400
    assert t.frame["interval_start"].iloc[0] == utc("2026-01-05T00:00", "America/New_York")
    raises_at(p, 1, "interval_start", "no UTC offset")


def test_number_formats(tmp_path):
    p = write(tmp_path, 'interval_start,volume,aht_s\n2026-01-05T08:00Z," 1234 ",1:02:03\n'
                        "2026-01-05T08:30Z,12.5,  90 \n")
    f = read_interval_csv(p).frame
    assert f["volume"].tolist() == [1234.0, 12.5]
    assert f["aht_s"].tolist() == [3723.0, 90.0]
    # "1,234" is 1234 in one locale and 1.234 in another: refused, never guessed (issue 18)
    sep = write(tmp_path, 'interval_start,volume\n2026-01-05T08:00Z,"1,234"\n'
                          "2026-01-05T08:30Z,12\n", "sep.csv")
    raises_at(sep, 1, "volume", "thousands separator")
    # minutes and seconds of a duration are below 60: 1:75 is not 135 s
    clock = write(tmp_path, "interval_start,volume,aht_s\n2026-01-05T08:00Z,3,1:75\n"
                            "2026-01-05T08:30Z,3,1:00\n", "clock.csv")
    raises_at(clock, 1, "aht_s", "below 60")
    bad = write(tmp_path, "interval_start,volume\n2026-01-05T08:00Z,1\n2026-01-05T08:30Z,inf\n",
                "inf.csv")
    raises_at(bad, 2, "volume", "finite")


def test_excel_workbook(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Interval", "Skill", "Calls Offered", "AHT"])
    ws.append([datetime(2026, 1, 5, 8, 0), "fr", 10, 180.5])
    ws.append([datetime(2026, 1, 5, 8, 30), "fr", 8, 170])
    ws.append([None, None, None, None])
    ws.append([datetime(2026, 1, 5, 9, 0), "fr", "abc", 170])
    p = tmp_path / "acd.xlsx"
    wb.save(p)
    m = {"Interval": "interval_start", "Skill": "queue", "Calls Offered": "volume",
         "AHT": "aht_s"}
    raises_at(p, 4, "Calls Offered", "got 'abc'", tz="Africa/Casablanca", mapping=m)
    ws.delete_rows(4, 2)
    wb.save(p)
    t = read_interval_csv(p, tz="Africa/Casablanca", mapping=m)
    assert t.frame["interval_start"].tolist() == [utc("2026-01-05T08:00", "Africa/Casablanca"),
                                                  utc("2026-01-05T08:30", "Africa/Casablanca")]
    assert t.frame["aht_s"].tolist() == [180.5, 170.0]


def test_not_a_workbook(tmp_path):
    p = write(tmp_path, "interval_start,volume\n", "fake.xlsx")
    raises_at(p, None, None, "cannot read the file")


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(["America/New_York", "Europe/Paris", "Africa/Casablanca"]),
       anchor=st.sampled_from(["2026-11-01 06:00", "2026-10-25 01:00", "2026-02-15 02:00",
                               "2026-03-22 01:00", "2026-03-08 07:00", "2026-03-29 01:00"]),
       shift_min=st.integers(-300, 300), periods=st.integers(2, 24),
       step_min=st.sampled_from([15, 30, 60]))
def test_naive_local_series_round_trip_property(tmp_path_factory, zone, anchor, shift_min,
                                                 periods, step_min):
    """A UTC grid written as naive local times reads back to the same instants, or is
    refused naming a row whose local time happens twice but appears only once."""
    start = pd.Timestamp(anchor, tz="UTC") + pd.Timedelta(minutes=shift_min)
    start = start.floor(f"{step_min}min")
    starts = pd.date_range(start, periods=periods, freq=f"{step_min}min")
    local = starts.tz_convert(zone).strftime("%Y-%m-%d %H:%M")
    p = tmp_path_factory.mktemp("dst") / "naive.csv"
    p.write_text("interval_start,volume\n" + "".join(f"{t},1\n" for t in local))
    try:
        t = read_interval_csv(p, tz=zone)
    except InputError as err:
        assert "happens twice" in str(err)
        row = err.location.row
        assert row is not None and list(local).count(local[row - 1]) == 1
        return
    assert list(t.frame["interval_start"]) == list(starts)
    assert t.interval_s == step_min * 60


def test_fall_back_in_a_file_listed_newest_first(tmp_path):
    rows = ["00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]
    expected = []
    seen: set[str] = set()
    for r in rows:
        expected.append(utc(f"2026-11-01T{r}", "America/New_York", fold=int(r in seen)))
        seen.add(r)
    p = write(tmp_path, "interval_start,queue,volume\n"
              + "".join(f"2026-11-01 {r},us,{i}\n" for i, r in reversed(list(enumerate(rows)))))
    f = read_interval_csv(p, tz="America/New_York").frame
    assert list(f["interval_start"]) == expected  # sorted by queue and time on output
    assert list(f["volume"]) == [0, 1, 2, 3, 4, 5]


AVAYA_MAP = {"Date": "date", "Interval": "interval_start", "Split/Skill": "queue",
             "ACD Calls": "handled", "Calls Offered": "volume", "Avg ACD Time": "aht_s"}


def test_avaya_style_date_and_time_range_columns(tmp_path):
    body = "".join(f"2026-11-01,{t},us_es,{i},{i + 1},2:{i:02d}\n" for i, t in enumerate(
        ["12:30 AM-1:00 AM", "1:00 AM-1:30 AM", "1:30 AM-2:00 AM", "1:00 AM-1:30 AM",
         "1:30 AM-2:00 AM", "2:00 AM-2:30 AM", "12:00 PM-12:30 PM"]))
    p = write(tmp_path, "Date,Interval,Split/Skill,ACD Calls,Calls Offered,Avg ACD Time\n"
              + body)
    f = read_interval_csv(p, tz="America/New_York", mapping=AVAYA_MAP).frame
    assert "date" not in f.columns
    local = ["00:30", "01:00", "01:30", "01:00", "01:30", "02:00", "12:00"]
    folds = [0, 0, 0, 1, 1, 0, 0]
    assert list(f["interval_start"]) == [utc(f"2026-11-01T{t}", "America/New_York", fold)
                                         for t, fold in zip(local, folds, strict=True)]
    assert f["aht_s"].tolist() == [120.0 + i for i in range(7)]


@pytest.mark.parametrize(
    ("date", "time", "column", "match"),
    [("2026-03-08", "2:30 AM-3:00 AM", "Interval", "does not exist"),
     ("2026-03-08", "13:00 PM", "Interval", "time of day"),
     ("08/03/2026", "9:00 AM", "Date", "YYYY-MM-DD"),
     ("2026-03-08 09:00", "9:00 AM", "Date", "YYYY-MM-DD")],
)
def test_avaya_style_errors(tmp_path, date, time, column, match):
    p = write(tmp_path, "Date,Interval,Split/Skill,ACD Calls,Calls Offered,Avg ACD Time\n"
                        "2026-03-08,1:00 AM-1:30 AM,us,1,1,100\n"
                        f"{date},{time},us,1,1,100\n")
    raises_at(p, 2, column, match, tz="America/New_York", mapping=AVAYA_MAP)


def test_service_level_percent(tmp_path):
    p = write(tmp_path, "interval_start,volume,service_level\n2026-01-05T08:00Z,10,85%\n"
                        "2026-01-05T08:30Z,10,0.9\n2026-01-05T09:00Z,10,\n")
    assert read_interval_csv(p).frame["service_level"].tolist()[:2] == [0.85, 0.9]
    bad = write(tmp_path, "interval_start,volume,SL\n2026-01-05T08:00Z,10,0.8\n"
                          "2026-01-05T08:30Z,10,85\n", "sl.csv")
    raises_at(bad, 2, "SL", "fraction between 0 and 1", mapping={"SL": "service_level"})
