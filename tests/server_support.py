"""Helpers of the server tests: a migrated database holding the demo center, signed-in
clients per role, and a small published schedule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from openwfm.server import Settings, create_app
from openwfm.server.db import Database
from openwfm.server.demo import load_demo
from openwfm.server.migrate import upgrade
from openwfm.server.models import Agent, Client, QualityForm, Queue, Team, User

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
        for who in ("admin", "planner", leader, team_agents[0], viewer_ride, viewer_other,
                    "qa-1"):
            w.tokens[str(who)] = sign_in(client, str(who))
        r = client.post("/api/users", headers=w.h("admin"), json={
            "username": "planner-ride", "password": PASSWORD, "role": "planner",
            "client_ids": [ride]})
        assert r.status_code == 201, r.text
        w.tokens["planner-ride"] = sign_in(client, "planner-ride")
        w.facts.update(ride=ride, other=other, ride_queue=ride_queue, other_queue=other_queue,
                       team=team.id, team_agents=team_agents, other_agent=other_agent,
                       leader=leader, agent=team_agents[0], viewer_ride=viewer_ride,
                       viewer_other=viewer_other, evaluator="qa-1")
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
        with db.read() as s:
            w.facts["quality_form"] = s.scalar(sa.select(QualityForm.id).where(
                QualityForm.form_key == "ridenow-voice"))
        try:
            yield w
        finally:
            db.dispose()


def quality_get_endpoints(w: World) -> dict[str, tuple[str, str]]:
    """The GET endpoints of /api/quality for the endpoint x role x tenant walk (object type
    of their permission, path to call)."""
    return {
        "/api/quality/forms": ("quality_form", "/api/quality/forms"),
        "/api/quality/forms/{form_id}": ("quality_form", "/api/quality/forms/1"),
        "/api/quality/evaluations": ("quality_evaluation", "/api/quality/evaluations"),
        "/api/quality/evaluations/{evaluation_id}": ("quality_evaluation",
                                                     "/api/quality/evaluations/1"),
        "/api/quality/export/evaluations.csv": ("quality_evaluation",
                                                "/api/quality/export/evaluations.csv"),
        "/api/quality/scores": ("quality_score", "/api/quality/scores?by=site"),
        "/api/quality/homogeneity": ("quality_score", "/api/quality/homogeneity?by=team"),
        "/api/quality/coaching": ("coaching", "/api/quality/coaching"),
        "/api/quality/calibrations": ("calibration", "/api/quality/calibrations"),
        "/api/quality/calibrations/{calibration_id}": ("calibration",
                                                       "/api/quality/calibrations/1"),
    }


# ---------------------------------------------------------------- quality: the write walk
LOW_ANSWERS = {"greet": 2, "verify_identity": 1, "understand_need": 2, "accurate_answer": 2,
               "hold_procedure": None, "empathy": 2, "recap": 1, "further_help": 0,
               "disclosure": None}
"""Answers of the demo's ridenow-voice form scoring 55: a coaching task opens."""


def quality_evaluation(k: Any, *, disputed: bool = False) -> int:
    """A new low-score evaluation of the walk's agent (made by admin), disputed by that
    agent when asked; its id. `k` is the walk (client, facts, admin requests)."""
    r = k.admin("POST", "/api/quality/evaluations", json={
        "form_id": k.f["quality_form"], "contact_id": k.uid("contact"),
        "agent_id": k.f["agent"], "answers": LOW_ANSWERS})
    eid = int(r.json()["id"])
    if disputed:
        r = k.w.client.post(f"/api/quality/evaluations/{eid}/dispute",
                            headers=k.w.h(str(k.f["agent"])), json={"reason": "walk"})
        assert r.status_code == 200, r.text
    return eid


def quality_coaching_task(k: Any) -> int:
    eid = quality_evaluation(k)
    tasks = k.admin("GET", f"/api/quality/coaching?agent_id={k.f['agent']}").json()
    return int(next(t["id"] for t in tasks if t["evaluation_id"] == eid))


def quality_form_body(k: Any) -> dict[str, Any]:
    return {"id": k.uid("form"), "client": "RideNow", "channel": "chat",
            "sections": [{"id": "s", "items": [{"id": "a", "points": 2}]}]}


def quality_csv(agent: str, rows: int = 2, bad: dict[str, str] | None = None) -> str:
    """An evaluations CSV of the ridenow-voice form (the CLI's layout), `rows` rows of
    `agent`; `bad` overrides cells of the last row."""
    cols = ["evaluation_id", "contact_id", "agent_id", "evaluator_id", "evaluated_at",
            "queue", *LOW_ANSWERS]
    out = [",".join(cols)]
    for i in range(rows):
        cells = {"evaluation_id": f"IMP-{i}", "contact_id": f"CT-IMP-{i}", "agent_id": agent,
                 "evaluator_id": "qa-2", "evaluated_at": "2026-03-25T10:00:00Z",
                 "queue": "ride-es-voice",
                 **{k: "NA" if v is None else str(v) for k, v in LOW_ANSWERS.items()}}
        if bad and i == rows - 1:
            cells.update(bad)
        out.append(",".join(cells[c] for c in cols))
    return "\n".join(out) + "\n"


