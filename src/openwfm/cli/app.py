"""The typer application shared by every command module, and the error boundary."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from openwfm.errors import OpenWFMError

app = typer.Typer(
    name="openwfm",
    help=(
        "openwfm: workforce management for contact centers. Forecast contacts, staff "
        "intervals (Erlang C / Erlang A / chat / email), schedule agents, simulate the plan "
        "and plan capacity.\n\n"
        "Definitions: service_level = contacts answered within answer_within_s / contacts "
        "offered (abandons count as failures); asa_s = mean wait of answered contacts; "
        "p_wait = probability an arriving contact waits; p_abandon = probability it abandons; "
        "occupancy = mean busy agents / agents."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console(stderr=False)
err_console = Console(stderr=True)


def main() -> None:
    """Entry point: run the app; user errors print one clear line and exit with status 2."""
    try:
        app()
    except OpenWFMError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        sys.exit(2)
