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
