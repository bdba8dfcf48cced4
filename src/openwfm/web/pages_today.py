"""The team leader's Today page: the team's published schedule for today with live
adherence per agent, and the exceptions list kept live by server-sent events.

The figures are the API process's live board (`openwfm.server.rta.LiveBoard`, the same as
``GET /api/rta/adherence`` and the bearer-token exceptions stream, docs/rta.md). The page's
stream, ``GET /today/stream?team=``, is signed in by the session cookie like the page (an
``EventSource`` cannot send a bearer token); htmx's SSE extension swaps the fragments it
pushes: the exceptions list (looked at every `TICK_S`), the agents' table and the team's
figures (every `BOARD_EVERY_S`), each sent only when it changed.

Who: team leaders (their own team), planners and admins (any team they may read, picked
on the page); agents and client viewers get 403, a team outside the user's reach 404.
"""

from __future__ import annotations

import asyncio
import math
import time as clock
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from openwfm.intraday.states import Activity, AgentState
from openwfm.server.deps import ReadDB
from openwfm.server.models import Agent, Role, Site, Team
from openwfm.server.permissions import Principal, not_found, require, team_filter
from openwfm.server.routers.rta import agents_for, board
from openwfm.web.deps import WebUser
from openwfm.web.render import ENV, N_, render

router = APIRouter(include_in_schema=False)

TICK_S = 0.5
"""How often the stream looks at the exceptions (an exception shows within about this)."""
BOARD_EVERY_S = 2.0
"""How often the stream recomputes the agents' table and the team's figures."""
HEARTBEAT_S = 15.0
MAX_STREAM_S = 1800.0
"""A stream closes after this long; the browser reconnects (and the session is checked
again)."""

STATES = {AgentState.LOGGED_OUT: N_("logged out"), AgentState.AVAILABLE: N_("available"),
          AgentState.ON_CONTACT: N_("on contact"),
          AgentState.AFTER_CONTACT_WORK: N_("after-contact work"),
          AgentState.BREAK: N_("break"), AgentState.MEAL: N_("meal"),
          AgentState.TRAINING: N_("training"), AgentState.MEETING: N_("meeting"),
          AgentState.OTHER: N_("other")}
ACTIVITIES = {Activity.WORK: N_("work"), Activity.BREAK: N_("break"),
              Activity.MEAL: N_("meal"), Activity.TRAINING: N_("training"),
              Activity.MEETING: N_("meeting")}


@dataclass(frozen=True)
class TeamView:
    """The team a page shows, after the role and tenant checks."""

    team_id: int
    name: str
    tz: str
    agent_ids: tuple[str, ...]
    names: dict[str, str]


def team_view(db: Session, p: Principal, team: int | None) -> tuple[TeamView, list[Any]]:
    """The team `p` asked for (a team leader: their own) and the teams `p` may pick."""
    if p.role not in (Role.ADMIN, Role.PLANNER, Role.TEAM_LEADER):
        raise HTTPException(403, "this page is for team leaders, planners and admins")
    require(p, "rta_exceptions", "read")
    teams = db.execute(sa.select(Team.id, Team.name).where(team_filter(p, Team.id))
                       .order_by(Team.name)).all()
    if team is None:
        team = p.team_id if p.role == Role.TEAM_LEADER else (teams[0].id if teams else None)
    if team is None:
        raise not_found("team", team)
    team_id, ids = agents_for(db, p, team, None)  # 404 outside the user's reach
    row = db.execute(sa.select(Team.name, Site.tz).join(Site, Site.id == Team.site_id)
                     .where(Team.id == team_id)).one()
    names = dict(db.execute(sa.select(Agent.id, Agent.name).where(Agent.id.in_(ids))).all())
    return TeamView(int(team), row.name, row.tz, tuple(ids), names), list(teams)


