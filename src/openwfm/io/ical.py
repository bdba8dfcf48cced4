"""iCalendar export: one .ics per agent, what an agent imports into a phone calendar.

Each shift is an event with local-time ``DTSTART``/``DTEND`` (``TZID`` = the agent's site
zone, with its ``VTIMEZONE``); each break and meal is its own event inside the shift.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pandas as pd


def agent_calendar(agent_id: str, tz: str, segments: pd.DataFrame) -> bytes:
    """The calendar of one agent from their schedule segments (UTC) as .ics bytes.

    Examples
    --------
    >>> seg = pd.DataFrame({"agent_id": ["a1", "a1"], "activity": ["work", "break"],
    ...     "start": pd.to_datetime(["2026-03-30 08:00", "2026-03-30 10:00"], utc=True),
    ...     "end": pd.to_datetime(["2026-03-30 10:00", "2026-03-30 10:15"], utc=True)})
    >>> text = agent_calendar("a1", "Africa/Casablanca", seg).decode()
    >>> "DTSTART;TZID=Africa/Casablanca:20260330T090000" in text
    True
    """
    zone = ZoneInfo(tz)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//openwfm//schedule//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Schedule {agent_id}")
    seg = segments[segments["agent_id"] == agent_id].sort_values("start")
    shift: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []

    def event(summary: str, s: pd.Timestamp, e: pd.Timestamp, uid: str, desc: str = "") -> None:
        ev = icalendar.Event()
        ev.add("uid", uid)
        ev.add("summary", summary)
        ev.add("dtstart", s.tz_convert(zone).to_pydatetime())
        ev.add("dtend", e.tz_convert(zone).to_pydatetime())
        ev.add("dtstamp", s.to_pydatetime())
        if desc:
            ev.add("description", desc)
        cal.add_component(ev)

    def flush() -> None:
        if not shift:
            return
        s, e = shift[0][1], shift[-1][2]
        pauses = [p for p in shift if p[0] != "work"]
        desc = "\n".join(f"{a}: {ps.tz_convert(zone):%H:%M}-{pe.tz_convert(zone):%H:%M}"
                         for a, ps, pe in pauses)
        event("Shift", s, e, f"{agent_id}-{s:%Y%m%dT%H%M}Z@openwfm", desc)
        for a, ps, pe in pauses:
            event(a.capitalize(), ps, pe, f"{agent_id}-{a}-{ps:%Y%m%dT%H%M}Z@openwfm")
        shift.clear()

    for act, s, e in zip(seg["activity"], seg["start"], seg["end"], strict=True):
        if shift and s != shift[-1][2]:
            flush()
        shift.append((str(act), s, e))
    flush()
    cal.add_missing_timezones()
    return cal.to_ical()


def write_calendars(segments: pd.DataFrame, agent_tz: dict[str, str], folder: Path) -> int:
    """Write ``<agent_id>.ics`` for every agent in `segments` into `folder`; returns count."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for aid in sorted(segments["agent_id"].unique()):
        (folder / f"{aid}.ics").write_bytes(agent_calendar(aid, agent_tz[aid], segments))
        n += 1
    return n
