"""Read and write ACD interval reports as openwfm interval tables.

An *interval table* is a pandas DataFrame with one row per queue and interval (see
``docs/architecture.md``): ``interval_start`` (``datetime64[ns, UTC]``), ``queue`` (str),
``volume`` (contacts offered, float) and optionally ``handled``, ``abandoned``, ``aht_s``
(mean handle time of handled contacts), ``asa_s`` (mean wait of answered contacts),
``answered_within`` (contacts answered within the threshold), ``service_level``
(= answered_within / volume: abandons count as failures), ``agents_observed``.

The reader accepts a generic ACD interval CSV:

* ``interval_start`` in ISO 8601, either with an offset (``2026-03-29T01:30:00+01:00``,
  ``...Z``) or as naive local wall-clock time together with an IANA zone (``tz=``).
  Naive times inside a DST gap (they never happened) are an error naming the row.
  Naive times inside a fall-back overlap (they happened twice) are resolved from the order
  of the file: within a queue, the first occurrence is the earlier (summer-time) instant and
  the second the later one; a single occurrence cannot be resolved and is an error.
* ``volume`` (required) and the optional columns above; other columns pass through as text.
* A column mapping renames vendor columns, e.g. ``{"Interval": "interval_start",
  "Calls Offered": "volume", "AHT": "aht_s"}``, given as a dict or a TOML/JSON file
  (top-level keys, or a ``[columns]`` table).
* Duration columns (``*_s``) accept seconds or ``[H:]MM:SS``.

The interval length is inferred as the most common step between consecutive intervals of
a queue; every step must be a whole multiple of it (gaps are allowed, a 15-minute step in a
30-minute file is not).
"""

from __future__ import annotations

import csv
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from openwfm.errors import InputError
from openwfm.io.atomic import atomic_path

__all__ = [
    "COUNT_COLUMNS",
    "DURATION_COLUMNS",
    "IntervalTable",
    "load_mapping",
    "read_interval_csv",
    "write_interval_csv",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("interval_start", "volume")
#: Numeric columns that are counts of contacts (>= 0).
COUNT_COLUMNS: tuple[str, ...] = (
    "volume", "handled", "abandoned", "other", "short_abandoned", "answered_within",
)
#: Numeric columns that are durations in seconds (>= 0); ``[H:]MM:SS`` is accepted.
DURATION_COLUMNS: tuple[str, ...] = ("aht_s", "asa_s", "wait_s", "patience_s", "interval_s")
#: Other numeric columns (>= 0).
OTHER_NUMERIC_COLUMNS: tuple[str, ...] = (
    "service_level",
    "agents_observed",
    "busy_agents",
    "volume_lo_80",
    "volume_hi_80",
    "volume_lo_95",
    "volume_hi_95",
)
DEFAULT_QUEUE = "all"
#: Bounds of an interval table's values (docs/errors.md): beyond them a value is a typo or
#: garbage, and the models downstream cannot compute with it meaningfully.
MAX_INTERVAL_COUNT = 10_000_000  # contacts (or agents) in one interval
MAX_DURATION_S = 7 * 86_400.0  # a handle time, wait, patience or interval of a week

# a UTC offset after a clock time (so that a date alone, "2026-01-05", is not "-05")
_OFFSET_RE = re.compile(
    r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)\s*$"
)
_DURATION_RE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d*)?)$")


