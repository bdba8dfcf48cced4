"""Agent-state events from a message stream, for ACD adapters: NATS JetStream or Redis
Streams (docs/rta.md).

A message is one event object ``{event_id, agent_id, state, at[, reason]}`` or a JSON list
of them (NATS: the message data; Redis: the field ``event`` of a stream entry). Messages
are taken in batches; the good ones are stored with `openwfm.server.rta.store_events` in
one transaction (idempotent on ``event_id``), and **acknowledged only after the commit**.
A consumer stopped between the commit and the acknowledgement gets the messages again and
stores nothing twice. A message that cannot be stored (bad JSON, unknown state, unknown
agent or one of another client company, an ``event_id`` reused with other content) is
logged and taken off the stream: NATS ``term``; Redis: copied with the reason to the
stream ``<stream>:dead``, then acknowledged. When the database fails, nothing is
acknowledged: NATS redelivers after a ``nak``, Redis keeps the entries pending and the
consumer reads them again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from openwfm.errors import InputError
from openwfm.intraday.events import AgentEvent
from openwfm.intraday.mapping import StateMapping
from openwfm.server.db import Database
from openwfm.server.models import Role
from openwfm.server.permissions import Principal
from openwfm.server.rta import EventConflict, parse_events, store_events, visible_agents

__all__ = ["BatchOutcome", "consume_nats", "consume_redis", "store_messages"]

log = logging.getLogger("openwfm.server.rta_stream")


@dataclass
class BatchOutcome:
    """What became of a batch of messages: ``bad`` maps a message index to its reason."""

    stored: int = 0
    duplicates: int = 0
    bad: dict[int, str] = field(default_factory=dict)


def _principal(client_id: int | None) -> Principal:
    if client_id is None:
        return Principal(user_id=0, username="stream", role=Role.ADMIN)
    return Principal(user_id=0, username="stream", role=Role.ACD, client_id=client_id)


def store_messages(db: Database, payloads: Sequence[bytes], *, source: str,
                   mapping: StateMapping | None = None, client_id: int | None = None
                   ) -> BatchOutcome:
    """Parse and store a batch of messages in one transaction (committed on return).

    Messages that cannot be stored are left out and reported in ``bad``; the rest are
    stored. Raises only when the database fails (then nothing was stored).
    """
    out = BatchOutcome()
    now = datetime.now(UTC)
    parsed: dict[int, list[AgentEvent]] = {}
    for i, data in enumerate(payloads):
        try:
            items = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            out.bad[i] = f"not JSON: {exc}"
            continue
        items = items if isinstance(items, list) else [items]
        try:
            parsed[i] = parse_events(items, mapping, now=now)
        except InputError as exc:
            out.bad[i] = f"item {exc.location.row}, {exc.location.column}: {exc.message}"
    p = _principal(client_id)
    with db.transaction() as session:
        known = visible_agents(session, p, [e.agent_id for evs in parsed.values()
                                            for e in evs])
        for i, evs in list(parsed.items()):
            unknown = sorted({e.agent_id for e in evs} - known)
            if unknown:
                out.bad[i] = f"no agent {unknown[0]!r}"
                del parsed[i]
        events = [e for evs in parsed.values() for e in evs]
        try:
            with session.begin_nested():
                res = store_events(session, events, source=source, received_at=now)
            out.stored, out.duplicates = res.stored, res.duplicates
            return out
        except EventConflict:
            pass
        # an event_id reused with other content: store message by message, leave it out
        for i, evs in parsed.items():
            try:
                with session.begin_nested():
                    res = store_events(session, evs, source=source, received_at=now)
            except EventConflict as exc:
                out.bad[i] = exc.message
                continue
            out.stored += res.stored
            out.duplicates += res.duplicates
    return out


Hook = Callable[[BatchOutcome], None]


async def consume_nats(
    db: Database, *, url: str = "nats://127.0.0.1:4222", stream: str = "ACD",
    subject: str = "acd.events.>", durable: str = "openwfm-rta",
    mapping: StateMapping | None = None, client_id: int | None = None, batch: int = 500,
    ack_wait_s: float = 30.0, stop: asyncio.Event | None = None,
    after_commit: Hook | None = None,
) -> None:
    """Consume agent-state events from NATS JetStream until `stop` is set.

    The stream is created (subjects `subject`) when it does not exist; the durable pull
    consumer `durable` remembers what was acknowledged across restarts. `after_commit` is
    called after each commit and before the acknowledgements (a test hook: raising there
    is a consumer dying between the two).
    """
    import nats
    from nats.errors import TimeoutError as NatsTimeout
    from nats.js.api import AckPolicy, ConsumerConfig
    from nats.js.errors import NotFoundError

    stop = stop or asyncio.Event()
    nc = await nats.connect(url, name="openwfm-rta", connect_timeout=5,
                            max_reconnect_attempts=-1)
    try:
        js = nc.jetstream()
        try:
            await js.stream_info(stream)
        except NotFoundError:
            await js.add_stream(name=stream, subjects=[subject])
        sub = await js.pull_subscribe(subject, durable=durable, stream=stream,
                                      config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT,
                                                            ack_wait=ack_wait_s))
        while not stop.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=0.5)
            except (TimeoutError, NatsTimeout):
                continue
            try:
                outcome = await asyncio.to_thread(
                    store_messages, db, [m.data for m in msgs], source="nats",
                    mapping=mapping, client_id=client_id)
            except Exception:  # the database failed: nothing stored, redeliver
                log.exception("storing %d NATS messages failed; redelivering", len(msgs))
                for m in msgs:
                    await m.nak(delay=1.0)
                continue
            if after_commit is not None:
                after_commit(outcome)
            for i, m in enumerate(msgs):
                if i in outcome.bad:
                    log.warning("NATS message %s dropped: %s", m.metadata.sequence.stream,
                                outcome.bad[i])
                    await m.term()
                else:
                    await m.ack()
            await nc.flush()
    finally:
        await nc.close()


def consume_redis(
    db: Database, *, url: str = "redis://127.0.0.1:6379/0", stream: str = "acd:events",
    group: str = "openwfm-rta", consumer: str = "openwfm-1",
    mapping: StateMapping | None = None, client_id: int | None = None, batch: int = 500,
    stop: threading.Event | None = None, after_commit: Hook | None = None,
) -> None:
    """Consume agent-state events from a Redis stream (consumer group `group`) until
    `stop` is set. At start it first reads its own pending entries (delivered before a
    stop, never acknowledged), then new ones."""
    import redis

    stop = stop or threading.Event()
    r = redis.Redis.from_url(url)
    try:
        try:
            r.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        cursor = "0"  # our pending entries first
        while not stop.is_set():
            resp = r.xreadgroup(group, consumer, {stream: cursor}, count=batch,
                                block=None if cursor == "0" else 500)
            entries = resp[0][1] if resp else []
            if cursor == "0" and not entries:
                cursor = ">"
                continue
            if not entries:
                continue
            ids = [e[0] for e in entries]
            payloads = [e[1].get(b"event", b"") for e in entries]
            try:
                outcome = store_messages(db, payloads, source="redis", mapping=mapping,
                                         client_id=client_id)
            except Exception:
                log.exception("storing %d Redis entries failed; they stay pending",
                              len(entries))
                cursor = "0"
                stop.wait(1.0)
                continue
            if after_commit is not None:
                after_commit(outcome)
            for i, reason in outcome.bad.items():
                log.warning("Redis entry %s dropped: %s", ids[i], reason)
                r.xadd(f"{stream}:dead", {"event": payloads[i], "reason": reason,
                                          "id": ids[i]})
            r.xack(stream, group, *ids)
    finally:
        r.close()
