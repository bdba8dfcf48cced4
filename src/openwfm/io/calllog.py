"""Read call-by-call ACD logs and aggregate them into interval tables.

A *call log* (see ``docs/architecture.md``) is a DataFrame with one row per contact:

``arrival``
    UTC instant the contact asked for an agent (entered the ACD queue, or left the IVR
    when it did not queue).
``queue``
    Queue (service type) name.
``outcome``
    ``"served"`` (answered by an agent), ``"abandoned"`` (hung up before being answered)
    or ``"other"`` (unidentifiable, e.g. the bank's PHANTOM calls).
``wait_s``
    Time in queue in seconds (0 for contacts that did not queue).
``handle_s``
    Service (talk) time of served contacts in seconds; NaN when the contact was not served.
``agent``
    Agent who served it (missing when not served).
``priority``
    Integer priority (missing when the source has none).

Readers may add ``queued`` (the contact entered the queue), ``service_start`` (UTC) and,
for the bank format, ``vru_entry`` (UTC), ``vru_s``, ``call_id``, ``customer_id``.

Definitions used by `aggregate_intervals` (openwfm's, see ``REFERENCES.md``):
volume (offered) = served + abandoned contacts arriving in the interval ("other" is counted
apart); ``service_level`` = contacts answered within ``answer_within_s`` (wait <= threshold)
/ offered, abandons count as failures; ``asa_s`` = mean wait of answered contacts;
``aht_s`` = mean handle time of answered contacts.

References
----------
.. [1] Brown, L., Gans, N., Mandelbaum, A., Sakov, A., Shen, H., Zeltyn, S. & Zhao, L.
   (2005). Statistical analysis of a telephone call center: a queueing-science perspective.
   Journal of the American Statistical Association 100(469), 36-50.
.. [2] Technion SEE laboratory (A. Mandelbaum, I. Guedj), "Anonymous Bank" call-center data
   and documentation (AnonymousBank.pdf).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

from openwfm.errors import InputError
from openwfm.io.intervals import (
    DEFAULT_QUEUE,
    _zone,
    load_mapping,
    parse_numbers,
    parse_times,
    read_text_table,
    strip_text,
)

__all__ = [
    "CALL_LOG_COLUMNS",
    "CallLogFormat",
    "Outcome",
    "aggregate_intervals",
    "read_call_log",
    "with_aht_rule",
]

Outcome = Literal["served", "abandoned", "other"]
CallLogFormat = Literal["anonymous_bank", "csv"]
CALL_LOG_COLUMNS: tuple[str, ...] = (
    "arrival", "queue", "outcome", "wait_s", "handle_s", "agent", "priority",
)

_BANK_COLUMNS = (
    "vru+line", "call_id", "customer_id", "priority", "type", "date", "vru_entry", "vru_exit",
    "vru_time", "q_start", "q_exit", "q_time", "outcome", "ser_start", "ser_exit", "ser_time",
    "server",
)
#: Bounds of a call log's values (docs/errors.md): a wait or a handle time above a day, or a
#: priority beyond a million, is garbage that would inflate every later interval.
MAX_CALL_DURATION_S = 86_400.0
MAX_PRIORITY = 1_000_000
# a queue name that reads as a non-integer number (1e300, 2.5, nan, inf) is a shifted column
_NUMBER_NAME = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][-+]?\d+|nan|inf(?:inity)?)",
                          re.IGNORECASE)


def check_names(values: pd.Series, *, file: str, column: str, what: str = "a queue name"
                ) -> None:
    """Refuse empty names and names that read as a non-integer number (a shifted column).

    Examples
    --------
    >>> check_names(pd.Series(["PS", "101"]), file="f", column="type")
    >>> check_names(pd.Series(["PS", "1e300"]), file="f", column="type")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: f, row 2, column 'type': expected a queue name, got the ...
    """
    names = pd.Series(pd.unique(values))
    if (names == "").any():
        idx = int(np.flatnonzero((values == "").to_numpy())[0])
        raise InputError(f"expected {what}, got an empty cell", file=file,
                         row=int(values.index[idx]) + 1, column=column)
    bad = [n for n in names if _NUMBER_NAME.fullmatch(str(n))]
    if bad:
        idx = int(np.flatnonzero(values.isin(bad).to_numpy())[0])
        raise InputError(f"expected {what}, got the number '{values.iloc[idx]}'", file=file,
                         row=int(values.index[idx]) + 1, column=column)


def _check_unique(df: pd.DataFrame, keys: list[str], *, file: str, column: str) -> None:
    """Refuse a contact listed twice (same id): it would be counted twice."""
    dup = df.duplicated(keys, keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        row = df.iloc[i]
        first = int(np.flatnonzero((df[keys] == row[keys]).all(axis=1).to_numpy())[0])
        raise InputError(f"contact '{' '.join(str(row[k]).strip() for k in keys)}' is "
                         f"listed twice (first on row {int(df.index[first]) + 1}): it would "
                         "be counted twice", file=file, row=int(df.index[i]) + 1,
                         column=column)


_BANK_OUTCOMES = {"AGENT": "served", "HANG": "abandoned", "PHANTOM": "other"}
_OUTCOME_WORDS = {
    "served": "served", "answered": "served", "handled": "served", "agent": "served",
    "abandoned": "abandoned", "abandon": "abandoned", "hang": "abandoned",
    "other": "other", "phantom": "other",
}
_NO_AGENT = {"", "NO_SERVER"}
_BOOLEAN_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True,
                  "no": False}


#: The zone of a log format's local wall-clock times when the caller gives none.
FORMAT_ZONES: dict[str, str] = {"anonymous_bank": "Asia/Jerusalem"}


def log_zone(format: str, tz: str | None = None) -> str:
    """The zone of a log's local times and of its interval grid: `tz` when given, else the
    format's own (`FORMAT_ZONES`), else UTC.

    Examples
    --------
    >>> log_zone("anonymous_bank"), log_zone("csv"), log_zone("csv", "Africa/Casablanca")
    ('Asia/Jerusalem', 'UTC', 'Africa/Casablanca')
    """
    return tz or FORMAT_ZONES.get(format, "UTC")


def summarize_calls(calls: pd.DataFrame, *, answer_within_s: float,
                    short_abandon_s: float | None = None) -> pd.DataFrame:
    """One row per queue and one for all queues (``queue = "all"``): what the log says about
    service.

    Columns: ``queue``, ``offered`` (served + abandoned, short abandons left out when
    `short_abandon_s` is given), ``handled``, ``abandoned``, ``aht_s`` and ``asa_s`` (means
    over served contacts), ``service_level`` (served within `answer_within_s` / offered),
    ``patience_s`` with its 95 % interval ``patience_lo_s`` / ``patience_hi_s`` (exponential
    MLE over every abandon, short ones included; NaN without abandons) and
    ``patience_abandons``. The same definitions as `aggregate_intervals`.

    Examples
    --------
    >>> calls = pd.DataFrame({"queue": ["a", "a", "a", "b"],
    ...     "outcome": ["served", "served", "abandoned", "other"],
    ...     "wait_s": [5.0, 40.0, 10.0, 0.0], "handle_s": [100.0, 300.0, None, None]})
    >>> s = summarize_calls(calls, answer_within_s=20).set_index("queue")
    >>> [int(s.loc["a", c]) for c in ("offered", "handled", "abandoned")]
    [3, 2, 1]
    >>> float(s.loc["a", "aht_s"]), float(s.loc["a", "asa_s"])
    (200.0, 22.5)
    >>> round(float(s.loc["a", "service_level"]), 4), float(s.loc["all", "offered"])
    (0.3333, 3.0)
    """
    from openwfm.io.patience import estimate_patience

    rows = []
    groups = [*calls.groupby("queue", sort=True), ("all", calls)]
    for name, sub in groups:
        est = estimate_patience(sub)  # patience uses every abandon, short ones included
        if short_abandon_s is not None:
            sub = sub[~((sub["outcome"] == "abandoned") & (sub["wait_s"] < short_abandon_s))]
        served = sub["outcome"] == "served"
        offered = int((sub["outcome"] != "other").sum())
        within = int((served & (sub["wait_s"] <= answer_within_s)).sum())
        rows.append({
            "queue": str(name), "offered": offered, "handled": int(served.sum()),
            "abandoned": int((sub["outcome"] == "abandoned").sum()),
            "aht_s": float(sub.loc[served, "handle_s"].mean()) if served.any() else np.nan,
            "asa_s": float(sub.loc[served, "wait_s"].mean()) if served.any() else np.nan,
            "service_level": within / offered if offered else np.nan,
            "patience_s": est.mean_s if est.abandons else np.nan,
            "patience_lo_s": est.ci_low_s if est.abandons else np.nan,
            "patience_hi_s": est.ci_high_s if est.abandons else np.nan,
            "patience_abandons": int(est.abandons),
        })
    return pd.DataFrame(rows)


def read_call_log(
    path: str | os.PathLike[str],
    *,
    tz: str | None = None,
    format: CallLogFormat = "anonymous_bank",
    mapping: Mapping[str, str] | str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Read a call-by-call log into the call-log shape (one row per contact, UTC times).

    Parameters
    ----------
    path : path-like
        The log file.
    tz : str, optional
        IANA zone of the local wall-clock times in the file. Default: ``Asia/Jerusalem``
        (the bank's) for ``format="anonymous_bank"``; none for ``format="csv"``, where
        times must then carry an offset (times with an offset always ignore `tz`).
    format : {"anonymous_bank", "csv"}
        ``"anonymous_bank"``: the Technion SEE "Anonymous Bank" tab-separated layout [2]_
        (``date`` yymmdd, ``H:MM:SS`` times where ``0:00:00`` means "did not happen", times
        after midnight belong to the next day, outcome AGENT/HANG/PHANTOM, server
        NO_SERVER = none). ``"csv"``: a generic log with columns ``arrival`` (ISO 8601),
        ``outcome`` (served/answered, abandoned, other), ``wait_s`` and optional ``queue``,
        ``handle_s``, ``agent``, ``priority``, ``queued`` (true/false; default: waited or
        abandoned), ``service_start`` (ISO 8601; default: arrival + wait); `mapping` renames
        vendor columns. A file written from a call log (``DataFrame.to_csv``) reads back.
    mapping : dict or path, optional
        Vendor column -> openwfm column renames for ``format="csv"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``arrival`` (``datetime64[ns, UTC]``), ``queue``, ``outcome``, ``wait_s``,
        ``handle_s``, ``agent``, ``priority`` (nullable Int64), ``queued`` and
        ``service_start`` (UTC, NaT when not served); the bank format adds ``vru_entry``,
        ``vru_s``, ``call_id``, ``customer_id``. Rows keep the file's order.

    Raises
    ------
    InputError
        Naming the file, 1-based data row and column of the first bad field.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("arrival,queue,outcome,wait_s,handle_s,agent\\n"
    ...                  "2026-02-16 09:00:05,fr,answered,12,200,amina\\n"
    ...                  "2026-02-16 09:00:40,fr,abandoned,35,,\\n")
    >>> calls = read_call_log(p, tz="Africa/Casablanca", format="csv")
    >>> calls[["arrival", "outcome", "wait_s", "handle_s"]]
                        arrival    outcome  wait_s  handle_s
    0 2026-02-16 09:00:05+00:00     served    12.0     200.0
    1 2026-02-16 09:00:40+00:00  abandoned    35.0       NaN
    """
    if format not in get_args(CallLogFormat):
        raise InputError(f"unknown call-log format '{format}': expected one of "
                         f"{list(get_args(CallLogFormat))}", file=Path(path).name)
    if format == "anonymous_bank":
        return _read_bank(Path(path), log_zone(format, tz))
    return _read_generic(Path(path), tz, mapping)


