"""Self-service endpoints: agents' requests (time off, VTO, swaps, offers), the team
leader's approval queue with the effect of each request, decisions applied to the published
schedule as a new version, in-app/e-mail notifications, and the agent's iCalendar
subscription URL (docs/selfservice.md)."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from openwfm.io.ical import agent_calendar
from openwfm.selfservice import RequestKind, RequestStatus
from openwfm.selfservice.changes import hours_off
from openwfm.selfservice.effect import Effect
from openwfm.selfservice.requests import TransitionError, next_status
from openwfm.server import audit
from openwfm.server import selfservice as svc
from openwfm.server.center import load_scenario_from_db
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import (
    Agent,
    CalendarToken,
    ContactAddress,
    Notification,
    Schedule,
    ScheduleVersion,
    Site,
    StaffRequest,
)
from openwfm.server.permissions import Principal, agent_filter, not_found, require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id

router = APIRouter(tags=["self-service"])

DECIDE_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    412: {"description": "If-Match is not a schedule version number"},
    422: {"description": "The change does not apply or breaks a rule (named)"},
    428: {"description": "If-Match header required"},
}
Kind = Literal["time_off", "voluntary_time_off", "swap", "offer"]


class RequestIn(BaseModel):
    """A request: time off / VTO (``start``, ``end``), a swap (``shift_start``,
    ``other_agent_id``, ``other_shift_start``) or an offer (``shift_start``, optionally
    ``other_agent_id``; without one, any qualified agent of the team may take it)."""

    model_config = ConfigDict(extra="forbid")
    kind: Kind
    schedule_id: int | None = Field(None, ge=1, le=2_147_483_647)
    start: datetime | None = None
    end: datetime | None = None
    shift_start: datetime | None = None
    other_agent_id: str | None = Field(None, max_length=100)
    other_shift_start: datetime | None = None


class RequestOut(BaseModel):
    id: int
    kind: str
    status: str
    agent_id: str
    other_agent_id: str | None
    schedule_id: int
    schedule_version: int | None = Field(
        description="The published version now: send it as If-Match to decide")
    change: dict[str, Any]
    effect: dict[str, Any] | None
    note: str
    hours: float
    created_at: datetime
    decided_at: datetime | None
    applied_version: int | None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    message: str
    request_id: int | None
    created_at: datetime
    read_at: datetime | None
    emailed_to: str | None


class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CalendarOut(BaseModel):
    url: str
    token: str


def _visible(p: Principal) -> sa.ColumnElement[bool]:
    if p.role.value == "agent":
        team = sa.select(Agent.team_id).where(Agent.id == (p.agent_id or "")).scalar_subquery()
        open_offer = sa.and_(StaffRequest.kind == RequestKind.OFFER.value,
                             StaffRequest.other_agent_id.is_(None),
                             StaffRequest.agent_id.in_(sa.select(Agent.id).where(
                                 Agent.team_id == team)))
        return sa.or_(StaffRequest.agent_id == p.agent_id,
                      StaffRequest.other_agent_id == p.agent_id, open_offer)
    return agent_filter(p, StaffRequest.agent_id)


def _get(session: Session, p: Principal, request_id: int) -> StaffRequest:
    r = session.scalar(sa.select(StaffRequest).where(StaffRequest.id == request_id,
                                                     _visible(p)))
    if r is None:
        raise not_found("request", request_id)
    return r


def _out(session: Session, r: StaffRequest) -> RequestOut:
    sched = session.get(Schedule, r.schedule_id)
    applied = None
    if r.applied_version_id is not None:
        applied = session.scalar(sa.select(ScheduleVersion.number).where(
            ScheduleVersion.id == r.applied_version_id))
    return RequestOut(
        id=r.id, kind=r.kind, status=r.status, agent_id=r.agent_id,
        other_agent_id=r.other_agent_id, schedule_id=r.schedule_id,
        schedule_version=svc.published_number(session, sched) if sched else None,
        change=r.change, effect=r.effect, note=r.note, hours=r.hours,
        created_at=r.created_at, decided_at=r.decided_at, applied_version=applied)


def parse_if_match(value: str | None) -> int:
    if value is None:
        raise HTTPException(status.HTTP_428_PRECONDITION_REQUIRED,
                            "send If-Match with the schedule version you decided on "
                            "(schedule_version of GET /api/requests/{id})")
    try:
        return int(value.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED,
                            f"If-Match {value!r} is not a schedule version number") from None


def _event(r: StaffRequest, event: str) -> RequestStatus:
    try:
        return next_status(r.status, event)
    except TransitionError as e:
        raise svc.conflict(f"request {r.id}: {e}") from None


def _apply(session: Session, p: Principal, r: StaffRequest, sched: Schedule,
           seen: int, event: str) -> list[tuple[str, str]]:
    """Apply `r` to the published schedule as a new version (or reject it when it no
    longer passes the rules); returns the e-mails to send after the commit. An
    auto-approval is audited under the user whose action triggered it (action
    ``auto_approve``) and decided by nobody."""
    svc.claim(session, sched, seen)
    ctx = svc.context(session, sched)
    change = svc.change_of(RequestKind(r.kind), r.agent_id, r.change, r.other_agent_id)
    new = _event(r, event)
    old_status = r.status
    user = acting_user(session, p)
    decider = None if event == "auto_approve" else user.id
    try:
        after, effect = svc.preview(ctx, change)
        if r.kind == RequestKind.TIME_OFF.value:
            allowance = svc.allowance_for(session, ctx.scenario, r.agent_id)
            h = hours_off(ctx.segments, after, r.agent_id)
            on = change.start.date()  # type: ignore[union-attr]
            taken = svc.leave_taken_h(session, r.agent_id, allowance, on)
            if not allowance.allows(on, taken, h):
                raise svc.unprocessable("change", f"{h:g} h asked, the allowance has "
                                        f"{allowance.balance_h(on, taken):g} h left")
    except HTTPException as e:
        reason = e.detail[0]["msg"] if isinstance(e.detail, list) else str(e.detail)
        r.status, r.note, r.decided_at = RequestStatus.REJECTED.value, reason, datetime.now(UTC)
        r.decided_by = decider
        audit.record(session, user, "reject", "request", r.id, before={"status": old_status},
                     after={"status": r.status, "note": reason})
        return svc.notify(session, svc.users_of_agents(session, list(change.agents())),
                          "request_decided", f"Your {r.kind.replace('_', ' ')} request #{r.id} "
                          f"was refused: {reason}", r.id)
    version = svc.publish_change(session, sched, after, change.agents(), decider)
    r.status, r.effect, r.decided_at = new.value, effect, datetime.now(UTC)
    r.decided_by = decider
    r.applied_version_id = version.id
    audit.record(session, user, event, "request", r.id, before={"status": old_status},
                 after={"status": r.status, "schedule_version": version.number})
    how = "approved" if new is RequestStatus.APPROVED else "approved automatically (rule)"
    return svc.notify(session, svc.users_of_agents(session, list(change.agents())),
                      "request_decided", f"Your {r.kind.replace('_', ' ')} request #{r.id} was "
                      f"{how}. Schedule version {version.number} is published.", r.id)


def _after_pending(session: Session, p: Principal, r: StaffRequest, sched: Schedule,
                   ctx: svc.Context) -> list[tuple[str, str]]:
    """Auto-approve by rule, or put the request in the team leader's queue."""
    rule = svc.approval_rule_of(ctx.scenario)
    team = session.scalar(sa.select(Agent.team_id).where(Agent.id == r.agent_id))
    day = str(r.change.get("start") or r.change.get("shift_start"))[:10]
    done_today = sum(
        1 for c in session.scalars(sa.select(StaffRequest.change).where(
            StaffRequest.status == RequestStatus.AUTO_APPROVED.value,
            StaffRequest.agent_id.in_(sa.select(Agent.id).where(Agent.team_id == team))))
        if str(c.get("start") or c.get("shift_start"))[:10] == day)
    e = r.effect or {}
    decision = rule.decide(r.kind, Effect(pd.DataFrame(), e.get("coverage_change_agent_h", 0.0),
                                          e.get("contacts_lost"), e.get("worst_sl_after")),
                           done_today)
    if decision.auto:
        return _apply(session, p, r, sched, ctx.version_number, "auto_approve")
    r.status = RequestStatus.PENDING_APPROVAL.value
    r.note = "; ".join(decision.reasons)
    return svc.notify(session, svc.leaders_of(session, r.agent_id), "request_pending",
                      f"{r.agent_id} asks for {r.kind.replace('_', ' ')} (request #{r.id}); "
                      f"effect: {e.get('coverage_change_agent_h', 0):+.2f} agent-h, "
                      f"{e.get('contacts_lost') or 0:.1f} contacts lost.", r.id)


