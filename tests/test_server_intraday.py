"""Intraday on the server: queue actuals in (idempotent upsert, field-named errors, roles and
tenants), the intraday view of a queue's day (forecast, actuals, reforecast, requirement,
predicted service level), re-optimization and its accept flow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from openwfm.server.models import AuditEntry, HistoryInterval
from server_support import PASSWORD, World, demo_world, sign_in

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
