"""Queues: their forecast (history, forecast, 80/95 % bands) and service results; a
planner adjusts the forecast of a day or a period by a percentage, with a reason (each
changed interval is an override of the API: previous value, who, when, why, audited)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from openwfm.server.audit import record as audit_record
from openwfm.server.deps import ReadDB, WriteDB, acting_user
from openwfm.server.models import (
    Client,
    Forecast,
    ForecastInterval,
    ForecastOverride,
    HistoryInterval,
    Queue,
    Requirement,
    RequirementInterval,
    User,
)
from openwfm.server.permissions import Principal, allowed, queue_filter, require
from openwfm.server.routers.forecasts import add_override
from openwfm.server.routers.queues import visible_queue
from openwfm.server.schemas import OverrideIn
from openwfm.web.deps import WebPost, WebUser
from openwfm.web.render import render

router = APIRouter(include_in_schema=False)

HISTORY_DAYS = 28


@router.get("/queues")
def queues_page(w: WebUser, db: ReadDB) -> Response:
    """The queues this user may see (a client viewer: their client's only)."""
    require(w.p, "queue", "read")
    rows = db.execute(sa.select(Queue, Client.name).join(Client, Client.id == Queue.client_id)
                      .where(queue_filter(w.p, Queue.id)).order_by(Queue.id)).all()
    return render(w.ctx["request"], "queues.html", {**w.ctx, "queues": rows})


@router.get("/forecast")
def forecast_page(w: WebUser, db: ReadDB) -> Response:
    """The forecast of the first queue this planner may see (each queue has its page)."""
    require(w.p, "forecast", "write")
    first = db.scalar(sa.select(Queue.id).where(queue_filter(w.p, Queue.id))
                      .order_by(Queue.id).limit(1))
    if first is None:
        raise HTTPException(404, "no queue")
    return RedirectResponse(f"/queues/{first}", status_code=303)


def latest_forecast(db: Session, queue_id: str) -> int | None:
    return db.scalar(sa.select(sa.func.max(ForecastInterval.forecast_id))
                     .where(ForecastInterval.queue_id == queue_id))


def forecast_frame(db: Session, forecast_id: int, queue_id: str) -> pd.DataFrame:
    t = ForecastInterval
    rows = db.execute(sa.select(t.interval_start, t.volume, t.aht_s, t.volume_lo_80,
                                t.volume_hi_80, t.volume_lo_95, t.volume_hi_95)
                      .where(t.forecast_id == forecast_id, t.queue_id == queue_id)
                      .order_by(t.interval_start)).all()
    frame = pd.DataFrame(rows, columns=["interval_start", "volume", "aht_s", "lo80", "hi80",
                                        "lo95", "hi95"])
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True)
    return frame


def history_frame(db: Session, queue_id: str, end: datetime | None) -> pd.DataFrame:
    t = HistoryInterval
    last = end or db.scalar(sa.select(sa.func.max(t.interval_start))
                            .where(t.queue_id == queue_id))
    cols = ["interval_start", "volume", "handled", "abandoned", "aht_s"]
    if last is None:
        return pd.DataFrame(columns=cols)
    rows = db.execute(sa.select(t.interval_start, t.volume, t.handled, t.abandoned, t.aht_s)
                      .where(t.queue_id == queue_id,
                             t.interval_start >= last - timedelta(days=HISTORY_DAYS),
                             t.interval_start < last + timedelta(seconds=1))
                      .order_by(t.interval_start)).all()
    frame = pd.DataFrame(rows, columns=cols)
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True)
    return frame


