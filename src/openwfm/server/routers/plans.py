"""What the plan jobs store, to read: requirements (agents needed per queue and interval),
capacity plans (summary and tables) and the plan set-ups (scenarios) they were made with.
Admin and planners; a planner sees the rows of their client companies' queues."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from openwfm.server.deps import CurrentUser, ReadDB
from openwfm.server.models import (
    CapacityPlan,
    Client,
    PlanSetup,
    Queue,
    Requirement,
    RequirementInterval,
    Role,
)
from openwfm.server.permissions import Principal, client_filter, queue_filter, require
from openwfm.server.routers.common import AUTH_ERRORS, Id, get_visible
from openwfm.server.schemas import (
    CapacityPlanDetail,
    CapacityPlanOut,
    PlanSetupOut,
    RequirementOut,
    RequirementRowOut,
)

router = APIRouter(tags=["plans"])


@router.get("/api/requirements", response_model=list[RequirementOut], responses=AUTH_ERRORS)
async def list_requirements(p: CurrentUser, session: ReadDB) -> list[Requirement]:
    """Requirements (staffing needed per queue and interval), newest first."""
    require(p, "requirement", "read")
    return list(session.scalars(sa.select(Requirement).order_by(Requirement.id.desc())))


@router.get("/api/requirements/{requirement_id}", response_model=RequirementOut,
            responses=AUTH_ERRORS)
async def get_requirement(requirement_id: Id, p: CurrentUser, session: ReadDB) -> Requirement:
    require(p, "requirement", "read")
    return get_visible(session, Requirement, requirement_id)


@router.get("/api/requirements/{requirement_id}/intervals",
            response_model=list[RequirementRowOut], responses=AUTH_ERRORS)
async def requirement_intervals(
    requirement_id: Id, p: CurrentUser, session: ReadDB,
    queue_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> list[RequirementInterval]:
    """Agents required (and scheduled, and the service level) per queue and interval (UTC)
    of the queues this user may see."""
    require(p, "requirement", "read")
    get_visible(session, Requirement, requirement_id)
    stmt = sa.select(RequirementInterval).where(
        RequirementInterval.requirement_id == requirement_id,
        queue_filter(p, RequirementInterval.queue_id))
    if queue_id is not None:
        stmt = stmt.where(RequirementInterval.queue_id == queue_id)
    return list(session.scalars(stmt.order_by(RequirementInterval.queue_id,
                                              RequirementInterval.interval_start).limit(limit)))


@router.get("/api/capacity-plans", response_model=list[CapacityPlanOut], responses=AUTH_ERRORS)
async def list_capacity_plans(p: CurrentUser, session: ReadDB) -> list[Any]:
    """Capacity plans (hiring and seats over the horizon), newest first."""
    require(p, "capacity", "read")
    return list(session.execute(sa.select(CapacityPlan.id, CapacityPlan.name,
                                          CapacityPlan.job_id, CapacityPlan.created_at)
                                .order_by(CapacityPlan.id.desc())).all())


@router.get("/api/capacity-plans/{plan_id}", response_model=CapacityPlanDetail,
            responses=AUTH_ERRORS)
async def get_capacity_plan(plan_id: Id, p: CurrentUser, session: ReadDB) -> CapacityPlanDetail:
    """A capacity plan: its summary lines and tables. For a planner, the rows of a table
    with a queue column are those of their client companies' queues."""
    require(p, "capacity", "read")
    plan = get_visible(session, CapacityPlan, plan_id)
    return CapacityPlanDetail(id=plan.id, name=plan.name, job_id=plan.job_id,
                              created_at=plan.created_at,
                              summary=[[str(x) for x in line] for line in plan.summary or []],
                              tables=visible_plan_tables(session, p, plan))


#: Tables of a capacity plan that sum every client's groups (a site's seats and costs, the
#: scenarios' totals, the solver): shown to those who see every skill group only.
CENTER_WIDE_TABLES = ("site_plan", "scenarios", "solver", "limits")


def visible_plan_tables(session: Session, p: Principal, plan: CapacityPlan
                        ) -> dict[str, list[dict[str, Any]]]:
    """The tables of `plan` this user may see. Admin: all. A planner: the rows with a
    ``queue`` of their client companies' queues (a queue the plan launches, not stored
    yet, by its client in ``skill_queues``), the rows with a ``skill`` of the skill
    groups whose queues are all theirs (``skill_queues``), and the center-wide tables only
    when they see every skill group."""
    tables: dict[str, list[dict[str, Any]]] = dict(plan.tables or {})
    if p.role != Role.PLANNER:
        return tables
    mine = set(session.scalars(sa.select(Queue.id).where(queue_filter(p, Queue.id))))
    stored = set(session.scalars(sa.select(Queue.id)))
    my_clients = set(session.scalars(sa.select(Client.name).where(
        client_filter(p, Client.id))))
    # a queue the plan launches (not stored yet) is its client's
    mine |= {r["queue"] for r in tables.get("skill_queues", [])
             if r["queue"] not in stored and r.get("client") in my_clients}
    queues_of: dict[str, set[str]] = {}
    for r in tables.get("skill_queues", []):
        queues_of.setdefault(r["skill"], set()).add(r["queue"])
    skills = {k for k, qs in queues_of.items() if qs <= mine}
    every = set(queues_of) == skills and bool(queues_of)
    out = {}
    for name, rows in tables.items():
        if name in CENTER_WIDE_TABLES and not every:
            continue
        out[name] = [r for r in rows
                     if ("queue" not in r or r["queue"] in mine)
                     and ("skill" not in r or "queue" in r or r["skill"] in skills)]
    return out


@router.get("/api/scenarios", response_model=list[PlanSetupOut], responses=AUTH_ERRORS)
async def list_scenarios(p: CurrentUser, session: ReadDB) -> list[PlanSetup]:
    """The plan set-ups (interval, plan window, shrinkage and the scenario sections of the
    packages) the jobs plan with; the newest is the current one."""
    require(p, "scenario", "read")
    return list(session.scalars(sa.select(PlanSetup).order_by(PlanSetup.id.desc())))


@router.get("/api/scenarios/{scenario_id}", response_model=PlanSetupOut, responses=AUTH_ERRORS)
async def get_scenario(scenario_id: Id, p: CurrentUser, session: ReadDB) -> PlanSetup:
    require(p, "scenario", "read")
    return get_visible(session, PlanSetup, scenario_id)
