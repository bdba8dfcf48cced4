"""The quality run: scored evaluations of one or more forms, scores per group, weekly
trends, homogeneity between sites and teams, coaching tasks and (optionally) a calibration
session. `openwfm quality score` and `openwfm quality demo` are thin shells over
`quality_run` and `openwfm.app.writers.write_quality`; the API computes with the same
domain functions (`openwfm.quality`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from openwfm.errors import InputError
from openwfm.quality.calibration import CalibrationResult, calibrate
from openwfm.quality.coaching import CoachingTask, coaching_tasks
from openwfm.quality.evaluations import Evaluation, evaluations_frame
from openwfm.quality.forms import Form
from openwfm.quality.stats import (
    MIN_EVALUATIONS,
    Homogeneity,
    homogeneity,
    score_summary,
    score_trend,
)
from openwfm.scheduling.model import SchedulingProblem

__all__ = ["GROUPINGS", "CoachingPlacement", "QualityRun", "homogeneity_frame", "quality_run",
           "schedule_coaching"]

GROUPINGS = ("agent_id", "team", "site", "client", "evaluator_id")
"""The groups scores are summarized by (each a ``scores_by_<group>.csv``)."""
HOMOGENEITY_BY = ("site", "team")


@dataclass(frozen=True)
class QualityRun:
    """Everything `write_quality` writes (computed by `quality_run`)."""

    evaluations: pd.DataFrame
    scores: dict[str, pd.DataFrame]
    """Group -> `score_summary` by it."""
    trend: pd.DataFrame
    """Weekly `score_summary` per site (local weeks)."""
    homogeneity: dict[str, Homogeneity]
    """site / team -> homogeneity (absent where fewer than two groups have enough)."""
    homogeneity_notes: dict[str, str]
    coaching: pd.DataFrame
    calibration: CalibrationResult | None = None
    calibration_form: str = ""
    forms: list[str] = field(default_factory=list)


def quality_run(scored: Sequence[tuple[Form, Sequence[Evaluation]]], *,
                calibration: tuple[Form, Sequence[Evaluation]] | None = None,
                site_zones: Mapping[str, str] | None = None,
                min_evaluations: int = MIN_EVALUATIONS) -> QualityRun:
    """Summarize the evaluations of each (form, evaluations) pair together (docs/quality.md):
    scores per `GROUPINGS`, weekly trend per site (in `site_zones`, else UTC weeks),
    homogeneity by site and team, coaching tasks; and the calibration session if given."""
    frames, tasks = [], []
    for form, evs in scored:
        if evs:
            frames.append(evaluations_frame(evs, client=form.client))
        tasks += [{"task_id": t.id, "agent_id": t.agent_id, "evaluation_id": t.evaluation_id,
                   "form": form.key, "reason": t.reason.value, "detail": t.detail,
                   "due_from": t.due_from, "due_by": t.due_by, "minutes": t.minutes,
                   "status": t.status.value}
                  for t in coaching_tasks(evs, coaching_below=form.coaching_below)]
    if not frames:
        raise InputError("no evaluations to summarize")
    df = pd.concat(frames, ignore_index=True)
    scores = {g: score_summary(df[df[g].astype(str) != ""], g) for g in GROUPINGS
              if (df[g].astype(str) != "").any()}
    trend = score_trend(df[df["site"] != ""], "site", tz=dict(site_zones or {}),
                        tz_column="site") if (df["site"] != "").any() else pd.DataFrame()
    homog: dict[str, Homogeneity] = {}
    notes: dict[str, str] = {}
    for by in HOMOGENEITY_BY:
        try:
            homog[by] = homogeneity(df[df[by] != ""], by, min_evaluations=min_evaluations)
        except InputError as exc:
            notes[by] = exc.message
    cal = calibrate(*calibration) if calibration is not None else None
    return QualityRun(evaluations=df, scores=scores, trend=trend, homogeneity=homog,
                      homogeneity_notes=notes,
                      coaching=pd.DataFrame(tasks, columns=[
                          "task_id", "agent_id", "evaluation_id", "form", "reason", "detail",
                          "due_from", "due_by", "minutes", "status"]),
                      calibration=cal,
                      calibration_form=calibration[0].key if calibration else "",
                      forms=[f.key for f, _ in scored])


def homogeneity_frame(run: QualityRun) -> pd.DataFrame:
    """One row per grouping: groups, spread_points, icc1, p_value, highest, lowest."""
    rows = [{"by": by, "groups": h.groups, "spread_points": h.spread_points,
             "icc1": h.icc1, "p_value": h.p_value, "highest": h.highest, "lowest": h.lowest,
             "note": ""} for by, h in run.homogeneity.items()]
    rows += [{"by": by, "note": note} for by, note in run.homogeneity_notes.items()]
    return pd.DataFrame(rows, columns=["by", "groups", "spread_points", "icc1", "p_value",
                                       "highest", "lowest", "note"])


@dataclass(frozen=True)
class CoachingPlacement:
    """Coaching tasks after `schedule_coaching`: each placed one scheduled at its start,
    the schedule with the sessions, and why the others stay open."""

    tasks: list[CoachingTask]
    segments: pd.DataFrame
    unplaced: dict[str, str]
    """Task id -> why no start fits (the agent does not work in the due window, or no
    start passes the rule checker)."""


def schedule_coaching(problem: SchedulingProblem, requirement: pd.DataFrame,
                      segments: pd.DataFrame, tasks: Sequence[CoachingTask], *,
                      step_min: int | None = None) -> CoachingPlacement:
    """Place the open coaching `tasks` (soonest due first) in the schedule with the meeting
    scheduler (`openwfm.selfservice.meetings.place_meeting`: activity ``coaching``, a
    non-productive paid activity counted in the coaching line of shrinkage, the task's
    minutes, inside its due window, where the contacts lost are fewest, every candidate
    checked by the independent rule checker); each placement is in the schedule the next
    one sees. A task that fits nowhere stays open, with the reason."""
    from openwfm.activities import Activity
    from openwfm.quality.coaching import CoachingStatus, advance
    from openwfm.selfservice.changes import ChangeError
    from openwfm.selfservice.meetings import place_meeting

    out: list[CoachingTask] = []
    unplaced: dict[str, str] = {}
    seg = segments
    for task in sorted(tasks, key=lambda t: (t.due_by, t.id)):
        if task.status != CoachingStatus.OPEN:
            out.append(task)
            continue
        try:
            placed = place_meeting(problem, requirement, seg, (task.agent_id,), task.minutes,
                                   pd.Timestamp(task.due_from), pd.Timestamp(task.due_by),
                                   activity=Activity.COACHING, step_min=step_min)
        except ChangeError as exc:
            unplaced[task.id] = str(exc)
            out.append(task)
            continue
        seg = placed.segments
        out.append(advance(task, CoachingStatus.SCHEDULED,
                           scheduled_start=placed.start.to_pydatetime()))
    return CoachingPlacement(tasks=out, segments=seg, unplaced=unplaced)
