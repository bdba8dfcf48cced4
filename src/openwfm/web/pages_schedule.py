"""The schedule: a timeline per site / team / queue / agent (filter and search), the
shift editor with the labour-rule checker and the coverage effect, and publishing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from openwfm.app.shift_edit import (
    INSERTABLE,
    EditEffect,
    Planned,
    ShiftEditError,
    changed_window,
    compare_versions,
    edit_effect,
    own_violations,
    plan_shift,
    shift_activities,
)
from openwfm.scheduling.check import check_seats
from openwfm.server.deps import ReadDB, WriteDB
from openwfm.server.models import (
    Agent,
    AgentSkill,
    Role,
    Schedule,
    ScheduleVersion,
    Segment,
    Site,
    Team,
)
from openwfm.server.permissions import Principal, agent_filter, not_found, require, team_filter
from openwfm.server.routers.common import Id
from openwfm.server.routers.schedules import edit_draft, publish
from openwfm.server.schemas import AgentDraftIn, SegmentIn
from openwfm.web.checker import (
    draft_saved,
    own_before,
    problem_for,
    queue_goals,
    requirement_of,
    segment_frame,
    window_inputs,
)
from openwfm.web.deps import WebPost, WebUser
from openwfm.web.labels import ACTIVITY_LABELS, RULES
from openwfm.web.render import render
from openwfm.web.timeline import Row, SegmentRow, ShiftBox, day_marks, gradient, place

router = APIRouter(include_in_schema=False)

MAX_Q = 100


@dataclass(frozen=True)
class Filters:
    schedule: int | None = None
    version: str = ""
    site: int | None = None
    team: int | None = None
    queue: str = ""
    q: str = ""
    tz: str = ""


def editable(p: Principal, version: str) -> bool:
    return p.role in (Role.ADMIN, Role.PLANNER) and version == "draft"


def pick_schedule(db: Session, schedule_id: int | None) -> Schedule | None:
    if schedule_id is not None:
        sched = db.get(Schedule, schedule_id)
        if sched is None:
            raise not_found("schedule", schedule_id)
        return sched
    return db.scalar(sa.select(Schedule).order_by(Schedule.period_start.desc(),
                                                  Schedule.id.desc()).limit(1))


def agent_rows(db: Session, p: Principal, sched: Schedule, f: Filters,
               only: str | None = None) -> list[Row]:
    """Timeline rows of the agents `p` may see that pass the filters (or agent `only`)."""
    stmt = (sa.select(Agent.id, Agent.name, Agent.tz, Site.name.label("site"))
            .join(Site, Site.id == Agent.site_id).where(agent_filter(p, Agent.id)))
    if only is not None:
        stmt = stmt.where(Agent.id == only)
    if f.site is not None:
        stmt = stmt.where(Agent.site_id == f.site)
    if f.team is not None:
        stmt = stmt.where(Agent.team_id == f.team)
    if f.queue:
        stmt = stmt.where(Agent.id.in_(sa.select(AgentSkill.agent_id).where(
            AgentSkill.skill_id == f.queue)))
    if f.q:
        like = f"%{f.q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(Agent.id).like(like),
                                 sa.func.lower(Agent.name).like(like)))
    agents = db.execute(stmt.order_by(Agent.id)).all()
    ids = [a.id for a in agents]
    segs: dict[str, list[SegmentRow]] = {a: [] for a in ids}
    if ids:
        version_id = (None if f.version == "draft" else sched.published_version_id)
        q = sa.select(Segment.agent_id, Segment.activity, Segment.start, Segment.end,
                      Segment.queue_id).where(Segment.schedule_id == sched.id)
        q = (q.where(Segment.version_id.is_(None)) if version_id is None
             else q.where(Segment.version_id == version_id))
        if len(ids) <= 500:
            q = q.where(Segment.agent_id.in_(ids))
        for r in db.execute(q.order_by(Segment.agent_id, Segment.start)):
            if r.agent_id in segs:
                segs[r.agent_id].append(SegmentRow(*r))
    period = (sched.period_start, sched.period_end)
    return [Row(a.id, a.name, a.site, a.tz, place(segs[a.id], period)) for a in agents]


def _timeline_helpers(w: Any, tz: str) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    day_names: dict[date, str] = {}

    def shift_label(s: ShiftBox) -> str:
        """E.g. "Mon 30 Mar 09:00 – 17:30" in the page's language and time zone (the
        day names formatted once per day)."""
        a, b = s.start.astimezone(zone), s.end.astimezone(zone)
        d = a.date()
        if d not in day_names:
            day_names[d] = w.ctx["fmt_day"](a, tz, "EEE d MMM")
        return f"{day_names[d]} {a:%H:%M} – {b:%H:%M}"

    return {"shift_label": shift_label, "gradient": gradient, "tz": tz}


def schedule_context(db: Session, w: Any, sched: Schedule | None, f: Filters
                     ) -> dict[str, Any]:
    p = w.p
    sites = db.execute(sa.select(Site.id, Site.name, Site.tz).order_by(Site.name)).all()
    teams = db.execute(sa.select(Team.id, Team.name).where(team_filter(p, Team.id))
                       .order_by(Team.name)).all()
    queues = db.scalars(sa.select(AgentSkill.skill_id).distinct()
                        .where(agent_filter(p, AgentSkill.agent_id))
                        .order_by(AgentSkill.skill_id)).all()
    site_tz = {s.id: s.tz for s in sites}
    zones = ["UTC", *sorted({s.tz for s in sites})]
    tz = f.tz if f.tz in zones else (site_tz.get(f.site, "UTC") if f.site else "UTC")
    ctx: dict[str, Any] = {**w.ctx, "sites": sites, "teams": teams, "queues": queues,
                           "zones": zones, "tz": tz, "f": f, "sched": sched}
    if sched is None:
        return ctx
    versions = db.execute(sa.select(ScheduleVersion.number, ScheduleVersion.published_at)
                          .where(ScheduleVersion.schedule_id == sched.id)
                          .order_by(ScheduleVersion.number.desc())).all()
    published = db.execute(sa.select(ScheduleVersion.number, ScheduleVersion.published_at)
                           .where(ScheduleVersion.id == sched.published_version_id)).first()
    rows = agent_rows(db, p, sched, f)
    ctx.update(rows=rows, **_timeline_helpers(w, tz), versions=versions,
               published=published,
               editable=editable(p, f.version),
               days=day_marks((sched.period_start, sched.period_end), tz),
               schedules=db.execute(sa.select(Schedule.id, Schedule.name)
                                    .order_by(Schedule.id.desc())).all())
    return ctx


@router.get("/schedule")
def schedule_page(
    w: WebUser, db: ReadDB,
    schedule: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    version: Annotated[str, Query(pattern="^(draft|published|)$")] = "",
    site: Annotated[str, Query(pattern="^[0-9]{0,9}$")] = "",
    team: Annotated[str, Query(pattern="^[0-9]{0,9}$")] = "",
    queue: Annotated[str, Query(max_length=100)] = "",
    q: Annotated[str, Query(max_length=MAX_Q)] = "",
    tz: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The timeline of the schedule (planner: the draft, editable; team leader: the
    published version of their team)."""
    require(w.p, "schedule", "read")
    if not version:
        version = "draft" if w.p.role in (Role.ADMIN, Role.PLANNER) else "published"
    if version == "draft" and w.p.role not in (Role.ADMIN, Role.PLANNER):
        version = "published"
    sched = pick_schedule(db, schedule)
    f = Filters(sched.id if sched else None, version, int(site) if site else None,
                int(team) if team else None, queue, q.strip(), tz)
    ctx = schedule_context(db, w, sched, f)
    template = "_timeline.html" if w.ctx["request"].headers.get("hx-target") == \
        "timeline-wrap" else "schedule.html"
    return render(w.ctx["request"], template, ctx)



