"""ContactCenters' SimpleMSK, expressed directly (no sliced queues), against its published
results over 1,000 days.

Reference: Buist & L'Ecuyer, ContactCenters user's guide, examples, "A simple multi-skill
contact center" -- ``SimpleMSK.java`` / ``SimpleMSK.res`` in
github.com/umontreal-simul/contactcenters (doc/examples): 1,000 independent days,

- served contacts per day 4297.305 [4270.150, 4324.460], abandoned 910.335 [876.133, 944.537];
- service level (SimpleMSK's own definition: served with a wait < 20 s ÷ (served +
  abandoned after waiting >= 20 s), a ratio of means over the days) 0.501 [0.494, 0.509];
- group-0 occupancy (busy ÷ (agents + ghost agents), integrated over the whole day,
  wrap-up included, a ratio of means) 0.881 [0.877, 0.884].

The estimates must agree both ways: the published value inside openwfm's 95% CI and
openwfm's estimate inside the published CI.
"""

from __future__ import annotations

import numpy as np
import pytest

from openwfm.simulation import mean_ci, ratio_ci, simulate
from openwfm.simulation.examples import simple_msk_model

pytestmark = pytest.mark.slow


def agree(mine: tuple[float, float, float], published: tuple[float, float, float]) -> None:
    est, lo, hi = mine
    p_est, p_lo, p_hi = published
    assert lo <= p_est <= hi, (mine, published)
    assert p_lo <= est <= p_hi, (mine, published)


def test_simple_msk_matches_contactcenters() -> None:
    m = simple_msk_model()
    res = simulate(m, replications=1000, seed=2005)
    log = res.log
    r = log.replication
    n = log.replications

    def per_day(mask: np.ndarray) -> np.ndarray:
        return np.bincount(r, weights=mask.astype(float), minlength=n)

    awt = 20.0
    good = per_day(log.served & (log.wait_s < awt))
    den = per_day(log.served | (log.abandoned & (log.wait_s >= awt)))
    agree(ratio_ci(good, den), (0.501, 0.494, 0.509))
    g0 = res.groups.set_index("group").loc["group-0"]
    agree((g0.occupancy, g0.occupancy_lo, g0.occupancy_hi), (0.881, 0.877, 0.884))
    agree(tuple(map(float, mean_ci(per_day(log.served)))), (4297.305, 4270.150, 4324.460))
    agree(tuple(map(float, mean_ci(per_day(log.abandoned)))), (910.335, 876.133, 944.537))
    # the same service level from the per-queue counts (answered within ÷ answered +
    # abandoned after the threshold; "within" there is <= 20 s: a zero-probability tie)
    c = res.counts
    sl_counts = c.answered_within.sum(axis=1) / (c.answered + c.abandoned_after).sum(axis=1)
    assert sl_counts == pytest.approx(good / den)
