"""API load: 500 agents reading their week's schedule at once, on SQLite and PostgreSQL.

A synthetic center of 500 agents (1 site, 1 client, 2 queues) with a published week of 5
shifts each (7,500 segments) is stored through the server's own tables; `openwfm serve`
runs it with ``--workers`` API processes on loopback. The load generator (one process,
asyncio on uvloop, HTTP/1.1 parsed by httptools: a few hundredths of a millisecond of CPU
per request, so it leaves the cores to the server) keeps 500 virtual agents, each on their
own keep-alive connection with their own bearer token, requesting
``GET /api/agents/{id}/schedule?start&end``, and checks every answer (the agent's 15
segments; then byte-identical). Two runs:

1. paced: together the agents ask ``--rate`` requests/s (each agent every 0.5 s at 1,000/s,
   staggered); latency counted from when a request was due, so a slow answer also counts
   against the requests it delays;
2. back to back: each agent asks again as soon as it has its answer: the most the server
   answers. Its latency is the agents' own queue (500 agents / rate, Little's law), not a
   service time.

Printed for each: requests/s answered, p50/p95/p99 latency, errors, the load average
before/after (the machine may be shared: the figures are then those of a crowded machine)
and the CPU time per request of the server's processes and of the load generator (from
/proc and getrusage), which does not depend on what else the machine runs, with the rate
the server's CPU cost gives on the machine's cores. ``--revalidate`` adds both runs with
``If-None-Match`` (304 answers). PostgreSQL's own backend CPU is not in the server figure.

Goal (issue 13): >= 1,000 requests/s, p99 < 200 ms, 0 errors on a 2-core machine.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_api.py [--seconds 15] [--workers 2]
[--rate 1000] [--only sqlite|postgresql] [--revalidate]`` (PostgreSQL: the server at
127.0.0.1:5432, trust auth; a fresh database is made and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httptools
import httpx
import numpy as np
import sqlalchemy as sa

from openwfm.server.db import Database
from openwfm.server.migrate import upgrade
from openwfm.server.models import (
    Agent,
    AgentSkill,
    Client,
    Queue,
    Schedule,
    Segment,
    Site,
    Skill,
    User,
)
from openwfm.server.routers.schedules import publish_draft
from openwfm.server.security import hash_password, issue_token, signing_key

try:
    import uvloop
except ImportError:  # the load generator then runs on asyncio's own loop
    uvloop = None  # type: ignore[assignment]

WEEK = datetime(2026, 3, 30, tzinfo=UTC)
SEGMENTS_PER_AGENT = 15
"""5 shifts of work, break, work."""
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


def build_center(url: str, agents: int) -> list[tuple[str, str]]:
    """Store the synthetic center; return (agent id, bearer token) per agent."""
    upgrade(url)
    db = Database.connect(url)
    with db.transaction() as s:
        client = Client(name="BenchCo")
        site = Site(name="Bench", country="MA", tz="Africa/Casablanca", seats=600,
                    cost_per_hour=9.0, labour_pack="MA")
        s.add_all([client, site])
        s.flush()
        for q in ("bench-voice", "bench-chat"):
            s.add(Queue(id=q, client_id=client.id, channel=q.split("-")[1], language="fr",
                        market="FR", tz="Europe/Paris"))
        s.flush()
        s.add_all([Skill(id=q, queue_id=q) for q in ("bench-voice", "bench-chat")])
        h = hash_password(uuid.uuid4().hex)
        ids = [f"A{i:04d}" for i in range(agents)]
        for i, a in enumerate(ids):
            agent = Agent(id=a, name=a, site_id=site.id, tz=site.tz, contract_hours=40)
            agent.skills = [AgentSkill(skill_id="bench-voice", rank=0)]
            s.add(agent)
            s.add(User(username=a, password_hash=h, role="agent", agent_id=a))
            if i % 100 == 0:
                s.flush()
        s.flush()
        sched = Schedule(name="bench week", period_start=WEEK,
                         period_end=WEEK + timedelta(days=7))
        s.add(sched)
        s.flush()
        rows = []
        for i, a in enumerate(ids):
            for d in range(5):
                t0 = WEEK + timedelta(days=d, hours=6 + i % 10)
                for act, a0, a1 in (("work", 0, 4), ("break", 4, 4.5), ("work", 4.5, 8)):
                    rows.append({"schedule_id": sched.id, "version_id": None, "agent_id": a,
                                 "activity": act, "start": t0 + timedelta(hours=a0),
                                 "end": t0 + timedelta(hours=a1), "queue_id": None})
        s.execute(sa.insert(Segment), rows)
        publish_draft(s, sched, None)
        key = signing_key(s, None)
        users = {u: i for u, i in s.execute(sa.select(User.username, User.id))}
    db.dispose()
    return [(a, issue_token(key, users[a], 3600)) for a in ids]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of process group
    `pgid` (Linux /proc): the server's own cost, whatever else runs on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])
    return total / tick


def pids_cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by the live processes `pids`."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def database_backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving database `url` now (empty for SQLite, whose
    work is inside the API processes)."""
    if not url.startswith("postgresql"):
        return []
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return list(c.scalars(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")))
    finally:
        engine.dispose()


@contextmanager
def serve(url: str, workers: int, cwd: Path) -> Iterator[tuple[str, int]]:
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from openwfm.cli import main; main()", "serve", "--db", url,
         "--port", str(port), "--workers", str(workers), "--job-workers", "0"],
        cwd=cwd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.3)
        time.sleep(1.0)  # let every worker process finish starting
        yield base, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


