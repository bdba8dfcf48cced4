"""The demo center's quality data: evaluation forms per client and channel, a month of
evaluations (March 2026) with realistic differences between sites, a calibration session,
and the month's contacts to sample from. Seeded and deterministic (no clock).

What is built in (docs/demo.md, "Quality"):

- forms: ``data/quality_voice.toml`` and ``data/quality_written.toml`` (chat and email) are
  the templates; each (client, channel) served by the center gets its form
  ``<client slug>-<channel>`` from the matching template;
- evaluations: every agent gets one evaluation a week (4 weeks), on a contact of one of
  their queues, by one of six evaluators. How well an agent works is drawn around their
  site's level (Casablanca highest, Bogota lowest and most uneven, `SITE_QUALITY`), and
  evaluator ``qa-6`` is lenient. Each item is answered by a binomial draw of its points with
  the agent's probability; a critical item fails with the site's rate;
- teams: the agents of each site in id order, in teams of `TEAM_SIZE` (``Casablanca 1``,
  ...), as ``openwfm serve --demo`` makes them;
- calibration: five evaluators score the same 10 RideNow voice contacts; ``qa-5`` is
  lenient by about one point on the larger scales and the ``empathy`` item is ambiguous
  (answers scatter), so both get flagged.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd

from openwfm.quality.evaluations import Evaluation, evaluate
from openwfm.quality.forms import Form, parse_form
from openwfm.scenario import Scenario, read_toml

__all__ = ["QualityDemo", "demo_forms", "quality_demo"]

SEED = 20260301
MONTH_START = datetime(2026, 3, 2, tzinfo=UTC)  # Monday
WEEKS = 4
TEAM_SIZE = 15
EVALUATORS = ("qa-1", "qa-2", "qa-3", "qa-4", "qa-5", "qa-6")
LENIENCY = {"qa-6": 0.05}
"""Added to the probability of full marks by a lenient evaluator."""
SITE_QUALITY: dict[str, tuple[float, float, float]] = {
    # (mean probability an item is met, spread between agents, critical failure rate)
    "Casablanca": (0.88, 0.04, 0.015),
    "Manila": (0.84, 0.05, 0.025),
    "Bogota": (0.78, 0.08, 0.05),
}
CONTACTS_PER_DAY = 20
CALIBRATION_FORM = "ridenow-voice"
CALIBRATION_EVALUATORS = ("qa-1", "qa-2", "qa-3", "qa-4", "qa-5")
CALIBRATION_CONTACTS = 10


def slug(text: str) -> str:
    """A name as an id part.

    >>> slug("Nordlys Travel")
    'nordlys-travel'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _template(channel: str) -> dict[str, Any]:
    name = "quality_voice.toml" if channel == "voice" else "quality_written.toml"
    return read_toml(str(files("openwfm.demo").joinpath("data", name)))


def demo_forms(scenario: Scenario) -> list[Form]:
    """One form per (client, channel) of the scenario's queues, in queue order."""
    out: dict[tuple[str, str], Form] = {}
    for q in scenario.queues:
        key = (q.client, q.channel.value if hasattr(q.channel, "value") else str(q.channel))
        if key in out:
            continue
        raw = _template(key[1])
        raw.update(id=f"{slug(key[0])}-{key[1]}", client=key[0], channel=key[1],
                   name=f"{key[0]} {key[1]} quality")
        out[key] = parse_form(raw, file=f"<demo form {key[0]} {key[1]}>")
    return list(out.values())


def teams(scenario: Scenario) -> dict[str, str]:
    """Agent id -> team name: each site's agents in id order, `TEAM_SIZE` a team."""
    out = {}
    for site in scenario.sites:
        ids = sorted(a.id for a in scenario.agents if a.site == site.name)
        for i, aid in enumerate(ids):
            out[aid] = f"{site.name} {i // TEAM_SIZE + 1}"
    return out


def _answers(form: Form, rng: np.random.Generator, p: float, crit_fail: float
             ) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for _, item in form.items():
        if item.na_allowed and rng.random() < 0.35:
            out[item.id] = None
        elif item.critical:
            out[item.id] = 0 if rng.random() < crit_fail else item.points
        else:
            out[item.id] = int(rng.binomial(item.points, min(max(p, 0.0), 1.0)))
    return out


@dataclass(frozen=True)
class QualityDemo:
    forms: list[Form]
    evaluations: list[Evaluation]
    """March 2026: one evaluation per agent and week."""
    calibration: list[Evaluation]
    """The calibration session (form `CALIBRATION_FORM`)."""
    contacts: pd.DataFrame
    """The month's handled contacts: contact_id, agent_id, queue, channel, handled_at."""

    def form(self, key_or_id: str) -> Form:
        return next(f for f in self.forms if key_or_id in (f.key, f.id))

    def form_of(self, ev: Evaluation) -> Form:
        return self.form(ev.form_key)


