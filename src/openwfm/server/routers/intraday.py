"""Intraday for planners: a queue's day (forecast, actuals, reforecast, requirement,
predicted service level), the re-optimization of the rest of the day and accepting it into
the published schedule (docs/intraday.md, "On the server")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.intraday import (
    PROPOSAL_ITEMS,
    accept_proposal,
    agent_states,
    busy_agents,
    day_inputs,
    other_agents_segments,
    queue_day,
)
from openwfm.server.models import (
    IntradayProposal,
    Job,
    JobKind,
    Queue,
    Schedule,
    ScheduleVersion,
)
from openwfm.server.permissions import not_found, queue_filter, require
from openwfm.server.queue_state import latest_states
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id
from openwfm.server.routers.jobs import submit_job
from openwfm.server.routers.rta import board
from openwfm.server.schemas import JobOut
from openwfm.server.selfservice import send_mail

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
        "Productive agents on the queue in the Erlang prediction (the interval in "
        "progress: the agents working now; later: the published schedule)"))
    predicted_contacts: float | None = Field(None, description=(
        "Contacts the simulation counts in the interval (mean per replication; the interval "
        "in progress: those arriving from now on and those waiting now)"))
    predicted_service_level: float | None = Field(description=(
        "Simulated from the current state (contacts waiting, agents busy now): mean over "
        "replications of answered within answer_within_s / contacts"))
    predicted_service_level_lo: float | None = Field(None, description="Its 95 % interval")
    predicted_service_level_hi: float | None = None
    predicted_service_level_erlang: float | None = Field(None, description=(
        "Stationary Erlang C/A with the same agents (the re-optimization's model)"))


class QueueStateUsed(BaseModel):
    queue_id: str
    at: datetime
    waiting: int
    oldest_wait_s: float | None
    in_service: int | None


class SimulationAbout(BaseModel):
    replications: int
    seed: int = Field(description=(
        "First 8 bytes of SHA-256 of '<queue_id>|<as_of UTC ISO>': the same instant gives "
        "the same numbers"))
    start: datetime = Field(description="The instant the simulation starts from (as_of)")
    handle: str = Field(description="Handle-time shape (exponential, as the Erlang model)")
    busy_agents: int = Field(description=(
        "Agents on a contact or in after-contact work now, each holding one contact"))
    agents: int = Field(description=(
        "Agents working in the simulated span: the queue's and those of the other queues "
        "they serve"))
    queue_states: list[QueueStateUsed] = Field(description=(
        "The queue states the simulation starts from (POST /api/rta/queue-state; none "
        "newer than one interval: no contact waiting)"))


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
        "Simulated over the current and rest intervals: mean over replications of the "
        "rest of the day's answered within / contacts"))
    predicted_service_level_rest_lo: float | None = None
    predicted_service_level_rest_hi: float | None = None
    predicted_service_level_rest_erlang: float | None = Field(None, description=(
        "Erlang over the current and rest intervals, contacts-weighted"))
    simulation: SimulationAbout
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
    bands, the agents required for it and the predicted service level of each, simulated
    from the current state (contacts waiting: ``POST /api/rta/queue-state``; agents busy
    and working now: live adherence; then the published schedule) with its 95 % interval,
    next to the stationary Erlang figure."""
    require(p, "intraday", "read")
    q = visible_queue(session, p, queue_id)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    b = board(request)

    def compute() -> dict[str, Any]:
        b.sync(session, datetime.now(UTC))
        inputs = day_inputs(session, q, now)
        reports = latest_states(session, list(inputs.queues), now,
                                max_age_s=inputs.interval_s)
        others = other_agents_segments(session, inputs)
        session.rollback()
        agents = sorted(set(inputs.segments["agent_id"]) | set(others["agent_id"]))
        with b.lock:
            states = agent_states(b.log, agents, now)
            busy = busy_agents(b.log, states, now)
        return queue_day(inputs, states, now, busy=busy, queue_states=reports, others=others)

    return await run_in_threadpool(compute)


# ------------------------------------------------------------------ re-optimization
class MoveOut(BaseModel):
    index: int
    agent_id: str
    activity: str
    rule: str = Field(description="The break rule whose window it stays in")
    old_start: datetime
    old_end: datetime
    new_start: datetime
    new_end: datetime


class ReassignmentOut(BaseModel):
    index: int
    agent_id: str
    from_queues: list[str] = Field(description=(
        "The queues the agent served in the span before (its other skills as routed, or "
        "the queue its work named)"))
    to_queue: str = Field(description="The queue the agent works only, from start to end")
    start: datetime
    end: datetime
    answered_in_time_delta: float = Field(description=(
        "Change of the rest of the day's contacts answered in time over all the queues "
        "(the source queues' loss counted), in the order found"))


