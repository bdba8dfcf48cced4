"""Background jobs: POST -> 202 with the job id; GET polls state, stage, progress; DELETE
cancels (the job's process is stopped)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Job, JobKind, JobState
from openwfm.server.permissions import Principal, job_filter, require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, get_visible
from openwfm.server.schemas import JobIn, JobOut
from openwfm.server.worker import enqueue, new_job

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
FINISHED = (JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.CANCELLED.value)


@router.post("", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses=WRITE_ERRORS)
def create_job(body: JobIn, p: CurrentUser, request: Request, response: Response) -> Job:
    """Start a forecast, staffing, schedule, simulation, capacity or full plan job on the
    stored center; answers 202 at once with the job to poll (``Location``)."""
    require(p, "job", "write")
    return submit_job(request, response, p, body.kind,
                      body.model_dump(mode="json", exclude={"kind"}))


def submit_job(request: Request, response: Response, p: Principal, kind: JobKind,
               params: dict[str, Any]) -> Job:
    """Store a queued job of `kind` made by `p` (audited), put it on the job queue and
    point ``Location`` at it: what every endpoint that starts a job answers 202 with."""
    job = new_job(kind, params, p.user_id)
    with request.app.state.db.transaction() as session:
        session.add(job)
        session.flush()
        audit.record(session, acting_user(session, p), "create", "job", job.id,
                     after=audit.snapshot(job))
    settings = request.app.state.settings
    enqueue(settings.effective_jobs_url, settings.db_url, job.id)
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return job


@router.get("", response_model=list[JobOut], responses=AUTH_ERRORS)
async def list_jobs(p: CurrentUser, session: ReadDB,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Job]:
    require(p, "job", "read")
    return list(session.scalars(sa.select(Job).where(job_filter(p, Job.kind, Job.params))
                                .order_by(Job.created_at.desc()).limit(limit)))


@router.get("/{job_id}", response_model=JobOut, responses=AUTH_ERRORS)
async def get_job(job_id: str, p: CurrentUser, session: ReadDB) -> Job:
    """State (queued, running, succeeded, failed, cancelling, cancelled), stage, progress
    (0..1), result ids or the reason it failed. A re-optimization job (its result the
    proposal id) is seen only by who may see its queue (another's: 404)."""
    require(p, "job", "read")
    return get_visible(session, Job, job_id, job_filter(p, Job.kind, Job.params))


@router.delete("/{job_id}", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
               responses=WRITE_ERRORS)
def cancel_job(job_id: str, p: CurrentUser, session: WriteDB) -> Job:
    """Cancel a job: a queued one never runs; a running one is stopped (state
    ``cancelling`` until its process has ended, then ``cancelled``). 409 when finished."""
    require(p, "job", "write")
    job = get_visible(session, Job, job_id, job_filter(p, Job.kind, Job.params))
    if job.state in FINISHED:
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} already {job.state}")
    before = audit.snapshot(job)
    if job.state == JobState.QUEUED.value:
        job.state, job.finished_at = JobState.CANCELLED.value, datetime.now(UTC)
    else:
        job.state = JobState.CANCELLING.value
    session.flush()
    audit.record(session, acting_user(session, p), "cancel", "job", job_id, before,
                 audit.snapshot(job))
    return job
