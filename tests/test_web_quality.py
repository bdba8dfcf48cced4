"""The quality page of the web app (server-rendered, signed in by the session cookie): the
homogeneity between sites and teams for planners and evaluators, a client viewer's own
client only, an agent's own evaluations, the CSV export, French."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from server_support import PASSWORD, World, demo_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("webquality") / "openwfm.db"
    with demo_world(f"sqlite:///{path}") as w:
        yield w


def login(c: TestClient, username: str) -> None:
    c.cookies.clear()
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert token is not None
    r = c.post("/login", data={"username": username, "password": PASSWORD,
                               "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_planner_and_evaluator_see_the_homogeneity(world: World) -> None:
    c = world.client
    for who in ("planner", "qa-1"):
        login(c, who)
        assert 'href="/quality"' in c.get("/").text
        page = c.get("/quality").text
        assert "1,268 evaluations." in page
        site = page[page.index('id="homogeneity-site"'):page.index('id="homogeneity-team"')]
        assert "between Casablanca (highest) and Bogota (lowest)" in site and "ICC(1)" in site
        assert site.index("<td>Casablanca</td>") < site.index("<td>Bogota</td>")
        assert 'href="/quality/evaluations.csv"' in page
    csv = c.get("/quality/evaluations.csv")
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 1 + 1268


def test_client_viewer_sees_only_their_client_and_no_export(world: World) -> None:
    c = world.client
    login(c, str(world.facts["viewer_ride"]))
    page = c.get("/quality").text
    assert "<td>Manila</td>" in page and "<td>Bogota</td>" in page
    assert "<td>Casablanca</td>" not in page          # RideNow is served from Manila, Bogota
    assert "evaluations.csv" not in page and "My evaluations" not in page
    assert c.get("/quality/evaluations.csv").status_code == 403


def test_agent_sees_their_own_evaluations_in_french(world: World) -> None:
    c = world.client
    login(c, str(world.facts["agent"]))
    page = c.get("/quality", headers={"Accept-Language": "fr"}).text
    assert "Mes évaluations" in page and "Qualité" in page
    rows = page[page.index('id="my-evaluations"'):].split("</table>")[0].count("<tr>")
    assert rows == 1 + 4                                # the header and their four
    assert 'id="homogeneity-site"' not in page
    csv = c.get("/quality/evaluations.csv").text.strip().splitlines()
    assert len(csv) == 1 + 4 and all(str(world.facts["agent"]) in r for r in csv[1:])
