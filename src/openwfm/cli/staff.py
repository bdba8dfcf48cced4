"""`openwfm staff IN.csv -o OUT.csv`: agents required (or metrics of given agents) per row."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from openwfm.cli import options
from openwfm.cli.app import app, console
from openwfm.errors import InputError


class Method(StrEnum):
    """How the metrics are computed. New methods (e.g. simulation) add a member here and a
    branch in `solver_for`."""

    ANALYTIC = "analytic"
    SIMULATION = "simulation"


def solver_for(method: Method, replications: int = 20, seed: int = 0):
    """The `staff_frame` solver of a method (method-specific options are bound here)."""
    from openwfm.staffing.frame import staff_input

    if method is Method.ANALYTIC:
        return staff_input
    if method is Method.SIMULATION:
        from openwfm.simulation.staffing import simulation_solver

        return simulation_solver(replications=replications, seed=seed)
    raise ValueError(f"unknown method {method}")  # pragma: no cover - Enum is exhaustive


#: The largest volume of one row that `--method simulation` simulates (docs/staffing.md).
MAX_SIMULATED_VOLUME = 100_000.0

# paragraphs are single lines: typer/rich reflows them to the terminal width
HELP = "\n\n".join([
    'Staff every row of IN.csv (one row per queue and interval) and write OUT.csv.',
    'Input columns: volume (contacts offered in the interval), aht_s (mean handle time, '
    's); optional: interval_s (1800), patience_s (mean patience, s; empty or absent = '
    'Erlang C, given = Erlang A), sl_target (0.8), sl_seconds (20; for email the response'
    ' deadline), channel (voice | chat | email), concurrency (chats per agent, 1), '
    'max_occupancy, max_asa_s, max_abandon, shrinkage, agents (present = evaluate these '
    'agents instead of solving), tz (IANA zone; email levels are per local day). Other '
    'columns (interval_start, queue, ...) pass through '
    'unchanged.',
    'Output adds: agents (the smallest integer meeting every target), service_level, '
    'asa_s, p_wait, p_abandon (empty without patience), occupancy, and scheduled = agents'
    ' / (1 - shrinkage) when a shrinkage column is given.',
    'Definitions: service_level = contacts answered within sl_seconds / contacts offered '
    '(abandons count as failures); asa_s = mean wait of answered contacts; p_wait = '
    'probability an arriving contact waits; p_abandon = probability it abandons; '
    'occupancy = mean busy agents / agents. Voice: Erlang C / Erlang A (M/M/n+M); chat: '
    'each agent is `concurrency` slots (aht_s measured under concurrency); email: fluid '
    'FIFO backlog over the rows of each queue, one level of agents per queue and local '
    'day.',
    '--method simulation: each voice/chat row is simulated as its own queue in steady '
    'state (discrete-event, exponential handle times and patience, --replications '
    'replications seeded by --seed); with agents it evaluates them, without it starts from '
    'the analytic answer and finds the smallest agents whose simulated mean meets every '
    'target. Adds service_level_lo/_hi, asa_s_lo/_hi, p_abandon_lo/_hi (95% confidence '
    'interval across replications); p_wait is left empty. Email rows keep the analytic '
    'backlog model.',
    'A bad row stops the run naming the row and column; no output file is written then.',
])


@app.command(help=HELP, short_help="Agents required (or metrics of given agents) per queue and "
             "interval: Erlang C/A, chat, email.")
def staff(
    in_csv: Path = typer.Argument(..., metavar="IN.csv", exists=True, dir_okay=False,
                                  help="Input CSV, one row per queue and interval."),
    out: Path = typer.Option(..., "-o", "--out", metavar="OUT.csv", help="Output CSV "
                             "(written atomically).", callback=options.output_file),
    method: Method = typer.Option(Method.ANALYTIC, "--method", help="How metrics are "
                                  "computed."),
    replications: int = typer.Option(20, "--replications", help="Simulation "
                                     "replications (--method simulation), 2 to "
                                     f"{options.MAX_REPLICATIONS}.",
                                     callback=options.in_range(2, options.MAX_REPLICATIONS)),
    seed: int = typer.Option(0, "--seed", help="Root random seed (--method simulation).",
                      callback=options.in_range(0, options.MAX_SEED)),
) -> None:
    from openwfm.io.atomic import atomic_path
    from openwfm.io.records import read_csv_frame
    from openwfm.staffing import staff_frame
    from openwfm.staffing.frame import require_email_times

    name = str(in_csv)
    df = read_csv_frame(in_csv, text=True)
    if len(df.columns) == 1 and ";" in df.columns[0] and "volume" not in df.columns:
        raise InputError(f"expected comma-separated columns, got the header {df.columns[0]!r} "
                         "(semicolon-separated?)", file=name)
    require_email_times(df, file=name)
    if method is Method.SIMULATION:
        from openwfm.io.records import check_range

        # each row is simulated replications x (a few) times: beyond this it takes hours
        check_range(df, "volume", file=name, lo=0, hi=MAX_SIMULATED_VOLUME)
    result = staff_frame(df, file=name, solver=solver_for(method, replications, seed))
    with atomic_path(out) as tmp:
        result.to_csv(tmp, index=False)
    console.print(f"staffed {len(result):,} rows: {int(result['agents'].sum()):,} agent-intervals"
                  f" -> {out}", highlight=False)