@router.post("/api/requests", response_model=RequestOut, status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 422: {"description": "The change does not apply or "
                                                             "breaks a rule (named)"}})
def create_request(body: RequestIn, p: CurrentUser, session: WriteDB, request: Request
                   ) -> RequestOut:
    """An agent's request on their published schedule, with its effect; auto-approved when
    the plan's rule allows, else to the other agent (swap, offer) or the team leader."""
    require(p, "request", "write")
    kind = RequestKind(body.kind)
    need = {"time_off": ("start", "end"), "voluntary_time_off": ("start", "end"),
            "swap": ("shift_start", "other_agent_id", "other_shift_start"),
            "offer": ("shift_start",)}[kind.value]
    for f in need:
        if getattr(body, f) is None:
            raise svc.unprocessable(f, f"required for a {kind.value} request")
    data = {k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in body.model_dump(exclude={"kind", "schedule_id"}).items()
            if v is not None}
    at = body.start or body.shift_start
    assert at is not None
    sched = svc.schedule_for(session, at, body.schedule_id)
    agent_id = p.agent_id or ""
    if body.other_agent_id is not None and session.get(Agent, body.other_agent_id) is None:
        raise svc.unprocessable("other_agent_id", f"no agent {body.other_agent_id!r}")
    ctx = svc.context(session, sched)
    change = svc.change_of(kind, agent_id, data, body.other_agent_id)
    effect: dict[str, Any] | None = None
    hours = 0.0
    if not (kind is RequestKind.OFFER and body.other_agent_id is None):
        after, effect = svc.preview(ctx, change)
        hours = hours_off(ctx.segments, after, agent_id) if kind is RequestKind.TIME_OFF \
            else 0.0
    r = StaffRequest(kind=kind.value, agent_id=agent_id, other_agent_id=body.other_agent_id,
                     schedule_id=sched.id, change=data, effect=effect, hours=hours, note="",
                     status=(RequestStatus.PENDING_ACCEPTANCE if kind in (
                         RequestKind.SWAP, RequestKind.OFFER) else
                         RequestStatus.PENDING_APPROVAL).value)
    session.add(r)
    session.flush()
    audit.record(session, acting_user(session, p), "create", "request", r.id,
                 after={"kind": r.kind, "change": data})
    if kind in (RequestKind.SWAP, RequestKind.OFFER):
        targets = ([body.other_agent_id] if body.other_agent_id else list(session.scalars(
            sa.select(Agent.id).where(Agent.team_id == sa.select(Agent.team_id).where(
                Agent.id == agent_id).scalar_subquery(), Agent.id != agent_id))))
        mails = svc.notify(session, svc.users_of_agents(session, targets), "swap_offered",
                           f"{agent_id} offers you a {kind.value} (request #{r.id}): "
                           "accept or decline it in openwfm.", r.id)
    else:
        mails = _after_pending(session, p, r, sched, ctx)
    out = _out(session, r)
    session.commit()
    svc.send_mail(request.app.state.settings, mails)
    return out


