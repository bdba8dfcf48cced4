"""Coaching tasks: a failed critical item or a score below the form's ``coaching_below``
opens a coaching task for the agent, due within a window after the evaluation.

A task is non-productive time of ``minutes`` for the agent (counted in shrinkage once it is
placed in the schedule; the meeting scheduler that places it belongs to the scheduling
stage). Its life (`CoachingStatus`)::

    open --(placed in the schedule)--> scheduled --(held)--> done
    open / scheduled --(no longer needed)--> cancelled

One task per triggering evaluation; its id is ``coach-<evaluation id>`` so that scoring the
same evaluations again opens the same tasks, not new ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from openwfm.quality.evaluations import Evaluation, EvaluationStatus, QualityStateError

__all__ = ["COACHING_DUE_DAYS", "COACHING_MINUTES", "CoachingReason", "CoachingStatus",
           "CoachingTask", "advance", "coaching_tasks"]

COACHING_DUE_DAYS = 7
"""Days after the evaluation by which the coaching should be held."""
COACHING_MINUTES = 30
"""Length of a coaching session."""


class CoachingReason(StrEnum):
    CRITICAL_FAILURE = "critical_failure"
    LOW_SCORE = "low_score"


class CoachingStatus(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


NEXT: dict[CoachingStatus, frozenset[CoachingStatus]] = {
    CoachingStatus.OPEN: frozenset({CoachingStatus.SCHEDULED, CoachingStatus.CANCELLED,
                                    CoachingStatus.DONE}),
    CoachingStatus.SCHEDULED: frozenset({CoachingStatus.DONE, CoachingStatus.CANCELLED,
                                         CoachingStatus.OPEN}),
    CoachingStatus.DONE: frozenset(),
    CoachingStatus.CANCELLED: frozenset(),
}
"""The status changes allowed (scheduled -> open: the placement was removed)."""


@dataclass(frozen=True)
class CoachingTask:
    """One coaching task of one agent."""

    id: str
    agent_id: str
    evaluation_id: str
    reason: CoachingReason
    detail: str
    """The failed critical items, or the score against the threshold."""
    due_from: datetime
    due_by: datetime
    minutes: int = COACHING_MINUTES
    status: CoachingStatus = CoachingStatus.OPEN
    scheduled_start: datetime | None = None


def coaching_tasks(evaluations: Iterable[Evaluation], *, coaching_below: float,
                   due_days: float = COACHING_DUE_DAYS, minutes: int = COACHING_MINUTES
                   ) -> list[CoachingTask]:
    """The coaching tasks `evaluations` open (module docstring), in evaluation order. An
    evaluation revised after a dispute counts with its revised score; an upheld or
    undisputed one as scored.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from openwfm.quality.evaluations import evaluate
    >>> from openwfm.quality.forms import parse_form
    >>> form = parse_form({"id": "f", "client": "C", "channel": "voice", "coaching_below": 70,
    ...     "sections": [{"id": "s", "items": [{"id": "a", "points": 4},
    ...                                        {"id": "k", "critical": True}]}]})
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> evs = [evaluate(form, id=f"E{i}", contact_id=f"C{i}", agent_id="A1",
    ...                 evaluator_id="qa", evaluated_at=t, answers=a)
    ...        for i, a in enumerate([{"a": 4, "k": 1}, {"a": 1, "k": 1}, {"a": 4, "k": 0}])]
    >>> [(c.id, c.reason.value, c.detail) for c in coaching_tasks(evs, coaching_below=70)]
    [('coach-E1', 'low_score', 'score 62.5 < 70'), ('coach-E2', 'critical_failure', 'k')]
    """
    out = []
    for ev in evaluations:
        r = ev.result
        if r.critical_failed:
            reason, detail = CoachingReason.CRITICAL_FAILURE, ";".join(r.critical_failed)
        elif r.score < coaching_below:
            reason, detail = CoachingReason.LOW_SCORE, f"score {r.score:.1f} < {coaching_below:g}"
        else:
            continue
        if ev.status == EvaluationStatus.DISPUTED:
            continue  # wait for the dispute's outcome
        out.append(CoachingTask(id=f"coach-{ev.id}", agent_id=ev.agent_id,
                                evaluation_id=ev.id, reason=reason, detail=detail,
                                due_from=ev.evaluated_at,
                                due_by=ev.evaluated_at + timedelta(days=due_days),
                                minutes=minutes))
    return out


def advance(task: CoachingTask, status: CoachingStatus, *,
            scheduled_start: datetime | None = None) -> CoachingTask:
    """`task` moved to `status` (allowed changes: `NEXT`); `scheduled` needs the start,
    inside the due window.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> task = CoachingTask("c", "A1", "E1", CoachingReason.LOW_SCORE, "", t,
    ...                     t + timedelta(days=7))
    >>> advance(task, CoachingStatus.DONE).status.value
    'done'
    >>> advance(advance(task, CoachingStatus.DONE), CoachingStatus.OPEN)
    Traceback (most recent call last):
    ...
    openwfm.quality.evaluations.QualityStateError: coaching task c is done: it cannot become open
    """
    if status not in NEXT[task.status]:
        raise QualityStateError(f"coaching task {task.id} is {task.status.value}: it cannot "
                                f"become {status.value}")
    if status == CoachingStatus.SCHEDULED:
        if scheduled_start is None or scheduled_start.tzinfo is None:
            raise QualityStateError("a scheduled coaching needs its start time (with offset)")
        end = scheduled_start + timedelta(minutes=task.minutes)
        if scheduled_start < task.due_from or end > task.due_by:
            raise QualityStateError(
                f"coaching at {scheduled_start.isoformat()} falls outside its due window "
                f"{task.due_from.isoformat()} .. {task.due_by.isoformat()}")
        return replace(task, status=status, scheduled_start=scheduled_start)
    return replace(task, status=status,
                   scheduled_start=None if status == CoachingStatus.OPEN else
                   task.scheduled_start)
