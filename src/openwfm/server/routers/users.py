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


TENANCY_FIELD: dict[Role, str] = {
    Role.AGENT: "agent_id", Role.TEAM_LEADER: "team_id",
    Role.CLIENT_VIEWER: "client_id", Role.ACD: "client_id",
}
"""The field that places a user of each role in the tenancy (planners and evaluators: their
``client_ids``, admins: none)."""
MANY_CLIENTS = frozenset({Role.PLANNER, Role.EVALUATOR})
"""The roles whose client companies are a list (``client_ids``)."""


def _check_refs(session: WriteDB, agent_id: str | None, team_id: int | None,
                client_id: int | None, client_ids: list[int] | None) -> None:
    """422 naming the field when a referenced agent, team or client does not exist."""
    for field, table, value in (("agent_id", Agent, agent_id), ("team_id", Team, team_id),
                                ("client_id", Client, client_id)):
        if value is not None and session.get(table, value) is None:
            raise _bad(field, f"no {field.removesuffix('_id')} {value!r}")
    for cid in client_ids or ():
        if session.get(Client, cid) is None:
            raise _bad("client_ids", f"no client {cid}")


def _set_clients(session: WriteDB, user_id: int, client_ids: list[int]) -> None:
    session.execute(sa.delete(PlannerClient).where(PlannerClient.user_id == user_id))
    for cid in sorted(set(client_ids)):
        session.add(PlannerClient(user_id=user_id, client_id=cid))


def _lead(session: WriteDB, user: User) -> None:
    """Make a team leader the leader of their team (and of no other)."""
    leads = user.role == Role.TEAM_LEADER.value and user.team_id is not None
    others = sa.update(Team).where(Team.leader_user_id == user.id)
    if leads:
        others = others.where(Team.id != user.team_id)
    session.execute(others.values(leader_user_id=None))
    if leads:
        team = session.get(Team, user.team_id)
        assert team is not None
        team.leader_user_id = user.id


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 422: {"description": "Invalid field"}})
def create_user(body: UserIn, p: CurrentUser, session: WriteDB) -> User:
    """Add a user with a role; the role's tenancy field is required (agent: ``agent_id``,
    team leader: ``team_id``, client viewer and ACD integration: ``client_id``, planner:
    ``client_ids``)."""
    require(p, "user", "write")
    needs = TENANCY_FIELD.get(body.role)
    if needs and getattr(body, needs) is None:
        raise _bad(needs, f"a {body.role.value} user needs {needs}")
    _check_refs(session, body.agent_id, body.team_id, body.client_id, body.client_ids)
    if session.scalar(sa.select(User.id).where(User.username == body.username)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists")
    user = User(username=body.username, password_hash=hash_password(body.password),
                role=body.role.value, agent_id=body.agent_id, team_id=body.team_id,
                client_id=body.client_id)
    session.add(user)
    session.flush()
    _set_clients(session, user.id, body.client_ids)
    _lead(session, user)
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
    set a new password, change a planner's or evaluator's client companies, or change the
    role with its tenancy field (at the user's next request; the old role's tenancy fields
    are cleared; admin; audited, the password never in the log). An admin may neither
    disable themselves nor give up their own admin role."""
    require(p, "user", "write")
    user = get_visible(session, User, user_id)
    if body.active is False and user.id == p.user_id:
        raise _bad("active", "an admin may not disable themselves")
    role = Role(user.role) if body.role is None else body.role
    if user.id == p.user_id and role != Role.ADMIN:
        raise _bad("role", "an admin may not give up their own admin role")
    sent = body.model_fields_set
    tenancy = {"agent_id": user.agent_id, "team_id": user.team_id,
               "client_id": user.client_id}
    tenancy.update({f: getattr(body, f) for f in tenancy if f in sent})
    needs = TENANCY_FIELD.get(role)
    for field in tenancy:  # a field the role does not have: refused if sent, else cleared
        if field != needs:
            if field in sent and tenancy[field] is not None:
                raise _bad(field, f"a {role.value} user has no {field}")
            tenancy[field] = None
    if needs and tenancy[needs] is None:
        raise _bad(needs, f"a {role.value} user needs {needs}")
    if body.client_ids is not None and role not in MANY_CLIENTS:
        raise _bad("client_ids", f"only a planner or an evaluator has client_ids "
                                 f"(this is a {role.value})")
    _check_refs(session, tenancy["agent_id"], tenancy["team_id"], tenancy["client_id"],
                body.client_ids)
    before = {**audit.snapshot(user), "client_ids": _client_ids(session, user.id)}
    user.role = role.value
    user.agent_id, user.team_id, user.client_id = (
        tenancy["agent_id"], tenancy["team_id"], tenancy["client_id"])
    if role not in MANY_CLIENTS:
        _set_clients(session, user.id, [])
    elif body.client_ids is not None:
        _set_clients(session, user.id, body.client_ids)
    if body.active is not None:
        user.active = body.active
    if body.password is not None:
        user.password_hash = hash_password(body.password)
    session.flush()
    _lead(session, user)
    after = {**audit.snapshot(user), "client_ids": _client_ids(session, user.id),
             "password_changed": body.password is not None}
    audit.record(session, acting_user(session, p), "update", "user", user.id, before, after)
    return user
