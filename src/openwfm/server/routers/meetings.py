"""The meeting scheduler on the server (docs/selfservice.md): a team leader or a planner
names the people (a team, a list), an activity (meeting, training, coaching, one-to-one), a
duration and a window; the domain (`openwfm.selfservice.meetings.place_meeting`, exact on
the candidate grid) proposes the start with the fewest contacts lost that the rule checker
and the seats accept; placing it adds the session to each person's published schedule as
the next version (``If-Match``: 409 when the schedule moved on), audited, recorded as an
approved ``activity`` request per person, and the people are notified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Header, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from openwfm.activities import Activity
from openwfm.selfservice import (
    ActivityChange,
    ChangeError,
    RequestKind,
    RequestStatus,
    apply_change,
    change_effect,
    place_meeting,
    validate_change,
)
from openwfm.server import audit
from openwfm.server import selfservice as svc
from openwfm.server.deps import CurrentUser, WriteDB, acting_user
from openwfm.server.models import Agent, Schedule, Site, StaffRequest
from openwfm.server.permissions import Principal, agent_filter, require
from openwfm.server.routers.common import WRITE_ERRORS
from openwfm.server.routers.selfservice import parse_if_match

router = APIRouter(tags=["self-service"])

SessionKind = Literal["meeting", "training", "coaching", "one_to_one"]
ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    422: {"description": "Unknown people, a bad window, or no start fits (the reason)"}}


class ProposeIn(BaseModel):
    """Who (``team_id`` and/or ``agent_ids``), what, how long and when (UTC window)."""

    model_config = ConfigDict(extra="forbid")
    schedule_id: int | None = Field(None, ge=1, le=2_147_483_647)
    team_id: int | None = Field(None, ge=1, le=2_147_483_647)
    agent_ids: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=200)
    activity: SessionKind = "meeting"
    title: str = Field("", max_length=200)
    duration_min: int = Field(ge=5, le=480)
    window_start: datetime
    window_end: datetime
    room_seats: int | None = Field(None, ge=1, le=10_000)
    step_min: int | None = Field(None, ge=5, le=240)


class ProposalOut(BaseModel):
    schedule_id: int
    schedule_version: int = Field(description="Send it as If-Match to place the session")
    people: list[str]
    activity: str
    title: str
    start: datetime
    end: datetime
    contacts_lost: float | None
    coverage_change_agent_h: float
    effect: dict[str, Any]
    feasible: int = Field(description="Starts in the window that fit every person and rule")
    candidates: int


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule_id: int = Field(ge=1, le=2_147_483_647)
    people: list[Annotated[str, Field(max_length=100)]] = Field(min_length=1, max_length=200)
    activity: SessionKind = "meeting"
    title: str = Field("", max_length=200)
    start: datetime
    end: datetime


class PlacedOut(BaseModel):
    schedule_id: int
    schedule_version: int
    request_ids: list[int]
    people: list[str]
    start: datetime
    end: datetime


def _people(session: Session, p: Principal, team_id: int | None,
            agent_ids: list[str]) -> list[str]:
    """The session's people, each one the user may schedule (a team leader: their team)."""
    people = list(dict.fromkeys(agent_ids))
    if team_id is not None:
        people += [a for a in session.scalars(sa.select(Agent.id).where(
            Agent.team_id == team_id).order_by(Agent.id)) if a not in people]
    if not people:
        raise svc.unprocessable("agent_ids", "name the people: a team_id or agent_ids")
    visible = set(session.scalars(sa.select(Agent.id).where(
        Agent.id.in_(people), agent_filter(p, Agent.id))))
    unknown = [a for a in people if a not in visible]
    if unknown:
        field = "team_id" if team_id is not None and not agent_ids else "agent_ids"
        raise svc.unprocessable(field, f"unknown agents or agents you do not lead or plan "
                                f"for: {', '.join(unknown[:20])}")
    return people


def _utc(t: datetime, field: str) -> pd.Timestamp:
    if t.tzinfo is None:
        raise svc.unprocessable(field, "a date-time with its UTC offset expected")
    return pd.Timestamp(t).tz_convert("UTC")


