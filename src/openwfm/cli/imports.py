"""`openwfm import calls|intervals`: ACD call-by-call logs and interval reports -> interval CSV."""

from __future__ import annotations

import enum
import re
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich import box
from rich.table import Table

from openwfm.cli import options
from openwfm.cli.app import app, console
from openwfm.errors import InputError

import_app = typer.Typer(
    name="import",
    help=(
        "Import ACD data into an openwfm interval table (CSV: interval_start ISO 8601 UTC, "
        "queue, volume, ...).\n\n"
        "Definitions: volume = contacts offered = served + abandoned; service_level = "
        "contacts answered within --answer-within seconds / contacts offered (abandons count "
        "as failures); asa_s = mean wait of answered contacts; aht_s = mean handle time of "
        "answered contacts (in `import calls`, where none was answered: the queue's mean, "
        "aht_rule = queue_mean); patience = mean time a caller is willing to wait (exponential "
        "maximum likelihood with answered calls censored at their wait)."
    ),
    no_args_is_help=True,
)
app.add_typer(import_app, name="import", short_help=(
    "Import ACD data (call-by-call log or interval CSV) into an interval table."))


class LogFormat(enum.StrEnum):
    """Call-log layouts `openwfm import calls` reads."""

    anonymous_bank = "anonymous_bank"
    csv = "csv"


_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}


