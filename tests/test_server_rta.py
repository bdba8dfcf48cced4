"""Real-time adherence on the server: events in (idempotent, any order, vendor codes, roles
and tenants), live adherence against the published schedule, and the exceptions stream
read end to end from a real uvicorn server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from openwfm.server import Settings, create_app
from openwfm.server.models import Agent, AgentSkill, Queue, RtaEvent, Site, Skill
from server_support import PASSWORD, World, demo_world, sign_in


def _iso(t: datetime) -> str:
    return t.isoformat()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The demo center, an ACD user of RideNow, and a published schedule around now: the
    first team agent works 09:00-15:00 local yesterday (hand-checked figures at 12:00), the
    next three work from 2 hours ago to 2 hours ahead (the live exceptions)."""
    path = tmp_path_factory.mktemp("rta") / "openwfm.db"
    with demo_world(f"sqlite:///{path}") as w:
        f = w.facts
        agents = list(f["team_agents"])  # type: ignore[arg-type]
        with w.db.read() as s:
            tz = s.scalar(sa.select(Site.tz).join(Agent, Agent.site_id == Site.id)
                          .where(Agent.id == agents[0]))
            ride_agents = set(s.scalars(
                sa.select(AgentSkill.agent_id).join(Skill, Skill.id == AgentSkill.skill_id)
                .join(Queue, Queue.id == Skill.queue_id).where(Queue.client_id == f["ride"])))
            all_agents = list(s.scalars(sa.select(Agent.id).order_by(Agent.id)))
        assert tz is not None and ride_agents
        f["ride_agent"] = sorted(ride_agents)[0]
        f["not_ride_agent"] = next(a for a in all_agents if a not in ride_agents)
        zone = ZoneInfo(tz)
        now = datetime.now(UTC).replace(microsecond=0)
        yesterday = (now.astimezone(zone) - timedelta(days=1)).date()
        nine = datetime(yesterday.year, yesterday.month, yesterday.day, 9, tzinfo=zone)
        f["nine"] = nine
        start = (nine - timedelta(hours=12)).astimezone(UTC)
        segs = [{"agent_id": agents[0], "activity": "work", "start": _iso(nine),
                 "end": _iso(nine + timedelta(hours=6)), "queue_id": None}]
        for a in agents[1:4]:
            segs.append({"agent_id": a, "activity": "work",
                         "start": _iso(now - timedelta(hours=2)),
                         "end": _iso(now + timedelta(hours=2)), "queue_id": None})
        r = w.client.post("/api/schedules", headers=w.h("admin"), json={
            "name": "today", "period_start": _iso(start),
            "period_end": _iso(now + timedelta(days=1)), "segments": segs})
        assert r.status_code == 201, r.text
        r = w.client.post(f"/api/schedules/{r.json()['id']}/publish",
                          headers=w.h("admin", **{"If-Match": r.headers["ETag"]}))
        assert r.status_code == 200, r.text
        r = w.client.post("/api/users", headers=w.h("admin"), json={
            "username": "acd-ride", "password": PASSWORD, "role": "acd",
            "client_id": f["ride"]})
        assert r.status_code == 201, r.text
        w.tokens["acd-ride"] = sign_in(w.client, "acd-ride")
        f["now"] = now
        yield w


def _count(w: World, **where: str) -> int:
    with w.db.read() as s:
        q = sa.select(sa.func.count()).select_from(RtaEvent)
        for k, v in where.items():
            q = q.where(getattr(RtaEvent, k) == v)
        return int(s.scalar(q) or 0)


def test_events_are_stored_once_and_repeats_acknowledged(world: World) -> None:
    a = world.facts["team_agents"][4]  # type: ignore[index]
    t = datetime(2026, 12, 1, 8, tzinfo=UTC)
    batch = [{"event_id": f"idem-{i}", "agent_id": a, "state": s,
              "at": _iso(t + timedelta(minutes=i))}
             for i, s in enumerate(["available", "on_contact", "after_contact_work"])]
    r = world.client.post("/api/rta/events", headers=world.h("admin"), json=batch)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 3, "stored": 3, "duplicates": 0}
    # the same batch again (an ACD retrying after a lost answer), and a repeat inside a batch
    r = world.client.post("/api/rta/events", headers=world.h("admin"),
                          json=[*batch, batch[0]])
    assert r.json() == {"received": 4, "stored": 0, "duplicates": 4}
    assert _count(world, agent_id=a) == 3
    # the same id with other content is a conflict, and nothing of the batch is stored
    clash = [{"event_id": "idem-new", "agent_id": a, "state": "break", "at": _iso(t)},
             {**batch[1], "state": "break"}]
    r = world.client.post("/api/rta/events", headers=world.h("admin"), json=clash)
    assert r.status_code == 409 and "item 1" in r.json()["detail"]
    assert _count(world, agent_id=a) == 3


