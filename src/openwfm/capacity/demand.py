"""Long-term required FTE: weekly volume per queue -> interval requirement -> FTE.

For each queue and week ``w`` of the horizon:

1. Weekly volume ``V_w = (base * (1 + growth_yearly) ** (w / 52) + launch_w)
   * seasonality[month(w)] * volume_factor``, where ``month(w)`` is the month of the
   Thursday of week ``w`` and ``launch_w`` ramps linearly (see `launch_volume`).
2. A representative intraday pattern (the share ``p_i`` of a week's volume in each
   interval ``i`` of the local week, from the last 28 days of history) turns ``V_w`` into
   interval volumes ``V_w * p_i``; the staffing engine (`openwfm.staffing.staff_frame`,
   Erlang C / A, chat, email by channel) gives the productive agents ``N_{w,i}`` that meet
   the queue's service goal in every interval.
3. Productive agent-hours ``H_w = sum_i N_{w,i} * interval_s / 3600``. ``H`` is computed
   exactly at weekly volume levels at most 3% apart (every distinct week when that is not
   fewer) and linearly interpolated in between (`volume_levels`); email queues use hourly
   slots (their deadline is hours long).
4. ``FTE_w = H_w / (fte_hours * (1 - shrinkage) * scheduling_efficiency)``: shrinkage is
   the share of paid time not available for contacts (breaks, training, absence, ...),
   scheduling efficiency the share of scheduled productive time that covers requirement.

The FTE of a skill group is the sum over its queues (each queue staffed alone: no pooling
across queues, a conservative choice), split over sites by the group's site shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from openwfm.capacity.config import CapacityInputs, Launch, QueueDrivers
from openwfm.errors import InputError
from openwfm.scenario import Queue, Scenario

StaffFn = Callable[[pd.DataFrame], pd.DataFrame]


def launch_volume(launch: Launch, weeks: int) -> np.ndarray:
    """Weekly volume of a launch: 0 before ``start_week``, then
    ``weekly_volume * (ramp_from + (1 - ramp_from) * min(1, (w - start_week) / ramp_weeks))``.

    Examples
    --------
    >>> from openwfm.capacity.config import Launch
    >>> launch_volume(Launch("q", start_week=1, weekly_volume=100.0, ramp_weeks=4,
    ...                      ramp_from=0.2), 7).round(9).tolist()
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 100.0]
    """
    w = np.arange(weeks, dtype=float)
    if launch.ramp_weeks > 0:
        frac = np.minimum(1.0, (w - launch.start_week) / launch.ramp_weeks)
        level = launch.ramp_from + (1.0 - launch.ramp_from) * frac
    else:
        level = np.ones(weeks)
    return np.where(w >= launch.start_week, launch.weekly_volume * level, 0.0)


def weekly_volume(base: float, drivers: QueueDrivers, launches: list[Launch],
                  week_starts: list[date], volume_factor: float = 1.0) -> np.ndarray:
    """Weekly offered volume of one queue over the horizon (see the module docstring).

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> from openwfm.capacity.config import QueueDrivers
    >>> starts = [date(2026, 1, 5) + timedelta(weeks=w) for w in (0, 52)]
    >>> weekly_volume(1000.0, QueueDrivers("q", growth_yearly=0.1), [], starts).round(6).tolist()
    [1000.0, 1100.0]
    """
    n = len(week_starts)
    w = np.array([(d - week_starts[0]).days / 7.0 for d in week_starts])
    v = base * (1.0 + drivers.growth_yearly) ** (w / 52.0)
    for la in launches:
        v = v + launch_volume(la, n)
    month = np.array([(d + timedelta(days=3)).month for d in week_starts]) - 1
    return v * np.asarray(drivers.seasonality)[month] * volume_factor


def slots_per_week(interval_s: int) -> int:
    return 7 * 86400 // interval_s


def intraday_pattern(history: pd.DataFrame | None, queue: Queue, interval_s: int,
                     drivers: QueueDrivers, days: int = 28
                     ) -> tuple[np.ndarray, float, float]:
    """The share of a week's volume per local interval of the week, the mean handle time
    and the mean weekly volume, from the last `days` days of an interval table.

    Slot ``i`` is local Monday 00:00 + ``i * interval_s`` in the queue's time zone (so a
    DST change does not shift the pattern). Without history rows for the queue the pattern
    is flat over ``drivers.open_hours``, 7 days a week, and the weekly volume is 0.

    Returns
    -------
    (shares, aht_s, weekly_volume)
        ``shares`` sums to 1; ``aht_s`` is ``drivers.aht_s`` or the volume-weighted mean of
        the history (NaN when neither exists).
    """
    n = slots_per_week(interval_s)
    h = None
    if history is not None and len(history):
        h = history[history["queue"] == queue.id]
        if len(h):
            h = h[h["interval_start"] > h["interval_start"].max() - pd.Timedelta(days=days)]
    if h is None or not len(h) or float(h["volume"].sum()) <= 0:
        lo, hi = drivers.open_hours
        tod_h = (np.arange(n) % (86400 // interval_s)) * interval_s / 3600.0
        shares = ((tod_h >= lo) & (tod_h < hi)).astype(float)
        if shares.sum() == 0:
            shares[:] = 1.0
        aht = drivers.aht_s if drivers.aht_s is not None else float("nan")
        return shares / shares.sum(), aht, 0.0
    local = h["interval_start"].dt.tz_convert(queue.tz)
    slot = ((local.dt.dayofweek * 86400 + local.dt.hour * 3600 + local.dt.minute * 60
             + local.dt.second) // interval_s).to_numpy()
    vol = h["volume"].to_numpy(dtype=float)
    shares = np.bincount(slot, weights=vol, minlength=n)[:n]
    span_days = (h["interval_start"].max() - h["interval_start"].min()).total_seconds() / 86400
    weeks_seen = max((span_days + interval_s / 86400) / 7.0, 1e-9)
    if drivers.aht_s is not None:
        aht = drivers.aht_s
    elif "aht_s" in h:
        a = h["aht_s"].to_numpy(dtype=float)
        ok = np.isfinite(a) & (vol > 0)
        aht = float(np.sum(a[ok] * vol[ok]) / np.sum(vol[ok])) if ok.any() else float("nan")
    else:
        aht = float("nan")
    return shares / shares.sum(), aht, float(vol.sum()) / weeks_seen


@dataclass(frozen=True)
class Requirement:
    """Required FTE over the horizon.

    ``by_queue``: one row per queue and week (``week``, ``week_start``, ``queue``,
    ``volume``, ``aht_s``, ``agent_hours``, ``peak_agents``, ``fte``).
    ``fte``: array (sites, skills, weeks) of required FTE after the site split.
    """

    by_queue: pd.DataFrame
    sites: tuple[str, ...]
    skills: tuple[str, ...]
    fte: np.ndarray


def fte_from_agent_hours(agent_hours: np.ndarray, fte_hours: float, shrinkage: float,
                         scheduling_efficiency: float = 1.0) -> np.ndarray:
    """``FTE = agent_hours / (fte_hours * (1 - shrinkage) * scheduling_efficiency)``.

    Examples
    --------
    >>> fte_from_agent_hours(np.array([280.0]), 40.0, 0.3).tolist()
    [10.0]
    """
    return np.asarray(agent_hours, dtype=float) / (
        fte_hours * (1.0 - shrinkage) * scheduling_efficiency)


def _default_staff(df: pd.DataFrame) -> pd.DataFrame:
    from openwfm.staffing import staff_frame

    return staff_frame(df)


def volume_levels(vol_w: np.ndarray, grid_step: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The weekly volumes to staff exactly, and each week's interpolation weights on them.

    With ``grid_step=None`` (or when the grid would not be smaller) every distinct weekly
    volume is a level (exact). Otherwise the levels are the points ``(1 + grid_step) ** k``
    (integer ``k``) that bracket the positive weekly volumes -- one fixed grid, so that
    scenarios share levels -- and a week's agent-hours are interpolated linearly in volume
    between its two levels. Zero-volume weeks need no staffing.

    Examples
    --------
    >>> lv, w = volume_levels(np.array([0.0, 100.0, 100.0, 121.0]), None)
    >>> lv.tolist(), w.tolist()
    ([100.0, 121.0], [[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> v = 1.1 ** np.array([48.0, 48.25, 48.5, 49.0, 49.25])
    >>> lv, w = volume_levels(v, 0.1)
    >>> (np.log(lv) / np.log(1.1)).round(6).tolist(), bool(np.allclose(w @ lv, v))
    ([48.0, 49.0, 50.0], True)
    """
    vol_w = np.asarray(vol_w, dtype=float)
    pos = vol_w > 0
    if not pos.any():
        return np.zeros(0), np.zeros((len(vol_w), 0))
    distinct = np.unique(vol_w[pos])
    if grid_step is not None:
        r = np.log1p(grid_step)
        k_lo = int(np.floor(np.log(distinct[0]) / r + 1e-9))
        k_hi = int(np.ceil(np.log(distinct[-1]) / r - 1e-9))
        k_hi = max(k_hi, k_lo + 1)
    if grid_step is None or k_hi - k_lo + 1 >= len(distinct):
        return distinct, (vol_w[:, None] == distinct[None, :]).astype(float)
    levels = np.exp(np.arange(k_lo, k_hi + 1) * r)
    w = np.zeros((len(vol_w), len(levels)))
    for i in np.flatnonzero(pos):
        v = vol_w[i]
        k = int(np.clip(np.searchsorted(levels, v, side="right") - 1, 0, len(levels) - 2))
        f = (v - levels[k]) / (levels[k + 1] - levels[k])
        w[i, k], w[i, k + 1] = 1.0 - f, f
    keep = w.any(axis=0)
    return levels[keep], w[:, keep]


