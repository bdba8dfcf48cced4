"""Dependencies of the web pages: the signed-in user from the session cookie (or a
redirect to the sign-in page) and the CSRF check of every POST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from openwfm.server.deps import load_principal, read_session
from openwfm.server.models import RevokedSession, User
from openwfm.server.permissions import Principal
from openwfm.web.render import page_context
from openwfm.web.session import WebSession, csrf_failed, same, submitted_token
from openwfm.web.session import read_session as read_cookie


class SignInRequired(Exception):
    """No valid session: the page answers a redirect to /login?next=<path>."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Web:
    """What a page handler needs: who, their session and the template context."""

    p: Principal
    session: WebSession
    ctx: dict[str, Any]


async def web_user(request: Request,
                   db: Annotated[Session, Depends(read_session)]) -> Web:
    sess = read_cookie(request)
    p = load_principal(db, sess.user_id) if sess is not None else None
    if sess is not None and db.get(RevokedSession, sess.jti) is not None:
        p = None  # signed out: the cookie no longer signs in
    lang = db.scalar(sa.select(User.language).where(User.id == p.user_id)) if p else None
    db.rollback()
    if sess is None or p is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(quote(target, safe="/?=&"))
    return Web(p, sess, page_context(request, p, sess, lang))


async def web_user_csrf(request: Request, w: Annotated[Web, Depends(web_user)]) -> Web:
    """`web_user`, for a POST: 403 unless it carries the session's CSRF token."""
    if not same(await submitted_token(request), w.session.csrf):
        raise csrf_failed()
    return w


WebUser = Annotated[Web, Depends(web_user)]
WebPost = Annotated[Web, Depends(web_user_csrf)]
