"""`staff_frame`: the staffing of a table (one row per queue and interval).

Input columns (the contract of ``openwfm staff``):

==================  =========  =============================================================
column              default    meaning
==================  =========  =============================================================
``volume``          required   contacts offered in the interval (>= 0)
``aht_s``           required   mean handle time, seconds (> 0)
``interval_s``      1800       interval length, seconds (> 0)
``patience_s``      empty      mean patience, seconds (> 0); empty or absent = Erlang C
``sl_target``       0.8        required service level, in (0, 1)
``sl_seconds``      20         answer-within threshold, seconds (>= 0); for email: the
                               response-time deadline (e.g. 14400 for 4 h)
``channel``         voice      voice, chat or email
``concurrency``     1          chats per agent (integer >= 1; chat only)
``max_occupancy``   empty      maximum occupancy, in (0, 1]
``max_asa_s``       empty      maximum ASA, seconds (> 0)
``max_abandon``     empty      maximum abandon probability, in (0, 1) (needs patience_s)
``shrinkage``       empty      fraction of paid time not productive, in [0, 1)
``agents``          absent     if present: evaluate these agents instead of solving
``tz``              UTC        IANA zone of the queue; email levels are per local day
==================  =========  =============================================================

Output: the input rows and columns, plus ``agents`` (required, or the given ones),
``service_level``, ``asa_s``, ``p_wait``, ``p_abandon`` (NaN without patience),
``occupancy`` and, when a ``shrinkage`` column is present,
``scheduled = agents / (1 - shrinkage)``. Definitions: see `openwfm.staffing.erlang`.

Voice rows use Erlang C / Erlang A (`openwfm.staffing.erlang`), chat rows the slot model of
`openwfm.staffing.chat`, email rows the backlog model of `openwfm.staffing.email`, grouped
by ``queue`` (all email rows are one queue when there is no ``queue`` column) in
``interval_start`` order (row order when absent). For email, ``asa_s`` is the mean response
time and the requirement is one level per queue and **local day** (the date of
``interval_start`` in the row's ``tz``, UTC when absent; one level per queue without
``interval_start``): each day's level is the smallest that answers that day's items within
the deadline, agents working on at that level after the day's last row. Evaluating given
``agents`` runs the backlog over all rows of a queue (work carries across days).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"queue": ["q1", "q1"], "volume": [100, 0], "aht_s": [180, 180]})
>>> out = staff_frame(df)
>>> out[["queue", "agents", "service_level"]].round(5).to_dict("list")
{'queue': ['q1', 'q1'], 'agents': [14, 0], 'service_level': [0.88835, 1.0]}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openwfm.errors import InputError, shown
from openwfm.staffing import chat, email

__all__ = ["OUTPUT_COLUMNS", "Channel", "StaffInput", "parse_staff_input", "staff_frame",
           "staff_input"]

OUTPUT_COLUMNS = ("agents", "service_level", "asa_s", "p_wait", "p_abandon", "occupancy")


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


@dataclass(frozen=True)
class _Spec:
    default: float | None  # None = required
    lo: float
    hi: float
    lo_open: bool
    hi_open: bool
    integer: bool = False
    cap: bool = False  # hi is a bound of what the models compute, not part of the definition

    def describe(self) -> str:
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        kind = "an integer" if self.integer else "a number"
        if self.hi == np.inf or self.cap:
            at_most = f" and at most {self.hi:,.0f}" if self.cap else ""
            return f"{kind} {'>' if self.lo_open else '>='} {self.lo:g}{at_most}"
        return f"{kind} in {left}{self.lo:,g}, {self.hi:,g}{right}"


#: Bounds of the input (docs/staffing.md, "Bounds"): beyond them a value is a typo or garbage,
#: and the models cannot compute with it meaningfully (1e300 contacts overflow; 1e20 agents
#: are not an integer count). Within them every row is staffed in well under a second.
MAX_VOLUME = 10_000_000.0  # contacts offered in one interval
MAX_DURATION_S = 7 * 86_400.0  # aht_s, patience_s, sl_seconds (an email deadline), max_asa_s
MAX_TRAFFIC_ERL = 1_000_000.0  # volume x aht_s / interval_s
MAX_CONCURRENCY = 100.0
MAX_AGENTS = 10_000_000.0

_NUMERIC: dict[str, _Spec] = {
    "volume": _Spec(None, 0, MAX_VOLUME, False, False, cap=True),
    "aht_s": _Spec(None, 0, MAX_DURATION_S, True, False, cap=True),
    "interval_s": _Spec(1800.0, 60, 86_400, False, False, integer=True),
    "patience_s": _Spec(np.nan, 0, MAX_DURATION_S, True, False, cap=True),
    "sl_target": _Spec(0.8, 0, 1, True, True),
    "sl_seconds": _Spec(20.0, 0, MAX_DURATION_S, False, False, cap=True),
    "concurrency": _Spec(1.0, 1, MAX_CONCURRENCY, False, False, integer=True, cap=True),
    "max_occupancy": _Spec(np.nan, 0, 1, True, False),
    "max_asa_s": _Spec(np.nan, 0, MAX_DURATION_S, True, False, cap=True),
    "max_abandon": _Spec(np.nan, 0, 1, True, True),
    "shrinkage": _Spec(np.nan, 0, 1, False, True),
    "agents": _Spec(np.nan, 0, MAX_AGENTS, False, False, integer=True, cap=True),
}
_OPTIONAL_EMPTY = {"patience_s", "max_occupancy", "max_asa_s", "max_abandon", "shrinkage"}


@dataclass(frozen=True)
class StaffInput:
    """Validated staffing input: one float array per numeric column (NaN = not given),
    the channel of each row, the email groups, and whether agents are to be evaluated."""

    columns: dict[str, NDArray[np.float64]]
    channel: NDArray[np.object_]
    email_groups: tuple[NDArray[np.int64], ...]
    evaluate: bool
    has_shrinkage: bool

    @property
    def traffic_erl(self) -> NDArray[np.float64]:
        c = self.columns
        return c["volume"] * c["aht_s"] / c["interval_s"]


def _show(value: object) -> str:
    """A cell as the user wrote it, quoted."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return repr(str(int(value)))
    return repr(str(value))