def _bad(df: pd.DataFrame, mask: np.ndarray | pd.Series, file: str, column: str,
         message: str) -> None:
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        value = df[column].iloc[i] if column in df.columns else ""
        raise InputError(message.format(value=value), file=file,
                         row=int(df.index[i]) + 1, column=column)


def _clock_seconds(df: pd.DataFrame, column: str, file: str) -> np.ndarray:
    """Seconds since midnight of ``H:MM:SS`` / ``HH:MM:SS`` text, parsed as code points."""
    raw = df[column].to_numpy(dtype=str).astype("U9")
    cp = raw.view(np.int32).reshape(len(raw), 9)
    length = (cp != 0).sum(axis=1)
    long = length == 8
    digit = cp - ord("0")

    def at(short_pos: int) -> np.ndarray:  # the character at a position of H:MM:SS
        return np.where(long, digit[:, short_pos + 1], digit[:, short_pos])

    colon = ord(":") - ord("0")
    digits = [at(p) for p in (2, 3, 5, 6)]
    h_tens = np.where(long, digit[:, 0], 0)
    h_ones = at(0)
    ok = (((length == 7) | long) & (at(1) == colon) & (at(4) == colon)
          & np.all([(d >= 0) & (d <= 9) for d in [h_tens, h_ones, *digits]], axis=0))
    _bad(df, ~ok, file, column, "expected a clock time H:MM:SS, got '{value}'")
    h = h_tens * 10 + h_ones
    m = digits[0] * 10 + digits[1]
    sec = digits[2] * 10 + digits[3]
    _bad(df, (h > 23) | (m > 59) | (sec > 59), file, column,
         "expected a clock time H:MM:SS within a day, got '{value}'")
    return (h * 3600 + m * 60 + sec).astype(np.int64)


