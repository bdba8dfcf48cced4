"""Users and roles (admin only)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, status

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Agent, Client, PlannerClient, Role, Team, User
from openwfm.server.permissions import require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id, get_visible
from openwfm.server.schemas import UserIn, UserOut, UserUpdate
from openwfm.server.security import hash_password

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserOut], responses=AUTH_ERRORS)
async def list_users(p: CurrentUser, session: ReadDB) -> list[User]:
    require(p, "user", "read")
    return list(session.scalars(sa.select(User).order_by(User.id)))


@router.get("/{user_id}", response_model=UserOut, responses=AUTH_ERRORS)
async def get_user(user_id: Id, p: CurrentUser, session: ReadDB) -> User:
    require(p, "user", "read")
    return get_visible(session, User, user_id)


def _bad(field: str, msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": ["body", field], "msg": msg, "type": "value_error"}])


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 422: {"description": "Invalid field"}})
def create_user(body: UserIn, p: CurrentUser, session: WriteDB) -> User:
    """Add a user with a role; the role's tenancy field is required (agent: ``agent_id``,
    team leader: ``team_id``, client viewer and ACD integration: ``client_id``, planner:
    ``client_ids``)."""
    require(p, "user", "write")
    needs = {Role.AGENT: "agent_id", Role.TEAM_LEADER: "team_id",
             Role.CLIENT_VIEWER: "client_id", Role.ACD: "client_id"}.get(body.role)
    if needs and getattr(body, needs) is None:
        raise _bad(needs, f"a {body.role.value} user needs {needs}")
    for field, table in (("agent_id", Agent), ("team_id", Team), ("client_id", Client)):
        value = getattr(body, field)
        if value is not None and session.get(table, value) is None:
            raise _bad(field, f"no {field.removesuffix('_id')} {value!r}")
    for cid in body.client_ids:
        if session.get(Client, cid) is None:
            raise _bad("client_ids", f"no client {cid}")
    if session.scalar(sa.select(User.id).where(User.username == body.username)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists")
    user = User(username=body.username, password_hash=hash_password(body.password),
                role=body.role.value, agent_id=body.agent_id, team_id=body.team_id,
                client_id=body.client_id)
    session.add(user)
    session.flush()
    for cid in sorted(set(body.client_ids)):
        session.add(PlannerClient(user_id=user.id, client_id=cid))
    if body.role == Role.TEAM_LEADER and body.team_id is not None:
        team = session.get(Team, body.team_id)
        assert team is not None
        team.leader_user_id = user.id
    audit.record(session, acting_user(session, p), "create", "user", user.id,
                 after={**audit.snapshot(user), "client_ids": sorted(set(body.client_ids))})
    return user


def _client_ids(session: WriteDB, user_id: int) -> list[int]:
    return sorted(session.scalars(sa.select(PlannerClient.client_id).where(
        PlannerClient.user_id == user_id)))


@router.patch("/{user_id}", response_model=UserOut,
              responses={**WRITE_ERRORS, 422: {"description": "Invalid field"}})
def update_user(user_id: Id, body: UserUpdate, p: CurrentUser, session: WriteDB) -> User:
    """Disable or enable a user (their tokens stop or start working at the next request),
    set a new password, or change a planner's client companies (admin; audited, the
    password never in the log)."""
    require(p, "user", "write")
    user = get_visible(session, User, user_id)
    if body.active is False and user.id == p.user_id:
        raise _bad("active", "an admin may not disable themselves")
    before = {**audit.snapshot(user), "client_ids": _client_ids(session, user.id)}
    if body.client_ids is not None:
        if user.role != Role.PLANNER.value:
            raise _bad("client_ids", f"only a planner has client_ids (this is a {user.role})")
        for cid in body.client_ids:
            if session.get(Client, cid) is None:
                raise _bad("client_ids", f"no client {cid}")
        session.execute(sa.delete(PlannerClient).where(PlannerClient.user_id == user.id))
        for cid in sorted(set(body.client_ids)):
            session.add(PlannerClient(user_id=user.id, client_id=cid))
    if body.active is not None:
        user.active = body.active
    if body.password is not None:
        user.password_hash = hash_password(body.password)
    session.flush()
    after = {**audit.snapshot(user), "client_ids": _client_ids(session, user.id),
             "password_changed": body.password is not None}
    audit.record(session, acting_user(session, p), "update", "user", user.id, before, after)
    return user
