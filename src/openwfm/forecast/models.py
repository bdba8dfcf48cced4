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

Cleveland, R. B., Cleveland, W. S., McRae, J. E., Terpenning, I. (1990). STL: a
seasonal-trend decomposition procedure based on loess. Journal of Official Statistics 6(1).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from enum import StrEnum

import numpy as np

__all__ = [
    "METHODS",
    "Method",
    "aht_profile",
    "closed_mask",
    "daily_profile",
    "historical_average",
    "mstl",
    "predict",
    "seasonal_naive",
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


Forecaster = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray | None]

#: The function of each method.
METHODS: dict[Method, Forecaster] = {
    Method.SEASONAL_NAIVE: seasonal_naive,
    Method.HISTORICAL_AVERAGE: historical_average,
    Method.MSTL: mstl,
    Method.DAILY_PROFILE: daily_profile,
}


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
    method: Method, history: np.ndarray, weekdays: np.ndarray, future_weekdays: np.ndarray
) -> np.ndarray | None:
    """Forecast with `method`, closed intervals set to zero (None if it cannot run).

    Examples
    --------
    >>> h = np.array([[0.0, 4.0], [0.0, 6.0]] * 7)
    >>> predict(Method.HISTORICAL_AVERAGE, h, np.arange(14) % 7, np.array([0])).tolist()
    [[0.0, 5.0]]
    """
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