def _read_bank(path: Path, tz: str) -> pd.DataFrame:
    name = path.name
    zone = _zone(tz, name)
    df = read_text_table(path)
    missing = [c for c in _BANK_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"not an Anonymous Bank call log: missing column(s) {missing}; "
            "expected the tab-separated layout " + ", ".join(_BANK_COLUMNS),
            file=name, column=missing[0],
        )
    if df.empty:
        raise InputError("no data rows", file=name)
    date = pd.to_datetime(df["date"].str.strip(), format="%y%m%d", errors="coerce")
    _bad(df, date.isna().to_numpy(), name, "date", "expected a date yymmdd, got '{value}'")
    secs = {c: _clock_seconds(df, c, name)
            for c in ("vru_entry", "vru_exit", "q_start", "q_exit", "ser_start", "ser_exit")}
    happened = {c: v != 0 for c, v in secs.items()}
    _bad(df, ~happened["vru_entry"], name, "vru_entry",
         "expected the time the call entered the IVR, got '{value}'")
    # events of a call that started before midnight and happened after it belong to the
    # next day; an event a few seconds "before" the IVR entry is clock skew between the
    # systems (the file's vru_time is negative there), not a day later
    entry = secs["vru_entry"]
    for c in ("vru_exit", "q_start", "q_exit", "ser_start", "ser_exit"):
        next_day = happened[c] & (entry - secs[c] > 12 * 3600)
        secs[c] = np.where(next_day, secs[c] + 86400, secs[c])
    outcome_raw = strip_text(df["outcome"])
    outcome = outcome_raw.map(_BANK_OUTCOMES)
    _bad(df, outcome.isna().to_numpy(), name, "outcome",
         "expected AGENT, HANG or PHANTOM, got '{value}'")
    nums = {c: parse_numbers(df[c], file=name, column=c, required=True,
                             max_value=MAX_PRIORITY if c == "priority" else MAX_CALL_DURATION_S)
            for c in ("priority", "q_time", "ser_time")}
    _bad(df, nums["priority"] != np.round(nums["priority"]), name, "priority",
         "expected an integer priority, got '{value}'")
    queue = strip_text(df["type"])
    check_names(queue, file=name, column="type", what="a service type")
    _check_unique(df, ["vru+line", "call_id", "date", "vru_entry"], file=name, column="call_id")
    served = (outcome == "served").to_numpy()
    queued = happened["q_start"]
    # arrival to the ACD: queue entry, or IVR exit when the call did not queue
    arrival_s = np.where(queued, secs["q_start"], secs["vru_exit"])
    base = date.to_numpy()
    zone_key = str(zone.key) if zone is not None else "UTC"

    def to_utc(seconds: np.ndarray, column: str | np.ndarray,
               used: np.ndarray | None = None) -> pd.Series:
        """Localize date + seconds; rows not `used` get a harmless noon placeholder."""
        if used is not None:
            seconds = np.where(used, seconds, 12 * 3600)
        local = pd.Series(base + seconds.astype("timedelta64[s]"), index=df.index)
        out = local.dt.tz_localize(zone_key, ambiguous="NaT", nonexistent="NaT")
        bad = out.isna().to_numpy()
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            col = str(np.broadcast_to(np.asarray(column), bad.shape)[first])
            _bad(df, np.arange(len(bad)) == first, name, col,
                 f"local time '{{value}}' on that date does not exist or happens twice in "
                 f"{zone_key} (DST change): the instant is unknown")
        out = out.dt.tz_convert("UTC")
        return out if used is None else out.where(used)

    arrival = to_utc(arrival_s, np.where(queued, "q_start", "vru_exit"))
    vru_entry = to_utc(entry, "vru_entry")
    service_start = to_utc(secs["ser_start"], "ser_start", used=happened["ser_start"])
    wait_s = np.where(queued, nums["q_time"], 0.0)
    # served calls keep ser_time even without a recorded service start (50 AGENT rows of
    # February 1999 have ser_start 0:00:00 and ser_time 0); abandoned calls have none
    handle_s = np.where(served | (happened["ser_start"] & (outcome == "other")),
                        nums["ser_time"], np.nan)
    agent = strip_text(df["server"])
    agent = agent.where(~agent.isin(_NO_AGENT), None)
    out = pd.DataFrame({
        "arrival": arrival,
        "queue": queue.astype(str),
        "outcome": outcome.astype(str),
        "wait_s": wait_s.astype(float),
        "handle_s": handle_s.astype(float),
        "agent": agent.astype(object),
        "priority": pd.array(nums["priority"].astype(np.int64), dtype="Int64"),
        "queued": queued,
        "service_start": service_start,
        "vru_entry": vru_entry,
        # from the clock times: the file's vru_time is negative on a few rows
        "vru_s": (secs["vru_exit"] - entry).astype(float),
        "call_id": df["call_id"].str.strip(),
        "customer_id": df["customer_id"].str.strip(),
    })
    return out.reset_index(drop=True)


