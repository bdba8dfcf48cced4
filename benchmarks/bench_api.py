"""API load: 500 agents reading their week's schedule at once, on SQLite and PostgreSQL.

A synthetic center of 500 agents (1 site, 1 client, 2 queues) with a published week of 5
shifts each (7,500 segments) is stored through the server's own tables; `openwfm serve`
runs it with ``--workers`` API processes on loopback; a load generator (httpx on asyncio, one
process) keeps 500 virtual agents, each with their own bearer token, requesting
``GET /api/agents/{id}/schedule?start&end`` back to back for ``--seconds``. Printed:
requests/s, p50/p99 latency, errors, and the machine's load average (the machine may be
shared: the figures are then noisy, and the load generator itself takes a core); and the
server's CPU time per request (its processes' user + system time from /proc), which does not
depend on what else the machine runs, with the request rate it gives on the machine's cores.

Goal (issue 13): >= 1,000 requests/s, p99 < 200 ms, 0 errors on a 2-core machine.

Run: ``.venv/bin/python benchmarks/bench_api.py [--seconds 15] [--workers 2] [--only sqlite]``
(PostgreSQL: the server at 127.0.0.1:5432, trust auth; a fresh database is made and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

WEEK = datetime(2026, 3, 30, tzinfo=UTC)
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


async def load(base: str, agents: list[tuple[str, str]], seconds: float
               ) -> tuple[int, int, np.ndarray, float]:
    """Every agent requests their week back to back; (ok, errors, latencies_s, wall_s)."""
    params = {"start": WEEK.isoformat(), "end": (WEEK + timedelta(days=7)).isoformat()}
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    limits = httpx.Limits(max_connections=len(agents), max_keepalive_connections=len(agents))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        stop = time.perf_counter() + seconds

        async def agent(agent_id: str, token: str) -> None:
            nonlocal errors
            headers = {"Authorization": f"Bearer {token}"}
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    r = await client.get(f"/api/agents/{agent_id}/schedule", params=params,
                                         headers=headers)
                    ok = r.status_code == 200 and len(r.json()["segments"]) == 15
                    if not ok:
                        kinds[f"HTTP {r.status_code}"] = kinds.get(f"HTTP {r.status_code}", 0) + 1
                except httpx.HTTPError as exc:
                    ok = False
                    kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(agent(a, t) for a, t in agents))
        wall = time.perf_counter() - t0
    if kinds:
        print("  errors:", ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())))
    return len(latencies), errors, np.asarray(latencies), wall


def run(label: str, url: str, args: argparse.Namespace, cwd: Path) -> None:
    t0 = time.perf_counter()
    agents = build_center(url, args.agents)
    print(f"[{label}] center stored: {args.agents} agents, {args.agents * 15:,} published "
          f"segments in {time.perf_counter() - t0:.1f} s")
    with serve(url, args.workers, cwd) as (base, pgid):
        asyncio.run(load(base, agents[:50], 2.0))  # warm-up: connections, caches
        load_before = os.getloadavg()[0]
        cpu0 = group_cpu_s(pgid)
        ok, errors, lat, wall = asyncio.run(load(base, agents, args.seconds))
        cpu = group_cpu_s(pgid) - cpu0
        load_after = os.getloadavg()[0]
    rate = ok / wall
    p50, p99 = (np.percentile(lat, [50, 99]) * 1000) if len(lat) else (float("nan"),) * 2
    goal = rate >= 1000 and p99 < 200 and errors == 0
    print(f"[{label}] {args.agents} agents x {wall:.1f} s, {args.workers} API workers: "
          f"{rate:,.0f} req/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, {errors} errors "
          f"(goal >= 1,000 req/s, p99 < 200 ms, 0 errors: {'met' if goal else 'NOT met'}); "
          f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores")
    if ok:
        per = cpu / ok
        print(f"[{label}] server CPU: {per * 1000:.2f} ms per request (all API processes) -> "
              f"capacity of {os.cpu_count()} cores given to the server alone: "
              f"{os.cpu_count() / per:,.0f} req/s (independent of the machine's load)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    args = ap.parse_args()
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
