"""The web pages' sign-in: a session cookie, and CSRF protection of every POST.

The cookie holds a signed JWT (PyJWT, HS256) with the user id, an expiry and the session's
CSRF token; its key is derived from the server's token signing key (``key + ":web"``), so a
session cookie is never accepted as a bearer token nor the other way round. The cookie is
``HttpOnly`` (scripts cannot read it), ``SameSite=Lax`` (not sent on cross-site POSTs) and
``Secure`` when the page was served over https (directly or behind a proxy that says so in
``X-Forwarded-Proto``).

CSRF: every POST of a signed-in page must carry the session's token, as the form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it: ``hx-headers`` on ``<body>``);
the token is compared in constant time with the one inside the signed cookie (a
synchronizer token bound to the session). The sign-in form, before any session, uses a
double-submit token: a random value in the ``openwfm_csrf`` cookie that the form must repeat.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import HTTPException, Request, Response, status

SESSION_COOKIE = "openwfm_session"
LOGIN_CSRF_COOKIE = "openwfm_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class WebSession:
    user_id: int
    csrf: str
    expires_at: datetime
    jti: str
    """The session's id (revoked at sign-out: `openwfm.server.models.RevokedSession`)."""


def _key(request: Request) -> str:
    return request.app.state.signing_key + ":web"


def is_https(request: Request) -> bool:
    """Whether the browser reached us over https (directly, or through a proxy)."""
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip().lower() == "https"


def start_session(request: Request, response: Response, user_id: int, ttl_s: int,
                  now: datetime | None = None) -> WebSession:
    """Set the session cookie for `user_id` on `response` (a fresh CSRF token)."""
    now = now or datetime.now(UTC)
    sess = WebSession(user_id, secrets.token_urlsafe(32),
                      now.replace(microsecond=0) + timedelta(seconds=ttl_s),
                      secrets.token_urlsafe(24))
    value = jwt.encode({"sub": str(user_id), "csrf": sess.csrf, "typ": "web",
                        "jti": sess.jti, "exp": int(sess.expires_at.timestamp())},
                       _key(request),
                       algorithm=ALGORITHM)
    response.set_cookie(SESSION_COOKIE, value, max_age=ttl_s, httponly=True,
                        samesite="lax", secure=is_https(request), path="/")
    return sess


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def read_session(request: Request) -> WebSession | None:
    """The valid, unexpired session of this request's cookie; None otherwise (whether it
    was revoked at sign-out is `openwfm.web.deps.web_user`'s check, with the database)."""
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    try:
        claims = jwt.decode(value, _key(request), algorithms=[ALGORITHM],
                            options={"require": ["sub", "exp", "csrf", "jti"]})
        if claims.get("typ") != "web":
            return None
        return WebSession(int(claims["sub"]), str(claims["csrf"]),
                          datetime.fromtimestamp(claims["exp"], UTC), str(claims["jti"]))
    except (jwt.PyJWTError, ValueError):
        return None


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two tokens (False when either is missing).

    >>> same("abc", "abc"), same("abc", "abd"), same(None, "abc"), same("", "")
    (True, False, False, False)
    """
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


async def submitted_token(request: Request) -> str | None:
    """The CSRF token a POST carries: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def csrf_failed() -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN,
                         "the form expired or did not come from openwfm (CSRF token); "
                         "reload the page and retry")


def login_csrf(request: Request) -> str:
    """The double-submit token of the sign-in form (the cookie's, or a new one)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True,
                        samesite="strict", secure=is_https(request), path="/")
