"""An agent's availability and preferences for a schedule period (docs/selfservice.md):
the agent edits their own; team leaders read their team's, planners their clients' agents',
admin all. Validated by the scheduler's own parsers (`openwfm.server.availability`); a job
schedules with them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from openwfm.scheduling.preferences import PreferenceKind
from openwfm.server import audit
from openwfm.server import availability as av
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Agent, Role
from openwfm.server.permissions import Principal, agent_filter, not_found, require
from openwfm.server.routers.agents import AgentId
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, get_visible

router = APIRouter(prefix="/api/agents", tags=["self-service"])

PeriodStart = Annotated[date | None, Query(
    description="First local day of the period (the plan start's weekday); default: the "
    "plan set-up's plan_start, the next period the scheduler plans")]


class PreferenceIn(BaseModel):
    """A soft wish, as a row of the scheduler's preferences file: ``day_off`` (ISO date in
    the period or weekday name), ``start_between`` (``HH:MM-HH:MM`` local), ``max_nights``
    (integer >= 0); ``weight`` >= 0 (default 1)."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=40, examples=["start_between"])
    value: str = Field(max_length=40, examples=["14:00-23:30"])
    weight: float | None = Field(None, examples=[1.0])


class UnavailableIn(BaseModel):
    """When the agent cannot work: ISO datetimes, local to the agent's site when naive."""

    model_config = ConfigDict(extra="forbid")
    start: str = Field(max_length=40, examples=["2026-03-31T00:00"])
    end: str = Field(max_length=40, examples=["2026-04-01T00:00"])


class WishesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    preferences: list[PreferenceIn] = Field([], max_length=50)
    unavailable: list[UnavailableIn] = Field([], max_length=50)


class PreferenceOut(BaseModel):
    kind: str
    value: str
    weight: float


class UnavailableOut(BaseModel):
    start: datetime = Field(description="Local time at the agent's site, with its offset")
    end: datetime


class WishesOut(BaseModel):
    agent_id: str
    period_start: date
    period_end: date = Field(description="First local day after the period")
    tz: str = Field(description="The agent's site zone (IANA)")
    preferences: list[PreferenceOut]
    unavailable: list[UnavailableOut]
    kinds: list[str] = Field(description="The kinds of wishes the scheduler understands")


def _agent(session: Session, p: Principal, agent_id: str) -> Agent:
    return get_visible(session, Agent, agent_id, agent_filter(p, Agent.id))


def _out(session: Session, agent_id: str, period: av.Period) -> WishesOut:
    prefs, times = av.stored_wishes(session, agent_id, period.start)
    return WishesOut(
        agent_id=agent_id, period_start=period.start, period_end=period.end,
        tz=period.zone.key,
        preferences=[PreferenceOut(kind=x.kind, value=x.value, weight=x.weight)
                     for x in prefs],
        unavailable=[UnavailableOut(start=x.start.astimezone(period.zone),
                                    end=x.end.astimezone(period.zone)) for x in times],
        kinds=[k.value for k in PreferenceKind])


@router.get("/{agent_id}/preferences", response_model=WishesOut, responses=AUTH_ERRORS)
def get_preferences(agent_id: AgentId, p: CurrentUser, session: ReadDB,
                    period_start: PeriodStart = None) -> WishesOut:
    """The agent's availability and preferences for the period."""
    require(p, "availability", "read")
    agent = _agent(session, p, agent_id)
    return _out(session, agent.id, av.period_for(session, agent, period_start))


@router.put("/{agent_id}/preferences", response_model=WishesOut,
            responses={**WRITE_ERRORS, 422: {"description": "A wish the scheduler does not "
                                                            "accept (field named)"}})
def put_preferences(agent_id: AgentId, body: WishesIn, p: CurrentUser, session: WriteDB,
                    period_start: PeriodStart = None) -> WishesOut:
    """Replace the signed-in agent's availability and preferences for the period (audited).
    Only the agent themselves may write them."""
    require(p, "availability", "write")
    agent = _agent(session, p, agent_id)
    if p.role != Role.AGENT or agent.id != p.agent_id:  # only one's own
        raise not_found("agent", agent_id)
    period = av.period_for(session, agent, period_start)
    prefs, times = av.parse_wishes(
        agent.id, period, [(x.kind, x.value, x.weight) for x in body.preferences],
        [(x.start, x.end) for x in body.unavailable])
    before = _out(session, agent.id, period)
    av.store_wishes(session, agent.id, period, prefs, times)
    after = _out(session, agent.id, period)
    audit.record(session, acting_user(session, p), "update", "agent_preferences",
                 f"{agent.id}/{period.start}", before=before.model_dump(mode="json"),
                 after=after.model_dump(mode="json"))
    return after