def local_day(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the local day of `now` in `tz`, UTC (23 or 25 hours on a clock
    change).

    >>> s, e = local_day(datetime(2026, 3, 29, 12, tzinfo=UTC), "Europe/Paris")
    >>> s.isoformat(), (e - s).total_seconds() / 3600
    ('2026-03-28T23:00:00+00:00', 23.0)
    """
    zone = ZoneInfo(tz)
    d = now.astimezone(zone).date()
    start = datetime.combine(d, time(0), zone)
    end = datetime.combine(d + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _pct(t: datetime, w0: datetime, w1: datetime) -> float:
    return 100 * (min(max(t, w0), w1) - w0).total_seconds() / (w1 - w0).total_seconds()


def board_context(request: Request, view: TeamView, now: datetime) -> dict[str, Any]:
    """The agents' rows (schedule bar, activity and state now, in or out of adherence,
    today's figures), the team's figures and the exceptions, from the live board."""
    settings = request.app.state.settings
    grace = float(settings.rta_grace_s)
    after = float(settings.rta_exception_after_s)
    b = board(request)
    with request.app.state.db.read() as s:
        b.sync(s, now, max_age_s=TICK_S / 2)
    rows = b.rows(view.agent_ids, now, grace)
    d0, d1 = local_day(now, view.tz)
    segs = b.segments_between(view.agent_ids, d0, d1)
    spans = [x for v in segs.values() for x in v]
    if spans:  # the window: the day's shifts, whole hours, inside the day
        w0 = max(min(s for s, _, _ in spans).replace(minute=0, second=0, microsecond=0), d0)
        last = max(e for _, e, _ in spans)
        w1 = min(last if last == last.replace(minute=0, second=0, microsecond=0)
                 else last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), d1)
    else:
        w0, w1 = d0, d1
    today = now.astimezone(ZoneInfo(view.tz)).date()
    agents = []
    totals = {"scheduled_s": 0.0, "out_of_adherence_s": 0.0, "scheduled_work_s": 0.0,
              "worked_s": 0.0}
    for r in rows:
        a = r["agent_id"]
        mine = segs.get(a, [])
        parts = [{"activity": act, "left": _pct(s, w0, w1),
                  "width": _pct(e, w0, w1) - _pct(s, w0, w1), "start": s, "end": e}
                 for s, e, act in mine]
        minutes_out = None
        if r["in_adherence"] is False and r["adherence_since"] is not None:
            minutes_out = math.floor((now - r["adherence_since"]).total_seconds() / 60)
        if r["day"] == today:
            for k in totals:
                totals[k] += r[k] or 0.0
        agents.append({**r, "name": view.names.get(a, a), "parts": parts,
                       "shift": (mine[0][0], mine[-1][1]) if mine else None,
                       "minutes_out": minutes_out})
    team = {
        "adherence": ((totals["scheduled_s"] - totals["out_of_adherence_s"])
                      / totals["scheduled_s"] if totals["scheduled_s"] > 0 else None),
        "conformance": (totals["worked_s"] / totals["scheduled_work_s"]
                        if totals["scheduled_work_s"] > 0 else None),
        "out_now": sum(1 for r in rows if r["in_adherence"] is False),
        "scheduled_now": sum(1 for r in rows if r["activity"] is not None),
        **totals,
    }
    return {"agents": agents, "team_day": team, "window": (w0, w1),
            "now_pct": _pct(now, w0, w1) if w0 <= now < w1 else None,
            "exceptions": exceptions(request, view, now, after), "after_min": after / 60,
            "grace_s": grace, "now": now, "today": d0, "view": view,
            "states": STATES, "activities": ACTIVITIES}


def exceptions(request: Request, view: TeamView, now: datetime, after_s: float
               ) -> list[dict[str, Any]]:
    """The team's agents out of adherence for at least `after_s`, longest first."""
    return [{"agent_id": a, "name": view.names.get(a, a), "activity": act, "state": st,
             "since": since, "minutes": math.floor(dur / 60)}
            for a, act, st, since, dur in board(request).exceptions(view.agent_ids, now,
                                                                     after_s)]


@router.get("/today")
def today_page(w: WebUser, db: ReadDB,
               team: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
               ) -> Response:
    """Today's schedule of a team with live adherence and exceptions."""
    view, teams = team_view(db, w.p, team)
    db.close()
    request = w.ctx["request"]
    ctx = {**w.ctx, **board_context(request, view, datetime.now(UTC)), "teams": teams,
           "can_pick": w.p.role in (Role.ADMIN, Role.PLANNER)}
    return render(request, "today.html", ctx)


def _sse(event: str, html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.strip().splitlines() or [""])
    return f"event: {event}\n{data}\n\n"


@router.get("/today/stream")
async def today_stream(request: Request, w: WebUser, db: ReadDB,
                       team: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
                       ) -> StreamingResponse:
    """Server-sent events of the Today page (cookie session): ``exceptions``, ``agents``
    and ``summary`` fragments (HTML), each when it changed."""
    view, _ = team_view(db, w.p, team)
    db.close()
    after = float(request.app.state.settings.rta_exception_after_s)
    ctx = dict(w.ctx)

    def look(full: bool) -> dict[str, str]:
        now = datetime.now(UTC)
        if full:
            c = {**ctx, **board_context(request, view, now)}
            return {name: ENV.get_template(f"_today_{name}.html").render(c)
                    for name in ("exceptions", "agents", "summary")}
        b = board(request)
        if b.due(TICK_S / 2):
            with request.app.state.db.read() as s:
                b.sync(s, now, max_age_s=TICK_S / 2)
        c = {**ctx, "exceptions": exceptions(request, view, now, after), "after_min": after / 60,
             "view": view, "states": STATES, "activities": ACTIVITIES}
        return {"exceptions": ENV.get_template("_today_exceptions.html").render(c)}

    async def stream() -> AsyncIterator[str]:
        yield f"retry: 2000\n: today of team {view.team_id}\n\n"
        sent: dict[str, str] = {}
        start = last_full = clock.monotonic()
        quiet = 0.0
        first = True
        while True:
            full = first or clock.monotonic() - last_full >= BOARD_EVERY_S
            if full:
                last_full = clock.monotonic()
            parts = await run_in_threadpool(look, full)
            changed = False
            for name, html in parts.items():
                if sent.get(name) != html:
                    yield _sse(name, html)
                    changed = True
                sent[name] = html
            first = False
            quiet = 0.0 if changed else quiet + TICK_S
            if quiet >= HEARTBEAT_S:
                quiet = 0.0
                yield ": keep-alive\n\n"
            if clock.monotonic() - start >= MAX_STREAM_S:
                return
            await asyncio.sleep(TICK_S)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
