"""Small CSV inputs (agents, availability, history, preferences) read row by row, with the
errors every such reader owes its user: the file, the 1-based data row and the column."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from openwfm.errors import InputError


def csv_records(path: Path, required: tuple[str, ...] = (), *, what: str,
                expected: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """``(row, record)`` for each data row of the CSV at `path` (row 1 = first data row).

    Raises `InputError` naming `path` when the file does not exist ("`what` file not
    found"), when a `required` column is missing from the header (checked only when
    `expected`, the columns to name in the message, is given), or naming the row and column
    when a `required` value is empty.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "h.csv"
    >>> _ = p.write_text("agent_id,n\\na1,3\\na2,\\n")
    >>> [(row, rec["agent_id"]) for row, rec in csv_records(p, ("agent_id",), what="test")]
    [(1, 'a1'), (2, 'a2')]
    >>> list(csv_records(p, ("agent_id", "n"), what="test"))
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: ...h.csv, row 2, column 'n': missing value for 'n'
    """
    file = str(path)
    try:
        fh = path.open(newline="", encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{what} file not found", file=file) from exc
    with fh:
        reader = csv.DictReader(fh)
        if expected is not None:
            for col in required:
                if col not in (reader.fieldnames or ()):
                    raise InputError(f"missing column '{col}'; expected {expected}", file=file,
                                     column=col)
        for row, rec in enumerate(reader, start=1):
            for col in required:
                if not (rec.get(col) or "").strip():
                    raise InputError(f"missing value for '{col}'", file=file, row=row,
                                     column=col)
            yield row, rec