@dataclass(frozen=True, eq=False)
class IntervalTable:
    """An interval table read from a file.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per (queue, interval), sorted by queue then ``interval_start`` (UTC).
    interval_s : int
        Interval length in seconds.
    source : str
        The file name it was read from.
    """

    frame: pd.DataFrame
    interval_s: int
    source: str

    @property
    def queues(self) -> tuple[str, ...]:
        """Queue names, sorted."""
        return tuple(sorted(self.frame["queue"].unique()))

    @property
    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First interval start and end of the last interval (UTC)."""
        start = self.frame["interval_start"]
        return start.min(), start.max() + pd.Timedelta(seconds=self.interval_s)


def load_mapping(mapping: Mapping[str, str] | str | os.PathLike[str] | None) -> dict[str, str]:
    """Return a vendor-column -> openwfm-column mapping from a dict or a TOML/JSON file.

    A file holds either top-level ``"Vendor name" = "openwfm_name"`` pairs or the same
    pairs under a ``[columns]`` table (JSON: an object, optionally under ``"columns"``).

    Examples
    --------
    >>> load_mapping({"Calls Offered": "volume"})
    {'Calls Offered': 'volume'}
    >>> load_mapping(None)
    {}
    """
    if mapping is None:
        return {}
    if isinstance(mapping, Mapping):
        data: object = dict(mapping)
        name = None
    else:
        path = Path(mapping)
        name = path.name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"cannot read the column mapping: {exc.strerror}", file=name) from exc
        try:
            data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"cannot parse the column mapping: {exc}", file=name) from exc
        if isinstance(data, dict) and isinstance(data.get("columns"), dict):
            data = data["columns"]
    if not isinstance(data, dict):
        raise InputError("a column mapping must be a table of 'vendor column' = 'openwfm column'",
                         file=name)
    out: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise InputError(
                f"mapping of '{key}' must be a column name (text), got {value!r}", file=name
            )
        out[str(key)] = value
    targets = list(out.values())
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise InputError(f"several vendor columns map to {dupes}", file=name)
    return out


def _zone(tz: str | None, file: str | None) -> ZoneInfo | None:
    if tz is None:
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(
            f"unknown time zone '{tz}': expected an IANA name such as 'Europe/Paris'", file=file
        ) from exc


def _sniff_sep(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","


def strip_text(values: pd.Series, *, lower: bool = False) -> pd.Series:
    """Strip whitespace (and lower-case); fast for columns with few distinct values.

    Examples
    --------
    >>> strip_text(pd.Series([" fr ", "fr", "nl "])).tolist()
    ['fr', 'fr', 'nl']
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    stripped = np.array([str(u).strip().lower() if lower else str(u).strip()
                         for u in uniques], dtype=object)
    return pd.Series(stripped[codes], index=values.index, dtype=object)


def check_csv_text(path: Path, sep: str = ",", *, file: str | None = None) -> None:
    """Check a delimited text file before pandas reads it: UTF-8 text (a BOM is fine), a
    header without empty or duplicated names, and every data row with the header's number
    of fields (a missing or extra delimiter, an unclosed quote, a file cut mid-line).

    pandas fills a short row with empty cells and renames a duplicated column ``x.1``, so
    either would otherwise pass unseen. Blank lines are allowed. Rows are counted as data
    rows (row 1 = the line after the header).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("a,b\\n1,2\\n3\\n")
    >>> check_csv_text(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: t.csv, row 2: expected 2 fields like the header, got 1 (...)
    """
    name = file or path.name
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=sep, strict=True)
            header = next(reader, None)
            if header is None:
                return
            names = [h.strip() for h in header]
            seen: dict[str, int] = {}
            for i, h in enumerate(names):
                if h in seen:
                    raise InputError(f"column '{h}' appears twice in the header (fields "
                                     f"{seen[h] + 1} and {i + 1})", file=name, column=h)
                seen[h] = i
            width = len(header)
            for row, fields in enumerate(reader, start=1):
                if fields and len(fields) != width and any(f.strip() for f in fields):
                    raise InputError(
                        f"expected {width} fields like the header, got {len(fields)} (a "
                        "missing or extra delimiter, an unclosed quote or a file cut off)",
                        file=name, row=row)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                         f"{exc.start}): save the file as UTF-8 CSV", file=name) from exc
    except csv.Error as exc:
        raise InputError(f"not a readable CSV ({exc}), near line {reader.line_num}",
                         file=name) from exc


