"""The hot read path (`openwfm.server.readpath`): an agent's week answered from one query
and a per-process cache that a publish, a disabled user or a moved agent invalidate at
once; ETag / If-None-Match -> 304; the fast path and the documented route agree."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from openwfm.server.models import Agent, PlannerClient, Team, User
from openwfm.server.security import issue_token, read_token
from server_support import PASSWORD, WEEK, World, demo_world, shift, sign_in

PERIOD = {"start": WEEK.isoformat(), "end": (WEEK + timedelta(days=7)).isoformat()}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("readpath") / "openwfm.db"
    with demo_world(f"sqlite:///{path}") as w:
        yield w


def week(w: World, who: str, agent: object, **headers: str) -> object:
    return w.client.get(f"/api/agents/{agent}/schedule", params=PERIOD,
                        headers=w.h(who, **headers))


def test_etag_and_304_and_a_publish_changes_the_answer(world: World) -> None:
    f, c = world.facts, world.client
    agent = str(f["agent"])
    r = week(world, agent, agent)
    assert r.status_code == 200 and len(r.json()["segments"]) == 15  # type: ignore[attr-defined]
    etag = r.headers["ETag"]  # type: ignore[attr-defined]
    again = week(world, agent, agent, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""  # type: ignore[attr-defined]
    assert week(world, agent, agent, **{"If-None-Match": '"other"'}).status_code == 200  # type: ignore[attr-defined]
    # a new published version: the cached week is not served any more
    sched = c.get(f"/api/schedules/{f['schedule']}", headers=world.h("admin"))
    r = c.put(f"/api/schedules/{f['schedule']}/draft/agents/{agent}",
              headers=world.h("admin", **{"If-Match": sched.headers["ETag"]}),
              json={"segments": shift(agent, 6, start_h=9)})
    assert r.status_code == 200, r.text
    assert week(world, agent, agent).json()["segments"][0]["start"].startswith("2026-03-30")  # type: ignore[attr-defined]
    r = c.post(f"/api/schedules/{f['schedule']}/publish",
               headers=world.h("admin", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200, r.text
    r = week(world, agent, agent, **{"If-None-Match": etag})
    assert r.status_code == 200, "a publish must change the ETag"  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["version"] == 2 and len(body["segments"]) == 3
    assert body["segments"][0]["start"].startswith("2026-04-05T09:00")


def test_each_role_and_the_route_agree_with_the_fast_path(world: World) -> None:
    f, c = world.facts, world.client
    agent, other = str(f["agent"]), str(f["other_agent"])
    for who, target, code in [(agent, agent, 200), (agent, other, 404),
                              (str(f["leader"]), agent, 200), (str(f["leader"]), other, 404),
                              ("planner", agent, 200), ("admin", other, 200),
                              (str(f["viewer_ride"]), agent, 403), ("admin", "nobody", 404)]:
        fast = week(world, who, target)
        assert fast.status_code == code, (who, target, fast.status_code)  # type: ignore[attr-defined]
        # a form only the route parses (a UNIX time) must give the same answer
        slow = c.get(f"/api/agents/{target}/schedule", headers=world.h(who), params={
            "start": int(WEEK.timestamp()), "end": int((WEEK + timedelta(days=7)).timestamp())})
        assert slow.status_code == code
        if code == 200:
            assert slow.json() == fast.json()  # type: ignore[attr-defined]
    r = c.get(f"/api/agents/{agent}/schedule", headers=world.h("admin"),
              params={"start": PERIOD["end"], "end": PERIOD["start"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "end"]
    assert c.get(f"/api/agents/{agent}/schedule", params=PERIOD).status_code == 401
    r = c.get(f"/api/agents/{agent}/schedule", params=PERIOD,
              headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    # the default period: the latest published one
    r = c.get(f"/api/agents/{agent}/schedule", headers=world.h(agent))
    assert r.status_code == 200 and r.json()["start"].startswith("2026-03-30")


def test_a_disabled_user_or_a_moved_agent_counts_at_once(world: World) -> None:
    f = world.facts
    agent, leader = str(f["agent"]), str(f["leader"])
    assert week(world, leader, agent).status_code == 200  # type: ignore[attr-defined]
    with world.db.transaction() as s:
        team = s.scalar(sa.select(Agent.team_id).where(Agent.id == str(f["other_agent"])))
        s.execute(sa.update(Agent).where(Agent.id == agent).values(team_id=team))
    assert week(world, leader, agent).status_code == 404  # type: ignore[attr-defined]
    with world.db.transaction() as s:
        s.execute(sa.update(Agent).where(Agent.id == agent).values(team_id=f["team"]))
        s.execute(sa.update(User).where(User.username == agent).values(active=False))
    try:
        assert week(world, agent, agent).status_code == 401  # type: ignore[attr-defined]
    finally:
        with world.db.transaction() as s:
            s.execute(sa.update(User).where(User.username == agent).values(active=True))


def test_a_token_is_checked_once_but_its_expiry_every_time() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = issue_token("k" * 32, 7, ttl_s=60, now=now)
    assert read_token("k" * 32, token, now=now) is not None
    assert read_token("other-key" * 4, token, now=now) is None  # the key is part of the check
    assert read_token("k" * 32, token, now=now + timedelta(seconds=61)) is None


def test_an_admin_disabling_a_user_stops_their_token_at_once(world: World) -> None:
    c, f = world.client, world.facts
    viewer = str(f["viewer_other"])
    assert c.get("/api/queues", headers=world.h(viewer)).status_code == 200
    with world.db.read() as s:
        uid = s.scalar(sa.select(User.id).where(User.username == viewer))
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"), json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert c.get("/api/queues", headers=world.h(viewer)).status_code == 401
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"), json={"client_ids": [1]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "client_ids"]
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"), json={"active": True})
    assert c.get("/api/queues", headers=world.h(viewer)).status_code == 200
    entries = c.get("/api/audit", params={"object_type": "user", "object_id": str(uid)},
                    headers=world.h("admin")).json()
    assert entries[1]["after"]["active"] is False and entries[1]["before"]["active"] is True
    assert "password_hash" not in entries[0]["after"]


def test_an_admin_changing_a_role_takes_effect_at_the_next_request(world: World) -> None:
    """PATCH /api/users: a client viewer becomes a planner of one client, then a team
    leader; the tenancy field each role needs is required, the old role's fields are
    cleared, the change is audited and counts at the user's next request."""
    c, f = world.client, world.facts
    viewer = "role-changer"
    r = c.post("/api/users", headers=world.h("admin"), json={
        "username": viewer, "password": PASSWORD, "role": "client_viewer",
        "client_id": f["other"]})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    world.tokens[viewer] = sign_in(c, viewer)
    with world.db.read() as s:
        admin = s.scalar(sa.select(User.id).where(User.username == "admin"))
        leader = s.scalar(sa.select(User.id).where(User.username == f["leader"]))
    other_queues = {q["id"] for q in c.get("/api/queues", headers=world.h(viewer)).json()}
    assert c.get("/api/agents", headers=world.h(viewer)).status_code == 403
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"), json={"role": "team_leader"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "team_id"]
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"),
                json={"role": "planner", "client_id": f["other"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "client_id"]
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"),
                json={"role": "planner", "client_ids": [f["ride"]]})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "planner" and r.json()["client_id"] is None
    queues = c.get("/api/queues", headers=world.h(viewer)).json()
    assert queues and {q["client_id"] for q in queues} == {f["ride"]}
    assert not other_queues & {q["id"] for q in queues}
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"),
                json={"role": "team_leader", "team_id": 10**6})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "team_id"]
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"),
                json={"role": "team_leader", "team_id": f["team"]})
    assert r.status_code == 200 and r.json()["team_id"] == f["team"]
    agents = {a["id"] for a in c.get("/api/agents", headers=world.h(viewer)).json()}
    assert agents == set(f["team_agents"])  # type: ignore[arg-type]
    with world.db.read() as s:
        assert not s.scalars(sa.select(PlannerClient).where(PlannerClient.user_id == uid)).all()
    r = c.patch(f"/api/users/{admin}", headers=world.h("admin"), json={"role": "planner"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "role"]
    entries = c.get("/api/audit", params={"object_type": "user", "object_id": str(uid)},
                    headers=world.h("admin")).json()
    roles = [(e["before"] or {}).get("role") for e in entries]
    assert {"client_viewer", "planner"} <= set(roles)
    r = c.patch(f"/api/users/{uid}", headers=world.h("admin"),
                json={"role": "client_viewer", "client_id": f["other"]})
    assert r.status_code == 200 and r.json()["team_id"] is None
    with world.db.read() as s:
        assert s.scalar(sa.select(Team.leader_user_id).where(Team.id == f["team"])) != uid
    assert {q["id"] for q in c.get("/api/queues", headers=world.h(viewer)).json()} \
        == other_queues
    r = c.patch(f"/api/users/{leader}", headers=world.h("admin"),
                json={"role": "team_leader", "team_id": f["team"]})
    assert r.status_code == 200
    with world.db.read() as s:
        assert s.scalar(sa.select(Team.leader_user_id).where(Team.id == f["team"])) == leader
