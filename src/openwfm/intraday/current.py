"""The current state of the floor as a schedule: who is working in the interval in progress.

The predicted service level of the rest of the day (`openwfm.intraday.reoptimize.
predicted_by_interval`) takes a segments table. For the interval in progress the published
schedule is not what happens: an agent scheduled to work may be on an unplanned break or
not logged in, another may be working outside their shift. `live_segments` rewrites the
schedule between ``start`` (the start of the interval in progress) and ``until`` (its end)
from the agents' states at ``now`` (live adherence): an agent in a work state
(`WORK_STATES`: available, on a contact, after-contact work) works the whole span (on the
queue their scheduled work segment names, if any); any other state is not productive.
After ``until`` the published schedule stands (the agents are expected back at their
scheduled activities).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from openwfm.intraday.states import WORK_STATES, AgentState

__all__ = ["live_segments"]


def live_segments(segments: pd.DataFrame, states: Mapping[str, AgentState],
                  start: pd.Timestamp, until: pd.Timestamp) -> pd.DataFrame:
    """`segments` (``agent_id, site, activity, start, end[, queue]``, UTC) with
    ``[start, until)`` replaced by each agent's state at the start of the span: a ``work``
    segment for an agent in a work state, nothing otherwise. Agents in `states` without a
    segment get the site of none (``""``).

    Examples
    --------
    >>> t = pd.Timestamp("2026-03-31 09:00", tz="UTC")
    >>> seg = pd.DataFrame({"agent_id": ["a", "b"], "site": "s", "activity": "work",
    ...                     "start": t, "end": t + pd.Timedelta(hours=2), "queue": None})
    >>> out = live_segments(seg, {"a": AgentState.BREAK, "b": AgentState.ON_CONTACT,
    ...                           "c": AgentState.AVAILABLE}, t, t + pd.Timedelta(minutes=30))
    >>> [(r.agent_id, str(r.start.time()), str(r.end.time())) for r in out.itertuples()]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('a', '09:30:00', '11:00:00'), ('b', '09:00:00', '09:30:00'),
     ('b', '09:30:00', '11:00:00'), ('c', '09:00:00', '09:30:00')]
    """
    seg = segments.copy()
    if "queue" not in seg.columns:
        seg["queue"] = None
    seg["start"] = pd.to_datetime(seg["start"], utc=True)
    seg["end"] = pd.to_datetime(seg["end"], utc=True)
    inside = (seg["start"] < until) & (seg["end"] > start)
    keep = seg[~inside]
    parts = [keep]
    cut = seg[inside]
    before = cut[cut["start"] < start].assign(end=start)
    after = cut[cut["end"] > until].assign(start=until)
    parts += [before, after]
    rows = []
    site = dict(zip(seg["agent_id"], seg["site"], strict=False))
    for agent, state in sorted(states.items()):
        if AgentState(state) not in WORK_STATES:
            continue
        mine = cut[(cut["agent_id"] == agent) & (cut["activity"] == "work")
                   & (cut["start"] <= start) & (cut["end"] > start)]
        queue = mine["queue"].iloc[0] if len(mine) else None
        rows.append({"agent_id": agent, "site": site.get(agent, ""), "activity": "work",
                     "start": start, "end": until, "queue": queue})
    if rows:
        parts.append(pd.DataFrame(rows))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else seg.iloc[0:0]
    return out.sort_values(["agent_id", "start"], ignore_index=True)[list(seg.columns)]