class OfferOut(BaseModel):
    index: int
    kind: str = Field(description="overtime or voluntary_time_off")
    agent_id: str
    start: datetime
    end: datetime
    answered_in_time_delta: float = Field(description=(
        "Change of the rest of the day's contacts answered in time"))


class QueueSlOut(BaseModel):
    queue: str
    contacts: float
    service_level_before: float | None
    service_level_after: float | None


class IntervalSlOut(BaseModel):
    interval_start: datetime
    contacts: float
    service_level_before: float | None
    service_level_after: float | None
    sim_service_level_before: float | None = Field(None, description=(
        "Simulated from the reported queue state, the published schedule (ratio of means)"))
    sim_service_level_after: float | None = Field(None, description=(
        "... the re-optimized schedule, the same seed (common random numbers)"))
    sim_delta: float | None = Field(None, description="after - before, simulated")
    sim_delta_lo: float | None = Field(None, description="Its paired 95 % interval")
    sim_delta_hi: float | None = None


class SimulatedSlOut(BaseModel):
    replications: int
    seed: int
    service_level_before: float | None = Field(description=(
        "Simulated over the queue's rest of the day, the published schedule"))
    service_level_after: float | None
    delta: float | None = Field(description="after - before")
    delta_lo: float | None = Field(description=(
        "Paired 95 % interval of the difference (same seed: the same contacts in both)"))
    delta_hi: float | None
    waiting: int | None = Field(description="Contacts waiting at the start (queue state)")
    oldest_wait_s: float | None
    busy_agents: int = Field(0, description=(
        "Agents on a contact or in after-contact work at the start (live adherence when "
        "the re-optimization was asked for) and working then: each starts with its contact "
        "in hand"))
    total_before: float | None = Field(None, description=(
        "Simulated over every queue the agents serve (voice and chat), contacts-weighted"))
    total_after: float | None = None
    total_delta: float | None = None
    total_delta_lo: float | None = None
    total_delta_hi: float | None = None


class ProposalOut(BaseModel):
    id: int
    queue_id: str
    schedule_id: int
    version_number: int = Field(description="The published version it was made on")
    as_of: datetime
    status: str = Field(description=(
        "open, accepted, or stale (the schedule was published again since: accepting "
        "answers 409)"))
    created_at: datetime
    moves: list[MoveOut] = Field(description="Breaks and meals moved (all applied together "
                                             "in service_level_after)")
    reassignments: list[ReassignmentOut] = Field(description=(
        "Multi-skilled agents told to work one queue only for a span (in "
        "service_level_after)"))
    proposals: list[OfferOut] = Field(description="Overtime and VTO candidates (not in "
                                                  "service_level_after)")
    service_level_before: float | None = Field(description=(
        "Predicted over the rest of the day, the queues its agents serve"))
    service_level_after: float | None
    queues: list[QueueSlOut]
    intervals: list[IntervalSlOut] = Field(description="The queue's rest-of-day intervals")
    simulated: SimulatedSlOut | None = Field(None, description=(
        "The published and re-optimized schedules simulated from the reported queue "
        "state with one seed (docs/intraday.md); none in proposals made before it"))
    violations: int = Field(description="Rule violations of the result (the published "
                                        "schedule's own; never a new one)")
    accepted: dict[str, list[int]] | None
    applied_version_number: int | None


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    moves: list[int] | None = Field(None, max_length=10_000, description=(
        "Indices of the moves to apply (omitted: all)"))
    reassignments: list[int] | None = Field(None, max_length=10_000, description=(
        "Indices of the reassignments to apply (omitted: all)"))
    proposals: list[int] | None = Field(None, max_length=10_000, description=(
        "Indices of the overtime / VTO proposals to apply (omitted: all)"))


