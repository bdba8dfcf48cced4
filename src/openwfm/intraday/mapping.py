"""Vendor exports -> openwfm agent-state events and interval tables, through a mapping file.

A *state mapping* (TOML) says how to read one ACD's exports:

.. code-block:: toml

    vendor = "Genesys Cloud"
    source = ["https://...the vendor's documentation page..."]

    [agent_state]                    # the agent-state (status change) export
    tz = "UTC"                       # optional: zone of times written without an offset
    date_format = "%m/%d/%Y"         # optional: format of a separate date column
    [agent_state.columns]            # vendor column = openwfm field
    "User ID" = "agent_id"           # required
    "Start Time" = "at"              # required: when the state began (or a time of day
                                     #   with a "date" column)
    "Presence" = "state"             # required: the vendor's state code
    "Routing Status" = "reason"      # optional: reason / secondary code
    [agent_state.states]             # vendor state code = openwfm state
    "OFFLINE" = "logged_out"
    [agent_state.reasons]            # "STATE|REASON" = openwfm state (wins over states)
    "ON_QUEUE|INTERACTING" = "on_contact"

    [interval]                       # the queue interval export
    [interval.columns]               # vendor column = interval-table column (see
    "Interval Start" = "interval_start"  # openwfm.io.intervals.read_interval_csv)
    [interval.sum]                   # openwfm column = sum of vendor columns
    volume = ["ACD Calls", "Aban Calls"]
    [interval.per_handled]           # openwfm mean = sum of vendor *total* columns / handled
    aht_s = ["HandleTime"]

Built-in presets (`PRESETS`: genesys, avaya, cisco, nice) live in ``intraday/presets/`` and
cite the documentation their column names and codes come from. Interval exports are read by
`openwfm.io.intervals.read_interval_csv` (one parser for every interval file); derived
columns (``sum``, ``per_handled``) and a non-ISO ``date_format`` are computed first.

Events read from an export get ``event_id`` = ``agent_id|at (UTC, ISO 8601)|state code|
reason``, so that reading the same export twice yields the same ids (idempotent loading).
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from openwfm.errors import InputError
from openwfm.intraday.states import AgentState
from openwfm.io.intervals import (
    IntervalTable,
    combine_date_time,
    parse_numbers,
    parse_times,
    read_interval_csv,
    read_text_table,
    strip_text,
)

__all__ = [
    "EVENT_COLUMNS",
    "PRESETS",
    "StateMapping",
    "load_state_mapping",
    "read_agent_events",
    "read_vendor_intervals",
]

#: The built-in presets (file ``presets/<name>.toml``).
PRESETS: tuple[str, ...] = ("genesys", "avaya", "cisco", "nice")
#: Columns of an event table.
EVENT_COLUMNS: tuple[str, ...] = ("event_id", "agent_id", "state", "at")
_EVENT_FIELDS = ("agent_id", "at", "state", "reason", "date", "event_id")
_STATES = {s.value for s in AgentState}


@dataclass(frozen=True)
class StateMapping:
    """How to read one vendor's agent-state and interval exports.

    Attributes
    ----------
    vendor : str
    source : tuple of str
        Documentation the column names and codes come from.
    columns : Mapping[str, str]
        Agent-state export: vendor column -> openwfm field (agent_id, at, state, reason,
        date, event_id).
    states : Mapping[str, AgentState]
        Vendor state code -> openwfm state.
    reasons : Mapping[tuple[str, str], AgentState]
        (vendor state code, reason code) -> openwfm state; wins over `states`.
    tz : str or None
        Zone of agent-state times written without an offset.
    date_format : str or None
        ``strptime`` format of a separate date column (ISO when None).
    interval_columns : Mapping[str, str]
        Interval export: vendor column -> interval-table column.
    interval_sum, interval_per_handled : Mapping[str, tuple[str, ...]]
        Derived interval columns (see the module docstring).
    interval_date_format : str or None
    name : str
        Preset name or file name.
    """

    vendor: str
    source: tuple[str, ...]
    columns: Mapping[str, str]
    states: Mapping[str, AgentState]
    reasons: Mapping[tuple[str, str], AgentState] = field(default_factory=dict)
    tz: str | None = None
    date_format: str | None = None
    interval_columns: Mapping[str, str] = field(default_factory=dict)
    interval_sum: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    interval_per_handled: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    interval_date_format: str | None = None
    name: str = ""

    def state_of(self, code: str, reason: str = "") -> AgentState | None:
        """The openwfm state of a vendor state `code` with an optional `reason` (a
        ``STATE|REASON`` pair wins over the code alone); None when the mapping has neither.

        Examples
        --------
        >>> m = load_state_mapping("genesys")
        >>> m.state_of("ON_QUEUE", "INTERACTING").value, m.state_of("BREAK").value
        ('on_contact', 'break')
        >>> m.state_of("NOPE") is None
        True
        """
        return self.reasons.get((code, reason)) or self.states.get(code)


def _state(value: Any, *, file: str, where: str) -> AgentState:
    if not isinstance(value, str) or value not in _STATES:
        raise InputError(f"{where} maps to {value!r}: expected one of {sorted(_STATES)}",
                         file=file)
    return AgentState(value)


def _table(data: Mapping[str, Any], key: str, file: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"[{key}] must be a table", file=file)
    return value


def _columns_list(table: Mapping[str, Any], section: str, file: str) -> dict[str, tuple[str, ...]]:
    out = {}
    for target, cols in table.items():
        if isinstance(cols, str):
            cols = [cols]
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
            raise InputError(f"[{section}] {target} must be a list of vendor column names",
                             file=file)
        out[str(target)] = tuple(cols)
    return out


def parse_state_mapping(data: Mapping[str, Any], *, name: str) -> StateMapping:
    """Build a `StateMapping` from the parsed TOML of a mapping file (see module docstring).

    Examples
    --------
    >>> m = parse_state_mapping({"vendor": "ACME", "agent_state": {
    ...     "columns": {"Agent": "agent_id", "Time": "at", "Code": "state"},
    ...     "states": {"RDY": "available", "OFF": "logged_out"}}}, name="acme.toml")
    >>> m.states["RDY"]
    <AgentState.AVAILABLE: 'available'>
    """
    agent = _table(data, "agent_state", name)
    columns = {str(k): str(v) for k, v in _table(agent, "columns", name).items()}
    bad = sorted(set(columns.values()) - set(_EVENT_FIELDS))
    if bad:
        raise InputError(f"[agent_state.columns] maps to unknown field(s) {bad}: expected "
                         f"{list(_EVENT_FIELDS)}", file=name)
    states = {str(k): _state(v, file=name, where=f"[agent_state.states] '{k}'")
              for k, v in _table(agent, "states", name).items()}
    reasons = {}
    for key, value in _table(agent, "reasons", name).items():
        if "|" not in key:
            raise InputError(f"[agent_state.reasons] key '{key}' must be 'STATE|REASON'",
                             file=name)
        code, reason = key.split("|", 1)
        reasons[(code, reason)] = _state(value, file=name,
                                         where=f"[agent_state.reasons] '{key}'")
    interval = _table(data, "interval", name)
    source = data.get("source", ())
    return StateMapping(
        vendor=str(data.get("vendor", name)),
        source=(source,) if isinstance(source, str) else tuple(source),
        columns=columns, states=states, reasons=reasons,
        tz=agent.get("tz"), date_format=agent.get("date_format"),
        interval_columns={str(k): str(v)
                          for k, v in _table(interval, "columns", name).items()},
        interval_sum=_columns_list(_table(interval, "sum", name), "interval.sum", name),
        interval_per_handled=_columns_list(_table(interval, "per_handled", name),
                                           "interval.per_handled", name),
        interval_date_format=interval.get("date_format"),
        name=name,
    )


def load_state_mapping(mapping: str | os.PathLike[str]) -> StateMapping:
    """Load a preset by name (`PRESETS`) or a mapping file (TOML).

    Examples
    --------
    >>> load_state_mapping("cisco").states["4"]
    <AgentState.ON_CONTACT: 'on_contact'>
    """
    if isinstance(mapping, str) and mapping in PRESETS:
        text = resources.files("openwfm.intraday").joinpath(
            "presets", f"{mapping}.toml").read_text(encoding="utf-8")
        name = mapping
    else:
        path = Path(mapping)
        name = path.name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            hint = f" (presets: {', '.join(PRESETS)})" if not path.suffix else ""
            raise InputError(f"cannot read the state mapping: {exc.strerror}{hint}",
                             file=str(mapping)) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"cannot parse the state mapping: {exc}", file=name) from exc
    return parse_state_mapping(data, name=name)


def _iso_dates(values: pd.Series, fmt: str | None, *, file: str, column: str) -> pd.Series:
    if fmt is None:
        return values
    parsed = pd.to_datetime(values.str.strip(), format=fmt, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"expected a date in the format {fmt}, got '{values.iloc[i]}'",
                         file=file, row=int(values.index[i]) + 1, column=column)
    return parsed.dt.strftime("%Y-%m-%d")


def read_agent_events(
    path: str | os.PathLike[str], mapping: StateMapping | str | os.PathLike[str],
    *, tz: str | None = None,
) -> pd.DataFrame:
    """Read a vendor agent-state export into an event table.

    Parameters
    ----------
    path : path-like
        CSV/TSV/semicolon file (or .xlsx), one row per state change.
    mapping : StateMapping, preset name or mapping file
    tz : str, optional
        Zone of times written without an offset (overrides the mapping's ``tz``).

    Returns
    -------
    pandas.DataFrame
        ``event_id``, ``agent_id``, ``state`` (`AgentState` values), ``at`` (UTC), plus
        ``vendor_state`` and ``vendor_reason`` (the codes read), in file order.

    Raises
    ------
    InputError
        Naming file, row and column: a missing column, an empty agent, an unparseable
        time, a state code (or state and reason) the mapping does not know.
    """
    m = mapping if isinstance(mapping, StateMapping) else load_state_mapping(mapping)
    path = Path(path)
    name = path.name
    raw = read_text_table(path)
    original = {v: k for k, v in m.columns.items()}
    for needed in ("agent_id", "at", "state"):
        if needed not in original:
            raise InputError(f"the mapping {m.name} has no column for '{needed}'", file=name)
        if original[needed] not in raw.columns:
            raise InputError(f"missing column '{original[needed]}' ({needed}); the file has "
                             f"{list(raw.columns)}", file=name, column=original[needed])
    if raw.empty:
        raise InputError("no data rows", file=name)
    col = original.__getitem__
    agent = strip_text(raw[col("agent_id")])
    empty = (agent == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError("expected an agent id, got an empty cell", file=name,
                         row=int(raw.index[i]) + 1, column=col("agent_id"))
    text = raw[col("at")]
    if "date" in original:
        dates = _iso_dates(raw[original["date"]], m.date_format, file=name,
                           column=original["date"])
        text = combine_date_time(dates, text, file=name, date_column=original["date"],
                                 time_column=col("at"))
    zone = tz or m.tz
    from zoneinfo import ZoneInfo

    at = parse_times(text, tz=ZoneInfo(zone) if zone else None, file=name,
                     column=col("at"), groups=agent, resolve_ambiguous=True)
    code = strip_text(raw[col("state")])
    reason = (strip_text(raw[original["reason"]]) if "reason" in original
              and original["reason"] in raw.columns else pd.Series("", index=raw.index))
    state = []
    for i, (c, r) in enumerate(zip(code.to_numpy(), reason.to_numpy(), strict=True)):
        s = m.state_of(c, r)
        if s is None:
            known = sorted(m.states)
            raise InputError(f"state code '{c}'" + (f" with reason '{r}'" if r else "")
                             + f" is not in the mapping {m.name} (known codes: {known}); "
                             "add it under [agent_state.states] or [agent_state.reasons]",
                             file=name, row=int(raw.index[i]) + 1, column=col("state"))
        state.append(s.value)
    iso = at.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if "event_id" in original and original["event_id"] in raw.columns:
        event_id = strip_text(raw[original["event_id"]])
    else:
        event_id = agent + "|" + iso + "|" + code + "|" + reason
    return pd.DataFrame({
        "event_id": event_id.to_numpy(dtype=object), "agent_id": agent.to_numpy(dtype=object),
        "state": state, "at": at.to_numpy(), "vendor_state": code.to_numpy(dtype=object),
        "vendor_reason": reason.to_numpy(dtype=object),
    }).astype({"at": "datetime64[ns, UTC]"})


def read_vendor_intervals(
    path: str | os.PathLike[str], mapping: StateMapping | str | os.PathLike[str],
    *, tz: str | None = None, interval_s: int | None = None,
) -> IntervalTable:
    """Read a vendor interval export into an openwfm interval table.

    The derived columns of the mapping are computed first (``sum``: the sum of vendor
    columns; ``per_handled``: the sum of vendor total columns divided by ``handled``, empty
    where nothing was handled); the rest is `openwfm.io.intervals.read_interval_csv` with
    the mapping's ``[interval.columns]``, so errors name the file, row and vendor column.
    """
    m = mapping if isinstance(mapping, StateMapping) else load_state_mapping(mapping)
    path = Path(path)
    columns = dict(m.interval_columns)
    if not (m.interval_sum or m.interval_per_handled or m.interval_date_format):
        return read_interval_csv(path, tz=tz, mapping=columns, interval_s=interval_s)
    name = path.name
    raw = read_text_table(path)
    numbers: dict[str, np.ndarray] = {}

    def number(column: str) -> np.ndarray:
        if column not in raw.columns:
            raise InputError(f"missing column '{column}'; the file has {list(raw.columns)}",
                             file=name, column=column)
        if column not in numbers:
            numbers[column] = parse_numbers(raw[column], file=name, column=column,
                                            duration=True)
        return numbers[column]

    for target, parts in m.interval_sum.items():
        raw[target] = _text(sum(number(c) for c in parts))
        columns.pop(target, None)
    if m.interval_per_handled:
        handled_col = next((k for k, v in columns.items() if v == "handled"), None)
        if handled_col is None:
            raise InputError("[interval.per_handled] needs a column mapped to 'handled'",
                             file=m.name)
        handled = number(handled_col)
        for target, parts in m.interval_per_handled.items():
            total = sum(number(c) for c in parts)
            with np.errstate(invalid="ignore", divide="ignore"):
                raw[target] = _text(np.where(handled > 0, total / handled, np.nan))
    if m.interval_date_format:
        date_col = next((k for k, v in columns.items() if v == "date"), None)
        if date_col is not None:
            raw[date_col] = _iso_dates(raw[date_col], m.interval_date_format, file=name,
                                       column=date_col)
    # keep the file's row numbers: blank lines dropped by the reader come back as blank rows
    raw = raw.reindex(range(int(raw.index.max()) + 1 if len(raw) else 0), fill_value="")
    with tempfile.TemporaryDirectory(prefix="openwfm-") as tmp:
        staged = Path(tmp) / name  # same name: errors name the user's file
        raw.to_csv(staged, index=False)
        return read_interval_csv(staged, tz=tz, mapping=columns, interval_s=interval_s)


def _text(values: np.ndarray) -> list[str]:
    return ["" if not np.isfinite(v) else repr(float(v)) for v in values]
