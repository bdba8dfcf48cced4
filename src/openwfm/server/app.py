"""The FastAPI application: routers, error boundary, upload limit, start-up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError

from openwfm.errors import InfeasibleError, InputError
from openwfm.server.config import Settings
from openwfm.server.db import Database
from openwfm.server.readpath import AgentWeekFastPath, WeekCache
from openwfm.server.routers import (
    agents,
    audit_log,
    auth,
    bids,
    clients,
    forecasts,
    health,
    imports,
    intraday,
    jobs,
    meetings,
    oidc,
    plans,
    preferences,
    quality,
    queues,
    rta,
    schedules,
    selfservice,
    sites,
    teams,
    users,
)
from openwfm.server.rta import GroupCommit, LiveBoard
from openwfm.server.security import signing_key

log = logging.getLogger("openwfm.server")


def input_error_detail(exc: InputError, field: str = "file") -> list[dict[str, Any]]:
    """An `InputError` in the shape of FastAPI's validation errors: ``loc`` names the body
    field, then the 1-based data row and the column of the file."""
    loc: list[str | int] = ["body", field]
    if exc.location.row is not None:
        loc.append(exc.location.row)
    if exc.location.column is not None:
        loc.append(exc.location.column)
    return [{"loc": loc, "msg": str(exc), "type": "input_error",
             "ctx": {"file": exc.location.file, "row": exc.location.row,
                     "column": exc.location.column}}]


class UploadLimit:
    """ASGI middleware: a request whose declared body is larger than the limit gets 413
    before it is read."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"content-length":
                    try:
                        size = int(value)
                    except ValueError:
                        size = -1
                    if size > self.max_bytes or size < 0:
                        msg = (f"request body of {size} bytes is larger than the limit of "
                               f"{self.max_bytes} bytes") if size >= 0 else \
                            "invalid Content-Length"
                        code = 413 if size >= 0 else 400
                        response = JSONResponse({"detail": msg}, status_code=code)
                        await response(scope, receive, send)
                        return
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for `settings` (default: from the ``OPENWFM_*`` environment; uvicorn's
    ``--factory`` entry point). The database must already be at the head revision
    (`openwfm serve` migrates before it starts the workers)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database.connect(settings.db_url)
        with db.transaction() as session:
            app.state.signing_key = signing_key(session, settings.secret_key)
        app.state.db = db
        app.state.settings = settings
        app.state.week_cache = WeekCache()
        # the live board of real-time adherence read before the first request (the
        # published schedule around now and the window's events): no request pays for it,
        # and a restarted server answers only once it can show every stored event
        app.state.rta_board = LiveBoard()
        app.state.rta_writer = GroupCommit(db)
        with db.read() as session:
            app.state.rta_board.sync(session, datetime.now(UTC))
        yield
        db.dispose()

    app = FastAPI(
        title="openwfm",
        version="0.1.0",
        summary="Workforce management for contact centers: the shared system of record.",
        description=(
            "Sign in with `POST /api/auth/token` (OAuth2 password flow) and send the token as "
            "`Authorization: Bearer <token>`. Times are UTC (ISO 8601 with offset). Roles: "
            "admin, planner (assigned client companies), team_leader (own team), agent (own "
            "schedule), client_viewer (own client's queues, forecasts and service results)."),
        lifespan=lifespan,
    )
    for module in (health, auth, clients, sites, queues, teams, agents, users, schedules,
                   imports, forecasts, plans, jobs, audit_log, rta, oidc, quality,
                   selfservice, bids, meetings, intraday, preferences):
        app.include_router(module.router)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": input_error_detail(exc)},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(InfeasibleError)
    async def _infeasible(request: Request, exc: InfeasibleError) -> JSONResponse:
        return JSONResponse({"detail": [{"loc": ["body"], "msg": str(exc),
                                         "type": "infeasible"}]},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error on %s: %s", request.url.path, exc.orig)
        return JSONResponse({"detail": "the change conflicts with existing data"},
                            status_code=status.HTTP_409_CONFLICT)

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        log.exception("database error on %s", request.url.path)
        return JSONResponse({"detail": "the database is unavailable or busy; retry"},
                            status_code=status.HTTP_503_SERVICE_UNAVAILABLE)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"},
                            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)

    from openwfm.web import mount  # the web pages (docs/web.md) on the same app

    mount(app)
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(AgentWeekFastPath)
    return app
