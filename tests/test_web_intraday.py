"""The planner's Intraday page in a real Chromium: a queue's day (forecast, actuals,
reforecast, requirement, predicted service level), Re-optimize shows the proposal with the
service level before and after, accepting publishes a new version. 0 console errors and 0
serious/critical axe-core violations; in French too; screenshots in artifacts/web/.

Its own live server (`web_support.live_server`): the queue and two agents it adds, and the
version it publishes, would change what the other browser tests count on the shared one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server_support import run_queued_jobs
from web_support import (
    PageWatch,
    axe_violations,
    ensure_assets,
    live_server,
    screenshot,
    shift_segments,
    sign_in,
)
from web_support import PatternShift as Shift

pytestmark = pytest.mark.xdist_group("web")

NY = ZoneInfo("America/New_York")
T8 = datetime(2026, 3, 31, 8, tzinfo=NY)  # Tuesday of the pattern week, 08:00 New York
AT = (T8 + timedelta(hours=2, minutes=30)).astimezone(UTC)  # 10:30 local


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A live server with the demo center, plus queue "ride-intraday" (New York): two
    agents whose meals (12:00) and second breaks (14:30) fall together, a forecast of 2
    contacts a quarter from 08:00 for ten hours and as many in the actuals until 10:30
    (with more, Erlang C finds it better to keep the meals together: nothing to move);
    WEB-I1 also serves "ride-intraday-b", whose own agent WEB-I3 is alone for its 6
    contacts of 200 s a quarter from 13:00."""
    from openwfm.server.models import (
        Agent,
        AgentSkill,
        Client,
        Forecast,
        ForecastInterval,
        HistoryInterval,
        Queue,
        Schedule,
        Segment,
        Skill,
        User,
    )
    from openwfm.server.routers.schedules import publish_draft

    ensure_assets()
    with live_server(Path(tmp_path_factory.mktemp("web-intraday"))) as s:
        with s.db.transaction() as x:
            ride = x.scalar(sa.select(Client.id).where(Client.name == "RideNow"))
            admin = x.scalar(sa.select(User.id).where(User.username == "admin"))
            x.add(Queue(id="ride-intraday", client_id=ride, channel="voice", language="en",
                        market="US", tz="America/New_York", sl_target=0.8,
                        answer_within_s=20.0, max_asa_s=None, max_abandon=None,
                        max_occupancy=None, patience_s=None))
            x.flush()
            x.add(Queue(id="ride-intraday-b", client_id=ride, channel="voice", language="en",
                        market="US", tz="America/New_York", sl_target=0.8,
                        answer_within_s=20.0, max_asa_s=None, max_abandon=None,
                        max_occupancy=None, patience_s=None))
            x.flush()
            x.add(Skill(id="ride-intraday", queue_id="ride-intraday"))
            x.add(Skill(id="ride-intraday-b", queue_id="ride-intraday-b"))
            x.flush()
            for aid, skills in (("WEB-I1", ("ride-intraday", "ride-intraday-b")),
                                ("WEB-I2", ("ride-intraday",)), ("WEB-I3", ("ride-intraday-b",))):
                a = Agent(id=aid, name=f"Intraday {aid[-1]}", site_id=1, tz="America/New_York")
                a.skills = [AgentSkill(skill_id=k, rank=r) for r, k in enumerate(skills)]
                x.add(a)
            fc = Forecast(name="ride-intraday", version=1)
            x.add(fc)
            x.flush()
            t8 = T8.astimezone(UTC)
            x.execute(sa.insert(ForecastInterval), [
                {"forecast_id": fc.id, "queue_id": "ride-intraday",
                 "interval_start": t8 + timedelta(minutes=15 * i), "volume": 2.0,
                 "aht_s": 300.0, "volume_lo_80": 1.0, "volume_hi_80": 3.0,
                 "volume_lo_95": 0.5, "volume_hi_95": 4.0} for i in range(40)])
            # the second queue, short in the afternoon: WEB-I1 is reassigned to it
            x.execute(sa.insert(ForecastInterval), [
                {"forecast_id": fc.id, "queue_id": "ride-intraday-b",
                 "interval_start": t8 + timedelta(minutes=15 * i),
                 "volume": 6.0 if i >= 20 else 0.0, "aht_s": 200.0} for i in range(40)])
            x.execute(sa.insert(HistoryInterval), [
                {"queue_id": "ride-intraday", "interval_start": t8 + timedelta(minutes=15 * i),
                 "interval_s": 900, "volume": 2.0, "handled": 2.0, "abandoned": 0.0,
                 "aht_s": 300.0, "asa_s": 5.0, "answered_within": 2.0} for i in range(10)])
            start = t8 - timedelta(days=1)
            sched = Schedule(name="intraday week", period_start=start,
                             period_end=start + timedelta(days=7), draft_rev=1)
            x.add(sched)
            x.flush()
            x.execute(sa.insert(Segment), [
                {**seg, "schedule_id": sched.id, "version_id": None}
                for a, q in (("WEB-I1", "ride-intraday"), ("WEB-I2", "ride-intraday"),
                             ("WEB-I3", "ride-intraday-b"))
                for seg in shift_segments(Shift(a, q, t8, 8.5))])
            publish_draft(x, sched, admin)
            s.facts["intraday_schedule"] = sched.id
        yield s


