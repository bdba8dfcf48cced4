"""`openwfm serve`: the API server (FastAPI on uvicorn) and its job worker."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys

import typer

from openwfm.cli.app import app, console


def _jobs_url(value: str) -> str:
    """--jobs checked when parsed: a queue the worker can open (else a traceback in the
    worker process while the API runs without it)."""
    if value and not value.startswith(("sqlite:///", "redis://", "rediss://")):
        raise typer.BadParameter(f"expected sqlite:///FILE or redis://HOST:PORT/DB, got "
                                 f"{value!r}")
    return value


@app.command(short_help="Run the openwfm server: REST API, users and roles, background jobs.")
def serve(
    db: str = typer.Option("sqlite:///openwfm.db", "--db", help=(
        "Database (SQLAlchemy URL). Default: a SQLite file in the working folder (WAL mode); "
        "production: postgresql+psycopg://user@host/db.")),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(0, "--workers", min=0, max=64, help=(
        "API worker processes (stateless; share the database). 0: one per core.")),
    demo: bool = typer.Option(False, "--demo", help=(
        "Load the demo center (sites, queues, teams, agents, history) and its users into an "
        "empty database, and start a plan job that publishes its schedule. Password: "
        "$OPENWFM_DEMO_PASSWORD, or a random one printed once.")),
    jobs: str = typer.Option("", "--jobs", callback=lambda v: _jobs_url(v), help=(
        "Job queue: sqlite:///FILE (default: next to a SQLite database) or "
        "redis://127.0.0.1:6379/0.")),
    job_workers: int = typer.Option(1, "--job-workers", min=0, max=16, help=(
        "Job worker threads started with the server (0: run `python -m "
        "openwfm.server.worker` elsewhere).")),
) -> None:
    """Run the openwfm server: the REST API (docs at /docs, schema at /openapi.json) on
    uvicorn, the database migrated to the newest schema at start, and a huey worker that
    runs forecast / staffing / schedule / simulation / capacity / plan jobs."""
    import uvicorn
    from sqlalchemy import func, select

    from openwfm.server.config import Settings
    from openwfm.server.db import Database
    from openwfm.server.migrate import upgrade
    from openwfm.server.models import Agent, JobKind, User
    from openwfm.server.security import signing_key
    from openwfm.server.worker import enqueue, new_job, recover_jobs

    settings = Settings(db_url=db, jobs_url=jobs,
                        secret_key=os.environ.get("OPENWFM_SECRET_KEY") or None)
    base = Settings.from_env()
    settings = Settings(**{**base.__dict__, "db_url": db, "jobs_url": jobs or base.jobs_url})
    upgrade(settings.db_url)
    database = Database.connect(settings.db_url)
    with database.transaction() as session:
        signing_key(session, settings.secret_key)
    demo_job = None
    if demo:
        from openwfm.server.demo import load_demo

        with database.read() as session:
            loaded = bool(session.scalar(select(func.count()).select_from(Agent)))
        if loaded:
            console.print("the database already holds a center: --demo loads nothing")
        else:
            password = os.environ.get("OPENWFM_DEMO_PASSWORD")
            shown = password is None
            password = password or secrets.token_urlsafe(12)
            with console.status("loading the demo center ..."), \
                    database.transaction() as session:
                res = load_demo(session, password)
                admin = session.scalar(select(User).where(User.username == "admin"))
                job = new_job(JobKind.PLAN, {"publish": True, "name": "demo plan"},
                              admin.id if admin else None)
                session.add(job)
                demo_job = job.id
            console.print(f"demo center loaded: {res.agents} agents in {res.teams} teams, "
                          f"{res.history_rows:,} history rows, {res.users} users "
                          "(admin, planner, lead-<site>-<n>, agent ids, viewer-<client>)")
            if shown:
                console.print(f"demo password (shown once): [bold]{password}[/]")
            console.print(f"plan job {demo_job} publishes the demo schedule (GET "
                          f"/api/jobs/{demo_job})")
    requeued = recover_jobs(database, settings.effective_jobs_url)
    if demo_job and demo_job not in requeued:
        enqueue(settings.effective_jobs_url, settings.db_url, demo_job)
    database.dispose()
    os.environ.update(settings.to_env())
    worker = None
    if job_workers > 0:
        env = {**os.environ, "OPENWFM_JOB_WORKERS": str(job_workers)}
        worker = subprocess.Popen(
            # Ctrl-C reaches the whole process group: the worker must not die of it half-way
            # through its imports (a traceback); the consumer then handles SIGINT itself and
            # the server stops it with SIGTERM after its own shutdown
            [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN);"
             " from openwfm.server.worker import main; main()"], env=env)
    workers = workers or max(os.cpu_count() or 1, 1)
    console.print(f"openwfm server on http://{host}:{port} (API docs /docs), {workers} API "
                  f"worker process{'es' if workers > 1 else ''}, database "
                  f"{database.engine.url.render_as_string(hide_password=True)}, jobs "
                  f"{settings.effective_jobs_url}")
    from openwfm.interrupt import Interrupted, delegated, received

    stopped_by: str | None = None
    try:
        # uvicorn handles SIGINT/SIGTERM itself (graceful shutdown: requests in flight
        # finish), then raises the signal again, which openwfm's handler turns into
        # `Interrupted`: that is the server's ordinary end (exit 0), not an error
        with delegated():
            uvicorn.run("openwfm.server.app:create_app", factory=True, host=host, port=port,
                        workers=workers, log_level="warning", access_log=False)
        # with several API workers uvicorn's supervisor keeps the signal and returns
        if received() is not None:
            stopped_by = signal.Signals(received()).name  # type: ignore[arg-type]
    except Interrupted as exc:
        stopped_by = signal.Signals(exc.signum).name
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
    if stopped_by is not None:
        console.print(f"openwfm server stopped ({stopped_by})", highlight=False)
        # every request has finished and the database is closed (uvicorn's graceful
        # shutdown); exit now rather than wait for idle request threads to time out (~10 s)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
