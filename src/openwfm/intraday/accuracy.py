"""How much the intraday reforecast improves on the morning forecast, day by day.

For a local day ``d`` of an interval table and a cut time (e.g. 12:00 local):

1. the **morning forecast** is openwfm's own day-ahead forecast
   (`openwfm.forecast.forecast_queues`, default settings) from the history before ``d``;
2. the **reforecast** is `openwfm.intraday.reforecast.reforecast_day` at the cut, with the
   actuals of ``d`` up to the cut, the priors of `level_prior_contacts` and the recency
   half-life of `choose_level_weighting`, both from the same history before ``d`` (nothing
   of ``d`` after the cut);
3. both are scored on the rest of the day (intervals starting at or after the cut, all
   queues): WAPE = sum |actual - forecast| / sum actual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

import numpy as np
import pandas as pd

from openwfm.forecast import BacktestConfig, forecast_queues
from openwfm.intraday.reforecast import (
    choose_level_weighting,
    level_prior_contacts,
    reforecast_day,
)

__all__ = ["DayAccuracy", "rest_of_day_accuracy"]


@dataclass(frozen=True)
class DayAccuracy:
    """Rest-of-day accuracy of one day.

    Attributes
    ----------
    day : date
        The local day.
    cut : time
        The local time of the reforecast.
    actual_so_far, actual_rest : float
        Contacts before and after the cut (all queues).
    morning_rest, reforecast_rest : float
        Forecast contacts after the cut: morning forecast, reforecast.
    wape_morning, wape_reforecast : float
        Rest-of-day WAPE (NaN when nothing arrived after the cut).
    halflife_h : float or None
        Recency half-life of the level chosen from the days before (None: equal weights).
    """

    day: date
    cut: time
    actual_so_far: float
    actual_rest: float
    morning_rest: float
    reforecast_rest: float
    wape_morning: float
    wape_reforecast: float
    halflife_h: float | None = None


def rest_of_day_accuracy(
    table: pd.DataFrame, day: date, *, tz: str, cuts: Sequence[time] = (time(12, 0),),
    interval_s: int = 1800, market: str | None = None,
    backtest: BacktestConfig | None = None,
) -> list[DayAccuracy]:
    """Score the morning forecast and the reforecast at each cut on the rest of `day`.

    `table` is an interval table (``interval_start`` UTC, ``queue``, ``volume``, ``aht_s``,
    ``handled``) covering the history before `day` and `day` itself. The morning forecast
    is made once; one `DayAccuracy` per cut.
    """
    step = pd.Timedelta(seconds=interval_s)
    d0 = pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")
    d1 = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(tz).tz_convert("UTC")
    train = table[table["interval_start"] < d0]
    today = table[(table["interval_start"] >= d0) & (table["interval_start"] < d1)]
    morning = forecast_queues(train, start=d0, end=d1, interval_s=interval_s, tz=tz,
                              market=market, backtest=backtest)
    out = []
    for cut in cuts:
        now = pd.Timestamp.combine(day, cut).tz_localize(tz).tz_convert("UTC")
        priors = level_prior_contacts(train, tz=tz, interval_s=interval_s, split=cut)
        weighting = choose_level_weighting(train, split=cut, tz=tz, interval_s=interval_s,
                                           priors=priors)
        so_far = today[today["interval_start"] + step <= now]
        r = reforecast_day(morning.frame, so_far, now, tz=tz, interval_s=interval_s,
                           priors=priors, weighting=weighting)
        rest = today[today["interval_start"] >= now][["interval_start", "queue", "volume"]]
        m = r.frame[["interval_start", "queue", "volume", "volume_morning"]].merge(
            rest, on=["interval_start", "queue"], how="outer", suffixes=("", "_actual"))
        m = m.fillna({"volume": 0.0, "volume_morning": 0.0, "volume_actual": 0.0})
        actual = float(m["volume_actual"].sum())

        def wape(col: str, m: pd.DataFrame = m, actual: float = actual) -> float:
            return (float(np.abs(m["volume_actual"] - m[col]).sum()) / actual if actual > 0
                    else float("nan"))

        out.append(DayAccuracy(day=day, cut=cut, actual_so_far=float(so_far["volume"].sum()),
                               actual_rest=actual, morning_rest=float(m["volume_morning"].sum()),
                               reforecast_rest=float(m["volume"].sum()),
                               wape_morning=wape("volume_morning"),
                               wape_reforecast=wape("volume"),
                               halflife_h=weighting.halflife_h))
    return out