def proposal_out(session: Any, prop: IntradayProposal) -> ProposalOut:
    pl = prop.payload
    number = None
    if prop.applied_version_id is not None:
        number = session.scalar(sa.select(ScheduleVersion.number).where(
            ScheduleVersion.id == prop.applied_version_id))
    state = prop.status
    if state == "open":  # made on a version that is no longer the published one: stale
        now_published = session.scalar(
            sa.select(ScheduleVersion.number).join(
                Schedule, Schedule.published_version_id == ScheduleVersion.id)
            .where(Schedule.id == prop.schedule_id))
        if now_published != prop.version_number:
            state = "stale"
    return ProposalOut(
        id=prop.id, queue_id=prop.queue_id, schedule_id=prop.schedule_id,
        version_number=prop.version_number, as_of=prop.as_of, status=state,
        created_at=prop.created_at,
        moves=[MoveOut(index=i, **m) for i, m in enumerate(pl["moves"])],
        reassignments=[ReassignmentOut(index=i, **x)
                       for i, x in enumerate(pl.get("reassignments", []))],
        proposals=[OfferOut(index=i, **x) for i, x in enumerate(pl["proposals"])],
        service_level_before=pl["service_level_before"],
        service_level_after=pl["service_level_after"],
        queues=[QueueSlOut(**q) for q in pl["queues"]],
        intervals=[IntervalSlOut(**x) for x in pl["intervals"]],
        simulated=SimulatedSlOut(**pl["simulated"]) if pl.get("simulated") else None,
        violations=pl["violations"], accepted=prop.accepted, applied_version_number=number)


def visible_proposal(session: Any, p: Any, proposal_id: int) -> IntradayProposal:
    prop = session.scalar(sa.select(IntradayProposal).where(
        IntradayProposal.id == proposal_id, queue_filter(p, IntradayProposal.queue_id)))
    if prop is None:
        raise not_found("proposal", proposal_id)
    return prop


@router.post("/queues/{queue_id}/reoptimize", response_model=JobOut,
             status_code=status.HTTP_202_ACCEPTED, responses=WRITE_ERRORS)
def reoptimize_rest_of_day(queue_id: QueuePath, p: CurrentUser, request: Request,
                           response: Response, at: At = None) -> Job:
    """Re-optimize the rest of the queue's day as a background job: answers 202 at once
    with the job (``Location: /api/jobs/{id}``; ``GET`` it for the state, stage and
    progress, ``DELETE`` it to cancel). The job moves the breaks and meals not started yet
    inside their windows and reassigns multi-skilled agents between queues to raise the
    predicted service level of the queues the agents serve, shifts pinned, every change
    checked by the labour-rule checker, and proposes overtime and VTO; its result's
    ``proposal_id`` is the proposal to accept (all or some items). A failure (no forecast,
    no published schedule for the day) is the job's ``error``."""
    require(p, "intraday", "write")
    db = request.app.state.db
    now = (at or datetime.now(UTC)).astimezone(UTC)
    b = board(request)
    with db.read() as session:
        q = visible_queue(session, p, queue_id)
        # the floor at `now` for the simulated before/after (the worker has no live board)
        b.sync(session, datetime.now(UTC))
    with b.lock:
        busy = busy_agents(b.log, agent_states(b.log, list(b.log.agents), now), now)
    return submit_job(request, response, p, JobKind.REOPTIMIZE,
                      {"queue_id": q.id, "at": now.isoformat(), "busy": busy})


@router.get("/proposals/{proposal_id}", response_model=ProposalOut, responses=AUTH_ERRORS)
async def get_proposal(proposal_id: Id, p: CurrentUser, session: ReadDB) -> ProposalOut:
    """A re-optimization proposal with its before/after and whether it was accepted."""
    require(p, "intraday", "read")
    return proposal_out(session, visible_proposal(session, p, proposal_id))


@router.post("/proposals/{proposal_id}/accept", response_model=ProposalOut, responses={
    **WRITE_ERRORS, 422: {"description": "No such item, or the items together break a rule"}})
def accept(proposal_id: Id, body: AcceptIn, request: Request, p: CurrentUser,
           session: WriteDB) -> ProposalOut:
    """Accept all or some items (moves, reassignments, overtime / VTO): the schedule gets
    a new published version with them (the affected agents' draft follows), audited, and
    the agents are notified (a reassigned agent: which queue they work when). 409 when the
    schedule was published again since the proposal was made (re-optimize again)."""
    require(p, "intraday", "write")
    prop = visible_proposal(session, p, proposal_id)
    chosen = {k: (list(range(len(prop.payload.get(k, [])))) if getattr(body, k) is None
                  else list(getattr(body, k))) for k in PROPOSAL_ITEMS}
    seen = prop.version_number
    version, agents, mails = accept_proposal(session, prop, chosen, p.user_id)
    audit.record(session, acting_user(session, p), "accept", "intraday_proposal", prop.id,
                 before={"schedule_id": prop.schedule_id, "version_number": seen},
                 after={"version_number": version.number, "agents": agents,
                        **(prop.accepted or {})})
    out = proposal_out(session, prop)
    session.commit()
    send_mail(request.app.state.settings, mails)
    return out
