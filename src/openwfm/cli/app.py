"""The typer application shared by every command module, and the error boundary."""

from __future__ import annotations

import re
import sys

import typer
from rich.console import Console
from rich.markup import escape

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


def one_line_summary(text: str, width: int = 90) -> str:
    """The first sentence of a command's help, without parenthesised details, cut to `width`
    characters at a word boundary: the line shown for the command in `openwfm --help`.

    Examples
    --------
    >>> one_line_summary("Simulate SCENARIO (TOML) with FORECAST (CSV). Writes OUT/.")
    'Simulate SCENARIO with FORECAST.'
    >>> one_line_summary("Plan the demo center: forecast, staffing, schedule", width=30)
    'Plan the demo center.'
    """
    first = text.strip().split("\n\n")[0]
    while True:  # drop innermost parentheses, then outer ones
        shorter = re.sub(r"\s*\([^()]*\)", "", first)
        if shorter == first:
            break
        first = shorter
    first = " ".join(first.split())
    sentence = re.split(r"(?<=[.;])\s", first, maxsplit=1)[0].rstrip(".;")
    if len(sentence) + 1 > width and ":" in sentence:
        sentence = sentence.split(":", 1)[0]
    if len(sentence) + 1 > width:
        sentence = sentence[: width - 2].rsplit(" ", 1)[0].rstrip(",;:") + " …"
        return sentence
    return sentence + "."


def summarize_commands(application: typer.Typer) -> None:
    """Give every registered command without a `short_help` a one-line summary made from
    its help (`one_line_summary`), so `openwfm --help` lists one line per command; the
    full help stays on `openwfm COMMAND --help`."""
    for info in [*application.registered_commands, *application.registered_groups]:
        if info.short_help:
            continue
        text = info.help or (info.callback.__doc__ if info.callback else None) or ""
        if text:
            info.short_help = one_line_summary(text)


def main() -> None:
    """Entry point: run the app; user errors print one clear line and exit with status 2."""
    try:
        app()
    except OpenWFMError as exc:
        # the message verbatim (no markup parsing of '[0, 1)'), one logical line: no hard
        # wraps inside file names, so the line can be grepped
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True,
                          highlight=False, soft_wrap=True)
        sys.exit(2)
