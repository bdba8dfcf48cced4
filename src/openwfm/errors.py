"""Typed errors. Every failure the user can cause names where it happened."""

from __future__ import annotations

from dataclasses import dataclass


class OpenWFMError(Exception):
    """Base class of every error openwfm raises on purpose."""


@dataclass(frozen=True)
class InputLocation:
    """Where in the user's input a problem sits (any part may be unknown)."""

    file: str | None = None
    row: int | None = None
    column: str | None = None
    key: str | None = None
    """In a TOML file: the path of the key, e.g. ``queues[2].sl_target`` (then `column`
    holds its last part, ``sl_target``)."""

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.key is not None:
            parts.append(f"key '{self.key}'")
        elif self.column is not None:  # a command-line option is named as such
            kind = "option" if self.column.startswith("-") else "column"
            parts.append(f"{kind} '{self.column}'")
        return ", ".join(parts)


class InputError(OpenWFMError):
    """Bad input: names the file, the row (1-based data row, header excluded) and the column.

    Examples
    --------
    >>> str(InputError("expected a number >= 0, got 'abc'", file="in.csv", row=3, column="volume"))
    "in.csv, row 3, column 'volume': expected a number >= 0, got 'abc'"
    >>> str(InputError("expected a number, got 'abc'", file="s.toml",
    ...                key="scheduling.time_limit_s"))
    "s.toml, key 'scheduling.time_limit_s': expected a number, got 'abc'"
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        key: str | None = None,
    ) -> None:
        if key is not None and column is None:
            column = key.rsplit(".", 1)[-1].split("[", 1)[0] or None
        self.location = InputLocation(file=file, row=row, column=column, key=key)
        # one line whatever the input held (a quoted cell may span lines)
        message = message.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")
        self.message = message
        where = str(self.location)
        super().__init__(f"{where}: {message}" if where else message)


class InfeasibleError(OpenWFMError):
    """A planning problem has no solution; `rule` names the rule or target responsible."""

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        self.rule = rule
        super().__init__(f"infeasible ({rule}): {message}" if rule else f"infeasible: {message}")
