"""The capacity plan page and its tenancy, without a browser (the page in Chromium, with
axe-core and its console, is walked in tests/test_web_pages.py): a capacity plan of the
demo center made by the plan's capacity stage (17 weeks, two scenarios), the monthly
figures the page draws equal to the plan's weekly table, and who may see which rows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server_support import PASSWORD, World, demo_world
from web_support import store_capacity_plan


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path: Path = tmp_path_factory.mktemp("webcap") / "cap.db"
    with demo_world(f"sqlite:///{path}") as w:
        from openwfm.demo import demo_scenario

        w.facts["plan"] = store_capacity_plan(w.db, demo_scenario())
        yield w


def web_sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    r = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert token is not None
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token.group(1), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def figure(html: str, chart_id: str) -> dict[str, Any]:
    m = re.search(rf'id="{chart_id}" data-figure="([^"]+)"', html)
    assert m is not None, chart_id
    return dict(json.loads(m.group(1).replace("&#34;", '"').replace("&quot;", '"')
                           .replace("&#39;", "'").replace("&amp;", "&")))


def test_monthly_figures_are_the_plans_weekly_rows(world: World) -> None:
    plan = world.facts["plan"]
    r = world.client.get(f"/api/capacity-plans/{plan}", headers=world.h("admin"))
    assert r.status_code == 200
    tables = r.json()["tables"]
    weekly, monthly = tables["weekly_plan"], tables["monthly_plan"]
    assert {m["scenario"] for m in monthly} == {"base", "attrition 4%", "attrition 7%"}
    # every week in exactly one month: the weeks of the base's months add up to the horizon
    base = [m for m in monthly if m["scenario"] == "base"]
    groups = {(w["site"], w["skill"]) for w in weekly}
    assert sum(int(m["weeks"]) for m in base) == len(weekly) == 17 * len(groups)
    assert sum(float(m["hires"]) for m in base) == pytest.approx(
        sum(float(w["class_start"]) for w in weekly))
    # the page's April figure of one site and skill group is the mean of its April weeks
    site, skill = "Manila", "ride-en"
    april = [float(w["required_fte"]) for w in weekly
             if (w["site"], w["skill"]) == (site, skill) and w["week_start"][:10] in
             ("2026-03-30", "2026-04-06", "2026-04-13", "2026-04-20", "2026-04-27")]
    web_sign_in(world.client, "planner")
    page = world.client.get(f"/capacity/{plan}?site={site}&skill={skill}")
    assert page.status_code == 200
    fig = figure(page.text, "fte-chart")
    required = fig["data"][0]
    assert required["x"][0] == "2026-04"  # week of 2026-03-30: its Thursday is in April
    assert required["y"][0] == pytest.approx(sum(april) / 5, abs=0.05)
    assert 'id="fte-table"' in page.text and 'id="compare-table"' in page.text
    cmp = figure(world.client.get(f"/capacity/{plan}?a=attrition+4%25&b=attrition+7%25")
                 .text, "compare-fte-chart")
    names = [d["name"] for d in cmp["data"]]
    assert names[0].startswith("attrition 4%") and names[2].startswith("attrition 7%")


def test_who_may_see_the_capacity_pages(world: World) -> None:
    plan = world.facts["plan"]
    f = world.facts
    for who in (f["agent"], f["viewer_ride"], f["leader"]):
        web_sign_in(world.client, str(who))
        assert world.client.get("/capacity").status_code == 403
        assert world.client.get(f"/capacity/{plan}").status_code == 403
    web_sign_in(world.client, "planner")
    assert world.client.get("/capacity/999999").status_code == 404
    assert world.client.get(f"/capacity/{plan}?site=Atlantis").status_code == 404
    r = world.client.get("/capacity")
    assert r.status_code == 200 and f'href="/capacity/{plan}"' in r.text


def test_a_planner_sees_only_their_clients_skill_groups(world: World) -> None:
    plan = world.facts["plan"]
    r = world.client.get(f"/api/capacity-plans/{plan}", headers=world.h("planner-ride"))
    tables = r.json()["tables"]
    ride_queues = {q["queue"] for q in tables["skill_queues"]}
    assert ride_queues and all(q.startswith("ride") for q in ride_queues)
    assert {m["skill"] for m in tables["monthly_plan"]} == {"ride-en", "ride-es", "ride-driver"}
    for center_wide in ("site_plan", "scenarios", "solver", "limits"):
        assert center_wide not in tables
    full = world.client.get(f"/api/capacity-plans/{plan}", headers=world.h("planner")).json()
    assert "site_plan" in full["tables"] and len(full["tables"]["monthly_plan"]) > len(
        tables["monthly_plan"])
    web_sign_in(world.client, "planner-ride")
    page = world.client.get(f"/capacity/{plan}")
    assert page.status_code == 200 and "telco-fr" not in page.text
    assert world.client.get(f"/capacity/{plan}?skill=telco-fr").status_code == 404