@router.get("/api/requests", response_model=list[RequestOut], responses=AUTH_ERRORS)
def list_requests(p: CurrentUser, session: ReadDB,
                  status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
                  ) -> list[RequestOut]:
    """Requests the user may see (an agent: their own, those offered to them and the open
    offers of their team; a team leader: their team's — the approval queue is
    ``?status=pending_approval``), newest first, with their effect."""
    require(p, "request", "read")
    stmt = sa.select(StaffRequest).where(_visible(p))
    if status_ is not None:
        stmt = stmt.where(StaffRequest.status == status_.value)
    return [_out(session, r) for r in session.scalars(
        stmt.order_by(StaffRequest.id.desc()).limit(500))]


@router.get("/api/requests/{request_id}", response_model=RequestOut, responses=AUTH_ERRORS)
def get_request(request_id: Id, p: CurrentUser, session: ReadDB, response: Response
                ) -> RequestOut:
    """One request; ``ETag`` is the published schedule version to send back as If-Match."""
    require(p, "request", "read")
    out = _out(session, _get(session, p, request_id))
    response.headers["ETag"] = f'"{out.schedule_version}"'
    return out


def _agent_event(request_id: int, p: Principal, session: Session, request: Request,
                 event: str) -> RequestOut:
    require(p, "request", "write")
    r = _get(session, p, request_id)
    me = p.agent_id or ""
    mails: list[tuple[str, str]] = []
    if event == "cancel":
        if r.agent_id != me:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "only the requester cancels")
        r.status = _event(r, "cancel").value
    else:
        if r.agent_id == me or (r.other_agent_id not in (None, me)):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"only the agent offered the {r.kind} may {event} it")
        new = _event(r, event)
        if event == "decline":
            r.status = new.value
            mails = svc.notify(session, svc.users_of_agents(session, [r.agent_id]),
                               "request_decided", f"{me} declined your {r.kind} (request "
                               f"#{r.id}).", r.id)
        else:
            sched = session.get(Schedule, r.schedule_id)
            assert sched is not None
            ctx = svc.context(session, sched)
            r.other_agent_id = me
            change = svc.change_of(RequestKind(r.kind), r.agent_id, r.change, me)
            _after, r.effect = svc.preview(ctx, change)
            r.status = new.value  # accepted: now pending approval
            mails = _after_pending(session, p, r, sched, ctx)
    if r.status not in (RequestStatus.AUTO_APPROVED.value, RequestStatus.REJECTED.value):
        audit.record(session, acting_user(session, p), event, "request", r.id,
                     after={"status": r.status})  # else audited with the decision
    out = _out(session, r)
    session.commit()
    svc.send_mail(request.app.state.settings, mails)
    return out


