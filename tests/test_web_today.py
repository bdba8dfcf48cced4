"""The team leader's Today page in a real Chromium (issue 15): the team's schedule for
today with live adherence per agent, and an agent out of adherence longer than N minutes
appears on the page within 2 s of the ACD's event (server-sent events, cookie session)
and clears when back. Who may see it; en/fr/es; 0 console errors and 0 serious/critical
axe-core violations; screenshots in artifacts/web/."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from web_support import PASSWORD, PageWatch, axe_violations, screenshot, sign_in

# the session's live server and chromium (tests/conftest.py): one xdist worker
pytestmark = pytest.mark.xdist_group("web")

ISSUE_DEADLINE_MS = 2_000
"""The issue's functional requirement: an exception shows (and clears) within 2 s."""


@pytest.fixture()
def today_schedule(server: Any) -> Iterator[tuple[datetime, list[str]]]:
    """A published schedule around now for the team's agents (work, a break in an hour,
    work), removed afterwards so that the other browser tests see the pattern week."""
    from openwfm.server.models import Schedule, Segment, User
    from openwfm.server.routers.schedules import publish_draft

    agents = [str(a) for a in server.facts["team_agents"]]
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(hours=2)
    with server.db.transaction() as s:
        admin = s.scalar(sa.select(User.id).where(User.username == "admin"))
        sched = Schedule(name="rta today", period_start=t0, period_end=t0 + timedelta(hours=6),
                         draft_rev=1)
        s.add(sched)
        s.flush()
        rows = []
        for a in agents:
            for act, h0, h1 in (("work", 0, 3), ("break", 3, 3.25), ("work", 3.25, 6)):
                rows.append({"schedule_id": sched.id, "version_id": None, "agent_id": a,
                             "activity": act, "start": t0 + timedelta(hours=h0),
                             "end": t0 + timedelta(hours=h1), "queue_id": None})
        s.execute(sa.insert(Segment), rows)
        publish_draft(s, sched, admin)
        sched_id = sched.id
    try:
        yield now, agents
    finally:
        with server.db.transaction() as s:
            s.execute(sa.update(Schedule).where(Schedule.id == sched_id)
                      .values(published_version_id=None))
            s.execute(sa.delete(Segment).where(Segment.schedule_id == sched_id))
            s.execute(sa.delete(Schedule).where(Schedule.id == sched_id))


def new_page(browser: Any, lang: str = "en-US") -> Any:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale=lang)
    p = ctx.new_page()
    p.set_default_timeout(20_000)
    p.watch = PageWatch(p)
    return p


def check_live_page(page: Any, name: str) -> None:
    # the page keeps its event stream open (never "network idle"): wait for it to be open
    page.wait_for_selector("#live[data-sse=open]")
    screenshot(page, name)
    assert page.watch.errors == [], name
    assert axe_violations(page) == [], name


def test_exception_appears_within_2_s_and_clears_on_the_team_leaders_page(
        browser: Any, server: Any, today_schedule: tuple[datetime, list[str]]) -> None:
    now, agents = today_schedule
    facts = server.facts
    api = httpx.Client(base_url=server.url, timeout=30)
    token = api.post("/api/auth/token", data={"username": "admin", "password": PASSWORD}
                     ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    run = uuid.uuid4().hex[:8]
    ids = itertools.count()

    def post(items: list[tuple[str, str, datetime]]) -> None:
        r = api.post("/api/rta/events", headers=auth, json=[
            {"event_id": f"today-{run}-{next(ids)}", "agent_id": a, "state": st,
             "at": at.isoformat()} for a, st, at in items])
        assert r.status_code == 200 and r.json()["stored"] == len(items), r.text

    # everyone logged in and available since the shift started: nobody out of adherence
    post([(a, "available", now - timedelta(hours=2)) for a in agents])
    page = new_page(browser)
    sign_in(page, server.url, str(facts["leader"]), next_path="/today")
    assert page.url.endswith("/today")
    assert page.locator("#today-agents tr[data-agent]").count() == len(agents)
    assert page.locator("#no-exceptions").is_visible()
    check_live_page(page, "today-leader")

    # the ACD says the first agent went on break 7 minutes ago (N = 5 minutes, the default)
    target = agents[0]
    post([(target, "break", now - timedelta(minutes=7))])
    item = page.locator(f"#exceptions li[data-agent='{target}']")
    item.wait_for(state="visible", timeout=ISSUE_DEADLINE_MS)
    text = item.inner_text()
    assert "scheduled: work, state: break" in text and "minutes" in text, text
    # the agents' table follows (recomputed every 2 s): out of adherence, in red
    page.locator(f"#today-agents tr.out[data-agent='{target}']").wait_for()
    check_live_page(page, "today-leader-exception")

    # back to work: the exception clears
    post([(target, "available", datetime.now(UTC))])
    item.wait_for(state="detached", timeout=ISSUE_DEADLINE_MS)
    page.locator("#no-exceptions").wait_for()
    assert page.watch.errors == []
    page.context.close()

    # a planner picks the team, in French and Spanish: translated, accessible
    for lang, username, word in (("fr-FR", "planner", "Exceptions"),
                                 ("es-ES", "admin", "Excepciones")):
        page = new_page(browser, lang)
        sign_in(page, server.url, username, next_path=f"/today?team={facts['team']}")
        assert word in page.locator("main").inner_text()
        assert page.locator("#today-agents tr[data-agent]").count() >= 1
        check_live_page(page, f"today-{lang[:2]}")
        page.context.close()

    # who may see what: agents and client viewers 403, another team 404, page and stream
    other = httpx.Client(base_url=server.url, timeout=30)
    leader = str(facts["leader"])

    def signed(username: str) -> httpx.Client:
        c = httpx.Client(base_url=server.url, timeout=30)
        page = c.get("/login")
        csrf = page.cookies.get("openwfm_csrf") or c.cookies.get("openwfm_csrf")
        r = c.post("/login", data={"username": username, "password": PASSWORD,
                                   "csrf_token": csrf, "next": "/"})
        assert r.status_code in (200, 303), r.text[:300]
        return c

    viewer = next(iter(facts["viewers"].values()))
    for username, path, code in ((target, "/today", 403), (viewer, "/today", 403),
                                 (target, "/today/stream", 403),
                                 (leader, f"/today?team={facts['team'] + 1}", 404),
                                 (leader, f"/today/stream?team={facts['team'] + 1}", 404)):
        c = signed(username)
        assert c.get(path).status_code == code, (username, path)
        c.close()
    assert other.get("/today", follow_redirects=False).status_code == 303  # sign in first
    other.close()
    api.close()