def read_text_table(path: Path) -> pd.DataFrame:
    """Read a CSV/TSV (or an Excel sheet) as text; index i is data row i + 1.

    Blank lines are kept while numbering, so a row number is the line number minus one
    (the header). For ``.xlsx`` files, data row i is Excel row i + 1 of the first sheet.
    """
    name = path.name
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            if path.is_dir():
                raise IsADirectoryError(str(path))
            try:
                df = pd.read_excel(path, dtype=str, keep_default_na=False, na_filter=False)
            except (FileNotFoundError, IsADirectoryError):
                raise
            except Exception as exc:
                raise InputError(f"cannot read the file as an Excel workbook "
                                 f"({type(exc).__name__}: {exc})", file=name) from exc
            df = df.fillna("")
        else:
            sep = _sniff_sep(path)
            check_csv_text(path, sep)
            df = pd.read_csv(
                path,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                encoding="utf-8-sig",
            )
    except FileNotFoundError as exc:
        raise InputError("file not found", file=str(path)) from exc
    except IsADirectoryError as exc:
        raise InputError("expected a file, got a folder", file=str(path)) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError("the file is empty: expected a header row and data rows",
                         file=name) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse the file as CSV: {exc}", file=name) from exc
    except (ValueError, OSError) as exc:  # e.g. a .xlsx that is not a workbook
        raise InputError(f"cannot read the file: {exc}", file=name) from exc
    df.columns = [str(c).strip() for c in df.columns]
    df = df.reset_index(drop=True)
    if df.empty or df.shape[1] == 0:
        return df
    # blank lines: every cell empty (checked in full only where the first cell is empty;
    # a line of spaces is not blank and fails where its values are parsed)
    candidates = df.index[df.iloc[:, 0] == ""]
    sub = df.loc[candidates]
    blank = candidates[(sub.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()]
    return df.drop(index=blank)


def parse_numbers(
    values: pd.Series, *, file: str, column: str, duration: bool = False, required: bool = False,
    percent: bool = False, max_value: float | None = None,
) -> np.ndarray:
    """Parse a text column to float; errors name the first bad row (index + 1).

    Empty cells become NaN unless `required`. Negative numbers are rejected, and so are
    numbers above `max_value` (the bound is in the message). With `duration`,
    ``[H:]MM:SS`` is accepted as well as plain seconds (minutes and seconds below 60: ``1:75``
    is refused); with `percent`, ``85%`` reads as 0.85. A thousands separator (``1,234``)
    is refused: it reads 1234 in one locale and 1.234 in another.

    Examples
    --------
    >>> parse_numbers(pd.Series(["12", "1:30", ""]), file="f", column="aht_s", duration=True)
    array([12., 90., nan])
    >>> parse_numbers(pd.Series(["1,234"]), file="f", column="volume")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: f, row 1, column 'volume': expected a number without a ...
    """
    # fast path: plain numbers; the rest (blanks, thousands separators, H:MM:SS, text) below
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, copy=True)
    slow = np.isnan(arr)
    empty = np.zeros(len(arr), dtype=bool)
    text = values
    if slow.any():
        sub = values[slow].str.strip()
        comma = sub.str.fullmatch(r"[-+]?[\d.]*\d,\d[\d,.]*")
        if comma.any():
            i = int(np.flatnonzero(comma.to_numpy())[0])
            raise InputError(f"expected a number without a thousands separator or decimal "
                             f"comma, got '{sub.iloc[i]}'", file=file,
                             row=int(sub.index[i]) + 1, column=column)
        num = pd.to_numeric(sub, errors="coerce")
        if duration:
            parts = sub.str.extract(_DURATION_RE)
            over = ((parts[0].notna() & (parts[1].astype(float) >= 60))
                    | (parts[2].astype(float) >= 60))
            if over.any():
                i = int(np.flatnonzero(over.to_numpy())[0])
                raise InputError(f"expected [H:]MM:SS with minutes and seconds below 60, got "
                                 f"'{sub.iloc[i]}'", file=file, row=int(sub.index[i]) + 1,
                                 column=column)
            hms = (
                parts[0].astype(float).fillna(0.0) * 3600
                + parts[1].astype(float) * 60
                + parts[2].astype(float)
            )
            num = num.where(num.notna(), hms)
        if percent:
            pct = sub.str.fullmatch(r"[\d.]+\s*%")
            value = pd.to_numeric(sub.str.rstrip("%").str.strip(), errors="coerce") / 100
            num = num.where(~pct, value)
        arr[slow] = num.to_numpy(dtype=float)
        empty[slow] = (sub == "").to_numpy()
        text = values.copy()
        text[slow] = sub
    bad = np.isnan(arr) & ~empty
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = "a duration in seconds or [H:]MM:SS" if duration else "a number"
        raise InputError(f"expected {kind}, got '{text.iloc[i]}'", file=file,
                         row=int(values.index[i]) + 1, column=column)
    if required and empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError("expected a number, got an empty cell", file=file,
                         row=int(values.index[i]) + 1, column=column)
    if np.isinf(arr).any():
        i = int(np.flatnonzero(np.isinf(arr))[0])
        raise InputError(f"expected a finite number, got '{text.iloc[i]}'", file=file,
                         row=int(values.index[i]) + 1, column=column)
    neg = arr < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise InputError(f"expected a number >= 0, got '{text.iloc[i]}'", file=file,
                         row=int(values.index[i]) + 1, column=column)
    if max_value is not None and (arr > max_value).any():
        i = int(np.flatnonzero(arr > max_value)[0])
        raise InputError(f"expected at most {max_value:g}, got '{text.iloc[i]}'", file=file,
                         row=int(values.index[i]) + 1, column=column)
    if percent and (arr > 1).any():
        i = int(np.flatnonzero(arr > 1)[0])
        raise InputError(f"expected a fraction between 0 and 1 (0.85 or 85%), got "
                         f"'{text.iloc[i]}'", file=file, row=int(values.index[i]) + 1,
                         column=column)
    return arr


