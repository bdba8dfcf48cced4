"""The staffing requirement summed up per queue (a pure function of the requirement)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from openwfm.scenario import Scenario

__all__ = ["staffing_summary"]


def staffing_summary(requirement: pd.DataFrame, scenario: Scenario | None = None) -> pd.DataFrame:
    """One row per queue: volume, peak agents, agent-hours, scheduled hours and the
    period's service level (volume-weighted, i.e. answered within / offered over the
    period).

    Examples
    --------
    >>> import pandas as pd
    >>> req = pd.DataFrame({"queue": ["a", "a"], "volume": [100.0, 300.0],
    ...                     "agents": [14, 30], "service_level": [0.9, 0.8],
    ...                     "interval_s": [1800, 1800]})
    >>> staffing_summary(req).round(3).to_dict("records")[0]["service_level"]
    0.825
    """
    df = requirement.copy()
    interval_s = df["interval_s"] if "interval_s" in df else pd.Series(
        scenario.interval_s if scenario is not None else 1800, index=df.index)
    hours = interval_s.astype(float) / 3600.0
    df["_agent_h"] = df["agents"] * hours
    df["_sl_vol"] = df["service_level"] * df["volume"]
    cols = {"volume": ("volume", "sum"), "peak_agents": ("agents", "max"),
            "agent_hours": ("_agent_h", "sum"), "_sl_vol": ("_sl_vol", "sum")}
    if "scheduled" in df:
        df["_sched_h"] = df["scheduled"] * hours
        cols["scheduled_hours"] = ("_sched_h", "sum")
    out = df.groupby("queue", sort=True).agg(**cols).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["service_level"] = np.where(out["volume"] > 0, out["_sl_vol"] / out["volume"], 1.0)
    return out.drop(columns="_sl_vol")
