"""`openwfm rta-consume`: agent-state events from an ACD message stream into the server's
database; `openwfm replay`: a day of the bank log and schedule-derived agent states into a
running server (docs/rta.md)."""

from __future__ import annotations

import typer

from openwfm.cli.app import app, console
from openwfm.errors import InputError


@app.command("rta-consume", short_help="Store ACD agent-state events from NATS JetStream or "
             "Redis Streams in the server database.")
def rta_consume(
    source: str = typer.Argument(..., metavar="URL", help=(
        "nats://HOST:4222 (JetStream) or redis://HOST:6379/0 (Redis Streams).")),
    db: str = typer.Option("sqlite:///openwfm.db", "--db", help="The server's database."),
    stream: str = typer.Option("", "--stream", help=(
        "NATS stream (default ACD, created when missing) or Redis stream key (default "
        "acd:events).")),
    subject: str = typer.Option("acd.events.>", "--subject", help="NATS subjects."),
    group: str = typer.Option("openwfm-rta", "--group", help=(
        "Durable consumer (NATS) or consumer group (Redis): what it acknowledged is "
        "remembered across restarts.")),
    consumer: str = typer.Option("openwfm-1", "--consumer", help="Redis consumer name."),
    mapping: str = typer.Option("", "--mapping", help=(
        "Vendor preset of the state codes: genesys, avaya, cisco, nice (default: openwfm "
        "states).")),
    client_id: int | None = typer.Option(None, "--client-id", help=(
        "Accept events only for the agents serving this client company's queues.")),
) -> None:
    """Consume agent-state events (one JSON event or a list per message: event_id,
    agent_id, state, at with offset, optional reason) and store them in the server's
    database, idempotent on event_id, acknowledging each message only after its commit.
    Bad messages are logged and taken off the stream (NATS term; Redis: copied to
    STREAM:dead with the reason). Stops on Ctrl-C."""
    import asyncio
    import logging

    from openwfm.server.db import Database
    from openwfm.server.migrate import upgrade
    from openwfm.server.rta import mapping_for
    from openwfm.server.rta_stream import consume_nats, consume_redis

    if not source.startswith(("nats://", "redis://", "rediss://")):
        raise InputError(f"expected nats://... or redis://..., got {source!r}", column="URL")
    try:
        m = mapping_for(mapping or None)
    except InputError as exc:
        raise InputError(exc.message, column="--mapping") from None
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("openwfm.server.rta_stream").setLevel(logging.INFO)
    upgrade(db)
    database = Database.connect(db)
    console.print(f"consuming {source} into {database.engine.url.render_as_string()} "
                  "(Ctrl-C stops)")
    try:
        if source.startswith("nats://"):
            asyncio.run(consume_nats(database, url=source, stream=stream or "ACD",
                                     subject=subject, durable=group, mapping=m,
                                     client_id=client_id))
        else:
            consume_redis(database, url=source, stream=stream or "acd:events", group=group,
                          consumer=consumer, mapping=m, client_id=client_id)
    finally:
        database.dispose()
