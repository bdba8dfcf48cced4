"""Background jobs on huey: the job queue outside the request processes.

The queue only carries a job id; the job's state, stage, progress, result or failure live in
the ``jobs`` table, so the API answers about a job from the database whichever process runs
it. The embedded default is huey's SqliteHuey (a file next to the database, no service to
run); ``OPENWFM_JOBS_URL=redis://127.0.0.1:6379/0`` uses RedisHuey for several machines.

A job runs in its own child process (spawned by the huey worker), so `DELETE /api/jobs/{id}`
stops it at once, even in the middle of a solve. When `openwfm serve` starts, jobs left
``running`` by a stopped server are queued again (re-run from the start) until they have
been tried `MAX_ATTEMPTS` times; then they fail with that reason. Never silently lost.

Run a worker alone (e.g. on a second machine): ``python -m openwfm.server.worker``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy.orm import Session

from openwfm.errors import OpenWFMError
from openwfm.server.config import Settings
from openwfm.server.db import Database
from openwfm.server.models import Job, JobKind, JobState, Schedule

log = logging.getLogger("openwfm.server.worker")
MAX_ATTEMPTS = 3
POLL_S = 0.5
TASK_NAME = "openwfm.run_job"


def make_huey(jobs_url: str) -> Huey:
    """The huey instance for `jobs_url` (``sqlite:///file`` or ``redis://...``)."""
    if jobs_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("openwfm", url=jobs_url)
    if jobs_url.startswith("sqlite:///"):
        path = Path(jobs_url.removeprefix("sqlite:///"))
        return SqliteHuey("openwfm", filename=str(path))
    raise ValueError(f"job queue URL must be sqlite:///FILE or redis://HOST:PORT/DB, got "
                     f"{jobs_url!r}")


@cache
def queue(jobs_url: str) -> tuple[Huey, Any]:
    """The huey instance and its ``run_job`` task for `jobs_url` (one per process)."""
    huey = make_huey(jobs_url)
    task = huey.task(name=TASK_NAME)(run_job)
    return huey, task


def enqueue(jobs_url: str, db_url: str, job_id: str) -> None:
    """Put job `job_id` on the queue."""
    _, task = queue(jobs_url)
    task(job_id, db_url)


def new_job(kind: JobKind, params: dict[str, Any], user_id: int | None) -> Job:
    return Job(id=str(uuid.uuid4()), kind=kind.value, state=JobState.QUEUED.value, stage="",
               progress=0.0, params=params, created_by=user_id, created_at=datetime.now(UTC))


def _set(db: Database, job_id: str, when: sa.ColumnElement[bool] | None = None,
         **values: Any) -> bool:
    with db.transaction() as s:
        stmt = sa.update(Job).where(Job.id == job_id)
        if when is not None:
            stmt = stmt.where(when)
        return s.execute(stmt.values(**values)).rowcount == 1


class Cancelled(Exception):
    """The job is no longer running (cancelled): stop without writing."""


def run_job(job_id: str, db_url: str) -> None:
    """The huey task: claim the job, run it in a child process, watch for cancellation."""
    db = Database.connect(db_url)
    try:
        claimed = _set(db, job_id, Job.state == JobState.QUEUED.value,
                       state=JobState.RUNNING.value, started_at=datetime.now(UTC),
                       attempts=Job.attempts + 1, stage="starting", error=None)
        if not claimed:
            return  # already run, running elsewhere, or cancelled
        ctx = multiprocessing.get_context("spawn")
        child = ctx.Process(target=execute, args=(job_id, db_url), daemon=True)
        child.start()
        while True:
            child.join(POLL_S)
            with db.read() as s:
                state = s.scalar(sa.select(Job.state).where(Job.id == job_id))
            if state == JobState.CANCELLING.value:
                child.terminate()
                child.join()
                _set(db, job_id, Job.state == JobState.CANCELLING.value,
                     state=JobState.CANCELLED.value, finished_at=datetime.now(UTC))
                return
            if not child.is_alive():
                break
        if child.exitcode != 0:
            _set(db, job_id, Job.state.in_([JobState.RUNNING.value]),
                 state=JobState.FAILED.value, finished_at=datetime.now(UTC),
                 error=f"the job process ended with exit code {child.exitcode}")
    finally:
        db.dispose()


def execute(job_id: str, db_url: str) -> None:
    """Run one job to its end (in the job's own process): a plan of the stored center, or
    the re-optimization of one queue's day (``reoptimize``: the stored proposal's id)."""
    from openwfm.server.compute import STAGES, run_plan, store_results
    from openwfm.server.intraday import (
        PROPOSAL_ITEMS,
        REOPTIMIZE_STAGES,
        reoptimize_job,
        store_proposal,
    )
    from openwfm.server.routers.schedules import publish_draft

    db = Database.connect(db_url)
    try:
        with db.read() as s:
            job = s.get(Job, job_id)
            assert job is not None
            kind, params, user_id = JobKind(job.kind), dict(job.params), job.created_by
        names = REOPTIMIZE_STAGES if kind == JobKind.REOPTIMIZE else STAGES[kind]
        _set(db, job_id, Job.state == JobState.RUNNING.value, stage=names[0], progress=0.0)

        def on_stage(name: str, seconds: float = 0.0) -> None:
            """After stage `name`: the next stage and the share done (stages count equal)."""
            i = names.index(name) + 1
            nxt = names[i] if i < len(names) else "storing"
            if not _set(db, job_id, Job.state == JobState.RUNNING.value, stage=nxt,
                        progress=i / (len(names) + 1)):
                raise Cancelled(name)

        try:
            store: Callable[[Session], dict[str, Any]]
            if kind == JobKind.REOPTIMIZE:
                with db.read() as s:
                    draft = reoptimize_job(s, params, on_stage)

                def store(s: Session) -> dict[str, Any]:
                    prop = store_proposal(s, draft, user_id)
                    return {"proposal_id": prop.id, "queue_id": draft.queue_id,
                            **{k: len(draft.payload[k]) for k in PROPOSAL_ITEMS},
                            "service_level_before": draft.payload["service_level_before"],
                            "service_level_after": draft.payload["service_level_after"]}
            else:
                with db.read() as s:
                    ctx = run_plan(s, kind, on_stage)

                def store(s: Session) -> dict[str, Any]:
                    name = params.get("name") or f"{kind.value} job {job_id[:8]}"
                    result = store_results(s, ctx, job_id, name)
                    if params.get("publish") and "schedule_id" in result:
                        sched = s.get(Schedule, result["schedule_id"])
                        assert sched is not None
                        version = publish_draft(s, sched, user_id)
                        result["published_version"] = version.number
                    return result

            with db.transaction() as s:
                result = store(s)
                done = s.execute(sa.update(Job).where(
                    Job.id == job_id, Job.state == JobState.RUNNING.value).values(
                    state=JobState.SUCCEEDED.value, stage="done", progress=1.0, result=result,
                    finished_at=datetime.now(UTC)))
                if done.rowcount != 1:
                    raise Cancelled("storing")  # rolls the results back
        except Cancelled:
            return
        except OpenWFMError as exc:
            _set(db, job_id, Job.state == JobState.RUNNING.value, state=JobState.FAILED.value,
                 error=str(exc), finished_at=datetime.now(UTC))
        except Exception as exc:
            log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            _set(db, job_id, Job.state == JobState.RUNNING.value, state=JobState.FAILED.value,
                 error=f"internal error: {type(exc).__name__}: {exc}",
                 finished_at=datetime.now(UTC))
    finally:
        db.dispose()


def recover_jobs(db: Database, jobs_url: str) -> list[str]:
    """After a restart: jobs left running are queued again (or fail after `MAX_ATTEMPTS`);
    cancelling ones end cancelled; every queued job is put on the queue (a job already on
    it runs once: the worker claims it). Returns the ids queued."""
    now = datetime.now(UTC)
    with db.transaction() as s:
        s.execute(sa.update(Job).where(Job.state == JobState.CANCELLING.value)
                  .values(state=JobState.CANCELLED.value, finished_at=now))
        s.execute(sa.update(Job).where(Job.state == JobState.RUNNING.value,
                                       Job.attempts >= MAX_ATTEMPTS)
                  .values(state=JobState.FAILED.value, finished_at=now,
                          error=f"interrupted {MAX_ATTEMPTS} times by a server stop"))
        s.execute(sa.update(Job).where(Job.state == JobState.RUNNING.value)
                  .values(state=JobState.QUEUED.value, stage="re-queued after a restart"))
        ids = list(s.scalars(sa.select(Job.id).where(Job.state == JobState.QUEUED.value)
                             .order_by(Job.created_at)))
    for job_id in ids:
        enqueue(jobs_url, db.url, job_id)
    return ids


def main() -> None:
    """Run a huey consumer for the configured queue (``OPENWFM_*`` environment)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    huey, _ = queue(settings.effective_jobs_url)
    workers = int(os.environ.get("OPENWFM_JOB_WORKERS", "1"))
    huey.create_consumer(workers=workers, worker_type="thread", periodic=False).run()


if __name__ == "__main__":
    # run through the imported module, so that the task is registered under the name the
    # API processes use (openwfm.server.worker...), not under __main__
    from openwfm.server.worker import main as _main

    _main()
