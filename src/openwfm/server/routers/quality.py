"""Quality management (docs/quality.md): forms, evaluations with disputes, scores and the
homogeneity between sites and teams, coaching tasks, calibration sessions, CSV export.

Who sees what (`openwfm.server.permissions.POLICY`, ``quality_*``, ``coaching``,
``calibration``): an evaluator and a planner work on the client companies assigned; a team
leader on their team's agents; an agent reads only their own evaluations, scores and
coaching tasks and disputes their own evaluations; a client viewer reads only aggregated
scores (by site, team or client) of their own client company, never an agent's. Every
computation is the domain's (`openwfm.quality`); a write is audited.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from openwfm.errors import InputError
from openwfm.quality.calibration import calibrate
from openwfm.quality.coaching import CoachingReason, CoachingStatus, CoachingTask, advance
from openwfm.quality.evaluations import (
    DisputeOutcome,
    QualityStateError,
    evaluate,
    open_dispute,
    read_evaluations,
    resolve_dispute,
)
from openwfm.quality.forms import parse_form
from openwfm.quality.stats import homogeneity, score_summary
from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import (
    Agent,
    CalibrationSession,
    Client,
    CoachingTaskRow,
    QualityEvaluation,
    QualityForm,
    Queue,
    Role,
    User,
)
from openwfm.server.permissions import (
    Principal,
    agent_filter,
    client_filter,
    not_found,
    require,
)
from openwfm.server.quality import (
    apply_evaluation,
    calibration_evaluations,
    evaluation_of,
    evaluations_table,
    form_of,
    store_evaluation,
    store_form,
    sync_coaching,
)
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id, QueryId
from openwfm.server.schemas import DbId, Message

router = APIRouter(prefix="/api/quality", tags=["quality"])

STATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    409: {"model": Message, "description": "Not allowed in the evaluation's or task's state "
                                           "(e.g. already disputed, window closed)"},
}
MAX_ITEMS = 500
MAX_RATINGS = 5000


# ------------------------------------------------------------------------ shapes
class FormOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    form_key: str
    version: int
    client_id: int
    channel: str
    name: str
    definition: dict[str, Any]


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    form_id: DbId
    contact_id: str = Field(min_length=1, max_length=200)
    agent_id: str = Field(min_length=1, max_length=100)
    queue_id: str | None = Field(None, max_length=100)
    evaluated_at: AwareDatetime | None = Field(None, description="Default: now")
    answers: dict[str, Annotated[int, Field(ge=0, le=1000)] | None] = Field(
        max_length=MAX_ITEMS, description="Item id -> points (null = N/A)")
    item_comments: dict[str, Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=MAX_ITEMS)
    comment: str = Field("", max_length=5000)


class EvaluationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    form_id: int
    client_id: int
    contact_id: str
    agent_id: str
    evaluator: str
    queue_id: str | None
    evaluated_at: datetime
    answers: dict[str, int | None]
    item_comments: dict[str, str]
    comment: str
    raw_score: float
    score: float
    passed: bool
    critical_failed: str
    needs_coaching: bool
    status: str
    dispute_reason: str | None
    disputed_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolution_note: str | None
    previous_score: float | None


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: DisputeOutcome
    note: str = Field("", max_length=2000)
    answers: dict[str, Annotated[int, Field(ge=0, le=1000)] | None] | None = Field(
        None, max_length=MAX_ITEMS, description="Changed answers (outcome revised only)")


class CoachingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    agent_id: str
    evaluation_id: int
    reason: str
    detail: str
    status: str
    due_from: datetime
    due_by: datetime
    minutes: int
    scheduled_start: datetime | None


class CoachingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: CoachingStatus
    scheduled_start: AwareDatetime | None = None


class ScoreRow(BaseModel):
    group: str
    evaluations: int
    mean_score: float
    mean_score_lo: float | None
    mean_score_hi: float | None
    pass_rate: float
    pass_rate_lo: float | None
    pass_rate_hi: float | None
    critical_failures: int


class HomogeneityOut(BaseModel):
    by: str
    groups: int = Field(description="Groups with at least min_evaluations evaluations")
    spread_points: float | None = Field(None, description="Highest - lowest group mean score")
    icc1: float | None = Field(None, description="Share of the score's variance between "
                                                 "groups, ICC(1)")
    p_value: float | None = Field(None, description="One-way ANOVA F test")
    highest: str | None = None
    lowest: str | None = None
    note: str = ""
    summary: list[ScoreRow] = Field(default_factory=list)


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contact_id: str = Field(min_length=1, max_length=200)
    evaluator: str = Field(min_length=1, max_length=100)
    answers: dict[str, Annotated[int, Field(ge=0, le=1000)] | None] = Field(
        max_length=MAX_ITEMS)


class CalibrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    form_id: DbId
    name: str = Field(min_length=1, max_length=200)
    held_at: AwareDatetime
    ratings: list[Rating] = Field(min_length=2, max_length=MAX_RATINGS)


class CalibrationSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    form_id: int
    client_id: int
    name: str
    held_at: datetime


class CalibrationOut(CalibrationSummary):
    alpha_score: float | None = Field(description="Krippendorff's alpha of the scores "
                                                  "(interval)")
    contacts: int
    evaluators: list[dict[str, Any]]
    items: list[dict[str, Any]]
    flagged_evaluators: list[str]
    flagged_items: list[str]


# ------------------------------------------------------------------------ helpers
def _num(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _records(df: Any) -> list[dict[str, Any]]:
    return [{k: _num(v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in df.to_dict("records")]


def _state(exc: QualityStateError) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


def _bad(field: str, msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": ["body", field], "msg": msg, "type": "value_error"}])


def _input(exc: InputError, field: str) -> HTTPException:
    loc: list[Any] = ["body", field]
    if exc.location.column and exc.location.column not in (field,):
        loc.append(exc.location.column)
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": loc, "msg": str(exc), "type": "input_error"}])


def evaluation_filter(p: Principal) -> list[sa.ColumnElement[bool]]:
    """The evaluations `p` may see: their client companies (planner, evaluator, client
    viewer), their team (team leader), themselves (agent)."""
    where = [client_filter(p, QualityEvaluation.client_id)]
    if p.role in (Role.TEAM_LEADER, Role.AGENT):
        where.append(agent_filter(p, QualityEvaluation.agent_id))
    return where


def _form_row(session: Any, p: Principal, form_id: int, field: str | None = None
              ) -> QualityForm:
    row = session.scalar(sa.select(QualityForm).where(
        QualityForm.id == form_id, client_filter(p, QualityForm.client_id)))
    if row is None:
        if field is not None:
            raise _bad(field, f"no form {form_id}")
        raise not_found("form", form_id)
    return row


def _evaluation_row(session: Any, p: Principal, evaluation_id: int) -> QualityEvaluation:
    row = session.scalar(sa.select(QualityEvaluation).where(
        QualityEvaluation.id == evaluation_id, *evaluation_filter(p)))
    if row is None:
        raise not_found("evaluation", evaluation_id)
    return row


# ------------------------------------------------------------------------ forms
@router.get("/forms", response_model=list[FormOut], responses=AUTH_ERRORS)
async def list_forms(p: CurrentUser, session: ReadDB, client_id: QueryId = None
                     ) -> list[QualityForm]:
    """Every version of the forms of the client companies visible to the user."""
    require(p, "quality_form", "read")
    q = sa.select(QualityForm).where(client_filter(p, QualityForm.client_id))
    if client_id is not None:
        q = q.where(QualityForm.client_id == client_id)
    return list(session.scalars(q.order_by(QualityForm.form_key, QualityForm.version)))


@router.get("/forms/{form_id}", response_model=FormOut, responses=AUTH_ERRORS)
async def get_form(form_id: Id, p: CurrentUser, session: ReadDB) -> QualityForm:
    require(p, "quality_form", "read")
    return _form_row(session, p, form_id)


@router.post("/forms", response_model=FormOut, status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 422: {"description": "Invalid form"}})
def create_form(p: CurrentUser, session: WriteDB,
                definition: Annotated[dict[str, Any], Body(
                    description="The form as a form file holds it (docs/quality.md); "
                                "`client` names the client company")]) -> QualityForm:
    """Store a form version. Its version must be above every stored version of the same
    `id` (an evaluation keeps the version it was scored with)."""
    require(p, "quality_form", "write")
    try:
        form = parse_form(definition, file="form")
    except InputError as exc:
        raise _input(exc, "definition") from None
    client = session.scalar(sa.select(Client).where(
        Client.name == form.client, client_filter(p, Client.id)))
    if client is None:
        raise _bad("client", f"no client company {form.client!r}")
    latest = session.scalar(sa.select(sa.func.max(QualityForm.version))
                            .where(QualityForm.form_key == form.id))
    if latest is not None and form.version <= latest:
        raise HTTPException(status.HTTP_409_CONFLICT, f"form {form.id} has version "
                            f"{latest}: a new version must be above it")
    row = store_form(session, form, client.id, p.user_id)
    audit.record(session, acting_user(session, p), "create", "quality_form", row.id,
                 after=audit.snapshot(row))
    return row


# ------------------------------------------------------------------------ evaluations
@router.get("/evaluations", response_model=list[EvaluationOut], responses=AUTH_ERRORS)
async def list_evaluations(
    p: CurrentUser, session: ReadDB, agent_id: Annotated[str | None, Query(
        max_length=100)] = None, form_id: QueryId = None,
    status_: Annotated[Literal["submitted", "disputed", "upheld", "revised"] | None,
                       Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[QualityEvaluation]:
    """Evaluations visible to the user, newest first."""
    require(p, "quality_evaluation", "read")
    q = sa.select(QualityEvaluation).where(*evaluation_filter(p))
    if agent_id is not None:
        q = q.where(QualityEvaluation.agent_id == agent_id)
    if form_id is not None:
        q = q.where(QualityEvaluation.form_id == form_id)
    if status_ is not None:
        q = q.where(QualityEvaluation.status == status_)
    return list(session.scalars(q.order_by(QualityEvaluation.evaluated_at.desc(),
                                           QualityEvaluation.id.desc()).limit(limit)))


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationOut,
            responses=AUTH_ERRORS)
async def get_evaluation(evaluation_id: Id, p: CurrentUser, session: ReadDB
                         ) -> QualityEvaluation:
    require(p, "quality_evaluation", "read")
    return _evaluation_row(session, p, evaluation_id)


@router.post("/evaluations", response_model=EvaluationOut,
             status_code=status.HTTP_201_CREATED,
             responses={**STATE_ERRORS, 422: {"description": "Invalid answers"}})
def create_evaluation(body: EvaluationIn, p: CurrentUser, session: WriteDB
                      ) -> QualityEvaluation:
    """Score a contact with a form version: the score, pass and critical failures are
    computed (docs/quality.md); a low score or a failed critical item opens a coaching
    task."""
    require(p, "quality_evaluation", "write")
    form_row = _form_row(session, p, body.form_id, field="form_id")
    form = form_of(form_row)
    agent = session.scalar(sa.select(Agent).where(Agent.id == body.agent_id,
                                                  agent_filter(p, Agent.id)))
    if agent is None:
        raise _bad("agent_id", f"no agent {body.agent_id!r}")
    if body.queue_id is not None:
        queue = session.get(Queue, body.queue_id)
        if queue is None or queue.client_id != form_row.client_id:
            raise _bad("queue_id", f"no queue {body.queue_id!r} of the form's client")
    try:
        ev = evaluate(form, id="new", contact_id=body.contact_id, agent_id=body.agent_id,
                      evaluator_id=p.username,
                      evaluated_at=body.evaluated_at or datetime.now(UTC),
                      answers=body.answers, queue=body.queue_id or "",
                      comment=body.comment, item_comments=body.item_comments)
    except InputError as exc:
        raise _input(exc, "answers" if exc.location.column != "comment" else "comment"
                     ) from None
    except QualityStateError as exc:
        raise _state(exc) from None
    row = store_evaluation(session, ev, form, form_row, p.user_id)
    audit.record(session, acting_user(session, p), "create", "quality_evaluation", row.id,
                 after=audit.snapshot(row))
    return row


@router.post("/evaluations/{evaluation_id}/dispute", response_model=EvaluationOut,
             responses={**STATE_ERRORS, 422: {"description": "Invalid field"}})
def dispute_evaluation(evaluation_id: Id, body: DisputeIn, p: CurrentUser,
                       session: WriteDB) -> QualityEvaluation:
    """The agent evaluated disputes it (once, within the dispute window)."""
    require(p, "quality_dispute", "write")
    row = _evaluation_row(session, p, evaluation_id)
    form = form_of(session.get(QualityForm, row.form_id))  # type: ignore[arg-type]
    before = audit.snapshot(row)
    try:
        ev = open_dispute(evaluation_of(row, form), by=p.agent_id or "", reason=body.reason,
                          at=datetime.now(UTC))
    except QualityStateError as exc:
        raise _state(exc) from None
    apply_evaluation(row, ev)
    audit.record(session, acting_user(session, p), "dispute", "quality_evaluation", row.id,
                 before=before, after=audit.snapshot(row))
    return row


@router.post("/evaluations/{evaluation_id}/resolve", response_model=EvaluationOut,
             responses={**STATE_ERRORS, 422: {"description": "Invalid answers"}})
def resolve_evaluation(evaluation_id: Id, body: ResolveIn, p: CurrentUser,
                       session: WriteDB) -> QualityEvaluation:
    """Resolve an open dispute: upheld, or revised with changed answers (rescored; the
    coaching task follows the new score)."""
    require(p, "quality_resolution", "write")
    row = _evaluation_row(session, p, evaluation_id)
    form = form_of(session.get(QualityForm, row.form_id))  # type: ignore[arg-type]
    before = audit.snapshot(row)
    try:
        ev = resolve_dispute(evaluation_of(row, form), form, by=p.username,
                             at=datetime.now(UTC), outcome=body.outcome, note=body.note,
                             answers=body.answers)
    except QualityStateError as exc:
        raise _state(exc) from None
    except InputError as exc:
        raise _input(exc, "answers") from None
    apply_evaluation(row, ev)
    sync_coaching(session, row, ev, form)
    audit.record(session, acting_user(session, p), "resolve", "quality_evaluation", row.id,
                 before=before, after=audit.snapshot(row))
    return row


@router.get("/export/evaluations.csv", response_class=Response,
            responses={**AUTH_ERRORS, 200: {"content": {"text/csv": {}},
                                            "description": "One row per evaluation"}})
async def export_evaluations(p: CurrentUser, session: ReadDB, form_id: QueryId = None
                             ) -> Response:
    """The visible evaluations as CSV: ids, client, site, team, agent, evaluator, time,
    score, pass, critical failures, status."""
    require(p, "quality_evaluation", "read")
    where = evaluation_filter(p)
    if form_id is not None:
        where.append(QualityEvaluation.form_id == form_id)
    df = evaluations_table(session, *where)
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": "attachment; filename=evaluations.csv"})


# ------------------------------------------------------------------------ scores
ScoreBy = Literal["site", "team", "client", "agent", "evaluator"]
_COLUMN = {"site": "site", "team": "team", "client": "client", "agent": "agent_id",
           "evaluator": "evaluator_id"}


def _score_frame(p: Principal, session: Any, by: str, form_id: int | None,
                 since: datetime | None, until: datetime | None) -> Any:
    require(p, "quality_score", "read")
    if p.role == Role.CLIENT_VIEWER and by in ("agent", "evaluator"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a client viewer sees scores by site, "
                            "team or client, never by person")
    where = evaluation_filter(p)
    if form_id is not None:
        where.append(QualityEvaluation.form_id == form_id)
    if since is not None:
        where.append(QualityEvaluation.evaluated_at >= since)
    if until is not None:
        where.append(QualityEvaluation.evaluated_at < until)
    df = evaluations_table(session, *where)
    col = _COLUMN[by]
    return df[df[col] != ""] if not df.empty else df, col


def _rows(summary: Any, col: str) -> list[dict[str, Any]]:
    return [{"group": str(r.pop(col)), **r} for r in _records(summary)]


@router.get("/scores", response_model=list[ScoreRow], responses=AUTH_ERRORS)
async def scores(p: CurrentUser, session: ReadDB, by: ScoreBy = "site",
                 form_id: QueryId = None, since: AwareDatetime | None = None,
                 until: AwareDatetime | None = None) -> list[dict[str, Any]]:
    """Mean score (95% t interval) and pass rate (Wilson interval) per group of the
    evaluations visible to the user (docs/quality.md)."""
    df, col = _score_frame(p, session, by, form_id, since, until)
    if df.empty:
        return []
    return _rows(score_summary(df, col), col)


@router.get("/homogeneity", response_model=HomogeneityOut, responses=AUTH_ERRORS)
async def homogeneity_of(p: CurrentUser, session: ReadDB,
                         by: Literal["site", "team"] = "site", form_id: QueryId = None,
                         min_evaluations: Annotated[int, Query(ge=2, le=10_000)] = 10,
                         since: AwareDatetime | None = None,
                         until: AwareDatetime | None = None) -> dict[str, Any]:
    """Do sites (teams) deliver the same quality? The spread between the highest and
    lowest group mean score, ICC(1) and the ANOVA p value (docs/quality.md)."""
    df, col = _score_frame(p, session, by, form_id, since, until)
    if df.empty:
        return {"by": by, "groups": 0, "note": "no evaluations"}
    try:
        h = homogeneity(df, col, min_evaluations=min_evaluations)
    except InputError as exc:
        return {"by": by, "groups": 0, "note": exc.message}
    return {"by": by, "groups": h.groups, "spread_points": _num(h.spread_points),
            "icc1": _num(h.icc1), "p_value": _num(h.p_value), "highest": h.highest,
            "lowest": h.lowest, "summary": _rows(h.summary, col)}


# ------------------------------------------------------------------------ coaching
@router.get("/coaching", response_model=list[CoachingOut], responses=AUTH_ERRORS)
async def list_coaching(p: CurrentUser, session: ReadDB,
                        status_: Annotated[CoachingStatus | None,
                                           Query(alias="status")] = None,
                        agent_id: Annotated[str | None, Query(max_length=100)] = None,
                        limit: Annotated[int, Query(ge=1, le=5000)] = 500
                        ) -> list[CoachingTaskRow]:
    """Coaching tasks of the agents visible to the user, soonest due first."""
    require(p, "coaching", "read")
    q = (sa.select(CoachingTaskRow)
         .join(QualityEvaluation, QualityEvaluation.id == CoachingTaskRow.evaluation_id)
         .where(*evaluation_filter(p)))
    if status_ is not None:
        q = q.where(CoachingTaskRow.status == status_.value)
    if agent_id is not None:
        q = q.where(CoachingTaskRow.agent_id == agent_id)
    return list(session.scalars(q.order_by(CoachingTaskRow.due_by, CoachingTaskRow.id)
                                .limit(limit)))


@router.patch("/coaching/{task_id}", response_model=CoachingOut, responses=STATE_ERRORS)
def update_coaching(task_id: Id, body: CoachingPatch, p: CurrentUser, session: WriteDB
                    ) -> CoachingTaskRow:
    """Move a coaching task: open -> scheduled (with a start inside the due window) ->
    done, or cancelled."""
    require(p, "coaching", "write")
    row = session.scalar(
        sa.select(CoachingTaskRow)
        .join(QualityEvaluation, QualityEvaluation.id == CoachingTaskRow.evaluation_id)
        .where(CoachingTaskRow.id == task_id, *evaluation_filter(p)))
    if row is None:
        raise not_found("coaching task", task_id)
    task = CoachingTask(id=str(row.id), agent_id=row.agent_id,
                        evaluation_id=str(row.evaluation_id),
                        reason=CoachingReason(row.reason), detail=row.detail,
                        due_from=row.due_from, due_by=row.due_by, minutes=row.minutes,
                        status=CoachingStatus(row.status),
                        scheduled_start=row.scheduled_start)
    before = audit.snapshot(row)
    try:
        new = advance(task, body.status, scheduled_start=body.scheduled_start)
    except QualityStateError as exc:
        raise _state(exc) from None
    row.status, row.scheduled_start = new.status.value, new.scheduled_start
    row.updated_at = datetime.now(UTC)
    audit.record(session, acting_user(session, p), "update", "coaching_task", row.id,
                 before=before, after=audit.snapshot(row))
    return row


# ------------------------------------------------------------------------ calibration
@router.get("/calibrations", response_model=list[CalibrationSummary], responses=AUTH_ERRORS)
async def list_calibrations(p: CurrentUser, session: ReadDB) -> list[CalibrationSession]:
    require(p, "calibration", "read")
    return list(session.scalars(sa.select(CalibrationSession).where(
        client_filter(p, CalibrationSession.client_id)).order_by(CalibrationSession.id)))


def _calibration_out(row: CalibrationSession, form_row: QualityForm) -> dict[str, Any]:
    result = calibrate(form_of(form_row), calibration_evaluations(row, form_of(form_row)))
    return {"id": row.id, "form_id": row.form_id, "client_id": row.client_id,
            "name": row.name, "held_at": row.held_at, "alpha_score": _num(result.alpha_score),
            "contacts": result.contacts, "evaluators": _records(result.evaluators),
            "items": _records(result.items),
            "flagged_evaluators": [str(x) for x in result.flagged_evaluators],
            "flagged_items": [str(x) for x in result.flagged_items]}


@router.get("/calibrations/{calibration_id}", response_model=CalibrationOut,
            responses=AUTH_ERRORS)
async def get_calibration(calibration_id: Id, p: CurrentUser, session: ReadDB
                          ) -> dict[str, Any]:
    """A session with its agreement: Krippendorff's alpha of the scores and per item, each
    evaluator's bias and alpha without them, the flags (docs/quality.md)."""
    require(p, "calibration", "read")
    row = session.scalar(sa.select(CalibrationSession).where(
        CalibrationSession.id == calibration_id,
        client_filter(p, CalibrationSession.client_id)))
    if row is None:
        raise not_found("calibration", calibration_id)
    return _calibration_out(row, session.get(QualityForm, row.form_id))  # type: ignore[arg-type]


