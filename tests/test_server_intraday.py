"""Intraday on the server: queue actuals in (idempotent upsert, field-named errors, roles and
tenants), the intraday view of a queue's day (forecast, actuals, reforecast, requirement,
predicted service level), re-optimization and its accept flow."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from openwfm.server.models import AuditEntry, HistoryInterval, IntradayProposal
from server_support import (
    PASSWORD,
    World,
    demo_world,
    intraday_queue,
    run_queued_jobs,
    sign_in,
)

# a Monday in New York (the RideNow queues' zone), in the past: 09:00 local = 14:00 UTC
DAY9 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("intraday") / "openwfm.db"
    with demo_world(f"sqlite:///{path}") as w:
        r = w.client.post("/api/users", headers=w.h("admin"), json={
            "username": "acd-ride", "password": PASSWORD, "role": "acd",
            "client_id": w.facts["ride"]})
        assert r.status_code == 201, r.text
        w.tokens["acd-ride"] = sign_in(w.client, "acd-ride")
        yield w


def _row(queue: str, t: datetime, **kw: object) -> dict[str, object]:
    return {"queue_id": queue, "interval_start": t.isoformat(), "volume": 20, "handled": 18,
            "abandoned": 2, "aht_s": 300.0, "answered_within": 15, **kw}


def _stored(w: World, queue: str) -> list[HistoryInterval]:
    with w.db.read() as s:
        return list(s.scalars(sa.select(HistoryInterval).where(
            HistoryInterval.queue_id == queue, HistoryInterval.interval_start >= DAY9,
            HistoryInterval.interval_start < DAY9 + timedelta(hours=3))
            .order_by(HistoryInterval.interval_start)))


def test_actuals_upsert_replaces_a_reported_interval(world: World) -> None:
    q = str(world.facts["ride_queue"])
    r = world.client.post("/api/rta/actuals", headers=world.h("acd-ride"), json=[
        _row(q, DAY9, volume=12, handled=10, abandoned=1, answered_within=8),
        _row(q, DAY9 + timedelta(minutes=15))])
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 2, "inserted": 2, "replaced": 0}
    # the 09:00 interval reported again, complete: it replaces the first report
    r = world.client.post("/api/rta/actuals", headers=world.h("acd-ride"), json=[
        _row(q, DAY9.astimezone(timezone(timedelta(hours=-5))), volume=30, handled=27,
             abandoned=3, service_level=0.6, answered_within=None)])
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 1, "inserted": 0, "replaced": 1}
    rows = _stored(world, q)
    assert [(x.volume, x.handled, x.abandoned, x.answered_within, x.interval_s)
            for x in rows] == [(30, 27, 3, 18.0, 900), (20, 18, 2, 15, 900)]
    # read back for the local day (New York), with the service level = answered / offered
    r = world.client.get("/api/rta/actuals", params={"queue_id": q, "day": "2026-11-02"},
                         headers=world.h(str(world.facts["viewer_ride"])))
    assert r.status_code == 200, r.text
    got = [(x["interval_start"], x["volume"], x["service_level"]) for x in r.json()]
    assert got == [("2026-11-02T14:00:00Z", 30.0, 0.6), ("2026-11-02T14:15:00Z", 20.0, 0.75)]
    with world.db.read() as s:
        e = s.scalars(sa.select(AuditEntry).where(AuditEntry.object_type == "queue_actuals")
                      .order_by(AuditEntry.id.desc())).first()
    assert e is not None and e.username == "acd-ride" and e.after["replaced"] == 1


@pytest.mark.parametrize(("patch", "index", "field", "words"), [
    ({"queue_id": "no-such"}, 1, "queue_id", "no queue"),
    ({"interval_start": (DAY9 + timedelta(minutes=10)).isoformat()}, 1, "interval_start",
     "not an interval boundary"),
    ({"interval_start": (datetime.now(UTC) + timedelta(hours=2)).replace(
        minute=0, second=0, microsecond=0).isoformat()}, 1, "interval_start", "after"),
    ({"handled": 19, "abandoned": 5}, 1, "volume", "more than the contacts offered"),
    ({"answered_within": 19}, 1, "answered_within", "more than the 18 handled"),
    ({"service_level": 0.5}, 1, "service_level", "not both"),
    ({"interval_s": 700}, 1, "interval_s", "dividing a day"),
    ({"interval_start": DAY9.isoformat()}, 1, "interval_start", "also item 0"),
])
def test_bad_actuals_name_the_item_and_field_and_store_nothing(
        world: World, patch: dict[str, object], index: int, field: str, words: str) -> None:
    q = str(world.facts["ride_queue"])
    before = len(_stored(world, q))
    t = DAY9 + timedelta(hours=2)
    body = [_row(q, DAY9 + timedelta(hours=1)), _row(q, t, **patch)]
    if field == "interval_start" and words == "also item 0":
        body[0] = _row(q, DAY9)
    r = world.client.post("/api/rta/actuals", headers=world.h("admin"), json=body)
    assert r.status_code == 422, r.text
    (d,) = r.json()["detail"]
    assert d["loc"] == ["body", index, field] and words in d["msg"], d
    assert len(_stored(world, q)) == before


def test_actuals_roles_and_tenants(world: World) -> None:
    f = world.facts
    ride, other = str(f["ride_queue"]), str(f["other_queue"])
    t = DAY9 + timedelta(hours=2, minutes=30)
    # the RideNow ACD may write its client's queue (the reads below find it, whichever
    # test ran before on this worker)
    r = world.client.post("/api/rta/actuals", headers=world.h("acd-ride"), json=[_row(ride, t)])
    assert r.status_code == 200, r.text
    # the RideNow ACD and planner may not write another client's queue (as if unknown)
    for who in ("acd-ride", "planner-ride"):
        r = world.client.post("/api/rta/actuals", headers=world.h(who),
                              json=[_row(other, t)])
        assert r.status_code == 422 and "no queue" in r.text, (who, r.text)
    for who in (str(f["leader"]), str(f["agent"]), str(f["viewer_ride"])):
        r = world.client.post("/api/rta/actuals", headers=world.h(who), json=[_row(ride, t)])
        assert r.status_code == 403, who
    # reads: a client viewer sees only their client's queues; the ACD reads nothing
    r = world.client.get("/api/rta/actuals", params={"queue_id": ride},
                         headers=world.h(str(f["viewer_other"])))
    assert r.status_code == 404
    assert world.client.get("/api/rta/actuals", headers=world.h("acd-ride")).status_code == 403
    r = world.client.get("/api/rta/actuals", params={"day": "2026-11-02"},
                         headers=world.h("planner-ride"))
    assert r.status_code == 200 and {x["queue_id"] for x in r.json()} == {ride}
    r = world.client.get("/api/rta/actuals", params={"day": "02/11/2026"},
                         headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "day"]


def test_actuals_upsert_on_postgresql(pg_fresh_db: str) -> None:
    """The same INSERT ... ON CONFLICT DO UPDATE on PostgreSQL: a second report replaces."""
    from openwfm.server.actuals import QueueActual, read_actuals, store_actuals
    from openwfm.server.db import Database
    from openwfm.server.migrate import upgrade
    from openwfm.server.models import Client, Queue

    upgrade(pg_fresh_db)
    db = Database.connect(pg_fresh_db)
    try:
        with db.transaction() as s:
            c = Client(name="c")
            s.add(c)
            s.flush()
            s.add(Queue(id="q", client_id=c.id, channel="voice", language="en", market="US",
                        tz="America/New_York", max_asa_s=None, max_abandon=None,
                        max_occupancy=None, patience_s=None))
        a = QueueActual("q", DAY9, 900, 10.0, handled=9.0, abandoned=1.0, aht_s=200.0)
        with db.transaction() as s:
            r = store_actuals(s, [a, QueueActual("q", DAY9 + timedelta(minutes=15), 900, 5.0)])
        assert (r.inserted, r.replaced) == (2, 0)
        with db.transaction() as s:
            r = store_actuals(s, [QueueActual("q", DAY9, 900, 14.0, handled=12.0)])
        assert (r.inserted, r.replaced) == (0, 1)
        with db.read() as s:
            rows = read_actuals(s, ["q"], DAY9, DAY9 + timedelta(hours=1))
            assert [(x.volume, x.handled, x.aht_s) for x in rows] == [
                (14.0, 12.0, None), (5.0, None, None)]
    finally:
        db.dispose()


# ------------------------------------------------------------------ the live queue state
def _state(queue: str, t: datetime, **kw: object) -> dict[str, object]:
    return {"queue_id": queue, "at": t.isoformat(), "waiting": 6, "oldest_wait_s": 42.5,
            "in_service": 11, **kw}


def test_queue_state_latest_wins_and_reads_back(world: World) -> None:
    q = str(world.facts["ride_queue"])
    t = DAY9 + timedelta(minutes=7, seconds=3)
    r = world.client.post("/api/rta/queue-state", headers=world.h("acd-ride"), json=[
        _state(q, t, waiting=3), _state(q, t + timedelta(seconds=10))])
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 2, "inserted": 2, "replaced": 0}
    # the same instant again (a retry, another offset): it replaces, not a second row
    r = world.client.post("/api/rta/queue-state", headers=world.h("acd-ride"), json=[
        _state(q, t.astimezone(timezone(timedelta(hours=-5))), waiting=4,
               oldest_wait_s=None, in_service=None)])
    assert r.json() == {"received": 1, "inserted": 0, "replaced": 1}, r.text
    # read back: the newest report at or before the instant asked for
    def at(x: datetime) -> list[dict[str, object]]:
        r = world.client.get("/api/rta/queue-state", params={"queue_id": q,
                                                             "at": x.isoformat()},
                             headers=world.h(str(world.facts["viewer_ride"])))
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    assert at(t - timedelta(seconds=1)) == []
    (got,) = at(t + timedelta(seconds=5))
    assert (got["waiting"], got["oldest_wait_s"], got["in_service"], got["age_s"]) == (
        4, None, None, 5.0)
    (got,) = at(t + timedelta(minutes=1))
    assert (got["waiting"], got["oldest_wait_s"], got["in_service"]) == (6, 42.5, 11)
    with world.db.read() as s:
        e = s.scalars(sa.select(AuditEntry).where(AuditEntry.object_type == "queue_state")
                      .order_by(AuditEntry.id.desc())).first()
    assert e is not None and e.username == "acd-ride" and e.after["replaced"] == 1
    # a report three days later prunes the queue's reports older than two days before it
    r = world.client.post("/api/rta/queue-state", headers=world.h("acd-ride"),
                          json=[_state(q, t + timedelta(days=3))])
    assert r.json()["inserted"] == 1
    assert at(t + timedelta(minutes=1)) == []


@pytest.mark.parametrize(("patch", "field", "words"), [
    ({"queue_id": "no-such"}, "queue_id", "no queue"),
    ({"at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "at", "after the server"),
    ({"waiting": 0}, "oldest_wait_s", "no contact is waiting"),
    ({"waiting": -1}, "waiting", "greater than or equal"),
    ({"at": "2026-11-02T14:00:00"}, "at", "timezone"),
    ({"at": (DAY9 + timedelta(minutes=1)).isoformat()}, "at", "also item 0"),
])
def test_bad_queue_state_names_the_item_and_field_and_stores_nothing(
        world: World, patch: dict[str, object], field: str, words: str) -> None:
    from openwfm.server.models import QueueState

    q = str(world.facts["ride_queue"])
    with world.db.read() as s:
        before = s.scalar(sa.select(sa.func.count()).select_from(QueueState))
    body = [_state(q, DAY9 + timedelta(minutes=1)), _state(q, DAY9 + timedelta(minutes=2),
                                                           **patch)]
    r = world.client.post("/api/rta/queue-state", headers=world.h("admin"), json=body)
    assert r.status_code == 422, r.text
    d = r.json()["detail"][0]
    assert d["loc"][:3] == ["body", 1, field] and words in d["msg"], d
    with world.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(QueueState)) == before


def test_queue_state_roles_and_tenants(world: World) -> None:
    f = world.facts
    ride, other = str(f["ride_queue"]), str(f["other_queue"])
    t = DAY9 + timedelta(hours=1)
    for who in ("acd-ride", "planner-ride"):  # another client's queue: as if unknown
        r = world.client.post("/api/rta/queue-state", headers=world.h(who),
                              json=[_state(other, t)])
        assert r.status_code == 422 and "no queue" in r.text, (who, r.text)
    for who in (str(f["leader"]), str(f["agent"]), str(f["viewer_ride"])):
        r = world.client.post("/api/rta/queue-state", headers=world.h(who),
                              json=[_state(ride, t)])
        assert r.status_code == 403, who
    r = world.client.get("/api/rta/queue-state", params={"queue_id": ride},
                         headers=world.h(str(f["viewer_other"])))
    assert r.status_code == 404
    assert world.client.get("/api/rta/queue-state",
                            headers=world.h("acd-ride")).status_code == 403


def test_queue_state_upsert_on_postgresql(pg_fresh_db: str) -> None:
    """The same upsert and "newest at or before" on PostgreSQL."""
    from openwfm.server.db import Database
    from openwfm.server.migrate import upgrade
    from openwfm.server.models import Client, Queue
    from openwfm.server.queue_state import QueueStateReport, latest_states, store_states

    upgrade(pg_fresh_db)
    db = Database.connect(pg_fresh_db)
    try:
        with db.transaction() as s:
            c = Client(name="c")
            s.add(c)
            s.flush()
            s.add(Queue(id="q", client_id=c.id, channel="voice", language="en", market="US",
                        tz="America/New_York", max_asa_s=None, max_abandon=None,
                        max_occupancy=None, patience_s=None))
        t = DAY9
        with db.transaction() as s:
            r = store_states(s, [QueueStateReport("q", t, 3, 20.0, 5),
                                 QueueStateReport("q", t + timedelta(seconds=10), 4)], now=t)
        assert (r.inserted, r.replaced) == (2, 0)
        with db.transaction() as s:
            r = store_states(s, [QueueStateReport("q", t, 7, 80.0)], now=t)
        assert (r.inserted, r.replaced) == (0, 1)
        with db.read() as s:
            got = latest_states(s, ["q"], t + timedelta(seconds=5))["q"]
            assert (got.waiting, got.oldest_wait_s, got.in_service) == (7, 80.0, None)
            assert latest_states(s, ["q"], t + timedelta(minutes=20), max_age_s=900) == {}
    finally:
        db.dispose()


# ------------------------------------------------------------------ the intraday view
NY = ZoneInfo("America/New_York")


def erlang_c_sl(n: int, traffic: float, aht_s: float, within_s: float) -> float:
    """Erlang C service level, written out here (an independent check of the server)."""
    if n <= traffic:
        return 0.0
    terms = sum(traffic**k / math.factorial(k) for k in range(n))
    last = traffic**n / math.factorial(n) * n / (n - traffic)
    p_wait = last / (terms + last)
    return 1.0 - p_wait * math.exp(-(n - traffic) * within_s / aht_s)


@pytest.fixture(scope="module")
def hand(world: World) -> dict[str, object]:
    """A queue of its own ("hand-voice", New York) with two agents, a morning forecast of
    2 contacts per 15 minutes from 08:00 to 20:00 yesterday (AHT 300 s), 3 a quarter from
    08:00 to 12:00 in the actuals, both agents scheduled 08:00-16:00 and, at 12:00, one
    of them on an unplanned break."""
    from openwfm.server.models import (
        Agent,
        AgentSkill,
        Forecast,
        ForecastInterval,
        Queue,
        Skill,
    )

    day = (datetime.now(UTC).astimezone(NY) - timedelta(days=1)).date()
    t8 = datetime.combine(day, time(8), NY)
    with world.db.transaction() as s:
        s.add(Queue(id="hand-voice", client_id=world.facts["ride"], channel="voice",
                    language="en", market="US", tz="America/New_York", sl_target=0.8,
                    answer_within_s=20.0, max_asa_s=None, max_abandon=None,
                    max_occupancy=None, patience_s=None))
        s.flush()
        s.add(Skill(id="hand-voice", queue_id="hand-voice"))
        s.flush()
        for aid in ("HAND-1", "HAND-2"):
            a = Agent(id=aid, name=aid, site_id=1, tz="America/New_York")
            a.skills = [AgentSkill(skill_id="hand-voice", rank=0)]
            s.add(a)
        fc = Forecast(name="hand", version=1)
        s.add(fc)
        s.flush()
        for i in range(48):
            s.add(ForecastInterval(forecast_id=fc.id, queue_id="hand-voice",
                                   interval_start=t8 + timedelta(minutes=15 * i),
                                   volume=2.0, aht_s=300.0))
    r = world.client.post("/api/rta/actuals", headers=world.h("admin"), json=[
        {"queue_id": "hand-voice", "interval_start": (t8 + timedelta(minutes=15 * i))
         .isoformat(), "volume": 3, "handled": 3, "abandoned": 0, "aht_s": 300,
         "answered_within": 3} for i in range(16)])
    assert r.status_code == 200, r.text
    segs = [{"agent_id": a, "activity": "work", "start": t8.isoformat(),
             "end": (t8 + timedelta(hours=8)).isoformat(), "queue_id": None}
            for a in ("HAND-1", "HAND-2")]
    r = world.client.post("/api/schedules", headers=world.h("admin"), json={
        "name": "hand day", "period_start": (t8 - timedelta(hours=8)).isoformat(),
        "period_end": (t8 + timedelta(hours=16)).isoformat(), "segments": segs})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = world.client.post(f"/api/schedules/{sid}/publish",
                          headers=world.h("admin", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200, r.text
    ev = [{"event_id": f"hand-{a}-in", "agent_id": a, "state": "available",
           "at": (t8 - timedelta(minutes=5)).isoformat()} for a in ("HAND-1", "HAND-2")]
    ev.append({"event_id": "hand-2-brk", "agent_id": "HAND-2", "state": "break",
               "at": (t8 + timedelta(hours=3, minutes=58)).isoformat()})
    r = world.client.post("/api/rta/events", headers=world.h("admin"), json=ev)
    assert r.status_code == 200, r.text
    return {"day": day, "t8": t8, "noon": t8 + timedelta(hours=4), "schedule": sid}


def test_intraday_view_hand_computed(world: World, hand: dict[str, object]) -> None:
    noon: datetime = hand["noon"]  # type: ignore[assignment]
    r = world.client.get("/api/intraday/queues/hand-voice", params={"at": noon.isoformat()},
                         headers=world.h("planner-ride"))
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["day"] == str(hand["day"]) and v["interval_s"] == 900
    assert v["current_interval"] == noon.astimezone(UTC).isoformat().replace("+00:00", "Z")
    # level: F = 16 x 2 = 32, A = 48, c = 0.01 (no history), Z = c / (c + 1/F)
    z = 0.01 / (0.01 + 1 / 32)
    factor = 1 + z * (48 / 32 - 1)
    assert v["level"]["credibility"] == pytest.approx(z)
    assert v["level"]["volume_factor"] == pytest.approx(factor)
    rows = {x["interval_start"]: x for x in v["intervals"]}
    assert len(rows) == 48
    parts = [x["part"] for x in v["intervals"]]
    assert parts == ["past"] * 16 + ["current"] + ["rest"] * 31
    first = v["intervals"][0]
    assert (first["forecast_volume"], first["actual_volume"], first["actual_service_level"],
            first["reforecast_volume"], first["predicted_service_level"]) == (
        2.0, 3.0, 1.0, None, None)
    cur, later, evening = v["intervals"][16], v["intervals"][17], v["intervals"][40]
    vol = 2 * factor
    traffic = vol * 300 / 900
    for row in (cur, later, evening):
        assert row["reforecast_volume"] == pytest.approx(vol)
        assert row["reforecast_aht_s"] == pytest.approx(300.0)
    # the requirement: the fewest agents with Erlang C service level >= 80 % in 20 s
    need = next(n for n in range(1, 10) if erlang_c_sl(n, traffic, 300, 20) >= 0.8)
    assert cur["agents_required"] == need and cur["agents_required_morning"] == next(
        n for n in range(1, 10) if erlang_c_sl(n, 2 * 300 / 900, 300, 20) >= 0.8)
    # predicted: now one agent works (the other is on an unplanned break); from 12:15 the
    # schedule's two; from 16:00 nobody
    assert v["agents_working_now"] == 1
    assert (cur["agents_predicted"], later["agents_predicted"],
            evening["agents_predicted"]) == (1.0, 2.0, 0.0)
    assert cur["predicted_service_level_erlang"] == pytest.approx(
        erlang_c_sl(1, traffic, 300, 20))
    assert later["predicted_service_level_erlang"] == pytest.approx(
        erlang_c_sl(2, traffic, 300, 20))
    assert evening["predicted_service_level_erlang"] == 0.0
    sls = [erlang_c_sl(1, traffic, 300, 20)] + [erlang_c_sl(2, traffic, 300, 20)] * 15 \
        + [0.0] * 16
    assert v["predicted_service_level_rest_erlang"] == pytest.approx(sum(sls) / len(sls))
    # the simulation (no queue state reported, nobody busy): nobody after the shift
    # answers anything; while two agents work it agrees with Erlang C within its band
    sim = v["simulation"]
    assert sim["queue_states"] == [] and sim["busy_agents"] == 0
    assert sim["replications"] == 100
    assert evening["predicted_service_level"] == 0.0
    assert later["predicted_service_level_lo"] <= later["predicted_service_level"] \
        <= later["predicted_service_level_hi"]
    assert abs(later["predicted_service_level"] - erlang_c_sl(2, traffic, 300, 20)) < 0.06


def test_intraday_view_simulates_from_the_queue_state(world: World,
                                                      hand: dict[str, object]) -> None:
    """A backlog reported by the ACD at 12:20 (9 waiting, the oldest for 4 minutes) and the
    one agent at work on a call: the interval in progress is far below the Erlang figure,
    the later ones are not; the same instant gives the same numbers."""
    noon: datetime = hand["noon"]  # type: ignore[assignment]
    at = noon + timedelta(minutes=20)
    r = world.client.post("/api/rta/events", headers=world.h("admin"), json=[
        {"event_id": "hand-1-call", "agent_id": "HAND-1", "state": "on_contact",
         "at": (at - timedelta(minutes=2)).isoformat()}])
    assert r.status_code == 200, r.text
    r = world.client.post("/api/rta/queue-state", headers=world.h("acd-ride"), json=[
        {"queue_id": "hand-voice", "at": (at - timedelta(seconds=30)).isoformat(),
         "waiting": 9, "oldest_wait_s": 240, "in_service": 1}])
    assert r.status_code == 200, r.text

    def view() -> dict[str, object]:
        r = world.client.get("/api/intraday/queues/hand-voice", params={"at": at.isoformat()},
                             headers=world.h("planner-ride"))
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    v = view()
    sim = v["simulation"]
    assert sim["busy_agents"] == 1 and sim["seed"] > 0  # type: ignore[index]
    (st,) = sim["queue_states"]  # type: ignore[index]
    assert (st["waiting"], st["oldest_wait_s"]) == (9, 240.0)
    rows = v["intervals"]
    cur = next(x for x in rows if x["part"] == "current")  # type: ignore[union-attr]
    assert cur["predicted_contacts"] > 9  # the backlog counts in the interval in progress
    assert cur["predicted_service_level_hi"] < cur["predicted_service_level_erlang"] - 0.2
    # two hours later the backlog is long gone: the simulation agrees with Erlang C
    two = next(x for x in rows if x["interval_start"] == (noon + timedelta(hours=2))
               .astimezone(UTC).isoformat().replace("+00:00", "Z"))
    assert abs(two["predicted_service_level"] - two["predicted_service_level_erlang"]) < 0.06
    assert v["predicted_service_level_rest"] < v["predicted_service_level_rest_erlang"]
    assert view() == v  # same instant, same seed, same numbers


def test_intraday_view_counts_the_agents_of_the_other_queues(world: World) -> None:
    """Queue mq-a's agent also serves mq-b, which has two agents of its own: they take
    mq-b's contacts in the simulation (and the Erlang split), so they are in the view of
    mq-a too (they were left out, and the shared agent then carried mq-b alone)."""
    from openwfm.server.models import AgentSkill

    day = (datetime.now(UTC).astimezone(NY) - timedelta(days=2)).date()
    t8 = datetime.combine(day, time(8), NY)
    ride = int(world.facts["ride"])  # type: ignore[call-overload]
    intraday_queue(world, "mq-b", ("MQB-1", "MQB-2"), t8, ride)
    intraday_queue(world, "mq-a", ("MQA-1",), t8, ride)
    with world.db.transaction() as s:
        s.add(AgentSkill(agent_id="MQA-1", skill_id="mq-b", rank=1))
    at = t8 + timedelta(hours=2)
    r = world.client.get("/api/intraday/queues/mq-a", params={"at": at.isoformat()},
                         headers=world.h("planner-ride"))
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["simulation"]["agents"] == 3 and v["agents_working_now"] == 0
    later = next(x for x in v["intervals"] if x["interval_start"] == (
        at + timedelta(hours=1)).astimezone(UTC).isoformat().replace("+00:00", "Z"))
    assert later["agents_predicted"] == 1.0  # the Erlang split: MQA-1 on mq-a
    # at 17:00 nobody works any more (nobody logged in, the shifts ended at 16:30): the
    # simulation has no agent (it used to fail on the empty schedule), nothing answered
    r = world.client.get("/api/intraday/queues/mq-a",
                         params={"at": (t8 + timedelta(hours=9)).isoformat()},
                         headers=world.h("planner-ride"))
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["simulation"]["agents"] == 0
    rest = [x for x in v["intervals"] if x["part"] != "past"]
    assert len(rest) == 4 and all(x["predicted_service_level"] == 0.0
                                  and x["predicted_service_level_erlang"] == 0.0 for x in rest)


def test_intraday_view_roles_and_tenants(world: World, hand: dict[str, object]) -> None:
    f = world.facts
    at = {"at": hand["noon"].isoformat()}  # type: ignore[attr-defined]
    for who in (str(f["leader"]), str(f["agent"]), str(f["viewer_ride"]), "acd-ride"):
        r = world.client.get("/api/intraday/queues/hand-voice", params=at,
                             headers=world.h(who))
        assert r.status_code == 403, who
    # a planner of another client: as if the queue did not exist
    r = world.client.post("/api/users", headers=world.h("admin"), json={
        "username": "planner-other", "password": PASSWORD, "role": "planner",
        "client_ids": [f["other"]]})
    assert r.status_code == 201, r.text
    world.tokens["planner-other"] = sign_in(world.client, "planner-other")
    r = world.client.get("/api/intraday/queues/hand-voice", params=at,
                         headers=world.h("planner-other"))
    assert r.status_code == 404
    # a queue without a forecast for the day: 422 saying what to do
    r = world.client.get(f"/api/intraday/queues/{f['other_queue']}", params=at,
                         headers=world.h("admin"))
    assert r.status_code == 422 and "run a forecast" in r.text


# ------------------------------------------------------------------ re-optimization
@pytest.fixture(scope="module")
def reopt(world: World) -> dict[str, object]:
    """Queue "reopt-voice" (New York): two agents whose meals (12:00) and second breaks
    (14:30) fall together, leaving nobody on the queue; 2 contacts a quarter all day."""
    from openwfm.server.models import User
    from openwfm.server.security import hash_password

    day = (datetime.now(UTC).astimezone(NY) - timedelta(days=1)).date()
    t8 = datetime.combine(day, time(8), NY)
    sid = intraday_queue(world, "reopt-voice", ("REOPT-1", "REOPT-2"), t8,
                         int(world.facts["ride"]))  # type: ignore[call-overload]
    with world.db.transaction() as s:
        s.add(User(username="reopt-1", password_hash=hash_password(PASSWORD), role="agent",
                   agent_id="REOPT-1"))
    return {"t8": t8, "at": t8 + timedelta(hours=2, minutes=30), "schedule": sid}


def _job(w: World, queue: str, at: datetime, who: str) -> dict[str, object]:
    """Start the re-optimization job: 202 with the job to poll."""
    r = w.client.post(f"/api/intraday/queues/{queue}/reoptimize",
                      params={"at": at.isoformat()}, headers=w.h(who))
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["Location"] == f"/api/jobs/{job['id']}"
    assert job["kind"] == "reoptimize" and job["state"] == "queued"
    params = job["params"]
    assert (params["queue_id"], params["at"]) == (queue, at.astimezone(UTC).isoformat())
    assert isinstance(params["busy"], dict)  # the live board's busy agents at `at`
    return job  # type: ignore[no-any-return]


def _proposal_of(w: World, job_id: object, who: str) -> dict[str, object]:
    """The job (run by the worker) has succeeded: its proposal."""
    r = w.client.get(f"/api/jobs/{job_id}", headers=w.h(who))
    job = r.json()
    assert job["state"] == "succeeded", job
    assert (job["stage"], job["progress"], job["error"]) == ("done", 1.0, None)
    r = w.client.get(f"/api/intraday/proposals/{job['result']['proposal_id']}",
                     headers=w.h(who))
    assert r.status_code == 200, r.text
    prop = r.json()
    assert job["result"]["moves"] == len(prop["moves"])
    return prop  # type: ignore[no-any-return]


def _reoptimize(world: World, reopt: dict[str, object], who: str = "planner-ride"
                ) -> dict[str, object]:
    job = _job(world, "reopt-voice", reopt["at"], who)  # type: ignore[arg-type]
    assert run_queued_jobs(world) == 1
    return _proposal_of(world, job["id"], who)


def test_reoptimize_staggers_the_meals_and_accepting_publishes_a_version(
        world: World, reopt: dict[str, object]) -> None:
    prop = _reoptimize(world, reopt)
    assert prop["status"] == "open" and prop["version_number"] == 1
    moves = prop["moves"]
    assert moves, prop
    assert prop["service_level_after"] > prop["service_level_before"]
    # before: nobody on the queue during the meals (12:00, 12:15) and break2 (14:30)
    t8: datetime = reopt["t8"]  # type: ignore[assignment]
    before = {x["interval_start"]: x for x in prop["intervals"]}
    noon = (t8 + timedelta(hours=4)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert before[noon]["service_level_before"] == 0.0
    assert before[noon]["service_level_after"] > 0.3
    # simulated too, both schedules with one seed: nobody answers at noon before, the
    # staggered meals do; over the rest of the day the paired difference is positive
    assert before[noon]["sim_service_level_before"] == 0.0
    assert before[noon]["sim_service_level_after"] > 0.3
    assert before[noon]["sim_delta_lo"] > 0
    sim = prop["simulated"]
    assert sim["replications"] == 100 and sim["seed"] > 0  # type: ignore[index]
    assert sim["delta_lo"] > 0 and sim["service_level_after"] > sim["service_level_before"]  # type: ignore[index]
    # one queue: the total over its agents' queues is the queue's own
    assert sim["total_delta"] == pytest.approx(sim["delta"])  # type: ignore[index]
    # more contacts answered in time over the queue's rest of the day (an interval may
    # lose: the meal moved to 11:30 leaves one agent there instead of two)
    got = [(x["contacts"] * x["service_level_before"], x["contacts"] * x["service_level_after"])
           for x in prop["intervals"]]
    assert sum(a for _, a in got) > sum(b for b, _ in got)
    # overtime proposed (30 minutes after a shift), not applied in the "after"
    assert {x["kind"] for x in prop["proposals"]} <= {"overtime", "voluntary_time_off"}
    at: datetime = reopt["at"]  # type: ignore[assignment]
    for m in moves:
        assert datetime.fromisoformat(m["new_start"]) >= at and m["rule"] in ("meal",
                                                                               "break2")
    # accept the moves only (no overtime / VTO): a new published version for the agents
    r = world.client.post(f"/api/intraday/proposals/{prop['id']}/accept",
                          headers=world.h("planner-ride"), json={"proposals": []})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "accepted" and done["applied_version_number"] == 2
    assert done["accepted"] == {"moves": list(range(len(moves))), "reassignments": [],
                                "proposals": []}
    sid = reopt["schedule"]
    segs = world.client.get(f"/api/schedules/{sid}/segments", params={"version": "published"},
                            headers=world.h("admin")).json()
    for m in moves:
        mine = [s for s in segs if s["agent_id"] == m["agent_id"]
                and s["activity"] == m["activity"]]
        starts = {datetime.fromisoformat(s["start"].replace("Z", "+00:00")) for s in mine}
        assert datetime.fromisoformat(m["new_start"]) in starts
        assert datetime.fromisoformat(m["old_start"]) not in starts
    # the draft follows (its revision moved on) and the version 1 is kept
    v1 = world.client.get(f"/api/schedules/{sid}/segments", params={"version": "1"},
                          headers=world.h("admin")).json()
    assert len(v1) == 14
    # audited, and the agent of a move notified
    with world.db.read() as s:
        e = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.object_type == "intraday_proposal", AuditEntry.action == "accept")
        ).one()
    assert e.username == "planner-ride" and e.after["version_number"] == 2
    if any(m["agent_id"] == "REOPT-1" for m in moves):
        tok = sign_in(world.client, "reopt-1")
        notes = world.client.get("/api/notifications",
                                 headers={"Authorization": f"Bearer {tok}"}).json()
        assert any("intraday, version 2" in n["message"] and "moved from" in n["message"]
                   for n in notes), notes
    # accepting again: 409
    r = world.client.post(f"/api/intraday/proposals/{prop['id']}/accept",
                          headers=world.h("planner-ride"), json={})
    assert r.status_code == 409 and "accepted already" in r.text


def test_accepting_a_stale_proposal_is_409_and_changes_nothing(
        world: World, reopt: dict[str, object]) -> None:
    prop = _reoptimize(world, reopt, "admin")
    sid = reopt["schedule"]
    r = world.client.get(f"/api/schedules/{sid}", headers=world.h("admin"))
    n_before = len(r.json()["versions"])
    # someone publishes the schedule meanwhile
    r = world.client.post(f"/api/schedules/{sid}/publish",
                          headers=world.h("admin", **{"If-Match": r.headers["ETag"]}))
    assert r.status_code == 200, r.text
    r = world.client.post(f"/api/intraday/proposals/{prop['id']}/accept",
                          headers=world.h("admin"), json={"proposals": []})
    assert r.status_code == 409 and "schedule changed" in r.text, r.text
    r = world.client.get(f"/api/schedules/{sid}", headers=world.h("admin"))
    assert len(r.json()["versions"]) == n_before + 1  # only the publish
    got = world.client.get(f"/api/intraday/proposals/{prop['id']}", headers=world.h("admin"))
    assert got.status_code == 200 and got.json()["status"] == "stale"


def test_reoptimize_roles_tenants_and_bad_items(world: World, reopt: dict[str, object]
                                                ) -> None:
    f = world.facts
    at = {"at": reopt["at"].isoformat()}  # type: ignore[attr-defined]
    for who in (str(f["leader"]), str(f["agent"]), str(f["viewer_ride"]), "acd-ride"):
        r = world.client.post("/api/intraday/queues/reopt-voice/reoptimize", params=at,
                              headers=world.h(who))
        assert r.status_code == 403, who
    prop = _reoptimize(world, reopt, "admin")
    if "planner-other" not in world.tokens:
        r = world.client.post("/api/users", headers=world.h("admin"), json={
            "username": "planner-other", "password": PASSWORD, "role": "planner",
            "client_ids": [f["other"]]})
        assert r.status_code == 201, r.text
        world.tokens["planner-other"] = sign_in(world.client, "planner-other")
    for path in (f"/api/intraday/proposals/{prop['id']}",):
        assert world.client.get(path, headers=world.h("planner-other")).status_code == 404
    # the job is seen only by who may see the queue: another client's planner gets 404
    # and does not find it in the list; a planner of the queue's client does
    job = _job(world, "reopt-voice", reopt["at"], "admin")  # type: ignore[arg-type]
    r = world.client.get(f"/api/jobs/{job['id']}", headers=world.h("planner-other"))
    assert r.status_code == 404
    assert world.client.delete(f"/api/jobs/{job['id']}",
                               headers=world.h("planner-other")).status_code == 404
    listed = world.client.get("/api/jobs", headers=world.h("planner-other")).json()
    assert job["id"] not in {x["id"] for x in listed}
    listed = world.client.get("/api/jobs", headers=world.h("planner-ride")).json()
    assert job["id"] in {x["id"] for x in listed}
    # cancelled while queued: the worker never runs it, no proposal is stored
    r = world.client.delete(f"/api/jobs/{job['id']}", headers=world.h("planner-ride"))
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    with world.db.read() as s:
        n_props = s.scalar(sa.select(sa.func.count()).select_from(IntradayProposal))
    assert run_queued_jobs(world) == 1
    with world.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(IntradayProposal)) == n_props
    r = world.client.get(f"/api/jobs/{job['id']}", headers=world.h("planner-ride"))
    assert r.json()["state"] == "cancelled" and r.json()["result"] is None
    # a re-optimization job does not start through POST /api/jobs
    r = world.client.post("/api/jobs", headers=world.h("admin"), json={"kind": "reoptimize"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "kind"]
    r = world.client.post(f"/api/intraday/proposals/{prop['id']}/accept",
                          headers=world.h("planner-other"), json={})
    assert r.status_code == 404
    r = world.client.post(f"/api/intraday/proposals/{prop['id']}/accept",
                          headers=world.h("admin"), json={"moves": [99], "proposals": []})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "moves"]
    r = world.client.post(f"/api/intraday/proposals/{prop['id']}/accept",
                          headers=world.h("admin"), json={"moves": [], "proposals": []})
    assert r.status_code == 422 and "at least one" in r.text


def test_a_multi_skilled_agent_is_reassigned_and_accepting_publishes_it(world: World
                                                                        ) -> None:
    """Queue "ms-a" (New York) has three agents for 2 contacts a quarter (over-staffed);
    "ms-b" one agent of its own and, from 13:00, 6 contacts a quarter of 200 s (short).
    MS-1 serves ms-a first and ms-b second: the job proposes MS-1 on ms-b only in the
    afternoon; accepting publishes a version where MS-1's work names ms-b there, and MS-1
    is told which queue they work when."""
    from openwfm.server.models import AgentSkill, ForecastInterval, Queue, Skill, User
    from openwfm.server.security import hash_password

    day = (datetime.now(UTC).astimezone(NY) - timedelta(days=1)).date()
    t8 = datetime.combine(day, time(8), NY)
    agents = ("MS-1", "MS-2", "MS-3", "MS-4")
    sid = intraday_queue(world, "ms-a", agents, t8, int(world.facts["ride"]))  # type: ignore[call-overload]
    with world.db.transaction() as s:
        s.add(Queue(id="ms-b", client_id=world.facts["ride"], channel="voice", language="en",
                    market="US", tz="America/New_York", sl_target=0.8, answer_within_s=20.0,
                    max_asa_s=None, max_abandon=None, max_occupancy=None, patience_s=None))
        s.flush()
        s.add(Skill(id="ms-b", queue_id="ms-b"))
        s.flush()
        s.execute(sa.update(AgentSkill).where(AgentSkill.agent_id == "MS-4")
                  .values(skill_id="ms-b"))
        s.add(AgentSkill(agent_id="MS-1", skill_id="ms-b", rank=1))
        fid = s.scalar(sa.select(ForecastInterval.forecast_id).where(
            ForecastInterval.queue_id == "ms-a").limit(1))
        s.execute(sa.insert(ForecastInterval), [
            {"forecast_id": fid, "queue_id": "ms-b",
             "interval_start": t8 + timedelta(minutes=15 * i),
             "volume": 6.0 if i >= 20 else 0.0, "aht_s": 200.0} for i in range(40)])
        s.add(User(username="ms-1", password_hash=hash_password(PASSWORD), role="agent",
                   agent_id="MS-1"))
    at = t8 + timedelta(hours=2, minutes=30)
    job = _job(world, "ms-a", at, "planner-ride")
    assert run_queued_jobs(world) == 1
    prop = _proposal_of(world, job["id"], "planner-ride")
    assert prop["service_level_after"] > prop["service_level_before"]
    re = prop["reassignments"]
    assert re and {(x["agent_id"], x["to_queue"]) for x in re} == {("MS-1", "ms-b")}, re
    one_pm = (t8 + timedelta(hours=5)).astimezone(UTC)
    for x in re:
        assert x["from_queues"] == ["ms-a"] and x["answered_in_time_delta"] > 0
        assert datetime.fromisoformat(x["start"]) >= one_pm  # only where ms-b is short
    qs = {x["queue"]: x for x in prop["queues"]}
    assert qs["ms-b"]["service_level_after"] > qs["ms-b"]["service_level_before"]
    # accept the reassignments only
    r = world.client.post(f"/api/intraday/proposals/{prop['id']}/accept",
                          headers=world.h("planner-ride"),
                          json={"moves": [], "proposals": []})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["accepted"] == {"moves": [], "reassignments": list(range(len(re))),
                                "proposals": []}
    segs = world.client.get(f"/api/schedules/{sid}/segments",
                            params={"version": "published", "agent_id": "MS-1"},
                            headers=world.h("admin")).json()
    named = sorted((x["start"], x["end"]) for x in segs if x["queue_id"] == "ms-b")
    want = sorted((x["start"], x["end"]) for x in re)

    def z(t: str) -> datetime:
        return datetime.fromisoformat(t.replace("Z", "+00:00"))

    assert [(z(a), z(b)) for a, b in named] == [(z(a), z(b)) for a, b in want]
    assert all(x["activity"] == "work" for x in segs if x["queue_id"] == "ms-b")
    tok = sign_in(world.client, "ms-1")
    notes = world.client.get("/api/notifications",
                             headers={"Authorization": f"Bearer {tok}"}).json()
    hhmm = datetime.fromisoformat(re[0]["start"]).astimezone(NY).strftime("%H:%M")
    assert any(f"you work queue ms-b only from {hhmm}" in n["message"] for n in notes), notes


def test_a_reoptimization_cut_by_a_server_stop_runs_again_after_restart(
        world: World, reopt: dict[str, object]) -> None:
    """The worker took the job and the server stopped (kill -9) mid-run: the row says
    running, the queue holds nothing. At start, recovery queues it again; it runs to the
    end, on its second attempt, at the instant it was asked for and from the floor as it
    was then: the agent on a call at that instant (live board, kept in the job's params;
    the worker has no board) starts the simulated before/after busy."""
    from openwfm.server.models import Job
    from openwfm.server.worker import queue, recover_jobs

    at: datetime = reopt["at"]  # type: ignore[assignment]
    r = world.client.post("/api/rta/events", headers=world.h("admin"), json=[
        {"event_id": "reopt-1-call", "agent_id": "REOPT-1", "state": "on_contact",
         "at": (at - timedelta(minutes=2)).isoformat()}])
    assert r.status_code == 200, r.text
    job = _job(world, "reopt-voice", at, "planner-ride")
    assert job["params"]["busy"] == {"REOPT-1": 120.0}  # type: ignore[index]
    jobs_url = world.client.app.state.settings.effective_jobs_url  # type: ignore[attr-defined]
    huey, _ = queue(jobs_url)
    assert huey.dequeue() is not None  # taken by the worker that then died
    with world.db.transaction() as s:
        s.execute(sa.update(Job).where(Job.id == job["id"]).values(
            state="running", attempts=1, stage="reoptimizing"))
    assert job["id"] in recover_jobs(world.db, jobs_url)
    assert run_queued_jobs(world) >= 1
    got = world.client.get(f"/api/jobs/{job['id']}", headers=world.h("planner-ride")).json()
    assert got["state"] == "succeeded" and got["attempts"] == 2, got
    prop = _proposal_of(world, job["id"], "planner-ride")
    assert prop["as_of"].startswith(at.astimezone(UTC).isoformat()[:19])
    assert prop["simulated"]["busy_agents"] == 1  # type: ignore[index]


def test_the_page_starts_the_job_polls_it_and_says_why_it_failed(
        world: World, reopt: dict[str, object]) -> None:
    """The /intraday page's server side: *Re-optimize* answers the job's progress fragment
    (polling /intraday/jobs/{id}); once the worker ran it, the job failed (no forecast
    that day): its error says why, no traceback, and so does the fragment, which stops
    polling; another client's planner gets 404 for the fragment."""
    import re

    from fastapi.testclient import TestClient

    from openwfm.web.session import CSRF_HEADER

    web = TestClient(world.client.app)

    def sign_in_web(user: str) -> str:
        web.cookies.clear()
        token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").text)
        assert token is not None
        r = web.post("/login", data={"username": user, "password": PASSWORD,
                                     "csrf_token": token.group(1), "next": "/"},
                     follow_redirects=False)
        assert r.status_code == 303, r.text
        csrf = re.search(r"hx-headers='\{\"[^\"]+\": \"([^\"]+)\"", web.get("/").text)
        assert csrf is not None
        return csrf.group(1)

    csrf = sign_in_web("planner-ride")
    r = web.post("/intraday/reoptimize", data={"queue": "reopt-voice",
                                               "at": "2026-01-05T15:00:00Z"},
                 headers={CSRF_HEADER: csrf})
    assert r.status_code == 200, r.text
    m = re.search(r'hx-get="/intraday/jobs/([0-9a-f-]{36})" hx-trigger="every 1s"', r.text)
    assert m is not None and "queued" in r.text, r.text
    job_id = m.group(1)
    assert run_queued_jobs(world) == 1
    got = world.client.get(f"/api/jobs/{job_id}", headers=world.h("planner-ride")).json()
    assert got["state"] == "failed" and got["result"] is None, got
    assert "no forecast of queue" in got["error"] and "run a forecast" in got["error"]
    assert "Traceback" not in got["error"] and "internal error" not in got["error"]
    r = web.get(f"/intraday/jobs/{job_id}")
    assert r.status_code == 200 and 'id="reopt-failed"' in r.text
    assert "no forecast of queue" in r.text and "hx-trigger" not in r.text
    if "planner-other" not in world.tokens:
        r = world.client.post("/api/users", headers=world.h("admin"), json={
            "username": "planner-other", "password": PASSWORD, "role": "planner",
            "client_ids": [world.facts["other"]]})
        assert r.status_code == 201, r.text
        world.tokens["planner-other"] = sign_in(world.client, "planner-other")
    sign_in_web("planner-other")
    assert web.get(f"/intraday/jobs/{job_id}").status_code == 404
    web.cookies.clear()