def parse_times(
    values: pd.Series,
    *,
    tz: ZoneInfo | None,
    file: str,
    column: str,
    groups: pd.Series | None = None,
    resolve_ambiguous: bool = True,
) -> pd.Series:
    """Parse ISO 8601 text to UTC timestamps; naive text is local time in `tz`.

    Ambiguous naive times (fall-back overlap) are resolved per group in file order: the first
    occurrence is the earlier instant, the second the later one (the reverse when the group
    is listed newest first). A single occurrence, any
    ambiguous time when not `resolve_ambiguous` (e.g. call logs, where two contacts may
    share a second), or a nonexistent time (spring-forward gap) raises `InputError` naming
    the row.
    """
    text = values  # the C parsers below ignore surrounding whitespace
    rows = values.index.to_numpy()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    has_offset = text.str.contains(_OFFSET_RE)

    def first_bad(mask: np.ndarray, message: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise InputError(message.format(value=text.iloc[i]), file=file,
                             row=int(rows[i]) + 1, column=column)

    first_bad((text == "").to_numpy(), "expected a date-time, got an empty cell")
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce")
        out[has_offset] = aware
    naive_mask = ~has_offset
    if naive_mask.any():
        try:
            naive = pd.to_datetime(text[naive_mask], format="ISO8601", errors="coerce")
        except (TypeError, ValueError):  # naive and offset times mixed
            naive = pd.Series(pd.NaT, index=text[naive_mask].index, dtype="datetime64[ns]")
        if not isinstance(naive.dtype, np.dtype) or naive.dtype.kind != "M":
            # pandas read an offset our pattern does not accept ("08:30:0+01:00", "+01:0")
            odd = naive_mask & text.str.contains(r"(?:[zZ]|[+-]\d[\d:]*)\s*$").to_numpy()
            first_bad(odd if odd.any() else naive_mask.to_numpy(),
                      "'{value}': expected an ISO 8601 date-time with an offset such as "
                      "2026-03-29T08:30:00+02:00 (or none)")
        parsed_ok = naive.notna()
        if parsed_ok.any() and tz is None:
            first_bad(
                (naive_mask & naive.reindex(values.index).notna()).to_numpy(),
                "'{value}' has no UTC offset: give the site's time zone (tz=, --tz ZONE) "
                "or write the offset, e.g. 2026-03-29T08:00:00+02:00",
            )
        if tz is not None and parsed_ok.any():
            local = naive[parsed_ok]
            _localize_into(out, local, tz, text, file, column, groups, resolve_ambiguous)
    bad = out.isna().to_numpy()
    first_bad(bad, "expected an ISO 8601 date-time such as 2026-03-29T08:30:00+02:00, "
                   "got '{value}'")
    return out


def _localize_into(
    out: pd.Series,
    local: pd.Series,
    tz: ZoneInfo,
    text: pd.Series,
    file: str,
    column: str,
    groups: pd.Series | None,
    resolve_ambiguous: bool = True,
) -> None:
    key = str(tz.key)
    dst_first = local.dt.tz_localize(key, ambiguous=np.ones(len(local), bool), nonexistent="NaT")
    gap = dst_first.isna()
    if gap.any():
        idx = gap[gap].index[0]
        raise InputError(
            f"'{text[idx]}' does not exist in {key} (clocks jump forward over it): "
            "fix the time or write its UTC offset",
            file=file, row=int(idx) + 1, column=column,
        )
    std_later = local.dt.tz_localize(key, ambiguous=np.zeros(len(local), bool),
                                     nonexistent="NaT")
    ambiguous = dst_first != std_later
    is_dst = np.ones(len(local), dtype=bool)
    if ambiguous.any():
        amb = local[ambiguous]
        group = (groups.reindex(amb.index) if groups is not None
                 else pd.Series("", index=amb.index))
        frame = pd.DataFrame({"g": group.to_numpy(), "t": amb.to_numpy()}, index=amb.index)
        occurrence = frame.groupby(["g", "t"]).cumcount()
        count = frame.groupby(["g", "t"])["t"].transform("size")
        single = count == 1 if resolve_ambiguous else count > 0
        if single.any():
            idx = single[single].index[0]
            a, b = dst_first[idx], std_later[idx]
            why = "it appears only once, so" if resolve_ambiguous else "so"
            raise InputError(
                f"'{text[idx]}' happens twice in {key} (clocks fall back): {why} its instant "
                f"is unknown; write its offset "
                f"({a.tz_convert(key).strftime('%z')} for the first, "
                f"{b.tz_convert(key).strftime('%z')} for the second)",
                file=file, row=int(idx) + 1, column=column,
            )
        # a file listed newest first (per group: its last time is before its first) meets
        # the later instant first
        all_groups = (groups.reindex(local.index) if groups is not None
                      else pd.Series("", index=local.index))
        ends = pd.DataFrame({"g": all_groups.to_numpy(), "t": local.to_numpy()}).groupby("g")
        descending = (ends["t"].last() < ends["t"].first()).to_dict()
        newest_first = frame["g"].map(descending).to_numpy(dtype=bool)
        pos = local.index.get_indexer(amb.index)
        is_dst[pos] = (occurrence == 0).to_numpy() != newest_first
    resolved = dst_first.dt.tz_convert("UTC").where(is_dst, std_later.dt.tz_convert("UTC"))
    out[local.index] = resolved


_TIME_OF_DAY_RE = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?(?:\s*[-–]\s*.*)?$"
)


