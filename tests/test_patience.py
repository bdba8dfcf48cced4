"""Patience estimation with censoring: textbook KM values, the bank data, simulation."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import BANK_LOG as BANK
from openwfm.errors import InputError
from openwfm.io.calllog import read_call_log
from openwfm.io.patience import estimate_patience, kaplan_meier_patience


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    assert BANK.exists(), f"shared data missing: {BANK}"
    return read_call_log(BANK)


def test_km_textbook_freireich_6mp():
    # 6-MP arm of Freireich et al. (1963); Kaplan-Meier estimates as tabulated in
    # Kleinbaum & Klein, "Survival Analysis: A Self-Learning Text" (ch. 2).
    times = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    event = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    calls = pd.DataFrame({"wait_s": np.array(times, float),
                          "outcome": ["abandoned" if e else "served" for e in event]})
    curve = kaplan_meier_patience(calls)
    expected = {6: 0.8571, 7: 0.8067, 10: 0.7529, 13: 0.6902, 16: 0.6275, 22: 0.5378,
                23: 0.4482}
    for t, s in expected.items():
        assert curve.survival_at(t) == pytest.approx(s, abs=5e-5)
    assert curve.survival_at(5.9) == 1.0
    assert curve.median_s == 23.0
    assert curve.abandons == 9 and curve.queued == 21


def product_limit(wait: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Independent Kaplan-Meier: S(t) = prod over event times u <= t of (1 - d_u / n_u)."""
    times = np.unique(wait[event])
    surv, s = [], 1.0
    for u in times:
        at_risk = np.sum(wait >= u)
        d = np.sum((wait == u) & event)
        s *= 1.0 - d / at_risk
        surv.append(s)
    return times, np.array(surv)


def raw_queued() -> tuple[np.ndarray, np.ndarray]:
    waits, events = [], []
    with BANK.open(newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if r["q_start"] != "0:00:00" and r["outcome"] in ("AGENT", "HANG"):
                waits.append(float(r["q_time"]))
                events.append(r["outcome"] == "HANG")
    return np.array(waits), np.array(events)


def test_bank_exponential_mle_matches_raw_file(calls):
    wait, event = raw_queued()
    est = estimate_patience(calls)
    assert est.abandons == event.sum() == 3_963
    assert est.queued == len(wait)
    assert est.exposure_s == wait.sum()
    assert est.mean_s == pytest.approx(wait.sum() / event.sum(), rel=1e-12)
    assert est.ci_low_s < est.mean_s < est.ci_high_s
    # naive mean wait of abandoners ignores censoring and is far too small
    assert wait[event].mean() < 0.5 * est.mean_s


def test_bank_kaplan_meier_matches_independent_product_limit(calls):
    wait, event = raw_queued()
    times, surv = product_limit(wait, event)
    curve = kaplan_meier_patience(calls)
    assert curve.survival_at(times) == pytest.approx(surv, abs=1e-12)
    assert np.all(np.diff(curve.survival) <= 0)
    assert np.all((curve.ci_low <= curve.survival + 1e-12)
                  & (curve.survival <= curve.ci_high + 1e-12))
    assert curve.restricted_mean_s <= estimate_patience(calls).mean_s * 2


def test_exponential_mle_recovers_simulated_patience():
    # M/M/n+M-like censoring: patience ~ Exp(mean 300 s), offered service after Exp(200 s)
    rng = np.random.default_rng(20260215)
    n = 20_000
    patience = rng.exponential(300.0, n)
    offer = rng.exponential(200.0, n)
    wait = np.minimum(patience, offer)
    calls = pd.DataFrame({"wait_s": wait,
                          "outcome": np.where(patience < offer, "abandoned", "served")})
    est = estimate_patience(calls, confidence=0.99)
    assert est.ci_low_s < 300.0 < est.ci_high_s
    curve = kaplan_meier_patience(calls)
    # KM tracks the true survival exp(-t/300)
    t = np.array([30.0, 100.0, 300.0])
    assert curve.survival_at(t) == pytest.approx(np.exp(-t / 300.0), abs=0.02)
    assert curve.median_s == pytest.approx(300.0 * np.log(2), rel=0.05)


def test_exponential_ci_coverage():
    rng = np.random.default_rng(7)
    hits, reps = 0, 400
    for _ in range(reps):
        patience = rng.exponential(120.0, 150)
        offer = rng.exponential(60.0, 150)
        calls = pd.DataFrame({"wait_s": np.minimum(patience, offer),
                              "outcome": np.where(patience < offer, "abandoned", "served")})
        est = estimate_patience(calls, confidence=0.95)
        hits += est.ci_low_s < 120.0 < est.ci_high_s
    # binomial(400, 0.95): 3 standard deviations = 0.033
    assert abs(hits / reps - 0.95) < 0.033


def test_ci_is_the_exact_poisson_interval():
    calls = pd.DataFrame({"outcome": ["abandoned"] * 5 + ["served"] * 5,
                          "wait_s": [10.0] * 10})
    est = estimate_patience(calls, confidence=0.9)
    assert est.mean_s == 20.0
    assert est.ci_low_s == pytest.approx(200.0 / stats.chi2.ppf(0.95, 12))
    assert est.ci_high_s == pytest.approx(200.0 / stats.chi2.ppf(0.05, 10))


def test_no_abandons_and_bad_inputs():
    calls = pd.DataFrame({"outcome": ["served"], "wait_s": [10.0]})
    est = estimate_patience(calls)
    assert est.mean_s == np.inf and est.ci_high_s == np.inf and est.ci_low_s > 0
    with pytest.raises(InputError, match="no abandoned"):
        kaplan_meier_patience(calls)
    with pytest.raises(InputError, match="confidence"):
        estimate_patience(calls, confidence=1.5)
    with pytest.raises(InputError, match="wait >= 0") as info:
        estimate_patience(pd.DataFrame({"outcome": ["served", "abandoned"],
                                        "wait_s": [1.0, -2.0]}))
    assert (info.value.location.row, info.value.location.column) == (2, "wait_s")
