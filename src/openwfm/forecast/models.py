"""Forecasting methods on the local day grid.

Every method is a plain function ``f(history, weekdays, future_weekdays) -> forecast``:

* ``history``: ``(days, slots)`` matrix of volumes per local day and interval, ``NaN`` where
  unknown (gaps, excluded special days, holidays);
* ``weekdays``: weekday of each history row (Monday = 0);
* ``future_weekdays``: weekday of each day to forecast (the days right after history);
* returns a ``(len(future_weekdays), slots)`` matrix >= 0, or ``None`` when the method needs
  more history than there is.

The candidates (see `Method`):

``seasonal_naive``
    The last observed value of the same weekday and interval (seasonal naive, one week).
``historical_average``
    Mean of every observed value of the same weekday and interval: the "simplistic
    historical average" that Taylor (2008) found hard to beat beyond 2-3 days ahead.
``mstl``
    MSTL (Bandara et al. 2021) with a daily and a weekly seasonality on the last
    `MSTL_WINDOW_DAYS` days (gaps filled by the historical average): the decomposition of
    statsmodels, its trend forecast by statsforecast's optimized simple exponential
    smoothing and each seasonal component repeated from its last cycle, as statsforecast's
    ``MSTL`` model does. We call statsmodels directly to use R's non-robust STL iteration
    count (2 inner passes; statsmodels' default is 5, which statsforecast cannot change):
    same forecasts within noise, 2-3 times faster.
``calendar_4w``, ``calendar_ew``, ``calendar_smooth``
    openwfm's daily-total model with calendar effects times an intraday profile (recent,
    long, or recent smoothed over neighbouring intervals); see `calendar_4w`.
``combined``
    The mean of ``calendar_smooth`` and the 4-week median: a forecast combination (Bates &
    Granger 1969), whose two members err differently (a regression level and a smooth
    profile; a robust per-interval median of the last four same weekdays).
``combined_median``
    The per-interval median of ``calendar_4w``, ``calendar_smooth`` and the 4-week median
    (a robust combination, Jose & Winkler 2008); see `combined_median`.
``daily_profile``
    openwfm's own: a daily total (recent level x weekday factor) times an intraday profile
    per weekday (shares of the day, with a Dirichlet shrinkage toward the profile pooled over
    all weekdays).

References
----------
Taylor, J. W. (2008). A comparison of univariate time series methods for forecasting
intraday arrivals at a call center. Management Science 54(2), 253-265.

Bandara, K., Hyndman, R. J., Bergmeir, C. (2021). MSTL: a seasonal-trend decomposition
algorithm for time series with multiple seasonal patterns. arXiv:2107.13462.

Bates, J. M., Granger, C. W. J. (1969). The combination of forecasts. Operational Research
Quarterly 20(4), 451-468.

Cleveland, R. B., Cleveland, W. S., McRae, J. E., Terpenning, I. (1990). STL: a
seasonal-trend decomposition procedure based on loess. Journal of Official Statistics 6(1).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from enum import StrEnum
from typing import Literal

import numpy as np

__all__ = [
    "METHODS",
    "Features",
    "Method",
    "aht_profile",
    "calendar_4w",
    "calendar_ew",
    "calendar_smooth",
    "closed_mask",
    "combined",
    "combined_median",
    "daily_profile",
    "daily_totals",
    "historical_average",
    "mean_4w",
    "median_4w",
    "mstl",
    "predict",
    "seasonal_naive",
    "ses_level",
]

#: Days of history MSTL fits on (4 weeks: 4 weekly cycles, fast enough for 1,000 queues).
MSTL_WINDOW_DAYS = 28
#: Fewest days of history MSTL needs (more than two weekly cycles).
MSTL_MIN_DAYS = 15
#: Most intervals per day MSTL fits on (30 minutes); finer grids are summed, then split back.
MSTL_MAX_SLOTS = 48
#: Weeks of history the daily-profile model learns weekday factors and profiles from.
PROFILE_WEEKS = 26
#: Weeks of history the daily-profile level looks at, and its half-life in days.
LEVEL_WEEKS = 6
LEVEL_HALFLIFE_DAYS = 10.0
#: Weeks of history of the AHT profile.
AHT_WEEKS = 8
#: Dirichlet concentration (in contacts) of the intraday profile toward the pooled profile.
PROFILE_SHRINK = 200.0


class Method(StrEnum):
    """A forecasting method (the candidates of the backtest)."""

    SEASONAL_NAIVE = "seasonal_naive"
    HISTORICAL_AVERAGE = "historical_average"
    MSTL = "mstl"
    DAILY_PROFILE = "daily_profile"
    MEAN_4W = "mean_4w"
    MEDIAN_4W = "median_4w"
    CALENDAR_4W = "calendar_4w"
    CALENDAR_EW = "calendar_ew"
    CALENDAR_SMOOTH = "calendar_smooth"
    COMBINED = "combined"
    COMBINED_MEDIAN = "combined_median"


def _by_weekday(history: np.ndarray, weekdays: np.ndarray) -> list[np.ndarray]:
    return [history[weekdays == w] for w in range(7)]


def historical_average(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray
) -> np.ndarray:
    """Mean of all observed values of the same weekday and interval (0 where never seen).

    A weekday absent from history (less than a week of data) gets the mean of all days.

    Examples
    --------
    >>> h = np.array([[1.0, 2.0], [10.0, 20.0], [3.0, np.nan]])
    >>> historical_average(h, np.array([0, 1, 0]), np.array([0, 1])).tolist()
    [[2.0, 2.0], [10.0, 20.0]]
    """
    slots = history.shape[1]
    table = np.zeros((7, slots))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pooled = np.nan_to_num(np.nanmean(history, axis=0)) if len(history) else table[0]
        for w, rows in enumerate(_by_weekday(history, weekdays)):
            # a weekday not yet in history (less than a week of it) borrows every day's mean
            table[w] = np.nan_to_num(np.nanmean(rows, axis=0)) if len(rows) else pooled
    return table[future_weekdays]


def seasonal_naive(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray
) -> np.ndarray:
    """The last observed value of the same weekday and interval (0 where never seen).

    Examples
    --------
    >>> h = np.array([[1.0, 2.0], [10.0, 20.0], [3.0, np.nan]])
    >>> seasonal_naive(h, np.array([0, 1, 0]), np.array([0, 1])).tolist()
    [[3.0, 2.0], [10.0, 20.0]]
    """
    slots = history.shape[1]
    table = np.zeros((7, slots))
    for w, rows in enumerate(_by_weekday(history, weekdays)):
        if len(rows):
            seen = ~np.isnan(rows)
            last = np.where(seen.any(axis=0), len(rows) - 1 - np.argmax(seen[::-1], axis=0), -1)
            vals = rows[np.maximum(last, 0), np.arange(slots)]
            table[w] = np.where(last >= 0, vals, 0.0)
    return table[future_weekdays]


def mstl(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray
) -> np.ndarray | None:
    """MSTL (daily + weekly seasonality) on the last `MSTL_WINDOW_DAYS` days.

    Gaps are filled with the historical average before fitting; closed intervals stay
    near zero through the seasonal components and the result is clipped at zero. Grids finer
    than 30 minutes are fitted on 30-minute sums (speed: the cost of the weekly loess grows
    with the period) and split back by the historical-average shares within each half hour.
    Returns None with fewer than `MSTL_MIN_DAYS` days.

    Examples
    --------
    >>> t = np.arange(21 * 24)
    >>> h = (10 + 5 * np.sin(2 * np.pi * t / 24)).reshape(21, 24)
    >>> wd = np.arange(21) % 7
    >>> f = mstl(h, wd, np.arange(21, 23) % 7)
    >>> bool(np.allclose(f, h[:2], atol=0.5))
    True
    """
    days, slots = history.shape
    if days < MSTL_MIN_DAYS:
        return None
    window = history[-MSTL_WINDOW_DAYS:]
    wd = weekdays[-MSTL_WINDOW_DAYS:]
    ha = historical_average(history, weekdays, np.arange(7))
    if np.isnan(window).any():
        window = np.where(np.isnan(window), ha[wd], window)
    # finer than 30 minutes: fit on 30-minute sums, split back by the historical shares
    k = slots // MSTL_MAX_SLOTS if slots > MSTL_MAX_SLOTS and slots % MSTL_MAX_SLOTS == 0 else 1
    coarse = window.reshape(len(window), slots // k, k).sum(axis=2)
    y = coarse.ravel()
    h = len(future_weekdays)
    if not np.any(y):
        return np.zeros((h, slots))
    period = slots // k
    out = _mstl_forecast(y, period, h * period)
    out = np.clip(out, 0, None).reshape(h, period)
    if k == 1:
        return out
    blocks = ha.reshape(7, period, k)
    sums = blocks.sum(axis=2, keepdims=True)
    share = np.divide(blocks, sums, out=np.full(blocks.shape, 1.0 / k), where=sums > 0)
    return (out[:, :, None] * share[future_weekdays]).reshape(h, slots)


def _mstl_forecast(y: np.ndarray, period: int, h: int) -> np.ndarray:
    """MSTL decomposition (daily + weekly) -> trend by SES, seasonal components repeated."""
    from statsforecast.models import SimpleExponentialSmoothingOptimized
    from statsmodels.tsa.seasonal import MSTL as _MSTL

    periods = (period, 7 * period)
    fit = _MSTL(y, periods=periods, windows=(11, 15), iterate=2, stl_kwargs={
        "seasonal_deg": 0, "inner_iter": 2, "outer_iter": 0,
        # loess jumps: the same decomposition within noise, several times faster
        "trend_jump": 50, "low_pass_jump": 10, "seasonal_jump": 1,
    }).fit()
    trend = SimpleExponentialSmoothingOptimized().forecast(
        y=np.asarray(fit.trend, dtype=float), h=h)["mean"]
    seasonal = np.asarray(fit.seasonal, dtype=float).reshape(len(y), len(periods))
    n = len(y)
    ahead = np.arange(h)
    out = np.asarray(trend, dtype=float).copy()
    for j, p in enumerate(periods):
        out += seasonal[n - p + ahead % p, j]
    return out


def daily_profile(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray
) -> np.ndarray:
    """Daily total (level x weekday factor) times an intraday profile per weekday.

    openwfm's own method, in the spirit of the "daily total x intraday proportion" models of
    the call-center literature:

    * daily totals ``T_d`` (missing intervals counted at the historical average);
    * weekday factors ``f_w`` = mean total of weekday ``w`` / mean total of all days, over
      the last `PROFILE_WEEKS` weeks (stable, so a long window);
    * level = exponentially weighted mean of ``T_d / f_(w(d))`` over the last
      `LEVEL_WEEKS` weeks, half-life `LEVEL_HALFLIFE_DAYS` days (all weekdays inform it);
    * profile of weekday ``w``: ``(sum of its volumes + k * pooled share) / (sum of its
      totals + k)`` per interval, ``k = PROFILE_SHRINK`` contacts: a Dirichlet posterior mean
      whose prior is the profile pooled over all weekdays, so a quiet weekday borrows its
      shape, a busy one keeps its own. Intervals never open on a weekday stay closed.

    Forecast of a day of weekday ``w`` = level x ``f_w`` x profile of ``w``.

    Examples
    --------
    >>> h = np.tile([[0.0, 30.0, 10.0]], (14, 1))
    >>> daily_profile(h, np.arange(14) % 7, np.array([0, 1])).tolist()
    [[0.0, 30.0, 10.0], [0.0, 30.0, 10.0]]
    """
    slots = history.shape[1]
    recent = history[-7 * PROFILE_WEEKS:]
    wd = weekdays[-7 * PROFILE_WEEKS:]
    fill = historical_average(history, weekdays, wd)
    full = np.where(np.isnan(recent), fill, recent)
    seen = ~np.isnan(recent).all(axis=1)
    if not seen.any():
        return np.zeros((len(future_weekdays), slots))
    totals = full.sum(axis=1)
    pooled = full[seen].sum(axis=0)
    pooled_share = pooled / pooled.sum() if pooled.sum() > 0 else np.full(slots, 1.0 / slots)
    mean_all = totals[seen].mean()
    factor = np.zeros(7)
    share_w = np.tile(pooled_share, (7, 1))
    open_w = np.tile(pooled > 0, (7, 1))
    for w in range(7):
        sel = (wd == w) & seen
        if not sel.any():
            continue
        factor[w] = totals[sel].mean() / mean_all if mean_all > 0 else 0.0
        share_w[w] = (full[sel].sum(axis=0) + PROFILE_SHRINK * pooled_share) / (
            totals[sel].sum() + PROFILE_SHRINK)
        open_w[w] = (full[sel] > 0).any(axis=0)
    # level: exponentially weighted deseasonalized daily totals
    age = (len(wd) - 1 - np.arange(len(wd))).astype(float)
    use = seen & (factor[wd] > 0) & (age < 7 * LEVEL_WEEKS)
    if use.any():
        weight = 0.5 ** (age[use] / LEVEL_HALFLIFE_DAYS)
        level = float(np.sum(weight * totals[use] / factor[wd[use]]) / np.sum(weight))
    else:
        level = mean_all
    share_w = np.where(open_w, share_w, 0.0)
    norm = share_w.sum(axis=1, keepdims=True)
    share_w = np.divide(share_w, norm, out=np.zeros_like(share_w), where=norm > 0)
    return (level * factor[future_weekdays])[:, None] * share_w[future_weekdays]


#: Same-weekday values the recent-window baselines use (the last 4 observed: 4 weeks).
RECENT_VALUES = 4
#: Weeks the recent-window baselines look back for their last `RECENT_VALUES` values.
RECENT_LOOKBACK_WEEKS = 8
#: Weeks of the recent intraday profile (`calendar_4w`).
RECENT_PROFILE_WEEKS = 4
#: Half-life (weeks) of the long exponentially weighted intraday profile (`calendar_ew`).
PROFILE_HALFLIFE_WEEKS = 13.0
#: Half-life (days) of the two-sided smoother that holds the level while effects are fitted.
CAL_FIT_HALFLIFE_DAYS = 14.0
#: Prior standard deviation (log scale) of a calendar effect: the ridge penalty of an
#: effect is ``sigma^2 / CAL_EFFECT_SD^2`` (its posterior mean under a N(0, 0.1^2) prior).
CAL_EFFECT_SD = 0.10
#: Prior standard deviation (log scale) of a weekday effect (weak: weekdays differ a lot),
#: and of the common effect of the full days (see `FULL_DAY_SHARE`).
WEEKDAY_EFFECT_SD = 1.0
#: An open weekday is a *full day* when its median daily total is at least this share of
#: the busiest weekday's (a Sunday-Thursday or Monday-Friday week; a short Friday or a
#: Saturday evening is not): the full days' effects are partially pooled
#: (`forecast_daily_totals`).
FULL_DAY_SHARE = 0.5
#: Smallest prior variance (log scale) of a full day around the full days' mean (SD 0.01):
#: the empirical-Bayes estimate can be 0, which would make the ridge singular in spirit.
MIN_FULL_DAY_VAR = 1e-4
#: Days of history the daily-total model fits on (a year and a week).
CAL_FIT_DAYS = 371
#: A weekday whose median daily total is below this is sparse: its zero days are data,
#: not closures.
SPARSE_DAY_TOTAL = 5.0
#: Offset of the log daily totals (log(T + 0.5): zero days of sparse queues stay finite).
LOG_OFFSET = 0.5

#: Calendar effects of the history days and of the future days, ``(days, k)`` each
#: (`openwfm.forecast.calendar.day_features`); None: no calendar effects.
Features = tuple[np.ndarray, np.ndarray] | None


def _last_values(rows: np.ndarray, n: int) -> np.ndarray:
    """`rows` with every value but the last `n` observed of each column set to NaN."""
    seen = ~np.isnan(rows)
    count = np.cumsum(seen[::-1], axis=0)[::-1]
    return np.where(seen & (count <= n), rows, np.nan)


def _nanmedian0(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Median along axis 0 ignoring NaN (NaN where none): a sort, faster than nanmedian."""
    srt = np.sort(values, axis=0)  # NaN last
    n = (~np.isnan(values)).sum(axis=0)
    lo = np.take_along_axis(srt, np.maximum((n - 1) // 2, 0)[None, :], axis=0)[0]
    hi = np.take_along_axis(srt, np.maximum(n // 2, 0)[None, :], axis=0)[0]
    hi = np.where(n % 2 == 1, lo, np.minimum(hi, np.inf))
    return np.where(n > 0, (lo + hi) / 2.0, np.nan)


def _recent_table(history: np.ndarray, weekdays: np.ndarray, stat: Callable) -> np.ndarray:
    """``(7, slots)``: `stat` of the last `RECENT_VALUES` observed same-weekday values."""
    slots = history.shape[1]
    back = 7 * RECENT_LOOKBACK_WEEKS
    recent, wd = history[-back:], weekdays[-back:]
    table = np.full((7, slots), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for w in range(7):
            rows = recent[wd == w]
            if len(rows):
                table[w] = stat(_last_values(rows, RECENT_VALUES), axis=0)
        # a weekday (or interval) without a recent value: every day's recent values
        pooled = stat(_last_values(recent[-7 * RECENT_VALUES:], 7 * RECENT_VALUES), axis=0) \
            if len(recent) else np.zeros(slots)
    table = np.where(np.isnan(table), np.nan_to_num(pooled)[None, :], table)
    return table


def mean_4w(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray:
    """Mean of the last 4 observed values of the same weekday and interval.

    The benchmark planners use (the "4-week historical average"): a gap or a holiday is
    skipped, so the four values are the last four *observed* ones (within
    `RECENT_LOOKBACK_WEEKS` weeks); an interval with none borrows the mean of every recent
    day.

    Examples
    --------
    >>> h = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [np.nan]])
    >>> mean_4w(h, np.zeros(6, dtype=int), np.array([0])).tolist()  # 2, 3, 4, 5
    [[3.5]]
    """
    return _recent_table(history, weekdays, np.nanmean)[future_weekdays]


def median_4w(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray:
    """Median of the last 4 observed values of the same weekday and interval.

    Robust to one odd day among the four (a holiday that was not removed, an outage).

    Examples
    --------
    >>> h = np.array([[1.0], [2.0], [30.0], [4.0], [5.0]])
    >>> median_4w(h, np.zeros(5, dtype=int), np.array([0])).tolist()  # 2, 30, 4, 5
    [[4.5]]
    """
    return _recent_table(history, weekdays, _nanmedian0)[future_weekdays]


def intraday_profile(
    history: np.ndarray, weekdays: np.ndarray, window: Literal["recent", "long"],
) -> np.ndarray:
    """``(7, slots)`` shares of the day per weekday (rows sum to 1, or 0 if never open).

    ``window="recent"``: the last `RECENT_PROFILE_WEEKS` weeks, equally weighted;
    ``"long"``: all history, exponentially weighted with a half-life of
    `PROFILE_HALFLIFE_WEEKS` weeks (stable shapes: less noise; changed schedules: slower).
    Each weekday's shares are a Dirichlet posterior mean whose prior is the common profile
    (within the weekday's open intervals), with a weight in contacts estimated from the
    data (`profile_concentration`: partial pooling): a weekday whose shape differs from
    the others keeps its own, one that differs only by noise borrows the common shape. The
    common profile is first pooled over all weekdays, then re-pooled with each weekday
    weighted by its precision as an estimate of it (``N k / (N + k)``), so one different
    weekday (a Friday that closes early) does not bend the others' prior. Gaps are
    filled with the recent mean (`mean_4w`); closed intervals
    (`closed_mask`) get no share.

    Examples
    --------
    >>> h = np.tile([[0.0, 30.0, 10.0]], (14, 1))
    >>> intraday_profile(h, np.arange(14) % 7, "long")[0].round(12).tolist()
    [0.0, 0.75, 0.25]
    """
    days, slots = history.shape
    gaps = np.isnan(history)
    full = np.where(gaps, _recent_table(history, weekdays, np.nanmean)[weekdays],
                    history) if gaps.any() else history
    seen = ~np.isnan(history).all(axis=1)
    age = (days - 1 - np.arange(days)).astype(float)
    if window == "recent":
        weight = (age < 7 * RECENT_PROFILE_WEEKS).astype(float)
    else:
        weight = 0.5 ** (age / (7 * PROFILE_HALFLIFE_WEEKS))
    weight = np.where(seen, weight, 0.0)
    weighted = full * weight[:, None]
    by_w = np.zeros((7, slots))
    np.add.at(by_w, weekdays, weighted)
    pooled = by_w.sum(axis=0)
    pooled_share = pooled / pooled.sum() if pooled.sum() > 0 else np.full(slots, 1.0 / slots)
    closed = closed_mask(history, weekdays)
    n_w = by_w.sum(axis=1)
    own = np.divide(by_w, n_w[:, None], out=np.zeros_like(by_w), where=n_w[:, None] > 0)
    share = np.tile(pooled_share, (7, 1))
    for _ in range(2):  # 2nd pass: the common shape from the weekdays that share it
        k = np.zeros(7)
        for w in range(7):
            prior = np.where(closed[w], 0.0, pooled_share)
            if prior.sum() <= 0 or n_w[w] <= 0:
                share[w] = prior
                continue
            prior = prior / prior.sum()
            k[w] = profile_concentration(by_w[w], prior)
            share[w] = (by_w[w] + k[w] * prior) / (n_w[w] + k[w])
        # each weekday's own shares weigh by their precision as an estimate of the common
        # shape: its contacts, and how close to the others it really is (k)
        c = np.divide(n_w * k, n_w + k, out=np.zeros(7), where=(n_w + k) > 0)
        if c.sum() <= 0:
            break
        pooled_share = (c[:, None] * own).sum(axis=0) / c.sum()
    share = np.where(closed, 0.0, share)
    norm = share.sum(axis=1, keepdims=True)
    return np.divide(share, norm, out=np.zeros_like(share), where=norm > 0)


def profile_concentration(counts: np.ndarray, prior: np.ndarray) -> float:
    """Empirical-Bayes weight (in contacts) of the pooled profile for one weekday.

    If the weekday's true shares are Dirichlet(``k * prior``) and its ``N`` contacts are
    multinomial given them, the chi-square distance ``D = sum_s (p_s - prior_s)^2 /
    prior_s`` of its observed shares ``p`` has expectation ``(S - 1) (1 / N + 1 / (k +
    1))`` over its ``S`` open intervals (method of moments), so ``1 / (k + 1) = D / (S - 1)
    - 1 / N``, floored at ``1e-5`` (at most 10^5 contacts of weight). Noise alone gives a
    large ``k`` (pool), a real difference a small one (keep the weekday's own shape).

    Examples
    --------
    >>> prior = np.full(10, 0.1)
    >>> round(profile_concentration(np.full(10, 100.0), prior))  # no difference: pool
    99999
    >>> round(profile_concentration(np.r_[np.full(5, 150.0), np.full(5, 50.0)], prior))
    36
    """
    n = float(counts.sum())
    open_ = prior > 0
    s = int(open_.sum())
    if n <= 0 or s < 2:
        return 0.0
    p = counts[open_] / n
    d = float(np.sum((p - prior[open_]) ** 2 / prior[open_]))
    inv = max(d / (s - 1) - 1.0 / n, 1e-5)
    return 1.0 / inv - 1.0


def daily_totals(history: np.ndarray, weekdays: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Total of each day, its unobserved intervals counted at their expected share.

    ``T = observed sum / expected share of the observed intervals`` (`shares`: the
    weekday's intraday profile); NaN where less than a quarter of the day's expected volume
    was observed (a gap, a holiday, a day cut short too early).

    Examples
    --------
    >>> h = np.array([[10.0, 30.0], [10.0, np.nan]])
    >>> daily_totals(h, np.array([0, 0]), np.array([[0.25, 0.75]] * 7)).tolist()
    [40.0, 40.0]
    """
    seen = ~np.isnan(history)
    part = np.where(seen, shares[weekdays], 0.0).sum(axis=1)
    obs = np.where(seen, history, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(part >= 0.25, obs / np.where(part > 0, part, 1.0), np.nan)


def _two_sided_smooth(t: np.ndarray, values: np.ndarray, halflife: float) -> np.ndarray:
    """Exponential-kernel smoother of `values` observed at days `t` (both sides).

    ``sum_j rho^|t_i - t_j| v_j / sum_j rho^|t_i - t_j|`` with ``rho = 0.5^(1/halflife)``,
    computed by a forward and a backward first-order recursion on the day grid (linear
    time).

    Examples
    --------
    >>> _two_sided_smooth(np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 4.0]), 1.0).round(4)
    array([1.5385, 2.    , 3.3636])
    """
    from scipy.signal import lfilter

    rho = 0.5 ** (1.0 / halflife)
    ti = np.asarray(t, dtype=np.int64)
    n = int(ti.max()) + 1
    v = np.zeros(n)
    w = np.zeros(n)
    v[ti] = values
    w[ti] = 1.0
    a = [1.0, -rho]
    fv, fw = lfilter([1.0], a, v), lfilter([1.0], a, w)
    bv, bw = lfilter([1.0], a, v[::-1])[::-1], lfilter([1.0], a, w[::-1])[::-1]
    return ((fv + bv - v) / (fw + bw - w))[ti]


def ses_level(values: np.ndarray) -> float:
    """Level ahead of `values` (in time order) by simple exponential smoothing, its weight
    chosen by least one-step squared error: statsforecast's
    ``SimpleExponentialSmoothingOptimized`` (golden-section search of alpha in
    0.01-0.99; Hyndman et al. 2008, ETS(A,N,N)).

    Examples
    --------
    >>> round(ses_level(np.r_[np.zeros(20), np.ones(20)]), 2)  # a level shift: followed
    1.0
    >>> ses_level(np.array([3.0]))
    3.0
    """
    from statsforecast.models import SimpleExponentialSmoothingOptimized

    y = np.asarray(values, dtype=float)
    if len(y) < 2:
        return float(y[-1])
    return float(SimpleExponentialSmoothingOptimized().forecast(y=y, h=1)["mean"][0])


def forecast_daily_totals(
    totals: np.ndarray,
    weekdays: np.ndarray,
    future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray:
    """Daily totals ahead: log total = level + weekday + calendar effects (ridge).

    The model of the log daily total ``y_d = log(T_d + 0.5)`` of an open day::

        y_d = level_d + weekday_(w(d)) + sum_j beta_j x_dj + e_d

    with ``x_dj`` the calendar effects of `features` (business day of month, day after a
    closure, days around holidays, user special days). The effects are fitted by
    backfitting: the level is held by a two-sided exponential smoother (half-life
    `CAL_FIT_HALFLIFE_DAYS`) of the effect-adjusted totals, the effects by ridge
    regression of the level-adjusted totals (penalty ``sigma^2 / sd^2``: the posterior
    mean of a Gaussian prior, so an effect seen once or twice is shrunk toward its prior
    mean, one seen on many days keeps its estimate):

    * calendar effects: prior ``N(0, CAL_EFFECT_SD^2)``;
    * weekdays: the *full days* (open weekdays whose median total is at least
      `FULL_DAY_SHARE` of the busiest weekday's: Sunday-Thursday at a bank in Israel)
      share a common effect (weak prior, `WEEKDAY_EFFECT_SD`) and each full day's own
      effect is partially pooled toward it, with prior variance ``tau^2`` estimated from
      the data by the method of moments (the spread of the full days' mean adjusted log
      totals minus their sampling variance ``sigma^2 / n_w``, floored at
      `MIN_FULL_DAY_VAR`; DerSimonian & Laird 1986, the James-Stein / Efron-Morris
      empirical Bayes): with a few weeks of history the full days' differences are mostly
      noise and they borrow from each other, with a year the real differences stay. The
      other open weekdays (a short Friday, a Saturday evening) keep their own effect
      (`WEEKDAY_EFFECT_SD`).

    The level ahead is an exponentially weighted mean of the calendar-adjusted log totals
    whose weight is estimated from them (simple exponential smoothing with the smoothing
    weight of least one-step squared error, `ses_level`): a stable queue gets a long
    memory, one whose level moved a fast one. The forecast is ``exp(level + effects +
    sigma^2 / 2) - 0.5`` (the mean of a log-normal).

    Days whose weekday is regularly closed get 0. Zero days of a regularly open, busy
    weekday are closures and are left out; those of a sparse weekday (median total below
    `SPARSE_DAY_TOTAL`) are data.

    Examples
    --------
    Weekday pattern and a first-business-day effect of +20 % seen on 12 month starts:

    >>> wd = np.arange(364) % 7
    >>> x = np.zeros((364, 1)); x[::30, 0] = 1
    >>> t = 1000.0 * np.array([1.1, 1, 1, 1, 0.9, 0.5, 0.3])[wd] * np.where(x[:, 0], 1.2, 1)
    >>> f = forecast_daily_totals(t, wd, np.array([0, 0]), (x, np.array([[0.0], [1.0]])))
    >>> [round(v) for v in f]
    [1100, 1320]

    Three weeks of Sunday-Thursday days that differ only by noise: each is forecast near
    their common mean (1000), not at its own three-value mean (967 to 1017).

    >>> wd = np.arange(21) % 7
    >>> noise = np.array([100.0, -100, 50, -50, 0, 0, 0, -100, 50, -50, 0, 100, 0, 0,
    ...                   50, -50, 0, 100, -100, 0, 0])
    >>> t = np.where(wd < 5, 1000.0, 100.0) + noise * (wd < 5)
    >>> [round(v) for v in forecast_daily_totals(t, wd, np.arange(7))]
    [996, 992, 995, 996, 995, 100, 100]

    References: DerSimonian, R., Laird, N. (1986), Meta-analysis in clinical trials,
    Controlled Clinical Trials 7(3), 177-188. Efron, B., Morris, C. (1975), Data analysis
    using Stein's estimator and its generalizations, JASA 70(350), 311-319.
    """
    n = len(totals)
    k = features[0].shape[1] if features is not None else 0
    fut_x = features[1] if features is not None else np.zeros((len(future_weekdays), 0))
    hist_x = features[0] if features is not None else np.zeros((n, 0))
    start = max(0, n - CAL_FIT_DAYS)
    tot, wd, hx = totals[start:], weekdays[start:], hist_x[start:]
    known = np.isfinite(tot)
    med = np.zeros(7)
    open_w = np.zeros(7, dtype=bool)
    for w in range(7):
        sel = known & (wd == w)
        if sel.any():
            med[w] = float(np.median(tot[sel]))
            open_w[w] = float(np.mean(tot[sel] > 0)) >= 0.5
    sparse = med < SPARSE_DAY_TOTAL
    use = known & open_w[wd] & ((tot > 0) | sparse[wd])
    out = np.zeros(len(future_weekdays))
    if use.sum() < 7:  # too little: each weekday's mean (the pooled mean if unseen)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pooled = float(np.nanmean(tot)) if known.any() else 0.0
            for i, w in enumerate(future_weekdays):
                sel = known & (wd == w)
                out[i] = float(np.mean(tot[sel])) if sel.any() else pooled
        return np.nan_to_num(out)
    y = np.log(tot[use] + LOG_OFFSET)
    t = np.flatnonzero(use).astype(float)
    wu = wd[use]
    full = open_w & (med >= FULL_DAY_SHARE * med.max())
    # columns: one per weekday, the full days' common effect, the calendar effects
    design = np.hstack([np.eye(7)[wu], full[wu][:, None].astype(float), hx[use]])
    n_w = np.bincount(wu, minlength=7)
    full_seen = np.flatnonzero(full & (n_w > 0))
    level = np.full(len(y), y.mean())
    sigma2 = max(float(np.var(y)), 1e-6)
    tau2 = WEEKDAY_EFFECT_SD ** 2.0
    beta = np.zeros(8 + k)
    gram = design.T @ design
    for _ in range(4):
        prior = np.r_[np.where(full, 1.0 / tau2, WEEKDAY_EFFECT_SD ** -2.0),
                      WEEKDAY_EFFECT_SD ** -2.0, np.full(k, CAL_EFFECT_SD ** -2.0)]
        beta = np.linalg.solve(gram + sigma2 * np.diag(prior), design.T @ (y - level))
        adjusted = y - design @ beta
        if len(full_seen) >= 2:  # method of moments: spread of the full days' means
            resid = y - level - hx[use] @ beta[8:]
            means = np.array([resid[wu == w].mean() for w in full_seen])
            tau2 = max(float(np.var(means, ddof=1)) - float(np.mean(sigma2 / n_w[full_seen])),
                       MIN_FULL_DAY_VAR)
        level = _two_sided_smooth(t, adjusted, CAL_FIT_HALFLIFE_DAYS)
        sigma2 = max(float(np.mean((adjusted - level) ** 2)), 1e-6)
    level_end = ses_level(adjusted)
    fdesign = np.hstack([np.eye(7)[future_weekdays],
                         full[future_weekdays][:, None].astype(float), fut_x])
    mu = level_end + fdesign @ beta
    out = np.exp(mu + sigma2 / 2.0) - LOG_OFFSET
    return np.where(open_w[future_weekdays], np.clip(out, 0.0, None), 0.0)


#: Weights of the interval before, the interval itself and the one after in the smoothed
#: profile (`smooth_profile`): a binomial kernel, the lightest smoothing there is.
SMOOTH_KERNEL: tuple[float, float, float] = (0.25, 0.5, 0.25)


def smooth_profile(shares: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """``(7, slots)`` shares smoothed over neighbouring open intervals (`SMOOTH_KERNEL`).

    Each open interval's share becomes the kernel-weighted mean of its own and its open
    neighbours' shares (weights renormalized over the open ones, so an opening or closing
    edge does not leak volume into closed intervals); closed intervals stay 0 and each row
    sums to 1 again. It trades a little bias at sharp peaks for less sampling noise of the
    30-minute shares (each share of a 4-week profile rests on a few dozen contacts).

    Examples
    --------
    >>> sh = np.tile([0.0, 0.2, 0.6, 0.2], (7, 1))
    >>> smooth_profile(sh, sh == 0)[0].round(4).tolist()
    [0.0, 0.3125, 0.375, 0.3125]
    """
    k = np.asarray(SMOOTH_KERNEL, dtype=float)
    open_ = (~closed).astype(float)
    pad = np.pad(np.where(closed, 0.0, shares), ((0, 0), (1, 1)))
    opad = np.pad(open_, ((0, 0), (1, 1)))
    num = k[0] * pad[:, :-2] + k[1] * pad[:, 1:-1] + k[2] * pad[:, 2:]
    den = k[0] * opad[:, :-2] + k[1] * opad[:, 1:-1] + k[2] * opad[:, 2:]
    out = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    out = np.where(closed, 0.0, out)
    norm = out.sum(axis=1, keepdims=True)
    return np.divide(out, norm, out=np.zeros_like(out), where=norm > 0)


def _calendar_parts(history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
                    features: Features, window: Literal["recent", "long"],
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Daily totals ahead and the ``(7, slots)`` intraday profile of the calendar model."""
    shares = intraday_profile(history, weekdays, window)
    totals = daily_totals(history, weekdays, shares)
    return forecast_daily_totals(totals, weekdays, future_weekdays, features), shares


def _calendar(history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
              features: Features, window: Literal["recent", "long"],
              smooth: bool = False) -> np.ndarray:
    ahead, shares = _calendar_parts(history, weekdays, future_weekdays, features, window)
    if smooth:
        shares = smooth_profile(shares, closed_mask(history, weekdays))
    return ahead[:, None] * shares[future_weekdays]


def calendar_4w(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray:
    """Daily total with calendar effects (`forecast_daily_totals`) x the recent profile.

    The intraday profile is that of the last `RECENT_PROFILE_WEEKS` weeks
    (`intraday_profile` ``"recent"``): it follows a change of opening hours or schedules.

    Examples
    --------
    >>> h = np.tile([[0.0, 30.0, 10.0]], (28, 1))
    >>> calendar_4w(h, np.arange(28) % 7, np.array([0, 1])).round(3).tolist()
    [[0.0, 30.0, 10.0], [0.0, 30.0, 10.0]]
    """
    return _calendar(history, weekdays, future_weekdays, features, "recent")


def calendar_ew(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray:
    """Daily total with calendar effects (`forecast_daily_totals`) x the long profile.

    The intraday profile is exponentially weighted over all history (half-life
    `PROFILE_HALFLIFE_WEEKS` weeks, `intraday_profile` ``"long"``): less noise where the
    shape is stable.

    Examples
    --------
    >>> h = np.tile([[0.0, 30.0, 10.0]], (28, 1))
    >>> calendar_ew(h, np.arange(28) % 7, np.array([0, 1])).round(3).tolist()
    [[0.0, 30.0, 10.0], [0.0, 30.0, 10.0]]
    """
    return _calendar(history, weekdays, future_weekdays, features, "long")


def calendar_smooth(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray:
    """`calendar_4w` with its recent profile smoothed over neighbouring intervals
    (`smooth_profile`); the daily totals are the same.

    Examples
    --------
    >>> h = np.tile([[0.0, 30.0, 30.0, 30.0]], (28, 1))
    >>> calendar_smooth(h, np.arange(28) % 7, np.array([0])).round(3).tolist()
    [[0.0, 30.0, 30.0, 30.0]]
    """
    return _calendar(history, weekdays, future_weekdays, features, "recent", smooth=True)


def combined(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray:
    """Mean of `calendar_smooth` and `median_4w`: an equal-weight forecast combination.

    Equal weights, not weights fitted to past errors: with a few weeks of history fitted
    weights are noisier than the gain they promise (the "forecast combination puzzle",
    Smith & Wallis 2009, Oxford Bulletin of Economics and Statistics 71(3)).

    Examples
    --------
    >>> h = np.tile([[0.0, 30.0, 30.0, 30.0]], (28, 1))
    >>> combined(h, np.arange(28) % 7, np.array([0])).round(3).tolist()
    [[0.0, 30.0, 30.0, 30.0]]
    """
    a = calendar_smooth(history, weekdays, future_weekdays, features)
    b = median_4w(history, weekdays, future_weekdays)
    return 0.5 * (a + b)


def combined_median(
    history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray:
    """Per-interval median of `calendar_4w`, `calendar_smooth` and `median_4w`.

    A median of forecasts (Jose & Winkler 2008: robust to the member that is off) whose
    three members err differently: the calendar model's daily total times its recent
    profile as observed (sharp peaks, sampling noise) and times the same profile smoothed
    over neighbouring intervals (less noise, blunted peaks), and the robust per-interval
    median of the last four same weekdays (no daily model). Where the raw and the smoothed
    profile disagree, the 4-week median decides how far to smooth; where the 4-week median
    is off (a level change, a noisy quiet interval), the two calendar forecasts outvote it.
    It is not a median of the predictive distribution: its members are mean forecasts.

    Reference: Jose, V. R. R., Winkler, R. L. (2008). Simple robust averages of forecasts:
    some empirical results. International Journal of Forecasting 24(1), 163-169.

    Examples
    --------
    >>> h = np.tile([[0.0, 30.0, 30.0, 30.0]], (28, 1))
    >>> combined_median(h, np.arange(28) % 7, np.array([0])).round(3).tolist()
    [[0.0, 30.0, 30.0, 30.0]]
    """
    ahead, shares = _calendar_parts(history, weekdays, future_weekdays, features, "recent")
    smooth = smooth_profile(shares, closed_mask(history, weekdays))
    raw = ahead[:, None] * shares[future_weekdays]
    smoothed = ahead[:, None] * smooth[future_weekdays]
    med = median_4w(history, weekdays, future_weekdays)
    return np.median(np.stack([raw, smoothed, med]), axis=0)


Forecaster = Callable[..., np.ndarray | None]

#: The function of each method.
METHODS: dict[Method, Forecaster] = {
    Method.SEASONAL_NAIVE: seasonal_naive,
    Method.HISTORICAL_AVERAGE: historical_average,
    Method.MSTL: mstl,
    Method.DAILY_PROFILE: daily_profile,
    Method.MEAN_4W: mean_4w,
    Method.MEDIAN_4W: median_4w,
    Method.CALENDAR_4W: calendar_4w,
    Method.CALENDAR_EW: calendar_ew,
    Method.CALENDAR_SMOOTH: calendar_smooth,
    Method.COMBINED: combined,
    Method.COMBINED_MEDIAN: combined_median,
}
#: Methods that read the calendar effects (the others ignore them).
USES_FEATURES = frozenset({Method.CALENDAR_4W, Method.CALENDAR_EW, Method.CALENDAR_SMOOTH,
                           Method.COMBINED, Method.COMBINED_MEDIAN})


#: Weeks of history that decide whether a weekday's interval is closed.
CLOSED_WEEKS = 8
#: Neighbourhood (seconds each side) whose rate tells a closed interval from a quiet one.
CLOSED_NEIGHBOUR_S = 3600
#: Expected contacts (observations x neighbour rate) above which silence means closed.
CLOSED_EVIDENCE = 3.0
#: Shrinkage (in handled contacts) of an AHT cell toward its hour, and an hour toward the mean.
AHT_SHRINK = 30.0


def closed_mask(history: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """``(7, slots)``: True where the weekday's interval is closed.

    An interval of a weekday is closed when it had no contact in the last `CLOSED_WEEKS`
    weeks **and** that silence is significant: the same weekday's intervals within
    `CLOSED_NEIGHBOUR_S` of it had no contact either (nights, a closed day), or they had
    so many that ``n`` silent observations of a Poisson rate as high as theirs (``n *
    rate >= CLOSED_EVIDENCE``, i.e. probability ``exp(-3)`` ~ 5 %) are unlikely (the edge
    of the opening hours). A sparse queue's open interval that merely happened to be
    quiet (a rate of 0.2 contacts seen 3 times) is thus not called closed. Closed
    periods are forecast as exactly zero, bands included, by every method.

    Examples
    --------
    Intervals of 4 hours: night, opening edge, open. Busy neighbours make the silent
    edge closed; quiet ones (a sparse queue) leave it open.

    >>> busy = np.array([[0.0, 0.0, 20.0, 25.0, 20.0, 0.0]] * 2)
    >>> closed_mask(busy, np.array([0, 0]))[0].tolist()
    [True, True, False, False, False, True]
    >>> sparse = np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
    >>> closed_mask(sparse, np.array([0, 0]))[0].tolist()
    [True, False, False, False, False, True]
    """
    recent = history[-7 * CLOSED_WEEKS:]
    wd = weekdays[-7 * CLOSED_WEEKS:]
    slots = history.shape[1]
    k = max(1, int(CLOSED_NEIGHBOUR_S * slots // 86400))
    # a weekday not yet in history: judged on every day pooled
    out = np.tile(_closed_cells(recent, k), (7, 1))
    for w in range(7):
        rows = recent[wd == w]
        if len(rows):
            out[w] = _closed_cells(rows, k)
    return out


def _closed_cells(rows: np.ndarray, k: int) -> np.ndarray:
    """Closed cells of one weekday's rows (see `closed_mask`); ``k`` neighbours a side."""
    seen = ~np.isnan(rows)
    total = np.where(seen, rows, 0.0).sum(axis=0)
    n = seen.sum(axis=0).astype(float)
    near_total = _window_sum(total, k) - total
    near_n = _window_sum(n, k) - n
    rate = np.divide(near_total, near_n, out=np.zeros_like(total), where=near_n > 0)
    silent = ~(total > 0)
    return silent & ((rate <= 0) | (n * rate >= CLOSED_EVIDENCE))


def _window_sum(x: np.ndarray, k: int) -> np.ndarray:
    """Sum of ``x[i - k .. i + k]`` (clipped at the ends of the day)."""
    c = np.concatenate([[0.0], np.cumsum(x)])
    i = np.arange(len(x))
    return c[np.minimum(i + k + 1, len(x))] - c[np.maximum(i - k, 0)]


def predict(
    method: Method, history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray,
    features: Features = None,
) -> np.ndarray | None:
    """Forecast with `method`, closed intervals set to zero (None if it cannot run).

    Examples
    --------
    >>> h = np.array([[0.0, 4.0], [0.0, 6.0]] * 7)
    >>> predict(Method.HISTORICAL_AVERAGE, h, np.arange(14) % 7, np.array([0])).tolist()
    [[0.0, 5.0]]
    """
    if method in USES_FEATURES:
        f = METHODS[method](history, weekdays, future_weekdays, features)
    else:
        f = METHODS[method](history, weekdays, future_weekdays)
    if f is None:
        return None
    return np.where(closed_mask(history, weekdays)[future_weekdays], 0.0, f)


def aht_profile(
    handle_s: np.ndarray,
    handled: np.ndarray,
    weekdays: np.ndarray,
    future_weekdays: np.ndarray,
    slots_per_hour: int,
) -> np.ndarray:
    """AHT per future day and interval: a handled-weighted profile with two-level shrinkage.

    ``handle_s`` is the total handle time and ``handled`` the handled contacts per local
    day and interval (``NaN`` or 0 where none), over the last `AHT_WEEKS` weeks. The AHT
    of weekday ``w`` and interval ``s`` is ``(H_ws + k * A_h) / (N_ws + k)`` where ``H`` and
    ``N`` are sums of handle time and handled contacts, ``A_h`` the AHT of the same local
    hour over all weekdays, itself ``(H_h + k * A) / (N_h + k)`` shrunk toward the overall
    AHT ``A``, and ``k = AHT_SHRINK`` contacts (an empirical-Bayes style posterior mean): a
    busy cell keeps its own AHT, a quiet one borrows its hour's.

    Examples
    --------
    >>> n = np.full((7, 2), 10_000.0)
    >>> h = n * np.array([100.0, 300.0])
    >>> aht_profile(h, n, np.arange(7), np.array([2]), 2).round().tolist()
    [[100.0, 300.0]]
    """
    weeks = 7 * AHT_WEEKS
    hs = np.nan_to_num(handle_s[-weeks:])
    n = np.nan_to_num(handled[-weeks:])
    wd = weekdays[-weeks:]
    slots = hs.shape[1]
    total_n = n.sum()
    overall = hs.sum() / total_n if total_n > 0 else np.nan
    hour = np.arange(slots) // max(slots_per_hour, 1)
    hs_hour = np.bincount(hour, weights=hs.sum(axis=0))
    n_hour = np.bincount(hour, weights=n.sum(axis=0))
    k = AHT_SHRINK
    a_hour = (hs_hour + k * overall) / (n_hour + k)
    out = np.empty((7, slots))
    for w in range(7):
        sel = wd == w
        out[w] = (hs[sel].sum(axis=0) + k * a_hour[hour]) / (n[sel].sum(axis=0) + k)
    return out[future_weekdays]