def combine_date_time(
    dates: pd.Series, times: pd.Series, *, file: str, date_column: str, time_column: str
) -> pd.Series:
    """Join a date column and a time-of-day column into naive ISO 8601 text.

    Times may be ``HH:MM[:SS]``, 12-hour with AM/PM, or a range whose start is taken
    (``8:00 AM-8:30 AM``, as in Avaya CMS interval reports).

    Examples
    --------
    >>> combine_date_time(pd.Series(["2026-03-08", "2026-03-08"]),
    ...                   pd.Series(["1:30 AM-2:00 AM", "12:15 PM"]), file="f.csv",
    ...                   date_column="Date", time_column="Interval").tolist()
    ['2026-03-08T01:30:00', '2026-03-08T12:15:00']
    """
    d = pd.to_datetime(dates, format="ISO8601", errors="coerce")
    has_clock = dates.str.contains(":", regex=False).to_numpy(dtype=bool)
    bad = (d.isna().to_numpy() | has_clock | (d.dt.normalize() != d).to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"expected a date YYYY-MM-DD, got '{dates.iloc[i]}'", file=file,
                         row=int(dates.index[i]) + 1, column=date_column)
    parts = times.str.strip().str.extract(_TIME_OF_DAY_RE)
    h = pd.to_numeric(parts[0], errors="coerce")
    m = pd.to_numeric(parts[1], errors="coerce")
    sec = pd.to_numeric(parts[2], errors="coerce").fillna(0)
    ampm = parts[3].str.lower().str.replace(".", "", regex=False)
    twelve = ampm.notna()
    bad = (h.isna() | (m > 59) | (sec > 59) | (twelve & ((h < 1) | (h > 12)))
           | (~twelve & (h > 23))).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"expected a time of day such as 08:30 or 8:30 AM, got "
                         f"'{times.iloc[i]}'", file=file, row=int(times.index[i]) + 1,
                         column=time_column)
    h = h.where(~twelve, (h % 12) + np.where(ampm == "pm", 12, 0))
    clock = (h.astype(int).astype(str).str.zfill(2) + ":" + m.astype(int).astype(str).str.zfill(2)
             + ":" + sec.astype(int).astype(str).str.zfill(2))
    return d.dt.strftime("%Y-%m-%d") + "T" + clock


