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


def shown(value: object) -> str:
    """A value from the user's input, quoted as Python would, without numpy's type in it
    (``np.int64(-2)`` reads as ``-2``, ``np.float64(nan)`` as ``nan``); lists, tuples and
    sets element by element.

    Examples
    --------
    >>> import numpy as np
    >>> shown(np.int64(-2)), shown(np.float64("nan")), shown(np.str_("fr")), shown(2.0)
    ('-2', 'nan', "'fr'", '2')
    >>> shown([np.str_("a"), np.int64(3)])
    "['a', 3]"
    """
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        inner = ", ".join(shown(v) for v in items)
        return f"[{inner}]" if isinstance(value, list | set | frozenset) else f"({inner})"
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        value = item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return str(value)
    return repr(value)


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
