"""Forecast every queue of an interval table: backtest, choose, forecast, bands, AHT.

`forecast_queues` is the one entry point. It reads the interval table of
``docs/architecture.md`` (``interval_start`` UTC, ``queue``, ``volume``, optional
``aht_s`` and ``handled``) and returns the same shape for the future, with the prediction
bands ``volume_lo_80``, ``volume_hi_80``, ``volume_lo_95``, ``volume_hi_95``. Queues are
independent: ``backend="local"`` runs them in this process (or `n_jobs` processes),
``backend="dask"`` maps them over a `distributed.Client` with the very same function, so
both give identical numbers.

Per queue:

1. the history goes onto the local day grid of the queue's zone (`openwfm.forecast.calendar`);
   public holidays of the queue's market and user special days marked ``exclude`` are
   removed from learning; special-day multipliers are divided out; the calendar effects of
   every history and future day are built (`openwfm.forecast.calendar.day_features`);
2. a rolling-origin backtest in open days scores every candidate method
   (`openwfm.forecast.backtest`); the 4-week mean is kept unless a candidate beats its
   week-ahead WAPE on both halves of the origins with an RMSE no worse (so the choice is
   never worse than the 4-week mean on the backtest); a chosen method whose week-ahead
   bias exceeds `openwfm.forecast.backtest.BIAS_WARNING` is warned about;
3. the winner forecasts from the end of history (or `start`; a day that history cuts
   mid-day stays in history and only its remaining intervals are forecast) to `end`; on a
   future holiday
   its forecast is multiplied by the holiday ratio (volume of the past holidays in history /
   what their weekdays' averages predicted; 0 for a queue closed on holidays), or replaced
   by the quietest weekday's historical average when history has no holiday; multipliers of
   future special days apply; closed intervals are zero;
4. the 80 % and 95 % bands come from the winner's backtest residuals;
5. AHT (when history has ``aht_s``) is a handled-weighted weekday x interval profile shrunk
   toward the hour of day (`openwfm.forecast.models.aht_profile`).

References
----------
Taylor, J. W. (2008). A comparison of univariate time series methods for forecasting
intraday arrivals at a call center. Management Science 54(2), 253-265.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from openwfm import progress
from openwfm.errors import InputError
from openwfm.forecast.backtest import (
    BENCHMARK,
    BIAS_WARNING,
    BacktestConfig,
    band_quantiles,
    bands,
    overdispersion,
    run_backtest,
    select_method,
)
from openwfm.forecast.calendar import (
    SpecialDay,
    check_tz,
    day_features,
    holiday_dates,
    local_keys,
    special_for,
    to_day_grid,
    weekday_of,
)
from openwfm.forecast.models import (
    Method,
    aht_profile,
    closed_mask,
    historical_average,
    predict,
)

__all__ = [
    "DEFAULT_METHODS",
    "ForecastResult",
    "QueueForecast",
    "forecast_queues",
    "infer_interval_s",
    "parse_horizon",
]

#: The candidates every queue is backtested with.
DEFAULT_METHODS: tuple[Method, ...] = (
    Method.MEAN_4W,
    Method.MEDIAN_4W,
    Method.CALENDAR_4W,
    Method.CALENDAR_EW,
    Method.COMBINED_MEDIAN,
)
OUTPUT_COLUMNS = ("interval_start", "queue", "volume", "volume_lo_80", "volume_hi_80",
                  "volume_lo_95", "volume_hi_95")


@dataclass(frozen=True)
class _Settings:
    interval_s: int
    tz: str
    market: str | None
    special: tuple[SpecialDay, ...]
    methods: tuple[Method, ...]
    backtest: BacktestConfig
    force: Method | None
    start_ns: int
    end_ns: int
    with_aht: bool


@dataclass(frozen=True, eq=False)
class QueueForecast:
    """The forecast of one queue.

    Attributes
    ----------
    queue : str
    method : Method
        The method chosen by the backtest.
    frame : pandas.DataFrame
        Future intervals (see `forecast_queues`).
    accuracy : pandas.DataFrame
        Backtest accuracy per method and horizon bucket.
    band_quantiles : numpy.ndarray
        Standardized residual quantiles per horizon bucket (see `band_quantiles`).
    overdispersion : float
        ``phi`` of the residual variance model ``f + phi f^2`` (see `overdispersion`).
    """

    queue: str
    method: Method
    frame: pd.DataFrame
    accuracy: pd.DataFrame
    band_quantiles: np.ndarray
    overdispersion: float = 0.0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class ForecastResult:
    """Forecasts of every queue.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per queue and future interval: ``interval_start`` (UTC), ``queue``,
        ``volume`` (point forecast of contacts offered), ``volume_lo_80``,
        ``volume_hi_80``, ``volume_lo_95``, ``volume_hi_95`` and ``aht_s`` when the history
        has it.
    accuracy : pandas.DataFrame
        Backtest table: ``queue``, ``method``, ``horizon``, ``wape``, ``mase``, ``bias``,
        ``n``, ``chosen`` (bool).
    chosen : Mapping[str, Method]
        The method chosen for each queue.
    interval_s : int
        Interval length in seconds.
    warnings : tuple of str
        One line per queue whose chosen method has a week-ahead backtest bias beyond
        `openwfm.forecast.backtest.BIAS_WARNING`.
    """

    frame: pd.DataFrame
    accuracy: pd.DataFrame
    chosen: Mapping[str, Method] = field(default_factory=dict)
    interval_s: int = 1800
    warnings: tuple[str, ...] = ()


def parse_horizon(text: str) -> pd.Timedelta:
    """Parse a horizon such as ``14d``, ``4w``, ``36h`` or ``90min``.

    Examples
    --------
    >>> parse_horizon("14d"), parse_horizon("4w")
    (Timedelta('14 days 00:00:00'), Timedelta('28 days 00:00:00'))
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(w|d|h|min|m)\s*", text.lower())
    value = pd.NaT
    if m is not None:  # a unit is required: pandas reads a bare "14" as 14 nanoseconds
        number, unit = float(m.group(1)), m.group(2)
        seconds = number * {"w": 604_800, "d": 86_400, "h": 3_600, "min": 60, "m": 60}[unit]
        if seconds <= 9e9:  # beyond ~290 years a Timedelta overflows
            value = pd.Timedelta(seconds=seconds)
    if value is pd.NaT or value <= pd.Timedelta(0):
        raise InputError(f"expected a positive horizon like 14d, 4w or 48h, got '{text}'",
                         column="horizon")
    return value


