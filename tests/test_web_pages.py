"""The web pages in a real Chromium (Debian's, driven by Playwright): sign in as each role
and walk its pages; on every page 0 console errors and 0 serious/critical axe-core
violations; a screenshot of each page under artifacts/web/ (not committed).

One live server (the demo center with a published pattern week) and one browser for all
the browser test modules (tests/conftest.py: web_server, web_browser); each test has its own
browser context (its own cookies)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from web_support import (
    PageWatch,
    axe_violations,
    screenshot,
    sign_in,
)

# one server and one browser for the web modules: keep them on one xdist worker
pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    p = ctx.new_page()
    p.set_default_timeout(15_000)
    p.watch = PageWatch(p)
    yield p
    ctx.close()


def check_page(page: Any, name: str, status: int = 200) -> None:
    """0 console errors, 0 serious/critical axe violations; a screenshot. A page answered
    with an error `status` on purpose: Chromium's own line about that status is expected."""
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    expected = f"the server responded with a status of {status}"
    errors = [e for e in page.watch.errors if status == 200 or expected not in e]
    assert errors == [], name
    assert axe_violations(page) == [], name


def test_sign_in_page_and_wrong_password(page: Any, server: Any) -> None:
    page.goto(server.url + "/")
    assert page.url.endswith("/login?next=/")
    check_page(page, "login")
    page.fill("#username", "planner")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong user name or password."
    page.watch.errors.clear()  # the 401 answer itself is logged by Chromium as a failed load


def test_session_cookie_is_http_only_and_same_site(page: Any, server: Any) -> None:
    sign_in(page, server.url, "planner")
    cookie = next(c for c in page.context.cookies() if c["name"] == "openwfm_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("openwfm_session") == -1


def test_post_without_csrf_token_is_refused(page: Any, server: Any) -> None:
    sign_in(page, server.url, "planner")
    r = page.request.post(server.url + "/logout", form={"x": "1"}, max_redirects=0)
    assert r.status == 403
    r = page.request.post(server.url + "/logout", form={"csrf_token": "forged"},
                          max_redirects=0)
    assert r.status == 403


def test_planner_schedule_timeline_every_agent_reachable(page: Any, server: Any) -> None:
    sign_in(page, server.url, "planner", next_path="/schedule")
    assert page.url.endswith("/schedule")
    rows = page.locator(".tl-row")
    assert rows.count() == len(server.facts["scenario"].agents)
    check_page(page, "planner-schedule")
    agent = server.facts["scenario"].agents[200]
    page.fill("#q", agent.name.split()[0].lower())
    page.wait_for_function("document.querySelectorAll('.tl-row').length < 317")
    assert page.locator(f"#row-{agent.id}").count() == 1
    assert "q=" in page.url  # the filter is in the address (shareable, back button)
    page.click("#review button")  # compare the draft with the published version
    page.locator("#review-ok").wait_for()
    assert "same as the published version" in page.locator("#review").inner_text()
    page.select_option("select[name=site]", label="Bogota")
    page.wait_for_function(
        "[...document.querySelectorAll('.tl-row')].every(r => r.dataset.agent.startsWith('BOG'))")


def test_team_leader_sees_only_their_team(page: Any, server: Any) -> None:
    f = server.facts
    sign_in(page, server.url, f["leader"])
    check_page(page, "team-leader-home")
    page.click("nav a[href='/schedule']")
    page.wait_for_load_state("networkidle")
    shown = page.eval_on_selector_all(".tl-row", "rs => rs.map(r => r.dataset.agent)")
    assert shown == f["team_agents"]
    assert page.locator("button.shift").count() == 0  # read-only
    check_page(page, "team-leader-schedule")


def test_agent_may_not_open_the_planner_schedule(page: Any, server: Any) -> None:
    agent = server.facts["team_agents"][0]
    sign_in(page, server.url, agent)
    r = page.goto(server.url + "/schedule")
    assert r is not None and r.status == 403
    check_page(page, "agent-forbidden", status=403)


def test_language_switch_and_accept_language(page: Any, server: Any, browser: Any) -> None:
    sign_in(page, server.url, "planner")
    with page.expect_navigation():
        page.click(".langs button[value=fr]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("nav a[href='/schedule']").inner_text() == "Planning"
    check_page(page, "home-fr")
    # the choice is the planner's own setting: it follows them to another browser
    other = browser.new_context(locale="es-CO",
                                extra_http_headers={"Accept-Language": "es-CO,es;q=0.9"})
    p2 = other.new_page()
    sign_in(p2, server.url, "planner")
    assert p2.locator("html").get_attribute("lang") == "fr"
    other.close()
    with page.expect_navigation():  # back to English for the other tests of this server
        page.click(".langs button[value=en]")
    page.wait_for_load_state("networkidle")
    ctx = browser.new_context(locale="es-CO",
                              extra_http_headers={"Accept-Language": "es-CO,es;q=0.9"})
    p = ctx.new_page()
    p.goto(server.url + "/login")
    assert p.locator("h1").inner_text() == "Iniciar sesión"
    ctx.close()


def test_planner_starts_a_job_and_sees_its_progress(page: Any, server: Any) -> None:
    sign_in(page, server.url, "planner", next_path="/jobs")
    check_page(page, "planner-jobs")
    page.select_option("select[name=kind]", "schedule")
    with page.expect_navigation():
        page.click("#start-job button[type=submit]")
    row = page.locator("#jobs tbody tr").first
    assert "queued" in row.inner_text()  # no job worker in the tests: it waits its turn
    assert row.get_attribute("hx-trigger") == "every 2s"  # polled while it runs
    row.locator("button").click()
    page.wait_for_function(
        "document.querySelector('#jobs tbody tr').innerText.includes('cancelled')")
    assert page.locator("#jobs tbody tr").first.get_attribute("hx-trigger") is None
    check_page(page, "planner-jobs-cancelled")


def test_artifacts_folder_is_ignored_by_git() -> None:
    root = Path(__file__).resolve().parents[1]
    assert "artifacts/" in (root / ".gitignore").read_text().splitlines()


def test_planner_capacity_plan_and_scenarios_side_by_side(page: Any, server: Any) -> None:
    plan = server.facts["capacity_plan"]
    sign_in(page, server.url, "planner")
    page.click("nav a[href='/capacity']")
    page.wait_for_load_state("networkidle")
    check_page(page, "planner-capacity-list")
    with page.expect_navigation():
        page.click(f"#plans a[href='/capacity/{plan}']")
    for chart in ("fte-chart", "hires-chart", "compare-fte-chart", "compare-hires-chart"):
        page.locator(f"#{chart} .main-svg").first.wait_for()  # plotly drew it
    assert page.locator("#fte-table tbody tr").count() >= 4  # 17 weeks: 4 or 5 months
    check_page(page, "planner-capacity")
    page.select_option("select[name=site]", "Manila")
    page.select_option("select[name=a]", "attrition 4%")
    page.select_option("select[name=b]", "attrition 7%")
    with page.expect_navigation():
        page.click("#capacity-filters button[type=submit]")
    assert "site=Manila" in page.url
    head = page.locator("#compare-table thead").inner_text()
    assert "attrition 4%" in head and "attrition 7%" in head
    with page.expect_navigation():
        page.click(".langs button[value=es]")
    page.wait_for_load_state("networkidle")
    assert page.locator("nav a[href='/capacity']").inner_text() == "Capacidad"
    check_page(page, "planner-capacity-es")
    with page.expect_navigation():  # the planner's setting back to English
        page.click(".langs button[value=en]")
    page.wait_for_load_state("networkidle")
