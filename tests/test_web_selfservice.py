"""Self-service in a real Chromium: an agent on a phone-width screen asks for a day off and
sees its effect; the team leader sees the effect on coverage and service level and
approves; the schedule gets a new published version; the agent is notified. 0 console
errors and 0 serious/critical axe-core violations on each page; screenshots in
artifacts/web/."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from web_support import PageWatch, axe_violations, screenshot, sign_in, week_pattern

# the session's live server and chromium (tests/conftest.py): one xdist worker
pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture(scope="module")
def server(web_server: Any) -> Any:
    return web_server


@pytest.fixture(scope="module")
def browser(web_browser: Any) -> Any:
    return web_browser


def new_page(browser: Any, width: int, height: int, lang: str = "en-US") -> Any:
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale=lang)
    p = ctx.new_page()
    p.set_default_timeout(20_000)
    p.watch = PageWatch(p)
    return p


def check_page(page: Any, name: str) -> None:
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    assert page.watch.errors == [], name
    assert axe_violations(page) == [], name


def test_time_off_request_effect_approval_version_and_notification(browser: Any,
                                                                   server: Any) -> None:
    facts = server.facts
    # the team's last agent: the other browser tests edit the first ones' shifts
    agent, leader = str(facts["team_agents"][-1]), str(facts["leader"])
    scenario = facts["scenario"]
    tz = scenario.site(next(a.site for a in scenario.agents if a.id == agent)).tz
    shifts = sorted((s for s in week_pattern(scenario) if s.agent_id == agent),
                    key=lambda s: s.start)
    day = shifts[1].start.astimezone(ZoneInfo(tz)).date()

    phone = new_page(browser, 390, 844)
    sign_in(phone, server.url, agent, next_path="/me/requests")
    check_page(phone, "selfservice-my-requests-empty")
    phone.fill("#first_day", day.isoformat())
    with phone.expect_navigation():
        phone.click("#ask-time-off button[type=submit]")
    item = phone.locator("#my-request-list li").first
    assert item.get_attribute("data-status") == "pending_approval", item.inner_text()
    assert "agent-hours" in item.inner_text()
    rid = item.get_attribute("data-request")
    check_page(phone, "selfservice-my-requests-pending")

    desk = new_page(browser, 1400, 900, "fr-FR")
    sign_in(desk, server.url, leader, next_path="/requests")
    row = desk.locator(f"#queue li[data-request='{rid}']")
    text = row.inner_text()
    assert "Contacts hors objectif de service" in text and "heures-agent" in text, text
    assert row.locator("table.effect-intervals tbody tr").count() >= 1
    check_page(desk, "selfservice-queue-fr")
    with desk.expect_navigation():
        row.locator("button.approve").click()
    done = desk.locator(f"#decided li[data-request='{rid}']")
    assert done.get_attribute("data-status") == "approved", done.inner_text()
    version = done.inner_text().rsplit("version", 1)[1].split()[0]  # "version N du planning"
    assert version.isdigit() and int(version) >= 2
    check_page(desk, "selfservice-queue-decided-fr")

    phone.goto(server.url + "/me/schedule")
    body = phone.locator("main").inner_text()
    assert f"Published version {version}" in body and "time_off" in body, body
    check_page(phone, "selfservice-my-schedule-after")
    phone.goto(server.url + "/me/requests")
    assert phone.locator("#my-request-list li").first.get_attribute("data-status") == "approved"
    assert "approved" in phone.locator("#notifications").inner_text()
    check_page(phone, "selfservice-my-requests-approved")