def infer_interval_s(
    starts: pd.Series, queues: pd.Series, *, file: str, column: str, interval_s: int | None
) -> int:
    """Infer (or check) the interval length from the steps between consecutive intervals.

    The inferred length is the most common step within a queue; every step must be a whole
    multiple of it. Raises `InputError` naming the first row whose step breaks the grid.
    """
    frame = pd.DataFrame({"q": queues.to_numpy(), "t": starts}, index=starts.index)
    frame = frame.sort_values(["q", "t"], kind="stable")
    step = frame.groupby("q")["t"].diff().dt.total_seconds()
    valid = step.dropna()
    if interval_s is None:
        if valid.empty:
            raise InputError(
                "cannot infer the interval length from one interval per queue: "
                "give it (interval_s=, --interval 30m)", file=file, column=column)
        interval_s = int(valid.round().astype(np.int64).mode().min())
    if interval_s <= 0:
        raise InputError(f"interval length must be > 0 s, got {interval_s}", file=file)
    off = (valid % interval_s) != 0
    if off.any():
        idx = off[off].index.min()
        prev = frame["t"].shift(1)[idx]
        raise InputError(
            f"interval starts {valid[idx] / 60:g} min after the previous one of its queue "
            f"({prev:%Y-%m-%d %H:%M}Z): mixed interval lengths, expected steps of "
            f"{interval_s / 60:g} min",
            file=file, row=int(idx) + 1, column=column,
        )
    return int(interval_s)


