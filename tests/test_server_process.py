"""`openwfm serve` as a real process: background jobs (run, cancel, survive a restart) and
a publish interrupted by `kill -9` (the old version or the new one, never a mix)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from openwfm.server.db import Database
from openwfm.server.demo import load_demo
from openwfm.server.migrate import upgrade
from openwfm.server.models import Agent, Job, Schedule, ScheduleVersion, Segment, User
from openwfm.server.routers.schedules import publish_draft
from server_support import PASSWORD, WEEK, shift

pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database holding the demo center with its history and a published
    one-week schedule of 40 agents (built once, copied by each test)."""
    path = tmp_path_factory.mktemp("demo-db") / "openwfm.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database.connect(url)
    with db.transaction() as s:
        load_demo(s, PASSWORD, history=True)
        agents = list(s.scalars(sa.select(Agent.id).order_by(Agent.id).limit(40)))
        sched = Schedule(name="week 14", period_start=WEEK, period_end=WEEK + timedelta(days=7))
        s.add(sched)
        s.flush()
        for a in agents:
            for d in range(5):
                for seg in shift(a, d):
                    s.add(Segment(schedule_id=sched.id, agent_id=a, activity=seg["activity"],
                                  start=_dt(seg["start"]), end=_dt(seg["end"])))
        s.flush()
        publish_draft(s, sched, None)
    db.dispose()
    return path


def _write_locked(path: Path) -> bool:
    """Whether a write transaction holds the SQLite database (BEGIN IMMEDIATE fails)."""
    import sqlite3

    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def _dt(text: object) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(str(text))


