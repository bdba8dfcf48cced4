"""Rolling-origin backtest, accuracy measures, method selection and prediction bands.

Accuracy (over every interval of every origin whose actual value is known):

* ``wape`` = sum |actual - forecast| / sum actual (weighted absolute percentage error);
* ``mase`` = mean |actual - forecast| / mean |y_t - y_(t - 1 week)| of the training part
  (the in-sample seasonal-naive error; Hyndman & Koehler 2006), averaged over origins;
* ``bias`` = sum (forecast - actual) / sum actual (> 0: over-forecast);
* ``rmse`` = sqrt(mean (forecast - actual)^2).

Selection: the method with the lowest overall WAPE among those whose RMSE is no worse than
the historical average's. The historical average is always a candidate and always
eligible, so the chosen method is never worse than it on the backtest, in WAPE nor in RMSE
(a property of the constrained argmin, tested). The RMSE condition matters for sparse
queues: WAPE, an absolute error, is minimized by the median, and the median of a queue
with a few contacts a day is 0 in most intervals, so a method that repeats last week's
zeros and ones (seasonal naive) can win WAPE while missing the mean rate that staffing
needs; the squared error is minimized by the mean and rejects it.

Prediction bands: standardized backtest residuals ``z = (actual - forecast) / s(forecast)``
of the chosen method, with ``s(f) = sqrt(f + 1 + phi f^2)`` (Poisson plus an overdispersion
``phi`` fitted to the same residuals, see `overdispersion`), pooled per horizon bucket; the
band of a future interval is ``forecast + q_p(z) * s(forecast)`` with the empirical quantiles
``p`` = 0.025, 0.10, 0.90, 0.975, widened to at least the Poisson quantiles of the forecast
rate, clipped at zero and made to contain the point forecast. The bands are thus calibrated
on the backtest by construction; their coverage on data held out is tested on the bank
call log.

References
----------
Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and review.
International Journal of Forecasting 16(4), 437-450.

Hyndman, R. J., Koehler, A. B. (2006). Another look at measures of forecast accuracy.
International Journal of Forecasting 22(4), 679-688.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from openwfm.forecast.models import Method, predict

__all__ = [
    "HORIZON_BUCKETS",
    "Backtest",
    "BacktestConfig",
    "band_quantiles",
    "bands",
    "overdispersion",
    "rolling_origins",
    "run_backtest",
    "select_method",
]

#: Horizon buckets of the accuracy table: (first day, last day, label); day 1 = first day.
HORIZON_BUCKETS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "day 1"),
    (2, 7, "days 2-7"),
    (8, 14, "days 8-14"),
    (15, 10**6, "days 15+"),
)
#: Probabilities of the band quantiles: lo 95, lo 80, hi 80, hi 95.
BAND_PROBS: tuple[float, float, float, float] = (0.025, 0.10, 0.90, 0.975)
#: Fewest residuals a horizon bucket needs for its own quantiles (else all buckets pooled).
MIN_RESIDUALS = 100


@dataclass(frozen=True)
class BacktestConfig:
    """How the rolling-origin backtest is run.

    Attributes
    ----------
    horizon_days : int
        Days forecast from each origin.
    n_origins : int
        Most origins (the latest ``horizon_days`` before the end of history, then every
        ``step_days`` earlier).
    step_days : int
        Days between origins.
    min_train_days : int
        Fewest days of history before the first origin.
    """

    horizon_days: int = 7
    n_origins: int = 3
    step_days: int = 7
    min_train_days: int = 14


def rolling_origins(n_days: int, config: BacktestConfig) -> list[int]:
    """Origins (number of training days) of the backtest, oldest first.

    Examples
    --------
    >>> rolling_origins(28, BacktestConfig(horizon_days=7, n_origins=4, step_days=3))
    [15, 18, 21]
    """
    last = n_days - config.horizon_days
    origins = [last - k * config.step_days for k in range(config.n_origins)]
    return sorted(o for o in origins if o >= config.min_train_days)


def _bucket_of(day: np.ndarray) -> np.ndarray:
    out = np.zeros(day.shape, dtype=np.int64)
    for i, (lo, hi, _) in enumerate(HORIZON_BUCKETS):
        out[(day >= lo) & (day <= hi)] = i
    return out


@dataclass(frozen=True, eq=False)
class Backtest:
    """Forecasts of every method from every origin, and the actual values.

    Attributes
    ----------
    origins : tuple of int
        Training days of each origin.
    actual : numpy.ndarray
        ``(origins, horizon_days, slots)`` actual values (NaN where unknown).
    forecasts : Mapping[Method, numpy.ndarray]
        Same shape, per method that could run at every origin.
    scale : numpy.ndarray
        MASE denominator per origin.
    """

    origins: tuple[int, ...]
    actual: np.ndarray
    forecasts: Mapping[Method, np.ndarray]
    scale: np.ndarray

    def accuracy(self) -> pd.DataFrame:
        """WAPE, MASE and bias per method and horizon bucket (and ``"all"``).

        Columns: ``method``, ``horizon``, ``wape``, ``mase``, ``bias``, ``rmse``, ``n``
        (intervals).
        """
        rows = []
        h = self.actual.shape[1]
        day = np.broadcast_to(np.arange(1, h + 1)[None, :, None], self.actual.shape)
        bucket = _bucket_of(day)
        known = ~np.isnan(self.actual)
        for method, fc in self.forecasts.items():
            err = fc - self.actual
            groups = [(lab, bucket == i) for i, (_, _, lab) in enumerate(HORIZON_BUCKETS)]
            groups.append(("all", np.ones_like(known)))
            for label, sel in groups:
                m = sel & known
                n = int(m.sum())
                if n == 0:
                    continue
                actual_sum = float(self.actual[m].sum())
                abs_err = np.abs(np.where(m, err, 0.0))
                per_origin = abs_err.sum(axis=(1, 2)) / np.maximum(m.sum(axis=(1, 2)), 1)
                use = m.any(axis=(1, 2)) & (self.scale > 0)
                rows.append({
                    "method": method.value,
                    "horizon": label,
                    "wape": float(abs_err.sum()) / actual_sum if actual_sum > 0 else np.nan,
                    "mase": float(np.mean(per_origin[use] / self.scale[use])) if use.any()
                    else np.nan,
                    "bias": float(np.where(m, err, 0.0).sum()) / actual_sum if actual_sum > 0
                    else np.nan,
                    "rmse": float(np.sqrt(np.sum(np.where(m, err, 0.0) ** 2) / n)),
                    "n": n,
                })
        return pd.DataFrame(rows, columns=["method", "horizon", "wape", "mase", "bias", "rmse",
                                           "n"])


def run_backtest(
    history: np.ndarray,
    weekdays: np.ndarray,
    methods: Sequence[Method],
    config: BacktestConfig,
) -> Backtest:
    """Forecast from every rolling origin with every method, on common origins.

    A method that cannot run at an origin (too little history: MSTL needs more than two
    weekly cycles) makes that origin too short for a fair comparison: the origins kept are
    those where every method that runs at the latest origin runs, so all candidates are
    scored on the same intervals (and the chosen one is never worse than the historical
    average on them). A method that cannot run even at the latest origin is left out.

    Examples
    --------
    >>> t = np.arange(28 * 4)
    >>> h = (10 + (t % 4)).reshape(28, 4).astype(float)
    >>> bt = run_backtest(h, np.arange(28) % 7, [Method.HISTORICAL_AVERAGE],
    ...                   BacktestConfig(horizon_days=7, n_origins=2))
    >>> bt.origins, float(bt.accuracy().query("horizon == 'all'")["wape"].iloc[0])
    ((14, 21), 0.0)
    """
    n_days = history.shape[0]
    origins = rolling_origins(n_days, config)
    hd = config.horizon_days
    runs: dict[Method, dict[int, np.ndarray]] = {}
    for method in methods:
        outs: dict[int, np.ndarray] = {}
        for o in reversed(origins):  # latest first: a method short of history stops early
            f = predict(method, history[:o], weekdays[:o], weekdays[o:o + hd])
            if f is None:
                break
            outs[o] = f
        if origins and origins[-1] in outs:
            runs[method] = outs
    if runs:
        origins = [o for o in origins if all(o in outs for outs in runs.values())]
    actual = np.stack([history[o:o + hd] for o in origins]) if origins else np.empty(
        (0, hd, history.shape[1]))
    forecasts = {m: np.stack([outs[o] for o in origins]) for m, outs in runs.items()}
    scale = np.array([_naive_scale(history[:o]) for o in origins])
    return Backtest(origins=tuple(origins), actual=actual, forecasts=forecasts, scale=scale)


def _naive_scale(train: np.ndarray) -> float:
    if train.shape[0] <= 7:
        return np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(np.abs(train[7:] - train[:-7])))


def select_method(accuracy: pd.DataFrame) -> Method:
    """Lowest overall WAPE among methods whose RMSE is no worse than the historical average's.

    Ties go to the historical average. Because it is always among the candidates and always
    eligible, the chosen method's backtest WAPE and RMSE are never above the historical
    average's. Without an ``rmse`` column, the lowest WAPE.

    Examples
    --------
    >>> acc = pd.DataFrame({"method": ["historical_average", "mstl"], "horizon": "all",
    ...                     "wape": [0.20, 0.15], "rmse": [3.0, 2.9]})
    >>> select_method(acc)
    <Method.MSTL: 'mstl'>

    A sparse queue: seasonal naive repeats last week's zeros, wins WAPE, loses RMSE.

    >>> acc = pd.DataFrame({"method": ["historical_average", "seasonal_naive"],
    ...                     "horizon": "all", "wape": [2.6, 2.2], "rmse": [0.39, 0.45]})
    >>> select_method(acc)
    <Method.HISTORICAL_AVERAGE: 'historical_average'>
    """
    overall = accuracy[(accuracy["horizon"] == "all") & accuracy["wape"].notna()]
    if overall.empty:
        return Method.HISTORICAL_AVERAGE
    ha = Method.HISTORICAL_AVERAGE.value
    if "rmse" in overall.columns and (overall["method"] == ha).any():
        ha_rmse = float(overall.loc[overall["method"] == ha, "rmse"].iloc[0])
        if np.isfinite(ha_rmse):
            overall = overall[(overall["method"] == ha) | (
                overall["rmse"] <= ha_rmse * (1 + 1e-12))]
    preference = dict.fromkeys([Method.HISTORICAL_AVERAGE, *Method])
    order = {m.value: i for i, m in enumerate(preference)}
    best = min(zip(overall["wape"], overall["method"], strict=True),
               key=lambda t: (round(t[0], 12), order[t[1]]))
    return Method(best[1])


def overdispersion(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Least-squares ``phi`` of the variance model ``Var(actual) = f + phi * f**2``.

    Poisson arrivals have ``phi = 0``; a rate that itself is uncertain (day-to-day level
    shocks, forecast error growing with the level) gives ``phi > 0``, as in a negative
    binomial. Fitted on the backtest residuals of open intervals: ``phi = sum f^2 ((y - f)^2
    - f) / sum f^4``, floored at 0.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> f = np.full((10, 7, 48), 50.0)
    >>> y = rng.poisson(f * rng.gamma(25.0, 1 / 25.0, size=f.shape)).astype(float)
    >>> round(overdispersion(y, f), 2)  # the gamma mixing has variance 1/25
    0.04
    """
    use = ~np.isnan(actual) & ((forecast > 0) | (actual > 0))
    if not use.any():
        return 0.0
    f, y = forecast[use], actual[use]
    den = float(np.sum(f**4))
    if den <= 0:
        return 0.0
    return max(float(np.sum(f**2 * ((y - f) ** 2 - f))) / den, 0.0)


