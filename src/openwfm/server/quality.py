"""Quality data in the database and back: forms, evaluations (with disputes), coaching tasks
and calibration sessions, as rows; the rows read back as the domain's objects
(`openwfm.quality`), which do all the computing (scores, disputes, coaching, agreement).

`load_quality_demo` adds the demo center's quality month (`openwfm.demo.quality`) and its
evaluators (users ``qa-1`` .. ``qa-6``, role evaluator, every client company).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.quality.coaching import CoachingStatus, coaching_tasks
from openwfm.quality.evaluations import Dispute, DisputeOutcome, Evaluation, EvaluationStatus
from openwfm.quality.forms import Form, parse_form
from openwfm.quality.scoring import score_answers
from openwfm.server.models import (
    Agent,
    CalibrationSession,
    Client,
    CoachingTaskRow,
    PlannerClient,
    QualityEvaluation,
    QualityForm,
    Role,
    Site,
    Team,
    User,
)

EVALUATORS = ("qa-1", "qa-2", "qa-3", "qa-4", "qa-5", "qa-6")


def form_of(row: QualityForm) -> Form:
    """The domain form of a stored version."""
    return parse_form(row.definition, file=f"form {row.id}")


def store_form(session: Session, form: Form, client_id: int,
               user_id: int | None = None) -> QualityForm:
    row = QualityForm(form_key=form.id, version=form.version, client_id=client_id,
                      channel=form.channel.value, name=form.name,
                      definition=form.model_dump(mode="json"), created_by=user_id)
    session.add(row)
    session.flush()
    return row


def evaluation_of(row: QualityEvaluation, form: Form) -> Evaluation:
    """The domain evaluation of a stored row (for disputes and coaching)."""
    answers = {k: (None if v is None else int(v)) for k, v in row.answers.items()}
    dispute = None
    if row.disputed_at is not None:
        dispute = Dispute(
            reason=row.dispute_reason or "", opened_by=row.agent_id, opened_at=row.disputed_at,
            outcome=DisputeOutcome(row.status) if row.status in ("upheld", "revised") else None,
            resolved_by=row.resolved_by, resolved_at=row.resolved_at,
            note=row.resolution_note or "", previous_score=row.previous_score)
    return Evaluation(
        id=str(row.id), form_key=form.key, contact_id=row.contact_id, agent_id=row.agent_id,
        evaluator_id=row.evaluator, evaluated_at=row.evaluated_at, answers=answers,
        result=score_answers(form, answers), queue=row.queue_id or "",
        comment=row.comment, item_comments=dict(row.item_comments or {}),
        status=EvaluationStatus(row.status), dispute=dispute)


def apply_evaluation(row: QualityEvaluation, ev: Evaluation) -> None:
    """Copy the answers, score, status and dispute of `ev` onto `row`."""
    r = ev.result
    row.answers = dict(ev.answers)
    row.raw_score, row.score, row.passed = r.raw_score, r.score, r.passed
    row.critical_failed = ";".join(r.critical_failed)
    row.needs_coaching = r.needs_coaching
    row.status = ev.status.value
    if ev.dispute is not None:
        d = ev.dispute
        row.dispute_reason, row.disputed_at = d.reason, d.opened_at
        row.resolved_by, row.resolved_at = d.resolved_by, d.resolved_at
        row.resolution_note, row.previous_score = d.note or None, d.previous_score


def sync_coaching(session: Session, row: QualityEvaluation, ev: Evaluation, form: Form
                  ) -> CoachingTaskRow | None:
    """Open the coaching task `ev` calls for, or cancel an open one it no longer needs."""
    task = session.scalar(sa.select(CoachingTaskRow)
                          .where(CoachingTaskRow.evaluation_id == row.id))
    wanted = coaching_tasks([ev], coaching_below=form.coaching_below)
    if wanted and task is None:
        t = wanted[0]
        task = CoachingTaskRow(agent_id=t.agent_id, evaluation_id=row.id,
                               reason=t.reason.value, detail=t.detail, status=t.status.value,
                               due_from=t.due_from, due_by=t.due_by, minutes=t.minutes,
                               updated_at=datetime.now(UTC))
        session.add(task)
    elif (not wanted and task is not None and ev.status != EvaluationStatus.DISPUTED
          and task.status in (CoachingStatus.OPEN.value, CoachingStatus.SCHEDULED.value)):
        task.status = CoachingStatus.CANCELLED.value
        task.updated_at = datetime.now(UTC)
    return task


def store_evaluation(session: Session, ev: Evaluation, form: Form, form_row: QualityForm,
                     evaluator_user_id: int | None) -> QualityEvaluation:
    row = QualityEvaluation(
        form_id=form_row.id, client_id=form_row.client_id, contact_id=ev.contact_id,
        agent_id=ev.agent_id, evaluator_id=evaluator_user_id, evaluator=ev.evaluator_id,
        queue_id=ev.queue or None, evaluated_at=ev.evaluated_at,
        item_comments=dict(ev.item_comments), comment=ev.comment, answers={}, raw_score=0.0,
        score=0.0, passed=False, needs_coaching=False, status=ev.status.value)
    apply_evaluation(row, ev)
    session.add(row)
    session.flush()
    sync_coaching(session, row, ev, form)
    return row


def evaluations_table(session: Session, *where: sa.ColumnElement[bool]) -> pd.DataFrame:
    """The evaluations passing `where` as the domain's evaluation frame (score, passed,
    critical_failed, agent_id, evaluator_id, site, team, client, evaluated_at, form)."""
    q = (sa.select(QualityEvaluation.id.label("evaluation_id"),
                   QualityEvaluation.form_id, QualityEvaluation.agent_id,
                   QualityEvaluation.evaluator.label("evaluator_id"),
                   QualityEvaluation.evaluated_at, QualityEvaluation.score,
                   QualityEvaluation.raw_score, QualityEvaluation.passed,
                   QualityEvaluation.critical_failed, QualityEvaluation.status,
                   QualityEvaluation.contact_id, QualityEvaluation.queue_id.label("queue"),
                   Client.name.label("client"), Site.name.label("site"),
                   Team.name.label("team"))
         .join(Client, Client.id == QualityEvaluation.client_id)
         .join(Agent, Agent.id == QualityEvaluation.agent_id)
         .join(Site, Site.id == Agent.site_id)
         .outerjoin(Team, Team.id == Agent.team_id)
         .where(*where).order_by(QualityEvaluation.id))
    df = pd.DataFrame(session.execute(q).mappings().all())
    if not df.empty:
        df["team"] = df["team"].fillna("")
        df["queue"] = df["queue"].fillna("")
        df["critical_failed"] = df["critical_failed"].fillna("")
    return df


def calibration_evaluations(session: CalibrationSession, form: Form) -> list[Evaluation]:
    """The session's ratings as domain evaluations (the agent is not part of a rating)."""
    out = []
    for i, r in enumerate(session.ratings):
        answers = {k: (None if v is None else int(v)) for k, v in r["answers"].items()}
        out.append(Evaluation(
            id=f"cal-{session.id}-{i}", form_key=form.key, contact_id=str(r["contact_id"]),
            agent_id="", evaluator_id=str(r["evaluator"]), evaluated_at=session.held_at,
            answers=answers, result=score_answers(form, answers)))
    return out