@router.post("/calibrations", response_model=CalibrationOut,
             status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 422: {"description": "Invalid ratings"}})
def create_calibration(body: CalibrationIn, p: CurrentUser, session: WriteDB
                       ) -> dict[str, Any]:
    """Store a calibration session (every rating checked against the form) and answer its
    agreement."""
    require(p, "calibration", "write")
    form_row = _form_row(session, p, body.form_id, field="form_id")
    row = CalibrationSession(form_id=form_row.id, client_id=form_row.client_id,
                             name=body.name, held_at=body.held_at,
                             ratings=[r.model_dump() for r in body.ratings],
                             created_by=p.user_id)
    try:
        out = _calibration_out(row, form_row)
    except InputError as exc:
        raise _input(exc, "ratings") from None
    session.add(row)
    session.flush()
    out["id"] = row.id
    audit.record(session, acting_user(session, p), "create", "calibration", row.id,
                 after={"form_id": row.form_id, "name": row.name,
                        "ratings": len(body.ratings)})
    return out


# ------------------------------------------------------------------------ import
class EvaluationImportOut(BaseModel):
    filename: str
    form_id: int
    rows: int = Field(description="Evaluations stored")
    coaching_tasks: int = Field(description="Coaching tasks opened")


@router.post("/imports/evaluations", response_model=EvaluationImportOut,
             status_code=status.HTTP_201_CREATED,
             responses={**WRITE_ERRORS, 413: {"model": Message, "description": "Too large"},
                        422: {"description": "Bad file: row and column named"}})