def _scale(forecast: np.ndarray, phi: float) -> np.ndarray:
    return np.sqrt(forecast + 1.0 + phi * forecast**2)


def band_quantiles(actual: np.ndarray, forecast: np.ndarray, phi: float = 0.0) -> np.ndarray:
    """Quantiles of standardized residuals per horizon bucket.

    Returns a ``(len(HORIZON_BUCKETS), 4)`` array of the `BAND_PROBS` quantiles of
    ``(actual - forecast) / sqrt(forecast + 1 + phi * forecast**2)`` (`overdispersion`);
    buckets with fewer than `MIN_RESIDUALS`
    residuals use the residuals of every bucket; no residuals at all gives the Poisson-like
    normal quantiles.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = np.full((20, 7, 48), 100.0)
    >>> q = band_quantiles(rng.poisson(f).astype(float), f)
    >>> bool(np.allclose(q[1], [-1.96, -1.28, 1.28, 1.96], atol=0.15))
    True
    """
    default = np.array([-1.96, -1.2816, 1.2816, 1.96])
    out = np.tile(default, (len(HORIZON_BUCKETS), 1))
    if actual.size == 0:
        return out
    h = actual.shape[1]
    day = np.broadcast_to(np.arange(1, h + 1)[None, :, None], actual.shape)
    bucket = _bucket_of(day)
    use = ~np.isnan(actual) & ((forecast > 0) | (actual > 0))
    z = (actual - forecast) / _scale(forecast, phi)
    if use.sum() >= MIN_RESIDUALS // 4:
        out[:] = np.quantile(z[use], BAND_PROBS)
    for i in range(len(HORIZON_BUCKETS)):
        sel = use & (bucket == i)
        if sel.sum() >= MIN_RESIDUALS:
            out[i] = np.quantile(z[sel], BAND_PROBS)
    # buckets past the backtest horizon use the last bucket that had residuals
    last_seen = 0
    for i in range(len(HORIZON_BUCKETS)):
        if (use & (bucket == i)).sum() >= MIN_RESIDUALS:
            last_seen = i
        elif i > last_seen:
            out[i] = out[last_seen]
    return out


