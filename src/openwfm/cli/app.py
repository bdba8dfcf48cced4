"""The typer application shared by every command module, and the error boundary."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from typer._click import exceptions as click_errors  # typer vendors click (0.29+)

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


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _usage_error(exc: click_errors.UsageError) -> str:
    """A click/typer usage error as one line: what is wrong and where to read more."""
    where = ""
    if exc.ctx is not None:
        where = f" (see '{exc.ctx.command_path} --help')"
    return f"{_one_line(exc.format_message())}{where}"


def _print_error(message: str) -> None:
    # the message verbatim (no markup parsing of '[0, 1)'), one logical line: no hard
    # wraps inside file names, so the line can be grepped
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True,
                      highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _interrupt_wins(received: Callable[[], int | None]) -> Iterator[None]:
    """After a signal, any exception is the interrupt: `Interrupted` raised inside an import,
    a callback or a library may reach us wrapped in another type."""
    from openwfm.interrupt import Interrupted

    try:
        yield
    except (Interrupted, typer.Abort, KeyboardInterrupt):
        raise
    except BaseException as exc:
        signum = received()
        if signum is None or isinstance(exc, SystemExit):
            raise
        raise Interrupted(signum) from exc


def main(args: list[str] | None = None) -> None:
    """Entry point: run the app. A user error (bad input, bad option, unwritable output)
    prints one line and exits with status 2; SIGINT / SIGTERM stop the run with 130 / 143
    and leave earlier outputs as they were (see `openwfm.interrupt`)."""
    from openwfm.interrupt import Interrupted, handle_signals, received

    _progress_to_stderr()
    code: int = 0
    interrupted = False
    try:
        with handle_signals(), _interrupt_wins(received), warnings.catch_warnings():
            # numeric warnings of a computation are not messages for the user: inputs are
            # validated with bounds, and a result that needs a warning is an error
            warnings.simplefilter("ignore", RuntimeWarning)
            rv = app(args=args, prog_name="openwfm", standalone_mode=False)
            code = rv if isinstance(rv, int) else 0
    except OpenWFMError as exc:
        _print_error(str(exc))
        code = 2
    except click_errors.NoArgsIsHelpError as exc:
        exc.show()
        code = 0
    except click_errors.UsageError as exc:
        _print_error(_usage_error(exc))
        code = 2
    except click_errors.ClickException as exc:
        _print_error(_one_line(exc.format_message()))
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        _print_error("interrupted (SIGINT): nothing written")
        code = 130
    except Interrupted as exc:
        _print_error(f"{exc}: nothing written, earlier outputs left as they were")
        code, interrupted = exc.exit_code, True
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # `openwfm ... | head`
            code = 1
        else:
            where = f"{exc.filename}: " if exc.filename else ""
            _print_error(f"{where}{exc.strerror or exc}")
            code = 2
    if interrupted:
        # do not wait at exit for solver or pool threads still finishing their work
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _progress_to_stderr() -> None:
    """With ``OPENWFM_PROGRESS=1``: ``progress: STAGE`` on stderr as each long stage starts
    (`openwfm.progress`)."""
    if os.environ.get("OPENWFM_PROGRESS", "") in ("", "0"):
        return
    import logging

    from openwfm.progress import LOGGER

    class ToStderr(logging.Handler):  # the stderr of the moment (tests redirect it)
        def emit(self, record: logging.LogRecord) -> None:
            print(f"progress: {record.getMessage()}", file=sys.stderr, flush=True)

    if not any(type(h).__name__ == "ToStderr" for h in LOGGER.handlers):
        LOGGER.addHandler(ToStderr())
        LOGGER.setLevel(logging.INFO)
        LOGGER.propagate = False
