"""Agents' availability and preferences for a schedule period: stored through the API (only
the agent writes their own; team leaders, planners of the agent's clients and admin read;
others 403/404), validated by the scheduler's own parsers with the field named, audited;
and fed to the scheduler as the CLI's preferences and availability files would be — a day
of hard unavailability is respected and a soft wish is met where it costs nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa

from openwfm.app.stages import schedule_stage
from openwfm.scheduling.synthetic import flat_requirement, toy_scenario
from openwfm.server import availability as av
from openwfm.server.center import load_scenario_from_db, store_scenario
from openwfm.server.db import Database
from openwfm.server.migrate import upgrade
from openwfm.server.models import Agent, AuditEntry
from server_support import World, demo_world, sign_in


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("prefs") / "openwfm.db"
    with demo_world(f"sqlite:///{path}") as w:
        w.tokens[str(w.facts["other_agent"])] = sign_in(w.client, str(w.facts["other_agent"]))
        yield w


def test_agent_enters_own_wishes_others_read_as_their_role_allows(world: World) -> None:
    c, f = world.client, world.facts
    agent, other = str(f["agent"]), str(f["other_agent"])
    url = f"/api/agents/{agent}/preferences"
    empty = c.get(url, headers=world.h(agent))
    assert empty.status_code == 200, empty.text
    period = empty.json()
    start = date.fromisoformat(period["period_start"])
    assert period["preferences"] == [] and period["unavailable"] == []
    assert period["kinds"] == ["day_off", "start_between", "max_nights"]
    assert date.fromisoformat(period["period_end"]) == start + timedelta(days=7)
    zone = ZoneInfo(period["tz"])
    day2 = start + timedelta(days=2)
    body = {"preferences": [{"kind": "start_between", "value": "14:00-23:30"},
                            {"kind": "day_off", "value": "sun", "weight": 3},
                            {"kind": "max_nights", "value": "0", "weight": 2}],
            "unavailable": [{"start": f"{day2}T00:00", "end": f"{day2 + timedelta(days=1)}T00:00"}]}
    r = c.put(url, headers=world.h(agent), json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert [(x["kind"], x["value"], x["weight"]) for x in got["preferences"]] == [
        ("start_between", "14:00-23:30", 1.0), ("day_off", "sun", 3.0),
        ("max_nights", "0", 2.0)]
    (u,) = got["unavailable"]  # local midnight at the agent's site, with its offset
    assert datetime.fromisoformat(u["start"]) == datetime.combine(day2, datetime.min.time(),
                                                                   zone)
    assert c.get(url, headers=world.h(agent)).json() == got
    with world.db.read() as s:
        entry = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.object_type == "agent_preferences").order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.object_id == f"{agent}/{start}"
        assert entry.username == agent and entry.before["preferences"] == []
        assert len(entry.after["preferences"]) == 3
    # readers: the team leader of the agent's team, admin, a planner of all clients
    for reader in (str(f["leader"]), "admin", "planner"):
        r = c.get(url, headers=world.h(reader))
        assert r.status_code == 200, (reader, r.text)
        assert r.json()["preferences"] == got["preferences"]
    # the leader does not see another team's agent; viewers and evaluators may not read
    assert c.get(f"/api/agents/{other}/preferences", headers=world.h(str(f["leader"]))
                 ).status_code == 404
    for role in (str(f["viewer_ride"]), str(f["evaluator"])):
        assert c.get(url, headers=world.h(role)).status_code == 403
    # nobody writes an agent's wishes but the agent: others 403, another agent 404
    for writer in ("admin", "planner", str(f["leader"])):
        assert c.put(url, headers=world.h(writer), json=body).status_code == 403
    assert c.put(url, headers=world.h(other), json=body).status_code == 404
    assert c.get(url).status_code == 401
    assert c.get(url, headers=world.h(agent)).json() == got  # nothing changed


@pytest.mark.parametrize(("wish", "loc"), [
    ({"preferences": [{"kind": "day_on", "value": "mon"}]}, ["preferences", 0, "kind"]),
    ({"preferences": [{"kind": "day_off", "value": "mon"},
                      {"kind": "day_off", "value": "someday"}]}, ["preferences", 1, "value"]),
    ({"preferences": [{"kind": "start_between", "value": "14:00-25:00"}]},
     ["preferences", 0, "value"]),
    ({"preferences": [{"kind": "max_nights", "value": "-1"}]}, ["preferences", 0, "value"]),
    ({"preferences": [{"kind": "max_nights", "value": "1", "weight": -2}]},
     ["preferences", 0, "weight"]),
    ({"preferences": [{"kind": "day_off", "value": "+8"}]}, ["preferences", 0, "value"]),
    ({"unavailable": [{"start": "tomorrow", "end": "+1T00:00"}]}, ["unavailable", 0, "start"]),
    ({"unavailable": [{"start": "+1T10:00", "end": "+1T09:00"}]}, ["unavailable", 0, "end"]),
    ({"unavailable": [{"start": "+6T20:00", "end": "+7T02:00"}]}, ["unavailable", 0, "end"]),
    ({"unavailable": [{"start": "-1T20:00", "end": "+0T02:00"}]}, ["unavailable", 0, "start"]),
])
def test_a_wish_the_scheduler_refuses_is_a_422_naming_the_field(
        world: World, wish: dict, loc: list) -> None:
    agent = str(world.facts["agent"])
    url = f"/api/agents/{agent}/preferences"
    before = world.client.get(url, headers=world.h(agent)).json()
    start = date.fromisoformat(before["period_start"])

    def day(text: str) -> str:  # "+N..." -> the period's day N
        if text[:1] in "+-" and text[1:2].isdigit():
            n, rest = int(text[:2]), text[2:]
            return f"{start + timedelta(days=n)}{rest}"
        return text

    body = {k: [{f: day(v) if isinstance(v, str) else v for f, v in x.items()} for x in rows]
            for k, rows in wish.items()}
    r = world.client.put(url, headers=world.h(agent), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", *loc], r.json()
    assert "Traceback" not in r.text
    assert world.client.get(url, headers=world.h(agent)).json() == before  # nothing written


def test_a_period_starts_on_the_plan_weekday(world: World) -> None:
    agent = str(world.facts["agent"])
    url = f"/api/agents/{agent}/preferences"
    start = date.fromisoformat(world.client.get(url, headers=world.h(agent)).json()[
        "period_start"])
    nxt = world.client.get(url, headers=world.h(agent),
                           params={"period_start": str(start + timedelta(days=7))})
    assert nxt.status_code == 200 and nxt.json()["preferences"] == []
    r = world.client.put(url, headers=world.h(agent), json={},
                         params={"period_start": str(start + timedelta(days=1))})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "period_start"]


# ------------------------------------------------------------------ fed to the scheduler
EIGHT = {"time_limit_s": 10, "breaks": [], "start_spread_weight": 0,
         "shifts": [{"start_step_min": 60, "lengths_h": [8]}]}


def _days(result, zone: str, plan_start: date) -> dict[str, set[int]]:
    return {a: {(s.tz_convert(zone).date() - plan_start).days
                for s in pd.to_datetime(df["start_utc"], utc=True)}
            for a, df in result.shifts.groupby("agent_id")}


def test_stored_wishes_reach_the_scheduler(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sched.db'}"
    upgrade(url)
    db = Database.connect(url)
    sc = toy_scenario(n_agents=2, extra={"scheduling": EIGHT})
    with db.transaction() as s:
        store_scenario(s, sc)
    zone = sc.sites[0].tz
    req = flat_requirement(sc, 1.0)

    def enter(s, agent_id: str, prefs=(), unavailable=()) -> None:
        agent = s.get(Agent, agent_id)
        period = av.period_for(s, agent, None)
        av.store_wishes(s, agent_id, period, *av.parse_wishes(agent_id, period, prefs,
                                                              unavailable))

    def schedule():
        with db.read() as s:
            scenario = load_scenario_from_db(s)
            prefs, avail = av.plan_wishes(s, scenario)
        planned = schedule_stage(scenario, req, preferences=prefs, availability=avail)
        assert planned.result.check.ok, planned.result.check.counts()
        return planned.result

    try:
        free = schedule()
        days = _days(free, zone, sc.plan_start)
        # hard: a1 is unavailable all of a local day it worked
        d = min(days["a1"])
        day = sc.plan_start + timedelta(days=d)
        with db.transaction() as s:
            enter(s, "a1", unavailable=[(f"{day}T00:00", f"{day + timedelta(days=1)}T00:00")])
        held = schedule()
        lo = pd.Timestamp(datetime.combine(day, datetime.min.time(), ZoneInfo(zone)))
        a1 = held.shifts[held.shifts["agent_id"] == "a1"]
        starts = pd.to_datetime(a1["start_utc"], utc=True)
        ends = pd.to_datetime(a1["end_utc"], utc=True)
        assert not ((starts < lo + pd.Timedelta(days=1)) & (ends > lo)).any()
        assert d not in _days(held, zone, sc.plan_start)["a1"]
        # soft: a day only a1 works, wished off by a1 as a weekday name: met by swapping
        # with the interchangeable a2, at no cost
        only = sorted(days["a1"] - days["a2"])
        assert only, days
        weekday = (sc.plan_start + timedelta(days=only[0])).strftime("%A").lower()
        with db.transaction() as s:
            enter(s, "a1", prefs=[("day_off", weekday, 1.0)])
        wished = schedule()
        assert wished.preferences["met"].tolist() == [True]
        assert only[0] not in _days(wished, zone, sc.plan_start)["a1"]
        assert wished.cost == pytest.approx(free.cost)
        # in a plan of two weeks, a week's wishes hold in that week only
        with db.transaction() as s:
            agent = s.get(Agent, "a1")
            nxt = av.period_for(s, agent, sc.plan_start + timedelta(days=7))
            av.store_wishes(s, "a1", nxt, *av.parse_wishes(
                "a1", nxt, [("max_nights", "0", 2.0), ("day_off", weekday, 1.0)], []))
        with db.read() as s:
            two = dataclasses.replace(load_scenario_from_db(s), plan_days=14)
            prefs, _ = av.plan_wishes(s, two)
        weeks = (sc.plan_start, sc.plan_start + timedelta(days=7))
        assert [(p.kind.value, p.on_date, [p.in_week(w) for w in weeks]) for p in prefs] == [
            ("day_off", weeks[0] + timedelta(days=only[0]), [True, False]),
            ("max_nights", None, [False, True]),
            ("day_off", weeks[1] + timedelta(days=only[0]), [False, True])]
    finally:
        db.dispose()