# ------------------------------------------------------------------------ the shift editor
def parse_when(value: str, tz: str) -> datetime:
    """A form's time: ISO with an offset (a dragged shift), or a ``datetime-local`` value
    (``2026-03-30T09:00``) on the clock of `tz` (the agent's site); 422 otherwise.

    >>> parse_when("2026-03-30T09:00", "Africa/Casablanca").isoformat()
    '2026-03-30T08:00:00+00:00'
    >>> parse_when("2026-03-30T09:00:00+00:00", "Asia/Manila").isoformat()
    '2026-03-30T09:00:00+00:00'
    """
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise HTTPException(422, f"not a date and time: {value!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(tz))
    return t.astimezone(UTC)


def _local_input(t: datetime, tz: str) -> str:
    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class EditTarget:
    sched: Schedule
    agent_id: str
    agent_name: str
    site_id: int
    tz: str


def edit_target(db: Session, p: Principal, schedule_id: int, agent_id: str) -> EditTarget:
    """The schedule and an agent `p` may edit (403 for a role that may not write schedules,
    404 for an agent outside `p`'s tenancy)."""
    require(p, "schedule", "write")
    sched = db.get(Schedule, schedule_id)
    if sched is None:
        raise not_found("schedule", schedule_id)
    row = db.execute(sa.select(Agent.id, Agent.name, Agent.site_id, Agent.tz).where(
        Agent.id == agent_id, agent_filter(p, Agent.id))).first()
    if row is None:
        raise not_found("agent", agent_id)
    return EditTarget(sched, row.id, row.name, row.site_id, row.tz)


def shift_span(frame: pd.DataFrame, start: datetime) -> tuple[datetime, datetime]:
    """Start and end of the shift of `frame` (one agent) that starts at `start`; 404 when
    none does (the draft changed meanwhile)."""
    seg = frame.sort_values("start")
    starts, ends = list(seg["start"]), list(seg["end"])
    i = next((k for k, s in enumerate(starts) if s == pd.Timestamp(start)), None)
    if i is None:
        raise HTTPException(404, "no shift starts there in the draft (it changed meanwhile; "
                                 "reload the page)")
    j = i
    while j + 1 < len(starts) and starts[j + 1] == ends[j]:
        j += 1
    return starts[i].to_pydatetime(), ends[j].to_pydatetime()


def effect_of(db: Session, t: EditTarget, orig_start: datetime, new_start: datetime,
              new_end: datetime, planned: list[Planned] | None = None
              ) -> tuple[EditEffect, pd.DataFrame, tuple[datetime, datetime], list[Planned]]:
    """The edit's effect (rules and coverage), the agent's segments after it, the shift's
    span before it and its breaks and activities after it (`planned`, else the shift's
    own at the same offsets from its start)."""
    problem = problem_for(db, t.sched)
    before = segment_frame(db, t.sched, problem, agent_id=t.agent_id)
    old = shift_span(before, orig_start)
    if not new_end > new_start:
        raise HTTPException(422, "the shift must end after it starts")
    if new_start < t.sched.period_start or new_end > t.sched.period_end:
        raise HTTPException(422, "the shift must stay inside the schedule's week")
    if planned is None:
        planned = shift_activities(before, orig_start)
        length_min = (new_end - new_start).total_seconds() / 60
        planned = [p for p in planned if p.offset_min < length_min]
        planned = [p if p.end_min <= length_min else
                   Planned(p.activity, p.offset_min, int(length_min) - p.offset_min)
                   for p in planned]
    try:
        after = plan_shift(before, orig_start, new_start, new_end, planned)
    except ShiftEditError as exc:
        raise HTTPException(422, str(exc)) from None
    window = changed_window([old, (new_start, new_end)], problem.scenario.interval_s)
    w = (window[0].to_pydatetime(), window[1].to_pydatetime())
    site_seg = segment_frame(db, t.sched, problem, site_id=t.site_id, window=w)
    site_seg = site_seg[site_seg["agent_id"] != t.agent_id]
    window_seg = segment_frame(db, t.sched, problem, window=w)
    required, forecast = window_inputs(db, t.sched, requirement_of(db, t.sched), w)
    effect = edit_effect(problem, t.agent_id, before, after, site_seg, window_seg, required,
                         forecast, queue_goals(db),
                         own_before(problem, t.sched, t.agent_id, before))
    return effect, after, old, sorted(planned, key=lambda p: p.offset_min)


def parse_planned(items: list[str]) -> list[Planned]:
    """The editor's list of breaks and activities (``activity|offset_min|length_min``
    each); 422 for an item that is not one.

    >>> parse_planned(["break|120|15"])
    [Planned(activity='break', offset_min=120, length_min=15)]
    """
    out = []
    for item in items:
        parts = item.split("|")
        if len(parts) != 3 or not parts[1].lstrip("-").isdigit() or not parts[2].isdigit():
            raise HTTPException(422, f"not an activity of the shift: {item!r} (expected "
                                     "activity|offset_min|length_min)")
        out.append(Planned(parts[0], int(parts[1]), int(parts[2])))
    return out


def edited_activities(t: EditTarget, new_start: datetime, listed: bool, act: list[str],
                      remove: int | None, add_activity: str, add_start: str,
                      add_length_min: int | None) -> list[Planned] | None:
    """The shift's breaks and activities as the editor asks for them: its list (``act``)
    without the item `remove`, plus the new `add_activity` at `add_start` (the agent's
    clock) for `add_length_min` minutes; None when the request carries no list (a drag on
    the timeline: the shift keeps its own)."""
    if not listed:
        return None
    planned = parse_planned(act)
    if remove is not None:
        if not 0 <= remove < len(planned):
            raise HTTPException(422, f"no activity number {remove} in the shift")
        planned.pop(remove)
    if add_activity:
        if add_activity not in {a.value for a in INSERTABLE}:
            raise HTTPException(422, f"add_activity: {add_activity!r} is not one of "
                                     f"{', '.join(a.value for a in INSERTABLE)}")
        if not add_start or add_length_min is None:
            raise HTTPException(422, "add_start and add_length_min: when and how long the "
                                     f"{add_activity} is")
        at = parse_when(add_start, t.tz)
        planned.append(Planned(add_activity, int((at - new_start).total_seconds() // 60),
                               add_length_min))
    return planned


def editor_context(w: Any, t: EditTarget, tz: str, orig_start: datetime,
                   new: tuple[datetime, datetime], effect: EditEffect | None,
                   old: tuple[datetime, datetime], planned: list[Planned],
                   own: list[Planned] | None = None) -> dict[str, Any]:
    """`own`: the shift's breaks and activities before the edit (the edit changes
    coverage when they differ from `planned`)."""
    items = [(p, new[0] + timedelta(minutes=p.offset_min),
              new[0] + timedelta(minutes=p.end_min)) for p in planned]
    return {**w.ctx, "sched": t.sched, "agent_id": t.agent_id, "agent_name": t.agent_name,
            "agent_tz": t.tz, "tz": tz, "orig_start": orig_start.isoformat(),
            "old": old, "new": new, "new_start": _local_input(new[0], t.tz),
            "new_end": _local_input(new[1], t.tz), "effect": effect, "rules": RULES,
            "changed": new != old or (own is not None and own != planned),
            "planned": items, "own": own if own is not None else planned,
            "insertable": [a.value for a in INSERTABLE],
            "activity_labels": ACTIVITY_LABELS, "add_default": _local_input(
                new[0] + (new[1] - new[0]) / 2, t.tz)[:-2] + "00"}


@router.get("/schedule/{schedule_id}/edit")
def edit_form(schedule_id: Id, w: WebUser, db: ReadDB,
              agent: Annotated[str, Query(max_length=100)],
              start: Annotated[str, Query(max_length=40)],
              tz: Annotated[str, Query(max_length=64)] = "UTC") -> Response:
    """The editor of one shift, with the rules the agent's week breaks now."""
    t = edit_target(db, w.p, schedule_id, agent)
    orig = parse_when(start, t.tz)
    effect, _, old, planned = effect_of(db, t, orig, *shift_span(
        segment_frame(db, t.sched, problem_for(db, t.sched), agent_id=t.agent_id), orig))
    ctx = editor_context(w, t, _zone(tz), orig, old, effect, old, planned, planned)
    return render(w.ctx["request"], "_editor.html", ctx)


def _zone(tz: str) -> str:
    try:
        ZoneInfo(tz)
        return tz
    except (KeyError, ValueError):
        return "UTC"


@dataclass(frozen=True)
class EditForm:
    """The shift editor's form, as the check and the save read it: the agent and the
    shift (`orig_start`), its new start and end, the page's zone, and its breaks and
    activities (`listed`: the form carries the list `act`, `own` = the shift's before the
    edit) less the one numbered `remove`, plus `add_activity` when `op` is ``add``."""

    agent: str
    orig_start: str
    new_start: str
    new_end: str
    tz: str
    listed: bool
    act: list[str]
    own: list[str]
    remove: int | None
    add_activity: str
    add_start: str
    add_length_min: int | None


def edit_form_fields(
        agent: Annotated[str, Form(max_length=100)],
        orig_start: Annotated[str, Form(max_length=40)],
        new_start: Annotated[str, Form(max_length=40)],
        new_end: Annotated[str, Form(max_length=40)],
        tz: Annotated[str, Form(max_length=64)] = "UTC",
        listed: Annotated[bool, Form()] = False,
        act: Annotated[list[str] | None, Form(max_length=60)] = None,
        own: Annotated[list[str] | None, Form(max_length=60)] = None,
        remove: Annotated[int | None, Form(ge=0, le=100)] = None,
        add_activity: Annotated[str, Form(max_length=40)] = "",
        add_start: Annotated[str, Form(max_length=40)] = "",
        add_length_min: Annotated[int | None, Form(ge=1, le=720)] = None,
        op: Annotated[str, Form(max_length=10)] = "") -> EditForm:
    """The dependency that parses the editor's form once for both handlers."""
    return EditForm(agent, orig_start, new_start, new_end, tz, listed, act or [], own or [],
                    remove, add_activity if op == "add" else "", add_start, add_length_min)


EditFields = Annotated[EditForm, Depends(edit_form_fields)]


def read_edit(db: Session, p: Principal, schedule_id: int, f: EditForm
              ) -> tuple[EditTarget, datetime, tuple[datetime, datetime], list[Planned] | None]:
    """The edit the form asks for: the target, the shift's start before it, its new span
    and the breaks and activities asked (None: the shift keeps its own)."""
    t = edit_target(db, p, schedule_id, f.agent)
    new = (parse_when(f.new_start, t.tz), parse_when(f.new_end, t.tz))
    asked = edited_activities(t, new[0], f.listed, f.act, f.remove, f.add_activity,
                              f.add_start, f.add_length_min)
    return t, parse_when(f.orig_start, t.tz), new, asked


@router.post("/schedule/{schedule_id}/check")
def check_edit(schedule_id: Id, w: WebPost, db: ReadDB, f: EditFields) -> Response:
    """The rules the edit would break and its coverage effect (nothing is saved): the
    shift moved / resized to `new_start`..`new_end`, with its breaks and activities
    (`act`) less the one numbered `remove` plus the one `add_activity` asks for."""
    t, orig, new, asked = read_edit(db, w.p, schedule_id, f)
    effect, _, old, planned = effect_of(db, t, orig, *new, asked)
    ctx = editor_context(w, t, _zone(f.tz), orig, new, effect, old, planned,
                         parse_planned(f.own) if f.listed else planned)
    return render(w.ctx["request"], "_editor.html", ctx)


@router.post("/schedule/{schedule_id}/save")
def save_edit(schedule_id: Id, w: WebPost, db: WriteDB, response: Response, f: EditFields,
              rev: Annotated[int, Form(ge=1, le=2_147_483_647)]) -> Response:
    """Save the edit into the draft through the API's draft edit (`If-Match` = the
    revision the editor was opened at: a stale one answers 409, nothing is lost)."""
    t, orig, new, asked = read_edit(db, w.p, schedule_id, f)
    effect, after, old, planned = effect_of(db, t, orig, *new, asked)
    body = AgentDraftIn(segments=[
        SegmentIn(agent_id=t.agent_id, activity=a, start=s.to_pydatetime(),
                  end=e.to_pydatetime(), queue_id=q if a == "work" else None)
        for a, s, e, q in zip(after["activity"], after["start"], after["end"],
                              after["queue"], strict=True)])
    db.rollback()  # the reads are done; the draft edit runs its own transaction
    ctx = editor_context(w, t, _zone(f.tz), new[0], new, effect, new, planned, planned)
    try:
        edit_draft(schedule_id, t.agent_id, body, w.p, db, response, if_match=f'"{rev}"')
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        db.rollback()
        db.refresh(t.sched)
        ctx.update(conflict=True, orig_start=orig.isoformat(), new=new, old=old)
        return render(w.ctx["request"], "_editor.html", ctx, status_code=200)
    db.refresh(t.sched)
    if t.sched.draft_rev == rev + 1:  # nobody else wrote in between: keep the read draft
        draft_saved(schedule_id, rev, t.sched.draft_rev, t.agent_id, after)
    rows = agent_rows(db, w.p, t.sched, Filters(schedule_id, "draft", tz=_zone(f.tz)),
                      only=t.agent_id)
    ctx.update(saved=True, row=rows[0] if rows else None, **_timeline_helpers(w, ctx["tz"]),
               review_now=True,
               editable=True, published=_published(db, t.sched))
    return render(w.ctx["request"], "_editor.html", ctx)


def _published(db: Session, sched: Schedule) -> Any:
    return db.execute(sa.select(ScheduleVersion.number, ScheduleVersion.published_at)
                      .where(ScheduleVersion.id == sched.published_version_id)).first()


@router.post("/schedule/{schedule_id}/publish")
def publish_page(schedule_id: Id, w: WebPost, db: WriteDB, request: Request,
                 response: Response, rev: Annotated[int, Form(ge=1, le=2_147_483_647)],
                 tz: Annotated[str, Form(max_length=64)] = "UTC") -> Response:
    """Publish the draft at revision `rev` through the API's publish (one transaction;
    a stale revision answers 409 and publishes nothing)."""
    require(w.p, "schedule", "write")
    _ = w.ctx["_"]
    try:
        out = publish(schedule_id, w.p, db, request, response, if_match=f'"{rev}"')
        message, warn = _("Published version %(n)s.", n=out.versions[-1].number), False
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        db.rollback()
        message, warn = _("The draft changed since this page was loaded (revision %(rev)s "
                          "now); nothing was published. Review it and publish again.",
                          rev=_current_rev(db, schedule_id)), True
    sched = db.get(Schedule, schedule_id)
    db.refresh(sched)
    ctx = {**w.ctx, "sched": sched, "tz": _zone(tz), "published": _published(db, sched),
           "message": message, "warn": warn, "review_now": True}
    return render(request, "_publish.html", ctx)


def _current_rev(db: Session, schedule_id: int) -> int:
    return int(db.scalar(sa.select(Schedule.draft_rev).where(Schedule.id == schedule_id)) or 0)


@router.get("/schedule/{schedule_id}/row")
def schedule_row(schedule_id: Id, w: WebUser, db: ReadDB,
                 agent: Annotated[str, Query(max_length=100)],
                 tz: Annotated[str, Query(max_length=64)] = "UTC") -> Response:
    """One agent's timeline row as it is in the draft (after a cancelled edit)."""
    t = edit_target(db, w.p, schedule_id, agent)
    rows = agent_rows(db, w.p, t.sched, Filters(schedule_id, "draft"), only=t.agent_id)
    ctx = {**w.ctx, "r": rows[0], "sched": t.sched, "editable": True,
           **_timeline_helpers(w, _zone(tz))}
    return render(w.ctx["request"], "_row_cancel.html", ctx)


@router.get("/schedule/{schedule_id}/review")
def review_draft(schedule_id: Id, w: WebUser, db: ReadDB,
                 tz: Annotated[str, Query(max_length=64)] = "UTC") -> Response:
    """Before publishing: what the draft changes against the published version (agents,
    shifts) and the labour rules the changed agents' weeks break, with the seats of every
    site (the independent checker)."""
    require(w.p, "schedule", "write")
    sched = db.get(Schedule, schedule_id)
    if sched is None:
        raise not_found("schedule", schedule_id)
    problem = problem_for(db, sched)
    draft = segment_frame(db, sched, problem)
    published = (segment_frame(db, sched, problem, version_id=sched.published_version_id)
                 if sched.published_version_id else draft.iloc[:0])
    diff = compare_versions(draft, published)
    broken: list[Any] = []
    for aid in diff.changed_agents:
        mine = draft[draft["agent_id"] == aid]
        if not mine.empty:
            broken += own_violations(problem, aid, mine)
    broken += check_seats(problem, draft)
    ctx = {**w.ctx, "diff": diff, "broken": broken, "rules": RULES, "tz": _zone(tz),
           "published": _published(db, sched), "sched": sched}
    return render(w.ctx["request"], "_review.html", ctx)