class VirtualAgent(asyncio.Protocol):
    """One agent on one keep-alive connection: request their week, wait for the whole
    answer, check it, record the latency, request again, until `stop` (perf_counter).

    HTTP/1.1 on a raw asyncio transport with httptools' parser (the C parser uvicorn
    uses): a few tens of microseconds of client CPU per request, so the load generator
    leaves the cores to the server."""

    def __init__(self, request: bytes, stop: float, stats: Stats, done: asyncio.Future[None],
                 expect: int, period_s: float | None = None) -> None:
        self.request, self.stop, self.stats, self.done = request, stop, stats, done
        self.expect = expect
        self.period_s = period_s
        """None: the next request as soon as the answer is in (saturation); else one
        request every `period_s`, latency counted from when it was due (so a late answer
        also delays what follows: no coordinated omission)."""
        self.due = 0.0
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.etag = b""
        self.transport: asyncio.Transport | None = None
        self.t0 = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.stats.fail(type(exc).__name__)
            self.finish()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.stats.fail("connection lost")
            self.done.set_result(None)

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"etag":
            self.etag = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        t = time.perf_counter()
        status = self.parser.get_status_code()
        body = b"".join(self.body)
        self.body = []
        if status == self.expect and (status == 304 or self.stats.check(self.request, body)):
            self.stats.latencies.append(t - self.t0)
        else:
            self.stats.fail(f"HTTP {status}")
        if self.period_s is None:
            if t < self.stop:
                self.send()
            else:
                self.finish()
            return
        self.due += self.period_s
        if self.due >= self.stop:
            self.finish()
        elif self.due <= t:
            self.send(self.due)
        else:
            asyncio.get_running_loop().call_later(self.due - t, self.send, self.due)

    def send(self, due: float | None = None) -> None:
        self.t0 = time.perf_counter() if due is None else due
        assert self.transport is not None
        self.transport.write(self.request)

    def finish(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)


