"""/api/quality on a real SQLite database holding the demo center and its quality month:
who sees which evaluations and scores, an evaluation's life through the API (score computed
by the domain, coaching opened, dispute, revision, coaching cancelled), calibration, forms,
the CSV export and bad requests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from openwfm.server.models import Client, QualityEvaluation, QualityForm
from server_support import World, demo_world, quality_csv


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("quality") / "openwfm.db"
    with demo_world(f"sqlite:///{path}") as w:
        with w.db.read() as s:
            w.facts["ride_form"] = s.scalar(sa.select(QualityForm.id).where(
                QualityForm.form_key == "ridenow-voice"))
            w.facts["ride_evals"] = s.scalar(
                sa.select(sa.func.count()).select_from(QualityEvaluation)
                .join(Client, Client.id == QualityEvaluation.client_id)
                .where(Client.name == "RideNow"))
        yield w


def h(w: World, role: str) -> dict[str, str]:
    return w.h(str(w.facts.get(role, role)))


def test_client_viewer_sees_only_their_clients_aggregated_scores(world: World) -> None:
    c, f = world.client, world.facts
    rows = c.get("/api/quality/scores?by=client", headers=h(world, "viewer_ride")).json()
    assert [r["group"] for r in rows] == ["RideNow"]
    assert rows[0]["evaluations"] == f["ride_evals"]
    admin = {r["group"]: r for r in c.get("/api/quality/scores?by=client",
                                          headers=world.h("admin")).json()}
    assert len(admin) == 6 and admin["RideNow"] == rows[0]
    sites = c.get("/api/quality/scores?by=site", headers=h(world, "viewer_ride")).json()
    assert sum(r["evaluations"] for r in sites) == f["ride_evals"]
    assert all(r["mean_score_lo"] <= r["mean_score"] <= r["mean_score_hi"] for r in sites)
    for path in ("/api/quality/scores?by=agent", "/api/quality/scores?by=evaluator",
                 "/api/quality/evaluations", "/api/quality/export/evaluations.csv",
                 "/api/quality/coaching"):
        assert c.get(path, headers=h(world, "viewer_ride")).status_code == 403, path
    hom = c.get("/api/quality/homogeneity?by=site", headers=world.h("admin")).json()
    assert hom["highest"] == "Casablanca" and hom["lowest"] == "Bogota"
    assert hom["groups"] == 3 and hom["spread_points"] > 5 and hom["p_value"] < 0.001


def test_agents_leaders_and_planners_see_their_own(world: World) -> None:
    c, f = world.client, world.facts
    mine = c.get("/api/quality/evaluations", headers=h(world, "agent")).json()
    assert len(mine) == 4 and {e["agent_id"] for e in mine} == {f["agent"]}
    assert [r["group"] for r in c.get("/api/quality/scores?by=agent",
                                      headers=h(world, "agent")).json()] == [f["agent"]]
    other = c.get(f"/api/quality/evaluations?agent_id={f['other_agent']}",
                  headers=world.h("admin")).json()[0]["id"]
    assert c.get(f"/api/quality/evaluations/{other}", headers=h(world, "agent")
                 ).status_code == 404
    team = c.get("/api/quality/evaluations", headers=h(world, "leader")).json()
    assert {e["agent_id"] for e in team} <= set(f["team_agents"]) and len(team) == \
        4 * len(f["team_agents"])
    ride = c.get("/api/quality/evaluations?limit=5000", headers=world.h("planner-ride")).json()
    assert len(ride) == f["ride_evals"] and {e["client_id"] for e in ride} == {f["ride"]}
    forms = c.get("/api/quality/forms", headers=world.h("planner-ride")).json()
    assert {x["form_key"] for x in forms} == {"ridenow-voice", "ridenow-chat", "ridenow-email"}


def test_evaluation_life_through_the_api(world: World) -> None:
    c, f = world.client, world.facts
    answers = {"greet": 2, "verify_identity": 1, "understand_need": 2, "accurate_answer": 2,
               "hold_procedure": None, "empathy": 2, "recap": 1, "further_help": 0,
               "disclosure": None}
    r = c.post("/api/quality/evaluations", headers=h(world, "evaluator"), json={
        "form_id": f["ride_form"], "contact_id": "CT-API-1", "agent_id": f["agent"],
        "queue_id": "ride-es-voice", "answers": answers,
        "item_comments": {"further_help": "no offer"}})
    assert r.status_code == 201, r.text
    ev = r.json()
    # opening 1, handling (2·½ + 3·½ + 1·½)/6 = ½, closing (½ + 0)/2 = ¼:
    # 100 (1 + 3·½ + ¼)/5 = 55
    assert ev["score"] == pytest.approx(55.0) and not ev["passed"]
    assert ev["evaluator"] == "qa-1" and ev["status"] == "submitted"
    tasks = c.get(f"/api/quality/coaching?agent_id={f['agent']}&status=open",
                  headers=h(world, "leader")).json()
    task = next(t for t in tasks if t["evaluation_id"] == ev["id"])
    assert task["reason"] == "low_score" and task["minutes"] == 30
    # the agent disputes; another person cannot, nor twice
    url = f"/api/quality/evaluations/{ev['id']}"
    assert c.post(url + "/dispute", headers=world.h("admin"),
                  json={"reason": "x"}).status_code == 403
    r = c.post(url + "/dispute", headers=h(world, "agent"), json={"reason": "I offered help"})
    assert r.status_code == 200 and r.json()["status"] == "disputed"
    assert c.post(url + "/dispute", headers=h(world, "agent"),
                  json={"reason": "again"}).status_code == 409
    assert c.post(url + "/resolve", headers=h(world, "agent"),
                  json={"outcome": "upheld"}).status_code == 403
    # revised: handling 1 -> 100 (1 + 3 + ¼)/5 = 85: passes, the coaching is cancelled
    r = c.post(url + "/resolve", headers=h(world, "evaluator"), json={
        "outcome": "revised", "note": "listened again",
        "answers": {"understand_need": 4, "accurate_answer": 4, "empathy": 4}})
    assert r.status_code == 200, r.text
    assert r.json()["score"] == pytest.approx(85.0) and r.json()["previous_score"] == 55.0
    assert r.json()["status"] == "revised" and r.json()["resolved_by"] == "qa-1"
    task = next(t for t in c.get(f"/api/quality/coaching?agent_id={f['agent']}",
                                 headers=world.h("admin")).json()
                if t["evaluation_id"] == ev["id"])
    assert task["status"] == "cancelled"
    assert c.post(url + "/resolve", headers=h(world, "evaluator"),
                  json={"outcome": "upheld"}).status_code == 409
    audit = c.get("/api/audit", params={"object_type": "quality_evaluation",
                                        "object_id": str(ev["id"])},
                  headers=world.h("admin")).json()
    assert {a["action"] for a in audit} == {"create", "dispute", "resolve"}


def test_coaching_tasks_move_inside_their_due_window(world: World) -> None:
    c, f = world.client, world.facts
    open_tasks = c.get("/api/quality/coaching?status=open", headers=h(world, "leader")).json()
    assert open_tasks
    t = open_tasks[0]
    due_from = datetime.fromisoformat(t["due_from"])
    url = f"/api/quality/coaching/{t['id']}"
    late = (due_from + timedelta(days=30)).isoformat()
    assert c.patch(url, headers=h(world, "leader"), json={
        "status": "scheduled", "scheduled_start": late}).status_code == 409
    assert c.patch(url, headers=h(world, "agent"), json={"status": "done"}).status_code == 403
    ok = (due_from + timedelta(days=1)).isoformat()
    r = c.patch(url, headers=h(world, "leader"), json={"status": "scheduled",
                                                        "scheduled_start": ok})
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    assert c.patch(url, headers=h(world, "leader"), json={"status": "done"}).json()[
        "status"] == "done"
    assert c.patch(url, headers=h(world, "leader"), json={"status": "open"}).status_code == 409
    other = c.get(f"/api/quality/coaching?agent_id={f['other_agent']}",
                  headers=world.h("admin")).json()
    if other:  # another team's task is not the leader's
        assert c.patch(f"/api/quality/coaching/{other[0]['id']}", headers=h(world, "leader"),
                       json={"status": "done"}).status_code == 404


def test_calibration_session_agreement(world: World) -> None:
    c, f = world.client, world.facts
    sessions = c.get("/api/quality/calibrations", headers=h(world, "evaluator")).json()
    r = c.get(f"/api/quality/calibrations/{sessions[0]['id']}", headers=world.h("planner"))
    assert r.status_code == 200
    cal = r.json()
    assert cal["flagged_evaluators"] == ["qa-5"] and "empathy" in cal["flagged_items"]
    assert cal["contacts"] == 10 and 0.9 < cal["alpha_score"] <= 1
    full = {"greet": 2, "verify_identity": 1, "understand_need": 4, "accurate_answer": 4,
            "hold_procedure": None, "empathy": 4, "recap": 2, "further_help": 1,
            "disclosure": None}
    ratings = [{"contact_id": f"k{i}", "evaluator": who,
                "answers": {**full, "empathy": i if j == 0 else 3 - i, "greet": i % 3}}
               for i in range(4) for j, who in enumerate(("qa-1", "qa-2"))]
    r = c.post("/api/quality/calibrations", headers=h(world, "evaluator"), json={
        "form_id": f["ride_form"], "name": "api session",
        "held_at": "2026-03-27T09:00:00Z", "ratings": ratings})
    assert r.status_code == 201, r.text
    items = {i["item_id"]: i for i in r.json()["items"]}
    assert items["greet"]["alpha"] == 1.0 and items["empathy"]["alpha"] < 0  # reversed
    assert items["empathy"]["flagged"] and not items["greet"]["flagged"]
    bad = [{**ratings[0], "answers": {**full, "greet": 7}}, ratings[1]]
    r = c.post("/api/quality/calibrations", headers=h(world, "evaluator"), json={
        "form_id": f["ride_form"], "name": "bad", "held_at": "2026-03-27T09:00:00Z",
        "ratings": bad})
    assert r.status_code == 422 and "greet" in r.text
    assert c.post("/api/quality/calibrations", headers=world.h("planner"), json={
        "form_id": f["ride_form"], "name": "x", "held_at": "2026-03-27T09:00:00Z",
        "ratings": ratings}).status_code == 403


def test_forms_are_versioned(world: World) -> None:
    c, f = world.client, world.facts
    form = c.get(f"/api/quality/forms/{f['ride_form']}", headers=world.h("admin")).json()
    new = {**form["definition"], "version": 2, "pass_score": 85}
    r = c.post("/api/quality/forms", headers=world.h("planner-ride"), json=new)
    assert r.status_code == 201 and r.json()["version"] == 2
    assert c.post("/api/quality/forms", headers=world.h("planner-ride"),
                  json=new).status_code == 409
    telco = {**new, "id": "x", "client": "Telco FR"}
    r = c.post("/api/quality/forms", headers=world.h("planner-ride"), json=telco)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "client"]
    r = c.post("/api/quality/forms", headers=world.h("admin"),
               json={**new, "version": 3, "sections": [{"id": "s", "items": [
                   {"id": "a", "pionts": 2}]}]})
    assert r.status_code == 422 and "did you mean 'points'" in r.text
    assert c.post("/api/quality/forms", headers=h(world, "evaluator"),
                  json={**new, "version": 9}).status_code == 403


def test_bad_evaluations_get_422_naming_the_item(world: World) -> None:
    c, f = world.client, world.facts
    body = {"form_id": f["ride_form"], "contact_id": "CT-BAD", "agent_id": f["agent"],
            "answers": {"greet": 2}}
    r = c.post("/api/quality/evaluations", headers=h(world, "evaluator"), json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "answers", "verify_identity"]
    answers = {"greet": 5, "verify_identity": 1, "understand_need": 4, "accurate_answer": 4,
               "hold_procedure": None, "empathy": 4, "recap": 2, "further_help": 1,
               "disclosure": None}
    r = c.post("/api/quality/evaluations", headers=h(world, "evaluator"),
               json={**body, "answers": answers})
    assert r.status_code == 422 and "from 0 to 2" in r.text
    r = c.post("/api/quality/evaluations", headers=h(world, "evaluator"),
               json={**body, "answers": {**answers, "greet": 2}, "agent_id": "nobody"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "agent_id"]
    r = c.post("/api/quality/evaluations", headers=h(world, "agent"),
               json={**body, "answers": {**answers, "greet": 2}})
    assert r.status_code == 403
    r = c.post("/api/quality/evaluations", headers=h(world, "evaluator"),
               json={**body, "answers": {**answers, "greet": 2}, "form_id": 99_999})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "form_id"]


def test_csv_export_holds_the_visible_evaluations(world: World) -> None:
    c, f = world.client, world.facts
    r = c.get(f"/api/quality/export/evaluations.csv?form_id={f['ride_form']}",
              headers=world.h("planner-ride"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(r.text))
    assert set(df["client"]) == {"RideNow"} and len(df) >= 100
    assert {"site", "team", "agent_id", "score", "passed"} <= set(df.columns)
    with world.db.read() as s:
        n = s.scalar(sa.select(sa.func.count()).select_from(QualityEvaluation)
                     .where(QualityEvaluation.form_id == f["ride_form"]))
    assert len(df) == n


def test_evaluation_import_uses_the_cli_reader_and_is_all_or_nothing(world: World) -> None:
    c, f = world.client, world.facts

    def post(text: str, who: str = "evaluator") -> object:
        return c.post("/api/quality/imports/evaluations", headers=h(world, who),
                      files={"file": ("march.csv", text, "text/csv")},
                      data={"form_id": str(f["ride_form"])})

    def count() -> int:
        with world.db.read() as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(QualityEvaluation)))

    before = count()
    r = post(quality_csv(str(f["agent"]), 3, bad={"empathy": "7"}))
    assert r.status_code == 422  # type: ignore[attr-defined]
    err = r.json()["detail"][0]  # type: ignore[attr-defined]
    assert err["loc"] == ["body", "file", 3, "empathy"] and "march.csv" in err["msg"]
    r = post(quality_csv(str(f["agent"]), 2, bad={"agent_id": "NOBODY"}))
    assert r.json()["detail"][0]["loc"] == ["body", "file", 2, "agent_id"]  # type: ignore[attr-defined]
    assert count() == before  # a bad file stored nothing
    r = post(quality_csv(str(f["agent"]), 3))
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    assert r.json()["rows"] == 3 and r.json()["coaching_tasks"] == 3  # type: ignore[attr-defined]
    assert count() == before + 3
    assert post(quality_csv(str(f["agent"]), 1), "planner").status_code == 403  # type: ignore[attr-defined]
