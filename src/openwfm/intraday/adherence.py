"""Adherence and conformance per agent, team, site and local day, exactly from state events.

Definitions (seconds are exact: every boundary of a state, a segment or a local day splits
time into pieces, and each piece has one state, at most one scheduled activity and one
local day):

* **scheduled time**: time inside the agent's schedule segments (``work``, ``break``,
  ``meal``, ``training``, ``meeting``), up to `as_of`;
* **out-of-adherence spell**: a maximal stretch of scheduled time, without a gap, during
  which the agent's state does not adhere to the scheduled activity (the table of
  `openwfm.intraday.states.ADHERING_STATES`: work <- available, on_contact,
  after_contact_work; break <- break; meal <- meal; training <- training; meeting <-
  meeting). A spell may run across a segment boundary (available through the start of a
  scheduled break is one spell) and across midnight (its length decides the grace; its
  seconds go to the local day they fall in);
* **grace**: spells shorter than `grace_s` are forgiven (counted as adhering); a spell of
  `grace_s` or longer counts in full;
* **adherence** = (scheduled time - counted out-of-adherence time) / scheduled time;
* **conformance** = time worked / time scheduled for ``work``, where time worked is the
  time in a work state (available, on_contact, after_contact_work) during the agent's
  local day, inside or outside the schedule (so overtime can push it above 1);
* the **day** is the local date of the agent's site (``site_tz``): a day of 23 or 25 hours
  on a DST or Ramadan clock change is still one day; an agent is reported on the local
  days its segments touch. Before its first event an agent is ``logged_out``.

References
----------
Reynolds, P. (2003). Call Center Staffing, ch. 7 (schedule adherence and conformance).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from openwfm.errors import InputError, shown
from openwfm.intraday.events import AgentEvent, EventLog, events_from_frame
from openwfm.intraday.states import ADHERING_STATES, WORK_STATES, Activity, AgentState

__all__ = [
    "AdherenceResult",
    "AgentDay",
    "LiveAdherence",
    "compute_adherence",
    "read_segments",
]

_STATE_LIST = list(AgentState)
_ACT_LIST = list(Activity)
# adhere[state_index, activity_index]
_ADHERE = np.array([[s in ADHERING_STATES[a] for a in _ACT_LIST] for s in _STATE_LIST])
_WORKED = np.array([s in WORK_STATES for s in _STATE_LIST])
_LOGGED_OUT = _STATE_LIST.index(AgentState.LOGGED_OUT)
_WORK = _ACT_LIST.index(Activity.WORK)
_NS = 1_000_000_000


@dataclass(frozen=True, eq=False)
class AdherenceResult:
    """Adherence and conformance tables.

    Attributes
    ----------
    by_agent : pandas.DataFrame
        One row per agent and local day: ``agent_id``, ``team``, ``site``, ``day`` (local
        date), ``scheduled_s``, ``out_of_adherence_s`` (counted spells only),
        ``in_adherence_s``, ``adherence``, ``scheduled_work_s``, ``worked_s``,
        ``conformance`` (NaN where the denominator is 0).
    by_team, by_site : pandas.DataFrame
        The same seconds summed per (``team``, ``day``) and (``site``, ``day``), ratios of
        the sums (empty with ``totals=False``).
    spells : pandas.DataFrame
        Every out-of-adherence spell: ``agent_id``, ``start``, ``end`` (UTC),
        ``duration_s``, ``activity`` and ``state`` at its start, ``counted`` (duration >=
        grace).
    grace_s : float
    """

    by_agent: pd.DataFrame
    by_team: pd.DataFrame
    by_site: pd.DataFrame
    spells: pd.DataFrame
    grace_s: float


def _zone(name: str, site: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"site '{site}': unknown time zone '{name}'", column="tz") from exc


def read_segments(path: str) -> pd.DataFrame:
    """Read a schedule segments CSV (``agent_id``, ``site``, ``activity``, ``start``,
    ``end`` with UTC offsets; optional ``team``) into the segments table."""
    from pathlib import Path

    from openwfm.io.intervals import parse_times, read_text_table, strip_text

    p = Path(path)
    raw = read_text_table(p)
    for c in ("agent_id", "site", "activity", "start", "end"):
        if c not in raw.columns:
            raise InputError(f"missing column '{c}'; the file has {list(raw.columns)}",
                             file=p.name, column=c)
    out = pd.DataFrame({c: strip_text(raw[c]) for c in ("agent_id", "site", "activity")})
    if "team" in raw.columns:
        out["team"] = strip_text(raw["team"])
    for c in ("start", "end"):
        out[c] = parse_times(raw[c], tz=None, file=p.name, column=c)
    return _check_segments(out.reset_index(drop=True), file=p.name,
                           rows=raw.index.to_numpy() + 1)


def _check_segments(seg: pd.DataFrame, *, file: str | None = None,
                    rows: np.ndarray | None = None) -> pd.DataFrame:
    rows = rows if rows is not None else np.arange(1, len(seg) + 1)
    for c in ("agent_id", "site", "activity", "start", "end"):
        if c not in seg.columns:
            raise InputError(f"the segments table has no column '{c}'", file=file, column=c)
    known = {a.value for a in Activity}
    bad = ~seg["activity"].isin(known).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"unknown activity '{seg['activity'].iloc[i]}': expected one of "
                         f"{sorted(known)}", file=file, row=int(rows[i]), column="activity")
    for c in ("start", "end"):
        if not isinstance(seg[c].dtype, pd.DatetimeTZDtype):
            raise InputError(f"segment {c} must be timezone-aware (UTC)", file=file, column=c)
    bad = (seg["end"] <= seg["start"]).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("a segment must end after it starts", file=file, row=int(rows[i]),
                         column="end")
    order = np.lexsort((seg["start"].to_numpy(), seg["agent_id"].to_numpy()))
    s = seg.iloc[order]
    same = (s["agent_id"].to_numpy()[1:] == s["agent_id"].to_numpy()[:-1])
    overlap = same & (s["start"].to_numpy()[1:] < s["end"].to_numpy()[:-1])
    if overlap.any():
        i = int(order[np.flatnonzero(overlap)[0] + 1])
        raise InputError(f"agent '{seg['agent_id'].iloc[i]}' has overlapping segments",
                         file=file, row=int(rows[i]), column="start")
    sites = seg.groupby("agent_id")["site"].nunique()
    if (sites > 1).any():
        a = sites[sites > 1].index[0]
        raise InputError(f"agent '{a}' is scheduled at several sites: one site per agent "
                         "(its zone defines the agent's day)", file=file, column="site")
    return seg


def _timelines(events: EventLog | pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """agent -> (event times in ns, state indexes), in timeline order ((at, event_id)),
    with the same rules as `EventLog` (repeats once, a reused id with other content is an
    error); a table is handled column-wise."""
    code = {s: i for i, s in enumerate(_STATE_LIST)}
    if isinstance(events, EventLog):
        out = {}
        for agent in events.agents:
            tl = events.timeline(agent)
            out[agent] = (np.array([pd.Timestamp(t).value for t, _ in tl], dtype=np.int64),
                          np.array([code[x] for _, x in tl], dtype=np.int64))
        return out
    missing = [c for c in ("event_id", "agent_id", "state", "at") if c not in events.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}", column=missing[0])
    at = events["at"]
    if not isinstance(at.dtype, pd.DatetimeTZDtype):
        # text or naive times: validate row by row (clear messages), the slow path
        log = EventLog()
        log.add(events_from_frame(events))
        return _timelines(log)
    df = pd.DataFrame({"event_id": events["event_id"].astype(str).to_numpy(),
                       "agent_id": events["agent_id"].astype(str).to_numpy(),
                       "state": events["state"].astype(str).to_numpy(),
                       "at": pd.DatetimeIndex(at).tz_convert("UTC").as_unit("ns").asi8})
    bad = ~df["state"].isin(code)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unknown state {shown(df['state'].iloc[i])}, expected one of "
                         f"{list(code)}", row=i + 1, column="state")
    df = df.drop_duplicates()
    dup = df["event_id"].duplicated(keep=False)
    if dup.any():
        eid = df.loc[dup, "event_id"].iloc[0]
        raise InputError(f"event_id '{eid}' is used by two different events",
                         column="event_id")
    df = df.sort_values(["agent_id", "at", "event_id"], kind="stable")
    agents = df["agent_id"].to_numpy()
    cut = np.flatnonzero(agents[1:] != agents[:-1]) + 1
    times = np.split(df["at"].to_numpy(), cut)
    states = np.split(df["state"].map(code).to_numpy(dtype=np.int64), cut)
    names = agents[np.concatenate([[0], cut])] if len(agents) else []
    return {str(n): (t, x) for n, t, x in zip(names, times, states, strict=True)}


def _midnights(zone: ZoneInfo, first_ns: int, last_ns: int) -> tuple[np.ndarray, list]:
    """Local midnights (UTC ns) of `zone` from the day of `first_ns` to the day after the
    day of `last_ns`, and their dates (DST-safe: each local date is localized)."""
    first = pd.Timestamp(first_ns, tz="UTC").tz_convert(zone)
    last = pd.Timestamp(last_ns, tz="UTC").tz_convert(zone)
    days = pd.date_range(first.normalize().tz_localize(None),
                         last.normalize().tz_localize(None) + pd.Timedelta(days=1), freq="D")
    return (days.tz_localize(zone, ambiguous=False, nonexistent="shift_forward").asi8,
            [d.date() for d in days])


def _agent_pieces(
    times_ns: np.ndarray, state_idx: np.ndarray, seg_start: np.ndarray, seg_end: np.ndarray,
    seg_act: np.ndarray, all_mids: np.ndarray, end_ns: int,
) -> tuple[np.ndarray, ...]:
    """Elementary pieces of one agent: (start_ns, end_ns, state, activity or -1, index of
    the local day in `all_mids`)."""
    i0 = int(np.searchsorted(all_mids, seg_start.min(), side="right")) - 1
    i1 = int(np.searchsorted(all_mids, seg_end.max() - 1, side="right"))
    mids_ns = all_mids[i0:i1 + 1]
    lo, hi = int(mids_ns[0]), min(int(mids_ns[-1]), end_ns)
    if hi <= lo:
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty, empty, empty
    pts = np.concatenate([[lo, hi], times_ns, seg_start, seg_end, mids_ns])
    pts = np.unique(pts[(pts >= lo) & (pts <= hi)])
    a, b = pts[:-1], pts[1:]
    k = np.searchsorted(times_ns, a, side="right") - 1
    if len(times_ns):
        state = np.where(k >= 0, state_idx[np.maximum(k, 0)], _LOGGED_OUT)
    else:  # no event yet: logged out throughout
        state = np.full(len(a), _LOGGED_OUT, dtype=np.int64)
    j = np.searchsorted(seg_start, a, side="right") - 1
    covered = (j >= 0) & (a < seg_end[np.maximum(j, 0)])
    act = np.where(covered, seg_act[np.maximum(j, 0)], -1)
    day = np.searchsorted(mids_ns, a, side="right") - 1 + i0
    return a, b, state, act, day


def _agent_figures(
    times_ns: np.ndarray, state_idx: np.ndarray, seg_start: np.ndarray, seg_end: np.ndarray,
    seg_act: np.ndarray, all_mids: np.ndarray, end_ns: int, grace_s: float,
) -> tuple[list[tuple[int, dict[str, float]]], list[tuple[int, int, float, str, str, bool]]]:
    """One agent's seconds per local day and out-of-adherence spells up to `end_ns`:
    ([(index of the day in `all_mids`, {scheduled_s, out_of_adherence_s,
    scheduled_work_s, worked_s})], [(start_ns, end_ns, duration_s, activity, state,
    counted)]). The one computation behind `compute_adherence` and
    `LiveAdherence.day_figures`."""
    a, b, st, act, day = _agent_pieces(times_ns, state_idx, seg_start, seg_end, seg_act,
                                       all_mids, end_ns)
    if len(a) == 0:
        return [], []
    dur = (b - a) / _NS
    sched = act >= 0
    bad = sched & ~_ADHERE[st, np.maximum(act, 0)]
    # spells: runs of consecutive bad pieces (pieces are contiguous)
    starts = bad & ~np.concatenate([[False], bad[:-1]])
    run = np.cumsum(starts) - 1
    counted_piece = np.zeros(len(a), dtype=bool)
    spells = []
    if bad.any():
        rid = run[bad]
        total = np.bincount(rid, weights=dur[bad])
        first = np.flatnonzero(starts)
        last = np.flatnonzero(bad & ~np.concatenate([bad[1:], [False]]))
        counted = total >= grace_s
        counted_piece[bad] = counted[rid]
        for r in range(len(total)):
            spells.append((int(a[first[r]]), int(b[last[r]]), float(total[r]),
                           _ACT_LIST[act[first[r]]].value, _STATE_LIST[st[first[r]]].value,
                           bool(counted[r])))
    d0 = int(day.min())
    dd = day - d0
    ndays = int(dd.max()) + 1
    per = {
        "scheduled_s": np.bincount(dd, weights=dur * sched, minlength=ndays),
        "out_of_adherence_s": np.bincount(dd, weights=dur * counted_piece, minlength=ndays),
        "scheduled_work_s": np.bincount(dd, weights=dur * (act == _WORK), minlength=ndays),
        "worked_s": np.bincount(dd, weights=dur * _WORKED[st], minlength=ndays),
    }
    return [(d0 + d, {k: float(v[d]) for k, v in per.items()}) for d in range(ndays)], spells


def compute_adherence(
    segments: pd.DataFrame,
    events: EventLog | pd.DataFrame,
    site_tz: Mapping[str, str],
    *,
    grace_s: float = 0.0,
    as_of: datetime | pd.Timestamp | None = None,
    totals: bool = True,
) -> AdherenceResult:
    """Adherence and conformance per agent, team, site and local day.

    Parameters
    ----------
    segments : pandas.DataFrame
        Schedule segments: ``agent_id``, ``site``, ``activity`` (`Activity`), ``start``,
        ``end`` (UTC); optional ``team`` (else the team is the site).
    events : EventLog or pandas.DataFrame
        State events (``event_id``, ``agent_id``, ``state``, ``at``).
    site_tz : Mapping[str, str]
        IANA zone of every site.
    grace_s : float
        Out-of-adherence spells shorter than this are forgiven.
    as_of : datetime, optional
        The instant states are known to (live: now); time after it is not counted.
        Default: the end of the last segment or the last event, whichever is later.
    totals : bool
        Sum per team and site (False: ``by_team`` and ``by_site`` are left empty, for a
        caller that reads a few agents often, e.g. the live board of the server).

    Returns
    -------
    AdherenceResult

    Examples
    --------
    A 4-hour shift with a 15-minute break; the agent starts 5 minutes late and comes back
    from the break 10 minutes late:

    >>> seg = pd.DataFrame({"agent_id": "a", "site": "cas", "activity": ["work", "break",
    ...     "work"], "start": pd.to_datetime(["2026-01-05 08:00", "2026-01-05 10:00",
    ...     "2026-01-05 10:15"], utc=True), "end": pd.to_datetime(["2026-01-05 10:00",
    ...     "2026-01-05 10:15", "2026-01-05 12:00"], utc=True)})
    >>> ev = pd.DataFrame({"event_id": ["1", "2", "3", "4"], "agent_id": "a",
    ...     "state": ["available", "break", "available", "logged_out"],
    ...     "at": pd.to_datetime(["2026-01-05 08:05", "2026-01-05 10:00",
    ...                           "2026-01-05 10:25", "2026-01-05 12:00"], utc=True)})
    >>> r = compute_adherence(seg, ev, {"cas": "Africa/Casablanca"})
    >>> r.by_agent[["scheduled_s", "out_of_adherence_s", "adherence", "conformance"]].round(4)
       scheduled_s  out_of_adherence_s  adherence  conformance
    0      14400.0               900.0     0.9375       0.9333
    """
    seg = _check_segments(segments.reset_index(drop=True))
    missing = sorted(set(seg["site"]) - set(site_tz))
    if missing:
        raise InputError(f"no time zone for site(s) {missing}: give site_tz", column="site")
    zones = {s: _zone(site_tz[s], s) for s in set(seg["site"])}
    timelines = _timelines(events)
    if as_of is None:
        end_ns = int(seg["end"].max().value)
        for times_ns, _ in timelines.values():
            if len(times_ns):
                end_ns = max(end_ns, int(times_ns[-1]))
    else:
        ts = pd.Timestamp(as_of)
        if ts.tzinfo is None:
            raise InputError("as_of must be timezone-aware", column="as_of")
        end_ns = int(ts.value)
    if "team" not in seg.columns:
        seg = seg.assign(team=seg["site"])
    act_code = {a.value: i for i, a in enumerate(_ACT_LIST)}
    seg = seg.sort_values(["agent_id", "start"], kind="stable")
    s_start = pd.DatetimeIndex(seg["start"]).as_unit("ns").asi8
    s_end = pd.DatetimeIndex(seg["end"]).as_unit("ns").asi8
    s_act = seg["activity"].map(act_code).to_numpy(dtype=np.int64)
    s_agent = seg["agent_id"].astype(str).to_numpy()
    bounds = np.concatenate([[0], np.flatnonzero(s_agent[1:] != s_agent[:-1]) + 1,
                             [len(seg)]])
    site_of = seg["site"].to_numpy()
    team_of = seg["team"].to_numpy()
    mids = {}
    for site in set(seg["site"]):
        on = (site_of == site)
        mids[site] = _midnights(zones[site], int(s_start[on].min()), int(s_end[on].max()) - 1)
    empty = (np.array([], dtype=np.int64), np.array([], dtype=np.int64))

    agent_rows: list[dict[str, object]] = []
    spell_rows: list[tuple[object, ...]] = []
    for i0, i1 in itertools.pairwise(bounds):
        agent, site, team = s_agent[i0], site_of[i0], team_of[i0]
        all_mids, dates = mids[site]
        times_ns, states = timelines.get(agent, empty)
        days, spells = _agent_figures(times_ns, states, s_start[i0:i1], s_end[i0:i1],
                                      s_act[i0:i1], all_mids, end_ns, grace_s)
        spell_rows.extend((agent, *sp) for sp in spells)
        agent_rows.extend({"agent_id": agent, "team": team, "site": site,
                           "day": dates[d], **figures} for d, figures in days)
    cols = ["agent_id", "team", "site", "day", "scheduled_s", "out_of_adherence_s",
            "scheduled_work_s", "worked_s"]
    by_agent = pd.DataFrame(agent_rows, columns=cols)
    spells = pd.DataFrame(spell_rows, columns=["agent_id", "start", "end", "duration_s",
                                               "activity", "state", "counted"])
    for c in ("start", "end"):
        spells[c] = pd.to_datetime(spells[c], utc=True)
    if totals:
        by_team, by_site = _ratios(_sum(by_agent, "team")), _ratios(_sum(by_agent, "site"))
    else:
        by_team = by_site = pd.DataFrame()
    return AdherenceResult(by_agent=_ratios(by_agent), by_team=by_team, by_site=by_site,
                           spells=spells, grace_s=float(grace_s))


def _sum(df: pd.DataFrame, key: str) -> pd.DataFrame:
    cols = ["scheduled_s", "out_of_adherence_s", "scheduled_work_s", "worked_s"]
    return df.groupby([key, "day"], as_index=False, sort=True)[cols].sum()


def _ratios(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["in_adherence_s"] = out["scheduled_s"] - out["out_of_adherence_s"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["adherence"] = np.where(out["scheduled_s"] > 0,
                                    out["in_adherence_s"] / out["scheduled_s"], np.nan)
        out["conformance"] = np.where(out["scheduled_work_s"] > 0,
                                      out["worked_s"] / out["scheduled_work_s"], np.nan)
    lead = [c for c in ("agent_id", "team", "site", "day") if c in out.columns]
    return out[[*lead, "scheduled_s", "out_of_adherence_s", "in_adherence_s", "adherence",
                "scheduled_work_s", "worked_s", "conformance"]]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class AgentDay:
    """One agent's figures in one local day so far (`LiveAdherence.day_so_far`); the
    columns of `AdherenceResult.by_agent`."""

    agent_id: str
    day: date
    scheduled_s: float
    out_of_adherence_s: float
    scheduled_work_s: float
    worked_s: float
    last_spell_end: datetime | None
    """End of the agent's latest out-of-adherence spell that is over (any day), UTC."""

    @property
    def in_adherence_s(self) -> float:
        return self.scheduled_s - self.out_of_adherence_s

    @property
    def adherence(self) -> float | None:
        """(scheduled - counted out) / scheduled; None when nothing was scheduled yet."""
        return self.in_adherence_s / self.scheduled_s if self.scheduled_s > 0 else None

    @property
    def conformance(self) -> float | None:
        """worked / scheduled work; None when no work was scheduled yet."""
        return (self.worked_s / self.scheduled_work_s if self.scheduled_work_s > 0
                else None)