class Stats:
    """Latencies of correct answers; errors by kind; the checked body of each request."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.bodies: dict[bytes, bytes] = {}

    def fail(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def check(self, request: bytes, body: bytes) -> bool:
        """The first answer of a request must be the agent's week (15 segments of that
        agent); every later one must be byte-identical to it."""
        known = self.bodies.get(request)
        if known is not None:
            return body == known
        try:
            week = json.loads(body)
            agent = request.split(b"/api/agents/", 1)[1].split(b"/", 1)[0].decode()
            ok = (week["agent_id"] == agent and len(week["segments"]) == SEGMENTS_PER_AGENT
                  and all(s["agent_id"] == agent for s in week["segments"]))
        except (ValueError, KeyError, IndexError):
            ok = False
        if ok:
            self.bodies[request] = body
        return ok


def _request(host: str, agent_id: str, token: str, etag: str | None = None) -> bytes:
    query = urlencode({"start": WEEK.isoformat(),
                       "end": (WEEK + timedelta(days=7)).isoformat()})
    lines = [f"GET /api/agents/{agent_id}/schedule?{query} HTTP/1.1", f"Host: {host}",
             f"Authorization: Bearer {token}", "Accept: application/json"]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def fetch_etags(base: str, agents: list[tuple[str, str]]) -> dict[str, str]:
    """The ETag of each agent's week (what an agent's app keeps from its last read)."""
    out = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for a, token in agents:
            r = client.get(f"/api/agents/{a}/schedule", params={
                "start": WEEK.isoformat(), "end": (WEEK + timedelta(days=7)).isoformat()},
                headers={"Authorization": f"Bearer {token}"})
            out[a] = r.headers["ETag"]
    return out


async def load(base: str, agents: list[tuple[str, str]], seconds: float,
               etags: dict[str, str] | None = None, rate: float | None = None
               ) -> tuple[int, dict[str, int], np.ndarray, float]:
    """Every agent requests their week on their own keep-alive connection: back to back
    (`rate` None: the most the server answers), or each agent once every
    ``len(agents) / rate`` seconds, staggered, so that together they ask `rate` requests/s.
    Returns (answers, errors by kind, latencies_s of the correct answers, wall_s). With
    `etags`, each request carries the ETag of the agent's week (If-None-Match): 304s
    expected."""
    period_s = None if rate is None else len(agents) / rate
    host, port = base.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    stats = Stats()
    etags = etags or {}
    revalidate = bool(etags)
    dones, protocols = [], []
    for a, token in agents:  # every agent connected first (keep-alive), then all start
        done: asyncio.Future[None] = loop.create_future()
        dones.append(done)
        req = _request(f"{host}:{port}", a, token, etags.get(a))
        proto = VirtualAgent(req, math.inf, stats, done, 304 if revalidate else 200,
                             period_s)
        try:
            await loop.create_connection(lambda p=proto: p, host, int(port))  # type: ignore[misc]
            protocols.append(proto)
        except OSError as exc:
            stats.fail(type(exc).__name__)
            done.set_result(None)
    await asyncio.sleep(0.5)  # the server accepts them
    t0 = time.perf_counter()
    stop = t0 + seconds
    for i, proto in enumerate(protocols):
        proto.stop = stop
        if period_s is None:
            proto.send()
        else:  # staggered over the first period
            proto.due = t0 + period_s * i / len(protocols)
            loop.call_later(proto.due - time.perf_counter(), proto.send, proto.due)
    await asyncio.gather(*dones)
    wall = time.perf_counter() - t0
    n_err = sum(stats.errors.values())
    return len(stats.latencies) + n_err, stats.errors, np.asarray(stats.latencies), wall


def _run_load(base: str, agents: list[tuple[str, str]], seconds: float,
              etags: dict[str, str] | None = None, rate: float | None = None
              ) -> tuple[int, dict[str, int], np.ndarray, float]:
    if uvloop is not None:
        return uvloop.run(load(base, agents, seconds, etags, rate))
    return asyncio.run(load(base, agents, seconds, etags, rate))


def run(label: str, url: str, args: argparse.Namespace, cwd: Path) -> bool:
    """Store the center, serve it, and measure: (1) the agents together asking
    `args.rate` requests/s (latency p50/p95/p99 at that rate), (2) the agents asking back to
    back (the most the server answers; there the latency is the agents' own queue:
    ``agents / rate``, Little's law). The goal is met when (1) has p99 < 200 ms, (2) reaches
    1,000 requests/s and neither has an error."""
    t0 = time.perf_counter()
    agents = build_center(url, args.agents)
    print(f"[{label}] center stored: {args.agents} agents, "
          f"{args.agents * SEGMENTS_PER_AGENT:,} published segments in "
          f"{time.perf_counter() - t0:.1f} s")
    results: dict[str, tuple[float, float, int]] = {}
    with serve(url, args.workers, cwd) as (base, pgid):
        _run_load(base, agents, 2.0)  # warm-up: connections, caches, every worker
        modes: list[tuple[str, float | None, bool]] = [
            (f"{args.rate:,.0f} req/s asked", args.rate, False),
            ("back to back", None, False)]
        if args.revalidate:
            modes += [(f"{args.rate:,.0f} req/s asked, If-None-Match -> 304", args.rate, True),
                      ("back to back, If-None-Match -> 304", None, True)]
        backends = database_backends(url)  # the API processes' pooled connections
        for mode, rate, revalidate in modes:
            etags = fetch_etags(base, agents) if revalidate else None
            load_before = os.getloadavg()[0]
            db0 = pids_cpu_s(backends)
            cpu0 = group_cpu_s(pgid)
            me0 = resource.getrusage(resource.RUSAGE_SELF)
            n, errors, lat, wall = _run_load(base, agents, args.seconds, etags, rate)
            me1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = group_cpu_s(pgid) - cpu0
            db_cpu = pids_cpu_s(backends) - db0
            load_after = os.getloadavg()[0]
            n_err = sum(errors.values())
            answered = n / wall
            p50, p95, p99 = (np.percentile(lat, [50, 95, 99]) * 1000 if len(lat)
                             else (float("nan"),) * 3)
            results[mode] = (answered, p99, n_err)
            print(f"[{label}] {mode}: {args.agents} agents, {wall:.1f} s, {args.workers} API "
                  f"workers: {answered:,.0f} req/s answered, p50 {p50:.1f} ms, "
                  f"p95 {p95:.1f} ms, p99 {p99:.1f} ms, {n_err} errors of {n:,}")
            if errors:
                print(f"[{label}]   errors: " + ", ".join(f"{k} x{v}" for k, v in
                                                         sorted(errors.items())))
            client_cpu = (me1.ru_utime - me0.ru_utime) + (me1.ru_stime - me0.ru_stime)
            print(f"[{label}]   load average {load_before:.2f} -> {load_after:.2f} on "
                  f"{os.cpu_count()} cores (other work on the machine takes its share)")
            if n:
                per = (cpu + db_cpu) / n
                db_part = (f" + PostgreSQL backends {db_cpu / n * 1e3:.3f} ms"
                           if backends else "")
                print(f"[{label}]   CPU per request: server {cpu / n * 1e3:.3f} ms (all API "
                      f"processes){db_part}, load generator {client_cpu / n * 1e3:.3f} ms; "
                      f"{os.cpu_count()} cores given to the server"
                      f"{' and its database' if backends else ''} alone: "
                      f"{os.cpu_count() / per:,.0f} req/s (independent of the machine's "
                      f"load)")
    paced, most = results[modes[0][0]], results["back to back"]
    met = paced[1] < 200 and most[0] >= 1000 and paced[2] == 0 and most[2] == 0
    print(f"[{label}] goal (p99 < 200 ms at {args.rate:,.0f} req/s, >= 1,000 req/s answered "
          f"back to back, 0 errors): {'met' if met else 'NOT met'}")
    return met


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=1000.0,
                    help="requests/s the agents ask together in the paced run")
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    ap.add_argument("--revalidate", action="store_true",
                    help="also measure requests carrying If-None-Match (answered 304)")
    args = ap.parse_args()
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    with tempfile.TemporaryDirectory(prefix="openwfm-bench-api-") as tmp:
        cwd = Path(tmp)
        if args.only in (None, "sqlite"):
            run("sqlite", f"sqlite:///{cwd / 'bench.db'}", args, cwd)
        if args.only in (None, "postgresql"):
            name = f"openwfm_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as c:
                    c.exec_driver_sql(f'CREATE DATABASE "{name}"')
            except sa.exc.OperationalError as exc:
                print(f"[postgresql] skipped: no server at 127.0.0.1:5432 ({exc.orig})")
                return
            try:
                run("postgresql", f"{PG}/{name}", args, cwd)
            finally:
                with admin.connect() as c:
                    c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()


if __name__ == "__main__":
    main()
