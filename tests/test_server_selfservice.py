"""Self-service through the API: request -> effect -> decision -> new schedule version ->
agent notified (in the app and by e-mail over a real local SMTP server), the calendar URL,
and two team leaders approving at once on PostgreSQL (exactly one wins)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from server_support import WEEK, World, demo_world, sign_in


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield inbox, port
    finally:
        ctl.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, smtp) -> Iterator[World]:
    path = tmp_path_factory.mktemp("selfservice") / "openwfm.db"
    with demo_world(f"sqlite:///{path}", smtp_host="127.0.0.1", smtp_port=smtp[1]) as w:
        yield w


def day(d: int, h: int = 0) -> str:
    return (WEEK + timedelta(days=d, hours=h)).isoformat()


def test_time_off_end_to_end(world: World, smtp) -> None:
    c, f = world.client, world.facts
    agent, leader = str(f["agent"]), str(f["leader"])
    r = c.put("/api/notifications/email", headers=world.h(agent),
              json={"email": "agent@example.org"})
    assert r.status_code == 204, r.text
    # the agent asks for Tuesday off: the effect is shown, the request waits for the leader
    r = c.post("/api/requests", headers=world.h(agent),
               json={"kind": "time_off", "start": day(1), "end": day(2)})
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["status"] == "pending_approval"
    assert req["effect"]["coverage_change_agent_h"] == pytest.approx(-7.5)  # 8 h - 30 min
    assert req["hours"] == pytest.approx(8.0)
    assert any(n["kind"] == "request_pending" for n in c.get(
        "/api/notifications", headers=world.h(leader)).json())
    # the leader's queue shows it with its effect; a viewer and another team cannot decide
    queue = c.get("/api/requests?status=pending_approval", headers=world.h(leader)).json()
    assert [q["id"] for q in queue] == [req["id"]]
    assert queue[0]["effect"]["intervals"]
    assert c.post(f"/api/requests/{req['id']}/approve", headers=world.h(
        agent, **{"If-Match": "1"})).status_code == 403
    assert c.get(f"/api/requests/{req['id']}", headers=world.h(
        str(f["viewer_ride"]))).status_code == 403
    etag = c.get(f"/api/requests/{req['id']}", headers=world.h(leader)).headers["ETag"]
    r = c.post(f"/api/requests/{req['id']}/approve",
               headers=world.h(leader, **{"If-Match": etag}))
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "approved" and done["applied_version"] == int(etag.strip('"')) + 1
    # the schedule: a new published version where the agent is off on Tuesday
    seg = c.get(f"/api/schedules/{f['schedule']}/segments?agent_id={agent}",
                headers=world.h("admin")).json()
    tuesday = [s for s in seg if s["start"][:10] == day(1)[:10]]
    assert {s["activity"] for s in tuesday} == {"time_off"}
    # stale decision and repeated decision: 409 with a clear message
    r = c.post(f"/api/requests/{req['id']}/approve", headers=world.h(leader, **{"If-Match": "1"}))
    assert r.status_code == 409 and "approved cannot be approved" in r.json()["detail"]
    # the agent is notified in the app and by e-mail
    notes = c.get("/api/notifications", headers=world.h(agent)).json()
    assert notes[0]["kind"] == "request_decided" and "approved" in notes[0]["message"]
    inbox, _ = smtp
    assert any(to == ["agent@example.org"] and "approved" in body
               for to, body in inbox.messages)


def test_a_request_that_breaks_a_rule_is_refused_naming_it(world: World) -> None:
    c, f = world.client, world.facts
    other = str(f["team_agents"][1])
    token = sign_in(c, other)
    # swap the agent's Wednesday with the other agent's Wednesday: identical shifts, fine;
    # but an offer of a Thursday shift to an agent who works Thursday overlaps
    r = c.post("/api/requests", headers={"Authorization": f"Bearer {token}"},
               json={"kind": "offer", "shift_start": day(3, 8),
                     "other_agent_id": str(f["agent"])})
    assert r.status_code == 422
    assert "overlap" in r.text


def test_calendar_subscription_url_is_secret_and_revocable(world: World) -> None:
    c, agent = world.client, str(world.facts["agent"])
    r = c.post("/api/calendar/token", headers=world.h(agent))
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    feed = c.get(url)
    assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    assert "Shift" in feed.text
    assert c.get(url.replace(r.json()["token"], "not-a-token")).status_code == 404
    assert c.delete("/api/calendar/token", headers=world.h(agent)).status_code == 204
    assert c.get(url).status_code == 404


def test_two_leaders_approving_at_once_exactly_one_wins_on_postgresql(pg_fresh_db: str
                                                                       ) -> None:
    with demo_world(pg_fresh_db) as w:
        c, f = w.client, w.facts
        a1, a2 = str(f["team_agents"][0]), str(f["team_agents"][1])
        t2 = sign_in(c, a2)
        ids = []
        for token in (w.tokens[a1], t2):
            r = c.post("/api/requests", headers={"Authorization": f"Bearer {token}"},
                       json={"kind": "time_off", "start": day(2), "end": day(3)})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        admin = w.h("admin", **{"If-Match": "1"})
        leader = w.h(str(f["leader"]), **{"If-Match": "1"})
        gate = threading.Barrier(2)
        answers: dict[int, object] = {}

        def approve(rid: int, headers: dict[str, str]) -> None:
            gate.wait()
            answers[rid] = c.post(f"/api/requests/{rid}/approve", headers=headers)

        threads = [threading.Thread(target=approve, args=(rid, h))
                   for rid, h in zip(ids, (admin, leader), strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(a.status_code for a in answers.values())  # type: ignore[attr-defined]
        assert codes == [200, 409], [a.text for a in answers.values()]  # type: ignore[attr-defined]
        lost = next(a for a in answers.values() if a.status_code == 409)  # type: ignore[attr-defined]
        assert "the schedule changed while you decided" in lost.json()["detail"]
        # the loser is still pending, exactly one new version exists
        states = sorted(c.get(f"/api/requests/{i}", headers=w.h("admin")).json()["status"]
                        for i in ids)
        assert states == ["approved", "pending_approval"]
        sched = c.get(f"/api/schedules/{f['schedule']}", headers=w.h("admin")).json()
        assert [v["number"] for v in sched["versions"]] == [1, 2]


def legal_shift(agent_id: str, t0) -> list[dict[str, object]]:
    """An 8.5-hour shift with the demo's breaks (the rule checker accepts it)."""
    cuts = [(0, 120, "work"), (120, 135, "break"), (135, 240, "work"), (240, 270, "meal"),
            (270, 390, "work"), (390, 405, "break"), (405, 510, "work")]
    return [{"agent_id": agent_id, "activity": act,
             "start": (t0 + timedelta(minutes=a)).isoformat(),
             "end": (t0 + timedelta(minutes=b)).isoformat(), "queue_id": None}
            for a, b, act in cuts]


