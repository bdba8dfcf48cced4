"""Every write leaves an audit entry (who, when, what, before/after) in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from openwfm.server.models import AuditEntry, Base, User


def snapshot(obj: Base | None, *, exclude: tuple[str, ...] = ("password_hash",)) -> Any:
    """The column values of a table row as JSON-ready data (None for no row)."""
    if obj is None:
        return None
    out: dict[str, Any] = {}
    for col in obj.__table__.columns:
        if col.key in exclude:
            continue
        v = getattr(obj, col.key)
        out[col.key] = v.isoformat() if isinstance(v, datetime | date) else v
    return out


def record(session: Session, user: User | None, action: str, object_type: str,
           object_id: object, before: Any = None, after: Any = None) -> None:
    """Add one audit entry to `session` (committed with the change it describes)."""
    session.add(AuditEntry(
        user_id=user.id if user is not None else None,
        username=user.username if user is not None else "system",
        action=action, object_type=object_type, object_id=str(object_id),
        before=before, after=after,
    ))
