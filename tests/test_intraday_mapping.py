"""Vendor presets: a small sample export of each ACD -> events / interval table, compared with
a golden CSV (checked by hand: local times and their UTC offsets on the DST and Ramadan
change days, derived AHT = totals / handled, offered = answered + abandoned).

Regenerate the golden files only on purpose: ``OPENWFM_REGEN_GOLDEN=1 pytest
tests/test_intraday_mapping.py`` (then read the diff)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from openwfm.errors import InputError
from openwfm.intraday.mapping import (
    PRESETS,
    load_state_mapping,
    parse_state_mapping,
    read_agent_events,
    read_vendor_intervals,
)
from openwfm.intraday.states import AgentState
from openwfm.io.intervals import write_interval_csv

DATA = Path(__file__).parent / "data" / "intraday"
# the zone of each sample: Avaya on the New York spring-forward day, NICE on Casablanca's
# Ramadan change day (2026-02-15, UTC+1 -> UTC+0), Cisco in Paris, Genesys with offsets
TZ = {"genesys": None, "avaya": "America/New_York", "cisco": "Europe/Paris",
      "nice": "Africa/Casablanca"}
REGEN = os.environ.get("OPENWFM_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("vendor", PRESETS)
def test_agent_state_export_matches_golden(vendor: str, tmp_path: Path) -> None:
    got = read_agent_events(DATA / f"{vendor}_agent_states.csv", vendor, tz=TZ[vendor])
    golden = DATA / f"{vendor}_agent_states.expected.csv"
    out = tmp_path / "got.csv"
    got.to_csv(out, index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00")
    if REGEN:
        golden.write_text(out.read_text())
    assert out.read_text() == golden.read_text()
    assert set(got["state"]) <= {s.value for s in AgentState}
    assert got["event_id"].is_unique


@pytest.mark.parametrize("vendor", PRESETS)
def test_interval_export_matches_golden(vendor: str, tmp_path: Path) -> None:
    t = read_vendor_intervals(DATA / f"{vendor}_intervals.csv", vendor, tz=TZ[vendor])
    out = write_interval_csv(t, tmp_path / "got.csv")
    golden = DATA / f"{vendor}_intervals.expected.csv"
    if REGEN:
        golden.write_text(out.read_text())
    assert out.read_text() == golden.read_text()
    f = t.frame
    assert str(f["interval_start"].dtype) == "datetime64[ns, UTC]"
    assert {"volume", "handled", "abandoned", "aht_s"} <= set(f.columns)


def test_avaya_interval_grid_skips_the_missing_hour() -> None:
    # 1:30 AM EST and 3:00 AM EDT are consecutive half hours on 2026-03-08
    t = read_vendor_intervals(DATA / "avaya_intervals.csv", "avaya", tz="America/New_York")
    steps = t.frame["interval_start"].diff().dropna().unique()
    assert list(steps) == [pd.Timedelta(minutes=30)]


def test_every_preset_cites_its_documentation() -> None:
    for name in PRESETS:
        m = load_state_mapping(name)
        assert m.source and all(s.startswith("https://") for s in m.source)
        assert {"agent_id", "at", "state"} <= set(m.columns.values())
        assert "interval_start" in m.interval_columns.values()


def test_unknown_state_code_names_row_and_column(tmp_path: Path) -> None:
    p = tmp_path / "genesys.csv"
    p.write_text("User ID,Start Time,System Presence,Routing Status\n"
                 "u1,2026-03-02T08:00:00Z,ON_QUEUE,IDLE\n"
                 "u1,2026-03-02T08:05:00Z,LUNCH_CUSTOM,OFF_QUEUE\n")
    with pytest.raises(InputError) as e:
        read_agent_events(p, "genesys")
    assert e.value.location.row == 2 and e.value.location.column == "System Presence"
    assert "LUNCH_CUSTOM" in str(e.value)


def test_ambiguous_local_time_is_an_error(tmp_path: Path) -> None:
    # 02:30 happens twice in Paris on 2026-10-25: once in the file, its instant is unknown
    p = tmp_path / "trace.csv"
    p.write_text("DateTime,SkillTargetID,AgentState,ReasonCode\n"
                 "2026-10-25 01:50:00,1,3,0\n2026-10-25 02:30:00,1,4,0\n")
    with pytest.raises(InputError) as e:
        read_agent_events(p, "cisco", tz="Europe/Paris")
    assert e.value.location.row == 2 and "twice" in str(e.value)


def test_a_user_mapping_file(tmp_path: Path) -> None:
    m = tmp_path / "acme.toml"
    m.write_text('vendor = "ACME"\n[agent_state.columns]\nAgent = "agent_id"\n'
                 'When = "at"\nCode = "state"\n[agent_state.states]\nRDY = "available"\n'
                 'OFF = "logged_out"\n')
    p = tmp_path / "acme.csv"
    p.write_text("Agent,When,Code\na1,2026-01-05T08:00:00+01:00,RDY\n"
                 "a1,2026-01-05T12:00:00+01:00,OFF\n")
    ev = read_agent_events(p, m)
    assert ev["state"].tolist() == ["available", "logged_out"]
    assert ev["at"].iloc[0] == pd.Timestamp("2026-01-05T07:00:00Z")
    # the same export read twice gives the same ids (idempotent loading)
    assert ev["event_id"].tolist() == read_agent_events(p, m)["event_id"].tolist()


def test_bad_mapping_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="expected one of"):
        parse_state_mapping({"agent_state": {"states": {"X": "lunch"}}}, name="m.toml")
    with pytest.raises(InputError, match="STATE\\|REASON"):
        parse_state_mapping({"agent_state": {"reasons": {"X": "break"}}}, name="m.toml")
    with pytest.raises(InputError, match="presets"):
        load_state_mapping("genesis")
    p = tmp_path / "bad.toml"
    p.write_text("vendor = \n")
    with pytest.raises(InputError, match="cannot parse"):
        load_state_mapping(p)


def test_interval_totals_with_a_bad_number_name_the_vendor_column(tmp_path: Path) -> None:
    p = tmp_path / "cti.csv"
    p.write_text("DateTime,CallTypeID,CallsOffered,CallsHandled,TotalCallsAband,"
                 "ServiceLevelCalls,HandleTime,AnswerWaitTime\n"
                 "2026-10-26 09:00:00,1,3,3,0,3,600,30\n2026-10-26 09:30:00,1,3,3,0,3,x,30\n")
    with pytest.raises(InputError) as e:
        read_vendor_intervals(p, "cisco", tz="Europe/Paris")
    assert (e.value.location.file, e.value.location.row, e.value.location.column) == (
        "cti.csv", 2, "HandleTime")
