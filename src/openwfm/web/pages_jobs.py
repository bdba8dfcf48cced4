"""Planning jobs (a plan, a re-solved schedule, a forecast ...) started from a page, with
their live progress (htmx polls the job's state while it runs). The jobs are the API's:
`POST /api/jobs`, `DELETE /api/jobs/{id}` (docs/server.md, Jobs)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from openwfm.server.deps import ReadDB, WriteDB
from openwfm.server.models import Job, JobKind
from openwfm.server.permissions import job_filter, require
from openwfm.server.routers.common import get_visible
from openwfm.server.routers.jobs import FINISHED, cancel_job, create_job
from openwfm.server.schemas import JobIn
from openwfm.web.deps import WebPost, WebUser
from openwfm.web.render import N_, render

router = APIRouter(include_in_schema=False)

KINDS = {JobKind.PLAN: N_("Full plan (forecast to capacity)"),
         JobKind.SCHEDULE: N_("Schedule (forecast, staffing, schedule)"),
         JobKind.FORECAST: N_("Forecast and staffing"),
         JobKind.SIMULATION: N_("Schedule and simulation"),
         JobKind.CAPACITY: N_("Capacity plan")}
NAMES = {**KINDS, JobKind.REOPTIMIZE: N_("Intraday re-optimization")}
"""How a job's kind reads in the list (re-optimizations start on the Intraday page)."""
STATES = {"queued": N_("queued"), "running": N_("running"), "succeeded": N_("succeeded"),
          "failed": N_("failed"), "cancelling": N_("cancelling"),
          "cancelled": N_("cancelled")}


def _jobs_context(w: WebUser, db: ReadDB) -> dict[str, object]:
    jobs = db.scalars(sa.select(Job).where(job_filter(w.p, Job.kind, Job.params))
                      .order_by(Job.created_at.desc()).limit(20)).all()
    return {**w.ctx, "jobs": jobs, "kinds": KINDS, "names": NAMES, "states": STATES,
            "finished": FINISHED}


@router.get("/jobs")
def jobs_page(w: WebUser, db: ReadDB) -> Response:
    require(w.p, "job", "read")
    return render(w.ctx["request"], "jobs.html", _jobs_context(w, db))


@router.post("/jobs")
def start_job(w: WebPost, db: ReadDB, request: Request, response: Response,
              kind: Annotated[JobKind, Form()],
              publish: Annotated[bool, Form()] = False) -> Response:
    """Start a job through the API's `create_job` (queued at once; a job worker runs it)."""
    if kind not in KINDS:
        raise HTTPException(422, f"kind: one of {', '.join(k.value for k in KINDS)}")
    create_job(JobIn(kind=kind, publish=publish), w.p, request, response)
    return render(request, "jobs.html", _jobs_context(w, db))


@router.get("/jobs/{job_id}/progress")
def job_progress(job_id: str, w: WebUser, db: ReadDB) -> Response:
    """One job's row: state, stage and progress (polled while it is not finished)."""
    require(w.p, "job", "read")
    if len(job_id) > 36:
        raise HTTPException(404, f"no job {job_id!r}")
    job = get_visible(db, Job, job_id, job_filter(w.p, Job.kind, Job.params))
    ctx = {**w.ctx, "job": job, "kinds": KINDS, "names": NAMES, "states": STATES,
           "finished": FINISHED}
    return render(w.ctx["request"], "_job.html", ctx)


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, w: WebPost, db: WriteDB) -> Response:
    """Cancel through the API's `cancel_job` (a finished job answers 409)."""
    if len(job_id) > 36:
        raise HTTPException(404, f"no job {job_id!r}")
    job = cancel_job(job_id, w.p, db)
    db.commit()
    ctx = {**w.ctx, "job": job, "kinds": KINDS, "names": NAMES, "states": STATES,
           "finished": FINISHED}
    return render(w.ctx["request"], "_job.html", ctx)
