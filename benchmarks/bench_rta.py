"""Real-time adherence load: 2,000 agents' state changes at >= 200 events/s for 5 minutes
on loopback, with the server killed and restarted mid-run.

A synthetic center (1 site, 1 client, 2,000 agents in 20 teams of 100, an ``acd`` user of
the client) with a published shift around now for every agent is stored through the
server's own tables; ``openwfm serve --workers 2`` runs it on loopback. The load generator
(httpx on asyncio, one process) makes ``--rate`` state changes a second (seeded; each agent
moves between available, on_contact, after_contact_work, break and other), posts them as
the ACD does, in batches every ``--batch-ms`` to ``POST /api/rta/events`` (up to
``--senders`` in flight; a sender that finds batches waiting, after the restart, sends them
in one POST of up to ``--catch-up`` events), and sends a batch again (same event ids)
until it is acknowledged. Halfway (``--restart-at-s``) the server's
processes are killed (SIGKILL: no clean shutdown) and started again. All along, one team
leader per team (``--streams``, 20) keeps the exceptions stream (server-sent events) open,
reconnecting after the restart.

Printed:

* the rate of state changes made and acknowledged;
* **received -> visible**: for one event of every 2nd acknowledged batch, the time from the
  start of the POST that stored it (an upper bound of when the server received it) until a
  ``GET /api/rta/adherence?agent_id=`` (any worker process) shows the agent's events
  including it: p50, p95, p99, max (goal: p99 < 1 s), over the whole run and outside the
  restart;
* **lost / double-counted**: the event ids in the database against those made (every
  batch is retried until acknowledged, so none may be missing), and the sum of the
  ``events`` counts the restarted server's live board gives over all 20 teams (each event
  exactly once);
* the load average and the server's CPU time per event (its processes' user + system time
  from /proc), which does not depend on what else the machine runs.

Run: ``.venv/bin/python benchmarks/bench_rta.py [--duration-s 300] [--rate 200]
[--workers 2] [--db postgresql]`` (PostgreSQL: the server at 127.0.0.1:5432, trust auth; a
fresh database is made and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
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
    RtaEvent,
    Schedule,
    Segment,
    Site,
    Skill,
    Team,
    User,
)
from openwfm.server.routers.schedules import publish_draft
from openwfm.server.security import hash_password, issue_token, signing_key

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
STATES = ["available", "on_contact", "after_contact_work", "available", "on_contact",
          "after_contact_work", "break", "other"]


def build_center(url: str, agents: int, teams: int) -> tuple[list[str], list[int], str, str]:
    """Store the center; (agent ids, team ids, ACD token, admin token)."""
    upgrade(url)
    db = Database.connect(url)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with db.transaction() as s:
        client = Client(name="BenchCo")
        site = Site(name="Bench", country="MA", tz="Africa/Casablanca", seats=2500,
                    cost_per_hour=9.0, labour_pack="MA")
        s.add_all([client, site])
        s.flush()
        s.add(Queue(id="bench-voice", client_id=client.id, channel="voice", language="fr",
                    market="FR", tz="Europe/Paris"))
        s.flush()
        s.add(Skill(id="bench-voice", queue_id="bench-voice"))
        team_rows = [Team(name=f"T{k:02d}", site_id=site.id) for k in range(teams)]
        s.add_all(team_rows)
        s.flush()
        ids = [f"A{i:04d}" for i in range(agents)]
        for i, a in enumerate(ids):
            agent = Agent(id=a, name=a, site_id=site.id, tz=site.tz, contract_hours=40,
                          team_id=team_rows[i % teams].id)
            agent.skills = [AgentSkill(skill_id="bench-voice", rank=0)]
            s.add(agent)
            if i % 200 == 0:
                s.flush()
        h = hash_password(uuid.uuid4().hex)
        s.add(User(username="acd", password_hash=h, role="acd", client_id=client.id))
        s.add(User(username="admin", password_hash=h, role="admin"))
        s.flush()
        sched = Schedule(name="bench day", period_start=now - timedelta(days=1),
                         period_end=now + timedelta(days=1))
        s.add(sched)
        s.flush()
        rows = []
        for i, a in enumerate(ids):
            t0 = now - timedelta(hours=5)
            brk = t0 + timedelta(hours=3, minutes=15 * (i % 12))
            for act, a0, a1 in (("work", t0, brk), ("break", brk, brk + timedelta(minutes=15)),
                                ("work", brk + timedelta(minutes=15),
                                 t0 + timedelta(hours=10))):
                rows.append({"schedule_id": sched.id, "version_id": None, "agent_id": a,
                             "activity": act, "start": a0, "end": a1, "queue_id": None})
        s.execute(sa.insert(Segment), rows)
        publish_draft(s, sched, None)
        key = signing_key(s, None)
        users = {u: i for u, i in s.execute(sa.select(User.username, User.id))}
        team_ids = [t.id for t in team_rows]
    db.dispose()
    ttl = 24 * 3600
    return ids, team_ids, issue_token(key, users["acd"], ttl), issue_token(key, users["admin"],
                                                                           ttl)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of group `pgid`."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


class Server:
    """`openwfm serve` in its own process group; `kill` is a crash (SIGKILL)."""

    def __init__(self, url: str, workers: int, cwd: Path) -> None:
        self.url, self.workers, self.cwd = url, workers, cwd
        self.port = _port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.cpu_s = 0.0

    def start(self) -> float:
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from openwfm.cli import main; main()", "serve", "--db",
             self.url, "--port", str(self.port), "--workers", str(self.workers),
             "--job-workers", "0"],
            cwd=self.cwd, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=2).status_code == 200:
                    return time.monotonic() - t0
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)

    def cpu(self) -> float:
        return self.cpu_s + (group_cpu_s(self.proc.pid) if self.proc else 0.0)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is None:
            return
        self.cpu_s += group_cpu_s(self.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.proc = None


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"openwfm_bench_rta_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG}/{name}"
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


async def drive(server: Server, agents: list[str], acd: str, admin: str,
                args: argparse.Namespace) -> dict[str, object]:
    """Make, post and probe events for `args.duration_s`; kill and restart the server at
    `args.restart_at_s`."""
    rng = random.Random(args.seed)
    made: list[str] = []
    per_agent = dict.fromkeys(agents, 0)
    state_of = dict.fromkeys(agents, -1)
    queue: asyncio.Queue[tuple[list[dict[str, str]], list[int], float] | None] = \
        asyncio.Queue()
    acked = {"batches": 0, "events": 0, "stored": 0, "duplicates": 0, "retries": 0}
    visible_s: list[tuple[float, float]] = []  # (sent, seconds since the start; latency)
    ack_s: list[float] = []
    restart: dict[str, float] = {}
    stop_at = time.monotonic() + args.duration_s
    batch_s = args.batch_ms / 1000
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    h_acd = {"Authorization": f"Bearer {acd}"}
    h_admin = {"Authorization": f"Bearer {admin}"}

    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=30) as http:

        async def probe(agent: str, need: int, t_sent: float) -> None:
            # long enough to outlast the restart: a probe measures when the event shows
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                try:
                    r = await http.get("/api/rta/adherence", params={"agent_id": agent},
                                       headers=h_admin)
                    if r.status_code == 200 and r.json()["agents"][0]["events"] >= need:
                        visible_s.append((t_sent - t_start, time.monotonic() - t_sent))
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            visible_s.append((t_sent - t_start, float("inf")))

        probes: set[asyncio.Task[None]] = set()
        streaming = {"on": True, "events": 0, "connects": 0}

        async def watch(team: int) -> None:
            """A team leader's exceptions stream, open all along (reconnects after the
            restart): the server-sent events fan-out under load."""
            while streaming["on"]:
                try:
                    async with http.stream("GET", "/api/rta/exceptions/stream",
                                           params={"team": team}, headers=h_admin,
                                           timeout=httpx.Timeout(30, read=None)) as r:
                        streaming["connects"] += 1
                        async for line in r.aiter_lines():
                            if line.startswith("event:"):
                                streaming["events"] += 1
                            if not streaming["on"]:
                                return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)

        watchers = [asyncio.create_task(watch(t)) for t in args.team_ids[:args.streams]]

        async def sender() -> None:
            while True:
                item = await queue.get()
                if item is None:
                    return
                batch, seqs, made_at = item
                made = [made_at]
                # behind (the server was down): send what waits in one POST, as an ACD
                # adapter catching up does (up to --catch-up events)
                while len(batch) < args.catch_up and not queue.empty():
                    more = queue.get_nowait()
                    if more is None:
                        queue.put_nowait(None)
                        break
                    batch, seqs = batch + more[0], seqs + more[1]
                    made.append(more[2])
                while True:
                    t_sent = time.monotonic()
                    try:
                        r = await http.post("/api/rta/events", json=batch, headers=h_acd)
                        if r.status_code == 200:
                            break
                        if r.status_code < 500 and r.status_code != 429:
                            raise RuntimeError(f"refused: {r.status_code} {r.text[:300]}")
                    except httpx.HTTPError:
                        pass
                    acked["retries"] += 1
                    await asyncio.sleep(0.2)
                ack = r.json()
                acked["batches"] += 1
                acked["events"] += ack["received"]
                acked["stored"] += ack["stored"]
                acked["duplicates"] += ack["duplicates"]
                ack_s.extend(time.monotonic() - t for t in made)  # each batch made
                if acked["batches"] % args.probe_every:
                    continue
                k = rng.randrange(len(batch))
                task = asyncio.create_task(probe(batch[k]["agent_id"], seqs[k], t_sent))
                probes.add(task)
                task.add_done_callback(probes.discard)

        t_start = time.monotonic()
        senders = [asyncio.create_task(sender()) for _ in range(args.senders)]
        tick = 0
        carry = 0.0
        while time.monotonic() < stop_at:
            if (args.restart_at_s and "killed" not in restart
                    and time.monotonic() - t_start >= args.restart_at_s):
                restart["killed"] = time.monotonic() - t_start

                def crash_and_restart() -> None:
                    server.kill()
                    restart["startup_s"] = server.start()

                # in the background: the ACD goes on making events while the server is down
                restarting = asyncio.create_task(asyncio.to_thread(crash_and_restart))
            tick += 1
            carry += args.rate * batch_s
            n, carry = int(carry), carry - int(carry)
            now = datetime.now(UTC).isoformat()
            batch, seqs = [], []
            for _ in range(n):
                a = agents[rng.randrange(len(agents))]
                nxt = rng.randrange(len(STATES))
                if nxt == state_of[a]:
                    nxt = (nxt + 1) % len(STATES)
                state_of[a] = nxt
                per_agent[a] += 1
                eid = f"{a}-{per_agent[a]}"
                made.append(eid)
                batch.append({"event_id": eid, "agent_id": a, "state": STATES[nxt],
                              "at": now})
                seqs.append(per_agent[a])
            if batch:
                await queue.put((batch, seqs, time.monotonic()))
            # keep the pace of the clock, not of the answers
            delay = t_start + tick * batch_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        made_s = time.monotonic() - t_start
        if "killed" in restart:
            await restarting
        for _ in senders:
            await queue.put(None)
        await asyncio.gather(*senders)
        acked_s = time.monotonic() - t_start
        if probes:
            await asyncio.gather(*probes)
        streaming["on"] = False
        for w in watchers:
            w.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        # through the API: the live board of the restarted server, summed over the teams
        board_events = 0
        for team in args.team_ids:
            r = await http.get("/api/rta/adherence", params={"team": team}, headers=h_admin)
            r.raise_for_status()
            board_events += sum(x["events"] for x in r.json()["agents"])
    return {"made": made, "made_s": made_s, "acked_s": acked_s, "acked": acked,
            "visible_s": np.asarray(visible_s), "ack_s": np.asarray(ack_s),
            "restart": restart, "board_events": board_events, "streams": streaming}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration-s", type=float, default=300.0)
    ap.add_argument("--rate", type=float, default=200.0, help="state changes per second")
    ap.add_argument("--agents", type=int, default=2000)
    ap.add_argument("--teams", type=int, default=20)
    ap.add_argument("--batch-ms", type=float, default=100.0,
                    help="the ACD posts what it has every this many ms")
    ap.add_argument("--senders", type=int, default=8, help="concurrent POSTs at most")
    ap.add_argument("--catch-up", type=int, default=1000,
                    help="a sender that finds batches waiting sends up to this many events "
                         "in one POST (1: never coalesce)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--probe-every", type=int, default=2,
                    help="probe the visibility of one event of every N-th acknowledged batch")
    ap.add_argument("--restart-at-s", type=float, default=None,
                    help="kill -9 and restart the server then (default: half the duration; "
                         "0: never)")
    ap.add_argument("--streams", type=int, default=20,
                    help="exceptions streams kept open (team leaders watching), one per team")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dump", type=Path, default=None,
                    help="write every probe (sent at s, latency s) to this CSV")
    args = ap.parse_args()
    if args.restart_at_s is None:
        args.restart_at_s = args.duration_s / 2
    with tempfile.TemporaryDirectory(prefix="openwfm-bench-rta-") as tmp, \
            database(args.db, Path(tmp)) as url:
        t0 = time.perf_counter()
        agents, team_ids, acd, admin = build_center(url, args.agents, args.teams)
        args.team_ids = team_ids
        print(f"[{args.db}] center stored: {len(agents):,} agents in {len(team_ids)} teams, "
              f"{len(agents) * 3:,} published segments in {time.perf_counter() - t0:.1f} s")
        server = Server(url, args.workers, Path(tmp))
        server.start()
        load0 = os.getloadavg()
        cpu0 = server.cpu()
        try:
            res = asyncio.run(drive(server, agents, acd, admin, args))
            cpu = server.cpu() - cpu0
        finally:
            server.kill(signal.SIGTERM)
        load1 = os.getloadavg()
        db = Database.connect(url)
        with db.read() as s:
            stored = set(s.scalars(sa.select(RtaEvent.event_id)))
            rows = int(s.scalar(sa.select(sa.func.count()).select_from(RtaEvent)) or 0)
        db.dispose()
    made: list[str] = res["made"]  # type: ignore[assignment]
    acked: dict[str, int] = res["acked"]  # type: ignore[assignment]
    probes: np.ndarray = res["visible_s"]  # type: ignore[assignment]
    vis = probes[:, 1] if len(probes) else np.array([])
    ack_s: np.ndarray = res["ack_s"]  # type: ignore[assignment]
    if args.dump is not None:
        np.savetxt(args.dump, probes, delimiter=",", header="sent_s,visible_s", comments="",
                   fmt="%.4f")
    lost = len(set(made) - stored)
    extra = len(stored - set(made))
    double = rows - len(stored)
    p50, p95, p99, pmax = (np.percentile(vis, [50, 95, 99, 100]) if len(vis)
                           else [np.nan] * 4)
    restart = res["restart"]
    print(f"[{args.db}] {len(made):,} state changes made in {res['made_s']:.1f} s = "
          f"{len(made) / res['made_s']:.1f} events/s (goal >= 200); all acknowledged after "
          f"{res['acked_s']:.1f} s ({acked['events'] / res['acked_s']:.1f} events/s); "
          f"{acked['batches']:,} POSTs of ~{args.rate * args.batch_ms / 1000:.0f} events, "
          f"{acked['retries']} retried attempts")
    if restart:
        print(f"[{args.db}] server killed (SIGKILL) at {restart['killed']:.0f} s, answering "
              f"again {restart['startup_s']:.1f} s later; batches stored before the kill and "
              f"sent again were acknowledged as duplicates: {acked['duplicates']}")
    print(f"[{args.db}] received -> visible (GET /api/rta/adherence, {len(vis):,} probes, one "
          f"per {args.probe_every} acknowledged batches): p50 {p50 * 1000:.0f} ms, p95 "
          f"{p95 * 1000:.0f} ms, p99 "
          f"{p99 * 1000:.0f} ms, max {pmax * 1000:.0f} ms (goal p99 < 1,000 ms: "
          f"{'met' if p99 < 1.0 else 'NOT met'}); made -> acknowledged p99 "
          f"{np.percentile(ack_s, 99) * 1000:.0f} ms (includes the restart's downtime)")
    if restart and len(probes):
        t_kill = restart["killed"]
        after = t_kill + restart.get("startup_s", 0.0) + 30.0
        steady = probes[(probes[:, 0] < t_kill) | (probes[:, 0] > after), 1]
        s50, s95, s99 = np.percentile(steady, [50, 95, 99])
        print(f"[{args.db}] received -> visible outside the restart (before the kill, and "
              f"from 30 s after the server answered again; {len(steady):,} probes): p50 "
              f"{s50 * 1000:.0f} ms, p95 {s95 * 1000:.0f} ms, p99 {s99 * 1000:.0f} ms")
    ok = lost == 0 and extra == 0 and double == 0 and res["board_events"] == len(made)
    print(f"[{args.db}] events in the database {rows:,} (distinct {len(stored):,}) of "
          f"{len(made):,} made: lost {lost}, unknown {extra}, double-counted {double}; live "
          f"board of the restarted server over all teams: {res['board_events']:,} events "
          f"({'exact' if ok else 'MISMATCH'})")
    st = res["streams"]
    print(f"[{args.db}] {args.streams} exceptions streams open (SSE, one per team): "
          f"{st['events']:,} exception/cleared events received, {st['connects']} connections "
          f"(reconnected after the restart)")
    print(f"[{args.db}] load average {load0[0]:.1f} -> {load1[0]:.1f} on {os.cpu_count()} "
          f"cores; server CPU {cpu:.1f} s = {cpu / max(len(made), 1) * 1000:.2f} ms per event "
          f"(POST, commit and the probes' reads, all API processes)")


if __name__ == "__main__":
    main()
