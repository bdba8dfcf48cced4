"""Scores, pass rates and trends per agent, team, site or client, with confidence intervals,
and the homogeneity of quality between sites and teams.

Per group (`score_summary`): ``evaluations``; ``mean_score`` with its Student-t 95%
interval ``mean ± t(0.975, n-1) · sd / sqrt(n)`` (`openwfm.simulation.kpis.mean_ci`,
clipped to [0, 100]); ``pass_rate`` with the Wilson interval of
`openwfm.simulation.kpis.proportion_ci` (on 0/1 outcomes its effective sample size is
``n - 1`` and its quantile the t one: slightly wider than the textbook Wilson interval);
``critical_failures``. A group of one evaluation has no interval (NaN).

Homogeneity (`homogeneity`): do sites (or teams) deliver the same quality? Over the groups
with at least ``min_evaluations`` evaluations:

- ``spread_points`` = highest group mean score - lowest group mean score (points): the
  figure a client reads ("Manila scores 9 points below Casablanca");
- ``icc1`` = the share of the score's variance that lies between groups, the one-way ANOVA
  intraclass correlation ``ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW)`` with
  ``n0 = (N - Σ n_g² / N) / (k - 1)`` for unequal group sizes; 0 when the groups are
  homogeneous (it can fall slightly below 0 by chance), 1 when all variation is between
  groups;
- ``p_value`` of the ANOVA F test ``F = MSB / MSW`` (k - 1, N - k degrees of freedom): how
  likely a spread this large is when the groups do not differ.

References
----------
Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
reliability. *Psychological Bulletin* 86(2):420-428 (ICC(1)).
Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability. In Klein &
Kozlowski (eds.), *Multilevel Theory, Research, and Methods in Organizations*, 349-381
(ICC(1) as the between-group share of variance).
Snedecor, G. W. & Cochran, W. G. (1989). *Statistical Methods*, 8th ed., ch. 12 (n0 for
unequal group sizes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from openwfm.errors import InputError
from openwfm.simulation.kpis import mean_ci, proportion_ci

__all__ = ["Homogeneity", "homogeneity", "score_summary", "score_trend"]

GROUPS = ("agent_id", "team", "site", "client", "evaluator_id", "queue", "channel")
MIN_EVALUATIONS = 10


def _check(df: pd.DataFrame, by: str) -> None:
    if by not in df.columns:
        raise InputError(f"cannot group by {by!r}: expected one of "
                         f"{', '.join(c for c in GROUPS if c in df.columns)}", column=by)
    if df.empty:
        raise InputError("no evaluations to summarize")


def score_summary(df: pd.DataFrame, by: str = "site") -> pd.DataFrame:
    """One row per value of `by`: evaluations, mean_score (lo/hi), pass_rate (lo/hi),
    critical_failures (module docstring). `df` is `evaluations_frame` output.

    Examples
    --------
    >>> df = pd.DataFrame({"site": ["A", "A", "A", "B"], "score": [70.0, 80, 90, 60],
    ...                    "passed": [False, True, True, False], "critical_failed": ""})
    >>> s = score_summary(df, "site")
    >>> for r in s[["site", "evaluations", "mean_score", "pass_rate"]].round(3).to_dict(
    ...         "records"):
    ...     print(r)
    {'site': 'A', 'evaluations': 3, 'mean_score': 80.0, 'pass_rate': 0.667}
    {'site': 'B', 'evaluations': 1, 'mean_score': 60.0, 'pass_rate': 0.0}
    >>> round(float(s["mean_score_lo"][0]), 3)            # 80 - 4.303 · 10 / sqrt(3)
    55.159
    """
    _check(df, by)
    groups = df.groupby(by, sort=True)
    keys = list(groups.groups)
    sizes = groups.size().to_numpy()
    # one padded matrix (groups x largest group, NaN beyond a group's size): every group's
    # interval in one vectorized call
    score = np.full((len(keys), int(sizes.max())), np.nan)
    passed = np.full_like(score, np.nan)
    pos = groups.cumcount().to_numpy()
    row = groups.ngroup().to_numpy()
    score[row, pos] = df["score"].to_numpy(dtype=float)
    passed[row, pos] = df["passed"].to_numpy(dtype=float)
    m, lo, hi = mean_ci(score, axis=1)
    p, plo, phi = proportion_ci(passed, axis=1)
    crit = (df["critical_failed"].astype(str) != "").groupby(df[by], sort=True).sum()
    return pd.DataFrame({by: keys, "evaluations": sizes, "mean_score": m,
                         "mean_score_lo": np.clip(lo, 0, 100),
                         "mean_score_hi": np.clip(hi, 0, 100), "pass_rate": p,
                         "pass_rate_lo": plo, "pass_rate_hi": phi,
                         "critical_failures": crit.to_numpy().astype(int)})


def score_trend(df: pd.DataFrame, by: str = "site", *, tz: str | Mapping[str, str] = "UTC",
                tz_column: str = "site") -> pd.DataFrame:
    """`score_summary` per local week (Monday start) and group: ``week`` is the Monday's
    date in the zone of each row (`tz`: one zone, or a mapping from the values of
    `tz_column`, e.g. site -> IANA zone; a site's week is its local week)."""
    _check(df, by)
    t = pd.to_datetime(df["evaluated_at"], utc=True)
    if isinstance(tz, str):
        local = t.dt.tz_convert(tz).dt.tz_localize(None)
    else:
        local = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        for value, zone in tz.items():
            mask = df[tz_column] == value
            local[mask] = t[mask].dt.tz_convert(zone).dt.tz_localize(None)
        missing = local.isna()
        local[missing] = t[missing].dt.tz_localize(None)
    day = local.dt.normalize()
    week = (day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.date
    parts = []
    for w, g in df.assign(week=week).groupby("week", sort=True):
        s = score_summary(g, by)
        s.insert(0, "week", w)
        parts.append(s)
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Homogeneity:
    """How alike the groups' quality is (module docstring)."""

    by: str
    groups: int
    spread_points: float
    icc1: float
    p_value: float
    highest: str
    lowest: str
    summary: pd.DataFrame
    """`score_summary` of the groups counted."""


def homogeneity(df: pd.DataFrame, by: str = "site", *,
                min_evaluations: int = MIN_EVALUATIONS) -> Homogeneity:
    """The spread of mean scores between the groups of `by` and the share of variance
    between them (module docstring).

    Examples
    --------
    Groups A = 70, 80, 90 and B = 60, 70, 80: means 80 and 70, MSB = 150, MSW = 100,
    n0 = 3, ICC(1) = (150 - 100) / (150 + 2 · 100) = 1/7:

    >>> df = pd.DataFrame({"site": list("AAABBB"), "score": [70.0, 80, 90, 60, 70, 80],
    ...                    "passed": True, "critical_failed": ""})
    >>> h = homogeneity(df, min_evaluations=2)
    >>> h.spread_points, round(h.icc1, 6), h.highest, h.lowest, round(h.p_value, 4)
    (10.0, 0.142857, 'A', 'B', 0.2879)
    """
    _check(df, by)
    sizes = df.groupby(by)["score"].count()
    keep = sizes[sizes >= min_evaluations].index
    d = df[df[by].isin(keep)]
    k = len(keep)
    if k < 2:
        raise InputError(f"homogeneity needs at least two {by} groups with "
                         f"{min_evaluations} evaluations or more; got {k}", column=by)
    g = d.groupby(by)["score"]
    n_g, mean_g = g.count().to_numpy(float), g.mean()
    y = d["score"].to_numpy(float)
    n = y.size
    grand = y.mean()
    ss_between = float((n_g * (mean_g.to_numpy() - grand) ** 2).sum())
    ss_within = float(((d["score"] - d[by].map(mean_g)) ** 2).sum())
    msb = ss_between / (k - 1)
    msw = ss_within / (n - k) if n > k else float("nan")
    n0 = (n - (n_g**2).sum() / n) / (k - 1)
    denom = msb + (n0 - 1) * msw
    icc = (msb - msw) / denom if denom > 0 else float("nan")
    p = float(stats.f.sf(msb / msw, k - 1, n - k)) if msw > 0 else float("nan")
    return Homogeneity(by=by, groups=k, spread_points=float(mean_g.max() - mean_g.min()),
                       icc1=float(icc), p_value=p, highest=str(mean_g.idxmax()),
                       lowest=str(mean_g.idxmin()), summary=score_summary(d, by))
