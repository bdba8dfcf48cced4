"""Intraday reforecast: the rest of today's volume and AHT from the actuals so far.

At an instant ``now`` of a queue's local day, the morning forecast of the day is split into
the intervals already complete (``so far``: they end at or before ``now``) and the rest
(they start at or after ``now``). Per queue:

**Volume level** (Bühlmann credibility; Poisson-gamma as its special case). The day runs at
an unknown multiple of the forecast: a level ``λ`` shared by the whole day (variance ``c``)
times, for the hours before ``now``, a part-of-day effect that does not carry over
(variance ``v``); the contacts so far are ``A ~ Poisson(λ' F)`` where ``F`` is the
forecast so far. The best linear predictor of the rest of the day is

    volume_rest = f_rest × (1 + Z (A/F - 1)),   Z = c / (c + v + 1/F)

(``Z = 0`` when ``F = 0``). With ``v = 0`` this is exactly the Poisson-gamma posterior mean
with prior ``λ ~ Gamma(k, k)``, ``k = 1/c``: ``(k + A) / (k + F)`` — the ratio of actual to
forecast counts in proportion to the volume seen.

**Recency.** The level drifts during a day: the last hours before ``now`` tell more about
the afternoon than the first ones. With a half-life ``H`` (hours), the interval that ended ``t``
hours before ``now`` weighs ``w = 0.5^(t / H)`` and ``A``, ``F`` are the weighted sums
``sum w a``, ``sum w f``; the Poisson variance of the ratio ``A/F`` is then ``E / F²`` with
``E = sum w² f``, so ``Z = c / (c + v + E / F²)`` (``H = None``: every interval weighs 1,
``E = F``, the formula above). ``H`` is chosen from the history alone
(`choose_level_weighting`): on each past day, the same weekday's other days stand for the
morning forecast, every candidate of `HALFLIFE_CANDIDATES_H` reforecasts the rest of the
day from ``now``'s local time, and the one with the lowest absolute error summed over those
days and the queues wins (ties: the earlier candidate, whole-morning first).

``c`` and ``v`` are estimated per queue
from the history alone (`level_prior_contacts`, empirical Bayes by moments): over past local
days, with ``r = actual / mean of the same weekday's other days`` before and after ``now``'s
local time, ``c = Cov(r_before, r_after)`` (the part of a day's level that carries over; the
Poisson noise of the two parts is independent and drops out) and ``v = Var(r_before) -
mean(1/expected_before) - c``, both floored at 0. Without enough history (fewer than three
usable days) ``c = FALLBACK_LEVEL_VARIANCE``, ``v = 0``.

**AHT level**, the same way: ``R`` = handled-weighted ratio of actual to forecast AHT so far,
``H`` contacts handled so far, ``aht_rest = aht_forecast × (1 + Z (R - 1))`` with ``Z = c /
(c + v + CV²/H)``, CV² = `HANDLE_TIME_CV2` (an exponential handle time).

**Bands**: each rest interval keeps the morning forecast's bands (from its backtest
residuals) scaled by the volume level; the level's own uncertainty is given for the rest of
the day as a whole: the shared level's posterior has mean ``m`` (the factor) and variance
``c (1 - Z)``; as a gamma, with Poisson counts, the rest-of-day total is negative binomial,
its 10/90 % and 2.5/97.5 % quantiles in `Reforecast.levels`.

The requirement of the rest of the day is `openwfm.staffing.staff_frame` on the reforecast
(`rest_requirement`).

References
----------
Bühlmann, H., Gisler, A. (2005). A Course in Credibility Theory and its Applications,
ch. 2 (Poisson-gamma, credibility weight n / (n + k)) and ch. 4 (Bühlmann-Straub).
Weinberg, J., Brown, L. D., Stroud, J. R. (2007). Bayesian forecasting of an
inhomogeneous Poisson process with applications to call center data. JASA 102(480).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

import numpy as np
import pandas as pd
from scipy import stats

from openwfm.errors import InputError
from openwfm.forecast.calendar import check_tz, local_keys, weekday_of

__all__ = [
    "HALFLIFE_CANDIDATES_H",
    "LevelWeighting",
    "Reforecast",
    "choose_level_weighting",
    "level_factor",
    "level_prior_contacts",
    "reforecast_day",
    "rest_requirement",
]

#: Day-level variance assumed when history cannot estimate it (a 10 % standard deviation).
FALLBACK_LEVEL_VARIANCE = 0.01
#: Squared coefficient of variation of one handle time (exponential: 1).
HANDLE_TIME_CV2 = 1.0
#: Half-lives (hours) of the recency weights the level is chosen among (None: equal
#: weights over the whole day so far), in the order ties are broken.
HALFLIFE_CANDIDATES_H: tuple[float | None, ...] = (None, 4.0, 2.0, 1.0)


@dataclass(frozen=True)
class LevelWeighting:
    """How the intervals so far weigh in the volume level (`choose_level_weighting`).

    Attributes
    ----------
    halflife_h : float or None
        Half-life in hours of the recency weights; None: equal weights.
    errors : tuple of (float or None, float)
        Each candidate half-life and its absolute rest-of-day error summed over the past
        days it was tried on (empty when given by hand).
    days : int
        Past days the choice was made on.
    """

    halflife_h: float | None = None
    errors: tuple[tuple[float | None, float], ...] = ()
    days: int = 0


def level_factor(forecast_so_far: np.ndarray, actual_so_far: np.ndarray, age_h: np.ndarray,
                 level_var: float, part_var: float,
                 halflife_h: float | None = None) -> tuple[float, float]:
    """(volume factor, credibility Z) of one queue from its intervals so far.

    ``w = 0.5^(age / H)`` (1 without `halflife_h`), ``F = sum w f``, ``A = sum w a``,
    ``E = sum w² f``; ``Z = c / (c + v + E / F²)`` and the factor ``1 + Z (A/F - 1)``
    (1 and 0 when ``F = 0`` or ``c = 0``).

    Examples
    --------
    Forecast 10 an hour, actual 15 an hour for 12 hours, ``c = 1/120``: Z = 1/2.

    >>> level_factor(np.full(12, 10.0), np.full(12, 15.0), np.arange(12.0), 1 / 120, 0.0)
    (1.25, 0.5)

    With a one-hour half-life the last hours count most (only they ran at 30):

    >>> a = np.r_[np.full(10, 10.0), 30.0, 30.0]
    >>> f, z = level_factor(np.full(12, 10.0), a, np.arange(12.0)[::-1], 1.0, 0.0, 1.0)
    >>> round(f, 3), round(z, 3)
    (2.452, 0.968)
    """
    f = np.asarray(forecast_so_far, dtype=float)
    a = np.asarray(actual_so_far, dtype=float)
    w = (0.5 ** (np.asarray(age_h, dtype=float) / halflife_h) if halflife_h
         else np.ones(len(f)))
    big_f = float(np.sum(w * f))
    if big_f <= 0 or level_var <= 0:
        return 1.0, 0.0
    big_a = float(np.sum(w * a))
    e = float(np.sum(w * w * f))
    z = level_var / (level_var + part_var + e / big_f**2)
    return 1.0 + z * (big_a / big_f - 1.0), z


@dataclass(frozen=True, eq=False)
class Reforecast:
    """The rest of a day, reforecast.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per queue and rest-of-day interval: ``interval_start`` (UTC), ``queue``,
        ``volume`` and ``aht_s`` (reforecast), ``volume_lo_80`` ... ``volume_hi_95``
        (morning bands x level), ``volume_morning`` and ``aht_s_morning`` (the morning
        forecast).
    levels : pandas.DataFrame
        One row per queue: ``forecast_so_far``, ``actual_so_far``, ``level_var`` (c),
        ``part_var`` (v), ``credibility`` (Z), ``volume_factor``, ``handled_so_far``,
        ``aht_ratio``, ``aht_factor``, ``rest_morning``,
        ``rest_volume`` and its predictive ``rest_lo_80``, ``rest_hi_80``, ``rest_lo_95``,
        ``rest_hi_95``.
    now : pandas.Timestamp
    """

    frame: pd.DataFrame
    levels: pd.DataFrame
    now: pd.Timestamp


def _tz_of(tz: str | Mapping[str, str], queue: str) -> str:
    return check_tz(tz.get(queue, "UTC") if isinstance(tz, Mapping) else tz)


def _by_day(history: pd.DataFrame, tz: str, interval_s: int, cols: list[str],
            split_slot: int | None) -> dict[str, pd.DataFrame]:
    """Sums of `cols` per local day: the whole day, or before / after `split_slot`."""
    days, slots = local_keys(pd.DatetimeIndex(history["interval_start"]), tz, interval_s)
    frame = pd.DataFrame({c: history[c].to_numpy(dtype=float) for c in cols})
    if split_slot is None:
        return {"day": frame.groupby(days).sum()}
    out = {}
    for part, mask in (("before", slots < split_slot), ("after", slots >= split_slot)):
        out[part] = frame[mask].groupby(days[mask]).sum()
    idx = out["before"].index.union(out["after"].index)
    return {k: v.reindex(idx, fill_value=0.0) for k, v in out.items()}


def level_prior_contacts(
    history: pd.DataFrame, *, tz: str | Mapping[str, str] = "UTC", interval_s: int = 1800,
    split: time | None = None,
) -> pd.DataFrame:
    """Level variances per queue (volume and AHT), from history alone (empirical Bayes).

    Each past local day's *expected* volume is the mean of the same weekday's other days;
    ``r = actual / expected``.

    * with `split` (the local time of the reforecast): ``level_var = Cov(r_before,
      r_after)``, the day level that carries over from before `split` to after, and
      ``part_var = Var(r_before) - mean(1 / expected_before) - level_var``, the part that
      does not (Poisson noise removed);
    * without: ``level_var = Var(r_day) - mean(1 / expected_day)``, ``part_var = 0``.

    Both are floored at 0. For AHT, ``r`` is the day's handled-weighted AHT over the same
    weekday's other days', the noise ``CV² / handled``. With fewer than three usable days:
    ``level_var = FALLBACK_LEVEL_VARIANCE``, ``part_var = 0``.

    Returns
    -------
    pandas.DataFrame
        ``queue``, ``level_var``, ``part_var``, ``aht_level_var``, ``aht_part_var``,
        ``days`` (NaN AHT variances without ``aht_s`` in history).

    Examples
    --------
    Every day alike: no level variance beyond Poisson noise (floored at 0), so the
    morning forecast will stand:

    >>> t = pd.date_range("2026-01-05", periods=21 * 24, freq="h", tz="UTC")
    >>> h = pd.DataFrame({"interval_start": t, "queue": "q", "volume": 10.0})
    >>> level_prior_contacts(h, split=time(12))[["level_var", "part_var", "days"]]
       level_var  part_var  days
    0        0.0       0.0    21
    """
    split_slot = None
    if split is not None:
        split_slot = (split.hour * 3600 + split.minute * 60 + split.second) // interval_s
    rows = []
    for queue, g in history.groupby("queue", sort=True):
        qtz = _tz_of(tz, str(queue))
        vol = _by_day(g, qtz, interval_s, ["volume"], split_slot)
        first = next(iter(vol.values()))
        wd = weekday_of(first.index.to_numpy().astype("datetime64[D]"))
        c, v = _prior({p: x["volume"].to_numpy() for p, x in vol.items()}, None, wd)
        ca, va = np.nan, np.nan
        if "aht_s" in g.columns:
            w = g["handled"] if "handled" in g.columns else g["volume"]
            ok = g["aht_s"].notna() & (w > 0)
            gg = g[ok].assign(_w=w[ok].to_numpy(dtype=float),
                              _hs=(w[ok] * g.loc[ok, "aht_s"]).to_numpy(dtype=float))
            if len(gg):
                parts = _by_day(gg, qtz, interval_s, ["_hs", "_w"], split_slot)
                wd_a = weekday_of(next(iter(parts.values())).index.to_numpy()
                                  .astype("datetime64[D]"))
                ca, va = _prior({p: x["_hs"].to_numpy() for p, x in parts.items()},
                                {p: x["_w"].to_numpy() for p, x in parts.items()}, wd_a)
        rows.append({"queue": str(queue), "level_var": c, "part_var": v,
                     "aht_level_var": ca, "aht_part_var": va, "days": len(first)})
    return pd.DataFrame(rows, columns=["queue", "level_var", "part_var", "aht_level_var",
                                       "aht_part_var", "days"])


def choose_level_weighting(
    history: pd.DataFrame, *, split: time, tz: str | Mapping[str, str] = "UTC",
    interval_s: int = 1800, priors: pd.DataFrame | None = None,
    candidates: tuple[float | None, ...] = HALFLIFE_CANDIDATES_H,
) -> LevelWeighting:
    """Choose the recency half-life of the level from past days (rolling validation).

    On every past local day of `history` that has another day of the same weekday, the
    mean of those other days (per queue and interval) stands for the morning forecast; each
    candidate half-life reforecasts the rest of the day from `split` (`level_factor`, with
    each queue's `priors`); its error is ``sum |forecast x factor - actual|`` over the
    intervals from `split` to midnight, summed over queues and days. The lowest total wins,
    ties going to the earlier candidate. Nothing of the day being reforecast is used: call
    it with the history before that day.

    Examples
    --------
    A level that jumps to 2x at 10:00 every other day: the recent hours tell the
    afternoon, so a short half-life wins.

    >>> t = pd.date_range("2026-01-05", periods=28 * 24, freq="h", tz="UTC")
    >>> jump = ((t.day % 2) == 0) & (t.hour >= 10)
    >>> h = pd.DataFrame({"interval_start": t, "queue": "q",
    ...                   "volume": np.where(jump, 40.0, 20.0)})
    >>> choose_level_weighting(h, split=time(12), interval_s=3600).halflife_h
    1.0
    """
    split_slot = (split.hour * 3600 + split.minute * 60 + split.second) // interval_s
    slots = 86400 // interval_s
    prior_map = priors.set_index("queue") if priors is not None else None
    errors = dict.fromkeys(candidates, 0.0)
    n_days = 0
    for queue, g in history.groupby("queue", sort=True):
        q = str(queue)
        days, slot = local_keys(pd.DatetimeIndex(g["interval_start"]), _tz_of(tz, q),
                                interval_s)
        uniq, row = np.unique(days, return_inverse=True)
        grid = np.zeros((len(uniq), slots))
        np.add.at(grid, (row, slot), g["volume"].to_numpy(dtype=float))
        wd = weekday_of(uniq.astype("datetime64[D]"))
        c, v = FALLBACK_LEVEL_VARIANCE, 0.0
        if prior_map is not None and q in prior_map.index:
            c, v = (float(prior_map.loc[q, x]) for x in ("level_var", "part_var"))
        age = (split_slot - 1 - np.arange(split_slot)) * interval_s / 3600.0
        used = 0
        for j in range(len(uniq)):
            same = (wd == wd[j]) & (np.arange(len(uniq)) != j)
            if not same.any():
                continue
            used += 1
            f = grid[same].mean(axis=0)
            for h in candidates:
                factor, _ = level_factor(f[:split_slot], grid[j, :split_slot], age, c, v, h)
                errors[h] += float(np.abs(f[split_slot:] * factor
                                          - grid[j, split_slot:]).sum())
        n_days = max(n_days, used)
    if n_days == 0:
        return LevelWeighting(halflife_h=None, errors=(), days=0)
    best = min(candidates, key=lambda h: (round(errors[h], 9), candidates.index(h)))
    return LevelWeighting(halflife_h=best, errors=tuple(errors.items()), days=n_days)


def _loo_weekday_mean(values: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for w in np.unique(weekdays):
        idx = np.flatnonzero(weekdays == w)
        if len(idx) < 2:
            continue
        total = values[idx].sum()
        out[idx] = (total - values[idx]) / (len(idx) - 1)
    return out


def _ratios(totals: np.ndarray, weights: np.ndarray | None,
            weekdays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per day: actual / expected (volume) or AHT / expected AHT, and the Poisson-like
    noise variance of that ratio (1 / expected, or CV² / handled)."""
    if weights is None:
        expected = _loo_weekday_mean(totals, weekdays)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(expected > 0, totals / expected, np.nan)
            noise = np.where(expected > 0, 1.0 / expected, np.nan)
        return r, noise
    loo_hs = _loo_weekday_mean(totals, weekdays)
    loo_n = _loo_weekday_mean(weights, weekdays)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (weights > 0) & (loo_n > 0) & (loo_hs > 0)
        r = np.where(ok, (totals / weights) / (loo_hs / loo_n), np.nan)
        noise = np.where(ok, HANDLE_TIME_CV2 / weights, np.nan)
    return r, noise


def _prior(totals: dict[str, np.ndarray], weights: dict[str, np.ndarray] | None,
           weekdays: np.ndarray) -> tuple[float, float]:
    """(level_var, part_var) from per-day totals (see `level_prior_contacts`)."""
    if "day" in totals:
        r, noise = _ratios(totals["day"], weights["day"] if weights else None, weekdays)
        ok = np.isfinite(r)
        if ok.sum() < 3:
            return FALLBACK_LEVEL_VARIANCE, 0.0
        return max(float(np.var(r[ok], ddof=1) - np.mean(noise[ok])), 0.0), 0.0
    rb, nb = _ratios(totals["before"], weights["before"] if weights else None, weekdays)
    ra, _ = _ratios(totals["after"], weights["after"] if weights else None, weekdays)
    ok = np.isfinite(rb) & np.isfinite(ra)
    if ok.sum() < 3:
        return FALLBACK_LEVEL_VARIANCE, 0.0
    c = max(float(np.cov(rb[ok], ra[ok])[0, 1]), 0.0)
    v = max(float(np.var(rb[ok], ddof=1) - np.mean(nb[ok])) - c, 0.0)
    return c, v


def reforecast_day(
    forecast: pd.DataFrame,
    actuals: pd.DataFrame,
    now: pd.Timestamp,
    *,
    tz: str | Mapping[str, str] = "UTC",
    interval_s: int = 1800,
    priors: pd.DataFrame | None = None,
    weighting: LevelWeighting | None = None,
) -> Reforecast:
    """Reforecast the rest of `now`'s local day from the actuals so far.

    Parameters
    ----------
    forecast : pandas.DataFrame
        The morning forecast (`openwfm.forecast.forecast_queues` frame): ``interval_start``,
        ``queue``, ``volume``, optional bands and ``aht_s``.
    actuals : pandas.DataFrame
        Today's interval table so far: ``interval_start``, ``queue``, ``volume``, optional
        ``handled`` and ``aht_s``. Rows of intervals not complete at `now` are ignored.
    now : Timestamp
        The instant of the reforecast (timezone-aware).
    tz : str or Mapping[str, str]
        Zone of each queue's day.
    priors : pandas.DataFrame, optional
        `level_prior_contacts` output; a queue without a row gets ``level_var =
        FALLBACK_LEVEL_VARIANCE``, ``part_var = 0``.
    weighting : LevelWeighting, optional
        Recency weights of the level (`choose_level_weighting`); default: equal weights.

    Returns
    -------
    Reforecast

    Examples
    --------
    A queue forecast at 10 contacts per hour that ran at 15 an hour all morning:

    >>> t = pd.date_range("2026-01-05", periods=24, freq="h", tz="UTC")
    >>> f = pd.DataFrame({"interval_start": t, "queue": "q", "volume": 10.0})
    >>> a = f[t.hour < 12].assign(volume=15.0)
    >>> pri = pd.DataFrame({"queue": ["q"], "level_var": [1 / 120], "part_var": [0.0],
    ...                     "aht_level_var": [np.nan], "aht_part_var": [np.nan]})
    >>> r = reforecast_day(f, a, pd.Timestamp("2026-01-05 12:00", tz="UTC"),
    ...                    interval_s=3600, priors=pri)
    >>> lv = r.levels.iloc[0]
    >>> float(lv["volume_factor"]), float(lv["credibility"]), float(r.frame["volume"].iloc[0])
    (1.25, 0.5, 12.5)
    """
    now = pd.Timestamp(now)
    if now.tzinfo is None:
        raise InputError("now must be timezone-aware", column="now")
    for name, df in (("forecast", forecast), ("actuals", actuals)):
        for c in ("interval_start", "queue", "volume"):
            if c not in df.columns:
                raise InputError(f"the {name} has no column '{c}'", column=c)
    step = pd.Timedelta(seconds=interval_s)
    frames, levels = [], []
    prior_map = priors.set_index("queue") if priors is not None else None
    for queue, f in forecast.groupby("queue", sort=True):
        q = str(queue)
        qtz = _tz_of(tz, q)
        local_now = now.tz_convert(qtz)
        day0 = local_now.normalize().tz_convert("UTC")
        day1 = (local_now.normalize().tz_localize(None) + pd.Timedelta(days=1)).tz_localize(
            qtz, ambiguous=False, nonexistent="shift_forward").tz_convert("UTC")
        f = f[(f["interval_start"] >= day0) & (f["interval_start"] < day1)]
        past_f = f[f["interval_start"] + step <= now]
        rest = f[f["interval_start"] >= now].copy()
        a = actuals[(actuals["queue"].astype(str) == q) & (actuals["interval_start"] >= day0)
                    & (actuals["interval_start"] + step <= now)]
        a = a.merge(past_f[["interval_start", *(["aht_s"] if "aht_s" in f else [])]],
                    on="interval_start", how="inner", suffixes=("", "_forecast"))
        big_f = float(past_f["volume"].sum())
        big_a = float(a["volume"].sum())
        c, v = FALLBACK_LEVEL_VARIANCE, 0.0
        ca, va = FALLBACK_LEVEL_VARIANCE, 0.0
        if prior_map is not None and q in prior_map.index:
            c, v = (float(prior_map.loc[q, x]) for x in ("level_var", "part_var"))
            if pd.notna(prior_map.loc[q, "aht_level_var"]):
                ca, va = (float(prior_map.loc[q, x]) for x in ("aht_level_var",
                                                                "aht_part_var"))
        # forecast and actual of each complete interval so far (no actual row: 0 arrived)
        so_far = past_f[["interval_start", "volume"]].merge(
            a[["interval_start", "volume"]].rename(columns={"volume": "actual"}),
            on="interval_start", how="left").fillna({"actual": 0.0})
        age_h = ((now - (so_far["interval_start"] + step)) / pd.Timedelta(hours=1)).to_numpy()
        hl = weighting.halflife_h if weighting is not None else None
        factor, z = level_factor(so_far["volume"].to_numpy(dtype=float),
                                 so_far["actual"].to_numpy(dtype=float), age_h, c, v, hl)
        handled, ratio, aht_factor = 0.0, np.nan, 1.0
        if "aht_s" in f.columns and "aht_s" in a.columns:
            w = a["handled"] if "handled" in a.columns else a["volume"]
            ok = a["aht_s"].notna() & a["aht_s_forecast"].notna() & (w > 0)
            handled = float(w[ok].sum())
            if handled > 0:
                ratio = float((w[ok] * a.loc[ok, "aht_s"]).sum()
                              / (w[ok] * a.loc[ok, "aht_s_forecast"]).sum())
                za = ca / (ca + va + HANDLE_TIME_CV2 / handled) if ca > 0 else 0.0
                aht_factor = 1.0 + za * (ratio - 1.0)
        rest["volume_morning"] = rest["volume"]
        rest["volume"] = rest["volume"] * factor
        for band in ("volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95"):
            if band in rest.columns:
                rest[band] = rest[band] * factor
        if "aht_s" in rest.columns:
            rest["aht_s_morning"] = rest["aht_s"]
            rest["aht_s"] = rest["aht_s"] * aht_factor
        frames.append(rest)
        f_rest = float(rest["volume_morning"].sum())
        # the shared level's posterior (mean factor, variance c (1 - Z)) as a gamma
        post_var = c * (1.0 - z)
        probs = np.array([0.1, 0.9, 0.025, 0.975])
        if f_rest > 0 and post_var > 0 and factor > 0:
            shape, rate = factor**2 / post_var, factor / post_var
            qs = stats.nbinom(shape, rate / (rate + f_rest)).ppf(probs)
        else:
            qs = stats.poisson(max(f_rest * factor, 1e-12)).ppf(probs)
        levels.append({
            "queue": q, "forecast_so_far": big_f, "actual_so_far": big_a,
            "level_var": c, "part_var": v, "credibility": z, "volume_factor": factor,
            "halflife_h": hl,
            "handled_so_far": handled, "aht_ratio": ratio,
            "aht_factor": aht_factor, "rest_morning": f_rest, "rest_volume": f_rest * factor,
            "rest_lo_80": float(qs[0]), "rest_hi_80": float(qs[1]),
            "rest_lo_95": float(qs[2]), "rest_hi_95": float(qs[3])})
    frame = (pd.concat(frames, ignore_index=True) if frames
             else forecast.iloc[0:0].assign(volume_morning=[]))
    return Reforecast(frame=frame, levels=pd.DataFrame(levels), now=now)


def rest_requirement(
    reforecast: Reforecast, *, sl_target: float = 0.8, answer_within_s: float = 20.0,
    patience_s: float | None = None, interval_s: int = 1800, shrinkage: float | None = None,
) -> pd.DataFrame:
    """Agents required in every rest-of-day interval, for the reforecast and the morning
    forecast, through `openwfm.staffing.staff_frame` (Erlang C; Erlang A with
    `patience_s`).

    Returns the reforecast frame plus ``agents`` (and ``service_level``, ``occupancy`` ...
    of the reforecast) and ``agents_morning``.
    """
    from openwfm.staffing import staff_frame

    f = reforecast.frame
    if "aht_s" not in f.columns:
        raise InputError("the forecast has no aht_s: the requirement needs a handle time",
                         column="aht_s")

    def staff(volume: pd.Series, aht: pd.Series) -> pd.DataFrame:
        df = pd.DataFrame({"volume": volume.to_numpy(), "aht_s": aht.fillna(0).to_numpy(),
                           "interval_s": interval_s, "sl_target": sl_target,
                           "sl_seconds": answer_within_s})
        if patience_s is not None:
            df["patience_s"] = patience_s
        if shrinkage is not None:
            df["shrinkage"] = shrinkage
        # an interval without contacts (or without a handle time) needs nobody
        zero = (df["volume"] <= 0) | (df["aht_s"] <= 0)
        df.loc[zero, ["volume", "aht_s"]] = [0.0, 1.0]
        return staff_frame(df)

    now_ = staff(f["volume"], f["aht_s"])
    morning = staff(f["volume_morning"], f.get("aht_s_morning", f["aht_s"]))
    out = f.reset_index(drop=True).copy()
    for c in ("agents", "service_level", "asa_s", "occupancy", "scheduled"):
        if c in now_.columns:
            out[c] = now_[c].to_numpy()
    out["agents_morning"] = morning["agents"].to_numpy()
    return out
