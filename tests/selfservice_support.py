"""A small valid schedule for the self-service tests (hand-built, checked by the checker)."""

from __future__ import annotations

import pandas as pd

from openwfm.scenario import Site
from openwfm.scheduling.model import build_problem
from openwfm.scheduling.synthetic import flat_requirement, toy_scenario

MONDAY = pd.Timestamp("2026-03-30", tz="UTC")


def shift_rows(agent: str, site: str, start: pd.Timestamp, queue: str | None = None
               ) -> list[dict]:
    """A 9-hour shift: work, 15-min break at +2 h, 1-h meal at +4 h, 15-min break at +7 h."""
    h = pd.Timedelta(hours=1)
    m = pd.Timedelta(minutes=1)
    cuts = [(0 * h, 2 * h, "work"), (2 * h, 2 * h + 15 * m, "break"),
            (2 * h + 15 * m, 4 * h, "work"), (4 * h, 5 * h, "meal"), (5 * h, 7 * h, "work"),
            (7 * h, 7 * h + 15 * m, "break"), (7 * h + 15 * m, 9 * h, "work")]
    return [{"agent_id": agent, "site": site, "activity": act, "start": start + a,
             "end": start + b, "queue": queue if act == "work" else None}
            for a, b, act in cuts]


def small_center(seats: int = 10, days: dict[str, list[int]] | None = None,
                 skills: tuple[tuple[str, ...], ...] | None = None, start_h: float = 8.0,
                 volume: float = 6.0):
    """(problem, segments, requirement): 4 agents at one site, queues q1/q2, 9-h shifts."""
    site = Site("Casablanca", "MA", "Africa/Casablanca", seats, 9.5, "MA")
    skills = skills or (("q1",), ("q1",), ("q1", "q2"), ("q2",))
    sc = toy_scenario(n_agents=len(skills), site=site, queues=("q1", "q2"), skills=skills)
    days = days or {a.id: [0, 1, 2, 3, 4] for a in sc.agents}
    rows = []
    for a in sc.agents:
        for d in days.get(a.id, []):
            rows += shift_rows(a.id, site.name,
                               MONDAY + pd.Timedelta(days=d, hours=start_h), None)
    seg = pd.DataFrame(rows)
    req = flat_requirement(sc, 1.0)
    req["volume"] = volume
    req["aht_s"] = 300.0
    problem = build_problem(sc, req)
    return problem, seg, req
