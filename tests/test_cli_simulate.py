"""`openwfm simulate` end to end: outputs with CIs, schedule and staffing inputs, errors name
file/row/column and write nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCENARIO = """
name = "toy"
interval_s = 1800
plan_start = "2026-03-02"
plan_days = 1
[[sites]]
name = "Casablanca"
country = "MA"
tz = "Africa/Casablanca"
seats = 10
cost_per_hour = 9
[[queues]]
id = "fr-voice"
client = "C"
channel = "voice"
language = "fr"
market = "FR"
sl_target = 0.8
answer_within_s = 20
patience_s = 120
priority = 1
[[queues]]
id = "fr-chat"
client = "C"
channel = "chat"
language = "fr"
market = "FR"
sl_target = 0.8
answer_within_s = 60
concurrency = 2
[[agents]]
id = "A1"
site = "Casablanca"
skills = "fr-voice;fr-chat"
[[agents]]
id = "A2"
site = "Casablanca"
skills = "fr-voice"
[[agents]]
id = "A3"
site = "Casablanca"
skills = "fr-chat;fr-voice"
"""


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    sc = tmp_path / "s.toml"
    sc.write_text(SCENARIO)
    starts = pd.date_range("2026-03-02 08:00", periods=4, freq="30min", tz="UTC")
    fc = pd.DataFrame({"interval_start": np.tile(starts, 2),
                       "queue": np.repeat(["fr-voice", "fr-chat"], 4),
                       "volume": [20, 30, 30, 20, 10, 10, 10, 10], "aht_s": 150.0})
    fc.to_csv(tmp_path / "fc.csv", index=False)
    st = fc[["interval_start", "queue"]].assign(agents=[2, 3, 3, 2, 1, 1, 1, 1])
    st.to_csv(tmp_path / "st.csv", index=False)
    seg = pd.DataFrame({
        "agent_id": ["A1", "A1", "A1", "A2", "A3"], "site": "Casablanca",
        "activity": ["work", "break", "work", "work", "work"],
        "start": ["2026-03-02T08:00Z", "2026-03-02T09:00Z", "2026-03-02T09:15Z",
                  "2026-03-02T08:00Z", "2026-03-02T08:00Z"],
        "end": ["2026-03-02T09:00Z", "2026-03-02T09:15Z", "2026-03-02T10:00Z",
                "2026-03-02T10:00Z", "2026-03-02T10:00Z"]})
    seg.to_csv(tmp_path / "seg.csv", index=False)
    return {"sc": sc, "fc": tmp_path / "fc.csv", "st": tmp_path / "st.csv",
            "seg": tmp_path / "seg.csv", "dir": tmp_path}


def test_simulate_with_schedule_writes_kpis_and_log(cli, files) -> None:
    out = files["dir"] / "out"
    code, stdout, err = cli("simulate", str(files["sc"]), str(files["fc"]), "--schedule",
                            str(files["seg"]), "-o", str(out), "-r", "5", "--seed", "3")
    assert code == 0, err
    k = pd.read_csv(out / "intervals.csv")
    assert len(k) == 8
    for c in ("service_level", "service_level_lo", "service_level_hi", "asa_s_lo",
              "p_abandon_hi", "occupancy"):
        assert c in k.columns
    log = pd.read_csv(out / "contacts.csv")
    assert set(log.outcome) <= {"served", "abandoned", "unserved"}
    assert set(log.agent.dropna()) <= {"A1", "A2", "A3"}
    # A1 is on break 09:00-09:15: never starts a contact then
    log["start"] = pd.to_datetime(log.arrival) + pd.to_timedelta(log.wait_s, unit="s")
    a1 = log[(log.agent == "A1")]
    brk = (a1.start > pd.Timestamp("2026-03-02T09:00Z")) & \
        (a1.start < pd.Timestamp("2026-03-02T09:15Z"))
    assert not brk.any()
    assert "service level" in stdout


def test_simulate_with_staffing_same_seed_same_output(cli, files) -> None:
    outs = []
    for name in ("o1", "o2"):
        out = files["dir"] / name
        code, _, err = cli("simulate", str(files["sc"]), str(files["fc"]), "--staffing",
                           str(files["st"]), "-o", str(out), "-r", "3", "--seed", "9",
                           "--no-contacts")
        assert code == 0, err
        assert not (out / "contacts.csv").exists()
        outs.append(pd.read_csv(out / "queues.csv"))
    pd.testing.assert_frame_equal(outs[0], outs[1])


def test_bad_queue_names_row_and_writes_nothing(cli, files) -> None:
    fc = pd.read_csv(files["fc"])
    fc.loc[2, "queue"] = "nl-voice"
    fc.to_csv(files["fc"], index=False)
    out = files["dir"] / "bad"
    code, _, err = cli("simulate", str(files["sc"]), str(files["fc"]), "--staffing",
                       str(files["st"]), "-o", str(out))
    assert code == 2
    assert "row 3" in err and "queue" in err and "nl-voice" in err
    assert not out.exists()


def test_needs_exactly_one_agent_source(cli, files) -> None:
    code, _, err = cli("simulate", str(files["sc"]), str(files["fc"]), "-o",
                       str(files["dir"] / "x"))
    assert code == 2 and "--schedule" in err


def test_bad_agents_value(cli, files) -> None:
    st = pd.read_csv(files["st"])
    st["agents"] = st["agents"].astype(object)
    st.loc[1, "agents"] = "many"
    st.to_csv(files["st"], index=False)
    code, _, err = cli("simulate", str(files["sc"]), str(files["fc"]), "--staffing",
                       str(files["st"]), "-o", str(files["dir"] / "x"))
    assert code == 2 and "row 2" in err and "agents" in err


def test_routing_table_of_the_scenario_is_used(cli, files) -> None:
    """[routing]: fr-voice only to group 'senior' (A2), fr-chat to the site group, then to
    'senior' after 30 s; agents take the oldest contact across their queues."""
    text = files["sc"].read_text().replace(
        'id = "A2"\nsite = "Casablanca"', 'id = "A2"\nsite = "Casablanca"\ngroup = "senior"')
    text += """
