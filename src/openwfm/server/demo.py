"""`openwfm serve --demo`: the demo center (openwfm.demo) with its teams and demo users.

Teams are derived deterministically: the agents of each site in id order, in teams of
`TEAM_SIZE`. Users: ``admin``, ``planner`` (every client company), one team leader per team
(``lead-<site>-<n>``), every agent (user name = agent id) and one viewer per client company
(``viewer-<client>``), and the quality evaluators ``qa-1`` .. ``qa-6`` (every client company)
with the demo's quality month (`openwfm.server.quality.load_quality_demo`). They share one
password; its argon2 hash is computed once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.server.center import store_history, store_scenario
from openwfm.server.models import Agent, Client, PlannerClient, Role, Site, Team, User
from openwfm.server.security import hash_password

TEAM_SIZE = 15


def slug(text: str) -> str:
    """
    Examples
    --------
    >>> slug("Bogota"), slug("Nordic Telecom AB")
    ('bogota', 'nordic-telecom-ab')
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class DemoLoad:
    users: int
    teams: int
    agents: int
    history_rows: int


def make_teams(session: Session, team_size: int = TEAM_SIZE) -> list[Team]:
    """Teams of `team_size` agents per site, agents in id order (deterministic)."""
    teams = []
    for site in session.scalars(sa.select(Site).order_by(Site.name)):
        agents = session.scalars(sa.select(Agent).where(Agent.site_id == site.id)
                                 .order_by(Agent.id)).all()
        for n, i in enumerate(range(0, len(agents), team_size), start=1):
            team = Team(name=f"{site.name} {n}", site_id=site.id)
            session.add(team)
            session.flush()
            for a in agents[i:i + team_size]:
                a.team_id = team.id
            teams.append(team)
    session.flush()
    return teams


def make_users(session: Session, password: str) -> int:
    """The demo users (see the module docstring); returns how many."""
    h = hash_password(password)
    n = 0

    def add(**kw: object) -> User:
        nonlocal n
        user = User(password_hash=h, **kw)
        session.add(user)
        n += 1
        return user

    add(username="admin", role=Role.ADMIN.value)
    planner = add(username="planner", role=Role.PLANNER.value)
    session.flush()
    for c in session.scalars(sa.select(Client).order_by(Client.id)):
        session.add(PlannerClient(user_id=planner.id, client_id=c.id))
        add(username=f"viewer-{slug(c.name)}", role=Role.CLIENT_VIEWER.value, client_id=c.id)
    sites = {s.id: s.name for s in session.scalars(sa.select(Site))}
    for team in session.scalars(sa.select(Team).order_by(Team.id)):
        number = team.name.rsplit(" ", 1)[-1]
        leader = add(username=f"lead-{slug(sites[team.site_id])}-{number}",
                     role=Role.TEAM_LEADER.value, team_id=team.id)
        session.flush()
        team.leader_user_id = leader.id
    for a in session.scalars(sa.select(Agent).order_by(Agent.id)):
        add(username=a.id, role=Role.AGENT.value, agent_id=a.id)
    session.flush()
    return n


def load_demo(session: Session, password: str, *, history: bool = True,
              quality: bool = True) -> DemoLoad:
    """Load the demo center, its teams and users (and with `quality` the quality month)
    into an empty database."""
    from openwfm.demo import demo_history, demo_scenario

    if session.scalar(sa.select(sa.func.count()).select_from(Agent)):
        raise RuntimeError("the database already holds a center")
    scenario = demo_scenario()
    store_scenario(session, scenario)
    rows = store_history(session, demo_history(scenario), scenario.interval_s) if history else 0
    teams = make_teams(session)
    users = make_users(session, password)
    if quality:
        from openwfm.server.quality import load_quality_demo

        admin_hash = session.scalar(sa.select(User.password_hash)
                                    .where(User.username == "admin"))
        users += load_quality_demo(session, str(admin_hash))["evaluators"]
    return DemoLoad(users=users, teams=len(teams), agents=len(scenario.agents),
                    history_rows=rows)
