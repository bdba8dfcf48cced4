"""`openwfm scenario`: check a scenario file, print its JSON Schema or key reference, write a
starter scenario from a history file."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from openwfm.cli.app import app, console, summarize_commands

_HELP = ("Scenario files: check one (validate every key and file, summarize), print the JSON "
         "Schema or the key reference (docs/scenario.md), write a starter from a history.")
scenario_app = typer.Typer(help=_HELP, no_args_is_help=True)
app.add_typer(scenario_app, name="scenario", help=_HELP,
              short_help="Scenario files: check, JSON Schema, key reference, starter scenario.")


@scenario_app.command()
def check(scenario_file: Path = typer.Argument(..., help="Scenario TOML.")) -> None:
    """Validate SCENARIO_FILE (every key, the CSV files it names, labour packs, the
    [scheduling], [capacity] and [demo] sections) and summarize it: sites, queues per
    channel, agents per site, weeks planned, labour packs in force. The first problem is
    one line naming the file and key (exit status 2)."""
    from openwfm.scenario_check import check_scenario

    summary = check_scenario(scenario_file)
    table = Table(title="scenario OK")
    table.add_column("what")
    table.add_column("value")
    for what, value in summary.lines():
        table.add_row(what, value)
    console.print(table)


@scenario_app.command()
def schema() -> None:
    """Print the JSON Schema of a scenario file (keys as written in TOML), for editors:
    save it and point your TOML extension at it."""
    from openwfm.schema_doc import json_schema

    print(json.dumps(json_schema(), indent=2))


@scenario_app.command()
def docs(out: Path | None = typer.Option(None, "-o", "--out",
                                         help="Write here (default: print).")) -> None:
    """Print (or write) the scenario key reference, docs/scenario.md: every key with type,
    unit, default, allowed values, meaning and example, generated from the models."""
    from openwfm.io.atomic import atomic_path
    from openwfm.schema_doc import scenario_markdown

    text = scenario_markdown()
    if out is None:
        print(text, end="")
        return
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}")


@scenario_app.command()
def new(
    history: Path = typer.Option(..., "--history", help="Interval history CSV (see openwfm "
                                 "import): its queues and interval length seed the scenario."),
    out: Path = typer.Option(Path("scenario.toml"), "-o", "--out",
                             help="Scenario TOML to write (not overwritten)."),
    tz: str = typer.Option("UTC", "--tz", help="IANA zone of the site and of naive times "
                           "in the history."),
    country: str = typer.Option("US", "--country", help="ISO country of the site and "
                                "customers."),
    name: str = typer.Option("My contact center", "--name", help="Name of the center."),
) -> None:
    """Write a commented starter scenario from a history file: one queue per history queue
    (channel guessed from its name, usual service goals), the interval length inferred, the
    plan week after the history, one site with the default labour pack. Edit the lines
    marked EDIT, then `openwfm scenario check`."""
    import os

    from openwfm.errors import InputError
    from openwfm.io.atomic import atomic_path
    from openwfm.io.intervals import read_interval_csv
    from openwfm.scenario_check import starter_toml
    from openwfm.schema import IanaZone, validate

    if out.exists():
        raise InputError("already exists; choose another -o or remove it", file=str(out))
    validate(IanaZone, tz, file="--tz")
    table = read_interval_csv(history, tz=tz)
    rel = os.path.relpath(history.resolve(), out.resolve().parent)
    text = starter_toml(table.queues, table.interval_s, table.span[1], history=rel,
                        name=name, site_tz=tz, country=country.upper())
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}: {len(table.queues)} queue(s), {table.interval_s}-s "
                  f"intervals; edit the lines marked EDIT, then `openwfm scenario check "
                  f"{out}`")


summarize_commands(scenario_app)  # one line per command in `openwfm scenario --help`
