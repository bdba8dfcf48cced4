"""The scenario file: what loads, and what a user is told when it does not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from openwfm.errors import InputError
from openwfm.scenario import Channel, load_scenario

GOOD = """
name = "Tiny"
interval_s = 1800
plan_start = "2026-03-30"
agents = "agents.csv"

[[sites]]
name = "Casablanca"
country = "ma"
tz = "Africa/Casablanca"
seats = 10
cost_per_hour = 9.5

[[queues]]
id = "fr-voice"
client = "Telco"
channel = "voice"
language = "fr"
market = "FR"
tz = "Europe/Paris"
patience_s = 180

[[queues]]
id = "fr-chat"
client = "Telco"
channel = "chat"
language = "fr"
market = "FR"
concurrency = 2
sl_target = 0.8
answer_within_s = 60
"""

AGENTS = "id,name,site,skills,contract_hours\na1,Amal,Casablanca,fr-voice;fr-chat,44\n"


def write(tmp_path: Path, toml: str = GOOD, agents: str = AGENTS) -> Path:
    (tmp_path / "agents.csv").write_text(agents)
    p = tmp_path / "s.toml"
    p.write_text(textwrap.dedent(toml))
    return p


def test_good_scenario_loads(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path))
    assert s.interval_s == 1800
    assert s.sites[0].country == "MA"
    assert s.queue("fr-chat").channel is Channel.CHAT
    assert s.queue("fr-chat").concurrency == 2
    assert s.queue("fr-voice").patience_s == 180
    assert s.agents[0].skills == ("fr-voice", "fr-chat")
    assert s.agents[0].contract_hours == 44


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ('tz = "Africa/Casablanca"', 'tz = "Africa/Casablank"', "tz"),
        ('channel = "voice"', 'channel = "fax"', "channel"),
        ("sl_target = 0.8", "sl_target = 1.0", "sl_target"),
        ("seats = 10", 'seats = "many"', "seats"),
        ("interval_s = 1800", "interval_s = 1700", "interval_s"),
    ],
)
def test_bad_field_is_named(tmp_path: Path, old: str, new: str, column: str) -> None:
    p = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(InputError) as err:
        load_scenario(p)
    assert err.value.location.column == column
    assert str(p) in str(err.value)


@pytest.mark.parametrize(
    ("agents", "row", "column"),
    [
        ("id,name,site,skills\na1,A,Rabat,fr-voice\n", 1, "site"),
        ("id,name,site,skills\na1,A,Casablanca,fr-voice\na2,B,Casablanca,nl-voice\n", 2, "skills"),
        ("id,name,site,skills,contract_hours\na1,A,Casablanca,fr-voice,lots\n", 1,
         "contract_hours"),
        ("id,name,site,skills\na1,A,Casablanca,\n", 1, "skills"),
        ("id,name,site,skills,hire_date\na1,A,Casablanca,fr-voice,2019-04-01\n"
         "a2,B,Casablanca,fr-voice,2019-13-01\n", 2, "hire_date"),
    ],
)
def test_bad_agent_row_is_named(tmp_path: Path, agents: str, row: int, column: str) -> None:
    with pytest.raises(InputError) as err:
        load_scenario(write(tmp_path, agents=agents))
    assert (err.value.location.row, err.value.location.column) == (row, column)
    assert err.value.location.file is not None and err.value.location.file.endswith("agents.csv")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_scenario(tmp_path / "nope.toml")


def test_hire_dates_load_and_a_blank_one_is_unknown(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, agents="id,site,skills,hire_date\n"
                                             "a1,Casablanca,fr-voice,2019-04-01\n"
                                             "a2,Casablanca,fr-voice,\n"))
    assert [(a.id, a.hire_date and a.hire_date.isoformat()) for a in s.agents] == [
        ("a1", "2019-04-01"), ("a2", None)]
