"""Synthetic contact-center histories with a known arrival rate, for tests and benchmarks.

Arrivals of each queue are Poisson with rate ``level x weekday factor x intraday shape
(x slow trend)`` defined in the queue's **local** wall-clock time, so a DST or Ramadan
offset change moves the UTC times of the peak but not its local time. Handle times have a
known mean per local hour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["synthetic_history"]

#: Weekday factors Monday..Sunday of the synthetic queues.
WEEKDAY_FACTORS = (1.0, 0.95, 0.9, 0.92, 0.85, 0.5, 0.0)


def intraday_shape(seconds_of_day: np.ndarray, open_h: float = 8.0,
                   close_h: float = 20.0) -> np.ndarray:
    """A two-peak intraday shape (late morning and afternoon), zero outside opening hours.

    Examples
    --------
    >>> intraday_shape(np.array([3 * 3600, 11 * 3600])).round(3).tolist()
    [0.0, 0.997]
    """
    tod = np.asarray(seconds_of_day, dtype=float) / 86400
    shape = np.exp(-((tod - 0.45) / 0.12) ** 2) + 0.6 * np.exp(-((tod - 0.7) / 0.1) ** 2)
    return np.where((tod >= open_h / 24) & (tod < close_h / 24), shape, 0.0)


def synthetic_history(
    n_queues: int = 3,
    days: int = 8 * 7,
    *,
    interval_s: int = 1800,
    tz: str = "UTC",
    start: str = "2026-01-05",
    trend: float = 0.0,
    level: tuple[float, float] = (5.0, 60.0),
    seed: int | np.random.Generator = 0,
    with_rate: bool = False,
) -> pd.DataFrame:
    """An interval table of `n_queues` queues over `days` local days from `start`.

    Parameters
    ----------
    n_queues, days : int
        Size of the history.
    interval_s : int
        Interval length in seconds.
    tz : str
        IANA zone of the queues' local time (the shape is defined in it).
    start : str
        First local date.
    trend : float
        Relative growth of the rate over the whole history (0.1 = +10 %).
    level : (float, float)
        Range of the peak-ish rate per interval, drawn uniformly per queue.
    seed : int or numpy.random.Generator
        Randomness.
    with_rate : bool
        Add the true Poisson mean as column ``rate``.

    Returns
    -------
    pandas.DataFrame
        ``interval_start`` (UTC), ``queue``, ``volume``, ``handled`` (= volume), ``aht_s``
        (mean of exponential handle times with a mean of 240 s before noon, 300 s after),
        optionally ``rate``. Local times that do not exist (spring forward) are absent; the
        repeated hour of a fall-back appears twice in UTC.

    Examples
    --------
    >>> h = synthetic_history(2, 14, tz="Africa/Casablanca", seed=1)
    >>> sorted(h["queue"].unique()), len(h) == 2 * 14 * 48, str(h["interval_start"].dt.tz)
    (['q000', 'q001'], True, 'UTC')
    """
    rng = np.random.default_rng(seed)
    utc = pd.date_range(
        pd.Timestamp(start, tz=tz).tz_convert("UTC"),
        (pd.Timestamp(start, tz=tz) + pd.Timedelta(days=days + 1)).tz_convert("UTC"),
        freq=f"{interval_s}s", inclusive="left",
    )
    local = utc.tz_convert(tz)
    last_day = (pd.Timestamp(start) + pd.Timedelta(days=days)).date()
    keep = local.tz_localize(None).normalize() < pd.Timestamp(last_day)
    utc, local = utc[keep], local[keep]
    sec = local.hour * 3600 + local.minute * 60
    wf = np.asarray(WEEKDAY_FACTORS)[local.dayofweek]
    base = intraday_shape(np.asarray(sec)) * wf
    growth = 1.0 + trend * np.arange(len(utc)) / max(len(utc), 1)
    mean_aht = np.where(np.asarray(local.hour) < 12, 240.0, 300.0)
    frames = []
    for q in range(n_queues):
        rate = rng.uniform(*level) * base * growth
        y = rng.poisson(rate).astype(float)
        # mean of y exponential handle times ~ Gamma(y, mean/y)
        aht = np.where(y > 0, rng.gamma(np.maximum(y, 1), mean_aht / np.maximum(y, 1)), np.nan)
        cols = {"interval_start": utc, "queue": f"q{q:03d}", "volume": y, "handled": y,
                "aht_s": aht}
        if with_rate:
            cols["rate"] = rate
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)
