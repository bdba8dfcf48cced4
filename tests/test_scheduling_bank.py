"""Scheduling on the real bank call log (Anonymous Bank, Israel, February 1999): a week of
observed traffic -> Erlang A requirement -> a multi-skill roster's schedule, re-checked by
the independent checker (see ../shared/data/README)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from conftest import BANK_LOG
from openwfm.io.calllog import aggregate_intervals, read_call_log
from openwfm.io.patience import estimate_patience
from openwfm.scenario import Agent, Channel, Queue, Scenario, Site
from openwfm.scheduling import parse_config
from openwfm.scheduling.weeks import schedule_weeks
from openwfm.staffing.frame import staff_frame

TZ = "Asia/Jerusalem"
QUEUES = ("PS", "NW", "NE", "TT")  # 98 % of the calls


@pytest.fixture(scope="module")
def week_requirement() -> pd.DataFrame:
    assert BANK_LOG.exists(), f"shared data missing: {BANK_LOG}"
    calls = read_call_log(BANK_LOG, tz=TZ)
    patience = estimate_patience(calls).mean_s  # censored MLE of this log
    b = aggregate_intervals(calls, interval_s=1800, tz=TZ)
    start = pd.Timestamp("1999-02-07", tz=TZ).tz_convert("UTC")  # a Sunday: the work week
    wk = b[(b["interval_start"] >= start) & (b["interval_start"] < start + pd.Timedelta(days=7))
           & b["queue"].isin(QUEUES)].copy()
    wk["aht_s"] = wk["aht_s"].fillna(wk.groupby("queue")["aht_s"].transform("mean"))
    wk = wk.assign(interval_s=1800, patience_s=patience, sl_target=0.8, sl_seconds=20)
    return staff_frame(wk[["interval_start", "queue", "volume", "aht_s", "interval_s",
                           "patience_s", "sl_target", "sl_seconds"]])


def test_real_week_scheduled_within_rules(week_requirement):
    req = week_requirement
    hours = float(req["agents"].sum()) * 0.5
    n = int(np.ceil(hours / (5 * 7.5) * 1.15))  # 5 shifts of ~7.5 productive hours, +15 %
    skills = [("PS",), ("PS",), ("NW", "PS"), ("NE", "PS", "TT")]
    agents = tuple(Agent(f"B{i:02d}", f"Agent {i}", "Bank", skills[i % 4], 40.0, 4.0, 10.0,
                         True) for i in range(n))
    sc = Scenario("bank", 1800, (Site("Bank", "IL", TZ, n, 10.0, "IL"),),
                  tuple(Queue(q, "bank", Channel.VOICE, "he", "IL", tz=TZ) for q in QUEUES),
                  agents, date(1999, 2, 7), 7, TZ)
    cfg = parse_config({"time_limit_s": 10,
                        "shifts": [{"start_step_min": 30, "lengths_h": [8.5, 9.0]}]})
    problem, r = schedule_weeks(sc, req, cfg)
    assert r.check.ok, r.check.counts()
    assert problem.penalty.method.value == "service_level"  # traffic columns present
    # the requirement reaches the schedule unchanged, queue by queue
    got = r.coverage.groupby("queue")["required"].sum()
    want = req.groupby("queue")["agents"].sum()
    assert np.allclose(got[list(QUEUES)].to_numpy(), want[list(QUEUES)].to_numpy())
    assert r.lp_bound <= r.objective * (1 + 1e-8) + 1e-6  # IPM tolerance
    covered = 1 - r.coverage["shortfall"].sum() / r.coverage["required"].sum()
    assert covered > 0.85  # 28 agents for a 17-agent peak; measured 88 %
