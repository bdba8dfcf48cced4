"""Mounting the web pages on the FastAPI app: routers, static files, error pages."""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from openwfm.web import (
    pages_auth,
    pages_bids,
    pages_capacity,
    pages_intraday,
    pages_jobs,
    pages_people,
    pages_quality,
    pages_queues,
    pages_requests,
    pages_schedule,
    pages_today,
)
from openwfm.web.deps import SignInRequired
from openwfm.web.render import page_context, render
from openwfm.web.session import read_session

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def is_page(request: Request) -> bool:
    """Whether `request` is for a web page (not the API, its docs or its schema)."""
    path = request.url.path
    return not (path.startswith(("/api", "/docs", "/redoc")) or path == "/openapi.json")


def mount(app: FastAPI) -> None:
    for module in (pages_auth, pages_bids, pages_capacity, pages_intraday, pages_jobs, pages_people,
                   pages_queues, pages_quality, pages_requests, pages_schedule, pages_today):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    async def plotly_js() -> FileResponse:
        """plotly.js as the installed plotly package ships it (no CDN)."""
        return FileResponse(PLOTLY_JS, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        target = f"/login?next={exc.next_path}"
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_page(request):
            return await http_exception_handler(request, exc)
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if not is_page(request):
            return await request_validation_exception_handler(request, exc)
        fields = ", ".join(".".join(str(x) for x in e["loc"][1:]) for e in exc.errors())
        return error_page(request, 422, f"invalid: {fields}")


def error_page(request: Request, code: int, detail: str) -> Response:
    sess = read_session(request)
    ctx = page_context(request, None, sess)
    ctx.update(code=code, detail=detail)
    if request.headers.get("hx-request"):
        return render(request, "_error.html", ctx, status_code=code)
    return render(request, "error.html", ctx, status_code=code)

