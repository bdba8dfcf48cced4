"""The demo center's interval history: a seeded, date-independent generative model.

Every queue's contacts follow its **customers' local clock** (the queue's ``tz``), so the
UTC shape moves when New York, Paris or Moscow change their offset, while the local peak
hour stays put. For each interval (15 min) the expected number of contacts is::

    rate = daily_volume * weekly[weekday] * hourly(local time) * open(local time)
           * (1 + trend_yearly) ** (years since trend_origin)
           * holiday (on the market's public holidays, from the `holidays` package)
           * day effect ~ Gamma(mean 1, cv day_cv)          (one per local day)

and the offered count is Poisson-gamma (negative binomial): ``Poisson(rate * G)`` with
``G ~ Gamma(dispersion, 1 / dispersion)``. ``weekly`` and ``hourly`` are normalised so that
`daily_volume` is the mean contacts per day of an ordinary week at `trend_origin`.

Abandoned contacts are binomial with a rate that rises with the intraday load (staffing is
always a little tight at the peaks) and varies from day to day; ``handled = volume -
abandoned``. The observed ``aht_s`` of an interval is the mean of ``handled`` handle times
with coefficient of variation `aht_cv` (a gamma draw with that mean and variance); the true
mean is ``aht_s * (1 + aht_night * (1 + cos(2 pi (h - 3) / 24)) / 2)`` at local hour ``h``:
longest at 03:00, shortest at 15:00. Intervals without handled contacts have ``aht_s = NaN``.

Rows exist for every interval of every local day, including closed hours (volume 0).

References
----------
Brown, L. et al. (2005). Statistical analysis of a telephone call center: a queueing-science
perspective. JASA 100(469): arrivals are Poisson with a random, over-dispersed rate; service
times are roughly lognormal.
Gans, N., Koole, G. and Mandelbaum, A. (2003). Telephone call centers: tutorial, review and
research prospects. MSOM 5(2).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as _holidays
import numpy as np
import pandas as pd

from openwfm.errors import InputError
from openwfm.scenario import Scenario
from openwfm.schema import DemoSpec, ProfileSpec, validate

__all__ = ["HistoryModel", "QueueModel", "generate_actuals", "generate_history", "opening_mask",
           "parse_history_model"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WINDOW = re.compile(
    r"^\s*(?P<d0>[A-Z][a-z]{2})(?:-(?P<d1>[A-Z][a-z]{2}))?\s+"
    r"(?P<h0>\d{2}):(?P<m0>\d{2})-(?P<h1>\d{2}):(?P<m1>\d{2})\s*$")


@dataclass(frozen=True)
class QueueModel:
    """How one queue's history is generated (one ``[[demo.queues]]`` table).

    Attributes
    ----------
    id : str
        The queue id (one of the scenario's queues).
    hourly : tuple of float
        24 weights of the local hours 00..23 (any scale).
    weekly : tuple of float
        7 weights Monday..Sunday (any scale).
    hours : tuple of str
        Opening windows in local time, e.g. ``("Mon-Fri 08:00-18:00", "Sat 09:00-13:00")``.
    daily_volume : float
        Mean contacts per day over an ordinary week at the trend origin.
    trend_yearly : float
        Relative growth per year (0.12 = +12 %/year).
    holiday : float
        Volume factor on the market's public holidays (0 = closed).
    aht_s : float
        Mean handle time at 15:00 local, seconds.
    aht_night : float
        Relative AHT increase at 03:00 local.
    abandon : float
        Mean abandonment rate (0 for email).
    """

    id: str
    hourly: tuple[float, ...]
    weekly: tuple[float, ...]
    hours: tuple[str, ...]
    daily_volume: float
    trend_yearly: float = 0.0
    holiday: float = 1.0
    aht_s: float = 300.0
    aht_night: float = 0.0
    abandon: float = 0.0


@dataclass(frozen=True)
class HistoryModel:
    """The whole ``[demo]`` section: span, seed, noise levels and one model per queue.

    Attributes
    ----------
    seed : int
        Root seed; each queue draws from ``default_rng([seed, crc32(queue id)])``, so a
        queue's history does not depend on the order or number of the other queues.
    first_day, last_day : datetime.date
        First and last local day of history (per queue, in the queue's zone).
    trend_origin : datetime.date
        The date at which `QueueModel.daily_volume` holds.
    day_cv : float
        Coefficient of variation of the day effect.
    dispersion : float
        Shape of the interval-level gamma mixing (larger = closer to Poisson).
    aht_cv : float
        Coefficient of variation of individual handle times.
    queues : tuple of QueueModel
    """

    seed: int
    first_day: date
    last_day: date
    trend_origin: date
    queues: tuple[QueueModel, ...]
    day_cv: float = 0.07
    dispersion: float = 80.0
    aht_cv: float = 0.9


def opening_mask(hours: tuple[str, ...] | list[str], interval_s: int,
                 file: str = "<demo>") -> np.ndarray:
    """Boolean ``(7, 86400 // interval_s)`` matrix: open at weekday (Mon = 0) and slot.

    An interval is open when its start lies in a window ``[from, to)``.

    Examples
    --------
    >>> m = opening_mask(["Mon-Fri 08:00-18:00", "Sat 09:00-13:00"], 3600)
    >>> m.sum(axis=1).tolist()
    [10, 10, 10, 10, 10, 4, 0]
    >>> bool(m[0, 8]), bool(m[0, 18])
    (True, False)
    """
    slots = 86400 // interval_s
    mask = np.zeros((7, slots), dtype=bool)
    starts = np.arange(slots) * interval_s
    for w in hours:
        m = _WINDOW.match(str(w))
        ok = m is not None and m["d0"] in _DAYS and (m["d1"] or m["d0"]) in _DAYS
        if ok:
            d0, d1 = _DAYS.index(m["d0"]), _DAYS.index(m["d1"] or m["d0"])
            t0 = int(m["h0"]) * 3600 + int(m["m0"]) * 60
            t1 = int(m["h1"]) * 3600 + int(m["m1"]) * 60
            ok = d0 <= d1 and 0 <= t0 < t1 <= 86400
        if not ok:
            raise InputError(f"opening window {w!r}: expected 'Mon-Fri 08:00-18:00' (days "
                             "Mon..Sun, from < to, to at most 24:00)", file=file,
                             column="hours")
        mask[d0:d1 + 1, (starts >= t0) & (starts < t1)] = True
    return mask


def parse_history_model(scenario: Scenario, file: str = "<demo>") -> HistoryModel:
    """Validate the ``[demo]`` section of `scenario` (in ``scenario.extra["demo"]``); its
    keys are `openwfm.schema.DemoSpec`'s."""
    sec = scenario.extra.get("demo")
    if not isinstance(sec, dict):
        raise InputError("the scenario has no [demo] section", file=file, key="demo")
    spec = validate(DemoSpec, sec, file=file, prefix="demo")
    known = sorted(q.id for q in scenario.queues)
    queues = []
    for i, t in enumerate(spec.queues):
        where = f"demo.queues[{i}]"
        if t.id not in known:
            raise InputError(f"unknown queue {t.id!r}; expected one of {known}", file=file,
                             key=f"{where}.id")
        prof = spec.profiles.get(t.profile) if t.profile is not None else ProfileSpec()
        if prof is None:
            raise InputError(f"unknown profile {t.profile!r}; expected one of "
                             f"{sorted(spec.profiles)}", file=file, key=f"{where}.profile")
        hours = t.hours or prof.hours or ["Mon-Sun 00:00-24:00"]
        opening_mask(hours, scenario.interval_s, file)  # validates
        shape = {}
        for key in ("hourly", "weekly"):
            w = getattr(t, key) or getattr(prof, key)
            if w is None:
                raise InputError("missing required key (or a profile that has it)",
                                 file=file, key=f"{where}.{key}")
            shape[key] = tuple(w)
        queues.append(QueueModel(
            id=t.id, hourly=shape["hourly"], weekly=shape["weekly"],
            hours=tuple(hours), daily_volume=t.daily_volume, trend_yearly=t.trend_yearly,
            holiday=t.holiday, aht_s=t.aht_s, aht_night=t.aht_night, abandon=t.abandon))
    missing = set(known) - {q.id for q in queues}
    if missing:
        raise InputError(f"no [[demo.queues]] model for {sorted(missing)}", file=file,
                         key="demo.queues")
    return HistoryModel(
        seed=spec.seed,
        first_day=spec.first_day,
        last_day=spec.last_day,
        trend_origin=spec.trend_origin or spec.last_day,
        queues=tuple(queues),
        day_cv=spec.day_cv,
        dispersion=spec.dispersion,
        aht_cv=spec.aht_cv,
    )


def _queue_history(q: QueueModel, tz: str, market: str, model: HistoryModel,
                   interval_s: int, last_day: date) -> pd.DataFrame:
    zone = ZoneInfo(tz)
    start = pd.Timestamp(datetime.combine(model.first_day, time(0), tzinfo=zone))
    stop = pd.Timestamp(datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone))
    utc = pd.date_range(start.tz_convert("UTC"), stop.tz_convert("UTC"),
                        freq=f"{interval_s}s", inclusive="left")
    wall = utc.tz_convert(zone).tz_localize(None).to_numpy()  # local wall clock
    day = wall.astype("datetime64[D]")
    sec_of_day = (wall - day).astype("timedelta64[s]").astype(np.int64)
    slot = sec_of_day // interval_s
    wd = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    rng = np.random.default_rng([model.seed, zlib.crc32(q.id.encode())])

    # Intraday and weekly shape on the nominal grid, normalised to a mean day of 1.
    slots = 86400 // interval_s
    hour_c = (np.arange(slots) * interval_s + interval_s / 2) / 3600.0
    hourly = np.interp(hour_c, np.arange(24) + 0.5, np.asarray(q.hourly), period=24)
    shape = np.asarray(q.weekly)[:, None] * hourly[None, :]
    shape *= opening_mask(q.hours, interval_s)
    total = shape.sum() / 7.0
    shape = shape / total if total > 0 else shape

    # Day-level factors: trend, holidays, day effect (one draw per local day).
    days, inv = np.unique(day, return_inverse=True)
    years = sorted({int(str(d)[:4]) for d in days})
    hol = {np.datetime64(d, "D") for d in _holidays.country_holidays(market, years=years)}
    is_hol = np.array([d in hol for d in days])
    t_years = (days - np.datetime64(model.trend_origin, "D")).astype(float) / 365.25
    trend = (1.0 + q.trend_yearly) ** t_years
    k_day = 1.0 / model.day_cv**2 if model.day_cv > 0 else np.inf
    day_eff = rng.gamma(k_day, 1.0 / k_day, len(days)) if np.isfinite(k_day) else 1.0
    day_factor = trend * np.where(is_hol, q.holiday, 1.0) * day_eff

    rate = q.daily_volume * shape[wd, slot] * day_factor[inv]
    mix = rng.gamma(model.dispersion, 1.0 / model.dispersion, len(rate))
    volume = rng.poisson(rate * mix).astype(float)

    # Abandonment: higher at the intraday peak, varies from day to day.
    peak = shape.max()
    load = shape[wd, slot] / peak if peak > 0 else np.zeros(len(rate))
    p_day = np.exp(rng.normal(0.0, 0.25, len(days)))
    p_ab = np.clip(q.abandon * (0.6 + 0.8 * load) * p_day[inv], 0.0, 0.5)
    abandoned = rng.binomial(volume.astype(np.int64), p_ab).astype(float)
    handled = volume - abandoned

    # AHT: mean of `handled` handle times with cv aht_cv around an hour-of-day profile.
    h = (sec_of_day + interval_s / 2) / 3600.0
    aht_true = q.aht_s * (1.0 + q.aht_night * (1.0 + np.cos(2 * np.pi * (h - 3.0) / 24)) / 2)
    n = np.maximum(handled, 1.0)
    cv2 = max(model.aht_cv, 1e-9) ** 2
    aht = rng.gamma(n / cv2, aht_true * cv2 / n)
    aht = np.where(handled > 0, np.round(aht, 1), np.nan)
    return pd.DataFrame({"interval_start": utc, "queue": q.id, "volume": volume,
                         "aht_s": aht, "handled": handled, "abandoned": abandoned})


def _plan_window(scenario: Scenario) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(datetime.combine(scenario.plan_start, time(0),
                                          tzinfo=ZoneInfo(scenario.plan_tz)))
    return (start.tz_convert("UTC"),
            (start + pd.Timedelta(days=scenario.plan_days)).tz_convert("UTC"))


def _generate(scenario: Scenario, model: HistoryModel | None) -> pd.DataFrame:
    """History and plan-week actuals in one draw, so that each is the same whether or not
    the other is asked for."""
    model = model or parse_history_model(scenario, str(scenario.source or "<demo>"))
    by_id = {m.id: m for m in model.queues}
    _, plan1 = _plan_window(scenario)
    # local days through the one that holds the plan's end in every zone (+1 day)
    last = max(model.last_day, (plan1 + pd.Timedelta(days=1)).date())
    parts = [_queue_history(by_id[q.id], q.tz, q.market, model, scenario.interval_s, last)
             for q in scenario.queues]
    out = pd.concat(parts, ignore_index=True)
    out["interval_start"] = out["interval_start"].astype("datetime64[ns, UTC]")
    return out


def generate_history(scenario: Scenario, model: HistoryModel | None = None) -> pd.DataFrame:
    """The interval table of `scenario`'s history from its ``[demo]`` model.

    Each queue covers the whole local days `first_day` .. `last_day` of its customers'
    zone, clipped so that nothing reaches into the plan (``plan_start`` 00:00 in
    ``plan_tz``). Nothing here reads the clock: the same scenario gives the same table.

    Returns
    -------
    pandas.DataFrame
        ``interval_start`` (``datetime64[ns, UTC]``), ``queue``, ``volume``, ``aht_s``,
        ``handled``, ``abandoned``; one block per queue in scenario order, time-sorted.

    Examples
    --------
    >>> from openwfm.demo import demo_scenario
    >>> h = generate_history(demo_scenario())
    >>> list(h.columns)
    ['interval_start', 'queue', 'volume', 'aht_s', 'handled', 'abandoned']
    >>> str(h["interval_start"].dtype)
    'datetime64[ns, UTC]'
    """
    model = model or parse_history_model(scenario, str(scenario.source or "<demo>"))
    full = _generate(scenario, model)
    plan0, _ = _plan_window(scenario)
    t = full["interval_start"]
    ends = {q.id: pd.Timestamp(datetime.combine(model.last_day + timedelta(days=1), time(0),
                                                tzinfo=ZoneInfo(q.tz))).tz_convert("UTC")
            for q in scenario.queues}
    end = full["queue"].map(ends).astype("datetime64[ns, UTC]")
    keep = (t < end) & (t < plan0)
    return full[keep.to_numpy()].reset_index(drop=True)


def generate_actuals(scenario: Scenario, model: HistoryModel | None = None) -> pd.DataFrame:
    """What "really happened" in the plan week: the same model continued past the history.

    The same columns as `generate_history`, for the UTC intervals of the plan window
    (``plan_days`` from ``plan_start`` 00:00 in ``plan_tz``). Use it to score a forecast or
    to replay a schedule against realized traffic; never to plan.

    Examples
    --------
    >>> from openwfm.demo import demo_scenario
    >>> s = demo_scenario()
    >>> a = generate_actuals(s)
    >>> len(a) == len(s.queues) * s.plan_days * 86400 // s.interval_s
    True
    """
    full = _generate(scenario, model)
    plan0, plan1 = _plan_window(scenario)
    t = full["interval_start"]
    return full[((t >= plan0) & (t < plan1)).to_numpy()].reset_index(drop=True)