def _is_blank(values: pd.Series) -> NDArray[np.bool_]:
    if values.dtype == object:
        return (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()
    return values.isna().to_numpy()


def _numeric(df: pd.DataFrame, name: str, spec: _Spec, file: str | None) -> NDArray[np.float64]:
    n = len(df)
    if name not in df.columns:
        if spec.default is None:
            raise InputError(f"missing required column '{name}'", file=file, column=name)
        return np.full(n, spec.default, dtype=np.float64)
    raw = df[name]
    blank = _is_blank(raw)
    parsed = pd.to_numeric(raw.where(~blank, None), errors="coerce").to_numpy(dtype=np.float64)
    bad_text = ~blank & np.isnan(parsed)
    if bad_text.any():
        i = int(np.argmax(bad_text))
        raise InputError(f"expected {spec.describe()}, got {_show(raw.iloc[i])}", file=file,
                         row=i + 1, column=name)
    if blank.any():
        if spec.default is None or (name == "agents"):
            i = int(np.argmax(blank))
            raise InputError(f"expected {spec.describe()}, got an empty cell", file=file,
                             row=i + 1, column=name)
        parsed = np.where(blank, spec.default, parsed)
    given = ~np.isnan(parsed)
    x = parsed[given]
    ok = np.ones(len(x), dtype=bool)
    ok &= (x > spec.lo) if spec.lo_open else (x >= spec.lo)
    ok &= (x < spec.hi) if spec.hi_open else (x <= spec.hi)
    if spec.integer:
        ok &= x == np.floor(x)
    if not ok.all():
        i = int(np.flatnonzero(given)[np.argmin(ok)])
        raise InputError(f"expected {spec.describe()}, got {_show(raw.iloc[i])}", file=file,
                         row=i + 1, column=name)
    if name == "interval_s" and (86_400 % parsed[given] != 0).any():
        i = int(np.flatnonzero(given)[np.argmax(86_400 % parsed[given] != 0)])
        raise InputError(f"expected an interval length dividing a day (900, 1800, 3600 ...), "
                         f"got {_show(raw.iloc[i])}", file=file, row=i + 1, column=name)
    return parsed


def _check_rows(df: pd.DataFrame, cols: dict[str, NDArray[np.float64]], file: str | None,
                interval_given: bool) -> None:
    """Checks across columns and rows: the traffic bound, the column names, the interval
    length against ``interval_start``, duplicated (queue, interval_start) rows, the zones."""
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise InputError(f"column '{dup[0]}' appears twice in the header", file=file,
                         column=str(dup[0]))
    traffic = cols["volume"] * cols["aht_s"] / cols["interval_s"]
    if (traffic > MAX_TRAFFIC_ERL).any():
        i = int(np.argmax(traffic > MAX_TRAFFIC_ERL))
        raise InputError(f"traffic volume x aht_s / interval_s = {traffic[i]:,.4g} Erlangs is "
                         f"beyond {MAX_TRAFFIC_ERL:,.0f} (the bound of the Erlang models)",
                         file=file, row=i + 1, column="volume")
    if "tz" in df.columns:
        raw = df["tz"]
        blank = _is_blank(raw)
        for zone in pd.unique(raw[~blank].astype(str).str.strip()):
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                i = int(np.argmax((raw.astype(str).str.strip() == zone).to_numpy()))
                raise InputError(f"expected an IANA time zone (e.g. Europe/Paris), got "
                                 f"{zone!r}", file=file, row=i + 1, column="tz") from exc
    if "interval_start" not in df.columns:
        return
    blank = _is_blank(df["interval_start"])
    start = pd.to_datetime(df["interval_start"].where(~blank, None), utc=True, errors="coerce",
                           format="ISO8601")
    bad = ~blank & start.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        got = _show(df["interval_start"].iloc[i])
        raise InputError(f"expected an ISO 8601 date-time, got {got}", file=file, row=i + 1,
                         column="interval_start")
    queue = (df["queue"].astype(str).str.strip() if "queue" in df.columns
             else pd.Series("", index=df.index))
    frame = pd.DataFrame({"q": queue.to_numpy(), "t": start.to_numpy(),
                          "ivs": cols["interval_s"]}).reset_index(drop=True)
    frame = frame[~blank]
    if frame.empty:
        return
    frame["t"] = pd.to_datetime(frame["t"], utc=True)
    dup_rows = frame.duplicated(["q", "t"], keep="first")
    if dup_rows.any():
        i = int(dup_rows[dup_rows].index[0])
        first = int(frame.index[(frame["q"] == frame.loc[i, "q"])
                                & (frame["t"] == frame.loc[i, "t"])][0])
        raise InputError(f"interval listed twice (same queue and interval_start as row "
                         f"{first + 1})", file=file, row=i + 1, column="interval_start")
    ordered = frame.sort_values(["q", "t"], kind="stable")
    step = ordered.groupby("q")["t"].diff().dt.total_seconds()
    short = step < ordered["ivs"]
    if short.any():
        i = int(short[short].index[0])
        length = int(ordered.loc[i, "ivs"])
        source = "its interval_s" if interval_given else "the default interval_s"
        raise InputError(f"interval starts {step[i] / 60:g} min after the previous one of its "
                         f"queue, but {source} is {length} s ({length / 60:g} min): the "
                         "intervals overlap (add or fix an interval_s column)", file=file,
                         row=i + 1, column="interval_start")


def _local_days(df: pd.DataFrame, idx: NDArray[np.int64],
                file: str | None) -> NDArray[np.object_]:
    """The local date of ``interval_start`` of rows `idx` in each row's ``tz`` (UTC when
    the column is absent or the cell empty)."""
    start = pd.Series(pd.to_datetime(df["interval_start"].iloc[idx], utc=True).to_numpy(),
                      dtype="datetime64[ns, UTC]")
    if "tz" not in df.columns:
        return start.dt.date.to_numpy(dtype=object)
    raw = df["tz"].iloc[idx].reset_index(drop=True)
    zones = raw.astype(str).str.strip().where(~_is_blank(raw), "UTC").to_numpy(dtype=object)
    days = np.empty(len(idx), dtype=object)
    for zone in pd.unique(zones):
        rows = zones == zone
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            i = int(idx[np.argmax(rows)])
            raise InputError(f"expected an IANA time zone (e.g. Europe/Paris), got {zone!r}",
                             file=file, row=i + 1, column="tz") from exc
        days[rows] = start[rows].dt.tz_convert(tz).dt.date.to_numpy(dtype=object)
    return days


def require_email_times(df: pd.DataFrame, *, file: str | None = None) -> None:
    """`InputError` when a table from outside (a user's CSV) has an email row without an
    ``interval_start`` (no such column, or an empty cell): the backlog carries from one
    interval to the next in time order and levels are per local day, so the rows need their
    times. (Without the column, `staff_frame` takes a queue's email rows as one backlog in
    row order: what the capacity plan's representative week, built in slot order, relies
    on.)

    Examples
    --------
    >>> rows = pd.DataFrame({"queue": ["m", "m"], "channel": ["voice", "email"],
    ...                      "volume": [5, 6], "aht_s": [300, 300]})
    >>> try:
    ...     require_email_times(rows, file="in.csv")
    ... except InputError as e:
    ...     print(e.location.row, e.location.column)
    2 interval_start
    """
    if "channel" not in df.columns:
        return
    is_email = (df["channel"].astype(str).str.strip().str.lower() == Channel.EMAIL.value
                ).to_numpy()
    if "interval_start" in df.columns:
        missing = is_email & _is_blank(df["interval_start"])
        where = "the cell is empty"
    else:
        missing = is_email
        where = "the file has no interval_start column"
    if missing.any():
        i = int(np.argmax(missing))
        raise InputError(f"an email row needs its interval_start ({where}): the backlog "
                         "carries from one interval to the next in time order, and "
                         "levels are per local day", file=file, row=i + 1,
                         column="interval_start")


def parse_staff_input(df: pd.DataFrame, *, file: str | None = None) -> StaffInput:
    """Validate a staffing table; raise `InputError` naming the file, row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_staff_input(pd.DataFrame({"volume": [3, -1], "aht_s": [60, 60]}), file="in.csv")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: in.csv, row 2, column 'volume': expected a number >= 0 ..., got '-1'
    """
    cols = {name: _numeric(df, name, spec, file) for name, spec in _NUMERIC.items()}
    _check_rows(df, cols, file, interval_given="interval_s" in df.columns)
    if "channel" in df.columns:
        blank = _is_blank(df["channel"])
        text = df["channel"].astype(str).str.strip().str.lower().to_numpy(dtype=object)
        text[blank] = Channel.VOICE.value
        valid = {c.value for c in Channel}
        bad = np.array([t not in valid for t in text])
        if bad.any():
            i = int(np.argmax(bad))
            got = shown(df["channel"].iloc[i])
            raise InputError(f"expected one of voice, chat, email, got {got}",
                             file=file, row=i + 1, column="channel")
    else:
        text = np.full(len(df), Channel.VOICE.value, dtype=object)
    has_pat = ~np.isnan(cols["patience_s"])
    bad_ab = ~np.isnan(cols["max_abandon"]) & ~has_pat & (text != Channel.EMAIL.value)
    if bad_ab.any():
        i = int(np.argmax(bad_ab))
        raise InputError("max_abandon needs patience_s (Erlang C has no abandonment)",
                         file=file, row=i + 1, column="max_abandon")
    groups: list[NDArray[np.int64]] = []
    is_email = text == Channel.EMAIL.value
    if is_email.any():
        idx = np.flatnonzero(is_email)
        keys = df["queue"].astype(str).to_numpy()[idx] if "queue" in df.columns else np.zeros(
            len(idx), dtype=object)
        order_key = None
        if "interval_start" in df.columns:
            try:
                order_key = pd.to_datetime(df["interval_start"].iloc[idx], utc=True).to_numpy()
            except (ValueError, TypeError) as exc:
                raise InputError(f"interval_start of an email row is not a time: {exc}",
                                 file=file, column="interval_start") from exc
            if pd.isna(order_key).any():
                i = int(idx[np.argmax(pd.isna(order_key))])
                raise InputError("an email row needs its interval_start (the cell is empty)",
                                 file=file, row=i + 1, column="interval_start")
        days = (None if order_key is None or "agents" in df.columns
                else _local_days(df, idx, file))
        for key in pd.unique(keys):
            sel = keys == key
            members = idx[sel]
            if order_key is None:
                groups.append(members)
                continue
            order = np.argsort(order_key[sel], kind="stable")
            members = members[order]
            if days is None:
                groups.append(members)
                continue
            queue_days = days[sel][order]
            groups.extend(members[queue_days == d] for d in pd.unique(queue_days))
    return StaffInput(columns=cols, channel=text, email_groups=tuple(groups),
                      evaluate="agents" in df.columns, has_shrinkage="shrinkage" in df.columns)


def staff_input(inp: StaffInput) -> dict[str, NDArray[np.float64]]:
    """Analytic staffing of validated input: Erlang C/A (voice), slots (chat), backlog
    (email). Returns the output columns as arrays."""
    c = inp.columns
    m = len(c["volume"])
    out = {name: np.full(m, np.nan) for name in OUTPUT_COLUMNS}
    traffic = inp.traffic_erl
    live = inp.channel != Channel.EMAIL.value
    k = np.where(inp.channel == Channel.CHAT.value, c["concurrency"], 1.0)
    if live.any():
        args = dict(traffic_erl=traffic[live], aht_s=c["aht_s"][live],
                    concurrency=k[live], answer_within_s=c["sl_seconds"][live],
                    patience_s=c["patience_s"][live])
        if inp.evaluate:
            res = chat.chat_metrics(c["agents"][live], **args)
        else:
            res = chat.chat_required_agents(
                **args, sl_target=c["sl_target"][live], max_asa_s=c["max_asa_s"][live],
                max_abandon=c["max_abandon"][live], max_occupancy=c["max_occupancy"][live])
        for name in OUTPUT_COLUMNS:
            out[name][live] = getattr(res, name)
    for members in inp.email_groups:
        args = dict(volume=c["volume"][members], aht_s=c["aht_s"][members],
                    interval_s=c["interval_s"][members],
                    deadline_s=c["sl_seconds"][members])
        if inp.evaluate:
            r = email.backlog_metrics(agents=c["agents"][members], **args)
        else:
            # one level per queue and local day: the strictest target of its rows applies
            r = email.backlog_required_agents(sl_target=float(c["sl_target"][members].max()),
                                              **args)
        out["agents"][members] = r.agents
        out["service_level"][members] = r.interval_service_level
        out["asa_s"][members] = r.asa_s
        out["p_wait"][members] = r.p_wait
        out["occupancy"][members] = r.occupancy
    return out


Solver = Callable[[StaffInput], dict[str, NDArray[np.float64]]]


def staff_frame(df: pd.DataFrame, *, file: str | None = None,
                solver: Solver = staff_input) -> pd.DataFrame:
    """Staff every row of `df`; the same rows plus the output columns (module docstring).

    Parameters
    ----------
    df : DataFrame
        One row per queue and interval with the columns of ``openwfm staff``.
    file : str, optional
        File name used in error messages.
    solver : callable, optional
        Maps the validated `StaffInput` to the output columns; the default is analytic
        (`staff_input`). Other methods (e.g. simulation) plug in here.

    Raises
    ------
    InputError
        A missing column or a bad value, naming the 1-based data row and the column.
    """
    inp = parse_staff_input(df, file=file)
    res = solver(inp)
    out = df.copy()
    out["agents"] = res["agents"].astype(np.int64)
    for name in OUTPUT_COLUMNS[1:]:
        out[name] = res[name]
    for name, values in res.items():  # extra columns of a solver (e.g. simulation CIs)
        if name not in OUTPUT_COLUMNS:
            out[name] = values
    if inp.has_shrinkage:
        out["scheduled"] = out["agents"] / (1.0 - inp.columns["shrinkage"])
    return out
