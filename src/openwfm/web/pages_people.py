"""The agent's own schedule (phone first, in the agent's time zone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from openwfm.server.models import Role
from openwfm.server.readpath import agent_week
from openwfm.server.schemas import AgentScheduleOut
from openwfm.web.deps import WebUser
from openwfm.web.labels import ACTIVITY_LABELS
from openwfm.web.render import render
from openwfm.web.timeline import SegmentRow, group_shifts

router = APIRouter(include_in_schema=False)


@router.get("/me/schedule")
def my_schedule(w: WebUser,
                      week: Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = ""
                      ) -> Response:
    """The signed-in agent's published shifts, day by day on their own clock: the latest
    published week, or the week starting `week` (a date)."""
    if w.p.role != Role.AGENT or not w.p.agent_id:
        raise HTTPException(403, "this page shows an agent's own schedule")
    start = end = None
    if week:
        start = datetime.fromisoformat(week).replace(tzinfo=UTC)
        end = start + timedelta(days=7)
    state = w.ctx["request"].app.state
    ans = agent_week(state.db.fast_engine, state.week_cache, w.p.user_id, w.p.agent_id,
                     start, end, None)  # the API's read path of GET /api/agents/{id}/schedule
    if ans.status != 200:
        raise HTTPException(ans.status, ans.detail)
    out = AgentScheduleOut.model_validate_json(ans.body)
    zone = ZoneInfo(out.tz)
    segs = [SegmentRow(s.agent_id, s.activity, s.start, s.end, s.queue_id)
            for s in out.segments]
    days: dict[object, list[list[SegmentRow]]] = {}
    for shift in group_shifts(segs):
        days.setdefault(shift[0].start.astimezone(zone).date(), []).append(shift)
    ctx = {**w.ctx, "out": out, "days": sorted(days.items()), "agent_tz": out.tz,
           "activity_labels": ACTIVITY_LABELS}
    return render(w.ctx["request"], "my_schedule.html", ctx)
