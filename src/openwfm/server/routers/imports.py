"""History imports: an ACD interval CSV or a call-by-call log through the API, with the
CLI's own validation.

An interval file goes through `openwfm.io.intervals.read_interval_csv` (the reader of
`openwfm import intervals`), a call log through `openwfm.io.calllog.read_call_log` and
`aggregate_intervals` (those of `openwfm import calls`), so a bad file gets the same message
naming row and column, here as a 422. The rows are stored in one transaction: a bad file
stores nothing.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from sqlalchemy.orm import Session

from openwfm.errors import InputError
from openwfm.io.calllog import CallLogFormat, aggregate_intervals, log_zone, read_call_log
from openwfm.io.intervals import read_interval_csv
from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, acting_user
from openwfm.server.models import HistoryImport, HistoryInterval, Queue
from openwfm.server.permissions import Principal, queue_filter, require
from openwfm.server.routers.common import WRITE_ERRORS
from openwfm.server.schemas import ImportOut, Message

router = APIRouter(prefix="/api/imports", tags=["imports"])

MAX_WAIT_S = 7 * 86_400.0
"""Largest service-level threshold or short-abandon limit accepted: the bound of
`openwfm import calls --answer-within/--short-abandon` (docs/errors.md)."""
VALUE_COLUMNS = ("volume", "handled", "abandoned", "aht_s", "asa_s", "answered_within")


def _safe_name(name: str | None) -> str:
    base = Path(name or "upload.csv").name
    return re.sub(r"[^A-Za-z0-9._-]", "_", base)[:100] or "upload.csv"


def _save(upload: UploadFile, folder: Path, limit: int) -> Path:
    path = folder / _safe_name(upload.filename)
    size = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                    f"upload larger than the limit of {limit} bytes")
            out.write(chunk)
    return path


def _field_error(name: str, msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": ["body", name], "msg": msg, "type": "value_error"}])


def _check_options(tz: str | None, interval_s: int | None) -> None:
    """The form fields, named as such (not as a problem of the file)."""
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise _field_error("tz", f"unknown time zone {tz!r}: expected an IANA name such "
                                     "as 'Europe/Paris'") from None
    if interval_s is not None and (interval_s % 60 or 86_400 % interval_s):
        raise _field_error("interval_s", f"expected whole minutes dividing a day (e.g. 900, "
                                         f"1800, 3600), got {interval_s}")


def _none(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


@router.post("/history", response_model=ImportOut, status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 413: {"model": Message, "description": "Too large"},
                        422: {"description": "Bad file: row and column named"}})
def import_history(
    request: Request, p: CurrentUser,
    file: Annotated[UploadFile, File(description="ACD interval CSV (interval_start, queue, "
                                                 "volume, optional aht_s, handled, ...)")],
    tz: Annotated[str | None, Form(max_length=64, description=(
        "IANA zone of naive interval_start values"))] = None,
    interval_s: Annotated[int | None, Form(ge=60, le=86400)] = None,
) -> ImportOut:
    """Import an interval history CSV. An import replaces, queue by queue, the stored rows
    over the span the file covers. Nothing is stored when any row is bad (422 naming the
    row and column), the file is larger than the limit (413) or names an unknown queue."""
    require(p, "history", "write")
    _check_options(tz, interval_s)
    limit = request.app.state.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="openwfm-upload-") as tmp:
        path = _save(file, Path(tmp), limit)
        try:
            table = read_interval_csv(path, tz=_zone(tz), interval_s=interval_s)
        except UnicodeDecodeError as exc:
            raise InputError("not a UTF-8 text file", file=path.name) from exc
    frame = table.frame
    if frame.empty:
        raise InputError("the file has no data rows", file=path.name)
    with request.app.state.db.transaction() as session:
        return _store(session, p, path.name, frame, table.interval_s)


def _form_error(field: str, msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": ["body", field], "msg": msg, "type": "value_error"}])


def _zone(tz: str | None) -> str | None:
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise _form_error("tz", f"unknown IANA time zone {tz!r}") from None
    return tz


@router.post("/calls", response_model=ImportOut, status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 413: {"model": Message, "description": "Too large"},
                        422: {"description": "Bad file: row and column named"}})
def import_calls(
    request: Request, p: CurrentUser,
    file: Annotated[UploadFile, File(description=(
        "Call-by-call log: the csv layout (arrival ISO 8601, outcome, wait_s, optional "
        "queue, handle_s, agent, priority) or anonymous_bank"))],
    format: Annotated[CallLogFormat, Form(description="Layout of the log")] = "csv",
    tz: Annotated[str | None, Form(max_length=64, description=(
        "IANA zone of the log's local times and of the interval grid (default: the "
        "format's, UTC for csv)"))] = None,
    interval_s: Annotated[int, Form(ge=60, le=3600, description=(
        "Interval length in seconds; must divide an hour"))] = 1800,
    answer_within_s: Annotated[float, Form(ge=0, le=MAX_WAIT_S, description=(
        "Service-level threshold: answered with wait <= this counts"))] = 20.0,
    short_abandon_s: Annotated[float | None, Form(ge=0, le=MAX_WAIT_S, description=(
        "Leave abandons with a wait below this out of offered and abandoned"))] = None,
    mapping: Annotated[str | None, Form(max_length=20_000, description=(
        "JSON object renaming vendor columns: {\"vendor column\": \"openwfm column\"} "
        "(csv layout)"))] = None,
) -> ImportOut:
    """Import a call-by-call log: aggregated into intervals by the reader and aggregation of
    `openwfm import calls` (the same checks and messages), then stored as interval history
    like `POST /api/imports/history`. Nothing is stored when any row is bad (422 naming
    the row and column), the file is too large (413) or names an unknown queue."""
    require(p, "history", "write")
    if 3600 % interval_s:
        raise _form_error("interval_s", f"{interval_s} s does not divide an hour")
    columns: dict[str, str] | None = None
    if mapping is not None:
        try:
            columns = json.loads(mapping)
        except ValueError:
            columns = None
        if not isinstance(columns, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
            raise _form_error("mapping", "expected a JSON object of column names")
    zone = log_zone(format, _zone(tz))
    limit = request.app.state.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="openwfm-upload-") as tmp:
        path = _save(file, Path(tmp), limit)
        try:
            calls = read_call_log(path, tz=zone, format=format, mapping=columns)
        except UnicodeDecodeError as exc:
            raise InputError("not a UTF-8 text file", file=path.name) from exc
    if calls.empty:
        raise InputError("the log has no contacts", file=path.name)
    frame = aggregate_intervals(calls, interval_s=interval_s, answer_within_s=answer_within_s,
                                tz=zone, short_abandon_s=short_abandon_s)
    with request.app.state.db.transaction() as session:
        return _store(session, p, path.name, frame, interval_s, source="calls")


def _store(session: Session, p: Principal, filename: str, frame: pd.DataFrame,
           interval_s: int, source: str = "history") -> ImportOut:
    queues = sorted(frame["queue"].astype(str).unique())
    visible = set(session.scalars(sa.select(Queue.id).where(Queue.id.in_(queues),
                                                            queue_filter(p, Queue.id))))
    for q in queues:
        if q not in visible:
            raise InputError(f"unknown queue {q!r} (known queues: GET /api/queues)",
                             file=filename, column="queue")
    imp = HistoryImport(filename=filename, rows=len(frame), interval_s=interval_s,
                        created_by=p.user_id)
    session.add(imp)
    session.flush()
    for q, part in frame.groupby("queue", sort=True):
        starts = part["interval_start"]
        session.execute(sa.delete(HistoryInterval).where(
            HistoryInterval.queue_id == str(q),
            HistoryInterval.interval_start >= starts.min().to_pydatetime(),
            HistoryInterval.interval_start <= starts.max().to_pydatetime()))
    cols = {c: (frame[c].to_numpy(dtype=float) if c in frame else None) for c in VALUE_COLUMNS}
    starts = frame["interval_start"].dt.to_pydatetime()
    qs = frame["queue"].astype(str).to_numpy()
    rows = [{"queue_id": qs[i], "interval_start": starts[i], "interval_s": interval_s,
             "import_id": imp.id,
             **{c: (_none(v[i]) if v is not None else None) for c, v in cols.items()}}
            for i in range(len(frame))]
    for r in rows:
        if r["volume"] is None:
            r["volume"] = 0.0
    for i in range(0, len(rows), 5000):
        session.execute(sa.insert(HistoryInterval), rows[i:i + 5000])
    first, last = frame["interval_start"].min(), frame["interval_start"].max()
    audit.record(session, acting_user(session, p), "import", "history", imp.id,
                 after={"source": source, "filename": filename, "rows": len(frame),
                        "queues": queues,
                        "first_interval": first.isoformat(), "last_interval": last.isoformat()})
    return ImportOut(id=imp.id, filename=filename, rows=len(frame), interval_s=interval_s,
                     queues=queues, first_interval=first.to_pydatetime(),
                     last_interval=last.to_pydatetime())


@router.get("/history", response_model=list[ImportOut], responses=WRITE_ERRORS)
async def list_imports(p: CurrentUser, session: ReadDB) -> list[ImportOut]:
    """Past history imports, newest first, with the queues and span each covered."""
    require(p, "history", "write")
    out = []
    for imp in session.scalars(sa.select(HistoryImport).order_by(HistoryImport.id.desc())):
        agg = session.execute(sa.select(
            sa.func.min(HistoryInterval.interval_start), sa.func.max(
                HistoryInterval.interval_start)).where(HistoryInterval.import_id == imp.id)
        ).one()
        queues = session.scalars(sa.select(HistoryInterval.queue_id).where(
            HistoryInterval.import_id == imp.id).distinct().order_by(HistoryInterval.queue_id))
        if agg[0] is None:
            continue  # every row was replaced by a later import
        out.append(ImportOut(id=imp.id, filename=imp.filename, rows=imp.rows,
                             interval_s=imp.interval_s, queues=list(queues),
                             first_interval=agg[0], last_interval=agg[1]))
    return out