def import_evaluations(
    request: Request, p: CurrentUser, session: WriteDB,
    file: Annotated[UploadFile, File(description="Evaluations CSV of one form, the layout "
                                                 "of `openwfm quality score` (docs/quality.md)")],
    form_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> dict[str, Any]:
    """Import evaluations with the CLI's reader (`openwfm.quality.read_evaluations`: the
    same row and column errors, here a 422); every agent must be visible to the user and
    every queue the form's client's. One transaction: a bad file stores nothing. Coaching
    tasks open as for a single evaluation."""
    require(p, "quality_evaluation", "write")
    form_row = _form_row(session, p, form_id, field="form_id")
    form = form_of(form_row)
    limit = request.app.state.settings.max_upload_bytes
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(file.filename or "upload.csv").name)[:100]
    with tempfile.TemporaryDirectory(prefix="openwfm-upload-") as tmp:
        path = Path(tmp) / (name or "upload.csv")
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                        f"upload larger than the limit of {limit} bytes")
                out.write(chunk)
        try:
            evs = read_evaluations(path, form)
        except UnicodeDecodeError as exc:
            raise InputError("not a UTF-8 text file", file=path.name) from exc
    agents = set(session.scalars(sa.select(Agent.id).where(
        Agent.id.in_(sorted({e.agent_id for e in evs})), agent_filter(p, Agent.id))))
    queues = set(session.scalars(sa.select(Queue.id).where(
        Queue.client_id == form_row.client_id)))
    for row, ev in enumerate(evs, start=1):
        if ev.agent_id not in agents:
            raise InputError(f"no agent {ev.agent_id!r}", file=path.name, row=row,
                             column="agent_id")
        if ev.queue and ev.queue not in queues:
            raise InputError(f"no queue {ev.queue!r} of client {form.client}",
                             file=path.name, row=row, column="queue")
    users = dict(session.execute(sa.select(User.username, User.id).where(
        User.username.in_(sorted({e.evaluator_id for e in evs})))).all())
    tasks = 0
    for ev in evs:
        row = store_evaluation(session, ev, form, form_row, users.get(ev.evaluator_id))
        tasks += session.scalar(sa.select(sa.func.count()).select_from(CoachingTaskRow)
                                .where(CoachingTaskRow.evaluation_id == row.id)) or 0
    audit.record(session, acting_user(session, p), "import", "quality_evaluation",
                 f"form {form_row.id}", after={"file": path.name, "rows": len(evs)})
    return {"filename": path.name, "form_id": form_row.id, "rows": len(evs),
            "coaching_tasks": tasks}
