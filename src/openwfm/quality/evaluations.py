"""Evaluations of contacts: who evaluated which agent's contact with which form version, the
answers and comments, the score, and the agent's dispute and its resolution.

Life of an evaluation (`EvaluationStatus`)::

    submitted --(agent disputes, within the dispute window)--> disputed
    disputed  --(a reviewer keeps the answers)----------------> upheld
    disputed  --(a reviewer changes answers: rescored)--------> revised

Only the agent evaluated may dispute, once, within ``window_days`` of the evaluation; the
agent may not resolve their own dispute. A revised evaluation keeps the previous score in
its `Dispute`.

The evaluation CSV (one row per evaluation, one column per item of the form)::

    evaluation_id,contact_id,agent_id,evaluator_id,evaluated_at,queue,site,team,greet,verify
    E1,C-1001,MNL-001,qa-1,2026-03-02T10:15:00Z,ride-en-voice,Manila,Manila 1,2,1

``queue``, ``channel``, ``site``, ``team`` and ``comment`` are optional; an item answer is
points or ``NA``. Errors name the file, the data row and the column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import pandas as pd

from openwfm.errors import InputError, OpenWFMError
from openwfm.quality.forms import Form
from openwfm.quality.scoring import EvaluationScore, parse_answer, score_answers

__all__ = ["DISPUTE_WINDOW_DAYS", "Dispute", "DisputeOutcome", "Evaluation",
           "EvaluationStatus", "QualityStateError", "evaluate", "evaluations_frame",
           "input_frame", "open_dispute", "read_evaluations", "resolve_dispute"]

DISPUTE_WINDOW_DAYS = 14
"""Days after the evaluation during which the agent may dispute it."""

REQUIRED = ("evaluation_id", "contact_id", "agent_id", "evaluator_id", "evaluated_at")
OPTIONAL = ("queue", "channel", "site", "team", "comment")


class EvaluationStatus(StrEnum):
    """Where an evaluation is in its life (module docstring)."""

    SUBMITTED = "submitted"
    DISPUTED = "disputed"
    UPHELD = "upheld"
    REVISED = "revised"


class DisputeOutcome(StrEnum):
    """How a reviewer resolves a dispute."""

    UPHELD = "upheld"
    """The evaluation stands as scored."""
    REVISED = "revised"
    """Answers changed: the evaluation is rescored."""


class QualityStateError(OpenWFMError):
    """An action the evaluation's state or the actor does not allow (API: 409 / 403)."""


@dataclass(frozen=True)
class Dispute:
    """An agent's dispute of an evaluation and, once resolved, its outcome."""

    reason: str
    opened_by: str
    opened_at: datetime
    outcome: DisputeOutcome | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    note: str = ""
    previous_score: float | None = None
    """The score before a revision."""


@dataclass(frozen=True)
class Evaluation:
    """One scored evaluation of one contact."""

    id: str
    form_key: str
    contact_id: str
    agent_id: str
    evaluator_id: str
    evaluated_at: datetime
    answers: Mapping[str, int | None]
    result: EvaluationScore
    queue: str = ""
    channel: str = ""
    site: str = ""
    team: str = ""
    comment: str = ""
    item_comments: Mapping[str, str] = field(default_factory=dict)
    status: EvaluationStatus = EvaluationStatus.SUBMITTED
    dispute: Dispute | None = None


def _aware(t: datetime, what: str) -> datetime:
    if t.tzinfo is None:
        raise InputError(f"{what} must carry a UTC offset (e.g. 2026-03-02T10:15:00Z)",
                         column=what)
    return t


def evaluate(form: Form, *, id: str, contact_id: str, agent_id: str, evaluator_id: str,
             evaluated_at: datetime, answers: Mapping[str, int | None], queue: str = "",
             channel: str = "", site: str = "", team: str = "", comment: str = "",
             item_comments: Mapping[str, str] | None = None) -> Evaluation:
    """A new (submitted) evaluation, scored with `form`.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from openwfm.quality.forms import parse_form
    >>> form = parse_form({"id": "f", "client": "C", "channel": "voice", "sections": [
    ...     {"id": "s", "items": [{"id": "a", "points": 2}]}]})
    >>> ev = evaluate(form, id="E1", contact_id="C1", agent_id="A1", evaluator_id="qa",
    ...               evaluated_at=datetime(2026, 3, 2, tzinfo=UTC), answers={"a": 1})
    >>> ev.status.value, ev.result.score, ev.form_key
    ('submitted', 50.0, 'f@1')
    """
    if agent_id == evaluator_id:
        raise QualityStateError("an agent may not evaluate their own contact")
    unknown = sorted(set(item_comments or {}) - set(form.item_ids))
    if unknown:
        raise InputError(f"comment on item {unknown[0]!r}, which is not on form {form.key}",
                         column=unknown[0])
    return Evaluation(
        id=id, form_key=form.key, contact_id=contact_id, agent_id=agent_id,
        evaluator_id=evaluator_id, evaluated_at=_aware(evaluated_at, "evaluated_at"),
        answers=dict(answers), result=score_answers(form, answers), queue=queue,
        channel=channel or form.channel.value, site=site, team=team, comment=comment,
        item_comments=dict(item_comments or {}))