def read_interval_csv(
    path: str | os.PathLike[str],
    *,
    tz: str | None = None,
    mapping: Mapping[str, str] | str | os.PathLike[str] | None = None,
    interval_s: int | None = None,
) -> IntervalTable:
    """Read an ACD interval report (CSV/TSV/semicolon) into an interval table.

    Parameters
    ----------
    path : path-like
        The CSV file. The delimiter (comma, semicolon, tab) is detected from the header.
    tz : str, optional
        IANA zone of naive ``interval_start`` values (local wall-clock time). Values that
        carry an offset ignore it.
    mapping : dict or path, optional
        Vendor column -> openwfm column renames (see `load_mapping`).
    interval_s : int, optional
        Interval length in seconds; inferred from the data when omitted.

    Returns
    -------
    IntervalTable
        ``frame`` has ``interval_start`` (UTC), ``queue`` (``"all"`` when the file has no
        queue column), ``volume`` and any optional numeric columns as float, sorted by
        queue and interval; other columns pass through as text.

    Raises
    ------
    InputError
        Naming file, 1-based data row and column: missing required column, unparseable or
        nonexistent/ambiguous time, duplicated (queue, interval), negative or non-numeric
        value, step not a multiple of the interval length.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "acd.csv"
    >>> _ = p.write_text("Interval,Calls Offered,AHT\\n"
    ...                  "2026-03-29 01:00,10,3:00\\n2026-03-29 01:30,12,200\\n"
    ...                  "2026-03-29 03:00,9,190\\n")
    >>> t = read_interval_csv(p, tz="Europe/Paris",
    ...                       mapping={"Interval": "interval_start", "Calls Offered": "volume",
    ...                                "AHT": "aht_s"})
    >>> t.interval_s
    1800
    >>> print(t.frame[["interval_start", "volume", "aht_s"]].to_string(index=False))
               interval_start  volume  aht_s
    2026-03-29 00:00:00+00:00    10.0  180.0
    2026-03-29 00:30:00+00:00    12.0  200.0
    2026-03-29 01:00:00+00:00     9.0  190.0
    """
    path = Path(path)
    name = path.name
    renames = load_mapping(mapping)
    zone = _zone(tz, name)
    raw = read_text_table(path)
    missing_src = [src for src in renames if src not in raw.columns]
    missing_dst = [dst for src, dst in renames.items() if src in missing_src]
    # a mapping entry may be absent if the file already uses the openwfm name
    really_missing = [s for s, d in zip(missing_src, missing_dst, strict=True)
                      if d not in raw.columns]
    original = {c: c for c in raw.columns}
    for src, dst in renames.items():
        if src in raw.columns:
            original[dst] = src
    df = raw.rename(columns=renames)
    if df.columns.duplicated().any():
        dup = sorted(set(df.columns[df.columns.duplicated()]))
        raise InputError(f"column(s) {dup} appear twice (after applying the mapping)", file=name)
    for col in REQUIRED_COLUMNS:
        if col not in df.columns:
            hint = ""
            mapped_from = [s for s, d in renames.items() if d == col]
            if mapped_from and mapped_from[0] in really_missing:
                hint = f" (the mapping reads it from '{mapped_from[0]}', which is not in the file)"
            raise InputError(
                f"missing required column '{col}'{hint}; the file has {list(raw.columns)}. "
                "Map vendor columns with a mapping, e.g. \"Calls Offered\" = \"volume\"",
                file=name, column=col,
            )
    if really_missing:
        raise InputError(f"the mapping names column(s) {really_missing} that are not in the "
                         f"file; the file has {list(raw.columns)}", file=name,
                         column=really_missing[0])
    if df.empty:
        raise InputError("no data rows", file=name)
    colname = original.get
    if "queue" in df.columns:
        queue = strip_text(df["queue"])
        empty = queue == ""
        if empty.any():
            idx = empty[empty].index[0]
            raise InputError("expected a queue name, got an empty cell", file=name,
                             row=int(idx) + 1, column=colname("queue", "queue"))
    else:
        queue = pd.Series(DEFAULT_QUEUE, index=df.index)
    start_text = df["interval_start"]
    if "date" in df.columns:
        start_text = combine_date_time(df["date"], df["interval_start"], file=name,
                                       date_column=colname("date", "date"),
                                       time_column=colname("interval_start", "interval_start"))
    starts = parse_times(start_text, tz=zone, file=name,
                         column=colname("interval_start", "interval_start"), groups=queue)
    out = pd.DataFrame({"interval_start": starts, "queue": queue.astype(str)}, index=df.index)
    numeric = COUNT_COLUMNS + DURATION_COLUMNS + OTHER_NUMERIC_COLUMNS
    for col in df.columns:
        if col in ("interval_start", "queue", "date"):
            continue
        if col in numeric:
            out[col] = parse_numbers(df[col], file=name, column=colname(col, col),
                                     duration=col in DURATION_COLUMNS,
                                     required=col == "volume",
                                     percent=col == "service_level",
                                     max_value=MAX_DURATION_S if col in DURATION_COLUMNS
                                     else None if col == "service_level"
                                     else MAX_INTERVAL_COUNT)
        else:
            out[col] = df[col]
    dup = out.duplicated(["queue", "interval_start"], keep="first")
    if dup.any():
        idx = dup[dup].index[0]
        q, t = out.loc[idx, "queue"], out.loc[idx, "interval_start"]
        same = out.index[(out["queue"] == q) & (out["interval_start"] == t)][0]
        raise InputError(
            f"duplicated interval: queue '{q}' at {t:%Y-%m-%d %H:%M}Z "
            f"is already on row {int(same) + 1}",
            file=name, row=int(idx) + 1, column=colname("interval_start", "interval_start"),
        )
    step = infer_interval_s(out["interval_start"], out["queue"], file=name,
                            column=colname("interval_start", "interval_start"),
                            interval_s=interval_s)
    out = out.sort_values(["queue", "interval_start"], kind="stable").reset_index(drop=True)
    return IntervalTable(frame=out, interval_s=step, source=name)


