"""The web pages' server side without a browser (the pages in Chromium, with axe-core and
the console, are walked in tests/test_web_pages.py and tests/test_web_flows.py): the
capacity plan page and its tenancy (a plan of the demo center made by the plan's capacity
stage, 17 weeks, two scenarios: the monthly figures the page draws equal the plan's weekly
table), the shift editor's kept draft, the user's language setting and the session revoked
at sign-out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
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


def field_errors(page: str) -> dict[str, str]:
    """The bid form's errors shown next to their fields (field id -> message)."""
    return {k: unescape(v) for k, v in re.findall(r'id="([\w-]+)-error">([^<]+)<', page)}


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



def test_the_kept_draft_is_the_database_draft_after_every_write(world: World) -> None:
    """The shift editor keeps the draft's segments per revision (web.checker.draft_frame):
    after an API draft edit (a new revision) and after a page save (draft_saved) it equals
    a fresh read."""
    from datetime import timedelta

    from openwfm.server.models import Schedule
    from openwfm.web.checker import draft_saved, problem_for, segment_frame
    from server_support import WEEK, shift

    sid, agent = world.facts["schedule"], str(world.facts["agent"])

    def both() -> tuple[Any, Any]:
        with world.db.read() as s:
            sched = s.get(Schedule, sid)
            problem = problem_for(s, sched)
            return (segment_frame(s, sched, problem),
                    segment_frame(s, sched, problem, cached=False))

    kept, fresh = both()
    assert kept.equals(fresh) and len(kept)
    r = world.client.get(f"/api/schedules/{sid}", headers=world.h("admin"))
    rev = r.headers["ETag"]
    body = {"segments": shift(agent, 1, start_h=10)}
    r = world.client.put(f"/api/schedules/{sid}/draft/agents/{agent}", json=body,
                         headers=world.h("admin", **{"If-Match": rev}))
    assert r.status_code == 200, r.text
    kept, fresh = both()
    assert kept.equals(fresh)
    assert (kept[kept["agent_id"] == agent]["start"].min() == WEEK + timedelta(days=1, hours=10))
    # a page save hands its segments over instead of a re-read
    with world.db.read() as s:
        sched = s.get(Schedule, sid)
        mine = segment_frame(s, sched, problem_for(s, sched), agent_id=agent)
        rev_now = sched.draft_rev
    moved = mine.assign(start=mine["start"] + timedelta(hours=1),
                        end=mine["end"] + timedelta(hours=1))
    with world.db.transaction() as s:
        from openwfm.server.models import Segment

        s.execute(sa.delete(Segment).where(Segment.schedule_id == sid,
                                           Segment.version_id.is_(None),
                                           Segment.agent_id == agent))
        s.execute(sa.insert(Segment), [
            {"schedule_id": sid, "version_id": None, "agent_id": agent, "activity": a,
             "start": st.to_pydatetime(), "end": e.to_pydatetime(),
             "queue_id": q if a == "work" else None}
            for a, st, e, q in zip(moved["activity"], moved["start"], moved["end"],
                                   moved["queue"], strict=True)])
        s.execute(sa.update(Schedule).where(Schedule.id == sid)
                  .values(draft_rev=rev_now + 1))
    draft_saved(sid, rev_now, rev_now + 1, agent, moved)
    kept, fresh = both()
    assert kept.equals(fresh)