@contextmanager
def server(db_path: Path, **env: str) -> Iterator[httpx.Client]:
    """`openwfm serve` on `db_path` in its own process group; yields a client of it."""
    port = _port()
    cmd = [sys.executable, "-c", "from openwfm.cli import main; main()", "serve",
           "--db", f"sqlite:///{db_path}", "--port", str(port), "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=db_path.parent, start_new_session=True,
                            env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.get("/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"server did not start:\n{out}")
            time.sleep(0.3)
        client.proc = proc  # type: ignore[attr-defined]
        yield client
    finally:
        client.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout:
            proc.stdout.close()


def kill9(client: httpx.Client) -> None:
    proc = client.proc  # type: ignore[attr-defined]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)  # let orphaned job processes of the group die too


def auth(client: httpx.Client, user: str = "admin") -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def wait_job(client: httpx.Client, h: dict[str, str], job_id: str, states: set[str],
             timeout_s: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/api/jobs/{job_id}", headers=h).json()
        if job["state"] in states:
            return dict(job)
        assert time.monotonic() < deadline, f"job stuck: {job}"
        time.sleep(0.3)


def test_jobs_run_outside_the_api_cancel_and_survive_a_restart(demo_db: Path,
                                                               tmp_path: Path) -> None:
    db_path = tmp_path / "openwfm.db"
    shutil.copy(demo_db, db_path)
    with server(db_path) as c:
        h = auth(c)
        # a full plan job: 202 at once, the API stays responsive while it runs; cancel it
        r = c.post("/api/jobs", headers=h, json={"kind": "plan"})
        assert r.status_code == 202 and r.headers["Location"] == f"/api/jobs/{r.json()['id']}"
        plan = r.json()["id"]
        running = wait_job(c, h, plan, {"running"}, 120)
        t0 = time.monotonic()
        assert c.get("/api/health").status_code == 200
        assert time.monotonic() - t0 < 5  # not blocked behind the solve (a loose bound)
        assert running["stage"] in ("starting", "forecast", "staffing", "schedule")
        assert c.delete(f"/api/jobs/{plan}", headers=h).status_code == 202
        assert wait_job(c, h, plan, {"cancelled", "failed", "succeeded"}, 60)["state"] == \
            "cancelled"
        assert c.delete(f"/api/jobs/{plan}", headers=h).status_code == 409
        # a forecast job, killed mid-run with the whole server
        fc = c.post("/api/jobs", headers=h, json={"kind": "forecast", "name": "fc"}).json()["id"]
        wait_job(c, h, fc, {"running"}, 120)
        kill9(c)
    db = Database.connect(f"sqlite:///{db_path}")
    with db.read() as s:
        job = s.get(Job, fc)
        assert job is not None and job.state == "running" and job.attempts == 1
    db.dispose()
    with server(db_path) as c:  # the restart queues it again; it runs to the end
        h = auth(c)
        job = wait_job(c, h, fc, {"succeeded", "failed"}, 300)
        assert job["state"] == "succeeded", job
        assert job["attempts"] == 2
        fid = job["result"]["forecast_id"]
        forecast = c.get(f"/api/forecasts/{fid}", headers=h).json()
        assert forecast["name"] == "fc" and forecast["version"] == 1
        rows = c.get(f"/api/forecasts/{fid}/intervals", headers=h,
                     params={"queue_id": "ride-en-voice"}).json()
        assert len(rows) == 7 * 96 and all(r["volume"] >= 0 for r in rows)
        # a viewer of another client sees none of RideNow's forecast rows
        v = auth(c, "viewer-telco-fr")
        assert c.get(f"/api/forecasts/{fid}/intervals", headers=v,
                     params={"queue_id": "ride-en-voice"}).json() == []


def test_kill_9_mid_publish_leaves_the_old_version_then_publish_completes(
        demo_db: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "openwfm.db"
    shutil.copy(demo_db, db_path)
    url = f"sqlite:///{db_path}"
    with server(db_path, OPENWFM_PUBLISH_PAUSE_S="30") as c:
        h = auth(c)
        sched = c.get("/api/schedules/1", headers=h)
        with Database.connect(url).read() as s:
            agent = s.scalar(sa.select(Segment.agent_id).order_by(Segment.agent_id))
        r = c.put(f"/api/schedules/1/draft/agents/{agent}", headers={
            **h, "If-Match": sched.headers["ETag"]}, json={"segments": shift(agent, 5)})
        assert r.status_code == 200
        etag = r.headers["ETag"]
        errors: list[BaseException] = []

        def publish() -> None:
            try:
                c.post("/api/schedules/1/publish", headers={**h, "If-Match": etag})
            except httpx.TransportError as exc:
                errors.append(exc)

        t = threading.Thread(target=publish)
        t.start()
        deadline = time.monotonic() + 20
        while not _write_locked(db_path):  # the publish transaction is open
            assert time.monotonic() < deadline, "publish never started"
            time.sleep(0.1)
        time.sleep(1.0)  # well inside the 30 s pause, after the segments were copied
        assert _write_locked(db_path)
        kill9(c)
        t.join()
        assert errors  # the client saw the connection die
    db = Database.connect(url)
    with db.read() as s:
        versions = s.scalars(sa.select(ScheduleVersion)).all()
        assert [v.number for v in versions] == [1]
        sched_row = s.get(Schedule, 1)
        assert sched_row is not None and sched_row.published_version_id == versions[0].id
        counts = dict(s.execute(sa.select(Segment.version_id, sa.func.count())
                                .group_by(Segment.version_id)).all())
        assert counts == {None: 600 - 15 + 3, versions[0].id: 600}
    db.dispose()
    with server(db_path) as c:
        h = auth(c)
        etag = c.get("/api/schedules/1", headers=h).headers["ETag"]
        r = c.post("/api/schedules/1/publish", headers={**h, "If-Match": etag})
        assert r.status_code == 200
        assert [v["number"] for v in r.json()["versions"]] == [1, 2]
        assert r.json()["versions"][1]["segments"] == 588
        mine = c.get(f"/api/agents/{agent}/schedule", headers=auth(c, agent)).json()
        assert mine["version"] == 2 and len(mine["segments"]) == 3
        with Database.connect(url).read() as s:
            assert s.scalar(sa.select(User.id).where(User.username == agent)) is not None
