"""The meeting scheduler through the API: a team leader asks where an hour's meeting of
three agents costs the service least (the domain's exact placement on the same schedule),
places it with the version seen (a new published version; each person's schedule has the
meeting; an approved activity request each; notified; audited); a stale version is 409;
people outside the leader's team, a bad window and a start inside a break are 422 naming
the field; agents and client viewers may not schedule meetings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from openwfm.selfservice import place_meeting
from server_support import WEEK, World, demo_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("meetings") / "openwfm.db"
    with demo_world(f"sqlite:///{path}") as w:
        yield w


def at(d: int, h: float) -> str:
    return (WEEK + timedelta(days=d, hours=h)).isoformat()


def test_meeting_proposed_placed_versioned_and_notified(world: World) -> None:
    c, f = world.client, world.facts
    leader, agents = str(f["leader"]), [str(a) for a in f["team_agents"][:3]]  # type: ignore[index]
    body = {"agent_ids": agents, "duration_min": 60, "activity": "training",
            "title": "new tariff", "window_start": at(2, 8), "window_end": at(2, 16)}
    # roles and tenants
    assert c.post("/api/meetings/proposal", headers=world.h(agents[0]), json=body
                  ).status_code == 403
    assert c.post("/api/meetings/proposal", headers=world.h(str(f["viewer_ride"])), json=body
                  ).status_code == 403
    r = c.post("/api/meetings/proposal", headers=world.h(leader),
               json={**body, "agent_ids": [*agents, str(f["other_agent"])]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "agent_ids"]
    r = c.post("/api/meetings/proposal", headers=world.h(leader),
               json={**body, "window_end": at(2, 8.5)})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "window_end"]
    r = c.post("/api/meetings/proposal", headers=world.h(leader),
               json={**body, "room_seats": 2})
    assert r.status_code == 422 and "room of 2 seats" in r.json()["detail"][0]["msg"]

    r = c.post("/api/meetings/proposal", headers=world.h(leader), json=body)
    assert r.status_code == 200, r.text
    prop = r.json()
    assert prop["people"] == agents and prop["feasible"] >= 1
    assert prop["candidates"] == 29  # 08:00 .. 15:00 every 15 min
    # the domain's exact placement on the same published schedule
    from openwfm.server import selfservice as svc
    from openwfm.server.models import Schedule

    with world.db.read() as s:
        ctx = svc.context(s, s.get(Schedule, prop["schedule_id"]))
        m = place_meeting(ctx.problem, ctx.requirement, ctx.segments, agents, 60,
                          pd.Timestamp(at(2, 8)), pd.Timestamp(at(2, 16)))
    assert pd.Timestamp(prop["start"]) == m.start and prop["feasible"] == m.feasible
    assert prop["coverage_change_agent_h"] == pytest.approx(-3.0)

    place = {"schedule_id": prop["schedule_id"], "people": agents, "activity": "training",
             "title": "new tariff", "start": prop["start"], "end": prop["end"]}
    assert c.post("/api/meetings", headers=world.h(leader), json=place).status_code == 428
    # inside a break: refused naming the field, nothing published
    r = c.post("/api/meetings", headers=world.h(leader, **{"If-Match": str(
        prop["schedule_version"])}), json={**place, "start": at(2, 11.5), "end": at(2, 12.5)})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "start"], r.text
    r = c.post("/api/meetings", headers=world.h(leader, **{"If-Match": str(
        prop["schedule_version"])}), json=place)
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["schedule_version"] == prop["schedule_version"] + 1
    for a in agents:
        seg = c.get(f"/api/schedules/{prop['schedule_id']}/segments?agent_id={a}",
                    headers=world.h("admin")).json()
        assert any(s["activity"] == "training" and s["start"][:16] == prop["start"][:16]
                   for s in seg), seg
    mine = c.get("/api/requests", headers=world.h(agents[0])).json()
    assert any(x["kind"] == "activity" and x["status"] == "approved"
               and x["applied_version"] == done["schedule_version"] for x in mine)
    note = c.get("/api/notifications", headers=world.h(agents[0])).json()[0]
    assert note["kind"] == "schedule_changed" and "training (new tariff)" in note["message"]
    # a decision on the version seen before: 409, nothing changes
    r = c.post("/api/meetings", headers=world.h(leader, **{"If-Match": str(
        prop["schedule_version"])}), json=place)
    assert r.status_code == 409 and "the schedule changed" in r.json()["detail"]
    from openwfm.server.models import AuditEntry

    with world.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "place_meeting")) == 1


def test_two_leaders_placing_sessions_at_once_exactly_one_wins_on_postgresql(
        pg_fresh_db: str) -> None:
    import threading

    with demo_world(pg_fresh_db) as w:
        c, f = w.client, w.facts
        agents = [str(a) for a in f["team_agents"][:3]]  # type: ignore[index]
        r = c.post("/api/meetings/proposal", headers=w.h("admin"), json={
            "agent_ids": agents, "duration_min": 60, "window_start": at(1, 8),
            "window_end": at(1, 16)})
        assert r.status_code == 200, r.text
        prop = r.json()
        bodies = [{"schedule_id": prop["schedule_id"], "people": [a], "activity": kind,
                   "start": prop["start"], "end": prop["end"]}
                  for a, kind in ((agents[0], "coaching"), (agents[1], "one_to_one"))]
        gate = threading.Barrier(2)
        answers: list = []

        def place(who: str, body: dict) -> None:
            gate.wait()
            answers.append(c.post("/api/meetings", json=body, headers=w.h(
                who, **{"If-Match": str(prop["schedule_version"])})))

        threads = [threading.Thread(target=place, args=(who, b))
                   for who, b in zip(("admin", str(f["leader"])), bodies, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        lost = next(a for a in answers if a.status_code == 409)
        assert "the schedule changed while you decided" in lost.json()["detail"]
        sched = c.get(f"/api/schedules/{prop['schedule_id']}", headers=w.h("admin")).json()
        assert [v["number"] for v in sched["versions"]] == [1, 2]
