"""The REST API in-process on a real SQLite database (and PostgreSQL for the core paths):
every endpoint x role x tenant, optimistic concurrency, imports, overrides, bad requests."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from openwfm.server.models import AuditEntry, Forecast, ForecastInterval, HistoryInterval
from openwfm.server.permissions import POLICY
from server_support import PASSWORD, WEEK, World, demo_world, shift, sign_in

ROLES = ("admin", "planner", "planner-ride", "leader", "agent", "viewer_ride", "viewer_other")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("server") / "openwfm.db"
    with demo_world(f"sqlite:///{path}", login_max_failures=3, max_upload_bytes=200_000) as w:
        with w.db.transaction() as s:  # a stored forecast version, as a forecast job leaves
            fc = Forecast(name="test", version=1)
            s.add(fc)
            s.flush()
            for q in (w.facts["ride_queue"], w.facts["other_queue"]):
                for i in range(4):
                    s.add(ForecastInterval(forecast_id=fc.id, queue_id=q,
                                           interval_start=WEEK + timedelta(minutes=15 * i),
                                           volume=10.0 + i, aht_s=300.0))
            w.facts["forecast"] = fc.id
        yield w


def who(w: World, role: str) -> str:
    return str(w.facts.get(role, role)) if role in ("leader", "agent", "viewer_ride",
                                                     "viewer_other") else role


# every GET endpoint: the object type its permission is checked on, and the path to call
def get_endpoints(w: World) -> dict[str, tuple[str, str]]:
    f = w.facts
    return {
        "/api/health": ("", "/api/health"),
        "/api/auth/me": ("self", "/api/auth/me"),
        "/api/clients": ("client", "/api/clients"),
        "/api/clients/{client_id}": ("client", f"/api/clients/{f['ride']}"),
        "/api/sites": ("site", "/api/sites"),
        "/api/sites/{site_id}": ("site", "/api/sites/1"),
        "/api/queues": ("queue", "/api/queues"),
        "/api/queues/{queue_id}": ("queue", f"/api/queues/{f['ride_queue']}"),
        "/api/queues/{queue_id}/history": ("history", f"/api/queues/{f['ride_queue']}/history"),
        "/api/teams": ("team", "/api/teams"),
        "/api/teams/{team_id}": ("team", f"/api/teams/{f['team']}"),
        "/api/agents": ("agent", "/api/agents"),
        "/api/agents/{agent_id}": ("agent", f"/api/agents/{f['agent']}"),
        "/api/agents/{agent_id}/schedule": ("agent_schedule",
                                            f"/api/agents/{f['agent']}/schedule"),
        "/api/users": ("user", "/api/users"),
        "/api/users/{user_id}": ("user", "/api/users/1"),
        "/api/schedules": ("schedule", "/api/schedules"),
        "/api/schedules/{schedule_id}": ("schedule", f"/api/schedules/{f['schedule']}"),
        "/api/schedules/{schedule_id}/segments": (
            "schedule", f"/api/schedules/{f['schedule']}/segments"),
        "/api/imports/history": ("history:write", "/api/imports/history"),
        "/api/forecasts": ("forecast", "/api/forecasts"),
        "/api/forecasts/{forecast_id}": ("forecast", f"/api/forecasts/{f['forecast']}"),
        "/api/forecasts/{forecast_id}/intervals": (
            "forecast", f"/api/forecasts/{f['forecast']}/intervals"),
        "/api/forecasts/{forecast_id}/overrides": (
            "forecast", f"/api/forecasts/{f['forecast']}/overrides"),
        "/api/jobs": ("job", "/api/jobs"),
        "/api/jobs/{job_id}": ("job", "/api/jobs/no-such-job"),
        "/api/audit": ("audit", "/api/audit"),
        "/api/rta/adherence": ("adherence", f"/api/rta/adherence?team={f['team']}"),
        "/api/rta/exceptions/stream": (
            "rta_exceptions", f"/api/rta/exceptions/stream?team={f['team']}&max_s=0"),
    }


def test_every_get_endpoint_answers_each_role_as_the_policy_says(world: World) -> None:
    table = get_endpoints(world)
    paths = world.client.get("/openapi.json").json()["paths"]
    listed = {p for p, ops in paths.items() if "get" in ops}
    assert listed == set(table), "add the new endpoint to this table"
    for template, (object_type, path) in table.items():
        for role in ROLES:
            r = world.client.get(path, headers=world.h(who(world, role)))
            if object_type in ("", "self"):
                assert r.status_code == 200, (path, role)
                continue
            role_value = {"leader": "team_leader", "agent": "agent", "viewer_ride":
                          "client_viewer", "viewer_other": "client_viewer",
                          "planner-ride": "planner"}.get(role, role)
            kind, _, action = object_type.partition(":")
            may = role_value in {x.value for x in POLICY[(kind, action or "read")]}
            if not may:
                assert r.status_code == 403, (template, role, r.status_code)
            elif template == "/api/jobs/{job_id}":
                assert r.status_code == 404
            else:
                assert r.status_code in (200, 404), (template, role, r.status_code, r.text)
            if r.status_code >= 400:
                assert "detail" in r.json() and "Traceback" not in r.text
        r = world.client.get(path)
        assert r.status_code == (200 if object_type == "" else 401), path


def test_tenancy_narrows_what_each_role_sees(world: World) -> None:
    f, c = world.facts, world.client
    # a client viewer lists only their client's queues, and cannot open another's
    viewer = world.h(who(world, "viewer_ride"))
    mine = {q["client_id"] for q in c.get("/api/queues", headers=viewer).json()}
    assert mine == {f["ride"]}
    r = c.get(f"/api/queues/{f['other_queue']}", headers=world.h(who(world, "viewer_ride")))
    assert r.status_code == 404
    r = c.get(f"/api/clients/{f['other']}", headers=world.h(who(world, "viewer_ride")))
    assert r.status_code == 404
    rows = c.get(f"/api/forecasts/{f['forecast']}/intervals",
                 headers=world.h(who(world, "viewer_ride"))).json()
    assert {r["queue_id"] for r in rows} == {f["ride_queue"]}
    # agent personal data never reaches a client viewer
    for path in ("/api/agents", f"/api/agents/{f['agent']}/schedule",
                 f"/api/schedules/{f['schedule']}/segments"):
        assert c.get(path, headers=world.h(who(world, "viewer_ride"))).status_code == 403
    # an agent reads only their own schedule
    me = world.h(who(world, "agent"))
    r = c.get(f"/api/agents/{f['agent']}/schedule", headers=me)
    assert r.status_code == 200 and len(r.json()["segments"]) == 15
    assert c.get(f"/api/agents/{f['other_agent']}/schedule", headers=me).status_code == 404
    assert [a["id"] for a in c.get("/api/agents", headers=me).json()] == [f["agent"]]
    # a team leader sees their team's agents and schedule rows only
    lead = world.h(who(world, "leader"))
    assert {a["id"] for a in c.get("/api/agents", headers=lead).json()} == set(f["team_agents"])
    assert c.get(f"/api/agents/{f['other_agent']}/schedule", headers=lead).status_code == 404
    segs = c.get(f"/api/schedules/{f['schedule']}/segments", headers=lead).json()
    assert {s["agent_id"] for s in segs} <= set(f["team_agents"]) and segs
    # a planner assigned one client sees that client and the agents serving it
    pr = world.h("planner-ride")
    assert [x["id"] for x in c.get("/api/clients", headers=pr).json()] == [f["ride"]]
    assert c.get(f"/api/queues/{f['other_queue']}", headers=pr).status_code == 404
    agents = c.get("/api/agents", headers=pr).json()
    assert agents and all(any(s["skill_id"].startswith("ride-") for s in a["skills"])
                          for a in agents)


def _draft_put(world: World, etag: str, agent: str, day: int) -> object:
    f = world.facts
    return world.client.put(f"/api/schedules/{f['schedule']}/draft/agents/{agent}",
                            headers=world.h("admin", **{"If-Match": etag}),
                            json={"segments": shift(agent, day, start_h=10)})


def test_concurrent_edits_second_writer_gets_409_and_nothing_is_lost(world: World) -> None:
    f, c = world.facts, world.client
    etag = c.get(f"/api/schedules/{f['schedule']}", headers=world.h("admin")).headers["ETag"]
    a1, a2 = f["team_agents"][1], f["team_agents"][2]
    results: dict[str, int] = {}

    def edit(agent: str) -> None:
        results[agent] = _draft_put(world, etag, agent, 5).status_code  # type: ignore[attr-defined]

    threads = [threading.Thread(target=edit, args=(a,)) for a in (a1, a2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    winner = next(a for a, code in results.items() if code == 200)
    loser = a2 if winner == a1 else a1
    sched = c.get(f"/api/schedules/{f['schedule']}", headers=world.h("admin"))
    assert int(sched.headers["ETag"].strip('"')) == int(etag.strip('"')) + 1
    # the loser reloads and retries: both edits are in the draft
    r = _draft_put(world, sched.headers["ETag"], loser, 5)
    assert r.status_code == 200  # type: ignore[attr-defined]
    draft = c.get(f"/api/schedules/{f['schedule']}/segments", params={"version": "draft"},
                  headers=world.h("admin")).json()
    for agent in (a1, a2):
        sat = [s for s in draft if s["agent_id"] == agent and s["start"].startswith("2026-04-04")]
        assert len(sat) == 3
    # the published version is untouched until publish; then both edits are published
    pub = c.get(f"/api/schedules/{f['schedule']}/segments", headers=world.h("admin")).json()
    assert not [s for s in pub if s["start"].startswith("2026-04-04")]
    stale = c.post(f"/api/schedules/{f['schedule']}/publish",
                   headers=world.h("admin", **{"If-Match": etag}))
    assert stale.status_code == 409
    r = c.post(f"/api/schedules/{f['schedule']}/publish",
               headers=world.h("admin", **{"If-Match": r.headers["ETag"]}))  # type: ignore[attr-defined]
    assert r.status_code == 200 and len(r.json()["versions"]) == 2
    mine = c.get(f"/api/agents/{a1}/schedule", headers=world.h("admin")).json()
    assert mine["version"] == 2 and len(mine["segments"]) == 3  # the PUT replaced all 15
    with world.db.read() as s:
        edits = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "edit_draft")).all()
        assert {e.object_id.split("/")[1] for e in edits} >= {a1, a2}
        assert all(e.username == "admin" and e.after["segments"] for e in edits)
    assert c.post(f"/api/schedules/{f['schedule']}/publish",
                  headers=world.h("admin")).status_code == 428


def test_history_import_uses_the_cli_validation_and_is_all_or_nothing(world: World) -> None:
    f, c = world.facts, world.client
    q = f["ride_queue"]
    good = "interval_start,queue,volume,aht_s\n" + "".join(
        f"2026-03-02T{h:02d}:00:00Z,{q},{10 + h},300\n" for h in range(6))
    r = c.post("/api/imports/history", headers=world.h("planner-ride"),
               files={"file": ("acd.csv", good, "text/csv")})
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 6 and r.json()["interval_s"] == 3600
    bad = good.replace(f"2026-03-02T02:00:00Z,{q},12,", f"2026-03-02T02:00:00Z,{q},twelve,")
    bad = bad.replace("2026-03-02", "2026-03-09")
    r = c.post("/api/imports/history", headers=world.h("planner-ride"),
               files={"file": ("acd.csv", bad, "text/csv")})
    assert r.status_code == 422
    err = r.json()["detail"][0]
    assert err["loc"] == ["body", "file", 3, "volume"] and "acd.csv" in err["msg"]
    with world.db.read() as s:
        days = {t.date().isoformat() for t in s.scalars(sa.select(HistoryInterval.interval_start))}
    assert days == {"2026-03-02"}  # the bad file stored nothing
    # a queue of another client is unknown to this planner
    r = c.post("/api/imports/history", headers=world.h("planner-ride"),
               files={"file": ("x.csv", good.replace(q, str(f["other_queue"])), "text/csv")})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "queue"
    r = c.post("/api/imports/history", headers=world.h("admin"),
               files={"file": ("big.csv", io.BytesIO(b"x" * 300_000), "text/csv")})
    assert r.status_code == 413
    r = c.post("/api/imports/history", headers=world.h(who(world, "viewer_ride")),
               files={"file": ("acd.csv", good, "text/csv")})
    assert r.status_code == 403
    # the viewer sees the imported service results of their own queue
    rows = c.get(f"/api/queues/{q}/history", headers=world.h(who(world, "viewer_ride"))).json()
    assert len(rows) == 6 and rows[0]["volume"] == 10


def test_forecast_override_keeps_who_when_why_and_the_old_value(world: World) -> None:
    f, c = world.facts, world.client
    body = {"queue_id": f["ride_queue"], "interval_start": WEEK.isoformat(),
            "field": "volume", "value": 42.0, "reason": "marketing campaign"}
    r = c.post(f"/api/forecasts/{f['forecast']}/overrides", headers=world.h("planner-ride"),
               json=body)
    assert r.status_code == 201, r.text
    assert r.json()["previous"] == 10.0 and r.json()["reason"] == "marketing campaign"
    rows = c.get(f"/api/forecasts/{f['forecast']}/intervals",
                 params={"queue_id": f["ride_queue"]}, headers=world.h("admin")).json()
    assert rows[0]["volume"] == 42.0 and rows[0]["overridden"] is True
    assert not rows[1]["overridden"]
    other = {**body, "queue_id": f["other_queue"]}
    r = c.post(f"/api/forecasts/{f['forecast']}/overrides", headers=world.h("planner-ride"),
               json=other)
    assert r.status_code == 422  # another client's queue: not visible to this planner
    r = c.post(f"/api/forecasts/{f['forecast']}/overrides",
               headers=world.h(who(world, "viewer_ride")), json=body)
    assert r.status_code == 403


def test_bad_requests_get_4xx_naming_the_field(world: World) -> None:
    c, f = world.client, world.facts
    r = c.patch(f"/api/agents/{f['agent']}", headers=world.h("admin"),
                json={"contract_hours": "lots"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "contract_hours"]
    r = c.patch(f"/api/agents/{f['agent']}", headers=world.h("admin"),
                json={"skills": [{"skill_id": "no-such-queue"}]})
    assert r.status_code == 422 and "no-such-queue" in r.text
    r = c.get("/api/clients/not-a-number", headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "client_id"]
    r = c.post("/api/schedules", headers=world.h("admin"), json={
        "name": "x", "period_start": WEEK.isoformat(),
        "period_end": (WEEK + timedelta(days=7)).isoformat(),
        "segments": [*shift(f["agent"], 0), *shift(f["agent"], 0, start_h=10)]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "segments", 3, "start"]
    r = c.post("/api/schedules", headers=world.h("admin"), content=b"{not json",
               )
    assert r.status_code == 422
    r = c.post("/api/jobs", headers=world.h("admin"), json={"kind": "everything"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "kind"]


def test_agent_update_is_audited_with_before_and_after(world: World) -> None:
    c, f = world.client, world.facts
    agent = f["team_agents"][4]
    r = c.patch(f"/api/agents/{agent}", headers=world.h("planner"), json={"contract_hours": 30})
    assert r.status_code == 200 and r.json()["contract_hours"] == 30
    entries = c.get("/api/audit", params={"object_type": "agent", "object_id": agent},
                    headers=world.h("admin")).json()
    assert entries[0]["username"] == "planner"
    assert entries[0]["after"]["contract_hours"] == 30
    assert entries[0]["before"]["contract_hours"] != 30
    assert c.patch(f"/api/agents/{agent}", headers=world.h(who(world, "leader")),
                   json={"contract_hours": 20}).status_code == 403


def test_sign_in_is_rate_limited_and_tokens_are_checked(world: World) -> None:
    c = world.client
    for _ in range(3):
        r = c.post("/api/auth/token", data={"username": "planner", "password": "wrong"})
        assert r.status_code == 401
    r = c.post("/api/auth/token", data={"username": "planner", "password": PASSWORD})
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert c.get("/api/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    token = world.tokens["admin"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert c.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    r = c.post("/api/auth/token", data={"username": "nobody", "password": "x"})
    assert r.status_code == 401


@pytest.mark.slow
def test_core_paths_on_postgresql(pg_fresh_db: str) -> None:
    with demo_world(pg_fresh_db) as w:
        f, c = w.facts, w.client
        r = c.get(f"/api/agents/{f['agent']}/schedule", headers=w.h(str(f["agent"])))
        assert r.status_code == 200 and len(r.json()["segments"]) == 15
        assert c.get(f"/api/agents/{f['other_agent']}/schedule",
                     headers=w.h(str(f["agent"]))).status_code == 404
        etag = c.get(f"/api/schedules/{f['schedule']}", headers=w.h("admin")).headers["ETag"]
        assert _draft_put(w, etag, f["team_agents"][1], 5).status_code == 200  # type: ignore[attr-defined]
        assert _draft_put(w, etag, f["team_agents"][2], 5).status_code == 409  # type: ignore[attr-defined]
        assert sign_in(c, "admin")
