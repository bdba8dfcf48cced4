"""Generated scheduling instances for tests and benchmarks (seeded, no dependence on today).

Examples
--------
>>> sc, req = generated_instance(n_agents=30, seed=1)
>>> len(sc.agents), sorted(req.columns)
(30, ['agents', 'interval_start', 'queue'])
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from openwfm.scenario import Agent, Channel, Queue, Scenario, Site

SITES = (
    Site("Casablanca", "MA", "Africa/Casablanca", 180, 9.5, "MA"),
    Site("Manila", "PH", "Asia/Manila", 200, 7.0, "PH"),
    Site("Bogota", "CO", "America/Bogota", 160, 8.5, "CO"),
)


def toy_scenario(n_agents: int = 2, *, site: Site = SITES[0], queues: tuple[str, ...] = ("q1",),
                 skills: tuple[tuple[str, ...], ...] | None = None,
                 contract_hours: float = 40.0, plan_start: date = date(2026, 3, 30),
                 extra: dict | None = None, night_ok: bool = True) -> Scenario:
    """A one-site scenario with `n_agents` agents (agent i gets ``skills[i]``)."""
    qs = tuple(Queue(q, "client", Channel.VOICE, "fr", "FR") for q in queues)
    agents = tuple(
        Agent(f"a{i + 1}", f"Agent {i + 1}", site.name,
              skills[i] if skills else queues, contract_hours, 4.0, 10.0, night_ok)
        for i in range(n_agents))
    return Scenario("toy", 900, (site,), qs, agents, plan_start, 7, "UTC",
                    extra=extra or {})


def flat_requirement(scenario: Scenario, agents: float | dict[str, np.ndarray] = 1.0,
                     ) -> pd.DataFrame:
    """A requirement table over the scenario's plan (plan_tz days), constant or per queue."""
    start = pd.Timestamp(datetime.combine(scenario.plan_start, time(0),
                                          tzinfo=ZoneInfo(scenario.plan_tz))).tz_convert("UTC")
    n = scenario.plan_days * 86400 // scenario.interval_s
    idx = pd.date_range(start, periods=n, freq=f"{scenario.interval_s}s")
    rows = []
    for q in scenario.queues:
        a = agents[q.id] if isinstance(agents, dict) else np.full(n, float(agents))
        rows.append(pd.DataFrame({"interval_start": idx, "queue": q.id, "agents": a}))
    return pd.concat(rows, ignore_index=True)


def _profile(local_hours: np.ndarray, peak_h: float) -> np.ndarray:
    """A smooth daily curve (low at night, peaks around `peak_h` local)."""
    x = np.cos((local_hours - peak_h) / 24 * 2 * np.pi)
    day = np.clip(np.sin((local_hours - 6) / 17 * np.pi), 0, None)
    return 0.15 + 0.55 * day + 0.3 * (x + 1) / 2


def generated_instance(n_agents: int = 500, *, n_skills: int = 6, seed: int = 0,
                       load: float = 0.85, plan_start: date = date(2026, 3, 30),
                       extra: dict | None = None) -> tuple[Scenario, pd.DataFrame]:
    """3 sites in 3 time zones, `n_skills` queues, 7 days of 15-min intervals.

    Every queue is served by at least two sites (follow the sun); about 30 % of agents
    carry two skills. The requirement totals `load` x the agents' productive hours.
    """
    rng = np.random.default_rng(seed)
    queue_tz = ("Europe/Paris", "America/New_York", "Asia/Manila", "Europe/Madrid",
                "America/Bogota", "Africa/Casablanca")
    qs = tuple(Queue(f"q{k + 1}", f"client{k % 3 + 1}", Channel.VOICE, "xx", "FR",
                     tz=queue_tz[k % len(queue_tz)]) for k in range(n_skills))
    site_skills = [[k for k in range(n_skills) if k % 3 != s] for s in range(3)]
    agents = []
    for i in range(n_agents):
        s = i % 3
        main = site_skills[s][int(rng.integers(len(site_skills[s])))]
        skills = [main]
        if rng.random() < 0.3:
            other = site_skills[s][int(rng.integers(len(site_skills[s])))]
            if other != main:
                skills.append(other)
        agents.append(Agent(f"A{i + 1:04d}", f"Agent {i + 1}", SITES[s].name,
                            tuple(qs[k].id for k in sorted(skills)), 40.0, 4.0, 10.0,
                            bool(rng.random() < 0.9)))
    sites = tuple(Site(s.name, s.country, s.tz, int(n_agents * 0.3), s.cost_per_hour, s.rules)
                  for s in SITES)
    sc = Scenario("generated", 900, sites, qs, tuple(agents), plan_start, 7, "UTC",
                  extra=extra or {})
    n = 7 * 96
    idx = pd.date_range(pd.Timestamp(datetime.combine(plan_start, time(0)), tz="UTC"),
                        periods=n, freq="15min")
    weights = np.zeros(n_skills)
    for a in agents:
        for k in a.skills:
            weights[int(k[1:]) - 1] += 1 / len(a.skills)
    productive_h = n_agents * 40.0 * 7.5 / 8.0
    rows = []
    for k, q in enumerate(qs):
        local = idx.tz_convert(q.tz)
        hours = local.hour + local.minute / 60
        shape = _profile(hours.to_numpy(), 14.0) * np.where(local.dayofweek >= 5, 0.7, 1.0)
        shape = shape * (1 + 0.05 * rng.standard_normal(n))
        share = weights[k] / weights.sum()
        total_h = load * productive_h * share
        agents_k = shape / shape.sum() * total_h * 4  # agent-hours -> agents per 15 min
        rows.append(pd.DataFrame({"interval_start": idx, "queue": q.id,
                                  "agents": np.round(agents_k, 1)}))
    return sc, pd.concat(rows, ignore_index=True)
