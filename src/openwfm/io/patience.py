"""Customer patience from abandonment in a call log, accounting for censoring.

A queued contact either abandons (its wait *is* its patience) or is answered first (its
patience is only known to exceed its wait: it is right-censored at its wait). Ignoring
the censoring (e.g. averaging the waits of abandoned calls) badly underestimates patience.

Two estimators, both on the contacts that entered the queue (outcome "other" excluded):

* `estimate_patience`: exponential patience (the Erlang A / M/M/n+M assumption). The
  maximum-likelihood mean is total time waited by all queued contacts / number of abandons,
  i.e. the abandonment rate is abandons / exposure. The confidence interval is the exact
  Poisson (chi-square) interval of the rate, inverted.
* `kaplan_meier_patience`: the nonparametric product-limit (Kaplan–Meier) survival curve of
  patience, computed with `scipy.stats.ecdf` on right-censored data, as Brown et al. (2005)
  did for this bank's data.

References
----------
.. [1] Brown, L., Gans, N., Mandelbaum, A., Sakov, A., Shen, H., Zeltyn, S. & Zhao, L.
   (2005). Statistical analysis of a telephone call center: a queueing-science perspective.
   Journal of the American Statistical Association 100(469), 36-50 (section 5: patience,
   Kaplan–Meier with censoring by service).
.. [2] Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete
   observations. JASA 53(282), 457-481.
.. [3] Mandelbaum, A. & Zeltyn, S. (2013). Data-stories about (im)patient customers in
   tele-queues. Queueing Systems 75, 115-146.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from openwfm.errors import InputError

__all__ = [
    "PatienceCurve",
    "PatienceEstimate",
    "estimate_patience",
    "kaplan_meier_patience",
    "queued_waits",
]


@dataclass(frozen=True)
class PatienceEstimate:
    """Exponential (maximum-likelihood) patience estimate.

    Attributes
    ----------
    mean_s : float
        Mean patience in seconds = exposure_s / abandons (inf when no one abandoned).
    ci_low_s, ci_high_s : float
        Confidence interval of the mean (exact Poisson interval of the rate, inverted).
    confidence : float
        Confidence level of the interval.
    abandons : int
        Queued contacts that abandoned.
    queued : int
        Contacts that entered the queue (served + abandoned).
    exposure_s : float
        Total time waited by all queued contacts (abandoned and served).
    """

    mean_s: float
    ci_low_s: float
    ci_high_s: float
    confidence: float
    abandons: int
    queued: int
    exposure_s: float

    @property
    def abandon_rate_per_s(self) -> float:
        """Abandonment rate (1 / mean patience) per second of waiting."""
        return self.abandons / self.exposure_s if self.exposure_s > 0 else float("nan")


@dataclass(frozen=True, eq=False)
class PatienceCurve:
    """Kaplan–Meier survival curve of patience: P(patience > t).

    Attributes
    ----------
    time_s : numpy.ndarray
        Distinct observed waits (abandons and censored), ascending.
    survival : numpy.ndarray
        Estimated P(patience > t) just after each `time_s`.
    ci_low, ci_high : numpy.ndarray
        Pointwise confidence band (log-log transform of Greenwood's variance); equal to the
        survival where that band is undefined (survival exactly 1 or 0).
    abandons, queued : int
        Events and sample size.
    """

    time_s: np.ndarray
    survival: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    abandons: int
    queued: int

    def survival_at(self, t_s: float | np.ndarray) -> np.ndarray:
        """P(patience > t) for t in seconds (1 before the first time)."""
        idx = np.searchsorted(self.time_s, np.asarray(t_s, dtype=float), side="right") - 1
        return np.where(idx >= 0, self.survival[np.maximum(idx, 0)], 1.0)

    @property
    def median_s(self) -> float:
        """Smallest time where survival <= 0.5 (NaN when the curve stays above 0.5)."""
        below = np.flatnonzero(self.survival <= 0.5)
        return float(self.time_s[below[0]]) if below.size else float("nan")

    @property
    def restricted_mean_s(self) -> float:
        """Area under the curve up to the largest observed wait (a lower bound of the mean)."""
        edges = np.concatenate([[0.0], self.time_s])
        heights = np.concatenate([[1.0], self.survival[:-1]])
        return float(np.sum(np.diff(edges) * heights))


def queued_waits(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Waits of queued contacts and whether each abandoned (event) or was served (censored).

    A contact counts as queued when the log's ``queued`` column says so, else when it waited
    (``wait_s > 0``) or abandoned. Outcome "other" is excluded.
    """
    for col in ("outcome", "wait_s"):
        if col not in calls.columns:
            raise InputError(f"not a call log: missing column '{col}'", column=col)
    outcome = calls["outcome"].to_numpy()
    wait = calls["wait_s"].to_numpy(dtype=float)
    if "queued" in calls.columns:
        queued = calls["queued"].to_numpy(dtype=bool)
    else:
        queued = (wait > 0) | (outcome == "abandoned")
    keep = queued & np.isin(outcome, ["served", "abandoned"])
    w = wait[keep]
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(keep)[np.flatnonzero(bad)[0]])
        raise InputError(f"expected a wait >= 0 s, got {w[bad][0]}", row=i + 1, column="wait_s")
    return w, outcome[keep] == "abandoned"


