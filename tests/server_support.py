"""Helpers of the server tests: a migrated database holding the demo center, signed-in
clients per role, and a small published schedule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from openwfm.server import Settings, create_app
from openwfm.server.db import Database
from openwfm.server.demo import load_demo
from openwfm.server.migrate import upgrade
from openwfm.server.models import Agent, Client, Queue, Team, User

PASSWORD = "test-password-1"
WEEK = datetime(2026, 3, 30, tzinfo=UTC)


@dataclass
class World:
    """The test center and who is who in it."""

    client: TestClient
    db: Database
    tokens: dict[str, str] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)

    def h(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def shift(agent_id: str, day: int, start_h: int = 8, hours: int = 8,
          queue: str | None = None) -> list[dict[str, object]]:
    """One shift with a 30-minute break in the middle, as API segments."""
    t0 = WEEK + timedelta(days=day, hours=start_h)
    mid = t0 + timedelta(hours=hours // 2)
    return [
        {"agent_id": agent_id, "activity": "work", "start": t0.isoformat(),
         "end": mid.isoformat(), "queue_id": queue},
        {"agent_id": agent_id, "activity": "break", "start": mid.isoformat(),
         "end": (mid + timedelta(minutes=30)).isoformat(), "queue_id": None},
        {"agent_id": agent_id, "activity": "work",
         "start": (mid + timedelta(minutes=30)).isoformat(),
         "end": (t0 + timedelta(hours=hours)).isoformat(), "queue_id": queue},
    ]


@contextmanager
def demo_world(url: str, **settings: object) -> Iterator[World]:
    """The demo center (without history) on the database at `url`, users of every role
    signed in, a second planner assigned to one client, and one published schedule."""
    upgrade(url)
    db = Database.connect(url)
    with db.transaction() as s:
        load_demo(s, PASSWORD, history=False)
    app = create_app(Settings(db_url=url, **settings))  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        w = World(client=client, db=db)
        with db.read() as s:
            clients = {c.name: c.id for c in s.scalars(sa.select(Client))}
            ride = clients["RideNow"]
            other = clients["Telco FR"]
            ride_queue = s.scalar(sa.select(Queue.id).where(Queue.client_id == ride)
                                  .order_by(Queue.id))
            other_queue = s.scalar(sa.select(Queue.id).where(Queue.client_id == other)
                                   .order_by(Queue.id))
            team = s.scalar(sa.select(Team).order_by(Team.id))
            assert team is not None
            team_agents = list(s.scalars(sa.select(Agent.id).where(Agent.team_id == team.id)
                                         .order_by(Agent.id)))
            other_agent = s.scalar(sa.select(Agent.id).where(Agent.team_id != team.id)
                                   .order_by(Agent.id))
            leader = s.scalar(sa.select(User.username).where(User.team_id == team.id))
            viewer_ride = s.scalar(sa.select(User.username).where(User.client_id == ride))
            viewer_other = s.scalar(sa.select(User.username).where(User.client_id == other))
        for who in ("admin", "planner", leader, team_agents[0], viewer_ride, viewer_other):
            w.tokens[str(who)] = sign_in(client, str(who))
        r = client.post("/api/users", headers=w.h("admin"), json={
            "username": "planner-ride", "password": PASSWORD, "role": "planner",
            "client_ids": [ride]})
        assert r.status_code == 201, r.text
        w.tokens["planner-ride"] = sign_in(client, "planner-ride")
        w.facts.update(ride=ride, other=other, ride_queue=ride_queue, other_queue=other_queue,
                       team=team.id, team_agents=team_agents, other_agent=other_agent,
                       leader=leader, agent=team_agents[0], viewer_ride=viewer_ride,
                       viewer_other=viewer_other)
        segs = [seg for a in [*team_agents[:3], other_agent] for d in range(5)
                for seg in shift(a, d)]
        r = client.post("/api/schedules", headers=w.h("admin"), json={
            "name": "week 14", "period_start": WEEK.isoformat(),
            "period_end": (WEEK + timedelta(days=7)).isoformat(), "segments": segs})
        assert r.status_code == 201, r.text
        sched = r.json()
        r = client.post(f"/api/schedules/{sched['id']}/publish",
                        headers=w.h("admin", **{"If-Match": r.headers["ETag"]}))
        assert r.status_code == 200, r.text
        w.facts["schedule"] = sched["id"]
        try:
            yield w
        finally:
            db.dispose()