def daily(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Per local day: contacts offered, handled, abandoned share, mean handle time."""
    if frame.empty:
        return pd.DataFrame(columns=["day", "volume", "handled", "abandon", "aht_s"])
    f = frame.copy()
    f["day"] = f["interval_start"].dt.tz_convert(tz).dt.date
    f["handle"] = f["handled"].fillna(0) * f["aht_s"].fillna(0)
    g = f.groupby("day").agg(volume=("volume", "sum"), handled=("handled", "sum"),
                             abandoned=("abandoned", "sum"), handle=("handle", "sum"))
    g["abandon"] = g["abandoned"] / g["volume"].where(g["volume"] > 0)
    g["aht_s"] = g["handle"] / g["handled"].where(g["handled"] > 0)
    return g.reset_index()


def figure(history: pd.DataFrame, fc: pd.DataFrame, tz: str, labels: dict[str, str]
           ) -> dict[str, Any]:
    """A plotly figure (as JSON data) of the history and the forecast with its bands, on
    the queue's clock."""
    def x(frame: pd.DataFrame) -> list[str]:
        return [t.strftime("%Y-%m-%d %H:%M")
                for t in frame["interval_start"].dt.tz_convert(tz)]

    data: list[dict[str, Any]] = []
    if not history.empty:
        data.append({"type": "scatter", "mode": "lines", "name": labels["history"],
                     "x": x(history), "y": history["volume"].round(3).tolist(),
                     "line": {"color": "#4a5561", "width": 1}})
    if not fc.empty:
        fx = x(fc)
        for lo, hi, name, colour in (("lo95", "hi95", labels["band95"], "rgba(47,111,163,0.15)"),
                                     ("lo80", "hi80", labels["band80"], "rgba(47,111,163,0.3)")):
            if fc[lo].notna().any():
                data.append({"type": "scatter", "mode": "lines", "x": fx,
                             "y": fc[lo].round(3).tolist(), "line": {"width": 0},
                             "showlegend": False, "hoverinfo": "skip"})
                data.append({"type": "scatter", "mode": "lines", "x": fx, "name": name,
                             "y": fc[hi].round(3).tolist(), "fill": "tonexty",
                             "fillcolor": colour, "line": {"width": 0}})
        data.append({"type": "scatter", "mode": "lines", "name": labels["forecast"], "x": fx,
                     "y": fc["volume"].round(3).tolist(),
                     "line": {"color": "#2f6fa3", "width": 2}})
    layout = {"height": 340, "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
              "yaxis": {"title": {"text": labels["y"]}, "rangemode": "tozero"},
              "legend": {"orientation": "h"}, "paper_bgcolor": "#fff", "plot_bgcolor": "#fff"}
    return {"data": data, "layout": layout}


def queue_context(db: Session, w: Any, queue_id: str) -> dict[str, Any]:
    p: Principal = w.p
    require(p, "queue", "read")
    q = visible_queue(db, p, queue_id)  # 404 for another client's queue
    _ = w.ctx["_"]
    ctx: dict[str, Any] = {**w.ctx, "q": q, "client": db.get(Client, q.client_id),
                           "can_adjust": allowed(p, "forecast", "write")}
    fid = latest_forecast(db, q.id) if allowed(p, "forecast", "read") else None
    fc = forecast_frame(db, fid, q.id) if fid else pd.DataFrame()
    hist = pd.DataFrame()
    if allowed(p, "history", "read"):
        end = fc["interval_start"].min().to_pydatetime() if not fc.empty else None
        hist = history_frame(db, q.id, end)
    labels = {"history": _("History"), "forecast": _("Forecast"),
              "band80": _("80 %% band"), "band95": _("95 %% band"),
              "y": _("Contacts per interval")}
    ctx.update(forecast_id=fid, forecast=db.get(Forecast, fid) if fid else None,
               fc_daily=daily(fc.assign(handled=None, abandoned=None), q.tz) if not fc.empty
               else None,
               hist_daily=daily(hist, q.tz) if not hist.empty else None,
               figure=json.dumps(figure(hist, fc, q.tz, labels)) if not (
                   hist.empty and fc.empty) else None)
    if fid and allowed(p, "forecast", "write"):
        ctx["overrides"] = db.execute(
            sa.select(ForecastOverride.reason, ForecastOverride.created_at, User.username,
                      sa.func.count(), sa.func.min(ForecastOverride.interval_start),
                      sa.func.max(ForecastOverride.interval_start))
            .join(User, User.id == ForecastOverride.user_id)
            .where(ForecastOverride.forecast_id == fid, ForecastOverride.queue_id == q.id)
            .group_by(ForecastOverride.reason, ForecastOverride.created_at, User.username)
            .order_by(ForecastOverride.created_at.desc()).limit(20)).all()
        days = sorted({t.date() for t in fc["interval_start"].dt.tz_convert(q.tz)})
        ctx["fc_days"] = days
    return ctx


@router.get("/queues/{queue_id}")
def queue_page(queue_id: str, w: WebUser, db: ReadDB) -> Response:
    """A queue's forecast and service results (a client viewer: only their client's
    queues; another client's answers 404)."""
    return render(w.ctx["request"], "queue.html", queue_context(db, w, queue_id))


@router.post("/queues/{queue_id}/adjust")
def adjust_forecast(queue_id: str, w: WebPost, db: WriteDB,
                    first: Annotated[date, Form()], last: Annotated[date, Form()],
                    percent: Annotated[float, Form(ge=-90, le=500)],
                    reason: Annotated[str, Form(min_length=3, max_length=2000)]) -> Response:
    """Multiply the forecast volume of the queue's local days `first`..`last` by
    ``1 + percent / 100``: one override per interval through the API's override path
    (previous value, reason, who and when; audited), in one transaction."""
    require(w.p, "forecast", "write")
    q = visible_queue(db, w.p, queue_id)
    fid = latest_forecast(db, q.id)
    if fid is None:
        raise HTTPException(404, f"no forecast for queue {q.id!r}")
    if last < first:
        raise HTTPException(422, "the last day is before the first")
    zone = ZoneInfo(q.tz)
    lo = datetime.combine(first, time(0), zone).astimezone(UTC)
    hi = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC)
    rows = db.execute(sa.select(ForecastInterval.interval_start, ForecastInterval.volume)
                      .where(ForecastInterval.forecast_id == fid,
                             ForecastInterval.queue_id == q.id,
                             ForecastInterval.interval_start >= lo,
                             ForecastInterval.interval_start < hi)).all()
    factor = 1 + percent / 100
    for at, volume in rows:
        add_override(fid, OverrideIn(queue_id=q.id, interval_start=at, field="volume",
                                     value=round(volume * factor, 6), reason=reason),
                     w.p, db)
    recomputed = recompute_requirements(db, w.p, fid, q.id, lo, hi)
    db.commit()
    ngettext, _ = w.ctx["ngettext"], w.ctx["_"]
    ctx = queue_context(db, w, q.id)
    ctx["message"] = ngettext(
        "%(num)s interval adjusted by %(pct)s %%.", "%(num)s intervals adjusted by %(pct)s %%.",
        len(rows), pct=w.ctx["fmt_num"](percent))
    if recomputed is not None:
        ctx["message"] += " " + _(
            "Requirement recomputed: %(before)s → %(after)s agent-hours.",
            before=w.ctx["fmt_num"](recomputed[0], "#,##0.0"),
            after=w.ctx["fmt_num"](recomputed[1], "#,##0.0"))
    return render(w.ctx["request"], "queue.html", ctx)