def open_dispute(ev: Evaluation, *, by: str, reason: str, at: datetime,
                 window_days: float = DISPUTE_WINDOW_DAYS) -> Evaluation:
    """`ev` disputed by its agent `by` (module docstring for the rules)."""
    if by != ev.agent_id:
        raise QualityStateError(f"only the agent evaluated ({ev.agent_id}) may dispute "
                                f"evaluation {ev.id}")
    if ev.status != EvaluationStatus.SUBMITTED:
        raise QualityStateError(f"evaluation {ev.id} is {ev.status.value}: only a submitted "
                                "evaluation can be disputed (once)")
    if not reason.strip():
        raise InputError("a dispute needs a reason", column="reason")
    if _aware(at, "at") - ev.evaluated_at > timedelta(days=window_days):
        raise QualityStateError(f"the dispute window of {window_days:g} days after "
                                f"{ev.evaluated_at.isoformat()} has closed")
    return replace(ev, status=EvaluationStatus.DISPUTED,
                   dispute=Dispute(reason=reason.strip(), opened_by=by, opened_at=at))


def resolve_dispute(ev: Evaluation, form: Form, *, by: str, at: datetime,
                    outcome: DisputeOutcome, note: str = "",
                    answers: Mapping[str, int | None] | None = None) -> Evaluation:
    """Resolve the dispute of `ev`: upheld (answers unchanged) or revised (`answers`
    replace the ones given; the evaluation is rescored with `form`).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> from openwfm.quality.forms import parse_form
    >>> form = parse_form({"id": "f", "client": "C", "channel": "voice", "sections": [
    ...     {"id": "s", "items": [{"id": "a", "points": 2}]}]})
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> ev = evaluate(form, id="E1", contact_id="C1", agent_id="A1", evaluator_id="qa",
    ...               evaluated_at=t, answers={"a": 1})
    >>> ev = open_dispute(ev, by="A1", reason="I did greet", at=t + timedelta(days=1))
    >>> ev = resolve_dispute(ev, form, by="lead", at=t + timedelta(days=2),
    ...                      outcome=DisputeOutcome.REVISED, answers={"a": 2})
    >>> ev.status.value, ev.result.score, ev.dispute.previous_score
    ('revised', 100.0, 50.0)
    """
    if ev.status != EvaluationStatus.DISPUTED or ev.dispute is None:
        raise QualityStateError(f"evaluation {ev.id} is {ev.status.value}: there is no open "
                                "dispute to resolve")
    if by == ev.agent_id:
        raise QualityStateError("an agent may not resolve their own dispute")
    if form.key != ev.form_key:
        raise QualityStateError(f"evaluation {ev.id} was scored with {ev.form_key}, not "
                                f"{form.key}")
    dispute = replace(ev.dispute, outcome=outcome, resolved_by=by,
                      resolved_at=_aware(at, "at"), note=note.strip())
    if outcome == DisputeOutcome.UPHELD:
        if answers is not None:
            raise InputError("an upheld evaluation keeps its answers: send answers only to "
                             "revise", column="answers")
        return replace(ev, status=EvaluationStatus.UPHELD, dispute=dispute)
    if not answers:
        raise InputError("a revision needs the changed answers", column="answers")
    new = {**ev.answers, **answers}
    return replace(ev, status=EvaluationStatus.REVISED, answers=new,
                   result=score_answers(form, new),
                   dispute=replace(dispute, previous_score=ev.result.score))


def _parse_time(text: str, *, file: str, row: int) -> datetime:
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        t = None
    if t is None or t.tzinfo is None:
        raise InputError(f"expected an ISO time with a UTC offset like 2026-03-02T10:15:00Z, "
                         f"got {text!r}", file=file, row=row, column="evaluated_at")
    return t


