"""Helpers of the browser tests (tests/test_web_*.py) and benchmarks/bench_web.py: Debian's
chromium (installed when missing), the built web assets, a live server on loopback with the
demo center, a rule-valid week for every demo agent, and page checks (console errors,
axe-core, screenshots)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "web"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
HTMX_JS = ROOT / "src" / "openwfm" / "web" / "static" / "vendor" / "htmx.min.js"
HTMX_SSE_JS = HTMX_JS.with_name("htmx-ext-sse.min.js")
PASSWORD = "web-test-password-1"
WEEK = datetime(2026, 3, 30, tzinfo=UTC)


def chromium_path() -> str | None:
    """Debian's chromium: found, or installed with apt-get when we are root (CI); None
    when it is missing and cannot be installed here."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run("apt-get update -qq && apt-get install -y -qq chromium", shell=True,
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return shutil.which("chromium")
    return None


def ensure_assets() -> None:
    """htmx (and its SSE extension) in the package and axe-core in node_modules (`make
    web-assets` when missing)."""
    if not (HTMX_JS.exists() and HTMX_SSE_JS.exists() and AXE_JS.exists()):
        subprocess.run(["make", "-s", "web-assets"], cwd=ROOT, check=True)


# ----------------------------------------------------------------------- a week for everyone
@dataclass(frozen=True)
class PatternShift:
    agent_id: str
    queue: str
    start: datetime
    length_h: float


