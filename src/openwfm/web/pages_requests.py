"""Self-service pages: the agent's "my requests" (phone first: ask for a day off, see the
effect and the decision, notifications) and the team leader's approval queue with the
effect of each request. They call the API's own handlers (`openwfm.server.routers.
selfservice`), so the pages and the API decide the same way (docs/selfservice.md)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException, Path, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from openwfm.selfservice import RequestStatus
from openwfm.server.deps import ReadDB, WriteDB
from openwfm.server.models import Agent, Schedule, Site, Team
from openwfm.server.permissions import Principal, agent_filter, require
from openwfm.server.routers.meetings import PlaceIn, ProposeIn, place_session, propose_meeting
from openwfm.server.routers.preferences import (
    PreferenceIn,
    UnavailableIn,
    WishesIn,
    get_preferences,
    put_preferences,
)
from openwfm.server.routers.selfservice import (
    NoteIn,
    RequestIn,
    accept_request,
    approve_request,
    cancel_request,
    create_request,
    decline_request,
    leave_balance,
    list_requests,
    my_notifications,
    reject_request,
)
from openwfm.server.selfservice import team_shifts
from openwfm.web.deps import WebPost, WebUser
from openwfm.web.render import N_, render

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {
    RequestStatus.PENDING_ACCEPTANCE: N_("waiting for the other agent"),
    RequestStatus.PENDING_APPROVAL: N_("waiting for the team leader"),
    RequestStatus.APPROVED: N_("approved"),
    RequestStatus.AUTO_APPROVED: N_("approved by rule"),
    RequestStatus.REJECTED: N_("refused"),
    RequestStatus.DECLINED: N_("declined"),
    RequestStatus.CANCELLED: N_("cancelled"),
}
KIND_LABELS = {"time_off": N_("Time off"), "voluntary_time_off": N_("Voluntary time off"),
               "swap": N_("Shift swap"), "offer": N_("Shift offer"),
               "activity": N_("Meeting or training")}


def _agent_tz(db: Session, agent_id: str) -> str:
    return db.scalar(sa.select(Site.tz).join(Agent, Agent.site_id == Site.id).where(
        Agent.id == agent_id)) or "UTC"


def _labels() -> dict[str, object]:
    return {"status_label": lambda s: STATUS_LABELS.get(RequestStatus(s), s),
            "kind_label": lambda k: KIND_LABELS.get(k, k),
            "iso_day": lambda s: date.fromisoformat(s[:10]),
            "iso_dt": datetime.fromisoformat}


@router.get("/me/requests")
def my_requests(w: WebUser, db: ReadDB,
                error: Annotated[str, Query(max_length=500)] = "",
                schedule: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
                ) -> Response:
    """The agent's requests with their effect and decision, forms to ask for days off, to
    propose a swap to a colleague or to offer a shift, the swaps and offers made to them
    (accept or decline), and the latest notifications."""
    require(w.p, "request", "write")
    me = w.p.agent_id or ""
    tz = _agent_tz(db, me)
    zone = ZoneInfo(tz)
    schedules = list(db.scalars(sa.select(Schedule).where(
        Schedule.published_version_id.is_not(None))
        .order_by(Schedule.period_start.desc(), Schedule.id.desc()).limit(10)))
    chosen = next((x for x in schedules if x.id == schedule), schedules[0] if schedules
                  else None)
    shifts = team_shifts(db, chosen, me) if chosen is not None else []
    mine = [x for x in shifts if x.agent_id == me]
    my_days = {x.start.astimezone(zone).date() for x in mine}
    rows = list_requests(w.p, db)
    ctx = {**w.ctx, **_labels(), "tz": tz, "error": error,
           "leave": leave_balance(w.p, db, None, datetime.now(zone).date()),
           "rows": [r for r in rows if r.agent_id == me or (
               r.other_agent_id == me
               and r.status != RequestStatus.PENDING_ACCEPTANCE.value)],
           "incoming": [r for r in rows if r.agent_id != me
                        and r.status == RequestStatus.PENDING_ACCEPTANCE.value],
           "notes": my_notifications(w.p, db)[:10],
           "today": datetime.now(zone).date().isoformat(),
           "schedules": schedules, "chosen": chosen, "my_shifts": mine,
           "swap_shifts": [x for x in shifts if x.agent_id != me
                           and x.start.astimezone(zone).date() not in my_days],
           "colleagues": sorted({(x.agent_id, x.agent_name) for x in shifts
                                 if x.agent_id != me})}
    return render(w.ctx["request"], "my_requests.html", ctx)


def visible_teams(db: Session, p: Principal) -> list[Any]:
    """The teams with an agent `p` may see (a planner: of their clients), by name, with
    their site's zone (``id, name, tz``)."""
    return list(db.execute(sa.select(Team.id, Team.name, Site.tz).join(
        Site, Site.id == Team.site_id).where(Team.id.in_(sa.select(Agent.team_id).where(
            agent_filter(p, Agent.id)))).order_by(Team.name)).all())


