"""Confidence intervals of simulated KPIs: proportions stay in [0, 1] (Wilson score interval
on the effective sample size), checked against statsmodels' Wilson interval and by coverage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from openwfm.simulation import kpi_ci, mean_ci, proportion_ci


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12))
def test_proportion_bounds_inside_unit_interval_and_around_the_mean(xs):
    m, lo, hi = proportion_ci(np.array(xs))
    assert 0.0 <= lo <= hi <= 1.0
    assert lo - 1e-12 <= m <= hi + 1e-12


def test_two_replications_far_apart_stay_in_unit_interval():
    # the t interval of SL 0.05 and 0.95 over two replications is 0.5 ± 5.7: nonsense
    x = np.array([0.05, 0.95])
    _, t_lo, t_hi = mean_ci(x)
    assert t_lo < -5 and t_hi > 6
    _, lo, hi = proportion_ci(x)
    assert 0.0 <= lo < 0.05 and 0.95 < hi <= 1.0


@pytest.mark.parametrize(("ones", "n"), [(0, 10), (3, 10), (9, 10), (17, 20), (40, 40)])
def test_bernoulli_replications_give_wilson_on_n_minus_1(ones, n):
    # replications that are each 0 or 1: var(mean) = p(1-p)/(n-1), so n_eff = n - 1 and the
    # interval is Wilson's (1927) with n - 1 trials at the t quantile (statsmodels reference)
    x = np.r_[np.ones(ones), np.zeros(n - ones)]
    p, lo, hi = proportion_ci(x)
    z = stats.t.ppf(0.975, n - 1)
    alpha = 2 * stats.norm.sf(z)
    if 0 < ones < n:
        ref_lo, ref_hi = proportion_confint(p * (n - 1), n - 1, alpha=alpha, method="wilson")
        assert (lo, hi) == pytest.approx((ref_lo, ref_hi), abs=1e-12)
    else:  # all replications agree: no spread, a point
        assert lo == hi == p


def test_coverage_of_beta_distributed_replications():
    # 4,000 experiments of 5 replications each, per-replication SL ~ Beta(18, 2) (mean 0.9):
    # the 95 % interval must cover the true mean about 95 % of the time
    rng = np.random.default_rng(7)
    x = rng.beta(18, 2, size=(5, 4000))
    _, lo, hi = proportion_ci(x, axis=0)
    cover = float(np.mean((lo <= 0.9) & (hi >= 0.9)))
    assert 0.93 <= cover <= 0.985, cover


def test_non_proportions_keep_the_t_interval_floored_at_zero():
    x = np.array([1.0, 30.0])
    m, lo, hi = kpi_ci("asa_s", x)
    _, t_lo, t_hi = mean_ci(x)
    assert t_lo < 0 and lo == 0.0 and hi == t_hi and m == 15.5
