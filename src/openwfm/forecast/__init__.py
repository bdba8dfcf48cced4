"""Forecast contacts offered and AHT per queue and interval, with prediction bands.

See `openwfm.forecast.engine.forecast_queues` (the entry point), `models` (the candidate
methods), `backtest` (rolling origin, WAPE/MASE/bias, selection, bands) and `calendar`
(local day grids, holidays, special days).
"""

from openwfm.forecast.backtest import BacktestConfig
from openwfm.forecast.calendar import SpecialDay, holiday_dates, read_special_days
from openwfm.forecast.engine import (
    DEFAULT_METHODS,
    ForecastResult,
    QueueForecast,
    forecast_queues,
    parse_horizon,
)
from openwfm.forecast.models import Method

__all__ = [
    "DEFAULT_METHODS",
    "BacktestConfig",
    "ForecastResult",
    "Method",
    "QueueForecast",
    "SpecialDay",
    "forecast_queues",
    "holiday_dates",
    "parse_horizon",
    "read_special_days",
]
