"""Saved runs round-trip exactly, and a failed save leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openwfm.errors import InputError
from openwfm.store import RunStore


def _table() -> pd.DataFrame:
    idx = pd.date_range("2026-03-29T00:00Z", periods=8, freq="15min")
    return pd.DataFrame(
        {"interval_start": idx, "queue": ["fr-voice"] * 8, "agents": np.arange(8),
         "service_level": np.linspace(0.7, 0.95, 8)}
    )


def test_round_trip_on_sqlite_file(tmp_path: Path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'w.db'}")
    t = _table()
    run = store.save("week 14", scenario="Atlas", tables={"requirement": t}, meta={"seed": 1})
    again = RunStore(f"sqlite:///{tmp_path / 'w.db'}")  # a new process would see the same
    back = again.load(run, "requirement")
    pd.testing.assert_frame_equal(back, t, check_dtype=False)
    assert str(back["interval_start"].dt.tz) == "UTC"
    (info,) = again.runs()
    assert (info.name, info.scenario, info.tables, info.meta) == (
        "week 14", "Atlas", ("requirement",), {"seed": 1})


def test_failed_save_is_rolled_back(tmp_path: Path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'w.db'}")
    bad = pd.DataFrame({"x": [object()]})  # cannot be written by the driver
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        store.save("broken", scenario="Atlas", tables={"good": _table(), "bad": bad})
    assert store.runs() == []
    import sqlalchemy as sa

    names = sa.inspect(store.engine).get_table_names()
    assert names == ["openwfm_runs"]


def test_unknown_run_and_table_are_named(tmp_path: Path) -> None:
    store = RunStore("sqlite://")
    run = store.save("r", scenario="s", tables={"requirement": _table()})
    with pytest.raises(InputError, match="no run 99"):
        store.load(99, "requirement")
    with pytest.raises(InputError, match="has no table 'forecast'"):
        store.load(run, "forecast")
    with pytest.raises(InputError, match="table name"):
        store.save("r", scenario="s", tables={"Bad Name": _table()})


def test_round_trip_on_postgresql(postgres_url: str) -> None:
    store = RunStore(postgres_url)
    t = _table()
    run = store.save("pg", scenario="Atlas", tables={"requirement": t})
    pd.testing.assert_frame_equal(store.load(run, "requirement"), t, check_dtype=False)
    assert run in [r.run_id for r in store.runs()]