def _read_generic(path: Path, tz: str | None,
                  mapping: Mapping[str, str] | str | os.PathLike[str] | None) -> pd.DataFrame:
    name = path.name
    renames = load_mapping(mapping)
    zone = _zone(tz, name)
    raw = read_text_table(path)
    original = {c: c for c in raw.columns}
    for src, dst in renames.items():
        if src in raw.columns:
            original[dst] = src
    df = raw.rename(columns=renames)
    for col in ("arrival", "outcome", "wait_s"):
        if col not in df.columns:
            raise InputError(
                f"missing required column '{col}'; the file has {list(raw.columns)}. "
                "A call log needs arrival, outcome, wait_s (and queue, handle_s, agent, "
                "priority when known); map vendor columns with a mapping",
                file=name, column=col,
            )
    if df.empty:
        raise InputError("no data rows", file=name)
    col = original.get
    arrival = parse_times(df["arrival"], tz=zone, file=name, column=col("arrival", "arrival"),
                          resolve_ambiguous=False)
    words = strip_text(df["outcome"], lower=True)
    outcome = words.map(_OUTCOME_WORDS)
    if outcome.isna().any():
        idx = outcome[outcome.isna()].index[0]
        raise InputError(
            f"expected served (answered), abandoned or other, got '{df['outcome'][idx]}'",
            file=name, row=int(idx) + 1, column=col("outcome", "outcome"))
    wait_s = parse_numbers(df["wait_s"], file=name, column=col("wait_s", "wait_s"),
                           duration=True, required=True, max_value=MAX_CALL_DURATION_S)
    if "call_id" in df.columns:  # ids may repeat across lines (the bank's): id + arrival
        _check_unique(df, ["call_id", "arrival"], file=name,
                      column=col("call_id", "call_id"))
    served = (outcome == "served").to_numpy()
    if "handle_s" in df.columns:
        handle_s = parse_numbers(df["handle_s"], file=name, column=col("handle_s", "handle_s"),
                                 duration=True, max_value=MAX_CALL_DURATION_S)
        no_handle = served & np.isnan(handle_s)
        if no_handle.any():
            idx = df.index[np.flatnonzero(no_handle)[0]]
            raise InputError("a served contact needs its handle time, got an empty cell",
                             file=name, row=int(idx) + 1, column=col("handle_s", "handle_s"))
        handle_s = np.where(served, handle_s, np.nan)
    else:
        handle_s = np.full(len(df), np.nan)
    if "queue" in df.columns:
        queue = strip_text(df["queue"])
        check_names(queue, file=name, column=col("queue", "queue"))
    else:
        queue = pd.Series(DEFAULT_QUEUE, index=df.index)
    agent = (strip_text(df["agent"]) if "agent" in df.columns
             else pd.Series("", index=df.index))
    agent = agent.where(agent != "", None).where(served, None)
    if "priority" in df.columns:
        prio = parse_numbers(df["priority"], file=name, column=col("priority", "priority"),
                             max_value=MAX_PRIORITY)
        frac = ~np.isnan(prio) & (prio != np.round(prio))
        if frac.any():
            idx = df.index[np.flatnonzero(frac)[0]]
            raise InputError(f"expected an integer priority, got '{df['priority'][idx]}'",
                             file=name, row=int(idx) + 1, column=col("priority", "priority"))
        priority = pd.array(np.where(np.isnan(prio), 0, prio).astype(np.int64), dtype="Int64")
        priority[np.isnan(prio)] = pd.NA
    else:
        priority = pd.array([pd.NA] * len(df), dtype="Int64")
    wait_td = pd.to_timedelta(wait_s, unit="s")
    service_start = (arrival + wait_td).where(served)
    if "service_start" in df.columns:
        given = df["service_start"].str.strip() != ""
        if given.any():
            parsed = parse_times(df.loc[given, "service_start"], tz=zone, file=name,
                                 column=col("service_start", "service_start"),
                                 resolve_ambiguous=False)
            service_start = service_start.copy()
            service_start[given] = parsed
    queued = (wait_s > 0) | (outcome == "abandoned").to_numpy()
    if "queued" in df.columns:
        flag = strip_text(df["queued"], lower=True).map(_BOOLEAN_WORDS)
        if flag.isna().any():
            idx = flag[flag.isna()].index[0]
            raise InputError(f"expected true or false, got '{df['queued'][idx]}'", file=name,
                             row=int(idx) + 1, column=col("queued", "queued"))
        queued = flag.to_numpy(dtype=bool)
    out = pd.DataFrame({
        "arrival": arrival,
        "queue": queue.astype(str),
        "outcome": outcome.astype(str),
        "wait_s": wait_s,
        "handle_s": handle_s,
        "agent": agent.astype(object),
        "priority": priority,
        "queued": queued,
        "service_start": service_start,
    })
    return out.reset_index(drop=True)