def recompute_requirements(db: Session, p: Principal, forecast_id: int, queue_id: str,
                           lo: datetime, hi: datetime) -> tuple[float, float] | None:
    """Staff the adjusted intervals again (`openwfm.app.stages.staffing_stage`, the plan's
    staffing stage, with the queue's goal) and store the agents required in the
    requirements made from this forecast (audited); the agent-hours before and after, or
    None when no requirement was made from it."""
    from openwfm.app.stages import staffing_stage
    from openwfm.server.center import load_scenario_from_db

    req_ids = list(db.scalars(sa.select(Requirement.id).where(
        Requirement.forecast_id == forecast_id)))
    if not req_ids:
        return None
    fc = forecast_frame(db, forecast_id, queue_id)
    fc = fc[(fc["interval_start"] >= lo) & (fc["interval_start"] < hi)]
    scenario = load_scenario_from_db(db)
    staffed = staffing_stage(scenario, fc.assign(queue=queue_id))
    hours = scenario.interval_s / 3600
    t = RequirementInterval
    before = after = 0.0
    for rid in req_ids:
        old = dict(db.execute(sa.select(t.interval_start, t.agents).where(
            t.requirement_id == rid, t.queue_id == queue_id, t.interval_start >= lo,
            t.interval_start < hi)).all())
        for at, agents, sl in zip(staffed["interval_start"], staffed["agents"],
                                  staffed["service_level"], strict=True):
            when = pd.Timestamp(at).to_pydatetime()
            db.execute(sa.update(t).where(t.requirement_id == rid, t.queue_id == queue_id,
                                          t.interval_start == when)
                       .values(agents=float(agents), service_level=float(sl)))
        before += sum(old.values()) * hours
        after += float(staffed["agents"].sum()) * hours
        audit_record(db, acting_user(db, p), "recompute", "requirement", rid,
                     before={"queue": queue_id, "agent_hours": sum(old.values()) * hours},
                     after={"queue": queue_id, "agent_hours": float(staffed["agents"].sum())
                            * hours, "forecast_id": forecast_id,
                            "from": lo.isoformat(), "to": hi.isoformat()})
    return before, after