@router.post("/api/requests/{request_id}/accept", response_model=RequestOut,
             responses=DECIDE_ERRORS)
def accept_request(request_id: Id, p: CurrentUser, session: WriteDB, request: Request
                   ) -> RequestOut:
    """The other agent accepts a swap, or takes an offer (re-checked with them)."""
    return _agent_event(request_id, p, session, request, "accept")


@router.post("/api/requests/{request_id}/decline", response_model=RequestOut,
             responses=DECIDE_ERRORS)
def decline_request(request_id: Id, p: CurrentUser, session: WriteDB, request: Request
                    ) -> RequestOut:
    return _agent_event(request_id, p, session, request, "decline")


@router.post("/api/requests/{request_id}/cancel", response_model=RequestOut,
             responses=DECIDE_ERRORS)
def cancel_request(request_id: Id, p: CurrentUser, session: WriteDB, request: Request
                   ) -> RequestOut:
    return _agent_event(request_id, p, session, request, "cancel")


@router.post("/api/requests/{request_id}/approve", response_model=RequestOut,
             responses=DECIDE_ERRORS)
def approve_request(request_id: Id, p: CurrentUser, session: WriteDB, request: Request,
                    if_match: Annotated[str | None, Header()] = None) -> RequestOut:
    """Apply the request to the published schedule as a new version (audited). Send
    ``If-Match`` = the schedule version you decided on: when another decision or a publish
    came first, 409 and nothing changes. A request that no longer passes the rules is
    rejected with the reason instead."""
    require(p, "request_decision", "write")
    seen = parse_if_match(if_match)
    r = _get(session, p, request_id)
    _event(r, "approve")
    sched = session.get(Schedule, r.schedule_id)
    assert sched is not None
    mails = _apply(session, p, r, sched, seen, "approve")
    out = _out(session, r)
    session.commit()
    svc.send_mail(request.app.state.settings, mails)
    return out