def estimate_patience(calls: pd.DataFrame, *, confidence: float = 0.95) -> PatienceEstimate:
    """Exponential MLE of mean patience with right-censoring by service.

    mean patience = (sum of waits of all queued contacts) / (number of abandons).

    Parameters
    ----------
    calls : pandas.DataFrame
        A call log (`openwfm.io.calllog.read_call_log`); filter it for one queue first to
        get that queue's patience.
    confidence : float
        Level of the confidence interval, in (0, 1).

    References
    ----------
    .. [1] Brown et al. (2005), JASA 100(469), 36-50.

    Examples
    --------
    >>> calls = pd.DataFrame({"outcome": ["served", "abandoned", "served", "abandoned"],
    ...                       "wait_s": [30.0, 60.0, 90.0, 20.0]})
    >>> est = estimate_patience(calls)
    >>> est.mean_s, est.abandons, est.queued, est.exposure_s
    (100.0, 2, 4, 200.0)
    >>> round(est.ci_low_s, 1), round(est.ci_high_s, 1)
    (27.7, 825.7)
    """
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence}", column="confidence")
    wait, event = queued_waits(calls)
    d = int(event.sum())
    exposure = float(wait.sum())
    alpha = 1.0 - confidence
    # exact Poisson interval for d events over `exposure`: rate in [lo, hi]
    rate_lo = stats.chi2.ppf(alpha / 2, 2 * d) / (2 * exposure) if d > 0 else 0.0
    rate_hi = stats.chi2.ppf(1 - alpha / 2, 2 * d + 2) / (2 * exposure) if exposure > 0 else np.inf
    mean = exposure / d if d > 0 else float("inf")
    return PatienceEstimate(
        mean_s=mean,
        ci_low_s=float(1.0 / rate_hi) if rate_hi > 0 else float("inf"),
        ci_high_s=float(1.0 / rate_lo) if rate_lo > 0 else float("inf"),
        confidence=confidence,
        abandons=d,
        queued=int(wait.size),
        exposure_s=exposure,
    )


def kaplan_meier_patience(calls: pd.DataFrame, *, confidence: float = 0.95) -> PatienceCurve:
    """Kaplan–Meier survival curve of patience (abandons = events, served = censored).

    Uses `scipy.stats.ecdf` on `scipy.stats.CensoredData`.

    References
    ----------
    .. [1] Kaplan & Meier (1958), JASA 53(282), 457-481.
    .. [2] Brown et al. (2005), JASA 100(469), 36-50.

    Examples
    --------
    >>> calls = pd.DataFrame({"outcome": ["abandoned", "served", "abandoned", "served"],
    ...                       "wait_s": [10.0, 20.0, 30.0, 40.0]})
    >>> curve = kaplan_meier_patience(calls)
    >>> curve.time_s.tolist(), curve.survival.round(4).tolist()
    ([10.0, 20.0, 30.0, 40.0], [0.75, 0.75, 0.375, 0.375])
    >>> curve.median_s
    30.0
    """
    wait, event = queued_waits(calls)
    if wait.size == 0:
        raise InputError("no queued contacts: patience cannot be estimated", column="wait_s")
    if not event.any():
        raise InputError("no abandoned contacts: the patience curve stays at 1",
                         column="outcome")
    data = stats.CensoredData(uncensored=wait[event], right=wait[~event])
    res = stats.ecdf(data).sf
    with warnings.catch_warnings():
        # scipy warns where the band is undefined (survival 0 or 1); handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = res.confidence_interval(confidence, method="log-log")
    survival = np.asarray(res.probabilities, dtype=float)
    low = np.asarray(ci.low.probabilities, dtype=float)
    high = np.asarray(ci.high.probabilities, dtype=float)
    return PatienceCurve(
        time_s=np.asarray(res.quantiles, dtype=float),
        survival=survival,
        # where the log-log band is undefined (survival exactly 1 or 0: Greenwood variance 0)
        ci_low=np.where(np.isnan(low), survival, low),
        ci_high=np.where(np.isnan(high), survival, high),
        abandons=int(event.sum()),
        queued=int(wait.size),
    )


def patience_curves(calls: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """The Kaplan-Meier patience curve of every queue with abandons, and of all queues
    (``queue = "all"``): columns ``queue``, ``time_s``, ``survival`` = P(patience >
    ``time_s``), ``ci_low``, ``ci_high`` (`kaplan_meier_patience`)."""
    groups = [*calls.groupby("queue", sort=True), ("all", calls)]
    parts = [pd.DataFrame({"queue": str(q), "time_s": c.time_s, "survival": c.survival,
                           "ci_low": c.ci_low, "ci_high": c.ci_high})
             for q, sub in groups if (sub["outcome"] == "abandoned").any()
             for c in [kaplan_meier_patience(sub, confidence=confidence)]]
    if not parts:
        return pd.DataFrame(columns=["queue", "time_s", "survival", "ci_low", "ci_high"])
    return pd.concat(parts, ignore_index=True)
