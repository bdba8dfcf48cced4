"""`openwfm adherence`: the command on openwfm events and on a vendor export (preset)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data" / "intraday"

SEGMENTS = """agent_id,site,team,activity,start,end,tz
u-101,ams,t1,work,2026-03-02T08:00:00+00:00,2026-03-02T10:00:00+00:00,Europe/Amsterdam
u-101,ams,t1,break,2026-03-02T10:00:00+00:00,2026-03-02T10:15:00+00:00,Europe/Amsterdam
u-102,ams,t1,work,2026-03-02T08:00:00+00:00,2026-03-02T11:30:00+00:00,Europe/Amsterdam
u-102,ams,t1,meal,2026-03-02T11:30:00+00:00,2026-03-02T12:30:00+00:00,Europe/Amsterdam
"""


def test_adherence_on_a_genesys_export(cli, tmp_path: Path) -> None:
    seg = tmp_path / "segments.csv"
    seg.write_text(SEGMENTS)
    out = tmp_path / "out"
    code, stdout, stderr = cli("adherence", str(seg), str(DATA / "genesys_agent_states.csv"),
                               "--preset", "genesys", "--grace-s", "60", "-o", str(out))
    assert code == 0, stderr
    by_agent = pd.read_csv(out / "by_agent.csv").set_index("agent_id")
    # u-101: on queue 07:58:12 -> work adheres from 08:00; break at 10:00 as scheduled
    assert by_agent.loc["u-101", "adherence"] == 1.0
    # u-102: logged out 08:00-08:00:30, off queue (AVAILABLE presence) to 08:02, then
    # NOT_RESPONDING (other) until the meal at 11:30: one spell of non-adhering states,
    # 08:00-11:30 = 12600 s; the meal 11:30-12:30 adheres
    assert by_agent.loc["u-102", "out_of_adherence_s"] == 12600
    assert by_agent.loc["u-102", "scheduled_s"] == 4.5 * 3600
    assert {"by_team.csv", "by_site.csv", "spells.csv"} <= {p.name for p in out.iterdir()}
    assert "adherence" in stdout


def test_adherence_on_openwfm_events_and_bad_input(cli, tmp_path: Path) -> None:
    seg = tmp_path / "segments.csv"
    seg.write_text(SEGMENTS)
    ev = tmp_path / "events.csv"
    ev.write_text("event_id,agent_id,state,at\n1,u-101,available,2026-03-02T09:00:00+01:00\n"
                  "2,u-101,break,2026-03-02T11:00:00+01:00\n"
                  "3,u-102,lunch,2026-03-02T09:00:00+01:00\n")
    out = tmp_path / "out"
    code, _, stderr = cli("adherence", str(seg), str(ev), "-o", str(out))
    assert code == 2 and "events.csv, row 3, column 'state'" in stderr
    assert not out.exists()
    ev.write_text(ev.read_text().replace("lunch", "meal"))
    code, _, stderr = cli("adherence", str(seg), str(ev), "-o", str(out), "--grace-s", "0")
    assert code == 0, stderr
    a = pd.read_csv(out / "by_agent.csv").set_index("agent_id")
    assert a.loc["u-101", "adherence"] == 1.0
    # u-102 on meal from 08:00 UTC: the whole 3.5 h of work is out of adherence
    assert a.loc["u-102", "out_of_adherence_s"] == 3.5 * 3600
    code, _, stderr = cli("adherence", str(seg), str(ev), "-o", str(out), "--preset", "x")
    assert code == 2 and "unknown preset" in stderr