def _back(msg: str | None = None, schedule: int | None = None) -> Response:
    q = {k: str(v) for k, v in (("error", msg), ("schedule", schedule)) if v}
    return RedirectResponse("/me/requests" + ("?" + query(**q) if q else ""), status_code=303)


def error_message(e: HTTPException) -> str:
    return e.detail[0]["msg"] if isinstance(e.detail, list) else str(e.detail)


@router.post("/me/requests/swap")
def ask_swap(w: WebPost, db: WriteDB,
             schedule_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
             shift_start: Annotated[datetime, Form()],
             other: Annotated[str, Form(max_length=200, pattern=r"^[^|]+\|.+$")]) -> Response:
    """Propose a swap: my shift `shift_start` for the colleague's shift `other`
    (``agent_id|start``); the colleague accepts or declines it."""
    require(w.p, "request", "write")
    other_agent, other_start = other.split("|", 1)
    try:
        body = RequestIn(kind="swap", schedule_id=schedule_id, shift_start=shift_start,
                         other_agent_id=other_agent,
                         other_shift_start=datetime.fromisoformat(other_start))
    except ValueError:
        return _back("other: a colleague's shift expected", schedule_id)
    try:
        create_request(body, w.p, db, w.ctx["request"])
    except HTTPException as e:
        db.rollback()
        return _back(error_message(e), schedule_id)
    return _back(schedule=schedule_id)


