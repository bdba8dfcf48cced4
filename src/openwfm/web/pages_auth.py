"""Sign-in, sign-out, the language switcher and the home page of each role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from openwfm.server.config import Settings
from openwfm.server.deps import ReadDB, WriteDB, settings
from openwfm.server.models import (
    Agent,
    Client,
    Queue,
    RevokedSession,
    Role,
    Schedule,
    ScheduleVersion,
    Segment,
    Team,
    User,
)
from openwfm.server.permissions import queue_filter
from openwfm.server.routers.auth import authenticate
from openwfm.web import i18n
from openwfm.web.deps import WebPost, WebUser
from openwfm.web.render import page_context, render
from openwfm.web.session import (
    LOGIN_CSRF_COOKIE,
    csrf_failed,
    end_session,
    read_session,
    same,
    start_session,
    submitted_token,
)

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """A local path to go to after sign-in (never another site).

    >>> safe_next("/schedule?team=3"), safe_next("https://evil.example/"), safe_next("//x")
    ('/schedule?team=3', '/', '/')
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _login_page(request: Request, next_path: str, error: str = "",
                status_code: int = 200, username: str = "") -> Response:
    ctx = page_context(request, None, None)
    token = ctx["lang_csrf"]  # the double-submit token: the sign-in form and the switcher
    ctx.update(next=safe_next(next_path), error=error, login_csrf=token, username=username)
    return render(request, "login.html", ctx, status_code=status_code)  # sets the cookie


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    if read_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next)


@router.post("/login")
def login(request: Request, session: WriteDB,
          conf: Annotated[Settings, Depends(settings)],
          username: Annotated[str, Form(max_length=100)] = "",
          password: Annotated[str, Form(max_length=200)] = "",
          csrf_token: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise csrf_failed()
    _ = i18n.gettext_functions(i18n.negotiate(request.cookies.get(i18n.LANG_COOKIE),
                                              request.headers.get("accept-language")))["_"]
    now = datetime.now(UTC)
    address = request.client.host if request.client else ""
    try:
        user = authenticate(session, conf, username, password, address, now)
    except HTTPException as exc:
        msg = (_("Too many failed sign-ins; wait a few minutes and retry.")
               if exc.status_code == 429 else _("Wrong user name or password."))
        return _login_page(request, next, msg, exc.status_code, username)
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, user.id, conf.token_ttl_s, now)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(w: WebPost, db: WriteDB) -> Response:
    """Sign out: the session is revoked (its cookie, even if kept, no longer signs in)
    and the cookie deleted; revocations past their session's expiry are dropped."""
    now = datetime.now(UTC)
    db.execute(sa.delete(RevokedSession).where(RevokedSession.expires_at < now))
    if db.get(RevokedSession, w.session.jti) is None:
        db.add(RevokedSession(jti=w.session.jti, user_id=w.p.user_id,
                              expires_at=w.session.expires_at))
    db.commit()
    response = RedirectResponse("/login", status_code=303)
    end_session(response)
    return response


@router.post("/lang")
async def set_language(request: Request, db: WriteDB,
                       lang: Annotated[str, Form(max_length=8)],
                       next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    """Switch the page language (the switcher's form, a POST with the CSRF token: the
    session's when signed in, else the sign-in form's double-submit token): this
    browser's preference cookie and, for a signed-in user, their own setting (it follows
    them to another browser); then back to the page `next`."""
    sess = read_session(request)
    if sess is not None and db.get(RevokedSession, sess.jti) is not None:
        sess = None  # signed out: the cookie no longer signs in
    expected = sess.csrf if sess is not None else request.cookies.get(LOGIN_CSRF_COOKIE)
    if not same(await submitted_token(request), expected):
        raise csrf_failed()
    if lang not in i18n.LANGUAGES:
        raise HTTPException(422, f"lang: one of {', '.join(i18n.LANGUAGES)} expected, got "
                                 f"{lang!r}")
    if sess is not None:
        db.execute(sa.update(User).where(User.id == sess.user_id).values(language=lang))
        db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                        httponly=True, path="/")
    return response


def _home_facts(db: Session, w: WebUser) -> dict[str, object]:
    p = w.p
    facts: dict[str, object] = {}
    if p.role in (Role.ADMIN, Role.PLANNER, Role.TEAM_LEADER):
        facts["schedules"] = db.execute(
            sa.select(Schedule.id, Schedule.name, Schedule.period_start, Schedule.draft_rev,
                      ScheduleVersion.number, ScheduleVersion.published_at)
            .outerjoin(ScheduleVersion, ScheduleVersion.id == Schedule.published_version_id)
            .order_by(Schedule.id.desc()).limit(10)).all()
    if p.role == Role.TEAM_LEADER and p.team_id is not None:
        facts["team"] = db.get(Team, p.team_id)
        facts["team_size"] = db.scalar(sa.select(sa.func.count()).select_from(Agent)
                                       .where(Agent.team_id == p.team_id))
    if p.role == Role.AGENT and p.agent_id:
        agent = db.get(Agent, p.agent_id)
        facts["agent"] = agent
        facts["next_shift"] = db.execute(
            sa.select(sa.func.min(Segment.start))
            .join(Schedule, Schedule.published_version_id == Segment.version_id)
            .where(Segment.agent_id == p.agent_id,
                   Segment.end > datetime.now(UTC))).scalar()
    if p.role in (Role.CLIENT_VIEWER, Role.PLANNER, Role.ADMIN):
        facts["queues"] = db.scalars(sa.select(Queue).where(queue_filter(p, Queue.id))
                                     .order_by(Queue.id)).all()
    if p.role == Role.CLIENT_VIEWER and p.client_id is not None:
        facts["client"] = db.get(Client, p.client_id)
    return facts


@router.get("/")
async def home(w: WebUser, db: ReadDB) -> Response:
    ctx = {**w.ctx, **_home_facts(db, w)}
    return render(ctx["request"], "home.html", ctx)