def read_evaluations(path: Path, form: Form) -> list[Evaluation]:
    """The evaluations of the CSV at `path` (module docstring), scored with `form`.

    Raises `InputError` naming the file, row and column: a missing or unknown column, an
    answer off the item's scale, N/A where the item does not allow it, a time without
    offset, an evaluation id twice, an agent evaluating their own contact.
    """
    from openwfm.io.records import read_csv_frame
    from openwfm.schema import nearest

    file = str(path)
    df = read_csv_frame(path, text=True)
    items = form.item_ids
    known = [*REQUIRED, *OPTIONAL, *items]
    for col in [*REQUIRED, *items]:
        if col not in df.columns:
            raise InputError(f"missing column '{col}' (form {form.key} has items "
                             f"{', '.join(items)})", file=file, column=col)
    for col in df.columns:
        if col not in known:
            hint = nearest(col, known)
            raise InputError("unknown column" + (f"; did you mean {hint!r}?" if hint else
                                                 f" (form {form.key} has items "
                                                 f"{', '.join(items)})"),
                             file=file, column=col)
    if df.empty:
        raise InputError("no evaluations: expected a header and data rows", file=file)
    out: list[Evaluation] = []
    seen: dict[str, int] = {}
    records = df.to_dict("records")
    for row, rec in enumerate(records, start=1):
        for col in REQUIRED:
            if not str(rec[col]).strip():
                raise InputError(f"missing value for '{col}'", file=file, row=row, column=col)
        eid = rec["evaluation_id"].strip()
        if eid in seen:
            raise InputError(f"evaluation id {eid!r} listed twice (also row {seen[eid]})",
                             file=file, row=row, column="evaluation_id")
        seen[eid] = row
        answers = {i: parse_answer(form, i, rec[i], file=file, row=row) for i in items}
        if form.channel.value and rec.get("channel", "").strip() not in ("",
                                                                         form.channel.value):
            raise InputError(f"channel {rec['channel']!r} is not the form's "
                             f"({form.channel.value})", file=file, row=row, column="channel")
        try:
            ev = evaluate(form, id=eid, contact_id=rec["contact_id"].strip(),
                          agent_id=rec["agent_id"].strip(),
                          evaluator_id=rec["evaluator_id"].strip(),
                          evaluated_at=_parse_time(rec["evaluated_at"], file=file, row=row),
                          answers=answers, queue=rec.get("queue", "").strip(),
                          site=rec.get("site", "").strip(), team=rec.get("team", "").strip(),
                          comment=rec.get("comment", "").strip())
        except QualityStateError as exc:
            raise InputError(str(exc), file=file, row=row, column="evaluator_id") from None
        except InputError as exc:
            raise InputError(exc.message, file=file, row=row,
                             column=exc.location.column) from None
        out.append(ev)
    return out


def evaluations_frame(evaluations: Sequence[Evaluation], *, client: str = "") -> pd.DataFrame:
    """One row per evaluation: ids, where, when, scores, pass, critical failures, status and
    the answers (N/A as empty). The table the score statistics and the CSV export use."""
    rows = []
    for ev in evaluations:
        r = ev.result
        rows.append({
            "evaluation_id": ev.id, "form": ev.form_key, "contact_id": ev.contact_id,
            "agent_id": ev.agent_id, "evaluator_id": ev.evaluator_id,
            "evaluated_at": pd.Timestamp(ev.evaluated_at).tz_convert("UTC"),
            "client": client, "queue": ev.queue, "channel": ev.channel, "site": ev.site,
            "team": ev.team, "raw_score": r.raw_score, "score": r.score, "passed": r.passed,
            "critical_failed": ";".join(r.critical_failed),
            "needs_coaching": r.needs_coaching, "status": ev.status.value,
            **{f"item_{k}": v for k, v in ev.answers.items()}})
    return pd.DataFrame(rows)


def input_frame(evaluations: Sequence[Evaluation], form: Form) -> pd.DataFrame:
    """`evaluations` in the evaluation CSV's own layout (module docstring; N/A as ``NA``):
    what `read_evaluations` reads back to the same evaluations."""
    rows = []
    for ev in evaluations:
        rows.append({
            "evaluation_id": ev.id, "contact_id": ev.contact_id, "agent_id": ev.agent_id,
            "evaluator_id": ev.evaluator_id,
            "evaluated_at": ev.evaluated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "queue": ev.queue, "channel": ev.channel, "site": ev.site, "team": ev.team,
            **{i: ("NA" if ev.answers.get(i) is None else ev.answers[i])
               for i in form.item_ids},
            "comment": ev.comment})
    return pd.DataFrame(rows, columns=[*REQUIRED, "queue", "channel", "site", "team",
                                       *form.item_ids, "comment"])
