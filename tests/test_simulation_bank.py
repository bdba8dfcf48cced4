"""Replay of the real bank call log: real arrivals, agents seen working, resampled handle
times, censored-MLE patience. The agreement is partial (docs/simulation.md explains why);
these tests pin what holds: the simulated abandonment follows the observed one interval by
interval, the replay is optimistic (agents counted as present are not all available), and
counting agents at a finer resolution moves the simulation towards the observations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openwfm.simulation.replay import replay_call_log

BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "anonymous_bank_1999_02.tsv"


@pytest.fixture(scope="module")
def calls():
    from openwfm.io.calllog import read_call_log

    assert BANK.exists(), f"shared data missing: {BANK}"
    return read_call_log(BANK)


def weighted(f, col):
    ok = f[col].notna()
    return float(np.average(f[col][ok], weights=f["offered"][ok]))


def test_replay_bank(calls) -> None:
    coarse = replay_call_log(calls, interval_s=1800, replications=5, seed=1).frame
    fine = replay_call_log(calls, interval_s=300, replications=5, seed=1).frame
    assert int(coarse["offered"].sum()) == 27162 + 5904  # served + abandoned, every call
    ok = coarse["p_abandon"].notna() & coarse["sim_p_abandon"].notna()
    assert np.corrcoef(coarse["p_abandon"][ok], coarse["sim_p_abandon"][ok])[0, 1] > 0.85
    for f in (coarse, fine):
        assert weighted(f, "sim_asa_s") < weighted(f, "asa_s")
        assert weighted(f, "sim_p_abandon") < weighted(f, "p_abandon")
    assert weighted(coarse, "sim_asa_s") < weighted(fine, "sim_asa_s")
    assert weighted(coarse, "sim_p_abandon") < weighted(fine, "sim_p_abandon")
