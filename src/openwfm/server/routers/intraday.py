"""Intraday for planners: a queue's day (forecast, actuals, reforecast, requirement,
predicted service level), the re-optimization of the rest of the day and accepting it into
the published schedule (docs/intraday.md, "On the server")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, Field

from openwfm.server.deps import CurrentUser, ReadDB
from openwfm.server.intraday import agent_states, day_inputs, queue_day
from openwfm.server.models import Queue
from openwfm.server.permissions import not_found, queue_filter, require
from openwfm.server.routers.common import AUTH_ERRORS
from openwfm.server.routers.rta import board

router = APIRouter(prefix="/api/intraday", tags=["intraday"])

QueuePath = Annotated[str, Path(min_length=1, max_length=100)]
At = Annotated[AwareDatetime | None, Query(description=(
    "The instant to answer for (default: now); its local day in the queue's zone is the "
    "day shown"))]


class IntervalOut(BaseModel):
    interval_start: datetime
    part: str = Field(description="past (complete), current (in progress) or rest")
    forecast_volume: float | None = Field(description="The morning forecast (contacts)")
    forecast_aht_s: float | None
    actual_volume: float | None = Field(description="Contacts offered so far")
    actual_handled: float | None
    actual_abandoned: float | None
    actual_aht_s: float | None
    actual_service_level: float | None = Field(description="answered_within / volume")
    reforecast_volume: float | None = Field(description="Current and rest intervals")
    reforecast_aht_s: float | None
    reforecast_volume_lo_80: float | None
    reforecast_volume_hi_80: float | None
    reforecast_volume_lo_95: float | None
    reforecast_volume_hi_95: float | None
    agents_required: float | None = Field(description=(
        "Agents required for the reforecast (openwfm.staffing, the queue's goal)"))
    agents_required_morning: float | None = Field(description="... for the morning forecast")
    agents_predicted: float | None = Field(description=(
        "Productive agents on the queue in the prediction (the interval in progress: "
        "the agents working now; later: the published schedule)"))
    predicted_service_level: float | None = Field(description=(
        "Erlang C/A from the current state: contacts answered within answer_within_s / "
        "contacts"))


class IntradayOut(BaseModel):
    queue_id: str
    tz: str
    day: date
    as_of: datetime
    interval_s: int
    current_interval: datetime
    forecast_id: int | None = Field(description="The forecast version used as the morning's")
    sl_target: float
    answer_within_s: float
    level: dict[str, float | None] = Field(description=(
        "The reforecast's level (openwfm.intraday.reforecast: volume_factor, credibility, "
        "aht_factor, rest_volume and its 80/95 % interval ...)"))
    predicted_service_level_rest: float | None = Field(description=(
        "Over the current and rest intervals, contacts-weighted"))
    agents_working_now: int = Field(description=(
        "Agents with the queue's skill in a work state now (live adherence)"))
    intervals: list[IntervalOut]


def visible_queue(session: Any, p: Any, queue_id: str) -> Queue:
    q = session.scalar(sa.select(Queue).where(Queue.id == queue_id,
                                              queue_filter(p, Queue.id)))
    if q is None:
        raise not_found("queue", queue_id)
    return q


@router.get("/queues/{queue_id}", response_model=IntradayOut, responses={
    **AUTH_ERRORS, 422: {"description": "No forecast for the day"}})
async def intraday_queue(queue_id: QueuePath, request: Request, p: CurrentUser,
                         session: ReadDB, at: At = None) -> dict[str, Any]:
    """Today in the queue's zone: the morning forecast, the actuals so far
    (``POST /api/rta/actuals``), the reforecast of the current and remaining intervals with
    bands, the agents required for it and the predicted service level of each from the
    current state (agents working now, then the published schedule)."""
    require(p, "intraday", "read")
    q = visible_queue(session, p, queue_id)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    b = board(request)

    def compute() -> dict[str, Any]:
        b.sync(session, datetime.now(UTC))
        inputs = day_inputs(session, q, now)
        session.rollback()
        agents = sorted(set(inputs.segments["agent_id"]))
        with b.lock:
            states = agent_states(b.log, agents, now)
        return queue_day(inputs, states, now)

    return await run_in_threadpool(compute)
