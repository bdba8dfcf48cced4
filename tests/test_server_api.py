"""The REST API in-process on a real SQLite database (and PostgreSQL for the core paths):
every endpoint x role x tenant, optimistic concurrency, imports, overrides, bad requests."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from openwfm.server.models import AuditEntry, Forecast, ForecastInterval, HistoryInterval
from openwfm.server.permissions import POLICY
from server_support import (
    PASSWORD,
    QUALITY_WRITES,
    WEEK,
    World,
    demo_world,
    intraday_queue,
    quality_get_endpoints,
    shift,
    sign_in,
)

ROLES = ("admin", "planner", "planner-ride", "leader", "agent", "viewer_ride", "viewer_other",
         "evaluator")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("server") / "openwfm.db"
    with demo_world(f"sqlite:///{path}", login_max_failures=3, login_max_address_failures=8,
                    max_upload_bytes=200_000) as w:
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
                                                     "viewer_other", "evaluator") else role


# every GET endpoint: the object type its permission is checked on, and the path to call
def get_endpoints(w: World) -> dict[str, tuple[str, str]]:
    f = w.facts
    return {
        "/api/health": ("", "/api/health"),
        "/api/auth/me": ("self", "/api/auth/me"),
        # OIDC is off in this world: 404 for everyone (tests/test_server_oidc.py signs in)
        "/api/auth/oidc/login": ("off", "/api/auth/oidc/login"),
        "/api/auth/oidc/callback": ("off", "/api/auth/oidc/callback?code=c&state=s"),
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
        "/api/agents/{agent_id}/preferences": ("availability",
                                               f"/api/agents/{f['agent']}/preferences"),
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
        "/api/requirements": ("requirement", "/api/requirements"),
        "/api/requirements/{requirement_id}": ("requirement", "/api/requirements/1"),
        "/api/requirements/{requirement_id}/intervals": (
            "requirement", "/api/requirements/1/intervals"),
        "/api/capacity-plans": ("capacity", "/api/capacity-plans"),
        "/api/capacity-plans/{plan_id}": ("capacity", "/api/capacity-plans/1"),
        "/api/scenarios": ("scenario", "/api/scenarios"),
        "/api/scenarios/{scenario_id}": ("scenario", "/api/scenarios/1"),
        "/api/jobs": ("job", "/api/jobs"),
        "/api/jobs/{job_id}": ("job", "/api/jobs/no-such-job"),
        "/api/audit": ("audit", "/api/audit"),
        "/api/rta/adherence": ("adherence", f"/api/rta/adherence?team={f['team']}"),
        "/api/rta/exceptions/stream": (
            "rta_exceptions", f"/api/rta/exceptions/stream?team={f['team']}&max_s=0"),
        "/api/rta/actuals": ("queue_actuals", f"/api/rta/actuals?queue_id={f['ride_queue']}"),
        "/api/rta/queue-state": ("queue_state",
                                 f"/api/rta/queue-state?queue_id={f['ride_queue']}"),
        "/api/intraday/queues/{queue_id}": (
            "intraday", f"/api/intraday/queues/{f['ride_queue']}?at=2026-03-30T00:15:00Z"),
        "/api/intraday/proposals/{proposal_id}": ("intraday",
                                                  "/api/intraday/proposals/2000000"),
        **quality_get_endpoints(w),
        "/api/requests": ("request", "/api/requests"),
        "/api/requests/{request_id}": ("request", "/api/requests/2000000"),
        "/api/notifications": ("notification", "/api/notifications"),
        "/api/leave": ("request", "/api/leave"),
        "/api/bids": ("bid", "/api/bids"),
        "/api/bids/{bid_id}": ("bid", "/api/bids/2000000"),
        # the secret token is the credential: an unknown one is 404 with or without sign-in
        "/api/calendar/{token}.ics": ("off", "/api/calendar/no-such-token.ics"),
    }


def role_value(role: str) -> str:
    return {"leader": "team_leader", "agent": "agent", "viewer_ride": "client_viewer",
            "viewer_other": "client_viewer", "planner-ride": "planner"}.get(role, role)


def test_every_endpoint_is_in_the_walk() -> None:
    """Every operation of the API has an expectation in the walks below: a new endpoint
    without one fails here."""
    from openwfm.server import Settings, create_app

    paths = create_app(Settings(db_url="sqlite://")).openapi()["paths"]
    listed = {(m, p) for p, ops in paths.items() for m in ops}
    gets = {("get", p) for p in get_endpoints(World(client=None, db=None,  # type: ignore[arg-type]
                                                    facts=FAKE_FACTS))}
    assert listed == gets | set(WRITES), (
        "add the new endpoint to get_endpoints or WRITES: "
        f"{sorted(listed - gets - set(WRITES))}")


def legal_shift(agent_id: str, t0: datetime) -> list[dict[str, object]]:
    """An 8.5-hour shift with the demo's breaks (15 min at +2 h, a 30-min meal at +4 h,
    15 min at +6.5 h): one the rule checker accepts."""
    cuts = [(0, 120, "work"), (120, 135, "break"), (135, 240, "work"), (240, 270, "meal"),
            (270, 390, "work"), (390, 405, "break"), (405, 510, "work")]
    return [{"agent_id": agent_id, "activity": act,
             "start": (t0 + timedelta(minutes=a)).isoformat(),
             "end": (t0 + timedelta(minutes=b)).isoformat(), "queue_id": None}
            for a, b, act in cuts]


FAKE_FACTS = {k: "x" for k in ("ride", "ride_queue", "team", "agent", "schedule", "forecast")}


def test_every_get_endpoint_answers_each_role_as_the_policy_says(world: World) -> None:
    table = get_endpoints(world)
    for template, (object_type, path) in table.items():
        for role in ROLES:
            r = world.client.get(path, headers=world.h(who(world, role)))
            if object_type == "off":
                assert r.status_code == 404, (path, role)
                continue
            if object_type in ("", "self"):
                assert r.status_code == 200, (path, role)
                continue
            kind, _, action = object_type.partition(":")
            may = role_value(role) in {x.value for x in POLICY[(kind, action or "read")]}
            if not may:
                assert r.status_code == 403, (template, role, r.status_code)
            elif template == "/api/jobs/{job_id}":
                assert r.status_code == 404
            else:
                assert r.status_code in (200, 404), (template, role, r.status_code, r.text)
            if r.status_code >= 400:
                assert "detail" in r.json() and "Traceback" not in r.text
        r = world.client.get(path)
        assert r.status_code == {"": 200, "off": 404}.get(object_type, 401), path


Call = tuple[str, dict[str, Any]]
"""(path, keyword arguments of the test client's request)."""


class Walk:
    """Makes, for each write operation and role, a valid request on an object of its own
    (so that a refusal is the role's, not the body's, and a success harms no other test)."""

    def __init__(self, w: World) -> None:
        self.w, self.f, self.n = w, w.facts, 0

    def intraday(self) -> tuple[str, str]:
        """A queue of the walk's own with two agents whose meals fall together, on the walk
        week's Tuesday (New York), and the instant to re-optimize at (10:30)."""
        if "intraday" not in self.f:
            t8 = datetime(2026, 3, 31, 8, tzinfo=ZoneInfo("America/New_York"))
            intraday_queue(self.w, "ride-walk-intraday", ("WALK-I1", "WALK-I2"), t8,
                           int(self.f["ride"]))
            self.f["intraday"] = ("ride-walk-intraday", (t8 + timedelta(hours=2, minutes=30))
                                  .astimezone(UTC).isoformat())
        return self.f["intraday"]  # type: ignore[return-value]

    def proposal(self) -> int:
        """A fresh open proposal (admin's) for the walk's intraday queue on the published
        version of now: accepting it publishes again, so each role gets its own. Made
        in-process (`compute_proposal` and `store_proposal`, what the job runs; the job
        itself runs through the worker in test_server_intraday.py)."""
        q, at = self.intraday()
        r = self.reoptimized(q, at)
        if not r["moves"]:  # already re-optimized: undo it by a new publish of v1
            sid = r["schedule_id"]
            etag = self.admin("GET", f"/api/schedules/{sid}").headers["ETag"]
            v1 = self.admin("GET", f"/api/schedules/{sid}/segments?version=1").json()
            for a in ("WALK-I1", "WALK-I2"):
                segs = [{k: x[k] for k in ("agent_id", "activity", "start", "end",
                                           "queue_id")} for x in v1 if x["agent_id"] == a]
                etag = self.admin("PUT", f"/api/schedules/{sid}/draft/agents/{a}",
                                  json={"segments": segs},
                                  headers={"If-Match": etag}).headers["ETag"]
            self.admin("POST", f"/api/schedules/{sid}/publish", headers={"If-Match": etag})
            r = self.reoptimized(q, at)
        return int(r["id"])

    def reoptimized(self, queue_id: str, at: str) -> dict[str, Any]:
        from openwfm.server.intraday import compute_proposal, store_proposal
        from openwfm.server.models import Queue, User

        with self.w.db.read() as s:
            q = s.get(Queue, queue_id)
            admin = s.scalar(sa.select(User.id).where(User.username == "admin"))
            draft = compute_proposal(s, q, datetime.fromisoformat(at))
        with self.w.db.transaction() as s:
            prop = store_proposal(s, draft, admin)
            return {"id": prop.id, "schedule_id": prop.schedule_id,
                    "moves": prop.payload["moves"]}

    def uid(self, stem: str) -> str:
        self.n += 1
        return f"walk-{stem}-{self.n}"

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        headers = {**kw.pop("headers", {}), **self.w.h("admin")}
        r = self.w.client.request(method, path, headers=headers, **kw)
        assert r.status_code < 300, (method, path, r.text)
        return r

    def site(self) -> int:
        return int(self.admin("POST", "/api/sites", json=self.site_body()).json()["id"])

    def site_body(self) -> dict[str, Any]:
        return {"name": self.uid("site"), "country": "ma", "tz": "Africa/Casablanca",
                "seats": 10, "cost_per_hour": 9.5}

    def team(self) -> int:
        return int(self.admin("POST", "/api/teams", json={
            "name": self.uid("team"), "site_id": 1}).json()["id"])

    def queue_body(self) -> dict[str, Any]:
        return {"id": self.uid("queue"), "client_id": self.f["ride"], "channel": "chat",
                "language": "en", "market": "us"}

    def queue(self) -> str:
        return str(self.admin("POST", "/api/queues", json=self.queue_body()).json()["id"])

    def agent_body(self) -> dict[str, Any]:
        return {"id": self.uid("agent"), "site_id": 1,
                "skills": [{"skill_id": self.f["ride_queue"], "proficiency": 0.8}]}

    def agent(self) -> str:
        return str(self.admin("POST", "/api/agents", json=self.agent_body()).json()["id"])

    def schedule(self) -> tuple[int, str]:
        start = WEEK - timedelta(days=70)  # before the period the other tests read
        r = self.admin("POST", "/api/schedules", json={
            "name": self.uid("schedule"), "period_start": start.isoformat(),
            "period_end": (start + timedelta(days=7)).isoformat(), "segments": []})
        return int(r.json()["id"]), r.headers["ETag"]

    def published(self, shifts: dict[str, list[int]]) -> tuple[int, datetime]:
        """A published schedule of its own week (before the period the other tests read)
        with 8-hour shifts on the given days."""
        self.n += 1
        start = WEEK - timedelta(days=70 + 7 * self.n)
        segs = [s for a, days in shifts.items() for d in days
                for s in legal_shift(a, start + timedelta(days=d, hours=8))]
        r = self.admin("POST", "/api/schedules", json={
            "name": self.uid("ss"), "period_start": start.isoformat(),
            "period_end": (start + timedelta(days=7)).isoformat(), "segments": segs})
        sid = int(r.json()["id"])
        r = self.w.client.post(f"/api/schedules/{sid}/publish",
                               headers=self.w.h("admin", **{"If-Match": r.headers["ETag"]}))
        assert r.status_code == 200, r.text
        return sid, start

    def bid(self) -> int:
        """A fresh open shift bid of the walk's team for a week of its own."""
        parts = [["work", 120], ["break", 15], ["work", 105], ["meal", 30], ["work", 120],
                 ["break", 15], ["work", 105]]
        r = self.admin("POST", "/api/bids", json={
            "name": self.uid("bid"), "team_id": self.f["team"], "period_start": "2025-06-02",
            "method": "seniority", "patterns": [{"name": "early", "places": 100, "shifts": [
                {"day": d, "start": "08:00", "parts": parts} for d in range(5)]}]})
        return int(r.json()["id"])

    def meeting(self) -> dict[str, Any]:
        """A session for the agent on a published week of its own (version 1)."""
        sid, start = self.published({self.f["agent"]: [0, 1, 2, 3, 4]})
        t0 = start + timedelta(days=1, hours=8)
        return {"schedule_id": sid, "people": [self.f["agent"]], "activity": "training",
                "start": t0.isoformat(), "end": (t0 + timedelta(hours=1)).isoformat()}

    def request_week(self) -> tuple[int, datetime]:
        """One published week of the agent for the request walk (pending requests leave it
        as it is, so every call can ask for the same day)."""
        if not hasattr(self, "_week"):
            self._week = self.published({self.f["agent"]: [0, 1, 2, 3, 4]})
        return self._week

    def still(self, rid: int | None, status: str) -> bool:
        """Whether request `rid` is still in `status` (a role refused left it as it was)."""
        if rid is None:
            return False
        r = self.w.client.get(f"/api/requests/{rid}", headers=self.w.h("admin"))
        return bool(r.json()["status"] == status)

    def time_off(self) -> dict[str, Any]:
        """A pending time-off request of the agent on a schedule of its own (the last one
        again while no role consumed it)."""
        last = getattr(self, "_time_off", None)
        if last is not None and self.still(last["id"], "pending_approval"):
            return dict(last)
        sid, start = self.published({self.f["agent"]: [0, 1, 2, 3, 4]})
        r = self.w.client.post("/api/requests", headers=self.w.h(self.f["agent"]), json={
            "kind": "time_off", "schedule_id": sid,
            "start": (start + timedelta(days=1)).isoformat(),
            "end": (start + timedelta(days=2)).isoformat()})
        assert r.status_code == 201, r.text
        self._time_off = dict(r.json())
        return dict(r.json())

    def offer_to_agent(self) -> int:
        """An offer of a shift to the agent by a team mate (who works 6 days); the last one
        again while no role consumed it."""
        last = getattr(self, "_offer", None)
        if self.still(last, "pending_acceptance"):
            return int(last)  # type: ignore[arg-type]
        mate = self.f["team_agents"][1]
        sid, start = self.published({self.f["agent"]: [0, 2, 3, 4], mate: [0, 1, 2, 3, 4, 5]})
        token = sign_in(self.w.client, mate)
        r = self.w.client.post("/api/requests", headers={"Authorization": f"Bearer {token}"},
                               json={"kind": "offer", "schedule_id": sid,
                                     "shift_start": (start + timedelta(days=1, hours=8))
                                     .isoformat(), "other_agent_id": self.f["agent"]})
        assert r.status_code == 201, r.text
        self._offer = int(r.json()["id"])
        return self._offer

    def job(self) -> str:
        return str(self.admin("POST", "/api/jobs", json={"kind": "forecast"}).json()["id"])

    def history_csv(self) -> dict[str, Any]:
        q = self.f["ride_queue"]  # inside the span the import test replaces
        text = "interval_start,queue,volume\n" + "".join(
            f"2026-03-02T0{h}:00:00Z,{q},5\n" for h in (1, 2))
        return {"files": {"file": ("walk.csv", text, "text/csv")}}

    def calls_csv(self) -> dict[str, Any]:
        q = self.f["ride_queue"]
        text = "arrival,outcome,wait_s,queue,handle_s\n" + "".join(
            f"2026-03-02T01:{m}:00Z,served,5,{q},100\n" for m in ("05", "40"))
        return {"files": {"file": ("walk-log.csv", text, "text/csv")},
                "data": {"interval_s": "1800"}}


S, WRITE_OK, DELETED, ACCEPTED = "self", {200, 201}, {204}, {202}
# every write operation: (object type, action) its permission is checked on, the request
# for a role, the answers a permitted role may get (tenancy may narrow to 404), and whether
# a success must leave an audit entry
WRITES: dict[tuple[str, str], tuple[str, Any, set[int], bool]] = {
    ("post", "/api/auth/token"): ("", lambda k: ("/api/auth/token", {"data": {
        "username": "admin", "password": PASSWORD}}), {200}, False),
    ("post", "/api/clients"): ("client:write", lambda k: (
        "/api/clients", {"json": {"name": k.uid("client")}}), {201}, True),
    ("post", "/api/sites"): ("site:write", lambda k: (
        "/api/sites", {"json": k.site_body()}), {201}, True),
    ("patch", "/api/sites/{site_id}"): ("site:write", lambda k: (
        f"/api/sites/{k.site()}", {"json": {"seats": 12}}), {200}, True),
    ("delete", "/api/sites/{site_id}"): ("site:write", lambda k: (
        f"/api/sites/{k.site()}", {}), DELETED, True),
    ("post", "/api/teams"): ("team:write", lambda k: (
        "/api/teams", {"json": {"name": k.uid("team"), "site_id": 1}}), {201}, True),
    ("patch", "/api/teams/{team_id}"): ("team:write", lambda k: (
        f"/api/teams/{k.team()}", {"json": {"name": k.uid("team")}}), {200}, True),
    ("delete", "/api/teams/{team_id}"): ("team:write", lambda k: (
        f"/api/teams/{k.team()}", {}), DELETED, True),
    ("post", "/api/queues"): ("queue:write", lambda k: (
        "/api/queues", {"json": k.queue_body()}), {201}, True),
    ("patch", "/api/queues/{queue_id}"): ("queue:write", lambda k: (
        f"/api/queues/{k.queue()}", {"json": {"priority": 3}}), {200}, True),
    ("delete", "/api/queues/{queue_id}"): ("queue:write", lambda k: (
        f"/api/queues/{k.queue()}", {}), DELETED, True),
    ("post", "/api/agents"): ("agent:write", lambda k: (
        "/api/agents", {"json": k.agent_body()}), {201}, True),
    ("patch", "/api/agents/{agent_id}"): ("agent:write", lambda k: (
        f"/api/agents/{k.agent()}", {"json": {"contract_hours": 35}}), {200}, True),
    ("delete", "/api/agents/{agent_id}"): ("agent:write", lambda k: (
        f"/api/agents/{k.agent()}", {}), DELETED, True),
    # an agent's availability and preferences: the agent's own only (others' 404)
    ("put", "/api/agents/{agent_id}/preferences"): ("availability:write", lambda k: (
        f"/api/agents/{k.f['agent']}/preferences", {"json": {"preferences": [
            {"kind": "max_nights", "value": "1"}]}}), {200}, True),
    ("post", "/api/users"): ("user:write", lambda k: ("/api/users", {"json": {
        "username": k.uid("user"), "password": PASSWORD, "role": "client_viewer",
        "client_id": k.f["ride"]}}), {201}, True),
    ("patch", "/api/users/{user_id}"): ("user:write", lambda k: (lambda uid: (
        f"/api/users/{uid}", {"json": {"active": False, "password": "another-pass-1"}}))(
            k.admin("POST", "/api/users", json={
                "username": k.uid("user"), "password": PASSWORD, "role": "planner",
                "client_ids": [k.f["ride"]]}).json()["id"]), {200}, True),
    ("post", "/api/schedules"): ("schedule:write", lambda k: ("/api/schedules", {"json": {
        "name": k.uid("schedule"), "period_start": (WEEK + timedelta(days=84)).isoformat(),
        "period_end": (WEEK + timedelta(days=91)).isoformat()}}), {201}, True),
    ("put", "/api/schedules/{schedule_id}/draft/agents/{agent_id}"): (
        "schedule:write", lambda k: (lambda sid, etag: (
            f"/api/schedules/{sid}/draft/agents/{k.f['agent']}",
            {"json": {"segments": []}, "headers": {"If-Match": etag}}))(*k.schedule()),
        {200}, True),
    ("post", "/api/schedules/{schedule_id}/publish"): ("schedule:write", lambda k: (
        lambda sid, etag: (f"/api/schedules/{sid}/publish", {"headers": {"If-Match": etag}}))(
            *k.schedule()), {200}, True),
    ("post", "/api/imports/history"): ("history:write", lambda k: (
        "/api/imports/history", k.history_csv()), {201}, True),
    ("post", "/api/imports/calls"): ("history:write", lambda k: (
        "/api/imports/calls", k.calls_csv()), {201}, True),
    ("post", "/api/forecasts/{forecast_id}/overrides"): ("forecast:write", lambda k: (
        f"/api/forecasts/{k.f['forecast']}/overrides", {"json": {
            "queue_id": k.f["ride_queue"], "interval_start": (
                WEEK + timedelta(minutes=45)).isoformat(),
            "field": "aht_s", "value": 290, "reason": "walk test"}}), {201}, True),
    ("post", "/api/jobs"): ("job:write", lambda k: (
        "/api/jobs", {"json": {"kind": "forecast"}}), ACCEPTED, True),
    ("delete", "/api/jobs/{job_id}"): ("job:write", lambda k: (
        f"/api/jobs/{k.job()}", {}), ACCEPTED, True),
    ("post", "/api/requests"): ("request:write", lambda k: (lambda sid, start: (
        "/api/requests", {"json": {"kind": "time_off", "schedule_id": sid,
                                   "start": (start + timedelta(days=2)).isoformat(),
                                   "end": (start + timedelta(days=3)).isoformat()}}))(
        *k.request_week()), {201}, True),
    ("post", "/api/requests/{request_id}/approve"): ("request_decision:write", lambda k: (
        lambda r: (f"/api/requests/{r['id']}/approve", {"headers": {
            "If-Match": str(r["schedule_version"])}}))(k.time_off()), {200}, True),
    ("post", "/api/requests/{request_id}/reject"): ("request_decision:write", lambda k: (
        f"/api/requests/{k.time_off()['id']}/reject", {"json": {"note": "walk"}}), {200},
        True),
    ("post", "/api/requests/{request_id}/cancel"): ("request:write", lambda k: (
        f"/api/requests/{k.time_off()['id']}/cancel", {}), {200}, True),
    ("post", "/api/requests/{request_id}/accept"): ("request:write", lambda k: (
        f"/api/requests/{k.offer_to_agent()}/accept", {}), {200}, True),
    ("post", "/api/requests/{request_id}/decline"): ("request:write", lambda k: (
        f"/api/requests/{k.offer_to_agent()}/decline", {}), {200}, True),
    ("put", "/api/notifications/email"): ("notification:read", lambda k: (
        "/api/notifications/email", {"json": {"email": "walk@example.org"}}), {204}, True),
    # a reading mark of one's own notifications, not audited
    ("post", "/api/notifications/read"): ("notification:read", lambda k: (
        "/api/notifications/read", {"json": {}}), {204}, False),
    ("post", "/api/calendar/token"): ("calendar_token:write", lambda k: (
        "/api/calendar/token", {}), {201}, True),
    ("delete", "/api/calendar/token"): ("calendar_token:write", lambda k: (
        "/api/calendar/token", {}), {204}, True),
    # agent-state events are an idempotent event log of their own, not audited one by one
    ("post", "/api/rta/events"): ("rta_event:write", lambda k: (
        "/api/rta/events", {"json": []}), {200}, False),
    # the re-optimization (a job) and its accept flow run end to end in
    # test_server_intraday.py; here the roles and tenants of starting the job
    ("post", "/api/intraday/queues/{queue_id}/reoptimize"): ("intraday:write", lambda k: (
        f"/api/intraday/queues/{k.intraday()[0]}/reoptimize",
        {"params": {"at": k.intraday()[1]}}), ACCEPTED, True),
    ("post", "/api/intraday/proposals/{proposal_id}/accept"): ("intraday:write", lambda k: (
        f"/api/intraday/proposals/{k.proposal()}/accept", {"json": {"proposals": []}}),
        {200}, True),
    ("post", "/api/rta/actuals"): ("queue_actuals:write", lambda k: (
        "/api/rta/actuals", {"json": [{
            "queue_id": k.f["ride_queue"], "interval_start": "2026-03-02T03:00:00Z",
            "volume": 10, "handled": 9,
            "abandoned": 1, "aht_s": 240.0, "service_level": 0.8}]}), {200}, True),
    ("post", "/api/rta/queue-state"): ("queue_state:write", lambda k: (
        "/api/rta/queue-state", {"json": [{
            "queue_id": k.f["ride_queue"], "at": "2026-03-02T03:00:05Z", "waiting": 4,
            "oldest_wait_s": 35.0, "in_service": 9}]}), {200}, True),
    # shift bids and the meeting scheduler (end to end in test_server_bids.py and
    # test_server_meetings.py)
    ("post", "/api/bids"): ("bid:write", lambda k: ("/api/bids", {"json": {
        "name": k.uid("bid"), "team_id": k.f["team"], "period_start": "2025-06-02",
        "method": "fairness", "patterns": [{"name": "a", "places": 100, "shifts": [
            {"day": 0, "start": "08:00", "parts": [["work", 240]]}]}]}}), {201}, True),
    ("put", "/api/bids/{bid_id}/ranking"): ("bid_ranking:write", lambda k: (
        f"/api/bids/{k.bid()}/ranking", {"json": {"ranking": ["early"]}}), {200}, True),
    ("post", "/api/bids/{bid_id}/close"): ("bid:write", lambda k: (
        f"/api/bids/{k.bid()}/close", {"json": {}}), {200}, True),
    ("post", "/api/meetings/proposal"): ("meeting:write", lambda k: (lambda m: (
        "/api/meetings/proposal", {"json": {
            "schedule_id": m["schedule_id"], "agent_ids": m["people"], "duration_min": 60,
            "window_start": m["start"], "window_end": m["end"]}}))(k.meeting()),
        {200}, False),
    ("post", "/api/meetings"): ("meeting:write", lambda k: (
        "/api/meetings", {"json": k.meeting(), "headers": {"If-Match": "1"}}), {201}, True),
    **QUALITY_WRITES,
}


def test_every_write_endpoint_answers_each_role_as_the_policy_says(world: World) -> None:
    walk = Walk(world)
    for (method, template), (object_type, make, ok, audited) in WRITES.items():
        for role in ROLES:
            path, kw = make(walk)
            headers = {**kw.pop("headers", {}), **world.h(who(world, role))}
            with world.db.read() as s:
                before = s.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
            r = world.client.request(method.upper(), path, headers=headers, **kw)
            kind, _, action = object_type.partition(":")
            may = not kind or role_value(role) in {x.value for x in POLICY[(kind, action)]}
            if not may:
                assert r.status_code == 403, (method, template, role, r.status_code, r.text)
            else:
                assert r.status_code in ok | {404}, (method, template, role, r.status_code,
                                                     r.text)
                assert r.status_code != 404 or role_value(role) != "admin", (template, r.text)
            if r.status_code >= 400:
                assert "detail" in r.json() and "Traceback" not in r.text
            with world.db.read() as s:
                entries = s.scalars(sa.select(AuditEntry).where(AuditEntry.id > before)).all()
            if r.status_code < 300 and audited:  # every write audited, by who made it
                assert [e.username for e in entries] == [who(world, role)], (template, role)
            elif r.status_code >= 400:
                assert not entries, (template, role)  # a refused write leaves nothing
        # without a token: 401 before anything else
        path, kw = make(walk)
        kw.pop("headers", None)
        if object_type:
            assert world.client.request(method.upper(), path, **kw).status_code == 401


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
        edits = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "edit_draft",
            AuditEntry.object_id.startswith(f"{f['schedule']}/"))).all()
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
    assert r.json()["username"] == "planner-ride"
    listed = c.get(f"/api/forecasts/{f['forecast']}/overrides",
                   headers=world.h(who(world, "viewer_ride"))).json()
    mine = [o for o in listed if o["reason"] == "marketing campaign"]
    assert mine and mine[0]["username"] == "planner-ride" and mine[0]["created_at"]
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
    # one address trying many names: limited whatever the names (4 failures so far)
    for name in ("n1", "n2", "n3", "n4"):
        assert c.post("/api/auth/token", data={"username": name,
                                                "password": "x"}).status_code == 401
    r = c.post("/api/auth/token", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 429 and "from testclient" in r.json()["detail"]


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
