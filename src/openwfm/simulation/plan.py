"""Simulate a scenario's plan: its forecast with its schedule (segments) or staffing table.

The bridge between openwfm's shared tables (``docs/architecture.md``: interval table,
requirement table, schedule segments) and a `SimulationModel`.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from openwfm.errors import InputError, shown
from openwfm.scenario import Channel, Scenario
from openwfm.simulation.distributions import Distribution, Exponential, LogNormal
from openwfm.simulation.model import (
    QueueSpec,
    SimulationModel,
    model_from_segments,
    model_from_staffing,
)
from openwfm.simulation.policy import AgentSelection, ContactSelection, RoutingPolicy

__all__ = ["HandleModel", "plan_grid", "plan_model", "queue_specs"]


class HandleModel(StrEnum):
    """Handle-time shape used for every queue (the mean comes from the forecast `aht_s`)."""

    EXPONENTIAL = "exponential"
    LOGNORMAL = "lognormal"


def queue_specs(scenario: Scenario, handle: HandleModel = HandleModel.LOGNORMAL,
                handle_cv: float = 1.0) -> tuple[QueueSpec, ...]:
    """One `QueueSpec` per scenario queue: its goal threshold, priority, chat concurrency and
    exponential patience of mean `patience_s` (no abandonment when the queue has none, and
    never for email)."""
    dist: Distribution = LogNormal(handle_cv) if handle == HandleModel.LOGNORMAL else Exponential()
    out = []
    for q in scenario.queues:
        abandons = q.channel != Channel.EMAIL and q.patience_s is not None and q.patience_s > 0
        out.append(QueueSpec(
            id=q.id, answer_within_s=q.goal.answer_within_s, handle=dist,
            patience=Exponential() if abandons else None,
            patience_s=float(q.patience_s) if abandons else float("inf"),
            priority=q.priority,
            concurrency=q.concurrency if q.channel == Channel.CHAT else 1,
        ))
    return tuple(out)


def _cells(df: pd.DataFrame, scenario: Scenario, origin: pd.Timestamp, nt: int, what: str,
           file: str | None) -> tuple[np.ndarray, np.ndarray]:
    for col in ("interval_start", "queue"):
        if col not in df.columns:
            raise InputError(f"missing column {col!r} in the {what}", file=file, column=col)
    qidx = {q.id: i for i, q in enumerate(scenario.queues)}
    qi = df["queue"].astype(str).map(qidx)
    if qi.isna().any():
        row = int(np.flatnonzero(qi.isna().to_numpy())[0]) + 1
        raise InputError(f"unknown queue {shown(df['queue'].iloc[row - 1])}; expected one of "
                         f"{sorted(qidx)}", file=file, row=row, column="queue")
    try:
        starts = pd.to_datetime(df["interval_start"], utc=True)
    except (ValueError, TypeError) as exc:
        raise InputError(f"interval_start is not a date-time in the {what}: {exc}", file=file,
                         column="interval_start") from exc
    off = (starts - origin).dt.total_seconds().to_numpy() / scenario.interval_s
    ti = np.floor(off).astype(np.int64)
    bad = (off != ti) | (ti < 0) | (ti >= nt)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InputError(f"interval_start {starts.iloc[row - 1]} is not an interval start of "
                         f"the forecast period (every {scenario.interval_s} s from {origin})",
                         file=file, row=row, column="interval_start")
    return qi.to_numpy(dtype=np.int64), ti


def _number_column(df: pd.DataFrame, col: str, what: str, file: str | None) -> np.ndarray:
    if col not in df.columns:
        raise InputError(f"missing column {col!r} in the {what}", file=file, column=col)
    x = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InputError(f"expected a number >= 0, got {shown(df[col].iloc[row - 1])}", file=file,
                         row=row, column=col)
    return x


def plan_grid(scenario: Scenario, forecast: pd.DataFrame, *, file: str | None = None
              ) -> tuple[pd.Timestamp, np.ndarray, np.ndarray]:
    """(origin, volume, aht_s) on the (queues x intervals) grid of the forecast period."""
    if len(forecast) == 0:
        raise InputError("the forecast has no rows", file=file)
    starts = pd.to_datetime(forecast["interval_start"], utc=True) \
        if "interval_start" in forecast.columns else None
    if starts is None:
        raise InputError("missing column 'interval_start' in the forecast", file=file,
                         column="interval_start")
    origin = starts.min()
    nt = int((starts.max() - origin).total_seconds() // scenario.interval_s) + 1
    qi, ti = _cells(forecast, scenario, origin, nt, "forecast", file)
    vol = _number_column(forecast, "volume", "forecast", file)
    aht = _number_column(forecast, "aht_s", "forecast", file)
    nq = len(scenario.queues)
    volume = np.zeros((nq, nt))
    aht_s = np.full((nq, nt), np.nan)
    volume[qi, ti] = vol
    aht_s[qi, ti] = aht
    for q in range(nq):  # intervals without a forecast row: no contacts; aht from the queue
        row = aht_s[q]
        fill = np.nanmean(row) if np.isfinite(row).any() else 300.0
        row[~np.isfinite(row) | (row <= 0)] = fill if fill > 0 else 300.0
    return origin, volume, aht_s


def plan_model(
    scenario: Scenario,
    forecast: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    staffing: pd.DataFrame | None = None,
    handle: HandleModel = HandleModel.LOGNORMAL,
    handle_cv: float = 1.0,
    busyness_cv: float = 0.0,
    files: dict[str, str] | None = None,
    agent_selection: AgentSelection | None = None,
    contact_selection: ContactSelection | None = None,
) -> SimulationModel:
    """A `SimulationModel` of the scenario over the forecast period, with agents either
    following `segments` (skills from the scenario's agents, in their preference order;
    agent groups from their `group`, else their site) or dedicated per queue as in
    `staffing` (requirement table: `interval_start`, `queue`, `agents`; fractional agents
    are rounded up; one staffed group per queue).

    Routing: the scenario's ``[routing]`` table (`Scenario.routing`), with
    `agent_selection` / `contact_selection` overriding it when given. With a staffing table
    the agents are dedicated, so the overflow lists and per-group policies (which name the
    scenario's agent groups) do not apply."""
    files = files or {}
    routing = scenario.routing
    over = {k: v for k, v in (("agent_selection", agent_selection),
                              ("contact_selection", contact_selection)) if v is not None}
    if over:
        routing = RoutingPolicy(**{"agent_selection": routing.agent_selection,
                                   "contact_selection": routing.contact_selection,
                                   "group_agent_selection": routing.group_agent_selection,
                                   "overflow": routing.overflow, **over})
    if (segments is None) == (staffing is None):
        raise ValueError("give exactly one of segments or staffing")
    origin, volume, aht_s = plan_grid(scenario, forecast, file=files.get("forecast"))
    specs = queue_specs(scenario, handle, handle_cv)
    if staffing is not None:
        f = files.get("staffing")
        qi, ti = _cells(staffing, scenario, origin, volume.shape[1], "staffing table", f)
        n = _number_column(staffing, "agents", "staffing table", f)
        agents = np.zeros(volume.shape, dtype=np.int64)
        np.maximum.at(agents, (qi, ti), np.ceil(n - 1e-9).astype(np.int64))
        m = model_from_staffing(specs, volume, aht_s, agents,
                                interval_s=scenario.interval_s, origin=origin,
                                busyness_cv=busyness_cv)
        return m.with_(routing=RoutingPolicy(agent_selection=routing.agent_selection,
                                             contact_selection=routing.contact_selection))
    assert segments is not None
    skills = {a.id: a.skills for a in scenario.agents}
    groups = {a.id: a.routing_group for a in scenario.agents}
    return model_from_segments(specs, volume, aht_s, segments, skills,
                               interval_s=scenario.interval_s, origin=origin,
                               busyness_cv=busyness_cv, file=files.get("schedule"),
                               groups=groups, routing=routing)
