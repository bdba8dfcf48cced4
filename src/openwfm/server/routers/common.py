"""What every router shares: documented error answers and a 404 helper."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import Path, Query
from sqlalchemy.orm import Session

from openwfm.server.permissions import not_found
from openwfm.server.schemas import Message

T = TypeVar("T")

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "Not signed in, or the token expired"},
    403: {"model": Message, "description": "The role may not do this"},
    404: {"model": Message, "description": "No such object (or not visible to this user)"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    409: {"model": Message, "description": "Conflict: stale version or duplicate"},
}

#: An integer id in a path or query (bounded to what every database stores).
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
QueryId = Annotated[int | None, Query(ge=1, le=2_147_483_647)]


def get_visible(session: Session, model: type[T], object_id: object,
                *where: sa.ColumnElement[bool]) -> T:
    """The row of `model` with this id that passes the tenancy filters `where`; 404 (as if
    it did not exist) otherwise."""
    row = session.scalar(sa.select(model).where(model.id == object_id, *where))  # type: ignore[attr-defined]
    if row is None:
        raise not_found(model.__tablename__.removesuffix("s"), object_id)  # type: ignore[attr-defined]
    return row