def load_quality_demo(session: Session, password_hash: str) -> dict[str, Any]:
    """Add the demo's evaluators, forms, March evaluations, coaching tasks and calibration
    session (`openwfm.demo.quality`). Needs the center and its teams already stored."""
    from openwfm.demo import demo_scenario
    from openwfm.demo.quality import CALIBRATION_FORM, quality_demo

    demo = quality_demo(demo_scenario(), contacts=False)
    clients = {c.name: c.id for c in session.scalars(sa.select(Client))}
    users: dict[str, int] = {}
    for name in EVALUATORS:
        u = User(username=name, password_hash=password_hash, role=Role.EVALUATOR.value)
        session.add(u)
        session.flush()
        users[name] = u.id
        for cid in sorted(clients.values()):
            session.add(PlannerClient(user_id=u.id, client_id=cid))
    rows = {}
    for form in demo.forms:
        rows[form.key] = store_form(session, form, clients[form.client])
    stored = []
    for ev in demo.evaluations:  # one flush for all: the demo month loads in one go
        form_row = rows[ev.form_key]
        row = QualityEvaluation(
            form_id=form_row.id, client_id=form_row.client_id, contact_id=ev.contact_id,
            agent_id=ev.agent_id, evaluator_id=users.get(ev.evaluator_id),
            evaluator=ev.evaluator_id, queue_id=ev.queue or None,
            evaluated_at=ev.evaluated_at, item_comments={}, comment="")
        apply_evaluation(row, ev)
        session.add(row)
        stored.append((row, ev))
    session.flush()
    for row, ev in stored:
        for t in coaching_tasks([ev], coaching_below=demo.form_of(ev).coaching_below):
            session.add(CoachingTaskRow(
                agent_id=t.agent_id, evaluation_id=row.id, reason=t.reason.value,
                detail=t.detail, status=t.status.value, due_from=t.due_from,
                due_by=t.due_by, minutes=t.minutes, updated_at=t.due_from))
    cal_form = demo.form(CALIBRATION_FORM)
    session.add(CalibrationSession(
        form_id=rows[cal_form.key].id, client_id=clients[cal_form.client],
        name="RideNow voice calibration, March 2026",
        held_at=demo.calibration[0].evaluated_at,
        ratings=[{"contact_id": e.contact_id, "evaluator": e.evaluator_id,
                  "answers": dict(e.answers)} for e in demo.calibration]))
    session.flush()
    return {"evaluators": len(users), "forms": len(rows),
            "evaluations": len(demo.evaluations)}
