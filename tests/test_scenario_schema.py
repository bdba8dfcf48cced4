"""The scenario schema (openwfm.schema): one strict, documented definition of every key.

Each class of bad input goes through `openwfm scenario check`, `openwfm schedule` and
`openwfm capacity`: one line naming the file and the key, exit status 2, nothing written.
The reference page and the JSON Schema are generated from the models and checked here.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tomllib
import typing
from datetime import date
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from openwfm.activities import BREAK_ACTIVITIES
from openwfm.cli import main
from openwfm.demo import demo_scenario
from openwfm.errors import InputError
from openwfm.labour import RulePack
from openwfm.scenario import load_scenario
from openwfm.scenario_check import check_scenario
from openwfm.scheduling.check import weekend_shifts
from openwfm.scheduling.model import SchedulingConfig, build_problem, parse_config
from openwfm.scheduling.penalty import UnderstaffingPenalty
from openwfm.scheduling.solve import solve_schedule
from openwfm.scheduling.summary import fairness_items
from openwfm.scheduling.synthetic import SITES, flat_requirement, toy_scenario
from openwfm.schema import BreakSpec, RulePackSpec, SchedulingSpec
from openwfm.schema_doc import json_schema, scenario_markdown

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "openwfm" / "demo" / "data" / "demo.toml"

TOML = """\
name = "Tiny"
interval_s = 900
plan_start = "2026-03-30"
shrinkage = 0.3

[[sites]]
name = "Casablanca"
country = "MA"
tz = "Africa/Casablanca"
seats = 10
cost_per_hour = 9.5
rules = "MA"

[[queues]]
id = "fr"
client = "Telco"
channel = "voice"
language = "fr"
market = "FR"
tz = "Europe/Paris"
sl_target = 0.8
answer_within_s = 20

[[agents]]
id = "a1"
site = "Casablanca"
skills = ["fr"]
contract_hours = 40

[scheduling]
time_limit_s = 10

[[scheduling.shifts]]
start_step_min = 60
lengths_h = [9]

[capacity]
weeks = 8
attrition_monthly = 0.05