def infer_interval_s(times: pd.Series | pd.DatetimeIndex) -> int:
    """The most common step between consecutive distinct interval starts, in seconds.

    Examples
    --------
    >>> infer_interval_s(pd.date_range("2026-01-01", periods=5, freq="15min", tz="UTC"))
    900
    """
    ns = np.unique(pd.DatetimeIndex(times).asi8)
    steps = np.diff(ns) // 10**9
    steps = steps[steps > 0]
    if len(steps) == 0:
        raise InputError("need at least two intervals to infer the interval length",
                         column="interval_start")
    vals, counts = np.unique(steps, return_counts=True)
    return int(vals[np.argmax(counts)])


#: Steps a queue needs before a coarser grid than the others is called an error.
MIN_STEPS_FOR_GRID_CHECK = 8


def _check_queue_step(queue: str, times_ns: np.ndarray, interval_s: int) -> None:
    """Refuse a queue on a coarser grid than the table's (mixed interval lengths).

    Its intervals would otherwise be read as one interval in k with the others missing,
    and each forecast at the finer grid would carry a whole coarse interval's volume. A
    queue with at least `MIN_STEPS_FOR_GRID_CHECK` steps and not one of them a single
    interval is on a coarser grid.

    Examples
    --------
    >>> t = pd.date_range("2026-03-02", periods=20, freq="30min").asi8
    >>> _check_queue_step("q", t, 1800)
    >>> try:
    ...     _check_queue_step("q", t, 900)
    ... except InputError as exc:
    ...     print(exc.message.split(":")[0])
    queue 'q' has intervals of 30 min while the table's are 15 min
    """
    steps = np.diff(np.unique(times_ns)) // 10**9
    if len(steps) < MIN_STEPS_FOR_GRID_CHECK or (steps == interval_s).any():
        return
    vals, counts = np.unique(steps, return_counts=True)
    raise InputError(
        f"queue '{queue}' has intervals of {vals[np.argmax(counts)] / 60:g} min while the "
        f"table's are {interval_s / 60:g} min: mixed interval lengths (one file or call per "
        "interval length)", column="interval_start")


