"""The planner's Intraday page: per queue, today's morning forecast, the actuals so far, the
reforecast of the rest of the day and the predicted service level of every interval; a
*Re-optimize* button starts the re-optimization job, polls it (htmx, as the jobs page
does) and then shows the proposal (breaks and meals moved, agents reassigned, overtime and
VTO) with the service level before and after; accepting it publishes a new version.

Everything is the API's: ``GET /api/intraday/queues/{id}`` (`intraday_queue`), ``POST
.../reoptimize`` (`reoptimize_rest_of_day`: a job), ``DELETE /api/jobs/{id}``
(`cancel_job`) and ``POST /api/intraday/proposals/{id}/accept`` (`accept`), called as
functions (docs/intraday.md). Admins and planners (their client
companies' queues); others 403, another client's queue 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import Response

from openwfm.errors import InputError
from openwfm.server.deps import ReadDB, WriteDB
from openwfm.server.models import Job, JobKind, JobState, Queue
from openwfm.server.permissions import job_filter, queue_filter, require
from openwfm.server.routers.common import Id, get_visible
from openwfm.server.routers.intraday import (
    AcceptIn,
    accept,
    intraday_queue,
    proposal_out,
    reoptimize_rest_of_day,
    visible_proposal,
)
from openwfm.server.routers.jobs import FINISHED, cancel_job
from openwfm.web.deps import WebPost, WebUser
from openwfm.web.pages_jobs import STATES
from openwfm.web.render import N_, render

router = APIRouter(include_in_schema=False)

PARTS = {"past": N_("past"), "current": N_("now"), "rest": N_("rest of day")}
KINDS = {"overtime": N_("overtime"), "voluntary_time_off": N_("voluntary time off")}


def _at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"at: expected an ISO 8601 time with offset, got "
                                 f"{text[:40]!r}") from None
    if t.tzinfo is None:
        raise HTTPException(422, "at: the time needs an offset (e.g. Z)")
    return t.astimezone(UTC)


@router.get("/intraday")
async def intraday_page(request: Request, w: WebUser, db: ReadDB,
                        queue: Annotated[str | None, Query(max_length=100)] = None,
                        at: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """A queue's day: forecast, actuals, reforecast, requirement and predicted service
    level per interval (the queue picked on the page)."""
    require(w.p, "intraday", "read")
    queues = list(db.scalars(sa.select(Queue.id).where(
        queue_filter(w.p, Queue.id), Queue.channel != "email").order_by(Queue.id)))
    chosen = queue or (queues[0] if queues else None)
    ctx: dict[str, Any] = {**w.ctx, "queues": queues, "chosen": chosen, "at": at or "",
                           "parts": PARTS, "view": None, "problem": None}
    if chosen is not None:
        try:
            view = await intraday_queue(chosen, request, w.p, db, at=_at(at))
            ctx["view"] = view
        except InputError as exc:
            ctx["problem"] = exc.message
    return render(request, "intraday.html", ctx)


def _proposal_ctx(w: Any, prop: Any, tz: str, **extra: Any) -> dict[str, Any]:
    return {**w.ctx, "prop": prop, "tz": tz, "kinds": KINDS, **extra}


def _tz(db: Any, queue_id: str) -> str:
    return str(db.scalar(sa.select(Queue.tz).where(Queue.id == queue_id)) or "UTC")


def _job_ctx(w: Any, job: Job) -> dict[str, Any]:
    return {**w.ctx, "job": job, "states": STATES, "finished": FINISHED}


@router.post("/intraday/reoptimize")
def reoptimize_page(w: WebPost, response: Response, queue: Annotated[str, Form(max_length=100)],
                    at: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Start the re-optimization of the rest of the queue's day (the API's: a job) and show
    its progress; the fragment polls the job until it ends, then shows the proposal."""
    request = w.ctx["request"]
    job = reoptimize_rest_of_day(queue, w.p, request, response, at=_at(at))
    return render(request, "_intraday_job.html", _job_ctx(w, job))


def _visible_job(db: Any, w: Any, job_id: str) -> Job:
    if len(job_id) > 36:
        raise HTTPException(404, f"no job {job_id!r}")
    return get_visible(db, Job, job_id, job_filter(w.p, Job.kind, Job.params),
                       Job.kind == JobKind.REOPTIMIZE.value)


@router.get("/intraday/jobs/{job_id}")
def reoptimize_progress(job_id: str, w: WebUser, db: ReadDB) -> Response:
    """The re-optimization job's progress while it runs (polled); when it has succeeded,
    the proposal: moves, reassignments, overtime / VTO, service level before and after;
    when it failed, why."""
    require(w.p, "intraday", "read")
    request = w.ctx["request"]
    job = _visible_job(db, w, job_id)
    if job.state == JobState.SUCCEEDED.value:
        prop = proposal_out(db, visible_proposal(db, w.p, int(job.result["proposal_id"])))
        return render(request, "_intraday_proposal.html",
                      _proposal_ctx(w, prop, _tz(db, prop.queue_id)))
    return render(request, "_intraday_job.html", _job_ctx(w, job))


@router.post("/intraday/jobs/{job_id}/cancel")
def reoptimize_cancel(job_id: str, w: WebPost, db: WriteDB) -> Response:
    """Cancel the re-optimization (the API's `cancel_job`; a finished job: 409)."""
    require(w.p, "intraday", "write")
    job = cancel_job(_visible_job(db, w, job_id).id, w.p, db)
    db.commit()
    return render(w.ctx["request"], "_intraday_job.html", _job_ctx(w, job))


@router.post("/intraday/proposals/{proposal_id}/accept")
def accept_page(proposal_id: Id, request: Request, w: WebPost, db: WriteDB,
                move: Annotated[list[int], Form(max_length=10_000)] = [],  # noqa: B006
                offer: Annotated[list[int], Form(max_length=10_000)] = [],  # noqa: B006
                reassign: Annotated[list[int], Form(max_length=10_000)] = [],  # noqa: B006
                ) -> Response:
    """Accept the ticked items (the API's accept): a new published version, or the reason
    it was refused (the schedule changed meanwhile: 409; a rule: 422)."""
    moves, offers = list(move), list(offer)
    try:
        prop = accept(proposal_id, AcceptIn(moves=moves, proposals=offers,
                                            reassignments=list(reassign)), request, w.p, db)
        message, warn = None, False
    except HTTPException as exc:
        if exc.status_code not in (409, 422):
            raise
        db.rollback()
        prop = proposal_out(db, visible_proposal(db, w.p, proposal_id))
        detail = exc.detail
        if isinstance(detail, list):
            detail = "; ".join(str(d.get("msg", d)) for d in detail)
        message, warn = str(detail), True
    return render(request, "_intraday_proposal.html",
                  _proposal_ctx(w, prop, _tz(db, prop.queue_id), message=message, warn=warn))

