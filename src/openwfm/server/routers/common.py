"""What every router shares: documented error answers and a 404 helper."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from openwfm.server.schemas import Message

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
