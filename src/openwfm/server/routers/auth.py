"""`POST /api/auth/token` (OAuth2 password flow) and `GET /api/auth/me`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from openwfm.server.config import Settings
from openwfm.server.deps import CurrentUser, WriteDB, settings
from openwfm.server.models import LoginAttempt, User
from openwfm.server.routers.common import AUTH_ERRORS
from openwfm.server.schemas import Me, Message, Token
from openwfm.server.security import issue_token, verify_password

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=Token, responses={
    401: {"model": Message, "description": "Wrong user name or password"},
    429: {"model": Message, "description": "Too many failed attempts; retry later"}})
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request,
          session: WriteDB, conf: Annotated[Settings, Depends(settings)]) -> Token:
    """Sign in with form fields `username` and `password`; returns a bearer token.

    After `login_max_failures` failed attempts for one user name, or
    `login_max_address_failures` from one address (whatever the names), within
    `login_window_s` seconds, further attempts answer 429 until the window has passed
    (shared by every worker: attempts are kept in the database)."""
    now = datetime.now(UTC)
    address = request.client.host if request.client else ""
    user = authenticate(session, conf, form.username, form.password, address, now)
    key = request.app.state.signing_key
    return Token(access_token=issue_token(key, user.id, conf.token_ttl_s, now),
                 token_type="bearer",
                 expires_at=now.replace(microsecond=0) + timedelta(seconds=conf.token_ttl_s))


def authenticate(session: Session, conf: Settings, username: str, password: str,
                 address: str, now: datetime) -> User:
    """The active user with this name and password, or 401; 429 after too many failures.

    After `login_max_failures` failed attempts for one user name, or
    `login_max_address_failures` from one address (whatever the names), within
    `login_window_s` seconds, further attempts answer 429 until the window has passed
    (shared by every worker: attempts are kept in the database). Used by the token
    endpoint and by the web sign-in form."""
    since = now - timedelta(seconds=conf.login_window_s)
    failures = session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username, LoginAttempt.at >= since,
        LoginAttempt.ok.is_(False)))
    if failures is not None and failures >= conf.login_max_failures:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"too many failed sign-ins for {username!r}; retry in "
                            f"{conf.login_window_s} s",
                            headers={"Retry-After": str(conf.login_window_s)})
    if conf.login_max_address_failures > 0 and address:
        from_address = session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)
                                      .where(LoginAttempt.address == address,
                                             LoginAttempt.at >= since,
                                             LoginAttempt.ok.is_(False)))
        if from_address is not None and from_address >= conf.login_max_address_failures:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                                f"too many failed sign-ins from {address}; retry in "
                                f"{conf.login_window_s} s",
                                headers={"Retry-After": str(conf.login_window_s)})
    user = session.scalar(sa.select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user is not None else None, password)
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(username=username[:100], at=now, ok=ok, address=address))
    if not ok or user is None:
        session.commit()  # the failed attempt counts even though we answer an error
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


@router.get("/me", response_model=Me, responses=AUTH_ERRORS)
async def me(p: CurrentUser) -> Me:
    """Who the bearer token belongs to, with the role and tenancy the server applies."""
    return Me(id=p.user_id, username=p.username, role=p.role, agent_id=p.agent_id,
              team_id=p.team_id, client_id=p.client_id, client_ids=sorted(p.client_ids))
