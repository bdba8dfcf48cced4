"""`openwfm forecast` and `openwfm backtest`: volume and AHT forecasts from an interval CSV."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.measure import Measurement
from rich.table import Table

from openwfm.cli import options
from openwfm.cli.app import app, console

_HISTORY_HELP = (
    "Interval CSV: interval_start (ISO 8601 with an offset, or naive local time with --tz), "
    "volume (contacts offered), optional queue, aht_s, handled. The interval length is "
    "inferred."
)
_TZ_HELP = (
    "IANA zone of naive times AND of the daily cycle (e.g. Africa/Casablanca): daily and "
    "weekly shapes are learned in this local time, so DST and Ramadan changes do not shift "
    "them. Default: UTC."
)
_HOL_HELP = "Holiday market (ISO country code known to the holidays package: MA, FR, US, PH...)."
_SPECIAL_HELP = (
    "CSV of special days: date (YYYY-MM-DD local), optional multiplier (campaign: 1.3), "
    "exclude (true: drop the day from history, e.g. an outage), queue, label."
)


_QTZ_HELP = (
    "QUEUE=ZONE, repeatable: the daily cycle of QUEUE in its own customers' zone (a "
    "multi-site file: --queue-tz ma-voice=Africa/Casablanca --queue-tz ph-chat=Asia/Manila); "
    "other queues use --tz."
)
_QHOL_HELP = "QUEUE=CODE, repeatable: the holiday market of QUEUE; other queues use --holidays."


def _per_queue(pairs: list[str], default: str | None, queues, option: str,
               check=None) -> dict[str, str | None]:
    """``{queue: value}`` from ``QUEUE=VALUE`` options, `default` for the other queues."""
    from openwfm.errors import InputError

    known = {str(q) for q in queues}
    out: dict[str, str | None] = dict.fromkeys(sorted(known), default)
    for pair in pairs:
        queue, sep, value = pair.partition("=")
        queue, value = queue.strip(), value.strip()
        if not sep or not queue or not value:
            raise InputError(f"expected QUEUE=VALUE, got '{pair}'", column=option)
        if queue not in known:
            raise InputError(f"queue '{queue}' is not in the history (queues: "
                             f"{', '.join(sorted(known))})", column=option)
        out[queue] = check(value) if check else value
    return out


def _load(history: Path, tz: str | None, mapping: Path | None, interval_s: int | None,
          special_days: Path | None):
    from openwfm.forecast.calendar import check_tz, read_special_days
    from openwfm.io.intervals import read_interval_csv

    if tz is not None:
        check_tz(tz)
    table = read_interval_csv(history, tz=tz, mapping=mapping, interval_s=interval_s)
    special = read_special_days(special_days) if special_days is not None else ()
    return table, special


def _zones(table, tz: str | None, holidays: str | None, queue_tz: list[str],
           queue_holidays: list[str]) -> dict:
    """``tz=`` and ``market=`` of `forecast_queues`: per queue when options name queues."""
    from openwfm.forecast.calendar import check_tz

    queues = table.frame["queue"].unique() if "queue" in table.frame else ["all"]
    return {
        "tz": _per_queue(queue_tz, tz or "UTC", queues, "--queue-tz", check_tz)
        if queue_tz else tz or "UTC",
        "market": _per_queue(queue_holidays, holidays, queues, "--queue-holidays")
        if queue_holidays else holidays,
    }


def _run(path: Path, **kwargs):
    """`forecast_queues` on the loaded table; an input error without a file names HISTORY."""
    from openwfm.errors import InputError
    from openwfm.forecast.engine import forecast_queues

    try:
        return forecast_queues(**kwargs)
    except InputError as exc:
        loc = exc.location
        if loc.file is not None:
            raise
        raise InputError(exc.message, file=str(path), row=loc.row,
                         column=loc.column) from exc


@app.command()
def forecast(
    history: Path = typer.Argument(..., exists=True, dir_okay=False, help=_HISTORY_HELP),
    horizon: str = typer.Option("14d", "--horizon", help="How far ahead, with a unit: 14d, "
                                 f"4w, 48h (at most {options.MAX_HORIZON_DAYS}d).",
                                 callback=options.horizon),
    out: Path = typer.Option(..., "-o", "--out", help="Forecast CSV to write.",
                             callback=options.output_file),
    tz: str | None = typer.Option(None, "--tz", help=_TZ_HELP, callback=options.time_zone),
    holidays: str | None = typer.Option(None, "--holidays", help=_HOL_HELP,
                                        callback=options.holiday_market),
    queue_tz: list[str] = typer.Option([], "--queue-tz", help=_QTZ_HELP),
    queue_holidays: list[str] = typer.Option([], "--queue-holidays",
                                             help=_QHOL_HELP),
    special_days: Path | None = typer.Option(None, "--special-days", exists=True,
                                              dir_okay=False, help=_SPECIAL_HELP),
    mapping: Path | None = typer.Option(None, "--mapping", exists=True, dir_okay=False,
                                        help="TOML/JSON vendor-column -> openwfm-column map."),
    interval_s: int | None = typer.Option(None, "--interval-s", help="Interval length (s), "
                                          "whole minutes dividing a day.",
                                          callback=options.interval_seconds),
    jobs: int = typer.Option(1, "--jobs", callback=options.in_range(1, options.MAX_JOBS),
                             help="Processes (queues are independent)."),
    method: str | None = typer.Option(
        None, "--method", callback=options.forecast_method,
        help="Use this method for every queue instead of the backtest's choice (the "
             "backtest still runs, for the bands): mean_4w, median_4w, calendar_4w, "
             "calendar_ew, calendar_smooth, combined (mean of calendar_smooth and "
             "median_4w), combined_median (per-interval median of calendar_4w, "
             "calendar_smooth and median_4w), daily_profile, mstl, seasonal_naive, "
             "historical_average; see docs/forecast.md."),
) -> None:
    """Forecast contacts offered (and AHT) per queue and interval, with 80 % and 95 % bands.

    Writes one row per future interval and queue, from the end of history to the horizon:
    interval_start (ISO 8601, UTC), queue, volume (point forecast of contacts offered),
    volume_lo_80, volume_hi_80, volume_lo_95, volume_hi_95, and aht_s (mean handle time of
    handled contacts) when the history has it. Closed periods (no contact on that
    weekday and time in the last 8 weeks, nor within an hour of it, or a significant
    silence next to busy intervals) are written with 0 and zero bands, never left out.
    The method of each queue is chosen by a rolling-origin backtest (12 origins, horizons
    in open days): the 4-week mean of the same weekday and interval unless a candidate
    (daily totals with calendar effects x an intraday profile, the 4-week median, the
    per-interval median of the calendar model with a raw and a smoothed profile and the
    4-week median, "combined_median") beats it in week-ahead WAPE on both halves of the
    origins without a worse RMSE; bands come from its backtest errors (--method forces
    one). A chosen method with a week-ahead bias above 10 % is warned about.
    """
    from openwfm.forecast.engine import parse_horizon
    from openwfm.forecast.models import Method
    from openwfm.io.intervals import write_interval_csv

    h = parse_horizon(horizon)
    forced = {"method": Method(method)} if method else {}
    table, special = _load(history, tz, mapping, interval_s, special_days)
    with console.status("backtesting and forecasting ..."):
        result = _run(history, history=table.frame, horizon=h, interval_s=table.interval_s,
                      special_days=special, n_jobs=jobs, **forced,
                      **_zones(table, tz, holidays, queue_tz, queue_holidays))
    write_interval_csv(result.frame, out)
    chosen = ", ".join(f"{q}: {m.value}" for q, m in result.chosen.items())
    console.print(f"wrote {out}: {len(result.frame):,} rows, {len(result.chosen)} queue(s) "
                  f"({chosen})")
    for line in result.warnings:
        console.print(f"[yellow]warning: {line}[/]")


@app.command()
def backtest(
    history: Path = typer.Argument(..., exists=True, dir_okay=False, help=_HISTORY_HELP),
    horizon_days: int = typer.Option(14, "--horizon-days",
                                     callback=options.in_range(1, options.MAX_DAYS),
                                     help="Open days forecast from each origin (days "
                                          "without contacts do not count)."),
    origins: int = typer.Option(12, "--origins", help="Number of rolling origins, 1 to "
                                f"{options.MAX_ORIGINS}.",
                                callback=options.in_range(1, options.MAX_ORIGINS)),
    step_days: int | None = typer.Option(None, "--step-days",
                                         callback=options.in_range(1, options.MAX_DAYS),
                                         help="Open days between origins (default: spread "
                                              "over the history, 1 to 3)."),
    min_train_days: int = typer.Option(7, "--min-train-days",
                                       callback=options.in_range(1, options.MAX_DAYS),
                                       help="Fewest days of history before an origin."),
    tz: str | None = typer.Option(None, "--tz", help=_TZ_HELP, callback=options.time_zone),
    holidays: str | None = typer.Option(None, "--holidays", help=_HOL_HELP,
                                        callback=options.holiday_market),
    queue_tz: list[str] = typer.Option([], "--queue-tz", help=_QTZ_HELP),
    queue_holidays: list[str] = typer.Option([], "--queue-holidays",
                                             help=_QHOL_HELP),
    special_days: Path | None = typer.Option(None, "--special-days", exists=True,
                                              dir_okay=False, help=_SPECIAL_HELP),
    mapping: Path | None = typer.Option(None, "--mapping", exists=True, dir_okay=False,
                                        help="TOML/JSON vendor-column -> openwfm-column map."),
    out: Path | None = typer.Option(None, "-o", "--out", help="Also write the table as CSV.",
                                    callback=options.output_file),
    jobs: int = typer.Option(1, "--jobs", callback=options.in_range(1, options.MAX_JOBS),
                             help="Processes (queues are independent)."),
) -> None:
    """Rolling-origin backtest: accuracy per method and queue, and the chosen method.

    Horizons count open days (day 1, days 2-5, week 1, week 2). WAPE = sum |actual -
    forecast| / sum actual; MASE = mean absolute error / in-sample mean absolute error of
    the one-week seasonal naive; bias = sum (forecast - actual) / sum actual (> 0:
    over-forecast); RMSE = root mean squared error (in the CSV). The benchmark is the
    4-week mean of the same weekday and interval; another method is chosen only if its
    week-ahead WAPE is lower on both halves of the origins and its RMSE no worse.
    """
    from openwfm.forecast.backtest import BacktestConfig
    from openwfm.io.atomic import atomic_path

    table, special = _load(history, tz, mapping, None, special_days)
    cfg = BacktestConfig(horizon_days=horizon_days, n_origins=origins, step_days=step_days,
                         min_train_days=min_train_days)
    with console.status("backtesting ..."):
        result = _run(history, history=table.frame, horizon=f"{horizon_days}d",
                      interval_s=table.interval_s, special_days=special, backtest=cfg,
                      n_jobs=jobs, **_zones(table, tz, holidays, queue_tz, queue_holidays))
    acc = result.accuracy
    if acc.empty:
        from openwfm.errors import InputError

        raise InputError(f"not enough history for a backtest: --min-train-days "
                         f"{min_train_days} and --horizon-days {horizon_days} need at least "
                         f"{min_train_days + horizon_days} open days of history per queue",
                         file=str(history))
    print_accuracy(acc)
    for line in result.warnings:
        console.print(f"[yellow]warning: {line}[/]")
    if out is not None:
        with atomic_path(out) as tmp:
            acc.to_csv(tmp, index=False)
        console.print(f"wrote {out}")


def print_accuracy(acc) -> None:
    """Print the backtest table: WAPE per horizon, overall MASE and bias, the chosen method."""
    if acc.empty:
        return
    horizons = [h for h in dict.fromkeys(acc["horizon"]) if h != "all"] + ["all"]
    table = Table(title="rolling-origin backtest", box=box.SIMPLE_HEAD, pad_edge=False)
    # names and numbers are never cut: the table is printed at least as wide as they need
    queue_w = int(acc["queue"].astype(str).str.len().max())
    table.add_column("queue", no_wrap=True, min_width=max(queue_w, 5))
    table.add_column("method", no_wrap=True, min_width=18)
    for h in horizons:
        table.add_column(f"WAPE\n{h}", justify="right", no_wrap=True, min_width=max(len(h), 5))
    table.add_column("MASE", justify="right", no_wrap=True, min_width=4)
    table.add_column("bias", justify="right", no_wrap=True, min_width=6)
    table.add_column("chosen", no_wrap=True, min_width=6)
    for (queue, method), g in acc.groupby(["queue", "method"], sort=False):
        by_h = g.set_index("horizon")
        cells = [f"{by_h.loc[h, 'wape']:.3f}" if h in by_h.index else "" for h in horizons]
        chosen = bool(g["chosen"].iloc[0])
        table.add_row(str(queue), str(method), *cells, f"{by_h.loc['all', 'mase']:.2f}",
                      f"{by_h.loc['all', 'bias']:+.3f}", "[bold green]yes[/]" if chosen else "")
    need = Measurement.get(console, console.options, table).minimum
    console.print(table, width=max(console.width, need), crop=False)
    chosen = acc[acc["chosen"]].drop_duplicates("queue")
    console.print("chosen method: " + ", ".join(
        f"{q} {m}" for q, m in zip(chosen["queue"], chosen["method"], strict=True)))
