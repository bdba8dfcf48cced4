"""Write docs/forecast-candidates.md: candidates tried against the 4-week mean on the bank log.

Run:  .venv/bin/python scripts/forecast_candidates.py [--log PATH]
      [--out docs/forecast-candidates.md]   (LightGBM: `pip install -e .[bench]`)

The same origins and score as the bank section of docs/forecast-accuracy.md (every local
midnight from day 15 to day 28 of February 1999, the history before it only, the open days of
the week ahead, WAPE over all service types together), but each candidate is called directly
on the local day grid (`openwfm.forecast.models`, closed intervals zero), without the
backtest's choice, so that methods the product does not ship can be compared too:

* the product's methods (`predict`);
* ``autoets_daily``: statsforecast's AutoETS (weekly season) on the daily totals, times the
  recent intraday profile (Taylor 2008's daily-total x profile family);
* ``lightgbm``: a gradient-boosted Poisson regression (LightGBM) per queue on calendar and
  lag features: interval, weekday, the same weekday's last value and mean of the last four,
  the mean daily total of the last 7 days, the horizon in days and the calendar effects of
  `openwfm.forecast.calendar.day_features`; trained on the history before the origin with
  horizons 1, 4 and 7 days (direct strategy), 200 rounds, deterministic, one thread.

WAPE = sum |actual - forecast| / sum actual; ratio = WAPE / WAPE of the 4-week mean.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from openwfm.forecast.backtest import open_days_per_week
from openwfm.forecast.calendar import day_features, holiday_dates, to_day_grid, weekday_of
from openwfm.forecast.models import (
    Features,
    Method,
    closed_mask,
    daily_totals,
    intraday_profile,
    predict,
)
from openwfm.io.atomic import atomic_path
from openwfm.io.calllog import aggregate_intervals, read_call_log

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT.parent / "shared" / "data" / "anonymous_bank_1999_02.tsv"
TZ = "Asia/Jerusalem"
#: Origins: rows (days of history) 14 .. 27, as in scripts/forecast_accuracy.py.
ORIGINS = range(14, 28)
HORIZON_DAYS = 14
PRODUCT = (Method.MEAN_4W, Method.MEDIAN_4W, Method.SEASONAL_NAIVE, Method.MSTL,
           Method.DAILY_PROFILE, Method.CALENDAR_4W, Method.CALENDAR_EW,
           Method.CALENDAR_SMOOTH, Method.COMBINED, Method.COMBINED_MEDIAN)

Candidate = Callable[[np.ndarray, np.ndarray, np.ndarray, Features], np.ndarray | None]


def autoets_daily(h: np.ndarray, wd: np.ndarray, fwd: np.ndarray,
                  x: Features) -> np.ndarray:
    """AutoETS (season 7) on the daily totals x the recent intraday profile."""
    from statsforecast.models import AutoETS

    shares = intraday_profile(h, wd, "recent")
    tot = daily_totals(h, wd, shares)
    y = np.where(np.isfinite(tot), tot, 0.0).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ahead = np.clip(AutoETS(season_length=7, model="ZZZ").forecast(y=y, h=len(fwd))[
            "mean"], 0.0, None)
    return np.where(closed_mask(h, wd)[fwd], 0.0, ahead[:, None] * shares[fwd])


def _gbm_rows(hist: np.ndarray, wd_hist: np.ndarray, day_wd: int, xrow: np.ndarray,
              ahead: int) -> np.ndarray:
    slots = hist.shape[1]
    prev = hist[wd_hist == day_wd][-4:]
    with np.errstate(all="ignore"):
        m4 = np.nanmean(prev, axis=0) if len(prev) else np.full(slots, np.nan)
    last = prev[-1] if len(prev) else np.full(slots, np.nan)
    week = float(np.nansum(hist[-7:])) / 7.0
    return np.column_stack([np.arange(slots), np.full(slots, day_wd), last, m4,
                            np.full(slots, week), np.full(slots, ahead),
                            np.tile(xrow, (slots, 1))])


def lightgbm_model(h: np.ndarray, wd: np.ndarray, fwd: np.ndarray,
                   x: Features) -> np.ndarray:
    """LightGBM Poisson regression per queue on calendar and lag features (direct)."""
    import lightgbm as lgb

    assert x is not None
    rows, target = [], []
    for d in range(7, len(h)):
        for ahead in (1, 4, 7):
            origin = d - ahead + 1
            if origin >= 7:
                rows.append(_gbm_rows(h[:origin], wd[:origin], int(wd[d]), x[0][d], ahead))
                target.append(h[d])
    xs, ys = np.vstack(rows), np.concatenate(target)
    ok = np.isfinite(ys)
    params = {"objective": "poisson", "learning_rate": 0.05, "num_leaves": 15,
              "min_data_in_leaf": 20, "verbose": -1, "deterministic": True,
              "num_threads": 1, "seed": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lgb.train(params, lgb.Dataset(xs[ok], ys[ok]), num_boost_round=200)
    out = np.vstack([model.predict(_gbm_rows(h, wd, int(fwd[i]), x[1][i], i + 1))
                     for i in range(len(fwd))])
    return np.where(closed_mask(h, wd)[fwd], 0.0, np.clip(out, 0.0, None))


def candidates() -> dict[str, Candidate]:
    out: dict[str, Candidate] = {
        m.value: (lambda h, wd, fwd, x, m=m: predict(m, h, wd, fwd, x)) for m in PRODUCT}
    out["autoets_daily"] = autoets_daily
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        print("lightgbm not installed (pip install -e .[bench]): its row is left out")
    else:
        out["lightgbm"] = lightgbm_model
    return out


def evaluate(table: pd.DataFrame, cands: dict[str, Candidate],
             interval_s: int = 1800) -> tuple[pd.DataFrame, dict]:
    """Week-ahead absolute errors per candidate, queue and origin; and CPU s per candidate."""
    hol = np.array(sorted(holiday_dates("IL", [1999])), dtype="datetime64[D]")
    rows, cpu = [], dict.fromkeys(cands, 0.0)
    for q, g in table.groupby("queue", sort=True):
        grid = to_day_grid(pd.DatetimeIndex(g["interval_start"]),
                           g["volume"].to_numpy(dtype=float), TZ, interval_s)
        y, days = grid.values, grid.days
        wd = weekday_of(days)
        totals = np.nansum(y, axis=1)
        open_w = np.array([np.mean(totals[wd == w] > 0) >= 0.5 for w in range(7)])
        week = open_days_per_week(totals > 0)
        for o in ORIGINS:
            fut = np.nan_to_num(y[o:o + HORIZON_DAYS])
            fdays = np.arange(days[o], days[o] + np.timedelta64(HORIZON_DAYS, "D"),
                              dtype="datetime64[D]")
            x = day_features(np.concatenate([days[:o], fdays]), holidays=hol,
                             open_weekdays=open_w)
            is_open = fut.sum(axis=1) > 0
            step = np.where(is_open, np.cumsum(is_open), np.cumsum(is_open) + 1)
            sel = (step >= 1) & (step <= week)
            actual = fut[sel]
            row = {"queue": str(q), "origin": o, "actual": float(actual.sum())}
            for name, f in cands.items():
                t0 = time.process_time()
                fc = f(y[:o], wd[:o], weekday_of(fdays), (x[:o], x[o:]))
                cpu[name] += time.process_time() - t0
                row[name] = (np.nan if fc is None
                             else float(np.abs(fc[:len(fut)][sel] - actual).sum()))
            rows.append(row)
    return pd.DataFrame(rows), cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, default=BANK)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "forecast-candidates.md")
    args = ap.parse_args()
    log = read_call_log(args.log, tz=TZ)
    table = aggregate_intervals(log, interval_s=1800, tz=TZ)
    cands = candidates()
    err, cpu = evaluate(table, cands)
    lines = []
    ratios: dict[str, float] = {}
    for name in cands:
        s = err[err[name].notna()]
        w, b = s[name].sum() / s["actual"].sum(), s["mean_4w"].sum() / s["actual"].sum()
        per_q = s.groupby("queue")[list(dict.fromkeys([name, "mean_4w"]))].sum()
        wins = int((per_q[name] < per_q["mean_4w"]).sum())
        ratios[name] = w / b
        lines.append(f"| {name} | {len(s)} | {w:.3f} | {b:.3f} | {w / b:.3f} | "
                     f"{wins} of {len(per_q)} | {cpu[name]:.1f} |")
    # the same days at interval lengths no decision was made at: a robustness view
    other = {m.value: cands[m.value] for m in PRODUCT if m != Method.MSTL}
    res_cols = {}
    for minutes in (15, 30, 60):
        e = err if minutes == 30 else evaluate(
            aggregate_intervals(log, interval_s=60 * minutes, tz=TZ), other, 60 * minutes)[0]
        res_cols[f"{minutes} min"] = {k: e[k].sum() / e["mean_4w"].sum() for k in other}
    res = pd.DataFrame(res_cols)
    res_lines = [f"| {k} | " + " | ".join(f"{v:.3f}" for v in row) + " |"
                 for k, row in res.iterrows()]
    text = "\n".join([
        "# Forecast candidates on the bank log (week ahead, ratio to the 4-week mean)",
        "",
        "Generated by `.venv/bin/python scripts/forecast_candidates.py`; do not edit by hand.",
        "",
        __doc__.split("\n\n", 1)[1].split("\n\nWAPE")[0].replace("Run:", "Run with"),
        "",
        "WAPE = Σ|actual − forecast| / Σ actual over the open days of the week ahead of each "
        "origin, all queues and origins together; the 4-week mean's WAPE on the same rows "
        "(MSTL needs 15 days of history and skips the first origin); *queues better* counts "
        "the service types where the candidate's week-ahead WAPE is below the 4-week "
        "mean's; CPU s is the time the candidate took over all origins and queues. The "
        "product's figure, with its choice per queue and origin made by the backtest inside "
        "each origin's past, is in [forecast-accuracy.md](forecast-accuracy.md).",
        "",
        "| candidate | queue-origins | WAPE | WAPE mean 4w | ratio | queues better | CPU s |",
        "|---|---|---|---|---|---|---|",
        *lines,
        "",
        f"Reading: the lowest ratio is **{min(ratios, key=ratios.get)}** "
        f"({min(ratios.values()):.3f}); the issue's target is 0.90. "
        + " ".join(f"`{k}` {ratios[k]:.3f}: {'beats' if ratios[k] < 1 else 'does not beat'} "
                   "the 4-week mean." for k in ("autoets_daily", "lightgbm") if k in ratios)
        + " A candidate joins the product's defaults only if it beats the 4-week mean here "
        "and in the backtest; AutoETS and LightGBM are not product methods.",
        "",
        "The same days and origins aggregated per 15 and per 60 minutes (every design "
        "decision was made on the 30-minute view, so these two are a robustness check, not "
        "an independent test): week-ahead ratio of each product method to the 4-week mean "
        "at the same interval length.",
        "",
        "| candidate | 15 min | 30 min | 60 min |",
        "|---|---|---|---|",
        *res_lines,
        "",
    ])
    with atomic_path(args.out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
