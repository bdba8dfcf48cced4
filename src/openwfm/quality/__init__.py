"""Quality management: evaluation forms, scored evaluations with disputes, sampling plans,
calibration of evaluators, scores with confidence intervals and the homogeneity between
sites and teams, and coaching tasks. Definitions and formulas: docs/quality.md.

- `openwfm.quality.forms`: versioned forms (TOML/JSON) per client and channel;
- `openwfm.quality.scoring`: the score arithmetic (weights, N/A, critical items);
- `openwfm.quality.evaluations`: evaluations, disputes and their resolution, the CSV;
- `openwfm.quality.sampling`: sample sizes for a target precision, stratified plans;
- `openwfm.quality.calibration`: Krippendorff's alpha per item and per evaluator;
- `openwfm.quality.stats`: scores and trends per group, homogeneity (spread, ICC(1));
- `openwfm.quality.coaching`: coaching tasks opened by low scores and critical failures.

This package imports no layer above it (app, report, CLI, server).
"""

from __future__ import annotations

from openwfm.quality.calibration import CalibrationResult, alpha, calibrate
from openwfm.quality.coaching import CoachingReason, CoachingStatus, CoachingTask, coaching_tasks
from openwfm.quality.evaluations import (
    DisputeOutcome,
    Evaluation,
    EvaluationStatus,
    QualityStateError,
    evaluate,
    evaluations_frame,
    open_dispute,
    read_evaluations,
    resolve_dispute,
)
from openwfm.quality.forms import Form, load_form, parse_form
from openwfm.quality.sampling import (
    SamplingPlan,
    plan_sample,
    pooled_sd,
    sample_size_mean,
    sample_size_proportion,
)
from openwfm.quality.scoring import EvaluationScore, score_answers
from openwfm.quality.stats import Homogeneity, homogeneity, score_summary, score_trend

__all__ = [
    "CalibrationResult",
    "CoachingReason",
    "CoachingStatus",
    "CoachingTask",
    "DisputeOutcome",
    "Evaluation",
    "EvaluationScore",
    "EvaluationStatus",
    "Form",
    "Homogeneity",
    "QualityStateError",
    "SamplingPlan",
    "alpha",
    "calibrate",
    "coaching_tasks",
    "evaluate",
    "evaluations_frame",
    "homogeneity",
    "load_form",
    "open_dispute",
    "parse_form",
    "plan_sample",
    "pooled_sd",
    "read_evaluations",
    "resolve_dispute",
    "sample_size_mean",
    "sample_size_proportion",
    "score_answers",
    "score_summary",
    "score_trend",
]