def test_bad_events_name_the_item_and_field(world: World) -> None:
    a = world.facts["agent"]
    ok = {"event_id": "bad-0", "agent_id": a, "state": "available",
          "at": "2026-12-01T08:00:00+01:00"}
    cases = [
        ({**ok, "state": "napping"}, None, ["body", 1, "state"], "logged_out"),
        ({**ok, "at": "2026-12-01T08:00:00"}, None, ["body", 1, "at"], "timezone"),
        ({**ok, "agent_id": "nobody"}, None, ["body", 1, "agent_id"], "no agent"),
        ({**ok, "at": _iso(datetime.now(UTC) + timedelta(hours=2))}, None,
         ["body", 1, "at"], "after the server's clock"),
        ({**ok, "state": "NAPPING", "reason": "SOFA"}, "genesys", ["body", 1, "state"],
         "not in the mapping genesys"),
        (ok, "acme", ["query", "mapping"], "genesys"),
    ]
    for item, mapping, loc, words in cases:
        first = {**ok, "event_id": "bad-first", "state": "ON_QUEUE" if mapping else "available"}
        body = [first, {**item, "event_id": "bad-1"}]
        url = "/api/rta/events" + (f"?mapping={mapping}" if mapping else "")
        r = world.client.post(url, headers=world.h("admin"), json=body)
        assert r.status_code == 422, (item, r.text)
        detail = r.json()["detail"][0]
        assert detail["loc"][:len(loc)] == loc, (loc, detail)
        assert words in json.dumps(detail), (words, detail)
    assert _count(world, event_id="bad-first") == 0  # nothing of a bad batch stored


def test_vendor_codes_map_through_the_preset(world: World) -> None:
    a = world.facts["team_agents"][5]  # type: ignore[index]
    items = [{"event_id": "gen-1", "agent_id": a, "state": "ON_QUEUE", "reason": "INTERACTING",
              "at": "2026-12-01T09:00:00Z"},
             {"event_id": "gen-2", "agent_id": a, "state": "MEAL",
              "at": "2026-12-01T09:30:00Z"}]
    r = world.client.post("/api/rta/events?mapping=genesys", headers=world.h("admin"),
                          json=items)
    assert r.status_code == 200, r.text
    with world.db.read() as s:
        got = dict(s.execute(sa.select(RtaEvent.event_id, RtaEvent.state)
                             .where(RtaEvent.agent_id == a)).all())
    assert got == {"gen-1": "on_contact", "gen-2": "meal"}


def test_only_admin_and_the_clients_acd_may_post(world: World) -> None:
    f = world.facts
    item = {"event_id": "role-1", "agent_id": f["ride_agent"], "state": "available",
            "at": "2026-12-01T09:00:00Z"}
    for who in ("planner", f["leader"], f["agent"], f["viewer_ride"]):
        r = world.client.post("/api/rta/events", headers=world.h(str(who)), json=[item])
        assert r.status_code == 403, (who, r.text)
    assert world.client.post("/api/rta/events", json=[item]).status_code == 401
    # the RideNow ACD posts for agents serving RideNow's queues, not for another client's
    other = {**item, "event_id": "role-2", "agent_id": f["not_ride_agent"]}
    r = world.client.post("/api/rta/events", headers=world.h("acd-ride"), json=[item, other])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", 1, "agent_id"]
    r = world.client.post("/api/rta/events", headers=world.h("acd-ride"), json=[item])
    assert r.status_code == 200 and r.json()["stored"] == 1
    # an ACD user reads nothing else
    for path in ("/api/agents", f"/api/rta/adherence?agent_id={f['ride_agent']}"):
        assert world.client.get(path, headers=world.h("acd-ride")).status_code == 403