def check_queues(frame: pd.DataFrame, known: Sequence[str], *, file: str,
                 what: str = "the scenario") -> None:
    """Refuse a history whose queues are not those of `what` (a plan computed from a history
    of other queues is 0 everywhere, without a word).

    Examples
    --------
    >>> f = pd.DataFrame({"queue": ["fr", "zz"]})
    >>> check_queues(f, ["fr", "nl"], file="h.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: h.csv, column 'queue': queue 'zz' is not a queue of the ...
    """
    have = [str(q) for q in pd.unique(frame["queue"])] if "queue" in frame.columns else []
    unknown = [q for q in have if q not in set(known)]
    if unknown:
        raise InputError(f"queue '{unknown[0]}' is not a queue of {what} (its queues: "
                         f"{', '.join(known)})", file=file, column="queue")


def write_interval_csv(
    table: IntervalTable | pd.DataFrame, path: str | os.PathLike[str], *, tz: str | None = None
) -> Path:
    """Write an interval table to CSV atomically; times as ISO 8601 with their offset.

    Times are written in UTC (``+00:00``) or, with `tz`, as local time with the local offset,
    so that the file reads back to the same instants with `read_interval_csv`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> df = pd.DataFrame({"interval_start": pd.to_datetime(["2026-01-05 08:00"], utc=True),
    ...                    "queue": ["fr_voice"], "volume": [12.0]})
    >>> p = write_interval_csv(df, pathlib.Path(tempfile.mkdtemp()) / "out.csv",
    ...                        tz="Africa/Casablanca")
    >>> print(p.read_text().strip())
    interval_start,queue,volume
    2026-01-05T09:00:00+01:00,fr_voice,12.0
    """
    frame = table.frame if isinstance(table, IntervalTable) else table
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            local = out[col].dt.tz_convert(tz) if tz else out[col]
            text = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
            out[col] = text.str.replace(r"([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)
    target = Path(path)
    with atomic_path(target) as tmp:
        out.to_csv(tmp, index=False, float_format=None)
    return target

