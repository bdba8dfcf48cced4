"""Forecasts (versioned) and planners' overrides (who, when, why, replacing what)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, status

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Forecast, ForecastInterval, ForecastOverride, User
from openwfm.server.permissions import queue_filter, require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id, get_visible
from openwfm.server.schemas import ForecastOut, ForecastRowOut, OverrideIn, OverrideOut

router = APIRouter(prefix="/api/forecasts", tags=["forecasts"])


@router.get("", response_model=list[ForecastOut], responses=AUTH_ERRORS)
async def list_forecasts(p: CurrentUser, session: ReadDB) -> list[Forecast]:
    """Every forecast version, newest first."""
    require(p, "forecast", "read")
    return list(session.scalars(sa.select(Forecast).order_by(Forecast.id.desc())))


def _get(session: ReadDB, forecast_id: int) -> Forecast:
    return get_visible(session, Forecast, forecast_id)


@router.get("/{forecast_id}", response_model=ForecastOut, responses=AUTH_ERRORS)
async def get_forecast(forecast_id: Id, p: CurrentUser, session: ReadDB) -> Forecast:
    require(p, "forecast", "read")
    return _get(session, forecast_id)


@router.get("/{forecast_id}/intervals", response_model=list[ForecastRowOut],
            responses=AUTH_ERRORS)
async def forecast_intervals(forecast_id: Id, p: CurrentUser, session: ReadDB,
                       queue_id: Annotated[str | None, Query(max_length=100)] = None,
                       limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
                       ) -> list[ForecastRowOut]:
    """The forecast's rows (overrides applied; ``overridden`` marks them) of the queues this
    user may see (a client viewer: their client's)."""
    require(p, "forecast", "read")
    _get(session, forecast_id)
    stmt = sa.select(ForecastInterval).where(ForecastInterval.forecast_id == forecast_id,
                                             queue_filter(p, ForecastInterval.queue_id))
    if queue_id is not None:
        stmt = stmt.where(ForecastInterval.queue_id == queue_id)
    rows = session.scalars(stmt.order_by(ForecastInterval.queue_id,
                                         ForecastInterval.interval_start).limit(limit)).all()
    touched = set(session.execute(sa.select(ForecastOverride.queue_id,
                                            ForecastOverride.interval_start).where(
        ForecastOverride.forecast_id == forecast_id)).all())
    out = []
    for r in rows:
        item = ForecastRowOut.model_validate(r)
        item.overridden = (r.queue_id, r.interval_start) in touched
        out.append(item)
    return out


@router.get("/{forecast_id}/overrides", response_model=list[OverrideOut],
            responses=AUTH_ERRORS)
async def list_overrides(forecast_id: Id, p: CurrentUser,
                         session: ReadDB) -> list[OverrideOut]:
    """The planners' changes of this forecast version, oldest first: the value set, the
    value it replaced, why, who and when (of the queues this user may see)."""
    require(p, "forecast", "read")
    _get(session, forecast_id)
    rows = session.execute(sa.select(ForecastOverride, User.username)
                           .join(User, User.id == ForecastOverride.user_id).where(
        ForecastOverride.forecast_id == forecast_id,
        queue_filter(p, ForecastOverride.queue_id)).order_by(ForecastOverride.id)).all()
    return [_override_out(ov, name) for ov, name in rows]


def _override_out(ov: ForecastOverride, username: str) -> OverrideOut:
    return OverrideOut.model_validate({**{c.key: getattr(ov, c.key)
                                          for c in ForecastOverride.__table__.columns},
                                       "username": username})


@router.post("/{forecast_id}/overrides", response_model=OverrideOut,
             status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 422: {"description": "No such interval, or bad value"}})
def add_override(forecast_id: Id, body: OverrideIn, p: CurrentUser,
                 session: WriteDB) -> OverrideOut:
    """Set one forecast value (``volume`` or ``aht_s``) of one queue and interval, with the
    reason; the previous value is kept in the override and the audit log."""
    require(p, "forecast", "write")
    _get(session, forecast_id)
    at = body.interval_start.astimezone(UTC)
    has_queue = session.scalar(sa.select(ForecastInterval.queue_id).where(
        ForecastInterval.forecast_id == forecast_id, ForecastInterval.queue_id == body.queue_id,
        queue_filter(p, ForecastInterval.queue_id)).limit(1))
    if has_queue is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["body", "queue_id"], "type": "value_error",
            "msg": f"forecast {forecast_id} has no queue {body.queue_id[:100]!r}"}])
    row = session.scalar(sa.select(ForecastInterval).where(
        ForecastInterval.forecast_id == forecast_id, ForecastInterval.queue_id == body.queue_id,
        ForecastInterval.interval_start == at, queue_filter(p, ForecastInterval.queue_id)))
    if row is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["body", "interval_start"], "type": "value_error",
            "msg": f"forecast {forecast_id} has no interval {at.isoformat()} for queue "
                   f"{body.queue_id!r}"}])
    previous = getattr(row, body.field)
    setattr(row, body.field, body.value)
    ov = ForecastOverride(forecast_id=forecast_id, queue_id=body.queue_id, interval_start=at,
                          field=body.field, value=body.value, previous=previous,
                          reason=body.reason, user_id=p.user_id)
    session.add(ov)
    session.flush()
    audit.record(session, acting_user(session, p), "override", "forecast",
                 f"{forecast_id}/{body.queue_id}/{at.isoformat()}",
                 before={body.field: previous},
                 after={body.field: body.value, "reason": body.reason})
    return _override_out(ov, p.username)