def test_live_adherence_hand_checked_with_late_events(world: World) -> None:
    """09:00-15:00 work; available at 09:05 (5 min late in), break at 11:30 (sent first:
    out of order). At 12:00: scheduled 3 h, out 5 + 30 min, in adherence 2 h 25 min."""
    f = world.facts
    a = f["team_agents"][0]  # type: ignore[index]
    nine: datetime = f["nine"]  # type: ignore[assignment]
    late = [{"event_id": "hand-2", "agent_id": a, "state": "break",
             "at": _iso(nine + timedelta(hours=2, minutes=30))}]
    first = [{"event_id": "hand-1", "agent_id": a, "state": "available",
              "at": _iso(nine + timedelta(minutes=5))}]
    for batch in (late, first):
        assert world.client.post("/api/rta/events", headers=world.h("admin"),
                                 json=batch).status_code == 200
    noon = _iso(nine + timedelta(hours=3))
    r = world.client.get(f"/api/rta/adherence?agent_id={a}&at={noon}&grace_s=60",
                         headers=world.h(str(f["leader"])))
    assert r.status_code == 200, r.text
    (row,) = r.json()["agents"]
    assert row["state"] == "break" and row["activity"] == "work"
    assert row["in_adherence"] is False
    assert datetime.fromisoformat(row["adherence_since"]) == nine + timedelta(hours=2.5)
    assert row["scheduled_s"] == 3 * 3600
    assert row["out_of_adherence_s"] == 35 * 60
    assert row["adherence"] == pytest.approx(145 / 180)
    assert row["conformance"] == pytest.approx(145 / 180)
    assert row["events"] == 2
    # a 10-minute grace forgives the 5 late minutes, not the 30 on break
    r = world.client.get(f"/api/rta/adherence?agent_id={a}&at={noon}&grace_s=600",
                         headers=world.h(str(f["leader"])))
    assert r.json()["agents"][0]["adherence"] == pytest.approx(150 / 180)
    # back at 12:10: in adherence since 12:10
    world.client.post("/api/rta/events", headers=world.h("admin"), json=[
        {"event_id": "hand-3", "agent_id": a, "state": "available",
         "at": _iso(nine + timedelta(hours=3, minutes=10))}])
    r = world.client.get(f"/api/rta/adherence?agent_id={a}&at="
                         f"{_iso(nine + timedelta(hours=3, minutes=20))}",
                         headers=world.h(str(f["leader"])))
    row = r.json()["agents"][0]
    assert row["in_adherence"] is True
    assert datetime.fromisoformat(row["adherence_since"]) == nine + timedelta(hours=3,
                                                                                 minutes=10)


def test_who_reads_whose_adherence(world: World) -> None:
    f = world.facts
    team_agents = list(f["team_agents"])  # type: ignore[arg-type]
    r = world.client.get("/api/rta/adherence", headers=world.h(str(f["leader"])))
    assert r.status_code == 200 and r.json()["team_id"] == f["team"]
    assert [x["agent_id"] for x in r.json()["agents"]] == team_agents
    r = world.client.get("/api/rta/adherence", headers=world.h(str(f["agent"])))
    assert [x["agent_id"] for x in r.json()["agents"]] == [f["agent"]]
    assert world.client.get(f"/api/rta/adherence?agent_id={team_agents[1]}",
                            headers=world.h(str(f["agent"]))).status_code == 404
    assert world.client.get(f"/api/rta/adherence?team={f['team']}",
                            headers=world.h(str(f["agent"]))).status_code == 404
    assert world.client.get(f"/api/rta/adherence?agent_id={f['other_agent']}",
                            headers=world.h(str(f["leader"]))).status_code == 404
    assert world.client.get(f"/api/rta/adherence?team={int(f['team']) + 1}",  # type: ignore[call-overload]
                            headers=world.h(str(f["leader"]))).status_code == 404
    for who in (f["viewer_ride"], "acd-ride"):
        assert world.client.get(f"/api/rta/adherence?team={f['team']}",
                                headers=world.h(str(who))).status_code == 403
    assert world.client.get("/api/rta/adherence", headers=world.h("admin")).status_code == 422
    assert world.client.get(f"/api/rta/exceptions/stream?team={f['team']}&max_s=0",
                            headers=world.h(str(f["agent"]))).status_code == 403


