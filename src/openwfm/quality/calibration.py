"""Calibration sessions: several evaluators score the same contacts; how well do they agree?

Agreement is Krippendorff's alpha (the `krippendorff` package), ``α = 1 - D_o / D_e``: the
observed disagreement between the values that evaluators gave the same contact over the
disagreement expected by chance from all values given; 1 is perfect agreement, 0 agreement
by chance only. Missing values (an evaluator who did not score a contact, an N/A answer)
are allowed; a contact scored by one evaluator only adds nothing. Levels of measurement:
``interval`` for the evaluation score (0-100), ``ordinal`` for an item's points.

What a session reports (`calibrate`):

- ``alpha_score``: α of the evaluation scores (interval);
- per item: α of its answers (ordinal; nominal for a yes/no item, where both agree); an
  item is flagged when α < ``min_alpha`` (default 0.667: Krippendorff's lowest limit for
  tentative conclusions; 0.800 for reliable ones). α is undefined (NaN, not flagged) when
  every answer is the same value: there was nothing to disagree on;
- per evaluator: ``bias`` = mean over the contacts they scored of (their score - the
  median score of the other evaluators of that contact: the consensus, which one lenient
  colleague does not move), ``mean_abs_deviation`` the same without sign, and
  ``alpha_without`` = α of the scores with this evaluator left out. An evaluator is flagged
  when ``|bias| > bias_tolerance`` points (default 5), or when leaving them out raises α by
  more than ``alpha_gain`` (default 0.1).

References
----------
Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
Communication, University of Pennsylvania, departmental paper 43 (worked examples: the
binary example α = 0.095; the nominal data with missing values α = 0.743, and the same data
ordinal 0.815, interval 0.849, ratio 0.797; tested in tests/test_quality_calibration.py).
Krippendorff, K. (2004). *Content Analysis*, 2nd ed., §11.4.4 (α ≥ .800, tentative ≥ .667).
Castro, S. (2017). Fast Krippendorff: fast computation of Krippendorff's alpha agreement
measure (the `krippendorff` Python package).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openwfm.errors import InputError
from openwfm.quality.evaluations import Evaluation
from openwfm.quality.forms import Form

__all__ = ["CalibrationResult", "alpha", "calibrate", "reliability_matrix"]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
MIN_ALPHA = 0.667
BIAS_TOLERANCE = 5.0
ALPHA_GAIN = 0.1


def alpha(data: NDArray[np.float64], level: Level = "interval") -> float:
    """Krippendorff's alpha of a reliability matrix (evaluators x units, NaN = missing);
    NaN when undefined (fewer than two values in all, or no unit with two values).

    Examples
    --------
    Krippendorff (2011), the nominal example with missing data (4 observers, 12 units):

    >>> n = np.nan
    >>> d = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
    ...               [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
    ...               [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
    ...               [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]])
    >>> round(alpha(d, "nominal"), 3), round(alpha(d, "interval"), 3)
    (0.743, 0.849)
    >>> alpha(np.array([[1.0, 1.0], [1.0, 1.0]]))
    nan
    """
    import krippendorff

    data = np.asarray(data, dtype=float)
    finite = np.isfinite(data)
    pairable = finite.sum(axis=0) >= 2
    if not pairable.any() or np.unique(data[:, pairable][finite[:, pairable]]).size < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def reliability_matrix(values: pd.DataFrame, value: str) -> pd.DataFrame:
    """Evaluators x contacts table of `value` (NaN where not scored), sorted both ways."""
    return values.pivot_table(index="evaluator_id", columns="contact_id", values=value,
                              aggfunc="first", dropna=False).sort_index().sort_index(axis=1)


@dataclass(frozen=True)
class CalibrationResult:
    """Agreement of one session (module docstring)."""

    alpha_score: float
    items: pd.DataFrame
    """item_id, level, alpha, answers (values given), flagged."""
    evaluators: pd.DataFrame
    """evaluator_id, contacts, mean_score, bias, mean_abs_deviation, alpha_without,
    flagged."""
    contacts: int
    evaluator_count: int

    @property
    def flagged_items(self) -> list[str]:
        return list(self.items.loc[self.items["flagged"], "item_id"])

    @property
    def flagged_evaluators(self) -> list[str]:
        return list(self.evaluators.loc[self.evaluators["flagged"], "evaluator_id"])


def calibrate(form: Form, evaluations: Sequence[Evaluation], *, min_alpha: float = MIN_ALPHA,
              bias_tolerance: float = BIAS_TOLERANCE, alpha_gain: float = ALPHA_GAIN
              ) -> CalibrationResult:
    """The agreement of a calibration session: `evaluations` of the same contacts by
    several evaluators with `form` (module docstring for every figure and flag)."""
    if any(ev.form_key != form.key for ev in evaluations):
        bad = next(ev for ev in evaluations if ev.form_key != form.key)
        raise InputError(f"evaluation {bad.id} used {bad.form_key}, not {form.key}")
    rows = [{"contact_id": ev.contact_id, "evaluator_id": ev.evaluator_id,
             "score": ev.result.score,
             **{f"item:{k}": (np.nan if v is None else float(v)) for k, v in ev.answers.items()}}
            for ev in evaluations]
    df = pd.DataFrame(rows)
    if df.empty:
        raise InputError("a calibration session needs evaluations")
    twice = df.duplicated(["contact_id", "evaluator_id"])
    if twice.any():
        r = df[twice].iloc[0]
        raise InputError(f"evaluator {r['evaluator_id']} scored contact {r['contact_id']} "
                         "twice", column="contact_id")
    shared = df.groupby("contact_id")["evaluator_id"].nunique()
    if df["evaluator_id"].nunique() < 2 or (shared >= 2).sum() < 1:
        raise InputError("a calibration session needs at least two evaluators scoring the "
                         "same contact", column="evaluator_id")
    scores = reliability_matrix(df, "score")
    a_all = alpha(scores.to_numpy(), "interval")
    items = []
    for _, item in form.items():
        m = reliability_matrix(df, f"item:{item.id}").to_numpy()
        level: Level = "nominal" if item.points == 1 else "ordinal"
        a = alpha(m, level)
        items.append({"item_id": item.id, "level": level, "alpha": a,
                      "answers": int(np.isfinite(m).sum()),
                      "flagged": bool(np.isfinite(a) and a < min_alpha)})
    s = scores.to_numpy()
    evaluators = []
    for i, who in enumerate(scores.index):
        mine = s[i]
        others = np.delete(s, i, axis=0)
        counted = np.isfinite(others).sum(axis=0)
        consensus = np.full(others.shape[1], np.nan)
        for j in np.flatnonzero(counted > 0):
            consensus[j] = np.median(others[np.isfinite(others[:, j]), j])
        diff = mine - consensus
        ok = np.isfinite(diff)
        bias = float(diff[ok].mean()) if ok.any() else float("nan")
        mad = float(np.abs(diff[ok]).mean()) if ok.any() else float("nan")
        a_wo = alpha(others, "interval") if others.shape[0] >= 2 else float("nan")
        gain = a_wo - a_all if np.isfinite(a_wo) and np.isfinite(a_all) else 0.0
        evaluators.append({
            "evaluator_id": who, "contacts": int(np.isfinite(mine).sum()),
            "mean_score": float(np.nanmean(mine)), "bias": bias, "mean_abs_deviation": mad,
            "alpha_without": a_wo,
            "flagged": bool((np.isfinite(bias) and abs(bias) > bias_tolerance)
                            or gain > alpha_gain)})
    return CalibrationResult(alpha_score=a_all, items=pd.DataFrame(items),
                             evaluators=pd.DataFrame(evaluators),
                             contacts=int(scores.shape[1]), evaluator_count=int(scores.shape[0]))
