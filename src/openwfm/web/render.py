"""Templates (Jinja2, autoescaped, with the i18n extension) and the page context."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from openwfm.server.models import Role
from openwfm.server.permissions import Principal, allowed
from openwfm.web import i18n
from openwfm.web.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    WebSession,
    login_csrf,
    set_login_csrf,
)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"

ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                  extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
ENV.install_null_translations(newstyle=True)  # the real ones come in each page's context


def N_(message: str) -> str:
    """Mark a msgid for extraction (translated where it is shown)."""
    return message


ROLE_LABELS = {Role.ADMIN: N_("administrator"), Role.PLANNER: N_("planner"),
               Role.TEAM_LEADER: N_("team leader"), Role.AGENT: N_("agent"),
               Role.CLIENT_VIEWER: N_("client viewer"), Role.ACD: N_("ACD integration"),
               Role.EVALUATOR: N_("quality evaluator")}


def nav(p: Principal | None) -> list[tuple[str, str]]:
    """(path, msgid) of the menu of a role."""
    if p is None:
        return []
    items = [("/", N_("Home"))]
    if p.role in (Role.ADMIN, Role.PLANNER):
        items += [("/schedule", N_("Schedule")), ("/forecast", N_("Forecast")),
                  ("/queues", N_("Queues")), ("/capacity", N_("Capacity")),
                  ("/jobs", N_("Jobs")), ("/today", N_("Today")), ("/bids", N_("Shift bids")),
                  ("/meetings", N_("Meetings")), ("/intraday", N_("Intraday"))]
    elif p.role == Role.TEAM_LEADER:
        items += [("/today", N_("Today")), ("/schedule", N_("Team schedule")),
                  ("/requests", N_("Requests")), ("/bids", N_("Shift bids")),
                  ("/meetings", N_("Meetings"))]
    elif p.role == Role.AGENT:
        items += [("/me/schedule", N_("My schedule")), ("/me/requests", N_("My requests")),
                  ("/me/bids", N_("Shift bids")), ("/me/preferences", N_("My availability"))]
    elif p.role == Role.CLIENT_VIEWER:
        items += [("/queues", N_("Queues"))]
    if allowed(p, "quality_score", "read"):
        items += [("/quality", N_("Quality"))]
    return items


def page_context(request: Request, p: Principal | None, sess: WebSession | None,
                 language: str | None = None) -> dict[str, Any]:
    """The context every template gets. The page language: the signed-in user's own
    setting (`language`), else this browser's switcher cookie, else ``Accept-Language``."""
    lang = i18n.negotiate(language if language in i18n.LANGUAGES
                          else request.cookies.get(i18n.LANG_COOKIE),
                          request.headers.get("accept-language"))
    loc = i18n.locale(lang)

    def dt(t: datetime, tz: str, fmt: str = "EEE d MMM HH:mm") -> str:
        return format_datetime(t.astimezone(ZoneInfo(tz)), fmt, locale=loc)

    def tm(t: datetime, tz: str) -> str:
        return format_time(t.astimezone(ZoneInfo(tz)), "HH:mm", locale=loc)

    def day(t: datetime, tz: str, fmt: str = "full") -> str:
        return format_date(t.astimezone(ZoneInfo(tz)).date(), fmt, locale=loc)

    return {
        "request": request, "user": p, "lang": lang, "languages": i18n.LANGUAGES,
        "csrf_token": sess.csrf if sess else "", "csrf_field": CSRF_FIELD,
        "lang_csrf": sess.csrf if sess else login_csrf(request),
        "csrf_header": CSRF_HEADER, "nav": nav(p), "path": request.url.path,
        "role_label": lambda r: ROLE_LABELS.get(Role(r), str(r)),
        "fmt_dt": dt, "fmt_time": tm, "fmt_day": day,
        "fmt_date": lambda d, fmt="EEE d MMM": format_date(d, fmt, locale=loc),
        "fmt_num": lambda x, fmt="#,##0.#": format_decimal(x, fmt, locale=loc),
        "fmt_pct": lambda x: format_percent(x, "#,##0.0 %", locale=loc),
        **i18n.gettext_functions(lang),
    }


def render(request: Request, template: str, ctx: dict[str, Any], status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    """`template` rendered with the page context `ctx` (from `page_context`)."""
    html = ENV.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    token = ctx.get("lang_csrf")
    if token and not ctx.get("csrf_token"):  # before sign-in: the double-submit token of
        set_login_csrf(request, response, token)  # the sign-in form and the switcher
    return response
