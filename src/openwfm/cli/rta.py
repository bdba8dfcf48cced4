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


def _bank_log_default() -> str:
    import os
    from pathlib import Path

    import openwfm

    shared = os.environ.get("OPENWFM_SHARED_DATA") or str(
        Path(openwfm.__file__).resolve().parents[3] / "shared" / "data")
    return str(Path(shared) / "anonymous_bank_1999_02.tsv")


class _Api:
    """A small JSON client on the standard library (the server extra has no HTTP client)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.token = ""

    def call(self, method: str, path: str, body: object = None, *, form: bool = False,
             retry: bool = False) -> object:
        import json
        import time
        import urllib.error
        import urllib.parse
        import urllib.request

        while True:
            if form:
                data = urllib.parse.urlencode(body).encode()  # type: ignore[arg-type]
                ctype = "application/x-www-form-urlencoded"
            else:
                data = None if body is None else json.dumps(body).encode()
                ctype = "application/json"
            req = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": ctype})
            if self.token:
                req.add_header("Authorization", f"Bearer {self.token}")
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    return json.loads(r.read() or b"null")
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:400]
                if retry and exc.code >= 500:
                    time.sleep(1.0)
                    continue
                raise InputError(f"{method} {path}: HTTP {exc.code} {detail}",
                                 column="SERVER") from None
            except OSError as exc:
                if retry:  # the server restarts: send the same batch again
                    time.sleep(1.0)
                    continue
                raise InputError(f"cannot reach {self.base}: {exc}", column="SERVER") from None


@app.command(short_help="Replay a day of the bank log and schedule-derived agent states into "
             "a running server.")
def replay(
    server: str = typer.Argument("http://127.0.0.1:8000", metavar="URL",
                                 help="The running openwfm server."),
    user: str = typer.Option("admin", "--user", help="An admin user of the server."),
    password: str = typer.Option(..., "--password", envvar="OPENWFM_PASSWORD",
                                 help="Its password (or $OPENWFM_PASSWORD)."),
    log: str = typer.Option(_bank_log_default(), "--log", help=(
        "The Anonymous Bank call log (default: ../shared/data next to the repository, or "
        "$OPENWFM_SHARED_DATA).")),
    log_day: str = typer.Option("1999-02-01", "--log-day", help="Day of the log to replay."),
    day: str = typer.Option("", "--day", help=(
        "Day replayed (its published schedule is used; default: today in --tz).")),
    tz: str = typer.Option("", "--tz", help=(
        "Zone of the replayed day (default: the zone of the schedule's agents).")),
    team: list[int] = typer.Option([], "--team", help="Only these teams' agents (repeat)."),
    speed: float = typer.Option(60.0, "--speed", min=1.0, help=(
        "Replay clock speed: N x real time, never ahead of now (then it runs live).")),
    start: str = typer.Option("", "--from", help="Start the clock at HH:MM local (default: "
                              "the first event)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the agents' deviations."),
    acw_s: float = typer.Option(20.0, "--acw-s", min=0.0, help="After-contact work per call."),
    queue: str = typer.Option("", "--queue", help=(
        "Server queue the log's contacts are reported as (POST /api/rta/actuals; default: "
        "the primary skill of most replayed agents). 'none': send no queue actuals.")),
) -> None:
    """Feed a day into a running server: agent-state events made from the published
    schedule of --day and the served calls of --log-day of the bank log (at the same local
    time of day), posted to POST /api/rta/events in time order as a replay clock running at
    --speed times real time passes them (never ahead of now: a replay of today catches up,
    then runs live). Agents follow their schedule with seeded deviations (late logins,
    long breaks); each served call goes to the agent available and idle the longest. Event
    ids are fixed by the day, agent and order: running it again stores nothing twice.
    The queue actuals of the log day (every contact, served or abandoned, at the same local
    time of day) go to POST /api/rta/actuals as --queue, each interval once the clock has
    passed its end (a second run replaces them with the same values); the queue's live
    state (contacts waiting, the oldest wait, in service: the log's own waits) to POST
    /api/rta/queue-state every minute of the clock."""
    import time
    from collections import Counter
    from datetime import UTC, date, datetime, timedelta
    from zoneinfo import ZoneInfo

    import pandas as pd

    from openwfm.intraday.replay import (
        actuals_on_day,
        calls_on_day,
        queue_states_on_day,
        replay_events,
    )
    from openwfm.io.calllog import read_call_log

    api = _Api(server)
    tok = api.call("POST", "/api/auth/token", {"username": user, "password": password},
                   form=True)
    api.token = str(tok["access_token"])  # type: ignore[index]
    agents = {a["id"]: a for a in api.call("GET", "/api/agents")}  # type: ignore[union-attr]
    wanted = set(agents)
    if team:
        wanted = {a for a, row in agents.items() if row.get("team_id") in set(team)}
    zone_name = tz or (Counter(agents[a]["tz"] for a in wanted).most_common(1)[0][0]
                       if wanted else "UTC")
    zone = ZoneInfo(zone_name)
    try:
        the_day = date.fromisoformat(day) if day else datetime.now(zone).date()
        the_log_day = date.fromisoformat(log_day)
    except ValueError as exc:
        raise InputError(f"expected a date YYYY-MM-DD: {exc}", column="--day") from None
    d0 = datetime.combine(the_day, datetime.min.time(), zone)
    d1 = datetime.combine(the_day + timedelta(days=1), datetime.min.time(), zone)
    rows = []
    for sched in api.call("GET", "/api/schedules"):  # type: ignore[union-attr]
        if sched["published_version_id"] is None:
            continue
        if not (datetime.fromisoformat(sched["period_start"]) < d1
                and datetime.fromisoformat(sched["period_end"]) > d0):
            continue
        rows += api.call("GET", f"/api/schedules/{sched['id']}/segments?version=published")  # type: ignore[operator]
    seg = pd.DataFrame(rows, columns=["agent_id", "activity", "start", "end"])
    for c in ("start", "end"):
        seg[c] = pd.to_datetime(seg[c], utc=True)
    seg = seg[seg["agent_id"].isin(wanted) & (seg["start"] >= pd.Timestamp(d0))
              & (seg["start"] < pd.Timestamp(d1))].drop_duplicates()
    if seg.empty:
        raise InputError(f"no published schedule segments on {the_day} ({zone_name}) for "
                         "these agents: publish a schedule covering the day", column="--day")
    log_calls = read_call_log(log)
    calls = calls_on_day(log_calls, the_log_day, "Asia/Jerusalem", the_day, zone_name)
    queue_id = queue if queue != "none" else ""
    if not queue:
        primary = Counter(agents[a]["skills"][0]["skill_id"] for a in sorted(wanted)
                          if agents[a]["skills"])
        queue_id = primary.most_common(1)[0][0] if primary else ""
    actual_items: list[dict[str, object]] = []
    actual_ends: list[pd.Timestamp] = []
    state_items: list[dict[str, object]] = []
    state_at: list[pd.Timestamp] = []
    if queue_id:
        queues = {q["id"]: q for q in api.call("GET", "/api/queues")}  # type: ignore[union-attr]
        if queue_id not in queues:
            if queue:
                raise InputError(f"no queue {queue_id!r} on the server (known: "
                                 f"{sorted(queues)})", column="--queue")
            console.print(f"no queue {queue_id!r} (the agents' primary skill): no queue "
                          "actuals sent; name one with --queue")
            queue_id = ""
    if queue_id:
        setups = api.call("GET", "/api/scenarios")
        step = int(setups[0]["interval_s"]) if setups else 1800  # type: ignore[index]
        act = actuals_on_day(log_calls, the_log_day, "Asia/Jerusalem", the_day, zone_name,
                             interval_s=step, grid_tz=queues[queue_id]["tz"],
                             answer_within_s=float(queues[queue_id]["answer_within_s"]))
        for row in act.itertuples(index=False):
            item: dict[str, object] = {"queue_id": queue_id,
                                       "interval_start": row.interval_start.isoformat(),
                                       "interval_s": step}
            for c in ("volume", "handled", "abandoned", "aht_s", "asa_s", "answered_within"):
                v = getattr(row, c)
                if v == v:  # not NaN
                    item[c] = float(v)
            actual_items.append(item)
            actual_ends.append(row.interval_start + pd.Timedelta(seconds=step))
        qs = queue_states_on_day(log_calls, the_log_day, "Asia/Jerusalem", the_day, zone_name)
        for row in qs.itertuples(index=False):
            state: dict[str, object] = {"queue_id": queue_id, "at": row.at.isoformat(),
                                        "waiting": int(row.waiting),
                                        "in_service": int(row.in_service)}
            if row.oldest_wait_s == row.oldest_wait_s:  # not NaN
                state["oldest_wait_s"] = float(row.oldest_wait_s)
            state_items.append(state)
            state_at.append(row.at)
    made = replay_events(seg, calls, seed=seed, acw_s=acw_s,
                         id_prefix=f"replay-{the_day.isoformat()}")
    ev = made.events
    console.print(f"{len(ev):,} events for {seg['agent_id'].nunique()} agents on {the_day} "
                  f"({zone_name}); {len(calls):,} served calls of {the_log_day}: "
                  f"{made.calls_served:,} given to an agent, {made.calls_unserved:,} found "
                  "none available")
    clock0 = ev["at"].min() if not start else pd.Timestamp(
        datetime.combine(the_day, datetime.strptime(start, "%H:%M").time(), zone))
    wall0 = time.monotonic()
    sent = stored = dups = 0
    a_sent = a_new = a_replaced = 0
    s_sent = s_new = 0
    last_print = 0.0
    at = ev["at"].tolist()
    items = [{"event_id": e, "agent_id": a, "state": s, "at": t.isoformat()}
             for e, a, s, t in zip(ev["event_id"], ev["agent_id"], ev["state"], at,
                                   strict=True)]
    def pending() -> bool:  # events to send, or intervals that ended before now
        now_ = pd.Timestamp(datetime.now(UTC))
        return sent < len(items) or (a_sent < len(actual_items) and actual_ends[a_sent]
                                     <= now_) or (s_sent < len(state_items)
                                                  and state_at[s_sent] <= now_)

    while pending():
        clock = min(clock0 + pd.Timedelta(seconds=(time.monotonic() - wall0) * speed),
                    pd.Timestamp(datetime.now(UTC)))
        j = a_sent
        while j < len(actual_items) and actual_ends[j] <= clock:
            j += 1
        if j > a_sent:
            ack = api.call("POST", "/api/rta/actuals", actual_items[a_sent:j], retry=True)
            a_new += int(ack["inserted"])  # type: ignore[index]
            a_replaced += int(ack["replaced"])  # type: ignore[index]
            a_sent = j
        m = s_sent
        while m < len(state_items) and state_at[m] <= clock and m - s_sent < 2000:
            m += 1
        if m > s_sent:
            ack = api.call("POST", "/api/rta/queue-state", state_items[s_sent:m], retry=True)
            s_new += int(ack["inserted"])  # type: ignore[index]
            s_sent = m
        k = sent
        while k < len(items) and at[k] <= clock and k - sent < 2000:
            k += 1
        if k > sent:
            ack = api.call("POST", "/api/rta/events", items[sent:k], retry=True)
            stored += int(ack["stored"])  # type: ignore[index]
            dups += int(ack["duplicates"])  # type: ignore[index]
            sent = k
        if time.monotonic() - last_print > 5 or not pending():
            last_print = time.monotonic()
            console.print(f"clock {clock.tz_convert(zone):%H:%M:%S}: {sent:,}/{len(items):,} "
                          f"events sent, {stored:,} stored, {dups:,} already there"
                          + (f"; queue {queue_id}: {a_sent}/{len(actual_items)} intervals "
                             f"sent ({a_new} new, {a_replaced} replaced), {s_sent}/"
                             f"{len(state_items)} queue states ({s_new} new)" if queue_id
                             else ""))
        if k == sent and j == a_sent and m == s_sent and pending():
            time.sleep(0.2)