def _staff_levels(levels: np.ndarray, shares: np.ndarray, aht_s: float, q: Queue,
                  interval_s: int, staff: StaffFn,
                  cache: dict[tuple[object, ...], tuple[float, float]] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Agent-hours and peak agents of a representative week at each weekly volume level.

    Voice and chat rows are staffed interval by interval (zero-volume intervals need no
    one). Email rows form one backlog group per level over the whole week, in slot order,
    on hourly slots when `interval_s` divides an hour (the deadline is hours long, so the
    finer grid changes little and costs four times the work). `cache` keeps results by
    queue, pattern, handle time and level across calls (scenarios share levels).
    """
    if not len(levels):
        return np.zeros(0), np.zeros(0)
    email = q.channel.value == "email"
    if email and 3600 % interval_s == 0 and interval_s < 3600:
        shares = shares.reshape(-1, 3600 // interval_s).sum(axis=1)
        interval_s = 3600
    key = (q, float(aht_s), interval_s, hash(shares.tobytes()))
    cache = {} if cache is None else cache
    todo = [lv for lv in levels if (*key, float(lv)) not in cache]
    if todo:
        slot_vol = np.asarray(todo)[:, None] * shares[None, :]
        n_lv, n_slots = slot_vol.shape
        mask = np.ones_like(slot_vol, dtype=bool) if email else slot_vol > 0
        agents = np.zeros_like(slot_vol)
        frame = pd.DataFrame({
            "queue": np.repeat([f"{q.id}@{i}" for i in range(n_lv)], n_slots)[mask.ravel()],
            "volume": slot_vol[mask],
            "aht_s": aht_s,
            "interval_s": interval_s,
            "patience_s": q.patience_s,
            "sl_target": q.goal.sl_target,
            "sl_seconds": q.goal.answer_within_s,
            "channel": q.channel.value,
            "concurrency": q.concurrency,
            "max_occupancy": q.goal.max_occupancy,
        })
        agents[mask] = staff(frame)["agents"].to_numpy(dtype=float)
        for lv, hours, peak in zip(todo, agents.sum(axis=1) * interval_s / 3600.0,
                                   agents.max(axis=1), strict=True):
            cache[(*key, float(lv))] = (float(hours), float(peak))
    got = np.array([cache[(*key, float(lv))] for lv in levels])
    return got[:, 0], got[:, 1]


def required_fte(inp: CapacityInputs, scenario: Scenario, history: pd.DataFrame | None,
                 staff: StaffFn | None = None, grid_step: float | None = 0.03,
                 cache: dict[tuple[object, ...], tuple[float, float]] | None = None,
                 ) -> Requirement:
    """Required FTE per queue and week, and per (site, skill, week).

    Parameters
    ----------
    inp : CapacityInputs
    scenario : Scenario
        Queues (channel, goal, patience, concurrency, time zone) and ``interval_s``.
    history : DataFrame or None
        An interval table (``interval_start`` UTC, ``queue``, ``volume``, ``aht_s``): the
        intraday pattern, the base weekly volume and AHT when the inputs do not give them.
    staff : callable, optional
        The staffing engine; default `openwfm.staffing.staff_frame`.
    grid_step : float or None
        Staff exactly at weekly volume levels at most this far apart (relative) and
        interpolate the weeks between (see `volume_levels`); None staffs every week.
    cache : dict, optional
        Staffed levels kept across calls (pass the same dict to scenarios).

    Raises
    ------
    InputError
        When a queue has neither history nor ``aht_s``/``weekly_volume`` inputs.
    """
    staff = staff or _default_staff
    file = str(scenario.source) if scenario.source else "<scenario>"
    starts = inp.week_starts()
    interval_s = scenario.interval_s
    rows = []
    queues = {q.id: q for q in (*scenario.queues, *inp.new_queues)}
    for drv in inp.drivers:
        q = queues[drv.queue]
        shares, aht, hist_weekly = intraday_pattern(history, q, interval_s, drv)
        if drv.pattern_from is not None:
            src = queues[drv.pattern_from]
            shares, src_aht, _ = intraday_pattern(history, src, interval_s, drv)
            aht = drv.aht_s if drv.aht_s is not None else src_aht
        launches = [la for la in inp.launches if la.queue == q.id]
        base = drv.weekly_volume if drv.weekly_volume is not None else hist_weekly
        vol_w = weekly_volume(base, drv, launches, starts, inp.volume_factor)
        if not np.isfinite(aht) and vol_w.sum() > 0:
            raise InputError(f"capacity.queues ({q.id}): no history to take the handle time "
                             "from; give 'aht_s'", file=file, column="aht_s")
        levels, weights = volume_levels(vol_w, grid_step)
        hours_l, peak_l = _staff_levels(levels, shares, aht, q, interval_s, staff, cache)
        hours = weights @ hours_l
        peak = weights @ peak_l
        fte = fte_from_agent_hours(hours, inp.fte_hours, inp.shrinkage,
                                   inp.scheduling_efficiency)
        rows.append(pd.DataFrame({
            "week": np.arange(inp.weeks), "week_start": pd.to_datetime(starts),
            "queue": q.id, "volume": vol_w, "aht_s": aht, "agent_hours": hours,
            "peak_agents": peak, "fte": fte}))
    by_queue = pd.concat(rows, ignore_index=True)
    return Requirement(by_queue=by_queue, sites=tuple(s.name for s in inp.sites),
                       skills=tuple(k.name for k in inp.skills),
                       fte=split_by_site(inp, by_queue))


def split_by_site(inp: CapacityInputs, by_queue: pd.DataFrame) -> np.ndarray:
    """Required FTE per (site, skill, week): the skill's queues summed, times site share."""
    sites = [s.name for s in inp.sites]
    out = np.zeros((len(sites), len(inp.skills), inp.weeks))
    fte_q = {q: g.sort_values("week")["fte"].to_numpy() for q, g in by_queue.groupby("queue")}
    for j, k in enumerate(inp.skills):
        total = sum((fte_q[q] for q in k.queues if q in fte_q), np.zeros(inp.weeks))
        for site, share in k.site_shares.items():
            out[sites.index(site), j] += share * total
    return out