@router.post("/me/requests/offer")
def offer_shift(w: WebPost, db: WriteDB,
                schedule_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
                shift_start: Annotated[datetime, Form()],
                other_agent_id: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Offer my shift `shift_start` to a colleague, or to anyone of the team."""
    require(w.p, "request", "write")
    try:
        create_request(RequestIn(kind="offer", schedule_id=schedule_id,
                                 shift_start=shift_start,
                                 other_agent_id=other_agent_id or None),
                       w.p, db, w.ctx["request"])
    except HTTPException as e:
        db.rollback()
        return _back(error_message(e), schedule_id)
    return _back(schedule=schedule_id)


AGENT_EVENTS = {"accept": accept_request, "decline": decline_request, "cancel": cancel_request}


@router.post("/me/requests/{request_id}/{event}")
def agent_event(w: WebPost, db: WriteDB,
                request_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
                event: Annotated[str, Path(pattern="^(accept|decline|cancel)$")]) -> Response:
    """Accept or decline a swap or offer made to me, or cancel my own request."""
    try:
        AGENT_EVENTS[event](request_id, w.p, db, w.ctx["request"])
    except HTTPException as e:
        db.rollback()
        return _back(error_message(e))
    return _back()


@router.post("/me/requests")
def ask_time_off(w: WebPost, db: WriteDB, first_day: Annotated[date, Form()],
                 days: Annotated[int, Form(ge=1, le=31)] = 1,
                 kind: Annotated[str, Form(pattern="^(time_off|voluntary_time_off)$")]
                 = "time_off") -> Response:
    """Days off from `first_day` for `days` days, whole local days of the agent's site."""
    require(w.p, "request", "write")
    zone = ZoneInfo(_agent_tz(db, w.p.agent_id or ""))
    start = datetime.combine(first_day, time(0), zone)
    end = datetime.combine(first_day + timedelta(days=days), time(0), zone)
    try:
        create_request(RequestIn(kind=kind, start=start, end=end),  # type: ignore[arg-type]
                       w.p, db, w.ctx["request"])
    except HTTPException as e:
        db.rollback()
        return _back(error_message(e))
    return _back()


def query(**kw: str) -> str:
    from urllib.parse import urlencode
    return urlencode(kw)


@router.get("/requests")
def approval_queue(w: WebUser, db: ReadDB,
                   error: Annotated[str, Query(max_length=500)] = "") -> Response:
    """The team leader's queue: requests waiting for a decision with their effect on
    coverage and service level, and the latest decisions."""
    require(w.p, "request_decision", "write")
    rows = list_requests(w.p, db)
    pending = [r for r in rows if r.status == RequestStatus.PENDING_APPROVAL.value]
    decided = [r for r in rows if r.status != RequestStatus.PENDING_APPROVAL.value][:20]
    ctx = {**w.ctx, **_labels(), "pending": pending, "decided": decided, "error": error}
    return render(w.ctx["request"], "requests.html", ctx)


@router.post("/requests/{request_id}/approve")
def approve(w: WebPost, db: WriteDB,
            request_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
            version: Annotated[int, Form(ge=0)]) -> Response:
    try:
        approve_request(request_id, w.p, db, w.ctx["request"], if_match=str(version))
    except HTTPException as e:
        db.rollback()
        msg = e.detail[0]["msg"] if isinstance(e.detail, list) else str(e.detail)
        return RedirectResponse("/requests?" + query(error=msg), status_code=303)
    return RedirectResponse("/requests", status_code=303)


@router.post("/requests/{request_id}/reject")
def reject(w: WebPost, db: WriteDB, request_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
           note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    try:
        reject_request(request_id, NoteIn(note=note), w.p, db, w.ctx["request"])
    except HTTPException as e:
        db.rollback()
        msg = e.detail[0]["msg"] if isinstance(e.detail, list) else str(e.detail)
        return RedirectResponse("/requests?" + query(error=msg), status_code=303)
    return RedirectResponse("/requests", status_code=303)


# ----------------------------------------------------------------------- meeting scheduler
SESSION_KINDS = {"meeting": N_("Meeting"), "training": N_("Training"),
                 "coaching": N_("Coaching"), "one_to_one": N_("One-to-one")}


@router.get("/meetings")
def meetings(w: WebUser, db: WriteDB,
             team: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
             people: Annotated[str, Query(max_length=2000)] = "",
             activity: Annotated[str, Query(pattern="^(meeting|training|coaching|one_to_one)$")]
             = "meeting",
             title: Annotated[str, Query(max_length=200)] = "",
             duration: Annotated[int, Query(ge=5, le=480)] = 60,
             day: Annotated[date | None, Query()] = None,
             start: Annotated[str, Query(pattern=r"^\d{2}:\d{2}$")] = "08:00",
             end: Annotated[str, Query(pattern=r"^\d{2}:\d{2}$")] = "17:00",
             seats: Annotated[str, Query(pattern=r"^([1-9]\d{0,3})?$")] = "",
             placed: Annotated[int | None, Query(ge=1)] = None,
             error: Annotated[str, Query(max_length=500)] = "") -> Response:
    """Pick people (a team, or some of its agents), an activity, a duration and a window
    (a local day and hours of the team's site): the scheduler proposes the start that costs
    the service least, with its effect; Place it publishes it."""
    require(w.p, "meeting", "write")
    teams = visible_teams(db, w.p)
    chosen = next((t for t in teams if t.id == team), None)
    proposal = None
    if chosen is not None and day is not None and not error:
        zone = ZoneInfo(chosen.tz)
        ids = [x.strip() for x in people.replace(";", ",").split(",") if x.strip()]
        try:
            proposal = propose_meeting(ProposeIn(
                team_id=None if ids else chosen.id, agent_ids=ids, activity=activity,  # type: ignore[arg-type]
                title=title, duration_min=duration,
                window_start=datetime.combine(day, time.fromisoformat(start), zone),
                window_end=datetime.combine(day, time.fromisoformat(end), zone),
                room_seats=int(seats) if seats else None), w.p, db)
        except HTTPException as e:
            db.rollback()
            error = error_message(e)
    ctx = {**w.ctx, "teams": teams, "chosen": chosen, "proposal": proposal, "error": error,
           "placed": placed, "kinds": SESSION_KINDS,
           "form": {"people": people, "activity": activity, "title": title,
                    "duration": duration, "day": day.isoformat() if day else "",
                    "start": start, "end": end, "seats": seats},
           "tz": chosen.tz if chosen else "UTC"}
    return render(w.ctx["request"], "meetings.html", ctx)


@router.post("/meetings/place")
def place(w: WebPost, db: WriteDB, schedule_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
          people: Annotated[str, Form(max_length=5000)],
          activity: Annotated[str, Form(pattern="^(meeting|training|coaching|one_to_one)$")],
          start: Annotated[datetime, Form()], end: Annotated[datetime, Form()],
          version: Annotated[int, Form(ge=0)],
          title: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        out = place_session(PlaceIn(schedule_id=schedule_id, people=people.split(","),
                                    activity=activity, title=title, start=start, end=end),  # type: ignore[arg-type]
                            w.p, db, w.ctx["request"], if_match=str(version))
    except HTTPException as e:
        db.rollback()
        return RedirectResponse("/meetings?" + query(error=error_message(e)), status_code=303)
    return RedirectResponse(f"/meetings?placed={out.schedule_version}", status_code=303)


# ------------------------------------------------------------- availability and preferences
PREFERENCE_KINDS = {"day_off": N_("Day off (a date or a weekday)"),
                    "start_between": N_("Start between (HH:MM-HH:MM)"),
                    "max_nights": N_("At most this many night shifts")}


@router.get("/me/preferences")
def my_preferences(w: WebUser, db: ReadDB,
                   period: Annotated[date | None, Query()] = None,
                   error: Annotated[str, Query(max_length=500)] = "",
                   saved: Annotated[bool, Query()] = False) -> Response:
    """When the agent cannot work and their wishes for a schedule period (the next one the
    scheduler plans by default): what the scheduler reads when it plans that period."""
    require(w.p, "availability", "write")
    try:
        wishes = get_preferences(w.p.agent_id or "", w.p, db, period)
    except HTTPException as e:
        if period is None:
            raise
        return RedirectResponse("/me/preferences?" + query(error=error_message(e)), status_code=303)
    ctx = {**w.ctx, "w": wishes, "error": error, "saved": saved,
           "kinds": PREFERENCE_KINDS,
           "blank_prefs": max(2, 4 - len(wishes.preferences)),
           "blank_times": max(2, 3 - len(wishes.unavailable))}
    return render(w.ctx["request"], "my_preferences.html", ctx)


def _loc_message(e: HTTPException) -> str:
    if isinstance(e.detail, list) and e.detail:
        loc = [str(x) for x in e.detail[0].get("loc", [])[1:]]
        loc = [str(int(x) + 1) if x.isdigit() else x for x in loc]
        return (" ".join(loc) + ": " if loc else "") + str(e.detail[0]["msg"])
    return str(e.detail)


@router.post("/me/preferences")
async def save_preferences(w: WebPost, db: WriteDB,
                           period: Annotated[date, Query()]) -> Response:
    """Replace the period's availability and wishes with the form's rows (blank rows are
    left out); a row the scheduler does not accept is named and nothing is saved."""
    form = await w.ctx["request"].form()
    kinds, values, weights = (form.getlist(k) for k in ("kind", "value", "weight"))
    starts, ends = form.getlist("un_start"), form.getlist("un_end")
    prefs = []
    for i, (k, v, wt) in enumerate(zip(kinds, values, weights, strict=False), start=1):
        if not (str(k) and str(v).strip()):
            continue  # a blank row
        try:
            weight = float(str(wt)) if str(wt).strip() else None
        except ValueError:
            return RedirectResponse("/me/preferences?" + query(
                period=period.isoformat(), error=f"preferences {i} weight: a number >= 0 "
                f"expected, got {str(wt)[:20]!r}"), status_code=303)
        prefs.append(PreferenceIn(kind=str(k)[:40], value=str(v).strip()[:40], weight=weight))
    times = [UnavailableIn(start=str(a)[:40], end=str(b)[:40])
             for a, b in zip(starts, ends, strict=False) if str(a).strip() or str(b).strip()]
    try:
        put_preferences(w.p.agent_id or "", WishesIn(preferences=prefs, unavailable=times),
                        w.p, db, period)
    except HTTPException as e:
        db.rollback()
        return RedirectResponse("/me/preferences?" + query(period=period.isoformat(),
                                                         error=_loc_message(e)),
                                status_code=303)
    return RedirectResponse("/me/preferences?" + query(period=period.isoformat(), saved="1"),
                            status_code=303)
