"""Client companies (tenants)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, status

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Client
from openwfm.server.permissions import client_filter, require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id, get_visible
from openwfm.server.schemas import ClientIn, ClientOut

router = APIRouter(prefix="/api/clients", tags=["clients"])


@router.get("", response_model=list[ClientOut], responses=AUTH_ERRORS)
async def list_clients(p: CurrentUser, session: ReadDB) -> list[Client]:
    """The client companies this user may see (a planner: those assigned; a viewer: own)."""
    require(p, "client", "read")
    return list(session.scalars(sa.select(Client).where(client_filter(p, Client.id))
                                .order_by(Client.id)))


@router.get("/{client_id}", response_model=ClientOut, responses=AUTH_ERRORS)
async def get_client(client_id: Id, p: CurrentUser, session: ReadDB) -> Client:
    require(p, "client", "read")
    return get_visible(session, Client, client_id, client_filter(p, Client.id))


@router.post("", response_model=ClientOut, status_code=status.HTTP_201_CREATED,
             responses=WRITE_ERRORS)
def create_client(body: ClientIn, p: CurrentUser, session: WriteDB) -> Client:
    """Add a client company (admin)."""
    require(p, "client", "write")
    if session.scalar(sa.select(Client.id).where(Client.name == body.name)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"client {body.name!r} exists")
    row = Client(name=body.name)
    session.add(row)
    session.flush()
    audit.record(session, acting_user(session, p), "create", "client", row.id,
                 after=audit.snapshot(row))
    return row
