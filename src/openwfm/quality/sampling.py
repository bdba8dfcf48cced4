"""Sampling plans: how many contacts to evaluate per agent and period, and which ones.

Sample size for a target precision (``margin`` = the half-width E of the confidence
interval of the agent's score at confidence ``level``; ``z`` the normal quantile
``Φ⁻¹(½ + level/2)``; ``N`` the agent's contacts in the period):

- mean score (points, 0-100), with ``σ`` the score's standard deviation between contacts
  of one agent (`pooled_sd` estimates it from past evaluations)::

      n0 = z² σ² / E²          n = n0 / (1 + n0 / N)

  (simple random sampling without replacement: ``Var(ȳ) = (1 - n/N) S² / n``; solving
  ``z² Var(ȳ) = E²`` for ``n`` gives exactly this finite-population correction);
- pass rate (a proportion ``p``; ``p = 0.5`` when unknown is the largest)::

      n0 = z² p (1 - p) / E²   n = n0 / (1 + (n0 - 1) / N)

  (the same with ``S² = N p (1 - p) / (N - 1)``, Cochran's eq. 4.2).

``n`` is rounded up and never above ``N``; without ``N`` (an infinite population) ``n0`` is.
The sample of an agent is then spread over strata (queue x channel) in proportion to their
contacts (proportional allocation, rounded by largest remainders), and drawn at random
within each stratum with a seeded generator: the same inputs and seed give the same sample.
Proportional allocation never has a larger variance than a simple random sample of the same
size when the strata's variances are alike, so the formula's ``n`` stays sufficient.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., Wiley: ch. 4, "The estimation of
sample size" (eq. 4.1-4.2 for proportions; the mean's form follows from the variance of a
simple random sample, ch. 2) and ch. 5 (proportional allocation in stratified sampling).
Lohr, S. L. (2019). *Sampling: Design and Analysis*, 2nd ed., §2.7 (``n = n0 / (1 + n0/N)``).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from openwfm.errors import InputError

__all__ = ["SamplingPlan", "allocate", "plan_sample", "pooled_sd", "sample_size_mean",
           "sample_size_proportion", "z_value"]


def z_value(level: float) -> float:
    """The two-sided normal quantile of confidence `level`.

    >>> round(z_value(0.95), 6)
    1.959964
    """
    if not 0 < level < 1:
        raise InputError(f"expected a confidence level in (0, 1), got {level}", column="level")
    return float(stats.norm.ppf(0.5 + level / 2))


def _population(population: int | None) -> None:
    if population is not None and population < 1:
        raise InputError(f"expected a population of at least 1 contact, got {population}",
                         column="population")


def sample_size_mean(sd: float, margin: float, *, population: int | None = None,
                     level: float = 0.95) -> int:
    """Contacts to evaluate so the mean score's CI half-width is at most `margin`.

    Examples
    --------
    σ = 12 points, E = 5 points, 95%: n0 = (1.959964 · 12 / 5)² = 22.13 -> 23; with 60
    contacts in the month n = 22.13 / (1 + 22.13 / 60) = 16.17 -> 17:

    >>> sample_size_mean(12, 5), sample_size_mean(12, 5, population=60)
    (23, 17)
    """
    if not sd >= 0 or not math.isfinite(sd):
        raise InputError(f"expected a standard deviation >= 0, got {sd}", column="sd")
    if not margin > 0 or not math.isfinite(margin):
        raise InputError(f"expected a margin > 0, got {margin}", column="margin")
    _population(population)
    n0 = (z_value(level) * sd / margin) ** 2
    n = n0 if population is None else n0 / (1 + n0 / population)
    n_int = max(1, math.ceil(n - 1e-9))
    return n_int if population is None else min(n_int, population)


def sample_size_proportion(margin: float, *, p: float = 0.5, population: int | None = None,
                           level: float = 0.95) -> int:
    """Contacts to evaluate so the pass rate's CI half-width is at most `margin`.

    Examples
    --------
    p = 0.5, E = 0.1, 95%: n0 = 1.959964² · 0.25 / 0.01 = 96.04 -> 97; with 200 contacts
    n = 96.04 / (1 + 95.04 / 200) = 65.10 -> 66:

    >>> sample_size_proportion(0.1), sample_size_proportion(0.1, population=200)
    (97, 66)
    """
    if not 0 < margin < 1:
        raise InputError(f"expected a margin in (0, 1) for a pass rate, got {margin}",
                         column="margin")
    if not 0 <= p <= 1:
        raise InputError(f"expected a pass rate in [0, 1], got {p}", column="p")
    _population(population)
    n0 = z_value(level) ** 2 * p * (1 - p) / margin**2
    n = n0 if population is None else n0 / (1 + (n0 - 1) / population)
    n_int = max(1, math.ceil(n - 1e-9))
    return n_int if population is None else min(n_int, population)


def pooled_sd(scores: pd.DataFrame, *, by: str = "agent_id", value: str = "score") -> float:
    """Pooled within-group standard deviation ``sqrt(Σ (n_g - 1) s_g² / Σ (n_g - 1))``: the
    σ of `sample_size_mean` from past evaluations (groups of one evaluation add nothing).

    >>> df = pd.DataFrame({"agent_id": list("aaabb"), "score": [70, 80, 90, 60, 70.0]})
    >>> round(pooled_sd(df), 4)      # sqrt((2·100 + 1·50) / 3)
    9.1287
    """
    g = scores.groupby(by)[value]
    n, var = g.count(), g.var(ddof=1)
    dof = (n - 1)[n > 1]
    if dof.sum() <= 0:
        raise InputError("no agent has two evaluations: cannot estimate the score's "
                         "standard deviation", column=value)
    return float(np.sqrt((dof * var[n > 1]).sum() / dof.sum()))


def allocate(total: int, sizes: list[int]) -> list[int]:
    """`total` spread over strata of `sizes` in proportion, rounded by largest remainders
    (ties: the earlier stratum), never more than a stratum holds.

    >>> allocate(10, [50, 30, 20]), allocate(4, [5, 5, 5]), allocate(7, [1, 100])
    ([5, 3, 2], [2, 1, 1], [0, 7])
    """
    cap = sum(sizes)
    total = min(total, cap)
    if total <= 0:
        return [0] * len(sizes)
    quota = [total * s / cap for s in sizes]
    out = [min(math.floor(q), s) for q, s in zip(quota, sizes, strict=True)]
    order = sorted(range(len(sizes)), key=lambda i: (-(quota[i] - math.floor(quota[i])), i))
    while sum(out) < total:
        for i in order:
            if sum(out) >= total:
                break
            if out[i] < sizes[i]:
                out[i] += 1
    return out


@dataclass(frozen=True)
class SamplingPlan:
    """The allocation per agent and stratum, and the contacts drawn."""

    allocation: pd.DataFrame
    """agent_id, queue, channel, contacts (in the period), sample (to evaluate)."""
    sample: pd.DataFrame
    """The contacts to evaluate (rows of the input)."""


def plan_sample(contacts: pd.DataFrame, *, sd: float | None = None, margin: float,
                pass_rate: float | None = None, level: float = 0.95, seed: int = 0
                ) -> SamplingPlan:
    """A stratified sampling plan over `contacts` (columns contact_id, agent_id, queue,
    channel; one period): each agent's size from `sample_size_mean` (with `sd`) or
    `sample_size_proportion` (with `pass_rate`), N = the agent's contacts; allocated over
    the agent's (queue, channel) strata in proportion; drawn with `seed`.

    Examples
    --------
    >>> c = pd.DataFrame({"contact_id": [f"c{i}" for i in range(100)], "agent_id": "a",
    ...                   "queue": ["q1"] * 75 + ["q2"] * 25, "channel": "voice"})
    >>> plan = plan_sample(c, sd=12, margin=5, seed=1)
    >>> plan.allocation[["queue", "contacts", "sample"]].to_dict("records")
    [{'queue': 'q1', 'contacts': 75, 'sample': 14}, {'queue': 'q2', 'contacts': 25, 'sample': 5}]
    """
    if (sd is None) == (pass_rate is None):
        raise InputError("give either sd (for the mean score) or pass_rate (for the pass "
                         "rate)", column="sd")
    rows = []
    picked = []
    for agent, group in contacts.groupby("agent_id", sort=True):
        n_contacts = len(group)
        if sd is not None:
            n = sample_size_mean(sd, margin, population=n_contacts, level=level)
        else:
            n = sample_size_proportion(margin, p=float(pass_rate), population=n_contacts,
                                       level=level)
        strata = group.groupby(["queue", "channel"], sort=True)
        keys = list(strata.groups)
        sizes = [len(strata.get_group(k)) for k in keys]
        take = allocate(n, sizes)
        rng = np.random.default_rng([seed, zlib.crc32(str(agent).encode())])
        for (queue, channel), size, k in zip(keys, sizes, take, strict=True):
            rows.append({"agent_id": agent, "queue": queue, "channel": channel,
                         "contacts": size, "sample": k})
            if k:
                members = strata.get_group((queue, channel)).sort_values("contact_id")
                idx = np.sort(rng.choice(size, size=k, replace=False))
                picked.append(members.iloc[idx])
    sample = (pd.concat(picked, ignore_index=True) if picked
              else contacts.iloc[0:0].reset_index(drop=True))
    return SamplingPlan(allocation=pd.DataFrame(rows), sample=sample)
