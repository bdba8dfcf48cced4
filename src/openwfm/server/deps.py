"""FastAPI dependencies: database sessions and the signed-in principal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from openwfm.server.config import Settings
from openwfm.server.db import Database
from openwfm.server.models import PlannerClient, Role, User
from openwfm.server.permissions import Principal
from openwfm.server.security import TokenClaims, read_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def database(request: Request) -> Database:
    return request.app.state.db


async def settings(request: Request) -> Settings:
    return request.app.state.settings


# The session dependencies are async generators on purpose: their exit (returning the
# connection to the pool, committing) then runs on the event loop, not on a worker thread. A
# sync generator's exit needs a free thread while its request still holds a connection;
# under load every thread can be waiting for a connection that only such an exit returns
# (a deadlock until the pool times out).
async def read_session(db: Annotated[Database, Depends(database)]) -> AsyncIterator[Session]:
    """A session for reading (no commit); its connection is taken at the first query."""
    session = db.read()
    try:
        yield session
    finally:
        session.close()


async def write_session(db: Annotated[Database, Depends(database)]
                        ) -> AsyncIterator[Session]:
    """A session in one transaction: committed when the handler returns, rolled back when it
    raises (so a failed request writes nothing)."""
    session = db.write()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


ReadDB = Annotated[Session, Depends(read_session)]
WriteDB = Annotated[Session, Depends(write_session)]


def unauthorized(msg: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, msg,
                         headers={"WWW-Authenticate": "Bearer"})


def token_claims(request: Request, token: str | None) -> TokenClaims:
    """The claims of the request's bearer token (401 when missing, invalid or expired)."""
    if not token:
        raise unauthorized("not signed in: send 'Authorization: Bearer <token>' "
                            "(POST /api/auth/token)")
    claims = read_token(request.app.state.signing_key, token)
    if claims is None:
        raise unauthorized("invalid or expired token")
    return claims


async def principal(request: Request, token: Annotated[str | None, Depends(oauth2)],
              session: Annotated[Session, Depends(read_session)]) -> Principal:
    """The signed-in user from the bearer token (401 when missing, invalid or expired).
    Read in the request's read session (one connection for a read request)."""
    claims = token_claims(request, token)
    p = load_principal(session, claims.user_id)
    if p is None:
        raise unauthorized("unknown or disabled user")
    session.rollback()  # end the read transaction: the handler may run long
    return p


def load_principal(session: Session, user_id: int) -> Principal | None:
    """The principal of an active user (role, tenancy), None for an unknown or disabled one.
    Used by the bearer-token dependency and by the web pages' session cookie."""
    row = session.execute(sa.select(User.id, User.username, User.role, User.agent_id,
                                    User.team_id, User.client_id, User.active)
                          .where(User.id == user_id)).first()
    if row is None or not row.active:
        return None
    client_ids: frozenset[int] = frozenset()
    if row.role in (Role.PLANNER, Role.EVALUATOR):  # the client companies assigned
        client_ids = frozenset(session.scalars(
            sa.select(PlannerClient.client_id).where(PlannerClient.user_id == row.id)))
    return Principal(user_id=row.id, username=row.username, role=Role(row.role),
                     agent_id=row.agent_id, team_id=row.team_id, client_id=row.client_id,
                     client_ids=client_ids)


CurrentUser = Annotated[Principal, Depends(principal)]


def acting_user(session: Session, p: Principal) -> User:
    """The `User` row of `p` inside `session` (for audit entries)."""
    user = session.get(User, p.user_id)
    assert user is not None
    return user