def test_the_language_setting_follows_the_user_and_sign_out_revokes_the_session(
        world: World) -> None:
    from openwfm.server.models import User

    c = world.client
    web_sign_in(c, "planner")
    home = c.get("/").text
    assert 'lang="en"' in home
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', home)
    assert token
    # the switcher is a POST with the session's CSRF token; a GET changes nothing
    assert c.get("/lang/fr?next=/", follow_redirects=False).status_code in (404, 405)
    assert c.post("/lang", data={"lang": "fr", "next": "/"},
                  follow_redirects=False).status_code == 403
    r = c.post("/lang", data={"lang": "xx", "csrf_token": token.group(1)},
               follow_redirects=False)
    assert r.status_code == 422 and "lang: one of en, fr, es" in r.text
    r = c.post("/lang", data={"lang": "fr", "next": "/schedule?team=1",
                              "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/schedule?team=1"
    with world.db.read() as s:
        assert s.scalar(sa.select(User.language).where(User.username == "planner")) == "fr"
    # another browser: no switcher cookie, a Spanish Accept-Language; the setting wins
    web_sign_in(c, "planner")
    c.cookies.delete("openwfm_lang")
    page = c.get("/", headers={"Accept-Language": "es-CO,es;q=0.9"})
    assert 'lang="fr"' in page.text
    # a user without a setting gets the browser's language
    web_sign_in(c, "admin")
    c.cookies.delete("openwfm_lang")
    assert 'lang="es"' in c.get("/", headers={"Accept-Language": "es"}).text
    # sign out: the same cookie, replayed, no longer signs in
    web_sign_in(c, "planner")
    cookie = c.cookies.get("openwfm_session")
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get("/").text)
    assert cookie and csrf
    r = c.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    c.cookies.set("openwfm_session", cookie)
    r = c.get("/schedule", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = c.post("/lang", data={"lang": "es", "csrf_token": csrf.group(1)},
               follow_redirects=False)  # a revoked session: its token no longer counts
    assert r.status_code == 403
    with world.db.read() as s:
        assert s.scalar(sa.select(User.language).where(User.username == "planner")) == "fr"
    # before sign-in the switcher carries the sign-in form's double-submit token
    c.cookies.delete("openwfm_session")
    login = c.get("/login").text
    anon = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert anon and c.cookies.get("openwfm_csrf") == anon.group(1)
    r = c.post("/lang", data={"lang": "es", "next": "/login", "csrf_token": anon.group(1)},
               follow_redirects=False)
    assert r.status_code == 303 and c.cookies.get("openwfm_lang") == "es"
    assert "Iniciar sesión" in c.get("/login").text
    c.cookies.delete("openwfm_lang")


def test_the_bid_form_adds_and_removes_rows_names_bad_fields_and_publishes(
        world: World) -> None:
    """The planner's bid form on /bids: rows added and removed (htmx partial and whole
    page without JS), each bad field named next to it (422, nothing saved; the API's own
    check of the places too), a good form published as the API would."""
    c, f = world.client, world.facts
    team = int(f["team"])  # type: ignore[arg-type]
    web_sign_in(c, str(f["leader"]))
    assert 'id="compose-form"' not in c.get("/bids").text  # team leaders do not compose
    web_sign_in(c, "planner")
    page = c.get("/bids").text
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert token and 'id="compose-form"' in page
    assert c.post("/lang", data={"lang": "en", "csrf_token": token.group(1)}).status_code == 200
    parts = "work 120, break 15, work 105, meal 30, work 120, break 15, work 105"
    base = {"csrf_token": token.group(1), "name": "week 20", "team_id": str(team),
            "period_start": "2026-05-11", "days": "7", "method": "seniority", "rows": "1",
            "p-0-name": "early", "p-0-places": "9", "p-0-start": "08:00", "p-0-parts": parts,
            "p-0-day": ["0", "1", "2", "3", "4"]}
    r = c.post("/bids/compose", data={**base, "op": "add"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<section id="compose"')
    assert 'name="p-1-parts" value="' + parts + '"' in r.text  # the new row copies the last
    assert len(re.findall(r'name="p-1-day" value="\d" checked', r.text)) == 5
    r = c.post("/bids/compose", data={**base, "rows": "2", "p-1-name": "x", "op": "remove:0"})
    assert "<html" in r.text and 'name="p-1-name"' not in r.text  # the whole page, no JS
    assert 'name="p-0-name" value="x"' in r.text
    # bad fields: each named next to it, nothing saved
    with world.db.read() as s:
        from openwfm.server.models import ShiftBid

        n = s.scalar(sa.select(sa.func.count()).select_from(ShiftBid))
    bad = {**base, "rows": "2", "p-0-places": "0", "p-0-parts": "work 120, brek 15",
           "p-1-name": "late", "p-1-places": "9", "p-1-start": "25:00",
           "p-1-parts": "work ten", "p-1-day": []}
    r = c.post("/bids", data=bad)
    assert r.status_code == 422
    errors = field_errors(r.text)
    assert set(errors) == {"p-0-places", "p-0-parts", "p-1-days"}, errors
    assert errors["p-0-places"] == "at least 1"
    assert errors["p-0-parts"].startswith("one of 'work', ")  # 'brek' is no activity
    assert errors["p-1-days"] == "tick the days this pattern works"
    c.post("/lang", data={"lang": "es", "csrf_token": token.group(1)})  # in Spanish
    assert field_errors(c.post("/bids", data=bad).text)["p-0-places"] == "al menos 1"
    c.post("/lang", data={"lang": "en", "csrf_token": token.group(1)})
    r = c.post("/bids", data={**bad, "p-0-places": "9", "p-0-parts": parts,
                              "p-1-day": ["0"]})
    errors = field_errors(r.text)
    assert r.status_code == 422 and set(errors) == {"p-1-start", "p-1-parts"}, errors
    assert errors["p-1-parts"] == "a whole number expected"  # 'work ten'
    assert errors["p-1-start"] == "a time HH:MM expected"  # 25:00
    # the API's own check: at least one place per agent of the team
    r = c.post("/bids", data={**base, "p-0-places": "2"})
    errors = field_errors(r.text)
    assert r.status_code == 422 and "2 places for the team's" in errors["patterns"], errors
    with world.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ShiftBid)) == n
    # a good one: published as the API would store it
    r = c.post("/bids", data={**base, "rows": "2", "p-1-name": "late", "p-1-places": "9",
                              "p-1-start": "11:00", "p-1-parts": parts,
                              "p-1-day": ["0", "1", "2", "3", "4"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/bids?created="), r.text
    bid = int(r.headers["location"].rsplit("=", 1)[1])
    got = c.get(f"/api/bids/{bid}", headers=world.h("planner")).json()
    spec = [["work", 120], ["break", 15], ["work", 105], ["meal", 30], ["work", 120],
            ["break", 15], ["work", 105]]
    assert got["method"] == "seniority" and got["period_start"] == "2026-05-11"
    assert got["patterns"] == [
        {"name": n, "places": 9, "shifts": [{"day": d, "start": t, "parts": spec}
                                            for d in range(5)]}
        for n, t in (("early", "08:00:00"), ("late", "11:00:00"))]
    assert re.search(rf'id="created">[^<]*{bid}', c.get(r.headers["location"]).text)