def test_swap_and_open_offer_end_to_end(world: World) -> None:
    import sqlalchemy as sa

    from openwfm.server.models import Agent, AgentSkill

    c, f = world.client, world.facts
    with world.db.read() as s:  # two team mates with the same skills
        skills: dict[str, set[str]] = {}
        for a, k in s.execute(sa.select(AgentSkill.agent_id, AgentSkill.skill_id).join(
                Agent, Agent.id == AgentSkill.agent_id).where(Agent.team_id == f["team"])):
            skills.setdefault(a, set()).add(k)
    a1 = str(f["agent"])
    a2 = next(a for a in f["team_agents"][1:] if skills.get(a) == skills[a1])
    t1, t2 = world.tokens[a1], sign_in(c, a2)
    h1, h2 = {"Authorization": f"Bearer {t1}"}, {"Authorization": f"Bearer {t2}"}
    week = WEEK + timedelta(days=35)
    segs = [x for d in range(5) for x in legal_shift(a1, week + timedelta(days=d, hours=8))]
    segs += [x for d in range(5) for x in legal_shift(a2, week + timedelta(days=d, hours=9))]
    r = c.post("/api/schedules", headers=world.h("admin"), json={
        "name": "swap week", "period_start": week.isoformat(),
        "period_end": (week + timedelta(days=7)).isoformat(), "segments": segs})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = c.post(f"/api/schedules/{sid}/publish",
               headers=world.h("admin", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200, r.text
    # a swap of Mondays (08:00 <-> 09:00): the other agent is notified and accepts
    r = c.post("/api/requests", headers=h1, json={
        "kind": "swap", "schedule_id": sid, "shift_start": (week + timedelta(hours=8))
        .isoformat(), "other_agent_id": a2, "other_shift_start": (week + timedelta(hours=9))
        .isoformat()})
    assert r.status_code == 201, r.text
    swap = r.json()
    assert swap["status"] == "pending_acceptance"
    assert any(n["kind"] == "swap_offered" for n in c.get("/api/notifications", headers=h2)
               .json())
    r = c.post(f"/api/requests/{swap['id']}/accept", headers=h1)
    assert r.status_code == 403                       # not by the requester
    r = c.post(f"/api/requests/{swap['id']}/accept", headers=h2)
    assert r.status_code == 200, r.text
    assert r.json()["status"] in ("pending_approval", "auto_approved")
    if r.json()["status"] == "pending_approval":
        v = r.json()["schedule_version"]
        r = c.post(f"/api/requests/{swap['id']}/approve",
                   headers=world.h(str(f["leader"]), **{"If-Match": str(v)}))
        assert r.status_code == 200, r.text
    assert r.json()["applied_version"] == 2
    seg = c.get(f"/api/schedules/{sid}/segments?agent_id={a1}", headers=world.h("admin")).json()
    first = min(datetime.fromisoformat(x["start"].replace("Z", "+00:00")) for x in seg)
    assert first == week + timedelta(hours=9)                # a1 now works a2's Monday
    # an open offer of a2's Friday: a1 already works Friday (overlap) -> refused with it
    fri = (week + timedelta(days=4, hours=9)).isoformat()
    r = c.post("/api/requests", headers=h2, json={"kind": "offer", "schedule_id": sid,
                                                  "shift_start": fri})
    assert r.status_code == 201, r.text
    offer = r.json()
    assert offer["status"] == "pending_acceptance" and offer["other_agent_id"] is None
    mine = c.get("/api/requests", headers=h1).json()
    assert offer["id"] in {x["id"] for x in mine}          # visible to the team
    r = c.post(f"/api/requests/{offer['id']}/accept", headers=h1)
    assert r.status_code == 422 and "overlap" in r.text
    assert c.post(f"/api/requests/{offer['id']}/cancel", headers=h2).json()["status"] \
        == "cancelled"


def test_annual_leave_balance_per_contract(world: World) -> None:
    import dataclasses

    import sqlalchemy as sa

    from openwfm.selfservice import Accrual
    from openwfm.server import selfservice as svc
    from openwfm.server.center import load_scenario_from_db
    from openwfm.server.models import Agent

    c, f = world.client, world.facts
    agent = str(f["agent"])
    r = c.get("/api/leave?on=2026-03-30", headers=world.h(agent))
    assert r.status_code == 200, r.text
    leave = r.json()
    with world.db.read() as s:
        hours = s.scalar(sa.select(Agent.contract_hours).where(Agent.id == agent))
    # the defaults: 25 days of contract/5 hours, a twelfth credited each month (3 by March)
    assert leave["annual_h"] == pytest.approx(25 * hours / 5)
    assert leave["accrued_h"] == pytest.approx(leave["annual_h"] * 3 / 12)
    taken = sum(x["hours"] for x in c.get("/api/requests", headers=world.h(agent)).json()
                if x["kind"] == "time_off" and x["status"] in ("approved", "auto_approved"))
    assert leave["taken_h"] == pytest.approx(taken)
    assert leave["balance_h"] == pytest.approx(leave["accrued_h"] - taken)
    assert leave["leave_year_start"] == "2026-01-01"
    # who may see it
    assert c.get(f"/api/leave?agent_id={agent}", headers=world.h(str(f["leader"]))
                 ).status_code == 200
    assert c.get(f"/api/leave?agent_id={f['other_agent']}", headers=world.h(
        str(f["leader"]))).status_code == 404
    assert c.get(f"/api/leave?agent_id={f['other_agent']}", headers=world.h(agent)
                 ).status_code == 404
    assert c.get("/api/leave", headers=world.h(str(f["viewer_ride"]))).status_code == 403
    # a contract's own allowance: [[selfservice.contracts]] by contract hours
    with world.db.read() as s:
        sc = load_scenario_from_db(s)
        extra = dict(sc.extra or {})
        extra["selfservice"] = {"annual_leave_days": 20, "contracts": [
            {"contract_hours": hours, "annual_leave_days": 30, "accrual": "upfront",
             "year_start_month": 4, "carry_over_h": 16}]}
        a = svc.allowance_for(s, dataclasses.replace(sc, extra=extra), agent)
        assert (a.annual_h, a.accrual, a.year_start_month, a.carry_over_h) == (
            30 * hours / 5, Accrual.UPFRONT, 4, 16.0)
        assert svc.leave_year(a, date(2026, 3, 30)) == (date(2025, 4, 1), date(2026, 4, 1))
        extra["selfservice"]["contracts"][0]["contract_hours"] = hours + 1  # not this one
        b = svc.allowance_for(s, dataclasses.replace(sc, extra=extra), agent)
        assert (b.annual_h, b.accrual) == (20 * hours / 5, Accrual.MONTHLY)
