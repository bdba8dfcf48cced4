"""The audit log: every write, who, when, before/after (admin)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query

from openwfm.server.deps import CurrentUser, ReadDB
from openwfm.server.models import AuditEntry
from openwfm.server.permissions import require
from openwfm.server.routers.common import AUTH_ERRORS
from openwfm.server.schemas import AuditOut

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=list[AuditOut], responses=AUTH_ERRORS)
async def list_audit(p: CurrentUser, session: ReadDB,
               object_type: Annotated[str | None, Query(max_length=32)] = None,
               object_id: Annotated[str | None, Query(max_length=100)] = None,
               limit: Annotated[int, Query(ge=1, le=10_000)] = 500) -> list[AuditEntry]:
    """The newest audit entries first, optionally of one object."""
    require(p, "audit", "read")
    stmt = sa.select(AuditEntry)
    if object_type is not None:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))
