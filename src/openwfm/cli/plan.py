"""`openwfm plan` (a center of your own) and `openwfm demo` (the embedded center): one code
path, `run_plan_command`, over `openwfm.app.plan` and `openwfm.app.writers.write_plan`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import typer
from rich.table import Table

from openwfm.cli import options
from openwfm.cli.app import app, console

if TYPE_CHECKING:
    from openwfm.scenario import Scenario

_OUTPUTS = (
    "Writes OUT/forecast.csv, forecast_backtest.csv, requirement.csv, schedule/ (segments, "
    "shifts, coverage, rule_check, schedule_summary, preferences CSVs and ics/<agent>.ics), "
    "simulation_intervals.csv, simulation_queues.csv, capacity/*.csv (with a \\[capacity] "
    "section) and report.html (one offline page). OUT is replaced as a whole when the run "
    "succeeds; nothing is written when it fails.")


def run_plan_command(command: str, scenario: Scenario, history: pd.DataFrame, out: Path, *,
                     weeks: int | None = None, db: str | None = None,
                     seed: int | None = None) -> None:
    """Plan, write `out` atomically, optionally save the run in `db`, print the summary."""
    from openwfm.app import STAGES, plan
    from openwfm.app.writers import write_plan
    from openwfm.io.atomic import atomic_dir

    t0 = time.perf_counter()
    days = scenario.plan_days if weeks is None else 7 * weeks
    first, last = history["interval_start"].min(), history["interval_start"].max()
    console.print(
        f"[bold]{scenario.name}[/]: {len(scenario.sites)} sites, {len(scenario.queues)} queues, "
        f"{len(scenario.agents)} agents, {len(history):,} history rows "
        f"({first:%Y-%m-%d} .. {last:%Y-%m-%d} UTC); "
        f"planning {days} days from {scenario.plan_start}"
    )
    with console.status("") as status:
        def started(i: int) -> None:
            if i < len(STAGES):
                status.update(f"[{i + 1}/{len(STAGES)}] {STAGES[i]} ...")

        def done(name: str, seconds: float) -> None:
            console.print(f"  [green]done[/] {name} in {seconds:.1f} s")
            started(STAGES.index(name) + 1)

        started(0)
        result = plan(scenario, history, weeks=weeks, seed=seed,
                      on_stage=done)
    with atomic_dir(out) as tmp:
        write_plan(result, tmp)
    if db is not None:
        from openwfm.store import RunStore

        tables = result.tables()
        run_id = RunStore(db).save(command, scenario=scenario.name, tables=tables,
                                   meta={"timings_s": result.timings_s})
        console.print(f"saved run {run_id} ({', '.join(tables)}) in {db}")
    table = Table(title=f"openwfm {command}: summary")
    for col in ("stage", "what", "value"):
        table.add_column(col)
    for row in result.summary:
        table.add_row(*row)
    console.print(table)
    console.print(f"wrote {out}/ (report.html and CSVs) in {time.perf_counter() - t0:.1f} s")


_DB_HELP = ("Also save the run's tables (forecast, requirement, segments) in this database "
            "(SQLAlchemy URL, e.g. sqlite:///openwfm.db).")


@app.command("plan")
def plan_command(
    scenario_file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                         help="Scenario TOML: sites, queues, agents, "
                                         "\\[scheduling] and optional \\[capacity]."),
    history_file: Path | None = typer.Option(
        None, "--history", exists=True, dir_okay=False,
        help="Interval history CSV: interval_start (ISO 8601; naive "
        "times are in the scenario's plan_tz), queue, volume, aht_s (e.g. the output of "
        "`openwfm import calls`), a few weeks or more per queue of the scenario. Default: "
        "the scenario's `history` file."),
    out: Path = typer.Option(Path("openwfm-plan"), "-o", "--out",
                             help="Output folder (replaced as a whole when the run succeeds).",
                             callback=options.output_dir),
    weeks: int | None = typer.Option(None, "--weeks", min=1, max=52,
                                     help="Weeks to plan from plan_start (default: the "
                                     "scenario's plan_days)."),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP, callback=options.database_url),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the simulation (default: the "
                                    "scenario's \\[simulation] seed, else 20260330): same "
                                    "inputs and seed, same outputs.",
                                    callback=options.in_range(0, options.MAX_SEED)),
) -> None:
    """Plan your own center end to end: forecast, staffing, schedule, simulation and
    capacity plan from SCENARIO and a history of contacts.

    Forecast per queue and interval from the history (backtested methods, the queue's time
    zone and holidays); staffing for each queue's service goal (service_level = contacts
    answered within answer_within_s / contacts offered; Erlang C, Erlang A with patience_s,
    chat concurrency, email deadlines; scheduled = agents / (1 - shrinkage)); the schedule of
    the scenario's agents under its labour rules; a discrete-event simulation of that
    schedule; and the long-term capacity plan of a \\[capacity] section.
    """
    from openwfm.errors import InputError
    from openwfm.io.intervals import read_interval_csv
    from openwfm.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    path = history_file or scenario.history_path
    if path is None:
        raise InputError("no history: pass --history HISTORY.csv or set history = "
                         "\"history.csv\" in the scenario", file=str(scenario_file),
                         column="history")
    history = read_interval_csv(path, tz=scenario.plan_tz,
                                interval_s=scenario.interval_s).frame
    run_plan_command("plan", scenario, history, out, weeks=weeks, db=db, seed=seed)


@app.command(short_help="Plan the embedded demo contact center end to end: CSVs and report.html.")
def demo(
    out: Path = typer.Option(Path("openwfm-demo-output"), "-o", "--out",
                             help="Output folder (replaced as a whole when the run succeeds).",
                             callback=options.output_dir),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP, callback=options.database_url),
) -> None:
    """Plan the embedded demo contact center (a BPO in Casablanca, Manila and Bogota):
    forecast, staffing, schedule, simulation and capacity plan; writes CSVs and report.html.

    Exactly `openwfm plan` on the embedded scenario and its generated history.
    """
    from openwfm.demo import demo_history, demo_scenario

    scenario = demo_scenario()
    with console.status("building the demo history ..."):
        history = demo_history(scenario)
    run_plan_command("demo", scenario, history, out, db=db)
