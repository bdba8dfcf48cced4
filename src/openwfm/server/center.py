"""The center in the database and back: a `Scenario` (+ history) stored as rows, and the rows
read back as the scenario and interval table the planning functions take.

Going back uses `openwfm.scenario.scenario_from_dict`, the validation of a scenario file, so a
job plans exactly what a scenario file with the same content would.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.errors import InputError
from openwfm.scenario import Scenario, scenario_from_dict
from openwfm.server.models import (
    Agent,
    AgentSkill,
    Client,
    HistoryInterval,
    PlanSetup,
    Queue,
    Site,
    Skill,
)

HISTORY_COLUMNS = ("volume", "handled", "abandoned", "aht_s", "asa_s", "answered_within")


def store_scenario(session: Session, scenario: Scenario) -> dict[str, int]:
    """Add the scenario's client companies, sites, queues, skills, agents and plan set-up.

    Returns
    -------
    dict
        Client name -> client id.
    """
    clients: dict[str, int] = {}
    for name in sorted({q.client for q in scenario.queues}):
        c = Client(name=name)
        session.add(c)
        session.flush()
        clients[name] = c.id
    sites: dict[str, Site] = {}
    for s in scenario.sites:
        sites[s.name] = Site(name=s.name, country=s.country, tz=s.tz, seats=s.seats,
                             cost_per_hour=s.cost_per_hour, labour_pack=s.rules)
        session.add(sites[s.name])
    session.flush()
    for q in scenario.queues:
        session.add(Queue(id=q.id, client_id=clients[q.client], channel=q.channel.value,
                          language=q.language, market=q.market, tz=q.tz,
                          sl_target=q.goal.sl_target, answer_within_s=q.goal.answer_within_s,
                          max_asa_s=q.goal.max_asa_s, max_abandon=q.goal.max_abandon,
                          max_occupancy=q.goal.max_occupancy, patience_s=q.patience_s,
                          concurrency=q.concurrency, priority=q.priority))
    session.flush()
    for q in scenario.queues:
        session.add(Skill(id=q.id, queue_id=q.id))
    session.flush()
    for a in scenario.agents:
        site = sites[a.site]
        agent = Agent(id=a.id, name=a.name, site_id=site.id, tz=site.tz,
                      contract_hours=a.contract_hours, labour_pack=site.labour_pack,
                      min_shift_h=a.min_shift_h, max_shift_h=a.max_shift_h, night_ok=a.night_ok,
                      hire_date=a.hire_date)
        agent.skills = [AgentSkill(skill_id=s, proficiency=1.0, rank=i)
                        for i, s in enumerate(a.skills)]
        session.add(agent)
    session.add(PlanSetup(name=scenario.name, interval_s=scenario.interval_s,
                          plan_start=scenario.plan_start, plan_days=scenario.plan_days,
                          plan_tz=scenario.plan_tz, shrinkage=scenario.shrinkage,
                          extra=scenario.extra))
    session.flush()
    return clients


def store_history(session: Session, history: pd.DataFrame, interval_s: int,
                  import_id: int | None = None) -> int:
    """Add an interval table's rows (bulk insert); returns the number of rows."""
    starts = history["interval_start"].dt.tz_convert("UTC").dt.tz_localize(None)
    frame = pd.DataFrame({"queue_id": history["queue"].astype(str).to_numpy(),
                          "interval_start": starts.to_numpy(), "interval_s": interval_s,
                          "import_id": import_id})
    for c in HISTORY_COLUMNS:
        frame[c] = history[c].to_numpy(dtype=float) if c in history else np.nan
    frame["volume"] = frame["volume"].fillna(0.0)
    # naive UTC through the Core table (bypasses UTCDateTime, which wants aware values)
    table = HistoryInterval.__table__
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    conn = session.connection()
    raw = sa.Table(table.name, sa.MetaData(),
                   *[sa.Column(c.name, sa.DateTime if c.name == "interval_start" else c.type)
                     for c in table.columns if c.name != "id"])
    for i in range(0, len(records), 20_000):
        conn.execute(raw.insert(), records[i:i + 20_000])
    return len(records)


def load_scenario_from_db(session: Session) -> Scenario:
    """The center as a `Scenario` (the newest plan set-up), through the scenario-file
    validation (`scenario_from_dict`)."""
    setup = session.scalar(sa.select(PlanSetup).order_by(PlanSetup.id.desc()).limit(1))
    if setup is None:
        raise InputError("the server has no plan set-up (interval, plan window); load a "
                         "scenario first (openwfm serve --demo loads the demo center)")
    raw: dict[str, Any] = {
        "name": setup.name, "interval_s": setup.interval_s,
        "plan_start": setup.plan_start.isoformat(), "plan_days": setup.plan_days,
        "plan_tz": setup.plan_tz, "shrinkage": setup.shrinkage, **(setup.extra or {}),
    }
    raw["sites"] = [{"name": s.name, "country": s.country, "tz": s.tz, "seats": s.seats,
                     "cost_per_hour": s.cost_per_hour, "rules": s.labour_pack}
                    for s in session.scalars(sa.select(Site).order_by(Site.id))]
    clients = dict(session.execute(sa.select(Client.id, Client.name)).all())
    queues = []
    for q in session.scalars(sa.select(Queue).order_by(Queue.id)):
        t: dict[str, Any] = {"id": q.id, "client": clients[q.client_id], "channel": q.channel,
                             "language": q.language, "market": q.market, "tz": q.tz,
                             "sl_target": q.sl_target, "answer_within_s": q.answer_within_s,
                             "concurrency": q.concurrency, "priority": q.priority}
        for k in ("max_asa_s", "max_abandon", "max_occupancy", "patience_s"):
            if getattr(q, k) is not None:
                t[k] = getattr(q, k)
        queues.append(t)
    raw["queues"] = queues
    site_names = {s.id: s.name for s in session.scalars(sa.select(Site))}
    skill_queue = dict(session.execute(sa.select(Skill.id, Skill.queue_id)).all())
    raw["agents"] = [
        {"id": a.id, "name": a.name, "site": site_names[a.site_id],
         "skills": [skill_queue.get(s.skill_id) or s.skill_id for s in a.skills],
         "contract_hours": a.contract_hours, "min_shift_h": a.min_shift_h,
         "max_shift_h": a.max_shift_h, "night_ok": a.night_ok,
         **({"hire_date": a.hire_date.isoformat()} if a.hire_date else {})}
        for a in session.scalars(sa.select(Agent).order_by(Agent.id))]
    with tempfile.TemporaryDirectory() as tmp:
        return scenario_from_dict(raw, base=Path(tmp), file="<server database>")


def load_history_from_db(session: Session) -> pd.DataFrame:
    """Every stored history row as an interval table (docs/architecture.md)."""
    t = HistoryInterval.__table__
    rows = session.execute(sa.select(t.c.queue_id, t.c.interval_start,
                                     *[t.c[c] for c in HISTORY_COLUMNS])
                           .order_by(t.c.queue_id, t.c.interval_start)).all()
    frame = pd.DataFrame(rows, columns=["queue", "interval_start", *HISTORY_COLUMNS])
    frame["interval_start"] = pd.to_datetime(
        [r.replace(tzinfo=None) for r in frame["interval_start"]] if len(frame) else [],
    ).tz_localize("UTC") if len(frame) else pd.Series([], dtype="datetime64[ns, UTC]")
    for c in HISTORY_COLUMNS:
        frame[c] = frame[c].astype(float)
    return frame