[[capacity.skills]]
name = "fr"
queues = ["fr"]
sites = { Casablanca = 1.0 }
"""

# (what is changed, replacement, text the one-line error must hold)
BAD = {
    "misspelt queue key": ("sl_target = 0.8", "sl_targt = 0.8",
                           "key 'queues[0].sl_targt': unknown key; did you mean 'sl_target'?"),
    "misspelt patience": ("answer_within_s = 20", "answer_within_s = 20\npatiance_s = 180",
                          "key 'queues[0].patiance_s': unknown key; did you mean 'patience_s'?"),
    "misspelt shift key": ("start_step_min = 60", "start_stp_min = 60",
                           "key 'scheduling.shifts[0].start_stp_min': unknown key; did you "
                           "mean 'start_step_min'?"),
    "misspelt top key": ("shrinkage = 0.3", "shrinkge = 0.3",
                         "key 'shrinkge': unknown key; did you mean 'shrinkage'?"),
    "misspelt capacity key": ("attrition_monthly = 0.05", "attrition_montly = 0.05",
                              "key 'capacity.attrition_montly': unknown key; did you mean "
                              "'attrition_monthly'?"),
    "wrong type": ("time_limit_s = 10", 'time_limit_s = "abc"',
                   "key 'scheduling.time_limit_s': expected a number, got 'abc'"),
    "unknown pack": ('rules = "MA"', 'rules = "ZZ"',
                     "key 'sites[0].rules': unknown labour pack 'ZZ'; known packs: CO, IL, MA, "
                     "PH, default"),
    "missing required key": ('client = "Telco"\n', "",
                             "key 'queues[0].client': missing required key"),
    "bad IANA zone": ('tz = "Africa/Casablanca"', 'tz = "Africa/Casablank"',
                      "key 'sites[0].tz': 'Africa/Casablank' is not an IANA time zone (did you "
                      "mean 'Africa/Casablanca'?)"),
    "negative seats": ("seats = 10", "seats = -10",
                       "key 'sites[0].seats': expected a number >= 0, got -10"),
    "TOML syntax": ("seats = 10", "seats = = 10", "not valid TOML at line 10, column 9"),
    "unknown agent site": ('site = "Casablanca"', 'site = "Casablnca"',
                           "key 'agents[0].site': unknown site 'Casablnca'; did you mean "
                           "'Casablanca'?"),
    "sl_target out of range": ("sl_target = 0.8", "sl_target = 80",
                               "key 'queues[0].sl_target': expected a number < 1, got 80"),
}


def _cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch
         ) -> tuple[int, str, str]:
    """Run `openwfm ARGS` in this process: (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["openwfm", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def case(tmp_path: Path) -> Path:
    sc = toy_scenario(1, queues=("fr",))
    flat_requirement(sc, 0.5).to_csv(tmp_path / "req.csv", index=False)
    return tmp_path


def test_base_scenario_is_valid(case: Path) -> None:
    (case / "s.toml").write_text(TOML)
    summary = check_scenario(case / "s.toml")
    assert summary.sections == ("scheduling", "capacity")
    assert dict(summary.agents_per_site) == {"Casablanca": 1}
    assert summary.packs[0][1].max_weekly_h == 44


@pytest.mark.parametrize("command", ["check", "schedule", "capacity"])
@pytest.mark.parametrize("what", sorted(BAD))
def test_bad_input_is_one_line_exit_2_nothing_written(case: Path, capsys, monkeypatch,
                                                      command: str, what: str) -> None:
    old, new, expected = BAD[what]
    assert old in TOML
    (case / "s.toml").write_text(TOML.replace(old, new, 1))
    out = case / "out"
    args = {"check": ["scenario", "check", str(case / "s.toml")],
            "schedule": ["schedule", str(case / "s.toml"), str(case / "req.csv"), "-o",
                         str(out)],
            "capacity": ["capacity", str(case / "s.toml"), "-o", str(out)]}[command]
    code, _, err = _cli(args, capsys, monkeypatch)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {case / 's.toml'}"), lines[0]
    assert expected in lines[0], lines[0]
    assert not out.exists()
    assert sorted(p.name for p in case.iterdir()) == ["req.csv", "s.toml"]


def test_agents_csv_misspelt_column_names_row_and_column(case: Path, capsys,
                                                         monkeypatch) -> None:
    toml = TOML.replace('[[agents]]\nid = "a1"\nsite = "Casablanca"\nskills = ["fr"]\n'
                        "contract_hours = 40\n", "")
    toml = toml.replace('shrinkage = 0.3\n', 'shrinkage = 0.3\nagents = "agents.csv"\n')
    (case / "s.toml").write_text(toml)
    (case / "agents.csv").write_text("id,site,skills,contract_hour\na1,Casablanca,fr,40\n")
    code, _, err = _cli(["scenario", "check", str(case / "s.toml")], capsys, monkeypatch)
    assert code == 2
    assert err.strip() == (f"error: {case / 'agents.csv'}, row 1, column 'contract_hour': "
                           "unknown column; did you mean 'contract_hours'?")


def test_cli_exit_status_in_a_real_process(case: Path) -> None:
    (case / "s.toml").write_text(TOML.replace("sl_target = 0.8", "sl_targt = 0.8"))
    res = subprocess.run([sys.executable, "-c", "from openwfm.cli import main; main()",
                          "scenario", "check", str(case / "s.toml")], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 2
    assert "did you mean 'sl_target'?" in res.stderr and "Traceback" not in res.stderr


def test_error_object_names_file_and_key_path(case: Path) -> None:
    (case / "s.toml").write_text(TOML.replace("sl_target = 0.8", "sl_targt = 0.8"))
    with pytest.raises(InputError) as e:
        load_scenario(case / "s.toml")
    loc = e.value.location
    assert (loc.file, loc.key, loc.column) == (str(case / "s.toml"), "queues[0].sl_targt",
                                               "sl_targt")


SCENARIO_FILES = sorted({DEMO, *ROOT.glob("tests/**/*.toml"),
                         *ROOT.glob("examples/**/scenario*.toml")})


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_every_shipped_scenario_file_passes_check(path: Path) -> None:
    summary = check_scenario(path)
    assert summary.scenario.queues and summary.scenario.sites


def test_json_schema_validates_the_demo_scenario_with_an_independent_validator() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    raw = json.loads(json.dumps(tomllib.loads(DEMO.read_text()), default=str))
    jsonschema.Draft202012Validator(schema).validate(raw)
    raw["queues"][0]["sl_targt"] = raw["queues"][0].pop("sl_target")
    with pytest.raises(jsonschema.ValidationError, match="sl_targt"):
        jsonschema.Draft202012Validator(schema).validate(raw)


def test_scenario_schema_command_prints_the_json_schema(capsys, monkeypatch) -> None:
    code, out, _ = _cli(["scenario", "schema"], capsys, monkeypatch)
    assert code == 0
    printed = json.loads(out)
    assert printed == json.loads(json.dumps(json_schema()))


def test_docs_page_is_generated_from_the_models() -> None:
    """Regenerate with `openwfm scenario docs -o docs/scenario.md`."""
    page = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")
    assert page == scenario_markdown(), "docs/scenario.md drifted: run `openwfm scenario docs " \
                                        "-o docs/scenario.md`"


def test_every_key_is_documented_with_type_default_and_meaning() -> None:
    md = scenario_markdown()
    for name, f in SchedulingSpec.model_fields.items():
        row = next(line for line in md.splitlines() if line.startswith(f"| `{name}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] and cells[3] and cells[5], row  # type, default, meaning
        assert f.description


def test_domain_defaults_equal_the_schema_defaults() -> None:
    got, want = parse_config({}), SchedulingConfig()
    for f in dataclasses.fields(SchedulingConfig):
        if f.name != "rule_packs":
            assert getattr(got, f.name) == getattr(want, f.name), f.name
    assert set(RulePackSpec.model_fields) == {f.name for f in dataclasses.fields(RulePack)} - {
        "name"}
    assert set(typing.get_args(BreakSpec.model_fields["activity"].annotation)) == {
        a.value for a in BREAK_ACTIVITIES}
    assert set(typing.get_args(typing.get_args(
        SchedulingSpec.model_fields["understaffing_penalty"].annotation)[0])) == {
        m.value for m in UnderstaffingPenalty}


def test_scenario_new_writes_a_starter_that_check_accepts(tmp_path: Path, capsys,
                                                          monkeypatch) -> None:
    idx = pd.date_range("2026-03-02", "2026-03-26 23:30", freq="30min", tz="UTC")
    hist = pd.concat([pd.DataFrame({"interval_start": idx.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                    "queue": q, "volume": 5.0, "aht_s": 300.0})
                      for q in ("sales-voice", "care-chat", "billing-email")])
    hist.to_csv(tmp_path / "history.csv", index=False)
    out = tmp_path / "cfg" / "scenario.toml"
    out.parent.mkdir()
    code, _, err = _cli(["scenario", "new", "--history", str(tmp_path / "history.csv"), "-o",
                      str(out), "--tz", "Europe/Paris", "--country", "fr"], capsys, monkeypatch)
    assert code == 0, err
    summary = check_scenario(out)
    sc = summary.scenario
    assert sc.interval_s == 1800 and sc.plan_start == date(2026, 3, 30)  # Monday after
    assert {q.id: q.channel.value for q in sc.queues} == {
        "billing-email": "email", "care-chat": "chat", "sales-voice": "voice"}
    assert sc.history_path is not None and summary.history_rows == len(hist)
    assert "# EDIT" in out.read_text()
    code, _, err = _cli(["scenario", "new", "--history", str(tmp_path / "history.csv"), "-o",
                      str(out)], capsys, monkeypatch)
    assert code == 2 and "already exists" in err  # never overwritten


def test_scenario_check_summarizes_the_demo(capsys, monkeypatch) -> None:
    code, out, _ = _cli(["scenario", "check", str(DEMO)], capsys, monkeypatch)
    assert code == 0
    s = demo_scenario()
    assert f"{len(s.queues)}: voice 9, chat 2, email 2" in " ".join(out.split())


# ---------------------------------------------------------------- market labour settings
def test_weekend_days_are_a_pack_setting_the_builder_and_checker_share() -> None:
    """A Friday-Saturday weekend (Israel, Saudi Arabia) moves which shifts count as weekend
    shifts for fairness, and the independent checker counts the same shifts."""
    packs = {"XX": {"weekend_days": [4, 5], "max_weekly_h": 48}}
    site = dataclasses.replace(SITES[0], rules="XX")
    fri_sat = toy_scenario(3, site=site, extra={"scheduling": {
        "time_limit_s": 10, "rule_packs": packs,
        "shifts": [{"start_step_min": 60, "lengths_h": [9]}]}})
    sat_sun = toy_scenario(3, extra={"scheduling": {
        "time_limit_s": 10, "shifts": [{"start_step_min": 60, "lengths_h": [9]}]}})
    req = flat_requirement(fri_sat, 1.0)
    p1 = build_problem(fri_sat, req)
    p2 = build_problem(sat_sun, flat_requirement(sat_sun, 1.0))
    days1 = {st.day for st in p1.shift_types if st.weekend}
    days2 = {st.day for st in p2.shift_types if st.weekend}
    assert days1 == {4, 5} and days2 == {5, 6}  # plan starts on Monday 2026-03-30

    r = solve_schedule(p1)
    assert r.check.ok, r.check.counts()
    by_key = {(st.site, st.start, st.length): st for st in p1.shift_types}
    shifts = r.shifts
    start = ((pd.to_datetime(shifts["start_utc"], utc=True) - p1.origin)
             .dt.total_seconds() // 60).astype(int)
    length = ((pd.to_datetime(shifts["end_utc"], utc=True)
               - pd.to_datetime(shifts["start_utc"], utc=True)).dt.total_seconds() // 60)
    builder = {}
    for aid, site, s, n in zip(shifts["agent_id"], shifts["site"], start, length.astype(int),
                               strict=True):
        builder[aid] = builder.get(aid, 0) + int(by_key[(site, s, n)].weekend)
    checker = weekend_shifts(p1, r.segments)
    assert builder == checker
    # the shifts table and the fairness summary carry the same flags
    assert shifts.groupby("agent_id")["weekend"].sum().to_dict() == checker
    assert dict(fairness_items(shifts))["weekend_shifts_per_agent_max"] == max(
        checker.values())
    assert sum(checker.values()) > 0
    friday = {aid for aid, day in zip(shifts["agent_id"], pd.to_datetime(
        shifts["start_local"].str[:19]).dt.weekday, strict=True) if day == 4}
    assert all(checker[a] >= 1 for a in friday)  # a Friday shift is a weekend shift


def test_market_limits_come_from_the_pack_not_constants() -> None:
    """Daily maximum, consecutive days off and the night window are pack settings: a pack
    with a 7 h day and a 00:00-05:00 night builds no longer shift and prices nights there."""
    packs = {"XX": {"max_daily_h": 7, "night_start_h": 0, "night_end_h": 5,
                    "night_premium": 0.5, "min_consecutive_days_off": 0}}
    site = dataclasses.replace(SITES[0], rules="XX")
    sc = toy_scenario(2, site=site, extra={"scheduling": {
        "rule_packs": packs, "breaks": [],
        "shifts": [{"start_step_min": 60, "lengths_h": [6, 8]}]}})
    p = build_problem(sc, flat_requirement(sc, 1.0))
    assert {st.length for st in p.shift_types} == {360}  # 8 h > 7 h per day
    assert p.packs["Casablanca"].min_consecutive_days_off == 0
    night = np.array([st.night_min for st in p.shift_types])
    assert night.max() == 300  # only 00:00-05:00 local counts


def test_rule_pack_versions_inherit_builtin_values() -> None:
    cfg = parse_config({"rule_packs": {"CO": [{"effective_from": "2027-01-01",
                                               "max_weekly_h": 40}]}})
    (v,) = cfg.rule_packs["CO"]
    assert (v.max_weekly_h, v.max_daily_h, v.weekend_days) == (40, 10, (5, 6))
    with pytest.raises(InputError, match="did you mean 'weekend_days'"):
        parse_config({"rule_packs": {"XX": {"weekend_dayz": [4, 5]}}}, file="s.toml")


def test_simulation_section_sets_the_plan_simulation(case: Path) -> None:
    from openwfm.app.stages import REPLICATIONS, SEED, simulation_settings

    (case / "s.toml").write_text(TOML + "\n[simulation]\nreplications = 3\nseed = 11\n")
    s = simulation_settings(load_scenario(case / "s.toml"))
    assert (s.replications, s.seed) == (3, 11)
    (case / "s.toml").write_text(TOML)
    s = simulation_settings(load_scenario(case / "s.toml"))
    assert (s.replications, s.seed) == (REPLICATIONS, SEED)
    (case / "s.toml").write_text(TOML + "\n[simulation]\nreplicatons = 3\n")
    with pytest.raises(InputError, match="did you mean 'replications'"):
        load_scenario(case / "s.toml")