[routing]
agent_selection = "oldest"
contact_selection = "least_skilled"
[[routing.overflow]]
queue = "fr-voice"
groups = ["senior"]
[[routing.overflow]]
queue = "fr-chat"
groups = ["Casablanca", "senior"]
after_s = [0, 30]
"""
    files["sc"].write_text(text)
    out = files["dir"] / "routed"
    code, _, err = cli("simulate", str(files["sc"]), str(files["fc"]), "--schedule",
                       str(files["seg"]), "-o", str(out), "-r", "3", "--seed", "3")
    assert code == 0, err
    log = pd.read_csv(out / "contacts.csv")
    voice = log[(log.queue == "fr-voice") & (log.outcome == "served")]
    assert len(voice) > 0 and set(voice.agent) == {"A2"}
    # overriding on the command line: still only A2 on voice (the overflow list stays)
    code, _, err = cli("simulate", str(files["sc"]), str(files["fc"]), "--schedule",
                       str(files["seg"]), "-o", str(files["dir"] / "o2"), "-r", "2",
                       "--agent-selection", "priority")
    assert code == 0, err


@pytest.mark.parametrize(("table", "words"), [
    ('[routing]\nagent_selecton = "oldest"\n', ["agent_selecton", "agent_selection"]),
    ('[routing]\ncontact_selection = "fastest"\n', ["contact_selection", "longest_idle"]),
    ('[[routing.overflow]]\nqueue = "fr-voice"\ngroups = ["Manila"]\n', ["Manila", "groups"]),
    ('[[routing.overflow]]\nqueue = "nl-voice"\ngroups = ["Casablanca"]\n', ["nl-voice"]),
    ('[[routing.overflow]]\nqueue = "fr-voice"\ngroups = ["Casablanca"]\nafter_s = [0, 5]\n',
     ["after_s"]),
])
def test_bad_routing_table_is_a_clear_error(cli, files, table, words) -> None:
    files["sc"].write_text(files["sc"].read_text() + table)
    out = files["dir"] / "x"
    code, _, err = cli("simulate", str(files["sc"]), str(files["fc"]), "--staffing",
                       str(files["st"]), "-o", str(out))
    assert code == 2, err
    assert all(w in err for w in words), err
    assert "Traceback" not in err and not out.exists()