def parse_interval(text: str) -> int:
    """Parse an interval length such as ``30m``, ``15min``, ``1h``, ``900s`` or ``1800``.

    Examples
    --------
    >>> parse_interval("30m"), parse_interval("1h"), parse_interval("900")
    (1800, 3600, 900)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", text.lower())
    if not m or (m.group(2) and m.group(2) not in _UNITS):
        raise InputError(f"expected an interval such as 15m, 30m, 1h or 1800 (seconds), "
                         f"got '{text}'", column="--interval")
    seconds = float(m.group(1)) * _UNITS.get(m.group(2) or "s", 1)
    if seconds <= 0 or seconds != int(seconds) or 86400 % int(seconds):
        raise InputError(f"the interval must be a whole number of seconds dividing a day, "
                         f"got '{text}'", column="--interval")
    return int(seconds)


def _fmt_s(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:,.0f}"


def _span(starts: pd.Series, interval_s: int, tz: str) -> str:
    first = starts.min().tz_convert(tz)
    last = (starts.max() + pd.Timedelta(seconds=interval_s)).tz_convert(tz)
    return f"{first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M} {tz}"


_CALLS_HELP = (
    "Aggregate a call-by-call log into intervals; print a summary with patience.\n\n"
    "Each contact counts in the interval its arrival (entry to the ACD queue) falls in. The "
    "grid covers the whole observed span for every queue: intervals without contacts "
    "(nights, closed days) are rows of zeros. Output columns: interval_start (UTC), queue, "
    "volume (offered = served + abandoned), handled, abandoned, other (unidentifiable "
    "calls, outside volume), aht_s (where nothing was handled: the queue's mean handle "
    "time, so the table can be staffed as it is), aht_rule (observed | queue_mean | none), "
    "asa_s, answered_within, service_level "
    "(answered_within / volume), agents_observed (distinct agents serving the queue during "
    "the interval), busy_agents (agent-seconds serving the queue / interval length). "
    "A bad row stops the import naming file, row and column; nothing is written."
)
_INTERVALS_HELP = (
    "Normalize a vendor interval report into openwfm's interval CSV (UTC, renamed "
    "columns).\n\n"
    "Naive local times in a DST or Ramadan fall-back hour are resolved by their order in "
    "the file (first = before the change; reversed in a file listed newest first). A time "
    "in a spring-forward gap, an unparseable "
    "time, a duplicated (queue, interval), a negative or non-numeric value, or a step that "
    "breaks the interval grid stops the import naming the row and column; nothing is "
    "written."
)


@import_app.command("calls", help=_CALLS_HELP)
def import_calls(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="Call-by-call log (TSV/CSV)."),
    out: Path = typer.Option(..., "-o", "--out", help="Interval CSV to write.",
                             callback=options.output_file),
    log_format: LogFormat = typer.Option(
        LogFormat.anonymous_bank, "--format",
        help="anonymous_bank: the Technion SEE bank layout (date yymmdd, H:MM:SS local "
             "times, 0:00:00 = did not happen). csv: columns arrival (ISO 8601), outcome "
             "(served/answered, abandoned, other), wait_s, optional queue, handle_s, agent, "
             "priority (rename vendor columns with --map)."),
    tz: str | None = typer.Option(
        None, "--tz", callback=options.time_zone,
        help="IANA zone of the log's local times and of the interval grid (default: "
             "Asia/Jerusalem for anonymous_bank, UTC for csv)."),
    interval: str = typer.Option(
        "30m", "--interval", help="Interval length dividing an hour: 15m, 30m, 1h."),
    answer_within: float = typer.Option(
        20.0, "--answer-within", callback=options.in_range(0.0, options.MAX_WAIT_OPTION_S),
        help="Service-level threshold in seconds: answered with wait <= this counts."),
    mapping: Path | None = typer.Option(
        None, "--map", "--mapping", exists=True, dir_okay=False,
        help="TOML/JSON mapping 'vendor column' = 'openwfm column' (csv format)."),
    short_abandon: float | None = typer.Option(
        None, "--short-abandon", callback=options.in_range(0.0, options.MAX_WAIT_OPTION_S),
        help="Leave abandons with a wait below this many seconds out of offered and "
             "abandoned (counted in short_abandoned). Default: every abandon is offered."),
    calls_out: Path | None = typer.Option(
        None, "--calls-out", help="Also write the normalized call log (UTC) as CSV.",
        callback=options.output_file),
    patience_out: Path | None = typer.Option(
        None, "--patience-out",
        help="Also write the Kaplan-Meier patience curve per queue (and 'all') as CSV: "
             "queue, time_s, survival = P(patience > time_s), ci_low, ci_high.",
        callback=options.output_file),
) -> None:
    """Aggregate a call-by-call log into intervals; print a summary with patience.

    Each contact counts in the interval its arrival (entry to the ACD queue) falls in. The
    grid covers the whole observed span for every queue: intervals without contacts
    (nights, closed days) are rows of zeros. Output columns: interval_start (UTC), queue,
    volume (offered = served + abandoned), handled, abandoned, other (unidentifiable calls,
    outside volume), aht_s (where nothing was handled: the queue's mean handle time),
    aht_rule (observed | queue_mean | none), asa_s, answered_within, service_level,
    agents_observed (distinct agents serving the queue during the interval), busy_agents
    (agent-seconds serving the queue / interval length).
    """
    from openwfm.io.atomic import atomic_paths
    from openwfm.io.calllog import (
        aggregate_intervals,
        log_zone,
        read_call_log,
        summarize_calls,
        with_aht_rule,
    )
    from openwfm.io.intervals import write_interval_csv
    from openwfm.io.patience import patience_curves

    interval_s = parse_interval(interval)
    zone = log_zone(log_format.value, tz)
    with console.status(f"reading {file.name} ..."):
        calls = read_call_log(file, tz=zone, format=log_format.value, mapping=mapping)
        agg = with_aht_rule(aggregate_intervals(
            calls, interval_s=interval_s, answer_within_s=answer_within, tz=zone,
            short_abandon_s=short_abandon))
        curves = patience_curves(calls) if patience_out is not None else None
        summary = summarize_calls(calls, answer_within_s=answer_within,
                                  short_abandon_s=short_abandon)
    # every output is computed before the first is written, and all are renamed together
    targets = [(out, "--out"), (calls_out, "--calls-out"), (patience_out, "--patience-out")]
    given = [(p, o) for p, o in targets if p is not None]
    with atomic_paths([p for p, _ in given], [o for _, o in given]) as tmps:
        tmp_of = dict(zip([o for _, o in given], tmps, strict=True))
        write_interval_csv(agg, tmp_of["--out"])
        if "--calls-out" in tmp_of:
            calls.to_csv(tmp_of["--calls-out"], index=False,
                         date_format="%Y-%m-%dT%H:%M:%S+00:00")
        if curves is not None:
            curves.to_csv(tmp_of["--patience-out"], index=False)

    table = Table(title=f"{file.name}: {len(calls):,} contacts, "
                        f"{_span(agg['interval_start'], interval_s, zone)}",
                  box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    for col, just in [("queue", "left"), ("offered", "right"), ("handled", "right"),
                      ("aband.", "right"), ("AHT s", "right"), ("ASA s", "right"),
                      (f"SL {answer_within:g}s", "right"), ("patience", "right"),
                      ("95% CI", "right")]:
        table.add_column(col, justify=just, no_wrap=True)
    for r in summary.itertuples(index=False):
        has = r.patience_abandons > 0
        table.add_row(
            r.queue, f"{r.offered:,}", f"{r.handled:,}", f"{r.abandoned:,}", _fmt_s(r.aht_s),
            _fmt_s(r.asa_s), f"{r.service_level:.1%}" if r.offered else "",
            _fmt_s(r.patience_s) if has else "-",
            f"{_fmt_s(r.patience_lo_s)}–{_fmt_s(r.patience_hi_s)}" if has else "",
            style="bold" if r.queue == "all" else None)
    console.print(table)
    n_other = int((calls["outcome"] == "other").sum())
    console.print(f"offered = handled + abandoned; {n_other:,} unidentifiable contacts "
                  "(outcome other) are counted apart. patience: mean seconds a caller waits "
                  "before abandoning (exponential MLE, answered calls censored at their wait; "
                  "Brown et al. 2005).")
    console.print(f"wrote {out}: {len(agg):,} rows ({agg['queue'].nunique()} queues × "
                  f"{len(agg) // max(agg['queue'].nunique(), 1):,} intervals of "
                  f"{interval_s // 60} min)" + (f"; calls: {calls_out}" if calls_out else ""))


@import_app.command("intervals", help=_INTERVALS_HELP)
def import_intervals(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False,
        help="ACD interval report (CSV, TSV, semicolon-separated, .xlsx)."),
    out: Path = typer.Option(..., "-o", "--out", help="Interval CSV to write.",
                             callback=options.output_file),
    mapping: Path | None = typer.Option(
        None, "--map", "--mapping", exists=True, dir_okay=False,
        help="TOML/JSON mapping 'vendor column' = 'openwfm column', e.g. "
             "\"Calls Offered\" = \"volume\", \"AHT\" = \"aht_s\", \"Interval\" = "
             "\"interval_start\", \"Date\" = \"date\" (top level or under \\[columns])."),
    tz: str | None = typer.Option(
        None, "--tz", help="IANA zone of naive (offset-less) interval starts.",
        callback=options.time_zone),
    interval: str | None = typer.Option(
        None, "--interval", help="Interval length (15m, 30m, 1h); inferred when omitted."),
) -> None:
    """Normalize a vendor interval report into openwfm's interval CSV (UTC, renamed columns).

    Naive local times in a DST or Ramadan fall-back hour are resolved by their order in the
    file (first = before the change); a time in a spring-forward gap, an unparseable time, a
    duplicated (queue, interval), a negative or non-numeric value, or a step that breaks
    the interval grid stops the import naming the row and column; nothing is written.
    """
    from openwfm.io.intervals import read_interval_csv, write_interval_csv

    interval_s = parse_interval(interval) if interval is not None else None
    t = read_interval_csv(file, tz=tz, mapping=mapping, interval_s=interval_s)
    write_interval_csv(t, out)
    f = t.frame
    table = Table(title=f"{t.source}: {len(f):,} rows, {len(t.queues)} queue(s), "
                        f"{t.interval_s // 60} min intervals", box=box.SIMPLE_HEAD,
                  show_edge=False, collapse_padding=True)
    cols = ["queue", "intervals", "span", "offered"]
    extra = [c for c in ("handled", "abandoned") if c in f.columns]
    has_aht = "aht_s" in f.columns
    for c in cols + extra + (["AHT s"] if has_aht else []):
        table.add_column(c, justify="left" if c in ("queue", "span") else "right")
    for q, g in f.groupby("queue", sort=True):
        row = [str(q), f"{len(g):,}", _span(g["interval_start"], t.interval_s, tz or "UTC"),
               f"{g['volume'].sum():,.0f}"]
        row += [f"{g[c].sum():,.0f}" for c in extra]
        if has_aht:
            w = g["handled"] if "handled" in g.columns else g["volume"]
            ok = g["aht_s"].notna() & w.notna()
            aht = (np.average(g.loc[ok, "aht_s"], weights=w[ok])
                   if ok.any() and w[ok].sum() > 0 else np.nan)
            row.append(_fmt_s(aht))
        table.add_row(*row)
    console.print(table)
    console.print(f"wrote {out}")
