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

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


class InputError(OpenWFMError):
    """Bad input: names the file, the row (1-based data row, header excluded) and the column.

    Examples
    --------
    >>> str(InputError("expected a number >= 0, got 'abc'", file="in.csv", row=3, column="volume"))
    "in.csv, row 3, column 'volume': expected a number >= 0, got 'abc'"
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.location = InputLocation(file=file, row=row, column=column)
        self.message = message
        where = str(self.location)
        super().__init__(f"{where}: {message}" if where else message)


class InfeasibleError(OpenWFMError):
    """A planning problem has no solution; `rule` names the rule or target responsible."""

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        self.rule = rule
        super().__init__(f"infeasible ({rule}): {message}" if rule else f"infeasible: {message}")
