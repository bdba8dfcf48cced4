"""`GET /api/health`: the process answers and the database is reachable."""

from __future__ import annotations

from fastapi import APIRouter

from openwfm.server.deps import ReadDB
from openwfm.server.migrate import current
from openwfm.server.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=Health)
async def health(session: ReadDB) -> Health:
    """200 when the API answers and its database is reachable; the schema revision."""
    engine = session.get_bind()
    return Health(status="ok", database=engine.dialect.name, revision=current(engine))