@router.post("/api/requests/{request_id}/reject", response_model=RequestOut,
             responses=DECIDE_ERRORS)
def reject_request(request_id: Id, body: NoteIn, p: CurrentUser, session: WriteDB,
                   request: Request) -> RequestOut:
    require(p, "request_decision", "write")
    r = _get(session, p, request_id)
    old = r.status
    r.status = _event(r, "reject").value
    r.note, r.decided_at, r.decided_by = body.note, datetime.now(UTC), p.user_id
    audit.record(session, acting_user(session, p), "reject", "request", r.id,
                 before={"status": old}, after={"status": r.status, "note": body.note})
    agents = [a for a in (r.agent_id, r.other_agent_id) if a]
    mails = svc.notify(session, svc.users_of_agents(session, agents), "request_decided",
                       f"Your {r.kind.replace('_', ' ')} request #{r.id} was rejected"
                       + (f": {body.note}" if body.note else "."), r.id)
    out = _out(session, r)
    session.commit()
    svc.send_mail(request.app.state.settings, mails)
    return out


# ------------------------------------------------------------------------- annual leave
class AllowanceOut(BaseModel):
    agent_id: str
    on: date
    leave_year_start: date
    leave_year_end: date = Field(description="First day of the next leave year")
    annual_h: float
    accrual: str
    accrued_h: float = Field(description="Credited by `on` (monthly: k twelfths)")
    carry_over_h: float
    taken_h: float = Field(description="Approved time off in the leave year")
    pending_h: float = Field(description="Time off waiting for a decision")
    balance_h: float = Field(description="carry_over_h + accrued_h - taken_h")
    max_negative_h: float


@router.get("/api/leave", response_model=AllowanceOut, responses=AUTH_ERRORS)
def leave_balance(p: CurrentUser, session: ReadDB,
                  agent_id: Annotated[str | None, Query(max_length=100)] = None,
                  on: Annotated[date | None, Query()] = None) -> AllowanceOut:
    """An agent's annual leave on `on` (default today, UTC) under their contract's
    allowance: accrued, taken, waiting and left. An agent sees their own; a team leader
    their team's; a planner the agents serving their clients."""
    require(p, "request", "read")
    who = agent_id or p.agent_id
    if who is None or session.scalar(sa.select(Agent.id).where(
            Agent.id == who, agent_filter(p, Agent.id))) is None:
        raise not_found("agent", who)
    day = on or datetime.now(UTC).date()
    allowance = svc.allowance_for(session, load_scenario_from_db(session), who)
    lo, hi = svc.leave_year(allowance, day)
    taken = svc.leave_taken_h(session, who, allowance, day)
    pending = svc.leave_hours(session, who, allowance, day,
                              (RequestStatus.PENDING_APPROVAL,))
    return AllowanceOut(agent_id=who, on=day, leave_year_start=lo, leave_year_end=hi,
                        annual_h=allowance.annual_h, accrual=allowance.accrual.value,
                        accrued_h=allowance.accrued_h(day), carry_over_h=allowance.carry_over_h,
                        taken_h=taken, pending_h=pending,
                        balance_h=allowance.balance_h(day, taken),
                        max_negative_h=allowance.max_negative_h)


# ------------------------------------------------------------------------- notifications
@router.get("/api/notifications", response_model=list[NotificationOut], responses=AUTH_ERRORS)
def my_notifications(p: CurrentUser, session: ReadDB) -> list[Notification]:
    """The signed-in user's notifications, newest first (100)."""
    require(p, "notification", "read")
    return list(session.scalars(sa.select(Notification).where(
        Notification.user_id == p.user_id).order_by(Notification.id.desc()).limit(100)))


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    up_to_id: int | None = Field(None, ge=1, le=2_147_483_647,
                                 description="Mark read up to this id (default: all)")


