"""The center stored in the server's tables reads back as the same scenario (through the
scenario-file validation), and its history as the same interval table."""

from __future__ import annotations

import pandas as pd

from openwfm.demo import demo_history, demo_scenario
from openwfm.server.center import (
    load_history_from_db,
    load_scenario_from_db,
    store_history,
    store_scenario,
)
from openwfm.server.db import Database
from openwfm.server.migrate import upgrade


def test_demo_center_round_trips_through_the_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    db = Database.connect(url)
    scenario = demo_scenario()
    history = demo_history(scenario)
    history = history[history["interval_start"] >= history["interval_start"].max()
                      - pd.Timedelta(days=7)]
    with db.transaction() as s:
        store_scenario(s, scenario)
        store_history(s, history, scenario.interval_s)
    with db.read() as s:
        back = load_scenario_from_db(s)
        hist = load_history_from_db(s)
    db.dispose()
    assert back.sites == scenario.sites
    assert sorted(back.queues, key=lambda q: q.id) == sorted(scenario.queues, key=lambda q: q.id)
    assert sorted(back.agents, key=lambda a: a.id) == sorted(scenario.agents, key=lambda a: a.id)
    assert (back.plan_start, back.plan_days, back.interval_s, back.shrinkage, back.extra) == (
        scenario.plan_start, scenario.plan_days, scenario.interval_s, scenario.shrinkage,
        scenario.extra)
    want = history.sort_values(["queue", "interval_start"]).reset_index(drop=True)
    got = hist[list(want.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