def _check_calls(calls: pd.DataFrame) -> None:
    missing = [c for c in ("arrival", "queue", "outcome", "wait_s", "handle_s")
               if c not in calls.columns]
    if missing:
        raise InputError(f"not a call log: missing column(s) {missing}", column=missing[0])
    if not isinstance(calls["arrival"].dtype, pd.DatetimeTZDtype):
        raise InputError("expected timezone-aware arrival times (UTC)", column="arrival")
    bad = ~calls["outcome"].isin(get_args(Outcome))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"expected outcome in {list(get_args(Outcome))}, "
                         f"got '{calls['outcome'].iloc[i]}'", row=i + 1, column="outcome")


def aggregate_intervals(
    calls: pd.DataFrame,
    *,
    interval_s: int = 1800,
    answer_within_s: float = 20.0,
    tz: str = "UTC",
    short_abandon_s: float | None = None,
) -> pd.DataFrame:
    """Aggregate a call log into an interval table on a complete grid per queue.

    Each contact is attributed to the interval its ``arrival`` falls in. The grid is aligned
    on local interval boundaries in `tz` (e.g. 09:00, 09:30 site time) and covers the whole
    observed span (first to last arrival of the log) for every queue: intervals without
    arrivals (including closed hours) are rows of zeros, never missing, so a forecaster sees
    a regular series.

    Parameters
    ----------
    calls : pandas.DataFrame
        A call log (see `read_call_log`).
    interval_s : int
        Interval length in seconds; must divide an hour (e.g. 900, 1800, 3600), so that
        local boundaries stay aligned across DST and Ramadan changes.
    answer_within_s : float
        Service-level threshold: a served contact with ``wait_s <= answer_within_s`` counts
        in ``answered_within``.
    tz : str
        IANA zone whose local clock the interval boundaries follow.
    short_abandon_s : float, optional
        If given, abandons with ``wait_s < short_abandon_s`` ("short abandons", e.g. callers
        who hang up within 5 s) are left out of ``volume`` and ``abandoned`` and counted in
        an extra column ``short_abandoned``. Default: every abandon is offered.

    Returns
    -------
    pandas.DataFrame
        ``interval_start`` (UTC), ``queue``, ``volume`` (offered = served + abandoned),
        ``handled``, ``abandoned``, ``other`` (counted apart from offered), ``aht_s`` (mean
        ``handle_s`` of handled, NaN when none), ``asa_s`` (mean wait of handled),
        ``answered_within``, ``service_level`` (answered_within / volume, NaN when no
        volume), ``agents_observed`` (distinct agents serving contacts of the queue at any
        moment of the interval), ``busy_agents`` (agent-seconds serving the queue within
        the interval / interval_s). Sorted by queue and interval.

    References
    ----------
    .. [1] Brown et al. (2005), JASA 100(469), 36-50 (Anonymous Bank: interval statistics).

    Examples
    --------
    >>> t = pd.to_datetime(["2026-02-16 09:05", "2026-02-16 09:20", "2026-02-16 10:10"],
    ...                    utc=True)
    >>> calls = pd.DataFrame({"arrival": t, "queue": "fr", "outcome": ["served", "abandoned",
    ...     "served"], "wait_s": [5.0, 40.0, 30.0], "handle_s": [600.0, np.nan, 100.0],
    ...     "agent": ["amina", None, "amina"]})
    >>> agg = aggregate_intervals(calls, interval_s=1800, answer_within_s=20)
    >>> print(agg[["interval_start", "volume", "answered_within", "service_level",
    ...            "busy_agents"]].to_string(index=False))
               interval_start  volume  answered_within  service_level  busy_agents
    2026-02-16 09:00:00+00:00     2.0              1.0            0.5     0.333333
    2026-02-16 09:30:00+00:00     0.0              0.0            NaN     0.000000
    2026-02-16 10:00:00+00:00     1.0              0.0            0.0     0.055556
    """
    _check_calls(calls)
    interval_s = int(interval_s)
    if interval_s <= 0 or 3600 % interval_s:
        raise InputError(f"interval length must divide an hour (e.g. 900, 1800, 3600 s), "
                         f"got {interval_s} s", column="interval_s")
    if short_abandon_s is not None and not short_abandon_s >= 0:
        raise InputError(f"short_abandon_s must be >= 0, got {short_abandon_s}",
                         column="short_abandon_s")
    if not answer_within_s >= 0:
        raise InputError(f"answer_within_s must be >= 0, got {answer_within_s}",
                         column="answer_within_s")
    zone = _zone(tz, None)
    zone_key = str(zone.key) if zone is not None else "UTC"
    step = pd.Timedelta(seconds=interval_s)
    columns = ["interval_start", "queue", "volume", "handled", "abandoned", "other", "aht_s",
               "asa_s", "answered_within", "service_level", "agents_observed", "busy_agents"]
    if calls.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns}).astype(
            {"interval_start": "datetime64[ns, UTC]", "queue": object})
    arrival = calls["arrival"].dt.tz_convert("UTC")
    first = arrival.min()
    local_first = first.tz_convert(zone_key).tz_localize(None)
    origin_local = local_first.floor(step)
    # origin: the UTC instant of the local boundary at or before the first arrival
    origin = first - (local_first - origin_local)
    n_int = int((arrival.max() - origin) // step) + 1
    n_queues = calls["queue"].nunique()
    if n_int * n_queues > 10_000_000:
        raise InputError(
            f"the log spans {first:%Y-%m-%d} to {arrival.max():%Y-%m-%d}: "
            f"{n_int:,} intervals x {n_queues} queues is too large a grid; check the dates "
            "or aggregate a shorter period", column="arrival")
    grid = origin + step * np.arange(n_int)
    k = ((arrival - origin) // step).to_numpy(dtype=np.int64)

    queues = np.array(sorted(calls["queue"].astype(str).unique()), dtype=object)
    qi = pd.Categorical(calls["queue"].astype(str), categories=queues).codes.astype(np.int64)
    n_q = len(queues)
    cell = qi * n_int + k
    size = n_q * n_int

    outcome = calls["outcome"].to_numpy()
    served = outcome == "served"
    abandoned = outcome == "abandoned"
    other = outcome == "other"
    wait = calls["wait_s"].to_numpy(dtype=float)
    handle = calls["handle_s"].to_numpy(dtype=float)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(cell[mask], minlength=size).astype(float)

    def total(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.bincount(cell[mask], weights=values[mask], minlength=size)

    short = np.zeros(len(outcome), dtype=bool)
    if short_abandon_s is not None:
        short = abandoned & (wait < short_abandon_s)
        abandoned = abandoned & ~short
    handled = count(served)
    n_aban = count(abandoned)
    volume = handled + n_aban
    within = count(served & (wait <= answer_within_s))
    with np.errstate(invalid="ignore", divide="ignore"):
        aht = np.where(handled > 0, total(served, np.nan_to_num(handle)) / handled, np.nan)
        asa = np.where(handled > 0, total(served, wait) / handled, np.nan)
        sl = np.where(volume > 0, within / volume, np.nan)

    agents_obs, busy = _service_occupancy(calls, served, qi, origin, step, n_int, n_q)
    out = pd.DataFrame({
        "interval_start": pd.DatetimeIndex(np.tile(grid, n_q)),
        "queue": np.repeat(queues, n_int),
        "volume": volume,
        "handled": handled,
        "abandoned": n_aban,
        "other": count(other),
        "aht_s": aht,
        "asa_s": asa,
        "answered_within": within,
        "service_level": sl,
        "agents_observed": agents_obs,
        "busy_agents": busy,
    })
    if short_abandon_s is not None:
        out.insert(out.columns.get_loc("other") + 1, "short_abandoned", count(short))
    return out


def with_aht_rule(intervals: pd.DataFrame) -> pd.DataFrame:
    """`intervals` (from `aggregate_intervals`) with an AHT on every row, so that the table
    can be staffed as it is (`openwfm staff` needs a handle time wherever it staffs).

    Where no contact was handled (no traffic, or every contact abandoned) or the handled ones
    logged no handle time (mean 0 s: no workload to staff from), ``aht_s`` is the queue's mean
    handle time over the rest of the log (handled-weighted: total handle time / contacts
    handled); ``aht_rule`` says where each value comes from: ``observed`` (the interval's own
    handled contacts), ``queue_mean``, or ``none`` when the queue has no handle time at all
    (``aht_s`` stays empty there).

    Examples
    --------
    >>> t = pd.DataFrame({"queue": ["a", "a", "a", "b"], "handled": [2.0, 0.0, 1.0, 0.0],
    ...                   "aht_s": [100.0, np.nan, 400.0, np.nan]})
    >>> out = with_aht_rule(t)
    >>> out["aht_s"].tolist()[:3], out["aht_rule"].tolist()
    ([100.0, 200.0, 400.0], ['observed', 'queue_mean', 'observed', 'none'])
    """
    out = intervals.copy()
    handled = out["handled"].to_numpy(dtype=float)
    aht = out["aht_s"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        seen = (handled > 0) & (aht > 0)
    work = pd.Series(np.where(seen, aht * handled, 0.0), index=out.index)
    count = pd.Series(np.where(seen, handled, 0.0), index=out.index)
    by_queue = work.groupby(out["queue"]).sum() / count.groupby(out["queue"]).sum()
    queue_mean = out["queue"].map(by_queue).to_numpy(dtype=float)
    out["aht_s"] = np.where(seen, aht, queue_mean)
    rule = np.where(seen, "observed", np.where(np.isfinite(queue_mean), "queue_mean", "none"))
    out.insert(out.columns.get_loc("aht_s") + 1, "aht_rule", rule)
    return out


def _service_occupancy(
    calls: pd.DataFrame, served: np.ndarray, qi: np.ndarray, origin: pd.Timestamp,
    step: pd.Timedelta, n_int: int, n_q: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct agents and busy agent-seconds / interval per (queue, interval) cell."""
    step_s = step.total_seconds()
    if "service_start" in calls.columns:
        start = calls["service_start"].dt.tz_convert("UTC")
        start = start.fillna(calls["arrival"] + pd.to_timedelta(calls["wait_s"], unit="s"))
    else:
        start = calls["arrival"] + pd.to_timedelta(calls["wait_s"], unit="s")
    s = ((start - origin).dt.total_seconds().to_numpy())[served]
    dur = np.nan_to_num(calls["handle_s"].to_numpy(dtype=float)[served])
    e = s + dur
    q = qi[served]
    horizon = n_int * step_s
    s_c, e_c = np.clip(s, 0, horizon), np.clip(e, 0, horizon)
    first = np.floor(s_c / step_s).astype(np.int64)
    last = np.maximum(np.ceil(e_c / step_s).astype(np.int64) - 1, first)
    keep = (e_c > s_c) | ((dur == 0) & (s >= 0) & (s < horizon))
    first, last, s_c, e_c, q = first[keep], last[keep], s_c[keep], e_c[keep], q[keep]
    # expand every service into the intervals it touches
    span = np.minimum(last, n_int - 1) - first + 1
    rep = np.repeat(np.arange(len(first)), span)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(span) - span, span)
    k = first[rep] + offset
    lo = np.maximum(s_c[rep], k * step_s)
    hi = np.minimum(e_c[rep], (k + 1) * step_s)
    cell = q[rep] * n_int + k
    busy = np.bincount(cell, weights=np.maximum(hi - lo, 0.0), minlength=n_q * n_int) / step_s
    agents_obs = np.zeros(n_q * n_int)
    if "agent" in calls.columns:
        agent = calls["agent"].to_numpy(dtype=object)[served][keep][rep]
        has = pd.notna(agent)
        pairs = pd.DataFrame({"cell": cell[has], "agent": agent[has]}).drop_duplicates()
        agents_obs = np.bincount(pairs["cell"].to_numpy(), minlength=n_q * n_int).astype(float)
    return agents_obs, busy
