"""Rolling-origin backtest, accuracy measures, method selection and prediction bands.

**Open days.** Horizons are counted in *open days* (days with contacts): a closed day (a
Sunday of a weekday center, a holiday) does not consume the horizon, so "day 1" is the next
day the queue works and "week 2" the open days 6-10 of a five-day center, 8-14 of a
seven-day one (`open_days_per_week`). Origins are the starts of open days, `step_days`
open days apart; the latest leaves a full week ahead of it, later horizons of the latest
origins run past the end of history and are scored where known.

Accuracy (over every interval of every origin whose actual value is known), per horizon
group ``day 1``, ``days 2-5``, ``week 1`` (the open days of the first week: the
week-ahead figure), ``week 2`` and ``all``:

* ``wape`` = sum |actual - forecast| / sum actual (weighted absolute percentage error);
* ``mase`` = mean |actual - forecast| / mean |y_t - y_(t - 1 week)| of the training part
  (the in-sample seasonal-naive error; Hyndman & Koehler 2006), averaged over origins;
* ``bias`` = sum (forecast - actual) / sum actual (> 0: over-forecast);
* ``rmse`` = sqrt(mean (forecast - actual)^2);
* ``wape_early`` / ``wape_late``: the WAPE on the older and the newer half of the origins.

Selection (`select_method`): the benchmark is the **4-week mean** of the same weekday and
interval (`Method.MEAN_4W`, the average planners use). Another candidate is chosen only if
it is no worse than the benchmark in overall RMSE (the squared error rewards the mean
rate that staffing needs; WAPE alone is minimized by the median, 0 in most intervals of a
sparse queue) and in week-ahead WAPE on *both* halves of the origins (a choice that holds
with fewer origins, not a lucky streak); among those, the lowest week-ahead WAPE wins,
ties going to the benchmark. The chosen method is therefore never worse than the 4-week
mean on the backtest's week-ahead WAPE (tested as a property on random histories).

Prediction bands: standardized backtest residuals ``z = (actual - forecast) / s(forecast)``
of the chosen method, with ``s(f) = sqrt(f + 1 + phi f^2)`` (Poisson plus an overdispersion
``phi`` fitted to the same residuals, see `overdispersion`), pooled per band bucket (open
day 1, the rest of week 1, week 2, later); the band of a future interval is
``forecast + q_p(z) * s(forecast)`` with the empirical quantiles ``p`` = 0.025, 0.10, 0.90,
0.975, widened to at least the Poisson quantiles of the forecast rate, clipped at zero and
made to contain the point forecast.

References
----------
Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and review.
International Journal of Forecasting 16(4), 437-450.

Hyndman, R. J., Koehler, A. B. (2006). Another look at measures of forecast accuracy.
International Journal of Forecasting 22(4), 679-688.

Taylor, J. W. (2008). A comparison of univariate time series methods for forecasting
intraday arrivals at a call center. Management Science 54(2), 253-265.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from openwfm.forecast.models import Method, predict

__all__ = [
    "BAND_BUCKETS",
    "BENCHMARK",
    "BIAS_WARNING",
    "Backtest",
    "BacktestConfig",
    "band_quantiles",
    "bands",
    "horizon_groups",
    "open_days_per_week",
    "overdispersion",
    "rolling_origins",
    "run_backtest",
    "select_method",
]

#: The benchmark every choice is compared with: the 4-week mean of weekday and interval.
BENCHMARK = Method.MEAN_4W
#: |week-ahead bias| of the chosen method above which the forecast carries a warning.
BIAS_WARNING = 0.10
#: Band buckets (rows of `band_quantiles`): open day 1, rest of week 1, week 2, later.
BAND_BUCKETS = 4
#: Probabilities of the band quantiles: lo 95, lo 80, hi 80, hi 95.
BAND_PROBS: tuple[float, float, float, float] = (0.025, 0.10, 0.90, 0.975)
#: Fewest residuals a band bucket needs for its own quantiles (else all buckets pooled).
MIN_RESIDUALS = 100
#: Most open days between origins when `BacktestConfig.step_days` is automatic.
MAX_AUTO_STEP = 3


@dataclass(frozen=True)
class BacktestConfig:
    """How the rolling-origin backtest is run.

    Attributes
    ----------
    horizon_days : int
        Open days forecast from each origin.
    n_origins : int
        Most origins (the latest leaves a week of open days ahead of it, then every
        `step_days` open days earlier); at least 12 where history allows.
    step_days : int or None
        Open days between origins; None: automatic, spreading the origins over the
        history that is there (1 to `MAX_AUTO_STEP` open days).
    min_train_days : int
        Fewest days of history before the first origin.
    """

    horizon_days: int = 14
    n_origins: int = 12
    step_days: int | None = None
    min_train_days: int = 7


def open_days_per_week(open_days: np.ndarray) -> int:
    """Open days in a typical week (7 x the share of open days, rounded; 1 to 7).

    Examples
    --------
    >>> open_days_per_week(np.arange(28) % 7 < 5)
    5
    """
    if len(open_days) == 0:
        return 7
    return int(min(7, max(1, round(7 * float(np.mean(open_days))))))


def horizon_groups(week: int) -> list[tuple[str, int, int]]:
    """Horizon groups of the accuracy table, in open days: (label, first, last).

    Examples
    --------
    >>> horizon_groups(5)
    [('day 1', 1, 1), ('days 2-5', 2, 5), ('week 1', 1, 5), ('week 2', 6, 10)]
    """
    return [("day 1", 1, 1), ("days 2-5", 2, 5), ("week 1", 1, week),
            ("week 2", week + 1, 2 * week)]


def _band_bucket(step: np.ndarray, week: int) -> np.ndarray:
    """Band bucket of each open-day step: 0 day 1, 1 rest of week 1, 2 week 2, 3 later."""
    return np.select([step <= 1, step <= week, step <= 2 * week], [0, 1, 2], 3)


def rolling_origins(open_days: np.ndarray, config: BacktestConfig) -> list[int]:
    """Origins (number of training days) of the backtest, oldest first.

    An origin is the start of an open day; the latest leaves ``min(horizon, week)`` open
    days ahead of it, the others are `step_days` open days apart, none before
    `min_train_days`.

    Examples
    --------
    A five-day center, four weeks: the latest origin is the Monday of the last week.

    >>> open_days = np.arange(28) % 7 < 5
    >>> rolling_origins(open_days, BacktestConfig(horizon_days=5, n_origins=4, step_days=2))
    [11, 15, 17, 21]
    """
    idx = np.flatnonzero(open_days)
    week = open_days_per_week(open_days)
    ahead = max(1, min(config.horizon_days, week))
    if len(idx) < ahead + 1:
        return []
    last = len(idx) - ahead  # position in idx of the latest origin
    eligible = int(np.sum(idx[:last + 1] >= config.min_train_days))
    step = config.step_days
    if step is None:
        step = max(1, min(MAX_AUTO_STEP, (eligible - 1) // max(config.n_origins - 1, 1)))
    pos = [last - k * step for k in range(config.n_origins)]
    return sorted(int(idx[p]) for p in pos if p >= 0 and idx[p] >= config.min_train_days)


@dataclass(frozen=True, eq=False)
class Backtest:
    """Forecasts of every method from every origin, and the actual values.

    Attributes
    ----------
    origins : tuple of int
        Training days of each origin.
    actual : numpy.ndarray
        ``(origins, days, slots)`` actual values (NaN where unknown or past the horizon).
    forecasts : Mapping[Method, numpy.ndarray]
        Same shape, per method that could run at every origin.
    scale : numpy.ndarray
        MASE denominator per origin.
    steps : numpy.ndarray
        ``(origins, days)`` open-day horizon of each day (1 = the first open day; a closed
        day counts with the open day after it; 0 = past the horizon).
    week : int
        Open days per week (`open_days_per_week`).
    """

    origins: tuple[int, ...]
    actual: np.ndarray
    forecasts: Mapping[Method, np.ndarray]
    scale: np.ndarray
    steps: np.ndarray
    week: int = 7

    def accuracy(self) -> pd.DataFrame:
        """WAPE, MASE, bias and RMSE per method and horizon group (and ``"all"``).

        Columns: ``method``, ``horizon``, ``wape``, ``mase``, ``bias``, ``rmse``, ``n``
        (intervals), ``wape_early``, ``wape_late`` (older / newer half of the origins).
        """
        cols = ["method", "horizon", "wape", "mase", "bias", "rmse", "n", "wape_early",
                "wape_late"]
        rows = []
        step = np.broadcast_to(self.steps[:, :, None], self.actual.shape)
        known = ~np.isnan(self.actual)
        n_o = self.actual.shape[0]
        late = np.broadcast_to((np.arange(n_o) >= n_o // 2)[:, None, None], self.actual.shape)
        groups = [(lab, (step >= lo) & (step <= hi)) for lab, lo, hi in
                  horizon_groups(self.week)]
        groups.append(("all", step >= 1))
        for method, fc in self.forecasts.items():
            err = fc - self.actual
            for label, sel in groups:
                m = sel & known
                n = int(m.sum())
                if n == 0:
                    continue
                actual_sum = float(self.actual[m].sum())
                e = np.where(m, err, 0.0)
                abs_err = np.abs(e)
                per_origin = abs_err.sum(axis=(1, 2)) / np.maximum(m.sum(axis=(1, 2)), 1)
                use = m.any(axis=(1, 2)) & (self.scale > 0)

                def half(h: np.ndarray, m=m, abs_err=abs_err) -> float:
                    a = float(self.actual[m & h].sum())
                    return float(abs_err[m & h].sum()) / a if a > 0 else np.nan

                rows.append({
                    "method": method.value,
                    "horizon": label,
                    "wape": float(abs_err.sum()) / actual_sum if actual_sum > 0 else np.nan,
                    "mase": float(np.mean(per_origin[use] / self.scale[use])) if use.any()
                    else np.nan,
                    "bias": float(e.sum()) / actual_sum if actual_sum > 0 else np.nan,
                    "rmse": float(np.sqrt(np.sum(e ** 2) / n)),
                    "n": n,
                    "wape_early": half(~late),
                    "wape_late": half(late),
                })
        return pd.DataFrame(rows, columns=cols)


def run_backtest(
    history: np.ndarray,
    weekdays: np.ndarray,
    methods: Sequence[Method],
    config: BacktestConfig,
    features: np.ndarray | None = None,
    open_days: np.ndarray | None = None,
) -> Backtest:
    """Forecast from every rolling origin with every method, on common origins.

    Each origin forecasts `config.horizon_days` open days (closed days in between are
    forecast too and scored, but do not count); `features` (``(days, k)`` calendar effects
    of the history days, `openwfm.forecast.calendar.day_features`) go to the methods that
    use them; `open_days` (default: days with contacts) set the origins and horizons.

    A method that cannot run at an origin (too little history: MSTL needs more than two
    weekly cycles) makes that origin too short for a fair comparison: the origins kept are
    those where every method that runs at the latest origin runs, so all candidates are
    scored on the same intervals. A method that cannot run even at the latest origin is
    left out.

    Examples
    --------
    >>> t = np.arange(28 * 4)
    >>> h = (10 + (t % 4)).reshape(28, 4).astype(float)
    >>> bt = run_backtest(h, np.arange(28) % 7, [Method.MEAN_4W],
    ...                   BacktestConfig(horizon_days=7, n_origins=2, step_days=7))
    >>> bt.origins, float(bt.accuracy().query("horizon == 'all'")["wape"].iloc[0])
    ((14, 21), 0.0)
    """
    n_days, slots = history.shape
    if open_days is None:
        open_days = np.nansum(history, axis=1) > 0
    open_days = np.asarray(open_days, dtype=bool)
    week = open_days_per_week(open_days)
    origins = rolling_origins(open_days, config)
    hd = config.horizon_days
    # calendar span of each origin's horizon: up to its hd-th open day (or history's end)
    spans: dict[int, int] = {}
    for o in origins:
        cum = np.cumsum(open_days[o:])
        reach = np.flatnonzero(cum >= hd)
        spans[o] = int(reach[0]) + 1 if len(reach) else n_days - o
    width = max(spans.values(), default=hd)
    runs: dict[Method, dict[int, np.ndarray]] = {}
    for method in methods:
        outs: dict[int, np.ndarray] = {}
        for o in reversed(origins):  # latest first: a method short of history stops early
            span = spans[o]
            feats = None if features is None else (features[:o], features[o:o + span])
            f = predict(method, history[:o], weekdays[:o], weekdays[o:o + span], feats)
            if f is None:
                break
            outs[o] = f
        if origins and origins[-1] in outs:
            runs[method] = outs
    if runs:
        origins = [o for o in origins if all(o in outs for outs in runs.values())]
    n_o = len(origins)
    actual = np.full((n_o, width, slots), np.nan)
    steps = np.zeros((n_o, width), dtype=np.int64)
    forecasts = {m: np.full((n_o, width, slots), np.nan) for m in runs}
    for i, o in enumerate(origins):
        span = spans[o]
        actual[i, :span] = history[o:o + span]
        op = open_days[o:o + span]
        cum = np.cumsum(op)
        steps[i, :span] = np.where(op, cum, np.minimum(cum + 1, hd))
        for m, outs in runs.items():
            forecasts[m][i, :span] = outs[o]
    scale = np.array([_naive_scale(history[:o]) for o in origins])
    return Backtest(origins=tuple(origins), actual=actual, forecasts=forecasts, scale=scale,
                    steps=steps, week=week)


def _naive_scale(train: np.ndarray) -> float:
    if train.shape[0] <= 7:
        return np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(np.abs(train[7:] - train[:-7])))


def select_method(accuracy: pd.DataFrame) -> Method:
    """The benchmark (4-week mean) unless a candidate beats it robustly (module docstring).

    A candidate is eligible when its overall RMSE is no worse than the benchmark's and its
    week-ahead WAPE is no worse on both halves of the origins (where both halves have
    data); the lowest week-ahead WAPE among the eligible wins, ties going to the
    benchmark. Without a ``week 1`` row, the ``all`` rows are used; without ``rmse`` or
    halves, those conditions are skipped.

    Examples
    --------
    >>> acc = pd.DataFrame({"method": ["mean_4w", "calendar_ew"], "horizon": "week 1",
    ...                     "wape": [0.20, 0.15], "rmse": [3.0, 2.9],
    ...                     "wape_early": [0.2, 0.16], "wape_late": [0.2, 0.14]})
    >>> select_method(acc)
    <Method.CALENDAR_EW: 'calendar_ew'>

    Better overall but worse on the newer origins: not a stable win.

    >>> acc.loc[1, "wape_late"] = 0.21
    >>> select_method(acc)
    <Method.MEAN_4W: 'mean_4w'>
    """
    bench = BENCHMARK.value
    label = "week 1" if (accuracy["horizon"] == "week 1").any() else "all"
    week = accuracy[(accuracy["horizon"] == label) & accuracy["wape"].notna()]
    if week.empty or not (week["method"] == bench).any():
        return BENCHMARK
    week = week.set_index("method")
    ok = pd.Series(True, index=week.index)
    if "rmse" in accuracy.columns:
        overall = accuracy[accuracy["horizon"] == "all"].set_index("method")["rmse"]
        if bench in overall.index and np.isfinite(overall[bench]):
            r = overall.reindex(week.index)
            ok &= ~(r > overall[bench] * (1 + 1e-12))
    for col in ("wape_early", "wape_late"):
        if col in week.columns and np.isfinite(week.loc[bench, col]):
            ok &= ~(week[col] > week.loc[bench, col] * (1 + 1e-12))
    ok[bench] = True
    order = {m.value: i for i, m in enumerate(dict.fromkeys([BENCHMARK, *Method]))}
    best = min((round(float(week.loc[m, "wape"]), 12), order[m], m) for m in week.index
                if ok[m])
    return Method(best[2])


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


def band_quantiles(actual: np.ndarray, forecast: np.ndarray, phi: float = 0.0,
                   steps: np.ndarray | None = None, week: int = 7) -> np.ndarray:
    """Quantiles of standardized residuals per band bucket.

    Returns a ``(BAND_BUCKETS, 4)`` array (open day 1, rest of week 1, week 2, later; `steps`
    are the open-day horizons of the backtest days, `Backtest.steps`; default: every day
    open) of the `BAND_PROBS` quantiles of
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
    out = np.tile(default, (BAND_BUCKETS, 1))
    if actual.size == 0:
        return out
    h = actual.shape[1]
    if steps is None:
        steps = np.broadcast_to(np.arange(1, h + 1)[None, :], actual.shape[:2])
    step = np.broadcast_to(np.asarray(steps)[:, :, None], actual.shape)
    bucket = np.where(step >= 1, _band_bucket(step, week), -1)
    use = ~np.isnan(actual) & ((forecast > 0) | (actual > 0))
    z = (actual - forecast) / _scale(forecast, phi)
    if use.sum() >= MIN_RESIDUALS // 4:
        out[:] = np.quantile(z[use], BAND_PROBS)
    for i in range(BAND_BUCKETS):
        sel = use & (bucket == i)
        if sel.sum() >= MIN_RESIDUALS:
            out[i] = np.quantile(z[sel], BAND_PROBS)
    # buckets past the backtest horizon use the last bucket that had residuals
    last_seen = 0
    for i in range(BAND_BUCKETS):
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
    steps: np.ndarray | None = None,
    week: int = 7,
) -> tuple[np.ndarray, ...]:
    """``(lo95, lo80, hi80, hi95)`` around a ``(days, slots)`` point forecast.

    Each band is the wider of the empirical band ``forecast + q * sqrt(forecast + 1 +
    phi * forecast**2)`` (`band_quantiles` with the same `phi`) and
    the Poisson band of the forecast rate (arrivals are at least Poisson-variable given the
    rate, which matters for sparse queues). Closed intervals (`closed` True) get zero bands.
    The bands are ordered ``0 <= lo95 <= lo80 <= forecast <= hi80 <= hi95``.

    `steps` are the open-day horizons of the forecast days (default 1, 2, ...).

    Examples
    --------
    >>> q = np.tile([-2.0, -1.0, 1.0, 2.0], (BAND_BUCKETS, 1))
    >>> [b.round(2).tolist() for b in bands(np.array([[0.0, 30.0]]), q,
    ...                                      np.array([[True, False]]))]
    [[[0.0, 18.86]], [[0.0, 23.0]], [[0.0, 37.0]], [[0.0, 41.14]]]
    """
    from scipy.stats import poisson

    step = np.arange(1, forecast.shape[0] + 1) if steps is None else np.asarray(steps)
    q = quantiles[_band_bucket(step, week)]  # (days, 4)
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
