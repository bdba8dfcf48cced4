"""The embedded demo contact center: Atlas Contact Group, a BPO in Casablanca, Manila, Bogota.

`demo_scenario` loads the scenario shipped in the package (``data/demo.toml`` and
``data/agents.csv``) through `openwfm.scenario.load_scenario`, so it passes the same
validation as a user's file. `demo_history` generates its 15-minute history (2025-12-01 ..
2026-03-29, local days of each queue's customers) from the ``[demo]`` section: seeded,
deterministic and independent of today's date. `demo_actuals` continues the same draw
through the plan week: what "really happened", to score a forecast or replay a schedule.
See docs/demo.md for who the center is.

Examples
--------
>>> s = demo_scenario()
>>> s.name, [site.name for site in s.sites]
('Atlas Contact Group', ['Casablanca', 'Manila', 'Bogota'])
>>> h = demo_history(s)
>>> sorted(h["queue"].unique()) == sorted(q.id for q in s.queues)
True
"""

from __future__ import annotations

from importlib.resources import as_file, files

import pandas as pd

from openwfm.demo.history import generate_actuals, generate_history, parse_history_model
from openwfm.scenario import Scenario, load_scenario

__all__ = ["demo_actuals", "demo_history", "demo_scenario"]


def demo_scenario() -> Scenario:
    """The demo contact center's scenario (sites, queues, agents, service goals).

    Returns
    -------
    Scenario
        Loaded from the package's ``data/demo.toml``; ``extra["demo"]`` holds the history
        model, ``extra["currency"]`` the currency of ``cost_per_hour`` (EUR).
    """
    with as_file(files("openwfm.demo").joinpath("data")) as data:
        return load_scenario(data / "demo.toml")


def demo_history(scenario: Scenario | None = None) -> pd.DataFrame:
    """The demo center's 15-minute interval history (deterministic, seeded).

    Parameters
    ----------
    scenario : Scenario, optional
        A scenario with a ``[demo]`` section; default `demo_scenario()`.

    Returns
    -------
    pandas.DataFrame
        The interval table: ``interval_start`` (UTC), ``queue``, ``volume`` (offered),
        ``aht_s`` (mean handle time of handled contacts; NaN when none), ``handled``,
        ``abandoned``. Closed hours are rows with volume 0.
    """
    scenario = scenario if scenario is not None else demo_scenario()
    return generate_history(scenario, parse_history_model(scenario,
                                                          str(scenario.source or "<demo>")))


def demo_actuals(scenario: Scenario | None = None) -> pd.DataFrame:
    """The realized plan week of the demo center (never used for planning).

    The same generative model and random draw as `demo_history`, continued through the
    plan window (``plan_days`` from ``plan_start`` in ``plan_tz``): the interval table of
    what "happened", against which a forecast can be scored or a schedule replayed.

    Parameters
    ----------
    scenario : Scenario, optional
        A scenario with a ``[demo]`` section; default `demo_scenario()`.

    Returns
    -------
    pandas.DataFrame
        Same columns as `demo_history`, one row per queue and plan interval.
    """
    scenario = scenario if scenario is not None else demo_scenario()
    return generate_actuals(scenario, parse_history_model(scenario,
                                                          str(scenario.source or "<demo>")))
