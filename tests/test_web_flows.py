"""Each role's main flow end to end in a real Chromium (Debian's, via Playwright):

* a planner drags a shift later, sees the labour rule it breaks (night work of an agent who
  may not work at night) and the coverage it moves, fixes the times, saves, publishes; the
  agent then sees the new shift on their phone, on their own clock;
* a stale publish (an older draft revision) changes nothing;
* a planner adjusts a day's forecast by a percentage with a reason (audited);
* a client viewer sees their queues' forecast and service results, and editing the address
  to another client's queue answers 404 (and the schedule 403).

0 console errors and 0 serious/critical axe-core violations on every page; screenshots in
artifacts/web/. One server and one browser for all the browser test modules
(tests/conftest.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from web_support import (
    WEEK,
    PageWatch,
    axe_violations,
    screenshot,
    sign_in,
    week_pattern,
)

pytestmark = pytest.mark.xdist_group("web")


def new_page(browser: Any, width: int = 1400, height: int = 900) -> Any:
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    p = ctx.new_page()
    p.set_default_timeout(20_000)
    p.watch = PageWatch(p)
    return p


def check_page(page: Any, name: str) -> None:
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    assert page.watch.errors == [], (name, page.watch.errors)
    assert axe_violations(page) == [], name


def night_shy_agent(server: Any) -> tuple[str, datetime, datetime]:
    """A Casablanca agent who may not work at night, and their Monday shift (11:00 local)."""
    sc = server.facts["scenario"]
    shy = {a.id for a in sc.agents if not a.night_ok}
    for s in week_pattern(sc):
        local = s.start.astimezone(ZoneInfo("Africa/Casablanca"))
        if s.agent_id in shy and local.hour == 11 and local.date() == WEEK.date():
            return s.agent_id, s.start, s.start + timedelta(hours=s.length_h)
    raise AssertionError("no such agent in the pattern week")


def test_planner_moves_a_shift_fixes_it_publishes_and_the_agent_sees_it(
        browser: Any, server: Any) -> None:
    agent, start, _end = night_shy_agent(server)
    page = new_page(browser)
    sign_in(page, server.url, "planner", next_path="/schedule?site=1")
    page.fill("#q", agent)
    page.wait_for_function("document.querySelectorAll('.tl-row').length === 1")
    shift = page.locator(f"#row-{agent} button.shift[data-start='{start.isoformat()}']")
    box = shift.bounding_box()
    lane = page.locator(f"#row-{agent} .tl-lane").bounding_box()
    assert box is not None and lane is not None
    dx = lane["width"] * 3 / (7 * 24)  # three hours later: 14:00-22:30, past 22:00
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + dx / 2, box["y"] + 5, steps=4)
    page.mouse.move(box["x"] + box["width"] / 2 + dx, box["y"] + 5, steps=4)
    page.mouse.up()
    broken = page.locator("#editor [data-rule=night_ok]")
    broken.wait_for()
    assert "(new)" in broken.inner_text()
    assert page.locator("#coverage tbody tr").count() >= 2  # left one place, joined another
    assert "→" in page.locator("#coverage td.sl").first.inner_text()  # service level
    check_page(page, "planner-shift-breaks-a-rule")
    # fix: 13:30-22:00 local ends at the night window
    local = start.astimezone(ZoneInfo("Africa/Casablanca"))
    day = local.strftime("%Y-%m-%d")
    page.fill("input[name=new_start]", f"{day}T13:30")
    page.fill("input[name=new_end]", f"{day}T22:00")
    page.locator("input[name=new_end]").dispatch_event("change")
    page.locator("#rules-ok").wait_for()
    page.click("#save-shift")
    page.locator("#editor [role=status]").wait_for()
    assert "revision 2" in page.locator("#editor [role=status]").inner_text()
    assert "revision 2" in page.locator("#publish").inner_text()
    page.locator("#review-ok").wait_for()  # compare with the published version, re-check
    assert f"changes 1 agent against the published version: {agent}" in \
        page.locator("#review").inner_text()
    check_page(page, "planner-shift-saved")
    page.click("#publish button[type=submit]")
    page.locator("#publish [role=status]").wait_for()
    assert "Published version 2." in page.locator("#publish [role=status]").inner_text()
    page.get_by_text("The draft is the same as the published version.").wait_for()
    page.context.close()

    phone = new_page(browser, 390, 844)
    sign_in(phone, server.url, agent, next_path="/me/schedule")
    first = phone.locator("#my-shifts > li").first
    assert "13:30 – 22:00" in first.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    check_page(phone, "agent-my-schedule-phone")
    phone.context.close()


def test_a_stale_publish_changes_nothing(browser: Any, server: Any) -> None:
    page = new_page(browser)
    sign_in(page, server.url, "planner", next_path="/schedule")
    token = page.evaluate(
        "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    sid = server.facts["schedule"]
    with server.db.read() as s:
        from openwfm.server.models import Schedule

        before = s.get(Schedule, sid).published_version_id
    r = page.request.post(f"{server.url}/schedule/{sid}/publish",
                          form={"rev": "1", "tz": "UTC"}, headers={"X-CSRF-Token": token})
    assert r.status == 200
    assert "nothing was published" in r.text() or "Published version" in r.text()
    with server.db.read() as s:
        after = s.get(Schedule, sid)
        if "nothing was published" in r.text():
            assert after.published_version_id == before
        else:  # no edit has happened yet in this module's order: revision 1 is current
            assert after.draft_rev == 1
    page.context.close()


def test_planner_adjusts_a_forecast_day_with_a_reason(browser: Any, server: Any) -> None:
    from openwfm.server.models import AuditEntry, ForecastInterval

    queue = server.facts["client_queues"][min(server.facts["client_queues"])][0]
    fid = server.facts["forecast"]
    with server.db.read() as s:
        day0 = s.execute(sa.select(sa.func.sum(ForecastInterval.volume)).where(
            ForecastInterval.forecast_id == fid, ForecastInterval.queue_id == queue)).scalar()
    page = new_page(browser)
    sign_in(page, server.url, "planner", next_path=f"/queues/{queue}")
    page.locator("#forecast-chart .main-svg").first.wait_for()
    check_page(page, "planner-forecast")
    page.fill("input[name=percent]", "10")
    page.fill("input[name=reason]", "promotion week")
    with page.expect_navigation():
        page.click("#adjust-form button[type=submit]")
    status = page.locator("[role=status]").inner_text()
    assert re.match(r"\d+ intervals adjusted by 10 %\. Requirement recomputed: ", status), status
    n = int(status.split()[0])
    assert "promotion week" in page.locator("#overrides").inner_text()
    check_page(page, "planner-forecast-adjusted")
    with server.db.read() as s:
        audited = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "override", AuditEntry.object_id.like(f"{fid}/{queue}/%")))
        day1 = s.execute(sa.select(sa.func.sum(ForecastInterval.volume)).where(
            ForecastInterval.forecast_id == fid, ForecastInterval.queue_id == queue)).scalar()
    assert audited == n > 0
    assert day1 > day0
    with server.db.read() as s:
        recomputed = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "recompute", AuditEntry.object_type == "requirement"))
    assert recomputed == 1
    page.context.close()


def test_client_viewer_sees_only_their_queues(browser: Any, server: Any) -> None:
    f = server.facts
    mine, other = sorted(f["client_queues"])[:2]
    page = new_page(browser)
    sign_in(page, server.url, f["viewers"][mine])
    check_page(page, "client-viewer-home")
    page.click("nav a[href='/queues']")
    page.wait_for_load_state("networkidle")
    listed = page.eval_on_selector_all("#queues tbody a", "as => as.map(a => a.textContent)")
    assert listed == f["client_queues"][mine]
    page.click(f"#queues a[href='/queues/{listed[0]}']")
    page.locator("#forecast-chart .main-svg").first.wait_for()
    assert page.locator("#service tbody tr").count() > 0
    assert page.locator("#adjust-form").count() == 0
    check_page(page, "client-viewer-queue")
    r = page.goto(f"{server.url}/queues/{f['client_queues'][other][0]}")
    assert r is not None and r.status == 404
    r = page.goto(f"{server.url}/schedule")
    assert r is not None and r.status == 403
    r = page.request.post(f"{server.url}/queues/{listed[0]}/adjust",
                          form={"first": "2026-03-30", "last": "2026-03-30", "percent": "10",
                                "reason": "sneaky"}, max_redirects=0)
    assert r.status == 403  # no CSRF token; with one the role is refused too
    page.context.close()


def test_every_time_is_utc_in_the_database(server: Any) -> None:
    from openwfm.server.models import Segment

    with server.db.read() as s:
        t = s.scalar(sa.select(Segment.start).limit(1))
    assert t is not None and t.utcoffset() == timedelta(0) and t.tzinfo is UTC


def test_planner_removes_and_adds_breaks_and_a_meeting_in_a_shift(
        browser: Any, server: Any) -> None:
    """The shift editor's breaks and activities: removing the meal breaks the break rule,
    putting it back fixes it, a meeting takes the agent off the queue (coverage and service
    level), and the draft keeps the meeting."""
    sc = server.facts["scenario"]
    s = next(p for p in week_pattern(sc)
             if p.agent_id.startswith("MNL") and p.length_h == 8.5 and p.start > WEEK)
    agent = s.agent_id
    zone = ZoneInfo(sc.site(next(a.site for a in sc.agents if a.id == agent)).tz)

    def at(hours: float) -> str:
        return (s.start + timedelta(hours=hours)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")

    page = new_page(browser)
    sign_in(page, server.url, "planner", next_path=f"/schedule?q={agent}")
    page.locator(f"#row-{agent} button.shift[data-start='{s.start.isoformat()}']").click()
    items = page.locator("#activity-list li")
    items.first.wait_for()
    assert [items.nth(i).get_attribute("data-activity") for i in range(items.count())] == [
        "break", "meal", "break"]
    page.click("#activity-list li[data-activity=meal] button")
    page.locator("#editor [data-rule=breaks]").wait_for()
    assert "(new)" in page.locator("#editor [data-rule=breaks]").inner_text()
    assert items.count() == 2
    page.select_option("select[name=add_activity]", "meal")
    page.fill("input[name=add_start]", at(4))
    page.fill("input[name=add_length_min]", "30")
    page.click("#add-activity")
    page.locator("#rules-ok").wait_for()
    assert items.count() == 3
    page.select_option("select[name=add_activity]", "meeting")
    page.fill("input[name=add_start]", at(1))
    page.click("#add-activity")
    page.locator("#activity-list li[data-activity=meeting]").wait_for()
    row = page.locator("#coverage tbody tr").first
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert int(cells[4]) == int(cells[3]) - 1  # one agent fewer on the queue
    check_page(page, "planner-shift-meeting")
    page.click("#save-shift")
    page.locator("#editor [role=status]").wait_for()
    with server.db.read() as db:
        from openwfm.server.models import Segment

        acts = db.execute(sa.select(Segment.activity, Segment.start).where(
            Segment.agent_id == agent, Segment.version_id.is_(None),
            Segment.start >= s.start, Segment.start < s.start + timedelta(hours=9))
            .order_by(Segment.start)).all()
    assert [a for a, _ in acts] == ["work", "meeting", "work", "break", "work", "meal",
                                    "work", "break", "work"]
    assert acts[1][1].replace(tzinfo=UTC) == s.start + timedelta(hours=1)
    page.locator("#review-ok").wait_for()
    page.click("#publish button[type=submit]")
    page.locator("#publish [role=status]").wait_for()
    page.context.close()
    phone = new_page(browser, 390, 844)
    sign_in(phone, server.url, agent, next_path=f"/me/schedule?week={WEEK.date()}")
    assert "meeting " + at(1)[-5:] in phone.locator("#my-shifts").inner_text()
    phone.context.close()