def _forecast_one(queue: str, times_ns: np.ndarray, volume: np.ndarray,
                  aht_s: np.ndarray | None, handled: np.ndarray | None,
                  st: _Settings) -> QueueForecast:
    """Backtest, choose and forecast one queue (the unit of work of every backend)."""
    interval = st.interval_s
    slots = 86400 // interval
    keep = times_ns < st.start_ns
    times = pd.DatetimeIndex(times_ns[keep], tz="UTC")
    volume = volume[keep]
    if len(times) == 0:
        raise InputError(f"queue '{queue}' has no history before the forecast start",
                         column="interval_start")
    grid = to_day_grid(times, volume, st.tz, interval)
    days, y = grid.days, grid.values.copy()
    # first day to forecast: the local day of the forecast start; when the start is not
    # local midnight (history ends mid-day), that day is also the last history day, known
    # up to the start and forecast after it: no history day is thrown away
    start = pd.Timestamp(st.start_ns, tz="UTC")
    end = pd.Timestamp(st.end_ns, tz="UTC")
    (first_day,), (first_slot,) = local_keys(pd.DatetimeIndex([start]), st.tz, interval)
    last_day = local_keys(pd.DatetimeIndex([end - pd.Timedelta(seconds=interval)]),
                          st.tz, interval)[0][0]
    full_days = int((first_day - days[0]).astype(np.int64))
    n_train = full_days + (1 if first_slot > 0 else 0)
    if full_days < 1:
        raise InputError(f"queue '{queue}' needs at least one full local day of history "
                         "before the forecast start", column="interval_start")
    if n_train > len(days):  # history ends days before the start: pad unknown days
        pad = np.full((n_train - len(days), slots), np.nan)
        y = np.vstack([y, pad])
        days = np.arange(days[0], days[0] + np.timedelta64(n_train, "D"),
                         dtype="datetime64[D]")
    y, days = y[:n_train], days[:n_train]
    if first_slot > 0:
        y[-1, first_slot:] = np.nan  # the forecast part of the day that history cuts
    future = np.arange(first_day, last_day + np.timedelta64(1, "D"), dtype="datetime64[D]")
    wd, fwd = weekday_of(days), weekday_of(future)

    # holidays and special days
    years = range(int(str(days[0])[:4]), int(str(future[-1])[:4]) + 1)
    hol = holiday_dates(st.market, years)
    hol_np = np.array(sorted(hol), dtype="datetime64[D]") if hol else np.array(
        [], dtype="datetime64[D]")
    special = special_for(queue, st.special)
    past_hol = np.isin(days, hol_np)
    train = y.copy()
    train[past_hol] = np.nan
    fut_mult = np.ones(len(future))
    labelled: dict[str, list[np.datetime64]] = {}
    for sd in special:
        d = np.datetime64(sd.day, "D")
        if sd.label and sd.multiplier == 1.0 and not sd.exclude:
            labelled.setdefault(sd.label, []).append(d)  # a recurring event: learned
        i = int((d - days[0]).astype(np.int64))
        if 0 <= i < n_train:
            if sd.exclude:
                train[i] = np.nan
            else:
                train[i] = train[i] / sd.multiplier
        j = int((d - future[0]).astype(np.int64))
        if 0 <= j < len(future):
            fut_mult[j] *= sd.multiplier

    # calendar effects of every history and future day
    totals = np.nansum(y, axis=1)
    observed = ~np.isnan(y).all(axis=1)
    regular = ~past_hol & observed
    open_w = np.array([float(np.mean(totals[regular & (wd == w)] > 0)) >= 0.5
                       if (regular & (wd == w)).any() else True for w in range(7)])
    closed_day = observed & (totals == 0) & open_w[wd] & ~past_hol
    all_days = np.concatenate([days, future])
    closed_all = np.concatenate([closed_day, np.zeros(len(future), dtype=bool)])
    x = day_features(all_days, holidays=hol_np, open_weekdays=open_w, closed=closed_all,
                     special_labels=[(k, np.array(v)) for k, v in sorted(labelled.items())])
    x_hist, x_fut = x[:n_train], x[n_train:]
    open_days = totals > 0

    bt = run_backtest(train, wd, st.methods, st.backtest, features=x_hist,
                      open_days=open_days)
    acc = bt.accuracy()
    method = st.force if st.force is not None and st.force in bt.forecasts else \
        select_method(acc)
    fc = predict(method, train, wd, fwd, (x_hist, x_fut))
    if fc is None:  # the chosen method ran in the backtest; only guards odd configs
        method = BENCHMARK
        fc = predict(method, train, wd, fwd, (x_hist, x_fut))
    assert fc is not None
    if method in bt.forecasts:
        phi = overdispersion(bt.actual, bt.forecasts[method])
        q = band_quantiles(bt.actual, bt.forecasts[method], phi, bt.steps, bt.week)
    else:
        phi, q = 0.0, band_quantiles(np.empty((0, 1, slots)), np.empty((0, 1, slots)))

    fut_hol = np.isin(future, hol_np)
    if fut_hol.any():
        ratio = _holiday_ratio(y[past_hol], wd[past_hol], train, wd)
        if ratio is not None:
            fc[fut_hol] = fc[fut_hol] * ratio
        else:  # no holiday in history: the quietest weekday's average
            ha = historical_average(train, wd, np.arange(7))
            totals_w = np.where(np.bincount(wd, minlength=7) > 0, ha.sum(axis=1), np.inf)
            fc[fut_hol] = ha[int(np.argmin(totals_w))]
    fc = fc * fut_mult[:, None]
    closed = closed_mask(train, wd)[fwd]
    closed[fut_hol] = fc[fut_hol] <= 0
    # open-day horizon of each future day: a day forecast closed does not consume it
    fut_open = fc.sum(axis=1) > 0
    steps = np.maximum(np.cumsum(fut_open) + ~fut_open, 1)
    lo95, lo80, hi80, hi95 = bands(fc, q, closed, phi, steps, bt.week)

    warn: list[str] = []
    week_rows = acc[(acc["horizon"] == "week 1") & (acc["method"] == method.value)]
    if len(week_rows) and abs(float(week_rows["bias"].iloc[0])) > BIAS_WARNING:
        b = float(week_rows["bias"].iloc[0])
        warn.append(f"queue '{queue}': the chosen method {method.value} has a week-ahead "
                    f"bias of {b:+.0%} in the backtest (over {BIAS_WARNING:.0%}): its "
                    f"forecast runs {'high' if b > 0 else 'low'}; check for a level change "
                    "or a special day in the recent history")

    # map future UTC intervals onto the grid
    out_times = pd.date_range(start, end, freq=f"{interval}s", inclusive="left")
    d, s = local_keys(out_times, st.tz, interval)
    row = (d - future[0]).astype(np.int64)
    cols: dict[str, Any] = {"interval_start": out_times, "queue": queue}
    for name, mat in (("volume", fc), ("volume_lo_80", lo80), ("volume_hi_80", hi80),
                      ("volume_lo_95", lo95), ("volume_hi_95", hi95)):
        cols[name] = mat[row, s]
    if st.with_aht:
        n = handled if handled is not None else volume
        a = aht_s[keep] if aht_s is not None else np.full(len(times), np.nan)
        n = np.where(np.isnan(a), 0.0, np.nan_to_num(n[keep] if handled is not None else n))
        hs_grid = to_day_grid(times, np.nan_to_num(a) * n, st.tz, interval, days=days)
        n_grid = to_day_grid(times, n, st.tz, interval, days=days)
        # cell means -> sums (the fall-back hour holds two intervals; the weights cancel)
        prof = aht_profile(hs_grid.values, n_grid.values, wd, fwd, max(3600 // interval, 1))
        cols["aht_s"] = prof[row, s]
    frame = pd.DataFrame(cols)
    acc.insert(0, "queue", queue)
    acc["chosen"] = acc["method"] == method.value
    return QueueForecast(queue=queue, method=method, frame=frame, accuracy=acc,
                         band_quantiles=q, overdispersion=phi, warnings=tuple(warn))


def _holiday_ratio(rows: np.ndarray, row_wd: np.ndarray, train: np.ndarray,
                   wd: np.ndarray) -> float | None:
    """Volume of past holidays / what their weekday's average predicted (None: no data).

    Summed over the intervals observed on those holidays, so the ratio is volume-weighted.
    """
    if len(rows) == 0:
        return None
    expected = historical_average(train, wd, row_wd)
    seen = ~np.isnan(rows)
    exp_sum = float(expected[seen].sum())
    if not seen.any() or exp_sum <= 0:
        return None
    return float(rows[seen].sum()) / exp_sum


def _forecast_batch(batch: list[tuple[Any, ...]]) -> list[QueueForecast]:
    return [_forecast_one(*item) for item in batch]


def forecast_queues(
    history: pd.DataFrame,
    *,
    horizon: pd.Timedelta | str | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    interval_s: int | None = None,
    tz: str | Mapping[str, str] = "UTC",
    market: str | Mapping[str, str] | None = None,
    special_days: Sequence[SpecialDay] = (),
    methods: Sequence[Method] = DEFAULT_METHODS,
    method: Method | None = None,
    backtest: BacktestConfig | None = None,
    backend: Literal["local", "dask"] = "local",
    client: Any = None,
    n_jobs: int = 1,
    batch_size: int = 25,
) -> ForecastResult:
    """Forecast contacts offered (and AHT) per queue and interval, with 80/95 % bands.

    Parameters
    ----------
    history : pandas.DataFrame
        Interval table: ``interval_start`` (UTC), ``volume``, optional ``queue`` (one
        queue "all" when absent), ``aht_s`` and ``handled`` (AHT weights; else volume).
    horizon : Timedelta or str, optional
        Length forecast from `start` (e.g. ``"14d"``); or give `end`.
    start, end : Timestamp, optional
        UTC start (default: end of history) and end (exclusive) of the forecast. History at
        or after `start` is ignored.
    interval_s : int, optional
        Interval length in seconds (inferred when omitted).
    tz : str or Mapping[str, str]
        IANA zone of the daily cycle, for all queues or per queue (default UTC).
    market : str or Mapping[str, str], optional
        Holiday market (ISO country code), for all queues or per queue.
    special_days : sequence of SpecialDay
        Campaigns (multipliers) and outages (excluded days).
    methods : sequence of Method
        Candidates of the backtest (the benchmark, the 4-week mean, is always added).
    method : Method, optional
        Use this method for every queue instead of the backtest's choice (the backtest
        still runs, for the accuracy table and the bands).
    backtest : BacktestConfig, optional
        Rolling-origin settings (default: horizon of min(forecast days, 14) days, 3 origins
        a week apart).
    backend : {"local", "dask"}
        ``"dask"`` maps batches of queues over `client` (a `distributed.Client`).
    n_jobs : int
        Local processes (``backend="local"``).
    batch_size : int
        Queues per task.

    Returns
    -------
    ForecastResult

    Examples
    --------
    >>> t = pd.date_range("2026-03-02", periods=28 * 24, freq="h", tz="UTC")
    >>> hist = pd.DataFrame({"interval_start": t, "queue": "q",
    ...                      "volume": np.where(t.hour.isin(range(8, 18)), 10.0, 0.0)})
    >>> r = forecast_queues(hist, horizon="2d", methods=[Method.MEAN_4W])
    >>> len(r.frame), float(r.frame["volume"].sum()), r.chosen["q"].value
    (48, 200.0, 'mean_4w')
    """
    if "queue" not in history.columns:
        history = history.assign(queue="all")
    for col in ("interval_start", "volume"):
        if col not in history.columns:
            raise InputError(f"missing required column '{col}'", column=col)
    times = pd.DatetimeIndex(history["interval_start"])
    if times.tz is None:
        raise InputError("interval_start must be timezone-aware (UTC)",
                         column="interval_start")
    interval = int(interval_s) if interval_s else infer_interval_s(times)
    if 86400 % interval:
        raise InputError(f"the interval length {interval} s does not divide a day",
                         column="interval_start")
    step = pd.Timedelta(seconds=interval)
    start = pd.Timestamp(start) if start is not None else times.max() + step
    if start.tzinfo is None:
        raise InputError("the forecast start must be timezone-aware", column="start")
    if end is None:
        if horizon is None:
            raise InputError("give a horizon or an end", column="horizon")
        h = parse_horizon(horizon) if isinstance(horizon, str) else pd.Timedelta(horizon)
        end = start + h
    end = pd.Timestamp(end)
    if end <= start:
        raise InputError("the forecast end must be after its start", column="horizon")
    days_ahead = int(np.ceil((end - start) / pd.Timedelta(days=1)))
    cfg = backtest or BacktestConfig(horizon_days=int(min(max(days_ahead, 1), 14)))
    cands = tuple(dict.fromkeys([BENCHMARK, *methods, *([method] if method else [])]))
    with_aht = "aht_s" in history.columns and history["aht_s"].notna().any()

    items: list[tuple[Any, ...]] = []
    for queue, g in history.groupby("queue", sort=True, observed=True):
        _check_queue_step(str(queue), pd.DatetimeIndex(g["interval_start"]).asi8, interval)
        qtz = check_tz(tz.get(str(queue), "UTC") if isinstance(tz, Mapping) else tz)
        qm = market.get(str(queue)) if isinstance(market, Mapping) else market
        st = _Settings(interval_s=interval, tz=qtz, market=qm, special=tuple(special_days),
                       methods=cands, backtest=cfg, force=method, start_ns=start.value,
                       end_ns=end.value,
                       with_aht=bool(with_aht))
        items.append((
            str(queue),
            pd.DatetimeIndex(g["interval_start"]).asi8,
            g["volume"].to_numpy(dtype=float),
            g["aht_s"].to_numpy(dtype=float) if with_aht else None,
            g["handled"].to_numpy(dtype=float) if with_aht and "handled" in g else None,
            st,
        ))
    progress.stage(f"forecast: {len(items)} queues")
    batches = [items[i:i + batch_size] for i in range(0, len(items), batch_size)]
    if backend == "dask":
        if client is None:
            raise ValueError("backend='dask' needs a distributed.Client")
        futures = client.map(_forecast_batch, batches, pure=False)
        results = [r for part in client.gather(futures) for r in part]
    elif backend == "local":
        if n_jobs > 1 and len(batches) > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=n_jobs) as pool:
                results = [r for part in pool.map(_forecast_batch, batches) for r in part]
        else:
            results = [r for b in batches for r in _forecast_batch(b)]
    else:
        raise ValueError(f"unknown backend '{backend}' (use 'local' or 'dask')")
    frame = pd.concat([r.frame for r in results], ignore_index=True)
    accuracy = pd.concat([r.accuracy for r in results], ignore_index=True)
    return ForecastResult(frame=frame, accuracy=accuracy,
                          chosen={r.queue: r.method for r in results}, interval_s=interval,
                          warnings=tuple(w for r in results for w in r.warnings))


def holiday_days_between(market: str | None, first: date, last: date) -> list[date]:
    """Holidays of `market` between two dates (inclusive), sorted.

    Examples
    --------
    >>> holiday_days_between("FR", date(2026, 5, 1), date(2026, 5, 10))
    [datetime.date(2026, 5, 1), datetime.date(2026, 5, 8)]
    """
    hol = holiday_dates(market, range(first.year, last.year + 1))
    return sorted(d for d in hol if first <= d <= last)