def week_pattern(scenario: Any, week: datetime = WEEK) -> list[PatternShift]:
    """A week of shifts for every agent of the demo center that passes the labour-rule
    checker: 8.5 h shifts (8 paid) or 6 h for agents whose longest shift is 6 h, as many
    days as the contract asks (5 or 6, consecutive, days off rotating), two start times per
    site so that no site has more agents on duty than seats, all inside the UTC week."""
    out = []
    by_site: dict[str, int] = {}
    for a in scenario.agents:
        site = scenario.site(a.site)
        zone = ZoneInfo(site.tz)
        k = by_site.get(a.site, 0)
        by_site[a.site] = k + 1
        length = 8.5 if a.max_shift_h >= 8.5 else 6.0
        paid = 8.0 if length == 8.5 else 6.0
        n_days = int(a.contract_hours // paid)
        hours = (8, 11) if not a.night_ok or site.tz == "Africa/Casablanca" else (6, 15)
        start_h = hours[k % 2]
        # the local days whose shift lies inside the UTC week
        ok_days = [d for d in range(7)
                   if (t := datetime.combine(week.date() + timedelta(days=d),
                                             datetime.min.time(), zone)
                       + timedelta(hours=start_h)) >= week
                   and t + timedelta(hours=length) <= week + timedelta(days=7)]
        # consecutive days off, rotating where the whole week is open, else closing it
        n_off = 7 - n_days
        if len(ok_days) == 7:
            o = (k // 2) % (7 - n_off + 1)
            days = [d for d in range(7) if not o <= d < o + n_off]
        else:
            days = ok_days[:n_days]
        for d in days:
            t0 = datetime.combine(week.date() + timedelta(days=d), datetime.min.time(),
                                  zone) + timedelta(hours=start_h)
            out.append(PatternShift(a.id, a.skills[0], t0.astimezone(UTC), length))
    return out


def shift_segments(s: PatternShift) -> list[dict[str, Any]]:
    """The segments of a pattern shift: breaks where the demo's break rules want them."""
    t0 = s.start
    h = timedelta(hours=1)
    if s.length_h == 6.0:
        cuts = [("work", 0, 2), ("break", 2, 2.25), ("work", 2.25, 4), ("break", 4, 4.25),
                ("work", 4.25, 6)]
    else:
        cuts = [("work", 0, 2), ("break", 2, 2.25), ("work", 2.25, 4), ("meal", 4, 4.5),
                ("work", 4.5, 6.5), ("break", 6.5, 6.75), ("work", 6.75, 8.5)]
    return [{"agent_id": s.agent_id, "activity": act, "start": t0 + a * h, "end": t0 + b * h,
             "queue_id": s.queue if act == "work" else None} for act, a, b in cuts]


def store_week(db: Any, scenario: Any, admin_id: int, *, publish: bool = True,
               week: datetime = WEEK, pattern: list[PatternShift] | None = None,
               name: str = "week 14") -> int:
    """The pattern week (or `pattern`, shifts of the week starting `week`) as a schedule
    (draft, and published as version 1) and the exact requirement it covers (agents per
    queue and interval = the pattern's), in the database of `db`; returns the schedule id."""
    from openwfm.server.models import Requirement, RequirementInterval, Schedule, Segment
    from openwfm.server.routers.schedules import publish_draft

    pattern = week_pattern(scenario, week) if pattern is None else pattern
    rows = [seg for s in pattern for seg in shift_segments(s)]
    interval = timedelta(seconds=scenario.interval_s)
    n = int(timedelta(days=7) / interval)
    cover: dict[tuple[str, int], int] = {}
    for r in rows:
        if r["activity"] != "work":
            continue
        i0 = int((r["start"] - week) / interval)
        i1 = int((r["end"] - week) / interval)
        for i in range(i0, i1):
            cover[(r["queue_id"], i)] = cover.get((r["queue_id"], i), 0) + 1
    with db.transaction() as s:
        req = Requirement(name=f"{name} requirement")
        s.add(req)
        s.flush()
        s.execute(sa.insert(RequirementInterval), [
            {"requirement_id": req.id, "queue_id": q.id, "interval_start": week + i * interval,
             "agents": float(cover.get((q.id, i), 0)), "scheduled": None,
             "service_level": None} for q in scenario.queues for i in range(n)])
        sched = Schedule(name=name, period_start=week, period_end=week + timedelta(days=7),
                         draft_rev=1)
        s.add(sched)
        s.flush()
        s.execute(sa.insert(Segment), [{**r, "schedule_id": sched.id, "version_id": None}
                                       for r in rows])
        if publish:
            publish_draft(s, sched, admin_id)
        return sched.id


def store_queue_data(db: Any, scenario: Any, days: int = 14) -> int:
    """Two weeks of interval history before the plan week and a forecast of the plan week
    for every queue (test data from a fixed daily profile, not a model: the pages only
    show what is stored); returns the forecast id."""
    import numpy as np

    from openwfm.server.models import Forecast, ForecastInterval, HistoryInterval

    step = timedelta(seconds=scenario.interval_s)
    n = int(timedelta(days=1) / step)
    hours = np.arange(n) * step.total_seconds() / 3600
    profile = 2 + 18 * np.clip(np.sin((hours - 6) / 16 * np.pi), 0, None)
    with db.transaction() as s:
        fc = Forecast(name="week 14 forecast", version=1)
        s.add(fc)
        s.flush()
        hist, rows = [], []
        for k, q in enumerate(scenario.queues):
            scale = 1 + k / 4
            for d in range(-days, 7):
                for i in range(n):
                    t = WEEK + timedelta(days=d) + i * step
                    v = float(round(profile[i] * scale * (1 + 0.05 * ((d + k) % 3)), 3))
                    if d < 0:
                        hist.append({"queue_id": q.id, "interval_start": t,
                                     "interval_s": scenario.interval_s, "volume": v,
                                     "handled": round(v * 0.95, 3),
                                     "abandoned": round(v * 0.05, 3), "aht_s": 300.0,
                                     "asa_s": None, "answered_within": None})
                    else:
                        rows.append({"forecast_id": fc.id, "queue_id": q.id,
                                     "interval_start": t, "volume": v, "aht_s": 300.0,
                                     "volume_lo_80": v * 0.85, "volume_hi_80": v * 1.15,
                                     "volume_lo_95": v * 0.75, "volume_hi_95": v * 1.25})
        s.execute(sa.insert(HistoryInterval), hist)
        s.execute(sa.insert(ForecastInterval), rows)
        return fc.id


def store_capacity_plan(db: Any, scenario: Any, weeks: int = 17) -> int:
    """A capacity plan of the demo center made by the plan's own capacity stage
    (`openwfm.app.stages.capacity_stage`, stored as a job stores it), kept cheap for the
    tests: `weeks` weeks and two of the demo's scenarios (attrition 4 % and 7 %, which
    reuse the base's required FTE); returns its id."""
    import dataclasses

    from openwfm.app.stages import capacity_stage
    from openwfm.demo import demo_history
    from openwfm.server.compute import store_capacity

    cap = scenario.extra["capacity"]
    small = dataclasses.replace(scenario, extra={**scenario.extra, "capacity": {
        **cap, "weeks": weeks,
        "scenarios": [s for s in cap["scenarios"] if s["name"].startswith("attrition")]}})
    result = capacity_stage(small, demo_history(scenario))
    assert result is not None
    with db.transaction() as s:
        return store_capacity(s, result, None, "demo capacity (17 weeks)")


# --------------------------------------------------------------------------- a live server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    db: Any
    facts: dict[str, Any] = field(default_factory=dict)


@contextmanager
def live_server(folder: Path) -> Iterator[LiveServer]:
    """`openwfm serve` as a thread on a free loopback port: the demo center (no history),
    its users (password `PASSWORD`) and the pattern week, on a SQLite file in `folder`."""
    import uvicorn

    from openwfm.demo import demo_scenario
    from openwfm.server import Settings, create_app
    from openwfm.server.db import Database
    from openwfm.server.demo import load_demo
    from openwfm.server.migrate import upgrade
    from openwfm.server.models import Agent, Client, Queue, Team, User

    url = f"sqlite:///{folder / 'web.db'}"
    upgrade(url)
    db = Database.connect(url)
    with db.transaction() as s:
        load_demo(s, PASSWORD, history=False)
    scenario = demo_scenario()
    with db.read() as s:
        admin = s.scalar(sa.select(User.id).where(User.username == "admin"))
    sched = store_week(db, scenario, int(admin))
    facts: dict[str, Any] = {"schedule": sched, "scenario": scenario,
                             "forecast": store_queue_data(db, scenario),
                             "capacity_plan": store_capacity_plan(db, scenario)}
    with db.transaction() as s:  # the pattern's requirement was made from this forecast
        from openwfm.server.models import Requirement

        s.execute(sa.update(Requirement).values(forecast_id=facts["forecast"]))
    with db.read() as s:
        clients = {c.name: c.id for c in s.scalars(sa.select(Client))}
        team = s.scalar(sa.select(Team).order_by(Team.id))
        facts["team"] = team.id
        facts["team_name"] = team.name
        facts["leader"] = s.scalar(sa.select(User.username).where(User.team_id == team.id))
        facts["team_agents"] = list(s.scalars(sa.select(Agent.id).where(
            Agent.team_id == team.id).order_by(Agent.id)))
        facts["viewers"] = dict(s.execute(sa.select(User.client_id, User.username).where(
            User.client_id.is_not(None))).all())
        facts["clients"] = clients
        facts["client_queues"] = {
            cid: list(s.scalars(sa.select(Queue.id).where(Queue.client_id == cid)
                                .order_by(Queue.id))) for cid in clients.values()}
    port = free_port()
    app = create_app(Settings(db_url=url, secret_key="web-test-secret-key-of-at-least-32-bytes"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", db, facts)
    finally:
        server.should_exit = True
        thread.join(30)
        db.dispose()


# ---------------------------------------------------------------------------- page checks
class PageWatch:
    """Console errors and uncaught exceptions of a page, collected as it runs."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")
                   ) -> list[str]:
    """axe-core's violations of `impacts` on the page as it is now (rule: nodes)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} -- "
            + "; ".join(n['target'][0] if isinstance(n['target'][0], str) else str(n['target'])
                        for n in v["nodes"][:5])
            for v in result["violations"] if v["impact"] in impacts]


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD,
            next_path: str = "/") -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def local(t: datetime, tz: str) -> datetime:
    return t.astimezone(ZoneInfo(tz))


def plan_day(d: int) -> date:
    return (WEEK + timedelta(days=d)).date()