@pytest.mark.slow
def test_reoptimize_and_accept_on_postgresql(pg_fresh_db: str, tmp_path: Path) -> None:
    """Two re-optimization jobs run by the worker, their proposals stored, one accepted
    into a new version (the compare-and-set on the published version, a row lock on
    PostgreSQL), then the other, stale, refused with 409."""
    with demo_world(pg_fresh_db, jobs_url=f"sqlite:///{tmp_path / 'jobs.db'}") as w:
        t8 = datetime(2026, 3, 31, 8, tzinfo=NY)
        sid = intraday_queue(w, "pg-voice", ("PG-1", "PG-2"), t8, int(w.facts["ride"]))  # type: ignore[call-overload]
        at = t8 + timedelta(hours=2, minutes=30)
        j1 = _job(w, "pg-voice", at, "admin")
        j2 = _job(w, "pg-voice", at, "planner")
        assert run_queued_jobs(w) == 2  # the worker, one job after the other
        p1, p2 = _proposal_of(w, j1["id"], "admin"), _proposal_of(w, j2["id"], "planner")
        assert p1["moves"] and p1["moves"] == p2["moves"]
        r = w.client.post(f"/api/intraday/proposals/{p1['id']}/accept",
                          headers=w.h("admin"), json={"proposals": []})
        assert r.status_code == 200 and r.json()["applied_version_number"] == 2, r.text
        r = w.client.post(f"/api/intraday/proposals/{p2['id']}/accept",
                          headers=w.h("planner"), json={"proposals": []})
        assert r.status_code == 409 and "you saw version 1, version 2" in r.text
        r = w.client.get(f"/api/schedules/{sid}", headers=w.h("admin"))
        assert [v["number"] for v in r.json()["versions"]] == [1, 2]