def quality_demo(scenario: Scenario, *, seed: int = SEED, contacts: bool = True
                 ) -> QualityDemo:
    """The demo's forms, evaluations, calibration session and contacts (module docstring)."""
    forms = demo_forms(scenario)
    by_key = {(f.client, f.channel.value): f for f in forms}
    queues = {q.id: q for q in scenario.queues}
    team_of = teams(scenario)
    rng = np.random.default_rng(seed)
    evals: list[Evaluation] = []
    rows: list[pd.DataFrame] = []
    for agent in sorted(scenario.agents, key=lambda a: a.id):
        mean, spread, crit = SITE_QUALITY.get(agent.site, (0.82, 0.05, 0.03))
        a_rng = np.random.default_rng([seed, zlib.crc32(agent.id.encode())])
        level = float(np.clip(a_rng.normal(mean, spread), 0.4, 0.99))
        for w in range(WEEKS):
            qid = agent.skills[int(a_rng.integers(len(agent.skills)))]
            q = queues[qid]
            form = by_key[(q.client, q.channel.value)]
            evaluator = EVALUATORS[int(a_rng.integers(len(EVALUATORS)))]
            p = level + LENIENCY.get(evaluator, 0.0)
            at = MONTH_START + timedelta(days=7 * w + int(a_rng.integers(5)),
                                         hours=int(a_rng.integers(6, 20)),
                                         minutes=int(a_rng.integers(60)))
            evals.append(evaluate(
                form, id=f"EV-{agent.id}-{w + 1}", contact_id=f"CT-{agent.id}-{w + 1}",
                agent_id=agent.id, evaluator_id=evaluator, evaluated_at=at,
                answers=_answers(form, a_rng, p, crit), queue=qid, site=agent.site,
                team=team_of[agent.id]))
        if contacts:
            n = CONTACTS_PER_DAY * 5 * WEEKS
            skill = np.asarray(agent.skills)[a_rng.integers(len(agent.skills), size=n)]
            offsets = np.sort(a_rng.integers(0, WEEKS * 7 * 86_400, size=n))
            rows.append(pd.DataFrame({
                "contact_id": [f"CT-{agent.id}-{i:05d}" for i in range(101, n + 101)],
                "agent_id": agent.id, "queue": skill,
                "channel": [queues[s].channel.value for s in skill],
                "handled_at": pd.Timestamp(MONTH_START) + pd.to_timedelta(offsets, unit="s")}))
    cal_form = next(f for f in forms if f.id == CALIBRATION_FORM)
    calibration: list[Evaluation] = []
    ride_agents = sorted(a.id for a in scenario.agents
                         if any(queues[s].client == cal_form.client
                                and queues[s].channel.value == "voice" for s in a.skills))
    for c in range(CALIBRATION_CONTACTS):
        truth = _answers(cal_form, rng, float(rng.uniform(0.55, 0.95)), 0.05)
        agent_id = ride_agents[c * 7 % len(ride_agents)]
        for evaluator in CALIBRATION_EVALUATORS:
            ans: dict[str, int | None] = {}
            for _, item in cal_form.items():
                t = truth[item.id]
                if t is None:
                    ans[item.id] = None
                    continue
                noise = 0
                if item.points > 1:
                    if item.id == "empathy":
                        noise = int(rng.integers(-2, 3))
                    elif rng.random() < 0.1:
                        noise = int(rng.choice([-1, 1]))
                    if evaluator == "qa-5" and rng.random() < 0.9:
                        noise += 1
                elif not item.critical and rng.random() < 0.03:
                    noise = 1 - 2 * t
                ans[item.id] = int(np.clip(t + noise, 0, item.points))
            calibration.append(evaluate(
                cal_form, id=f"CAL-{c + 1:02d}-{evaluator}", contact_id=f"CAL-CT-{c + 1:02d}",
                agent_id=agent_id, evaluator_id=evaluator,
                evaluated_at=datetime(2026, 3, 20, 14, tzinfo=UTC), answers=ans,
                queue="ride-en-voice", site=next(a.site for a in scenario.agents
                                                 if a.id == agent_id),
                team=team_of[agent_id]))
    return QualityDemo(forms=forms, evaluations=evals, calibration=calibration,
                       contacts=pd.concat(rows, ignore_index=True) if rows else
                       pd.DataFrame(columns=["contact_id", "agent_id", "queue", "channel",
                                             "handled_at"]))
