"""Who may do what: permissions are data, checked in one place (after NetBox).

`POLICY` maps (object type, action) to the roles that may do it; a role outside the set gets
403. Tenancy then narrows what a permitted role sees: the ``*_filter`` functions give the SQL
condition of the rows a principal may see (a planner: the client companies assigned; a team
leader: their team; an agent: themselves; a client viewer: their own client company, never
agent data). A row outside it answers 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import HTTPException, status

from openwfm.server.models import Agent, AgentSkill, Queue, Role, Skill

Action = Literal["read", "write"]
A, P, T, G, V, X, E = (Role.ADMIN, Role.PLANNER, Role.TEAM_LEADER, Role.AGENT,
                       Role.CLIENT_VIEWER, Role.ACD, Role.EVALUATOR)

POLICY: dict[tuple[str, Action], frozenset[Role]] = {
    ("client", "read"): frozenset({A, P, V}),
    ("client", "write"): frozenset({A}),
    ("site", "read"): frozenset({A, P, T}),
    ("site", "write"): frozenset({A, P}),
    ("queue", "read"): frozenset({A, P, T, V}),
    ("queue", "write"): frozenset({A, P}),
    ("team", "read"): frozenset({A, P, T}),
    ("team", "write"): frozenset({A, P}),
    ("agent", "read"): frozenset({A, P, T, G}),
    ("agent", "write"): frozenset({A, P}),
    ("agent_schedule", "read"): frozenset({A, P, T, G}),
    ("schedule", "read"): frozenset({A, P, T}),
    ("schedule", "write"): frozenset({A, P}),
    ("history", "read"): frozenset({A, P, V}),
    ("history", "write"): frozenset({A, P}),
    ("forecast", "read"): frozenset({A, P, V}),
    ("forecast", "write"): frozenset({A, P}),
    ("requirement", "read"): frozenset({A, P}),
    ("capacity", "read"): frozenset({A, P}),
    ("scenario", "read"): frozenset({A, P}),
    ("job", "read"): frozenset({A, P}),
    ("job", "write"): frozenset({A, P}),
    ("user", "read"): frozenset({A}),
    ("user", "write"): frozenset({A}),
    ("audit", "read"): frozenset({A}),
    ("rta_event", "write"): frozenset({A, X}),
    ("adherence", "read"): frozenset({A, P, T, G}),
    ("rta_exceptions", "read"): frozenset({A, P, T}),
    # queue actuals per interval (docs/rta.md): written by the ACD integration or a planner
    ("queue_actuals", "write"): frozenset({A, P, X}),
    ("queue_actuals", "read"): frozenset({A, P, T, V}),
    # the live queue state (contacts waiting now): the same roles as the actuals
    ("queue_state", "write"): frozenset({A, P, X}),
    ("queue_state", "read"): frozenset({A, P, T, V}),
    # the intraday view, re-optimization and accepting it (docs/intraday.md)
    ("intraday", "read"): frozenset({A, P}),
    ("intraday", "write"): frozenset({A, P}),
    # quality (docs/quality.md): an evaluator works for the client companies assigned; a
    # client viewer sees only aggregated scores of their own client, an agent only their
    # own evaluations and scores
    ("quality_form", "read"): frozenset({A, P, T, E, V}),
    ("quality_form", "write"): frozenset({A, P}),
    ("quality_evaluation", "read"): frozenset({A, P, T, G, E}),
    ("quality_evaluation", "write"): frozenset({A, E}),
    ("quality_dispute", "write"): frozenset({G}),
    ("quality_resolution", "write"): frozenset({A, T, E}),
    ("quality_score", "read"): frozenset({A, P, T, G, E, V}),
    ("coaching", "read"): frozenset({A, P, T, G, E}),
    ("coaching", "write"): frozenset({A, P, T}),
    ("calibration", "read"): frozenset({A, P, E}),
    ("calibration", "write"): frozenset({A, E}),
    ("request", "read"): frozenset({A, P, T, G}),
    ("request", "write"): frozenset({G}),
    ("request_decision", "write"): frozenset({A, T}),
    ("notification", "read"): frozenset({A, P, T, G, V}),
    ("calendar_token", "write"): frozenset({G}),
    ("bid", "read"): frozenset({A, P, T, G}),
    ("bid", "write"): frozenset({A, P}),
    ("bid_ranking", "write"): frozenset({G}),
    ("meeting", "write"): frozenset({A, P, T}),
    # an agent's availability and preferences for a period: the agent writes their own
    ("availability", "read"): frozenset({A, P, T, G}),
    ("availability", "write"): frozenset({G}),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the permission checks see it."""

    user_id: int
    username: str
    role: Role
    agent_id: str | None = None
    team_id: int | None = None
    client_id: int | None = None
    client_ids: frozenset[int] = frozenset()
    """Client companies a planner plans for."""


def allowed(p: Principal, object_type: str, action: Action) -> bool:
    """Whether the role of `p` may `action` objects of `object_type` at all.

    Examples
    --------
    >>> allowed(Principal(1, "v", Role.CLIENT_VIEWER, client_id=1), "agent", "read")
    False
    >>> allowed(Principal(1, "p", Role.PLANNER), "schedule", "write")
    True
    """
    return p.role in POLICY[(object_type, action)]


def require(p: Principal, object_type: str, action: Action) -> None:
    """Raise 403 unless the role of `p` may `action` objects of `object_type`."""
    if not allowed(p, object_type, action):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"role {p.role.value} may not {action} {object_type}")


def not_found(object_type: str, object_id: object) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {object_type} {object_id!r}")


def client_filter(p: Principal, client_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """Rows of the client companies `p` may see (by a client id column)."""
    if p.role in (Role.PLANNER, Role.EVALUATOR):
        return client_id.in_(sorted(p.client_ids))
    if p.role in (Role.CLIENT_VIEWER, Role.ACD):
        return client_id == p.client_id
    return sa.true()


def queue_filter(p: Principal, queue_id: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """Rows of the queues `p` may see (by a queue id column)."""
    if p.role in (Role.PLANNER, Role.CLIENT_VIEWER, Role.ACD):
        return queue_id.in_(sa.select(Queue.id).where(client_filter(p, Queue.client_id)))
    return sa.true()


def job_filter(p: Principal, kind: sa.ColumnElement[str],
               params: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """Jobs `p` may see: every plan job (the center's), and a re-optimization job only when
    `p` may see its queue (``params.queue_id``: a planner, their clients' queues)."""
    if p.role in (Role.PLANNER, Role.CLIENT_VIEWER, Role.ACD):
        return sa.or_(kind != "reoptimize", queue_filter(p, params["queue_id"].as_string()))
    return sa.true()


def agent_filter(p: Principal, agent_id: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """Rows about the agents `p` may see (by an agent id column)."""
    if p.role == Role.AGENT:
        return agent_id == (p.agent_id or "")
    if p.role == Role.TEAM_LEADER:
        return agent_id.in_(sa.select(Agent.id).where(Agent.team_id == p.team_id))
    if p.role in (Role.PLANNER, Role.ACD, Role.EVALUATOR):
        served = (sa.select(AgentSkill.agent_id)
                  .join(Skill, Skill.id == AgentSkill.skill_id)
                  .join(Queue, Queue.id == Skill.queue_id)
                  .where(client_filter(p, Queue.client_id)))
        return agent_id.in_(served)
    if p.role == Role.CLIENT_VIEWER:
        return sa.false()
    return sa.true()


def team_filter(p: Principal, team_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    if p.role == Role.TEAM_LEADER:
        return team_id == p.team_id
    return sa.true()