def test_planner_reoptimizes_and_accepts(web_browser: Any, server: Any) -> None:
    ctx = web_browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch(page)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    target = f"/intraday?queue=ride-intraday&at={AT.isoformat().replace('+00:00', 'Z')}"
    sign_in(page, server.url, "planner", next_path=quote(target, safe="/"))
    page.wait_for_load_state("networkidle")
    rows = page.locator("#intervals tbody tr")
    assert rows.count() == 40
    now = page.locator("#intervals tbody tr.part-current")
    assert now.count() == 1 and now.locator("td").first.inner_text() == "10:30"
    # actuals in the morning rows, the reforecast and the predicted SL from now on
    first = rows.first.locator("td")
    assert first.nth(3).inner_text() == "2" and first.nth(7).inner_text().startswith("100")
    assert now.locator("td").nth(8).inner_text()[0].isdigit()  # the reforecast (band)
    # the simulated prediction with its 95 % band, next to the Erlang figure
    assert "%" in now.locator("td").nth(11).inner_text()
    assert "(" in now.locator("td").nth(11).inner_text()  # the band
    assert "%" in now.locator("td").nth(12).inner_text()  # Erlang
    assert "(" in page.locator("#sl-rest").inner_text()
    assert page.locator("#waiting-now").inner_text() == "not reported"
    screenshot(page, "intraday-day")
    assert watch.errors == [] and axe_violations(page) == [], (watch.errors, missing)
    # re-optimize: a job, its progress polled (no job worker in the tests: it waits, queued,
    # until the test runs it as the worker does), then the proposal with before / after
    page.click("#reoptimize button[type=submit]")
    page.wait_for_selector("#reopt-job")
    assert "queued" in page.locator("#reopt-job").inner_text()
    assert run_queued_jobs(server.db.url) == 1
    page.wait_for_selector("#sl-after")
    before = page.locator("#sl-before").inner_text()
    after = page.locator("#sl-after").inner_text()
    assert float(after.rstrip(" %")) >= float(before.rstrip(" %")), (before, after)
    assert "→" in page.locator("#sim-before-after").inner_text()  # simulated, one seed
    assert "→" in page.locator("#sim-total").inner_text()
    assert page.locator("#moves tbody tr, #offers tbody tr").count() >= 1
    # WEB-I1 (ride-intraday first, ride-intraday-b second) works the short second queue
    # only in the afternoon: ticked, from / to / time shown
    re_rows = page.locator("#reassignments tbody tr")
    assert re_rows.count() >= 1
    first = re_rows.first.locator("td")
    assert first.nth(1).inner_text() == "WEB-I1" and first.nth(2).inner_text() == \
        "ride-intraday" and first.nth(3).inner_text() == "ride-intraday-b"
    assert page.locator("#reassign-0").is_checked()
    page.locator("details summary").click()
    assert page.locator("#before-after tbody tr").count() >= 20
    screenshot(page, "intraday-proposal")
    assert watch.errors == [] and axe_violations(page) == []
    # accept the moves (ticked) and the first overtime / VTO offer (ticked by hand)
    if page.locator("#offer-0").count():
        page.check("#offer-0")
    page.click("#accept-form button[type=submit]")
    page.wait_for_selector("#accepted")
    assert "version 2" in page.locator("#accepted").inner_text()
    with server.db.read() as x:
        from openwfm.server.models import Schedule, ScheduleVersion

        number = x.scalar(sa.select(ScheduleVersion.number).join(
            Schedule, Schedule.published_version_id == ScheduleVersion.id).where(
            Schedule.id == server.facts["intraday_schedule"]))
    assert number == 2
    assert watch.errors == [] and axe_violations(page) == []
    # the page in French
    page.goto(f"{server.url}{target}")
    with page.expect_navigation():  # the switcher: a POST that comes back to the page
        page.click(".langs button[value=fr]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Infrajournalier"
    assert page.locator("#reoptimize button").inner_text() == "Réoptimiser"
    assert page.locator("#waiting-now").inner_text() == "non transmis"
    assert watch.errors == [] and axe_violations(page) == []
    ctx.close()
