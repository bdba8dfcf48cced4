"""Named distributions for handle times and patience, scaled to a mean.

A distribution here is a *shape*: the forecast gives the mean handle time of each interval
(`aht_s`), the distribution gives the variability around it. Each class knows its
theoretical mean and variance for a given mean, so tests compare samples with theory.

**Residual times** (`residual(rng, mean_s, elapsed_s)`), for a simulation that starts from
the floor as it is (`openwfm.simulation.model.InitialState`): the time still to run of a
contact in service for `elapsed_s` seconds, or of a caller who has waited `elapsed_s`:

- elapsed known: drawn from the conditional law of ``X - e`` given ``X > e`` (inverse of the
  survival function: ``X = S⁻¹(V · S(e))``, V uniform): exponential is memoryless (a fresh
  draw), lognormal through the normal survival function, gamma through the regularized
  incomplete gamma function, deterministic ``max(mean - e, 0)``, empirical a uniform pick
  among the durations longer than ``e`` (none: 0, it ends now);
- elapsed unknown (NaN): the **equilibrium residual** of a duration caught at a random
  instant of its course, ``U · X*`` with ``X*`` length-biased (density ``x f(x) / mean``) and
  U uniform: exponential again a fresh draw, lognormal ``ln X* ~ N(mu + sigma², sigma²)``,
  gamma ``X* ~ Gamma(k + 1)``, deterministic ``U · mean``, empirical a pick weighted by
  duration. Its mean is ``E[X²] / (2 E[X])`` = ``mean (1 + cv²) / 2``.

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
from scipy import special

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

    def residual(self, rng: np.random.Generator, mean_s: NDArray[np.float64],
                 elapsed_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Memoryless: a fresh draw whatever has elapsed (module docstring)."""
        return rng.exponential(1.0, size=np.shape(mean_s)) * mean_s


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

    def residual(self, rng: np.random.Generator, mean_s: NDArray[np.float64],
                 elapsed_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Time still to run after `elapsed_s` (NaN: unknown; module docstring).

        >>> import numpy as np
        >>> d, rng = LogNormal(1.0), np.random.default_rng(0)
        >>> r = d.residual(rng, np.full(400_000, 100.0), np.full(400_000, np.nan))
        >>> round(float(r.mean()) / 100.0, 2)   # (1 + cv²) / 2
        1.0
        """
        mean_s = np.asarray(mean_s, dtype=float)
        e = np.broadcast_to(np.asarray(elapsed_s, dtype=float), mean_s.shape)
        s2 = math.log1p(self.cv**2)
        sigma = math.sqrt(s2)
        mu = np.log(mean_s) - s2 / 2.0
        v = rng.random(mean_s.shape)
        u = rng.random(mean_s.shape)
        unknown = ~np.isfinite(e)
        # equilibrium: U times a length-biased draw, ln X* ~ N(mu + sigma², sigma²)
        eq = u * np.exp(mu + s2 + sigma * special.ndtri(np.clip(v, 1e-300, 1.0)))
        with np.errstate(divide="ignore", invalid="ignore"):
            z_e = (np.log(np.where(unknown, 1.0, e)) - mu) / sigma
            sf_e = special.ndtr(-z_e)
            z = -special.ndtri(np.clip(v * sf_e, 1e-300, 1.0))
            cond = np.exp(mu + sigma * z) - e
            far = e * s2 / np.maximum(z_e * sigma, 1.0)  # S(e) underflows: asymptotic
        cond = np.where(sf_e > 1e-290, np.maximum(cond, 0.0), far)
        return np.where(unknown, eq, cond)


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

    def residual(self, rng: np.random.Generator, mean_s: NDArray[np.float64],
                 elapsed_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Time still to run after `elapsed_s` (NaN: unknown; module docstring)."""
        mean_s = np.asarray(mean_s, dtype=float)
        e = np.broadcast_to(np.asarray(elapsed_s, dtype=float), mean_s.shape)
        theta = mean_s / self.k
        v = rng.random(mean_s.shape)
        u = rng.random(mean_s.shape)
        unknown = ~np.isfinite(e)
        eq = u * rng.gamma(self.k + 1.0, 1.0, size=mean_s.shape) * theta
        x0 = np.where(unknown, 0.0, e) / theta
        sf_e = special.gammaincc(self.k, x0)
        with np.errstate(invalid="ignore"):
            cond = theta * special.gammainccinv(self.k, np.clip(v * sf_e, 1e-300, 1.0)) - e
        cond = np.where(sf_e > 1e-290, np.maximum(cond, 0.0), theta)  # far tail: ~ theta
        return np.where(unknown, eq, cond)


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

    def residual(self, rng: np.random.Generator, mean_s: NDArray[np.float64],
                 elapsed_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """``mean - elapsed`` (at least 0); unknown elapsed: uniform on [0, mean]."""
        mean_s = np.asarray(mean_s, dtype=float)
        e = np.broadcast_to(np.asarray(elapsed_s, dtype=float), mean_s.shape)
        u = rng.random(mean_s.shape)
        return np.where(np.isfinite(e), np.maximum(mean_s - np.nan_to_num(e), 0.0),
                        u * mean_s)


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

    def residual(self, rng: np.random.Generator, mean_s: NDArray[np.float64],
                 elapsed_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """A uniform pick among the durations longer than `elapsed_s`, minus it (none: 0);
        unknown elapsed: a pick weighted by duration, times a uniform."""
        shape = np.shape(mean_s)
        mean_s = np.asarray(mean_s, dtype=float).ravel()
        e = np.broadcast_to(np.asarray(elapsed_s, dtype=float), shape).ravel()
        u = np.sort(np.asarray(self.unit))
        out = np.empty(mean_s.size)
        unknown = ~np.isfinite(e)
        w = np.cumsum(u) / u.sum()
        pick = np.minimum(np.searchsorted(w, rng.random(mean_s.size), side="right"),
                          u.size - 1)
        out[:] = rng.random(mean_s.size) * u[pick] * mean_s
        lo = np.searchsorted(u, np.where(unknown, 0.0, e) / mean_s, side="right")
        k = lo + np.floor(rng.random(mean_s.size) * (u.size - lo)).astype(np.int64)
        longer = lo < u.size
        cond = np.where(longer, u[np.minimum(k, u.size - 1)] * mean_s - e, 0.0)
        out = np.where(unknown, out, np.maximum(cond, 0.0))
        return out.reshape(shape)


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
