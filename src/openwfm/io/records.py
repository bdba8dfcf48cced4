"""Small CSV inputs (agents, availability, history, preferences) read row by row, with the
errors every such reader owes its user: the file, the 1-based data row and the column."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from openwfm.errors import InputError
from openwfm.io.intervals import check_csv_text


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
        fh = path.open(newline="", encoding="utf-8-sig")  # a BOM is not part of a name
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


def read_csv_frame(path: Path, *, text: bool = False) -> pd.DataFrame:
    """A CSV input of a command as a DataFrame (all cells as text with `text`), after the
    checks of `check_csv_text` (UTF-8 with or without BOM, no duplicated header name, every
    row with the header's fields); header names stripped.

    Raises `InputError` naming the file (and the row where one is at fault).
    """
    file = str(path)
    if not path.exists():
        raise InputError("file not found", file=file)
    if path.is_dir():
        raise InputError("expected a file, got a folder", file=file)
    check_csv_text(path, file=file)
    try:
        if text:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            df = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as exc:
        raise InputError("the file is empty: expected a header row and data rows",
                         file=file) from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not a readable CSV: {' '.join(str(exc).split())}",
                         file=file) from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df


def check_unique_rows(df: pd.DataFrame, keys: tuple[str, ...], *, file: str,
                      what: str = "row") -> None:
    """Refuse two rows with the same `keys` (e.g. queue and interval_start): the second
    would be counted twice. Names the row and the first one like it."""
    keys = tuple(k for k in keys if k in df.columns)
    if not keys:
        return
    dup = df.duplicated(list(keys), keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        same = (df[list(keys)] == df.iloc[i][list(keys)]).all(axis=1).to_numpy()
        first = int(np.flatnonzero(same)[0])
        raise InputError(f"{what} listed twice (same {', '.join(keys)} as row {first + 1}): "
                         "it would be counted twice", file=file, row=i + 1, column=keys[-1])


def check_range(df: pd.DataFrame, column: str, *, file: str, lo: float, hi: float,
                lo_open: bool = False, where: np.ndarray | None = None) -> None:
    """Refuse a value of `column` that is not a finite number in ``[lo, hi]`` (``(lo, hi]``
    with `lo_open`), on the rows `where` (all by default); names the first bad row."""
    if column not in df.columns:
        return
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(values) & (values <= hi) & ((values > lo) if lo_open else (values >= lo))
    bad = ~ok if where is None else (~ok & where)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        left = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise InputError(f"expected a number {left} and at most {hi:,.0f}, got "
                         f"'{df[column].iloc[i]}'", file=file, row=i + 1, column=column)
