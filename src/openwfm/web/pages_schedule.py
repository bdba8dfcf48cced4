"""The schedule: a timeline per site / team / queue / agent (filter and search), the
shift editor with the labour-rule checker and the coverage effect, and publishing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from openwfm.server.deps import ReadDB
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
from openwfm.web.deps import WebUser
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

    ctx.update(rows=rows, shift_label=shift_label, gradient=gradient, versions=versions,
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

