"""The ACD message-stream consumers against the real servers on this machine (NATS
JetStream at 127.0.0.1:4222, Redis at 127.0.0.1:6379): events stored once, acknowledged
only after the commit (a consumer dying in between gets them again and stores nothing
twice), bad messages taken off the stream with their reason."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from openwfm.server.db import Database
from openwfm.server.migrate import upgrade
from openwfm.server.models import Agent, RtaEvent, Site
from openwfm.server.rta_stream import BatchOutcome, consume_nats, consume_redis

GOOD = [{"event_id": "s-1", "agent_id": "a1", "state": "available",
         "at": "2026-12-01T08:00:00+01:00"},
        {"event_id": "s-2", "agent_id": "a2", "state": "break",
         "at": "2026-12-01T08:10:00+01:00"}]
MESSAGES = [
    json.dumps(GOOD).encode(),
    json.dumps(GOOD[0]).encode(),  # a repeat: acknowledged, not stored again
    json.dumps({**GOOD[0], "event_id": "s-3", "state": "napping"}).encode(),
    json.dumps({**GOOD[0], "event_id": "s-4", "agent_id": "nobody"}).encode(),
    b"{not json",
    # the ACD's own codes through a preset
    json.dumps({"event_id": "s-5", "agent_id": "a1", "state": "ON_QUEUE",
                "reason": "INTERACTING", "at": "2026-12-01T08:20:00Z"}).encode(),
]
BAD = 3  # napping, nobody, not JSON


def _service(port: int, name: str) -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        if os.environ.get("CI"):
            raise AssertionError(f"CI must test against {name} at 127.0.0.1:{port}") from None
        pytest.skip(f"no {name} server at 127.0.0.1:{port} (CI runs one)")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'rta.db'}"
    upgrade(url)
    database = Database.connect(url)
    with database.transaction() as s:
        site = Site(name="cas", country="MA", tz="Africa/Casablanca", seats=10,
                    cost_per_hour=10.0)
        s.add(site)
        s.flush()
        for a in ("a1", "a2"):
            s.add(Agent(id=a, name=a, site_id=site.id, tz="Africa/Casablanca"))
    yield database
    database.dispose()


def _stored(db: Database) -> dict[str, tuple[str, str]]:
    with db.read() as s:
        return {r.event_id: (r.state, r.source) for r in s.execute(
            sa.select(RtaEvent.event_id, RtaEvent.state, RtaEvent.source))}


class Died(Exception):
    """The consumer stopped between the commit and the acknowledgements."""


def _die(outcome: BatchOutcome) -> None:
    raise Died


def test_nats_jetstream_stores_once_and_acks_after_commit(db: Database) -> None:
    _service(4222, "NATS JetStream")
    import nats

    from openwfm.intraday.mapping import load_state_mapping

    tag = uuid.uuid4().hex[:10]
    stream, subject = f"RTATEST_{tag}", f"rtatest.{tag}.>"
    genesys = load_state_mapping("genesys")

    async def run() -> list[BatchOutcome]:
        nc = await nats.connect("nats://127.0.0.1:4222")
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[subject])
        try:
            for i, m in enumerate(MESSAGES):
                await js.publish(f"rtatest.{tag}.acd{i % 2}", m)
            kw = {"url": "nats://127.0.0.1:4222", "stream": stream, "subject": subject,
                  "durable": "rta-test", "ack_wait_s": 1.0}
            # 1: dies after the commit, before any acknowledgement
            with pytest.raises(Died):
                await consume_nats(db, **kw, mapping=None, after_commit=_die)
            assert set(_stored(db)) == {"s-1", "s-2"}
            # 2: the same durable consumer gets everything again after ack_wait
            outcomes: list[BatchOutcome] = []
            stop = asyncio.Event()
            task = asyncio.create_task(consume_nats(db, **kw, mapping=None,
                                                    after_commit=outcomes.append,
                                                    stop=stop))
            deadline = time.monotonic() + 60
            while True:
                info = await js.consumer_info(stream, "rta-test")
                if outcomes and info.num_pending == 0 and info.num_ack_pending == 0:
                    break
                assert time.monotonic() < deadline, info
                await asyncio.sleep(0.2)
            stop.set()
            await task
            # 3: vendor codes through a preset (a consumer per ACD kind)
            await js.publish(f"rtatest.{tag}.genesys", MESSAGES[5])
            gen: list[BatchOutcome] = []
            stop = asyncio.Event()
            task = asyncio.create_task(consume_nats(
                db, **{**kw, "durable": "rta-test-genesys"}, mapping=genesys,
                after_commit=gen.append, stop=stop))
            while not any(o.stored for o in gen):
                assert time.monotonic() < deadline + 60
                await asyncio.sleep(0.2)
            stop.set()
            await task
            return outcomes
        finally:
            await js.delete_stream(stream)
            await nc.close()

    outcomes = asyncio.run(run())
    assert sum(o.stored for o in outcomes) == 0  # all of it was stored by the first
    assert sum(len(o.bad) for o in outcomes) == BAD + 1  # + the preset code unmapped
    assert _stored(db) == {"s-1": ("available", "nats"), "s-2": ("break", "nats"),
                           "s-5": ("on_contact", "nats")}


def test_redis_streams_store_once_and_ack_after_commit(db: Database) -> None:
    _service(6379, "Redis")
    import redis

    key = f"rtatest:{uuid.uuid4().hex[:10]}"
    r = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        for m in MESSAGES[:5]:
            r.xadd(key, {"event": m})
        kw = {"url": "redis://127.0.0.1:6379/0", "stream": key, "group": "rta-test",
              "consumer": "c1"}
        with pytest.raises(Died):
            consume_redis(db, **kw, after_commit=_die)
        assert set(_stored(db)) == {"s-1", "s-2"}
        assert r.xpending(key, "rta-test")["pending"] == 5  # nothing acknowledged
        outcomes: list[BatchOutcome] = []
        stop = threading.Event()
        thread = threading.Thread(target=consume_redis, args=(db,), daemon=True,
                                  kwargs={**kw, "after_commit": outcomes.append,
                                          "stop": stop})
        thread.start()
        deadline = time.monotonic() + 60
        while not outcomes or r.xpending(key, "rta-test")["pending"]:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.1)
        stop.set()
        thread.join(10)
        assert sum(o.stored for o in outcomes) == 0
        assert sum(o.duplicates for o in outcomes) == 3
        dead = r.xrange(f"{key}:dead")
        assert len(dead) == BAD
        assert any(b"no agent 'nobody'" in fields[b"reason"] for _, fields in dead)
        assert _stored(db) == {"s-1": ("available", "redis"), "s-2": ("break", "redis")}
    finally:
        r.delete(key, f"{key}:dead")
        r.close()