QUALITY_WRITES: dict[tuple[str, str], tuple[str, Any, set[int], bool]] = {
    ("post", "/api/quality/imports/evaluations"): ("quality_evaluation:write", lambda k: (
        "/api/quality/imports/evaluations", {
            "files": {"file": ("evals.csv", quality_csv(str(k.f["agent"]), 1), "text/csv")},
            "data": {"form_id": str(k.f["quality_form"])}}), {201}, True),
    ("post", "/api/quality/forms"): ("quality_form:write", lambda k: (
        "/api/quality/forms", {"json": quality_form_body(k)}), {201}, True),
    ("post", "/api/quality/evaluations"): ("quality_evaluation:write", lambda k: (
        "/api/quality/evaluations", {"json": {
            "form_id": k.f["quality_form"], "contact_id": k.uid("contact"),
            "agent_id": k.f["agent"], "answers": LOW_ANSWERS}}), {201}, True),
    ("post", "/api/quality/evaluations/{evaluation_id}/dispute"): (
        "quality_dispute:write", lambda k: (
            f"/api/quality/evaluations/{quality_evaluation(k)}/dispute",
            {"json": {"reason": "walk"}}), {200}, True),
    ("post", "/api/quality/evaluations/{evaluation_id}/resolve"): (
        "quality_resolution:write", lambda k: (
            f"/api/quality/evaluations/{quality_evaluation(k, disputed=True)}/resolve",
            {"json": {"outcome": "upheld"}}), {200}, True),
    ("patch", "/api/quality/coaching/{task_id}"): ("coaching:write", lambda k: (
        f"/api/quality/coaching/{quality_coaching_task(k)}", {"json": {"status": "done"}}),
        {200}, True),
    ("post", "/api/quality/calibrations"): ("calibration:write", lambda k: (
        "/api/quality/calibrations", {"json": {
            "form_id": k.f["quality_form"], "name": k.uid("calibration"),
            "held_at": "2026-03-27T09:00:00Z", "ratings": [
                {"contact_id": "c1", "evaluator": e, "answers": LOW_ANSWERS}
                for e in ("qa-1", "qa-2")]}}), {201}, True),
}
"""The write operations of /api/quality for the endpoint x role x tenant walk of
tests/test_server_api.py (same shape as its WRITES)."""


# ---------------------------------------------------------------- intraday
def legal_day_shift(agent: str, t8: datetime) -> list[dict[str, object]]:
    """08:00-16:30 with break1 10:00, the meal 12:00-12:30 and break2 14:30 (the demo's
    break rules)."""
    cuts = [(0, 120, "work"), (120, 135, "break"), (135, 240, "work"), (240, 270, "meal"),
            (270, 390, "work"), (390, 405, "break"), (405, 510, "work")]
    return [{"agent_id": agent, "activity": act,
             "start": (t8 + timedelta(minutes=a)).isoformat(),
             "end": (t8 + timedelta(minutes=b)).isoformat(), "queue_id": None}
            for a, b, act in cuts]


def intraday_queue(w: World, queue_id: str, agents: tuple[str, ...], t8: datetime,
                   client_id: int) -> int:
    """A voice queue of its own (zone of `t8`) served by `agents` (new), a forecast of 2
    contacts a quarter from `t8` for 10 hours (AHT 300 s), and a published 7-day schedule
    where every agent works `legal_day_shift` from `t8` (meals and breaks all at once);
    returns the schedule id."""
    from openwfm.server.models import Forecast, ForecastInterval, Skill

    tz = str(t8.tzinfo)
    with w.db.transaction() as s:
        s.add(Queue(id=queue_id, client_id=client_id, channel="voice", language="en",
                    market="US", tz=tz, sl_target=0.8, answer_within_s=20.0, max_asa_s=None,
                    max_abandon=None, max_occupancy=None, patience_s=None))
        s.flush()
        s.add(Skill(id=queue_id, queue_id=queue_id))
        s.flush()
        from openwfm.server.models import AgentSkill

        for aid in agents:
            a = Agent(id=aid, name=aid, site_id=1, tz=tz)
            a.skills = [AgentSkill(skill_id=queue_id, rank=0)]
            s.add(a)
        fc = Forecast(name=queue_id, version=1)
        s.add(fc)
        s.flush()
        for i in range(40):
            s.add(ForecastInterval(forecast_id=fc.id, queue_id=queue_id,
                                   interval_start=t8 + timedelta(minutes=15 * i),
                                   volume=2.0, aht_s=300.0))
    segs = [x for a in agents for x in legal_day_shift(a, t8)]
    start = t8 - timedelta(days=3, hours=8)
    r = w.client.post("/api/schedules", headers=w.h("admin"), json={
        "name": f"{queue_id} week", "period_start": start.isoformat(),
        "period_end": (start + timedelta(days=7)).isoformat(), "segments": segs})
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    r = w.client.post(f"/api/schedules/{sid}/publish",
                      headers=w.h("admin", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200, r.text
    return sid


def run_queued_jobs(w: World | str) -> int:
    """Run the jobs waiting on the job queue of world `w`'s app (or of the database URL
    `w`: its default queue) as the huey worker does (huey's `execute` of the
    `openwfm.server.worker.run_job` task: claim, a child process, cancellation watched),
    one after the other; returns how many tasks ran."""
    from openwfm.server.config import default_jobs_url
    from openwfm.server.worker import queue

    jobs_url = (default_jobs_url(w) if isinstance(w, str)
                else w.client.app.state.settings.effective_jobs_url)  # type: ignore[attr-defined]
    huey, _ = queue(jobs_url)
    n = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        n += 1
    return n
