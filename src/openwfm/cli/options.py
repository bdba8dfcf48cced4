"""Option callbacks shared by the commands: every option is checked when the command line is
parsed, before any input is read or any output touched, and a bad value is refused in one
line that names the option and the valid range (`openwfm.cli.app.main` prints it, exit 2).

The numeric bounds are documented in docs/errors.md; keep the two in step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from openwfm.errors import InputError

# Bounds of the options (docs/errors.md). A value beyond them is refused at once rather than
# computed for hours or overflowing.
MAX_TIME_LIMIT_S = 86_400.0  # a solver limit above a day is a typo
MAX_REPLICATIONS = 10_000
MAX_ORIGINS = 100
MAX_HORIZON_DAYS = 731  # two years of intervals
MAX_DAYS = 3_660  # --horizon-days, --step-days, --min-train-days
MAX_JOBS = 256
MAX_SEED = 2**63 - 1
MAX_WAIT_OPTION_S = 7 * 86_400.0  # --answer-within, --short-abandon


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else f"{x:,}".replace(",", "")


def in_range(lo: float, hi: float, *, lo_open: bool = False,
             unit: str = "") -> Callable[[Any], Any]:
    """A callback refusing a number outside ``[lo, hi]`` (``(lo, hi]`` with `lo_open`);
    None (an option left out) passes.

    Examples
    --------
    >>> check = in_range(0, 1)
    >>> check(0.5)
    0.5
    >>> check(-1)
    Traceback (most recent call last):
    ...
    typer._click.exceptions.BadParameter: expected a number from 0 to 1, got -1
    """
    left = "greater than " if lo_open else "from "
    rng = f"{left}{_fmt(lo)} to {_fmt(hi)}{unit}"

    def check(value: Any) -> Any:
        if value is None:
            return value
        ok = (lo < value if lo_open else lo <= value) and value <= hi
        if not ok or (isinstance(value, float) and not math.isfinite(value)):
            raise typer.BadParameter(f"expected a number {rng}, got {_fmt(value)}")
        return value

    return check


def _bad(exc: InputError) -> typer.BadParameter:
    return typer.BadParameter(exc.message)


def output_file(value: Path | None) -> Path | None:
    """Refuse an output file that is an existing folder (or sits under a file)."""
    from openwfm.io.atomic import check_output_file

    if value is None:
        return value
    try:
        check_output_file(value, None)
    except InputError as exc:
        raise _bad(exc) from exc
    return value


def output_dir(value: Path | None) -> Path | None:
    """Refuse an output folder that is an existing file (it would be replaced)."""
    from openwfm.io.atomic import check_output_dir

    if value is None:
        return value
    try:
        check_output_dir(value, None)
    except InputError as exc:
        raise _bad(exc) from exc
    return value


def database_url(value: str | None) -> str | None:
    """Refuse a database URL that cannot be parsed, or a SQLite file in a missing folder or
    that is a folder (checked before a run whose results it is to hold)."""
    from openwfm.store.runs import check_url

    if value is None:
        return value
    try:
        check_url(value)
    except InputError as exc:
        raise _bad(exc) from exc
    return value


def horizon(value: str) -> str:
    """Refuse a horizon without a unit, not positive, or beyond `MAX_HORIZON_DAYS`."""
    from openwfm.forecast.engine import parse_horizon

    try:
        h = parse_horizon(value)
    except InputError as exc:
        raise _bad(exc) from exc
    if h.total_seconds() > MAX_HORIZON_DAYS * 86_400:
        raise typer.BadParameter(f"expected a horizon of at most {MAX_HORIZON_DAYS}d, got "
                                 f"'{value}'")
    return value


def holiday_market(value: str | None) -> str | None:
    """Refuse a holiday market unknown to the `holidays` package."""
    from openwfm.forecast.calendar import holiday_dates

    if value is None:
        return value
    try:
        holiday_dates(value, [2026])
    except InputError as exc:
        raise _bad(exc) from exc
    return value


def forecast_method(value: str | None) -> str | None:
    """Refuse a forecast method that `openwfm.forecast.Method` does not name."""
    from openwfm.forecast.models import Method

    if value is None:
        return value
    names = [m.value for m in Method]
    if value not in names:
        raise typer.BadParameter(f"expected one of {', '.join(names)}, got '{value}'")
    return value


def time_zone(value: str | None) -> str | None:
    """Refuse a name that is not an IANA time zone."""
    from openwfm.forecast.calendar import check_tz

    if value is None:
        return value
    try:
        check_tz(value)
    except InputError as exc:
        raise _bad(exc) from exc
    return value


def interval_seconds(value: int | None) -> int | None:
    """Refuse an interval length that does not divide a day into whole minutes."""
    if value is None:
        return value
    if value < 60 or value > 86_400 or value % 60 or 86_400 % value:
        raise typer.BadParameter(f"expected a whole number of minutes dividing a day, from "
                                 f"60 to 86400 s (900, 1800, 3600 ...), got {value}")
    return value