def bands(
    forecast: np.ndarray,
    quantiles: np.ndarray,
    closed: np.ndarray | None = None,
    phi: float = 0.0,
) -> tuple[np.ndarray, ...]:
    """``(lo95, lo80, hi80, hi95)`` around a ``(days, slots)`` point forecast.

    Each band is the wider of the empirical band ``forecast + q * sqrt(forecast + 1 +
    phi * forecast**2)`` (`band_quantiles` with the same `phi`) and
    the Poisson band of the forecast rate (arrivals are at least Poisson-variable given the
    rate, which matters for sparse queues). Closed intervals (`closed` True) get zero bands.
    The bands are ordered ``0 <= lo95 <= lo80 <= forecast <= hi80 <= hi95``.

    Examples
    --------
    >>> q = np.tile([-2.0, -1.0, 1.0, 2.0], (len(HORIZON_BUCKETS), 1))
    >>> [b.round(2).tolist() for b in bands(np.array([[0.0, 30.0]]), q,
    ...                                      np.array([[True, False]]))]
    [[[0.0, 18.86]], [[0.0, 23.0]], [[0.0, 37.0]], [[0.0, 41.14]]]
    """
    from scipy.stats import poisson

    day = np.arange(1, forecast.shape[0] + 1)
    q = quantiles[_bucket_of(day)]  # (days, 4)
    s = _scale(forecast, phi)
    out = []
    for i, p in enumerate(BAND_PROBS):
        emp = forecast + q[:, i:i + 1] * s
        pois = poisson.ppf(p, forecast)
        b = np.minimum(np.minimum(emp, pois), forecast) if p < 0.5 else np.maximum(
            np.maximum(emp, pois), forecast)
        out.append(b)
    lo95, lo80, hi80, hi95 = out
    lo95 = np.minimum(lo95, lo80)
    hi95 = np.maximum(hi95, hi80)
    shut = np.zeros(forecast.shape, dtype=bool) if closed is None else closed
    return tuple(np.where(shut, 0.0, np.clip(b, 0.0, None)) for b in (lo95, lo80, hi80, hi95))