@router.post("/api/meetings/proposal", response_model=ProposalOut, responses=ERRORS)
def propose_meeting(body: ProposeIn, p: CurrentUser, session: WriteDB) -> ProposalOut:
    """Where the session costs the service least (nothing is written)."""
    require(p, "meeting", "write")
    people = _people(session, p, body.team_id, body.agent_ids)
    w0, w1 = _utc(body.window_start, "window_start"), _utc(body.window_end, "window_end")
    if w1 - w0 < pd.Timedelta(minutes=body.duration_min) or w1 - w0 > pd.Timedelta(days=14):
        raise svc.unprocessable("window_end", f"the window must hold the {body.duration_min} "
                                "min and last at most 14 days")
    sched = svc.schedule_for(session, w0.to_pydatetime(), body.schedule_id)
    ctx = svc.context(session, sched)
    try:
        m = place_meeting(ctx.problem, ctx.requirement, ctx.segments, people,
                          body.duration_min, w0, w1, activity=Activity(body.activity),
                          room_seats=body.room_seats, step_min=body.step_min)
    except ChangeError as e:
        raise svc.unprocessable("window_start", str(e)) from None
    eff = m.effect.as_dict()
    session.rollback()  # a proposal writes nothing
    return ProposalOut(schedule_id=sched.id, schedule_version=ctx.version_number,
                       people=list(m.people), activity=body.activity, title=body.title,
                       start=m.start.to_pydatetime(), end=m.end.to_pydatetime(),
                       contacts_lost=eff.get("contacts_lost"),
                       coverage_change_agent_h=eff.get("coverage_change_agent_h", 0.0),
                       effect=eff, feasible=m.feasible, candidates=m.candidates)


@router.post("/api/meetings", response_model=PlacedOut, status_code=status.HTTP_201_CREATED,
             responses={**ERRORS, 409: {"description": "The schedule changed since"},
                        412: {"description": "If-Match is not a schedule version number"},
                        428: {"description": "If-Match header required"}})
def place_session(body: PlaceIn, p: CurrentUser, session: WriteDB, request: Request,
                  if_match: Annotated[str | None, Header()] = None) -> PlacedOut:
    """Add the session to each person's published schedule as the next version (re-checked
    by the rule checker; 409 when the schedule moved on since the version you saw)."""
    require(p, "meeting", "write")
    seen = parse_if_match(if_match)
    people = _people(session, p, None, body.people)
    start, end = _utc(body.start, "start"), _utc(body.end, "end")
    if end <= start:
        raise svc.unprocessable("end", "the session must end after it starts")
    sched = session.get(Schedule, body.schedule_id)
    if sched is None or sched.published_version_id is None:
        raise svc.unprocessable("schedule_id", f"no published schedule {body.schedule_id}")
    svc.claim(session, sched, seen)
    ctx = svc.context(session, sched)
    after = ctx.segments
    try:
        for a in people:
            after = apply_change(after, ActivityChange(a, start, end, Activity(body.activity)),
                                 ctx.sites)
    except ChangeError as e:
        raise svc.unprocessable("start", str(e)) from None
    bad = validate_change(ctx.problem, ctx.segments, after, tuple(people))
    if bad:
        raise svc.unprocessable("start", "the schedule would break: " + "; ".join(
            sorted({f"{v.rule} ({v.agent_id or 'site'}): {v.message}" for v in bad})))
    effect = change_effect(ctx.scenario, ctx.requirement, ctx.segments, after).as_dict()
    version = svc.publish_change(session, sched, after, tuple(people), p.user_id)
    now = datetime.now(UTC)
    change = {"start": start.isoformat(), "end": end.isoformat(), "activity": body.activity,
              "title": body.title}
    rows = [StaffRequest(kind=RequestKind.ACTIVITY.value, status=RequestStatus.APPROVED.value,
                         agent_id=a, other_agent_id=None, schedule_id=sched.id, change=change,
                         effect=effect, note=body.title, hours=0.0, decided_by=p.user_id,
                         decided_at=now, applied_version_id=version.id) for a in people]
    session.add_all(rows)
    session.flush()
    user = acting_user(session, p)
    audit.record(session, user, "place_meeting", "schedule", sched.id,
                 after={**change, "people": people, "schedule_version": version.number})
    tz = dict(session.execute(sa.select(Agent.id, Site.tz).join(
        Site, Site.id == Agent.site_id).where(Agent.id.in_(people))).all())
    mails: list[tuple[str, str]] = []
    what = body.activity.replace("_", "-")
    for r in rows:
        local = start.to_pydatetime().astimezone(ZoneInfo(tz.get(r.agent_id, "UTC")))
        mails += svc.notify(
            session, svc.users_of_agents(session, [r.agent_id]), "schedule_changed",
            f"A {what}{f' ({body.title})' if body.title else ''} is in your schedule on "
            f"{local:%a %d %b %H:%M} for {int((end - start) / timedelta(minutes=1))} min. "
            f"Schedule version {version.number} is published.", r.id)
    out = PlacedOut(schedule_id=sched.id, schedule_version=version.number,
                    request_ids=[r.id for r in rows], people=people,
                    start=start.to_pydatetime(), end=end.to_pydatetime())
    session.commit()
    svc.send_mail(request.app.state.settings, mails)
    return out

