"""Named distributions for handle times and patience, scaled to a mean.

A distribution here is a *shape*: the forecast gives the mean handle time of each interval
(`aht_s`), the distribution gives the variability around it. Each class knows its
theoretical mean and variance for a given mean, so tests compare samples with theory.

References
----------
Brown, L., Gans, N., Mandelbaum, A., Sakov, A., Shen, H., Zeltyn, S., Zhao, L. (2005).
"Statistical analysis of a telephone call center: a queueing-science perspective",
JASA 100(469):36-50 -- service times of the bank in ``data/`` are close to lognormal.

Examples
--------
>>> import numpy as np
>>> d = LogNormal(cv=1.2)
>>> x = d.sample(np.random.default_rng(1), np.full(200_000, 180.0))
>>> round(float(x.mean()) / 180.0, 2), round(float(x.std()) / 180.0, 1)
(1.0, 1.2)
>>> d.variance(180.0) == (1.2 * 180.0) ** 2
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "LogNormal",
    "fit_lognormal",
]


@dataclass(frozen=True)
class Exponential:
    """Exponential with the given mean: coefficient of variation 1 (the Erlang assumption)."""

    name = "exponential"

    def sample(self, rng: np.random.Generator, mean_s: NDArray[np.float64]) -> NDArray[np.float64]:
        return rng.exponential(1.0, size=np.shape(mean_s)) * mean_s

    def mean(self, mean_s: float) -> float:
        return float(mean_s)

    def variance(self, mean_s: float) -> float:
        return float(mean_s) ** 2


@dataclass(frozen=True)
class LogNormal:
    """Lognormal with the given mean and coefficient of variation `cv` (std / mean).

    ``sigma**2 = log(1 + cv**2)``, ``mu = log(mean) - sigma**2 / 2``.
    """

    cv: float = 1.0
    name = "lognormal"

    def __post_init__(self) -> None:
        if not self.cv > 0:
            raise ValueError(f"cv must be > 0, got {self.cv}")

    def sample(self, rng: np.random.Generator, mean_s: NDArray[np.float64]) -> NDArray[np.float64]:
        s2 = math.log1p(self.cv**2)
        return rng.lognormal(-s2 / 2.0, math.sqrt(s2), size=np.shape(mean_s)) * mean_s

    def mean(self, mean_s: float) -> float:
        return float(mean_s)

    def variance(self, mean_s: float) -> float:
        return (self.cv * float(mean_s)) ** 2


@dataclass(frozen=True)
class Gamma:
    """Gamma with the given mean and shape `k` (cv = 1/sqrt(k)); k = 1 is exponential."""

    k: float = 1.0
    name = "gamma"

    def sample(self, rng: np.random.Generator, mean_s: NDArray[np.float64]) -> NDArray[np.float64]:
        return rng.gamma(self.k, 1.0 / self.k, size=np.shape(mean_s)) * mean_s

    def mean(self, mean_s: float) -> float:
        return float(mean_s)

    def variance(self, mean_s: float) -> float:
        return float(mean_s) ** 2 / self.k


@dataclass(frozen=True)
class Deterministic:
    """Every duration equals the mean (variance 0)."""

    name = "deterministic"

    def sample(self, rng: np.random.Generator, mean_s: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.broadcast_to(np.asarray(mean_s, dtype=float), np.shape(mean_s)).copy()

    def mean(self, mean_s: float) -> float:
        return float(mean_s)

    def variance(self, mean_s: float) -> float:
        return 0.0


@dataclass(frozen=True)
class Empirical:
    """Resample observed durations, rescaled so that their mean equals the requested mean.

    Examples
    --------
    >>> import numpy as np
    >>> d = Empirical.from_samples([60.0, 120.0, 180.0])
    >>> d.mean(240.0), round(d.variance(120.0), 1)
    (240.0, 2400.0)
    """

    unit: tuple[float, ...] = field(default=(1.0,))
    name = "empirical"

    @classmethod
    def from_samples(cls, samples: ArrayLike) -> Empirical:
        x = np.asarray(samples, dtype=float)
        x = x[np.isfinite(x) & (x >= 0)]
        if x.size == 0 or x.mean() <= 0:
            raise ValueError("need at least one positive finite sample")
        return cls(tuple((x / x.mean()).tolist()))

    def sample(self, rng: np.random.Generator, mean_s: NDArray[np.float64]) -> NDArray[np.float64]:
        u = np.asarray(self.unit)
        return u[rng.integers(0, u.size, size=np.shape(mean_s))] * mean_s

    def mean(self, mean_s: float) -> float:
        return float(mean_s)

    def variance(self, mean_s: float) -> float:
        return float(np.var(np.asarray(self.unit))) * float(mean_s) ** 2


Distribution = Exponential | LogNormal | Gamma | Deterministic | Empirical


def fit_lognormal(samples: ArrayLike) -> LogNormal:
    """Fit a lognormal shape to positive durations by maximum likelihood on their logs.

    Returns the shape only (its `cv`); the mean comes from the forecast at simulation time.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).lognormal(4.5, 0.9, 100_000)
    >>> round(fit_lognormal(x).cv, 2)   # sqrt(exp(0.9**2) - 1) = 1.117
    1.12
    """
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    if x.size < 2:
        raise ValueError("need at least two positive samples to fit a lognormal")
    sigma = float(np.log(x).std(ddof=1))
    return LogNormal(cv=math.sqrt(math.expm1(sigma**2)))