# --------------------------------------------------------------------- the SSE stream, live
def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(world: World) -> Iterator[str]:
    """A real uvicorn server on the test database (its own process state: its own board)."""
    port = _port()
    config = uvicorn.Config(create_app(Settings(db_url=str(world.db.url))), host="127.0.0.1",
                            port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _next_event(lines: Iterator[str], deadline: float) -> tuple[str, dict[str, object]]:
    event, data = "", ""
    for line in lines:
        assert time.monotonic() < deadline, "no event before the deadline"
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and event:
            return event, json.loads(data)
    raise AssertionError("the stream ended")


def test_exception_arrives_on_the_stream_and_clears(world: World, live_server: str) -> None:
    """Out of adherence for 20 minutes (after_s = 10 min) arrives; 2 minutes does not;
    scheduled but never logged in (2 hours) does; back in adherence clears. Bounds are
    generous: nothing here depends on speed."""
    f = world.facts
    leader = sign_in(world.client, str(f["leader"]))
    _, b, c, d = f["team_agents"][:4]  # type: ignore[index]
    now = datetime.now(UTC)
    start = now - timedelta(hours=2)
    events = [{"event_id": f"sse-{a}-0", "agent_id": a, "state": "available",
               "at": _iso(start)} for a in (b, c)]
    events += [{"event_id": "sse-c-1", "agent_id": c, "state": "break",
                "at": _iso(now - timedelta(minutes=2))}]
    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}

    def until(lines: Iterator[str], kind: str, agent: str) -> dict[str, dict[str, object]]:
        seen: dict[str, dict[str, object]] = {}
        deadline = time.monotonic() + 60
        while True:
            event, data = _next_event(lines, deadline)
            seen[f"{event}:{data['agent_id']}"] = data
            if event == kind and data["agent_id"] == agent:
                return seen

    with httpx.Client(base_url=live_server, timeout=30) as http:
        assert http.post("/api/rta/events", headers=admin, json=events).status_code == 200
        with http.stream("GET", "/api/rta/exceptions/stream?after_s=600",
                         headers={"Authorization": f"Bearer {leader}"}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            seen = until(lines, "exception", str(d))  # never logged in: out since 2 h
            assert seen[f"exception:{d}"]["state"] == "logged_out"
            r = http.post("/api/rta/events", headers=admin, json=[
                {"event_id": "sse-b-1", "agent_id": b, "state": "other",
                 "at": _iso(now - timedelta(minutes=20))}])
            assert r.status_code == 200
            seen = until(lines, "exception", str(b))
            data = seen[f"exception:{b}"]
            assert data["state"] == "other" and data["activity"] == "work"
            assert datetime.fromisoformat(str(data["since"])) == now - timedelta(minutes=20)
            assert float(data["duration_s"]) >= 1200  # type: ignore[arg-type]
            assert f"exception:{c}" not in seen  # 2 minutes out: under after_s
            r = http.post("/api/rta/events", headers=admin, json=[
                {"event_id": "sse-b-2", "agent_id": b, "state": "available",
                 "at": _iso(datetime.now(UTC))}])
            assert r.status_code == 200
            seen = until(lines, "cleared", str(b))
            assert f"exception:{c}" not in seen and f"cleared:{d}" not in seen


def test_migration_head_has_the_events_table(tmp_path: Path) -> None:
    from openwfm.server.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = sa.create_engine(url)
    try:
        uniques = sa.inspect(engine).get_unique_constraints("rta_events")
        assert [u["column_names"] for u in uniques] == [["event_id"]]
    finally:
        engine.dispose()


def test_store_and_board_on_postgresql(pg_fresh_db: str) -> None:
    """The same idempotent insert (ON CONFLICT DO NOTHING ... RETURNING) and the board's
    overlapping re-read on PostgreSQL."""
    from openwfm.intraday.events import AgentEvent
    from openwfm.server.db import Database
    from openwfm.server.migrate import upgrade
    from openwfm.server.models import Schedule, ScheduleVersion, Segment
    from openwfm.server.rta import EventConflict, LiveBoard, store_events

    upgrade(pg_fresh_db)
    db = Database.connect(pg_fresh_db)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        with db.transaction() as s:
            site = Site(name="cas", country="MA", tz="Africa/Casablanca", seats=10,
                        cost_per_hour=10.0)
            s.add(site)
            s.flush()
            s.add(Agent(id="a1", name="A", site_id=site.id, tz="Africa/Casablanca"))
            s.flush()
            sched = Schedule(name="t", period_start=now - timedelta(days=1),
                             period_end=now + timedelta(days=1))
            s.add(sched)
            s.flush()
            v = ScheduleVersion(schedule_id=sched.id, number=1, draft_rev=1, segments=1)
            s.add(v)
            s.flush()
            s.add(Segment(schedule_id=sched.id, version_id=v.id, agent_id="a1",
                          activity="work", start=now - timedelta(hours=1),
                          end=now + timedelta(hours=1)))
            sched.published_version_id = v.id
        ev = [AgentEvent.make("p1", "a1", "available", now - timedelta(hours=1)),
              AgentEvent.make("p2", "a1", "break", now - timedelta(minutes=30))]
        with db.transaction() as s:
            r = store_events(s, [ev[1]], source="api")
        assert (r.stored, r.duplicates) == (1, 0)
        with db.transaction() as s:
            r = store_events(s, ev, source="api")
        assert (r.stored, r.duplicates) == (1, 1)
        with db.transaction() as s, pytest.raises(EventConflict):
            store_events(s, [AgentEvent.make("p1", "a1", "meal", now)], source="api")
        board = LiveBoard()
        with db.read() as s:
            assert board.sync(s, now) == 2
            assert board.sync(s, now) == 0
        # a transaction that took its id first but commits after a later one
        late = db.write()
        late.begin()
        store_events(late, [AgentEvent.make("p3", "a1", "other", now - timedelta(minutes=20))],
                     source="api")
        with db.transaction() as s:
            store_events(s, [AgentEvent.make("p4", "a1", "break",
                                             now - timedelta(minutes=10))], source="api")
        with db.read() as s:
            assert board.sync(s, now) == 1  # p4; p3's id is a gap
        assert len(board.gaps) == 1
        late.commit()
        late.close()
        with db.read() as s:
            assert board.sync(s, now) == 1  # p3, read through its gap
        assert board.gaps == {} and board.log.count("a1") == 4
        (row,) = board.rows(["a1"], now, grace_s=0)
        assert row["in_adherence"] is False and row["events"] == 4
        assert row["adherence"] == pytest.approx(0.5)
    finally:
        db.dispose()


def test_replay_feeds_a_bank_day_into_the_running_server(world: World, live_server: str,
                                                          cli: object) -> None:
    """`openwfm replay` of yesterday (in the past: the clock is never held back by now) at
    a high speed: the first team agent's events from the schedule and the bank's calls are
    stored, the live board shows them, and a second run stores nothing twice."""
    from conftest import BANK_LOG

    if not BANK_LOG.exists():
        pytest.skip(f"the bank log is not at {BANK_LOG} (see tests/conftest.py)")
    f = world.facts
    nine: datetime = f["nine"]  # type: ignore[assignment]
    args = ["replay", live_server, "--user", "admin", "--password", PASSWORD, "--log",
            str(BANK_LOG), "--log-day", "1999-02-01", "--day", nine.date().isoformat(),
            "--tz", str(nine.tzinfo), "--team", str(f["team"]), "--speed", "1000000"]
    code, out, err = cli(*args)  # type: ignore[operator]
    assert code == 0, err
    assert "given to an agent" in out and "already there" in out
    # the queue actuals of the log day: every interval of the day sent, all new
    import re

    from openwfm.server.models import HistoryInterval

    m = list(re.finditer(r"queue (\S+): (\d+)/(\d+) intervals sent \((\d+) new, 0 "
                         r"replaced\)", " ".join(out.split())))[-1]
    assert m is not None and m[2] == m[3] == m[4] and int(m[3]) > 20, out
    d0 = nine.replace(hour=0)
    with world.db.read() as s:
        offered = s.scalar(sa.select(sa.func.sum(HistoryInterval.volume)).where(
            HistoryInterval.queue_id == m[1], HistoryInterval.interval_start >= d0,
            HistoryInterval.interval_start < d0 + timedelta(days=1)))
    assert offered is not None and offered > 1000  # the bank's ~1,200 contacts a weekday
    # the queue's live state every minute, from the log's own waits
    st = list(re.finditer(r"(\d+)/(\d+) queue states \((\d+) new\)", " ".join(out.split())))[-1]
    assert st[1] == st[2] == st[3] and int(st[2]) > 600, out
    from openwfm.server.models import QueueState

    with world.db.read() as s:
        most = s.scalar(sa.select(sa.func.max(QueueState.waiting)).where(
            QueueState.queue_id == m[1], QueueState.at >= d0,
            QueueState.at < d0 + timedelta(days=1)))
        odd = s.scalar(sa.select(sa.func.count()).select_from(QueueState).where(
            QueueState.queue_id == m[1], QueueState.waiting == 0,
            QueueState.oldest_wait_s.is_not(None)))
    assert most is not None and most > 0 and odd == 0
    a = f["team_agents"][0]  # type: ignore[index]
    with world.db.read() as s:
        mine = dict(s.execute(sa.select(RtaEvent.state, sa.func.count()).where(
            RtaEvent.event_id.like("replay-%"), RtaEvent.agent_id == a)
            .group_by(RtaEvent.state)).all())
    assert mine.get("on_contact", 0) > 10 and mine["logged_out"] == 1
    n = sum(mine.values())
    code, out, err = cli(*args)  # type: ignore[operator]
    assert code == 0, err
    assert f"0 stored, {n:,} already there" in out.replace("\n", " ")
    assert f"(0 new, {m[3]} replaced)" in " ".join(out.split())
    assert f"{st[2]}/{st[2]} queue states (0 new)" in " ".join(out.split())
    r = httpx.get(f"{live_server}/api/rta/adherence", params={
        "agent_id": a, "at": _iso(nine + timedelta(hours=7))},
        headers={"Authorization": f"Bearer {world.tokens['admin']}"})
    row = r.json()["agents"][0]
    assert row["events"] == n + 3  # and the three of the hand-checked test
    assert row["state"] == "logged_out" and 0.5 < row["adherence"] <= 1


def test_group_commit_shares_a_transaction_and_isolates_a_conflict(tmp_path: Path) -> None:
    """Concurrent writers of a process: one transaction for those waiting together, each
    write in its own savepoint (a conflicting batch fails alone, nothing of it stored),
    every caller answered after the commit, with its own result."""
    from openwfm.intraday.events import AgentEvent
    from openwfm.server.db import Database
    from openwfm.server.migrate import upgrade
    from openwfm.server.rta import EventConflict, GroupCommit, store_events

    url = f"sqlite:///{tmp_path / 'gc.db'}"
    upgrade(url)
    db = Database.connect(url)
    try:
        with db.transaction() as s:
            site = Site(name="cas", country="MA", tz="Africa/Casablanca", seats=10,
                        cost_per_hour=10.0)
            s.add(site)
            s.flush()
            s.add(Agent(id="a1", name="A", site_id=site.id, tz="Africa/Casablanca"))
        t0 = datetime(2026, 12, 7, 9, tzinfo=UTC)

        def ev(eid: str, state: str = "available", k: int = 0) -> AgentEvent:
            return AgentEvent.make(eid, "a1", state, t0 + timedelta(minutes=k))

        with db.transaction() as s:
            store_events(s, [ev("old", "break")], source="test")
        gc = GroupCommit(db)
        gate = threading.Barrier(9)
        out: dict[int, object] = {}

        def post(i: int) -> None:
            batch = ([ev("old", "meal")] if i == 4  # same id, other content: a conflict
                     else [ev(f"e{i}-{j}", k=j) for j in range(5)] + [ev("old", "break")])
            gate.wait()
            try:
                out[i] = gc.run(lambda s: store_events(s, batch, source="test"))
            except EventConflict as exc:
                out[i] = exc

        threads = [threading.Thread(target=post, args=(i,)) for i in range(9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert isinstance(out[4], EventConflict)
        for i in set(range(9)) - {4}:
            assert (out[i].stored, out[i].duplicates) == (5, 1), i  # type: ignore[union-attr]
        with db.read() as s:
            rows = dict(s.execute(sa.select(RtaEvent.event_id, RtaEvent.state)).all())
        assert len(rows) == 1 + 8 * 5 and rows["old"] == "break"
        assert gc.writes == 9 and 1 <= gc.transactions <= 9
    finally:
        db.dispose()