class LiveAdherence:
    """Who is out of adherence now, and since when: the team leader's live exceptions.

    Holds the schedule (per-agent sorted segments) and an `EventLog`; `add` stores events
    (idempotent, any order) in O(log n) each, and `exceptions` answers for one instant
    looking only at the agents scheduled then and, for those out of adherence, back over
    their current spell (never the whole day). The spell start is the one
    `compute_adherence` finds for a spell still running at `as_of` = now.

    Examples
    --------
    >>> seg = pd.DataFrame({"agent_id": ["a", "b"], "site": "par", "activity": "work",
    ...     "start": pd.Timestamp("2026-01-05 08:00", tz="UTC"),
    ...     "end": pd.Timestamp("2026-01-05 16:00", tz="UTC")})
    >>> live = LiveAdherence(seg)
    >>> live.add([AgentEvent.make("1", "a", "available", "2026-01-05T07:58:00Z"),
    ...           AgentEvent.make("2", "b", "break", "2026-01-05T09:00:00Z")])
    2
    >>> live.exceptions(pd.Timestamp("2026-01-05 09:20", tz="UTC"), min_duration_s=600)
      agent_id activity  state                     since  duration_s
    0        b     work  break 2026-01-05 08:00:00+00:00      4800.0
    """

    def __init__(self, segments: pd.DataFrame, log: EventLog | None = None,
                 site_tz: Mapping[str, str] | None = None) -> None:
        seg = _check_segments(segments.reset_index(drop=True)).sort_values(["agent_id",
                                                                            "start"])
        self.log = log if log is not None else EventLog()
        self._seg: dict[str, tuple[list[datetime], list[datetime], list[Activity]]] = {}
        for agent, g in seg.groupby("agent_id", sort=True):
            self._seg[str(agent)] = ([t.to_pydatetime() for t in g["start"]],
                                     [t.to_pydatetime() for t in g["end"]],
                                     [Activity(x) for x in g["activity"]])
        # the arrays `day_so_far` reads, as `compute_adherence` makes them
        self._site_tz = dict(site_tz or {})
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, str]] = {}
        self._mids: dict[str, tuple[np.ndarray, list[date]]] = {}
        self._tl: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        if site_tz is not None and len(seg):
            missing = sorted(set(seg["site"]) - set(site_tz))
            if missing:
                raise InputError(f"no time zone for site(s) {missing}: give site_tz",
                                 column="site")
            act_code = {a.value: i for i, a in enumerate(_ACT_LIST)}
            start = pd.DatetimeIndex(seg["start"]).as_unit("ns").asi8
            end = pd.DatetimeIndex(seg["end"]).as_unit("ns").asi8
            act = seg["activity"].map(act_code).to_numpy(dtype=np.int64)
            agents = seg["agent_id"].astype(str).to_numpy()
            site_of = seg["site"].to_numpy()
            for site in set(site_of):
                on = site_of == site
                self._mids[site] = _midnights(_zone(site_tz[site], site), int(start[on].min()),
                                              int(end[on].max()) - 1)
            cut = np.concatenate([[0], np.flatnonzero(agents[1:] != agents[:-1]) + 1,
                                  [len(seg)]])
            for i0, i1 in itertools.pairwise(cut):
                self._arrays[str(agents[i0])] = (start[i0:i1], end[i0:i1], act[i0:i1],
                                                 str(site_of[i0]))

    def add(self, events: list[AgentEvent]) -> int:
        """Store events (see `EventLog.add`); returns how many were new."""
        return self.log.add(events)

    def activity_at(self, agent: str, now: datetime) -> Activity | None:
        """The activity the agent is scheduled for at `now` (None outside every segment)."""
        starts, ends, acts = self._seg.get(agent, ([], [], []))
        i = bisect.bisect_right(starts, now) - 1
        return acts[i] if i >= 0 and now < ends[i] else None

    def segments_of(self, agent: str) -> list[tuple[datetime, datetime, Activity]]:
        """The agent's segments (start, end, activity), in time order."""
        starts, ends, acts = self._seg.get(agent, ([], [], []))
        return list(zip(starts, ends, acts, strict=True))

    def _segment_before(self, agent: str, t: datetime) -> tuple[datetime, Activity] | None:
        """The segment covering the instant just before `t`: start < t <= end."""
        starts, ends, acts = self._seg[agent]
        i = bisect.bisect_left(starts, t) - 1
        if i >= 0 and t <= ends[i]:
            return starts[i], acts[i]
        return None

    def spell_start(self, agent: str, now: datetime) -> datetime | None:
        """Start of the agent's out-of-adherence spell running at `now` (None if adhering
        or not scheduled at `now`)."""
        starts, ends, acts = self._seg.get(agent, ([], [], []))
        i = bisect.bisect_right(starts, now) - 1
        if i < 0 or not now < ends[i]:
            return None
        if self.log.state_at(agent, now) in ADHERING_STATES[acts[i]]:
            return None
        since = now
        while True:
            seg = self._segment_before(agent, since)
            if seg is None:
                return since
            seg_start, act = seg
            prev = self.log.last_change_before(agent, since)
            before = (self.log.state_at(agent, prev) if prev is not None
                      else AgentState.LOGGED_OUT)
            if before in ADHERING_STATES[act]:
                return since
            since = max(seg_start, prev) if prev is not None else seg_start

    def exceptions(self, now: datetime | pd.Timestamp, *, min_duration_s: float = 0.0,
                   agents: Iterable[str] | None = None) -> pd.DataFrame:
        """Agents out of adherence at `now` for at least `min_duration_s` (among `agents`,
        default every scheduled agent).

        Returns ``agent_id``, ``activity`` (scheduled now), ``state`` (now), ``since``
        (UTC start of the spell), ``duration_s``, sorted by longest first.
        """
        ts = pd.Timestamp(now)
        if ts.tzinfo is None:
            raise InputError("now must be timezone-aware", column="now")
        rows = self.exception_rows(ts.tz_convert("UTC").to_pydatetime(),
                                   min_duration_s=min_duration_s, agents=agents)
        out = pd.DataFrame(rows, columns=["agent_id", "activity", "state", "since",
                                          "duration_s"])
        out["since"] = pd.to_datetime(out["since"], utc=True)
        return out

    def exception_rows(self, now: datetime, *, min_duration_s: float = 0.0,
                       agents: Iterable[str] | None = None
                       ) -> list[tuple[str, str, str, datetime, float]]:
        """`exceptions` as plain tuples (agent_id, activity, state, since, duration_s),
        longest first: the form a live stream reads every half second (no table)."""
        rows = []
        wanted = self._seg if agents is None else {a: self._seg[a] for a in agents
                                                   if a in self._seg}
        for agent, (starts, ends, acts) in wanted.items():
            i = bisect.bisect_right(starts, now) - 1
            if i < 0 or not now < ends[i]:
                continue
            since = self.spell_start(agent, now)
            if since is None:
                continue
            dur = (now - since).total_seconds()
            if dur >= min_duration_s:
                rows.append((agent, acts[i].value, self.log.state_at(agent, now).value,
                             since, dur))
        rows.sort(key=lambda r: (-r[4], r[0]))
        return rows

    def _timeline(self, agent: str) -> tuple[np.ndarray, np.ndarray]:
        """The agent's event times (ns) and state indexes, rebuilt when it got events."""
        n = self.log.count(agent)
        hit = self._tl.get(agent)
        if hit is None or hit[0] != n:
            code = {s: i for i, s in enumerate(_STATE_LIST)}
            tl = self.log.timeline(agent)
            hit = (n, np.array([(t - _EPOCH) // _US * 1000 for t, _ in tl], dtype=np.int64),
                   np.array([code[x] for _, x in tl], dtype=np.int64))
            self._tl[agent] = hit
        return hit[1], hit[2]

    def day_so_far(self, agent: str, now: datetime, grace_s: float) -> AgentDay | None:
        """The agent's adherence and conformance in the local day of `now` (the site's
        zone), up to `now`: exactly `compute_adherence(..., as_of=now)`'s row of that day
        (the same computation on this agent alone, with the arrays kept between calls).
        None when the agent has no segment touching that day (or no `site_tz` was
        given).

        Examples
        --------
        >>> seg = pd.DataFrame({"agent_id": ["a"], "site": "par", "activity": "work",
        ...     "start": pd.Timestamp("2026-01-05 08:00", tz="UTC"),
        ...     "end": pd.Timestamp("2026-01-05 16:00", tz="UTC")})
        >>> live = LiveAdherence(seg, site_tz={"par": "Europe/Paris"})
        >>> _ = live.add([AgentEvent.make("1", "a", "available", "2026-01-05T08:10:00Z")])
        >>> d = live.day_so_far("a", datetime(2026, 1, 5, 9, tzinfo=UTC), grace_s=60)
        >>> d.day, d.scheduled_s, d.out_of_adherence_s, round(d.adherence, 4)
        (datetime.date(2026, 1, 5), 3600.0, 600.0, 0.8333)
        """
        arrays = self._arrays.get(agent)
        if arrays is None:
            return None
        s_start, s_end, s_act, site = arrays
        all_mids, dates = self._mids[site]
        end_ns = (now.astimezone(UTC) - _EPOCH) // _US * 1000
        times_ns, states = self._timeline(agent)
        days, spells = _agent_figures(times_ns, states, s_start, s_end, s_act, all_mids,
                                      end_ns, grace_s)
        local_day = now.astimezone(ZoneInfo(self._site_tz[site])).date()
        ended = [e for _, e, *_ in spells if e <= end_ns]
        last_end = (_EPOCH + timedelta(microseconds=max(ended) // 1000)) if ended else None
        for d, f in days:
            if dates[d] == local_day:
                return AgentDay(agent_id=agent, day=local_day, last_spell_end=last_end, **f)
        return None