@router.post("/api/notifications/read", status_code=status.HTTP_204_NO_CONTENT,
             responses=AUTH_ERRORS)
def read_notifications(body: ReadIn, p: CurrentUser, session: WriteDB) -> Response:
    """Mark the signed-in user's notifications read (a reading mark, not audited)."""
    require(p, "notification", "read")
    stmt = sa.update(Notification).where(Notification.user_id == p.user_id,
                                         Notification.read_at.is_(None))
    if body.up_to_id is not None:
        stmt = stmt.where(Notification.id <= body.up_to_id)
    session.execute(stmt.values(read_at=datetime.now(UTC)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/api/notifications/email", status_code=status.HTTP_204_NO_CONTENT,
            responses=WRITE_ERRORS)
def set_email(body: EmailIn, p: CurrentUser, session: WriteDB) -> Response:
    """Where the signed-in user's notifications are e-mailed."""
    require(p, "notification", "read")
    row = session.get(ContactAddress, p.user_id)
    before = row.email if row else None
    if row is None:
        session.add(ContactAddress(user_id=p.user_id, email=str(body.email)))
    else:
        row.email = str(body.email)
    audit.record(session, acting_user(session, p), "set_email", "user", p.user_id,
                 before={"email": before}, after={"email": str(body.email)})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------------ calendar
@router.post("/api/calendar/token", response_model=CalendarOut,
             status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def new_calendar_token(p: CurrentUser, session: WriteDB, request: Request) -> CalendarOut:
    """A new secret subscription URL of the agent's published schedule (.ics); any earlier
    one is revoked. The token is shown once (only its hash is stored)."""
    require(p, "calendar_token", "write")
    now = datetime.now(UTC)
    session.execute(sa.update(CalendarToken).where(
        CalendarToken.agent_id == p.agent_id, CalendarToken.revoked_at.is_(None))
        .values(revoked_at=now))
    token = secrets.token_urlsafe(32)
    session.add(CalendarToken(agent_id=p.agent_id, token_sha256=svc.token_hash(token),
                              created_at=now))
    audit.record(session, acting_user(session, p), "create", "calendar_token", p.agent_id)
    return CalendarOut(url=str(request.url_for("calendar_feed", token=token)), token=token)


@router.delete("/api/calendar/token", status_code=status.HTTP_204_NO_CONTENT,
               responses=WRITE_ERRORS)
def revoke_calendar_token(p: CurrentUser, session: WriteDB) -> Response:
    """Revoke the agent's subscription URL (it answers 404 from now on)."""
    require(p, "calendar_token", "write")
    session.execute(sa.update(CalendarToken).where(
        CalendarToken.agent_id == p.agent_id, CalendarToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC)))
    audit.record(session, acting_user(session, p), "revoke", "calendar_token", p.agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/calendar/{token}.ics", name="calendar_feed",
            responses={404: {"description": "Unknown or revoked token"}},
            response_class=Response)
def calendar_feed(token: Annotated[str, Path(max_length=100)], session: ReadDB) -> Response:
    """The agent's published schedules as iCalendar (the ``openwfm schedule`` .ics export),
    for a calendar app's subscription; the secret token is the credential."""
    agent_id = session.scalar(sa.select(CalendarToken.agent_id).where(
        CalendarToken.token_sha256 == svc.token_hash(token), CalendarToken.revoked_at.is_(None)))
    if agent_id is None:
        raise not_found("calendar", "token")
    tz = session.scalar(sa.select(Site.tz).join(Agent, Agent.site_id == Site.id).where(
        Agent.id == agent_id)) or "UTC"
    frames = [svc.segments_frame(session, vid) for vid in session.scalars(
        sa.select(Schedule.published_version_id).where(
            Schedule.published_version_id.is_not(None)))]
    seg = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["agent_id", "activity", "start", "end"])
    seg = seg[seg["agent_id"] == agent_id]
    return Response(agent_calendar(agent_id, tz, seg), media_type="text/calendar")
