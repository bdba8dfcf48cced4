"""`staff_frame`: the table contract of `openwfm staff`, validation and dispatch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openwfm.errors import InputError
from openwfm.staffing import email, erlang, staff_frame


def test_solves_and_passes_other_columns_through() -> None:
    df = pd.DataFrame({"interval_start": ["2026-03-01T08:00Z", "2026-03-01T08:30Z"],
                       "queue": ["fr_voice", "fr_voice"], "volume": [100, 360],
                       "aht_s": [180, 120], "note": ["x", "y"]})
    out = staff_frame(df)
    assert list(out.columns[:5]) == list(df.columns)
    assert out["note"].tolist() == ["x", "y"]
    ref = erlang.required_agents([10.0, 24.0], [180, 120], 0.8, 20)
    assert out["agents"].tolist() == ref.agents.tolist()
    np.testing.assert_allclose(out["service_level"], ref.service_level, rtol=0, atol=0)
    assert out["p_abandon"].isna().all() and "scheduled" not in out


def test_defaults_and_interval_length() -> None:
    out = staff_frame(pd.DataFrame({"volume": [50], "aht_s": [180], "interval_s": [900]}))
    assert int(out["agents"][0]) == int(erlang.required_agents(10.0, 180, 0.8, 20).agents)


def test_patience_selects_erlang_a_per_row() -> None:
    df = pd.DataFrame({"volume": [100, 100], "aht_s": [180, 180], "patience_s": ["", "300"]})
    out = staff_frame(df)
    assert np.isnan(out["p_abandon"][0]) and out["p_abandon"][1] > 0
    assert out["agents"].tolist() == [14, 13]


def test_targets_asa_abandon_occupancy() -> None:
    df = pd.DataFrame({"volume": [100] * 4, "aht_s": [180] * 4, "patience_s": [300] * 4,
                       "max_asa_s": [np.nan, 2.0, np.nan, np.nan],
                       "max_abandon": [np.nan, np.nan, 0.01, np.nan],
                       "max_occupancy": [np.nan, np.nan, np.nan, 0.6]})
    out = staff_frame(df)
    assert out["asa_s"][1] <= 2.0 and out["p_abandon"][2] <= 0.01 and out["occupancy"][3] <= 0.6
    for i, col, lim in ((1, "asa_s", 2.0), (2, "p_abandon", 0.01), (3, "occupancy", 0.6)):
        fewer = erlang.metrics(out["agents"][i] - 1, 10.0, 180, 20, 300)
        assert getattr(fewer, col) > lim or fewer.service_level < 0.8


def test_evaluate_given_agents_and_shrinkage() -> None:
    df = pd.DataFrame({"volume": [100, 100], "aht_s": [180, 180], "agents": [14, 15],
                       "shrinkage": [0.3, ""]})
    out = staff_frame(df)
    assert out["agents"].tolist() == [14, 15]
    assert list(out.columns).index("agents") == 2  # the input column keeps its place
    np.testing.assert_allclose(out["service_level"], [0.88835, 0.94145], atol=5e-6)
    assert out["scheduled"][0] == pytest.approx(20.0) and np.isnan(out["scheduled"][1])


def test_zero_volume_gives_zero_agents_and_sensible_metrics() -> None:
    out = staff_frame(pd.DataFrame({"volume": [0.0], "aht_s": [180], "patience_s": [120]}))
    row = out.iloc[0]
    assert row["agents"] == 0 and row["service_level"] == 1.0 and row["asa_s"] == 0.0
    assert row["p_wait"] == 0.0 and row["p_abandon"] == 0.0 and row["occupancy"] == 0.0


def test_chat_rows_use_concurrency() -> None:
    df = pd.DataFrame({"channel": ["chat", "Chat", "voice"], "volume": [120, 120, 120],
                       "aht_s": [600, 600, 600], "concurrency": [3, 1, 3],
                       "sl_seconds": [60, 60, 60]})
    out = staff_frame(df)
    slots = int(erlang.required_agents(40.0, 600, 0.8, 60).agents)
    assert out["agents"].tolist() == [int(np.ceil(slots / 3)), slots, slots]


def test_email_rows_use_the_backlog_model_per_queue() -> None:
    df = pd.DataFrame({"interval_start": ["2026-03-01T09:00Z", "2026-03-01T08:00Z"] * 2,
                       "queue": ["m1", "m1", "m2", "m2"], "channel": "email",
                       "volume": [0, 200, 0, 100], "aht_s": 36, "interval_s": 3600,
                       "sl_target": 0.9, "sl_seconds": 1800})
    out = staff_frame(df)
    # m1: 200 items in the 08:00 hour need 2 agents (1 answers only half within 30 min)
    assert out["agents"].tolist() == [2, 2, 1, 1]
    assert out["service_level"].tolist() == [1.0, 1.0, 1.0, 1.0]


def test_email_level_is_per_queue_and_local_day() -> None:
    # two Paris days of an email queue: 400 items on Monday, 40 on Tuesday (30-min rows)
    start = pd.date_range("2026-03-29T22:00Z", periods=96, freq="30min")  # Mon-Tue, Paris
    volume = np.where(np.arange(96) < 48, 400 / 48, 40 / 48)
    df = pd.DataFrame({"interval_start": start.strftime("%Y-%m-%dT%H:%MZ"), "queue": "mail",
                       "channel": "email", "volume": volume, "aht_s": 360.0,
                       "sl_target": 0.9, "sl_seconds": 4 * 3600.0, "tz": "Europe/Paris"})
    out = staff_frame(df)
    for day in (slice(0, 48), slice(48, 96)):  # each day alone, as backlog_required_agents
        r = email.backlog_required_agents(volume[day], 360.0, 1800.0, 0.9, deadline_s=14400)
        assert (out["agents"].to_numpy()[day] == r.agents).all()
    assert out["agents"].iloc[0] > out["agents"].iloc[-1]
    # without tz the days are UTC days: rows 0-3 (Sunday UTC), 4-51, 52-95
    utc = staff_frame(df.drop(columns="tz"))["agents"].to_numpy()
    for day in (slice(0, 4), slice(4, 52), slice(52, 96)):
        r = email.backlog_required_agents(volume[day], 360.0, 1800.0, 0.9, deadline_s=14400)
        assert (utc[day] == r.agents).all()
    # evaluating given agents runs the backlog across the days (one run per queue)
    given = df.assign(agents=1)
    run = email.backlog_metrics(volume, 360.0, 1800.0, np.ones(96), deadline_s=14400)
    assert staff_frame(given)["service_level"].to_numpy() == pytest.approx(
        run.interval_service_level)


def test_email_bad_zone_names_row_and_column() -> None:
    df = pd.DataFrame({"interval_start": ["2026-03-01T08:00Z"] * 2, "queue": ["a", "b"],
                       "channel": "email", "volume": 5, "aht_s": 60,
                       "tz": ["Europe/Paris", "Mars/Olympus"]})
    with pytest.raises(InputError) as err:
        staff_frame(df, file="in.csv")
    loc = err.value.location
    assert (loc.file, loc.row, loc.column) == ("in.csv", 2, "tz")


@pytest.mark.parametrize(
    ("frame", "row", "column", "expect"),
    [
        ({"volume": [1, 2]}, None, "aht_s", "missing required column"),
        ({"volume": [1, -2], "aht_s": [60, 60]}, 2, "volume", ">= 0"),
        ({"volume": [1, 2], "aht_s": [60, 0]}, 2, "aht_s", "> 0"),
        ({"volume": [1, 2], "aht_s": [60, 60], "sl_target": [0.8, 1]}, 2, "sl_target",
         "(0, 1)"),
        ({"volume": [1, 2], "aht_s": [60, 60], "sl_target": [0, 0.8]}, 1, "sl_target",
         "(0, 1)"),
        ({"volume": ["1", "ten"], "aht_s": ["60", "60"]}, 2, "volume", "'ten'"),
        ({"volume": [1, 2], "aht_s": [60, ""]}, 2, "aht_s", "empty"),
        ({"volume": [1], "aht_s": [60], "concurrency": [1.5]}, 1, "concurrency", "integer"),
        ({"volume": [1], "aht_s": [60], "channel": ["fax"]}, 1, "channel", "voice, chat"),
        ({"volume": [1], "aht_s": [60], "shrinkage": [1.0]}, 1, "shrinkage", "[0, 1)"),
        ({"volume": [1], "aht_s": [60], "max_abandon": [0.05]}, 1, "max_abandon", "patience"),
        ({"volume": [1], "aht_s": [60], "agents": [2.5]}, 1, "agents", "integer"),
    ],
)
def test_bad_input_names_row_and_column(frame, row, column, expect) -> None:
    with pytest.raises(InputError) as err:
        staff_frame(pd.DataFrame(frame), file="in.csv")
    loc = err.value.location
    assert (loc.file, loc.row, loc.column) == ("in.csv", row, column)
    assert expect in str(err.value)
