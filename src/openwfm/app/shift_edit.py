"""A planner's edit of one shift and what it does: which labour rules break (the
independent checker, `openwfm.scheduling.check`) and how coverage moves against the
requirement. Pure functions on segment tables; the web page loads them and shows the
result.

A *shift* is an agent's contiguous segments (work / break / meal). Moving it shifts every
segment by the same time; resizing moves its end (the last segment grows or shrinks; a
segment left entirely outside the new end is dropped).

`plan_shift` also sets the shift's breaks and activities (`openwfm.activities`: a break, a
meal, a meeting, training, coaching, a one-to-one) as a list of `Planned` items, each at
an offset from the shift's start: adding one lays it over the work at that time, removing
one gives its time back to work (on the queue of the work before it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from openwfm.activities import DEFINITIONS, PRODUCTIVE, Activity
from openwfm.scheduling.check import Violation, check_schedule, check_seats
from openwfm.scheduling.model import SchedulingProblem

SEGMENT_COLUMNS = ["agent_id", "site", "activity", "start", "end", "queue"]

#: What a planner may add inside a shift: the on-duty activities that do not serve contacts.
INSERTABLE: tuple[Activity, ...] = tuple(a for a, d in DEFINITIONS.items()
                                         if d.on_duty and not d.productive)


class ShiftEditError(ValueError):
    """An edit that cannot be applied (the message says which item and why)."""


@dataclass(frozen=True)
class Planned:
    """A break or an activity of a shift: `activity` from `offset_min` minutes after the
    shift's start, for `length_min` minutes."""

    activity: str
    offset_min: int
    length_min: int

    @property
    def end_min(self) -> int:
        return self.offset_min + self.length_min


def shift_bounds(segments: pd.DataFrame, shift_start: datetime) -> tuple[int, int]:
    """Row positions (first, last) of the shift of `segments` (one agent, sorted by start)
    that starts at `shift_start`; KeyError when none does."""
    starts, ends = segments["start"].tolist(), segments["end"].tolist()
    first = next((i for i, s in enumerate(starts) if s == pd.Timestamp(shift_start)), None)
    if first is None:
        raise KeyError(f"no shift starts at {shift_start}")
    last = first
    while last + 1 < len(starts) and starts[last + 1] == ends[last]:
        last += 1
    return first, last


def shift_activities(segments: pd.DataFrame, shift_start: datetime) -> list[Planned]:
    """The breaks and activities (every segment that does not serve contacts) of the shift
    that starts at `shift_start`, as offsets from its start.

    >>> t = lambda h: pd.Timestamp("2026-03-30", tz="UTC") + pd.Timedelta(hours=h)
    >>> seg = pd.DataFrame({"activity": ["work", "break", "work"], "queue": ["q", None, "q"],
    ...                     "start": [t(8), t(10), t(10.25)], "end": [t(10), t(10.25), t(16)]})
    >>> shift_activities(seg, t(8))
    [Planned(activity='break', offset_min=120, length_min=15)]
    """
    seg = segments.sort_values("start").reset_index(drop=True)
    first, last = shift_bounds(seg, shift_start)
    t0 = seg["start"].iloc[first]
    return [Planned(str(a), int((s - t0) / pd.Timedelta(minutes=1)),
                    int((e - s) / pd.Timedelta(minutes=1)))
            for a, s, e in zip(seg["activity"].iloc[first:last + 1],
                               seg["start"].iloc[first:last + 1],
                               seg["end"].iloc[first:last + 1], strict=True)
            if a not in PRODUCTIVE]


def plan_shift(segments: pd.DataFrame, shift_start: datetime, new_start: datetime,
               new_end: datetime, planned: Sequence[Planned]) -> pd.DataFrame:
    """One agent's `segments` with the shift that starts at `shift_start` moved and
    resized to `new_start`..`new_end` (`edit_shift`) and its breaks and activities set to
    `planned`: the shift's own non-productive segments become work again (on the queue of
    the work before them, else after them) and each planned item is laid over the shift at
    its offset. Raises `ShiftEditError` for an item outside the shift, of an unknown
    activity, of no length, or overlapping another.

    Examples
    --------
    >>> t = lambda h: pd.Timestamp("2026-03-30", tz="UTC") + pd.Timedelta(hours=h)
    >>> seg = pd.DataFrame({"agent_id": ["a"] * 3, "site": ["S"] * 3,
    ...                     "activity": ["work", "break", "work"],
    ...                     "start": [t(8), t(10), t(10.25)], "end": [t(10), t(10.25), t(16)],
    ...                     "queue": ["q", None, "q"]})
    >>> out = plan_shift(seg, t(8), t(8), t(16), [Planned("meeting", 60, 30)])
    >>> [(a, s.hour + s.minute / 60, e.hour + e.minute / 60, q)
    ...  for a, s, e, q in zip(out.activity, out.start, out.end, out.queue)]
    [('work', 8.0, 9.0, 'q'), ('meeting', 9.0, 9.5, None), ('work', 9.5, 16.0, 'q')]
    >>> try:
    ...     plan_shift(seg, t(8), t(8), t(16), [Planned("break", 460, 30)])
    ... except ShiftEditError as e:
    ...     print(e)
    the break from minute 460 to 490 is not inside the shift (0 to 480 minutes)
    """
    length = int((pd.Timestamp(new_end) - pd.Timestamp(new_start)) / pd.Timedelta(minutes=1))
    items = sorted(planned, key=lambda p: p.offset_min)
    for k, p in enumerate(items):
        if p.activity in PRODUCTIVE or p.activity not in {a.value for a in Activity}:
            raise ShiftEditError(f"{p.activity!r} is not a break or an activity of a shift "
                                 f"(one of {', '.join(a.value for a in INSERTABLE)})")
        if p.length_min <= 0:
            raise ShiftEditError(f"the {p.activity} at minute {p.offset_min} has no length")
        if p.offset_min < 0 or p.end_min > length:
            raise ShiftEditError(f"the {p.activity} from minute {p.offset_min} to "
                                 f"{p.end_min} is not inside the shift (0 to {length} "
                                 "minutes)")
        if k and items[k - 1].end_min > p.offset_min:
            raise ShiftEditError(f"the {p.activity} at minute {p.offset_min} overlaps the "
                                 f"{items[k - 1].activity} at minute {items[k - 1].offset_min}")
    moved = edit_shift(segments, shift_start, new_start, new_end)
    if items == shift_activities(moved, new_start):
        return moved  # the shift keeps its breaks and activities where they were
    first, last = shift_bounds(moved, new_start)
    shift = moved.iloc[first:last + 1].reset_index(drop=True)
    # the skeleton: every minute of the shift is work, on the queue it had
    prod = shift["activity"].isin(PRODUCTIVE)
    queue = shift["queue"].where(prod).ffill().bfill()
    activity = shift["activity"].where(prod).ffill().bfill().fillna("work")
    shift = shift.assign(activity=activity, queue=queue)
    t0 = pd.Timestamp(new_start)
    for p in items:
        shift = overlay(shift, p.activity, t0 + pd.Timedelta(minutes=p.offset_min),
                        t0 + pd.Timedelta(minutes=p.end_min))
    shift = merge_adjacent(shift)
    out = pd.concat([moved.iloc[:first], shift, moved.iloc[last + 1:]], ignore_index=True)
    return out.sort_values("start").reset_index(drop=True)


def overlay(shift: pd.DataFrame, activity: str, start: pd.Timestamp, end: pd.Timestamp
            ) -> pd.DataFrame:
    """`shift` (contiguous segments) with `activity` from `start` to `end` over whatever
    was there (segments cut around it; the new segment has no queue)."""
    rows = []
    for r in shift.to_dict("records"):
        if r["end"] <= start or r["start"] >= end:
            rows.append(r)
            continue
        if r["start"] < start:
            rows.append({**r, "end": start})
        if r["end"] > end:
            rows.append({**r, "start": end})
    template = shift.iloc[0].to_dict()
    rows.append({**template, "activity": activity, "start": start, "end": end, "queue": None})
    return pd.DataFrame(rows, columns=shift.columns).sort_values("start").reset_index(
        drop=True)


def merge_adjacent(shift: pd.DataFrame) -> pd.DataFrame:
    """Contiguous segments of the same activity and queue joined into one."""
    rows: list[dict[str, object]] = []
    for r in shift.sort_values("start").to_dict("records"):
        q = r["queue"] if isinstance(r["queue"], str) else None
        if rows and rows[-1]["activity"] == r["activity"] and rows[-1]["queue"] == q \
                and rows[-1]["end"] == r["start"]:
            rows[-1]["end"] = r["end"]
        else:
            rows.append({**r, "queue": q})
    return pd.DataFrame(rows, columns=shift.columns)


def edit_shift(segments: pd.DataFrame, shift_start: datetime, new_start: datetime,
               new_end: datetime) -> pd.DataFrame:
    """One agent's `segments` with the shift that starts at `shift_start` moved to start at
    `new_start` and end at `new_end`.

    Examples
    --------
    >>> t = lambda h: pd.Timestamp("2026-03-30", tz="UTC") + pd.Timedelta(hours=h)
    >>> seg = pd.DataFrame({"agent_id": ["a"] * 3, "site": ["S"] * 3,
    ...                     "activity": ["work", "break", "work"],
    ...                     "start": [t(8), t(10), t(10.25)], "end": [t(10), t(10.25), t(16)],
    ...                     "queue": ["q", None, "q"]})
    >>> out = edit_shift(seg, t(8), t(9), t(18))
    >>> [(a, s.hour + s.minute / 60, e.hour + e.minute / 60)
    ...  for a, s, e in zip(out.activity, out.start, out.end)]
    [('work', 9.0, 11.0), ('break', 11.0, 11.25), ('work', 11.25, 18.0)]
    """
    if not new_end > new_start:
        raise ValueError("the shift must end after it starts")
    seg = segments.sort_values("start").reset_index(drop=True)
    starts = seg["start"].tolist()
    ends = seg["end"].tolist()
    first = next((i for i, s in enumerate(starts) if s == pd.Timestamp(shift_start)), None)
    if first is None:
        raise KeyError(f"no shift starts at {shift_start}")
    last = first
    while last + 1 < len(seg) and starts[last + 1] == ends[last]:
        last += 1
    shift = seg.iloc[first:last + 1].copy()
    delta = pd.Timestamp(new_start) - shift["start"].iloc[0]
    shift["start"] = shift["start"] + delta
    shift["end"] = shift["end"] + delta
    end = pd.Timestamp(new_end)
    shift = shift[shift["start"] < end].copy()
    shift.iloc[-1, shift.columns.get_loc("end")] = end
    out = pd.concat([seg.iloc[:first], shift, seg.iloc[last + 1:]], ignore_index=True)
    return out.sort_values("start").reset_index(drop=True)


@dataclass(frozen=True)
class CoverageRun:
    """Consecutive intervals of one queue where the edit changes the agents scheduled."""

    queue: str
    start: pd.Timestamp
    end: pd.Timestamp
    required: float
    before: int
    after: int
    sl_before: float | None = None
    """Service level of the run with the agents before (Erlang C, or Erlang A with a
    patience; contacts-weighted over the run's intervals); None without a forecast or for
    a queue that is not voice."""
    sl_after: float | None = None


@dataclass(frozen=True)
class EditEffect:
    """What an edit does: the rules broken after it (of this agent, and the seats of the
    agent's site in the changed window), which of them it breaks anew and which it fixes,
    and the coverage of the changed intervals before and after."""

    after: tuple[Violation, ...]
    new: tuple[Violation, ...]
    fixed: tuple[Violation, ...]
    coverage: tuple[CoverageRun, ...]
    below_before: int
    """Changed intervals (queue x interval) below the requirement before the edit."""
    below_after: int

    @property
    def ok(self) -> bool:
        return not self.after


def _key(v: Violation) -> tuple[str, str | None, object, str]:
    return (v.rule, v.agent_id, v.at, v.message)


def agent_violations(problem: SchedulingProblem, agent_id: str, segments: pd.DataFrame,
                     site_segments: pd.DataFrame) -> list[Violation]:
    """The violations of `agent_id`'s segments (every per-shift and per-week rule) and of
    the seats of the agent's site with `site_segments` (the site's other agents' segments
    in the window that matters)."""
    both = pd.concat([site_segments, segments], ignore_index=True)
    return own_violations(problem, agent_id, segments) + check_seats(problem, both)


def own_violations(problem: SchedulingProblem, agent_id: str, segments: pd.DataFrame
                   ) -> list[Violation]:
    """The violations of `agent_id`'s own week (every per-shift and per-week rule, not the
    seats of the site)."""
    return [v for v in check_schedule(one_agent(problem, agent_id), segments,
                                      seats=False).violations if v.agent_id == agent_id]


def coverage_runs(queues: Sequence[str], times: pd.DatetimeIndex, required: np.ndarray,
                  before: np.ndarray, after: np.ndarray) -> list[CoverageRun]:
    """Runs of consecutive intervals (per queue) where `after` differs from `before`, with
    the same required, before and after counts. Arrays are [queue, interval]."""
    out = []
    step = times[1] - times[0] if len(times) > 1 else pd.Timedelta(minutes=15)
    for qi, q in enumerate(queues):
        run: list[int] = []
        for i in range(len(times)):
            changed = before[qi, i] != after[qi, i]
            same = run and (required[qi, i], before[qi, i], after[qi, i]) == (
                required[qi, run[-1]], before[qi, run[-1]], after[qi, run[-1]]) \
                and i == run[-1] + 1
            if changed and (not run or same):
                run.append(i)
                continue
            if run:
                out.append(CoverageRun(q, times[run[0]], times[run[-1]] + step,
                                       float(required[qi, run[0]]), int(before[qi, run[0]]),
                                       int(after[qi, run[0]])))
            run = [i] if changed else []
        if run:
            out.append(CoverageRun(q, times[run[0]], times[run[-1]] + step,
                                   float(required[qi, run[0]]), int(before[qi, run[0]]),
                                   int(after[qi, run[0]])))
    return out


def work_counts(segments: pd.DataFrame, queues: Sequence[str], times: pd.DatetimeIndex
                ) -> np.ndarray:
    """[queue, interval] agents working on each queue (an interval counts an agent whose
    work segment holds the interval's start, as the schedule's coverage does).

    >>> t = pd.date_range("2026-03-30", periods=4, freq="15min", tz="UTC")
    >>> seg = pd.DataFrame({"activity": ["work", "work", "break"], "queue": ["a", "a", None],
    ...                     "start": [t[0], t[1], t[0]], "end": [t[2], t[3], t[3]]})
    >>> work_counts(seg, ["a"], t).tolist()
    [[1, 2, 1, 0]]
    """
    out = np.zeros((len(queues), len(times) + 1), dtype=np.int64)
    work = segments[segments["activity"] == "work"]
    qi = pd.Index(list(queues)).get_indexer(work["queue"])
    keep = qi >= 0
    t = times.asi8
    lo = np.searchsorted(t, pd.to_datetime(work["start"], utc=True).to_numpy("datetime64[ns]")
                         .astype(np.int64)[keep], side="left")
    hi = np.searchsorted(t, pd.to_datetime(work["end"], utc=True).to_numpy("datetime64[ns]")
                         .astype(np.int64)[keep], side="left")
    np.add.at(out, (qi[keep], lo), 1)
    np.add.at(out, (qi[keep], hi), -1)
    return np.cumsum(out, axis=1)[:, :-1]


def one_agent(problem: SchedulingProblem, agent_id: str) -> SchedulingProblem:
    """`problem` seen for one agent: the per-agent rules of the checker then look at this
    agent only (the seats of the site are checked with every agent's segments apart)."""
    agents = tuple(a for a in problem.scenario.agents if a.id == agent_id)
    return dataclasses.replace(problem,
                               scenario=dataclasses.replace(problem.scenario, agents=agents))


@dataclass(frozen=True)
class QueueGoal:
    """What a service level of a queue is computed with."""

    answer_within_s: float
    patience_s: float | None = None
    voice: bool = True


def run_service_level(agents: int, volume: np.ndarray, aht_s: np.ndarray, interval_s: int,
                      goal: QueueGoal) -> float | None:
    """Contacts-weighted service level of `agents` over intervals with `volume` contacts of
    mean handle time `aht_s` (Erlang C, Erlang A with a patience;
    `openwfm.staffing.erlang.service_level`); None when nothing is offered.

    >>> round(run_service_level(55, np.array([720.0]), np.array([240.0]), 3600,
    ...                         QueueGoal(15)), 4)                     # REFERENCES.md R2
    0.8459
    """
    from openwfm.staffing.erlang import service_level

    ok = (volume > 0) & np.isfinite(aht_s) & (aht_s > 0)
    if not ok.any():
        return None
    traffic = volume[ok] * aht_s[ok] / interval_s
    sl = service_level(np.full(ok.sum(), float(agents)), traffic, aht_s[ok],
                       goal.answer_within_s, goal.patience_s)
    return float(np.sum(sl * volume[ok]) / np.sum(volume[ok]))


def with_service_levels(runs: Sequence[CoverageRun], forecast: pd.DataFrame,
                        goals: dict[str, QueueGoal], interval_s: int) -> list[CoverageRun]:
    """`runs` with their service level before and after, from the forecast's ``volume``
    and ``aht_s`` per ``queue`` and ``interval_start`` (voice queues only). One call of the
    Erlang kernel per service goal for all the runs' intervals, before and after."""
    from openwfm.staffing.erlang import service_level

    items: dict[QueueGoal, list[tuple[int, np.ndarray, np.ndarray]]] = {}
    for k, r in enumerate(runs):
        goal = goals.get(r.queue)
        if goal is None or not goal.voice or forecast.empty:
            continue
        f = forecast[(forecast["queue"] == r.queue) & (forecast["interval_start"] >= r.start)
                     & (forecast["interval_start"] < r.end)]
        v, a = f["volume"].to_numpy(float), f["aht_s"].to_numpy(float)
        ok = (v > 0) & np.isfinite(a) & (a > 0)
        if ok.any():
            items.setdefault(goal, []).append((k, v[ok], a[ok]))
    out = list(runs)
    for goal, parts in items.items():
        vol = np.concatenate([v for _, v, _ in parts])
        aht = np.concatenate([a for _, _, a in parts])
        n = np.concatenate([np.full(len(v), float(runs[k].before)) for k, v, _ in parts]
                           + [np.full(len(v), float(runs[k].after)) for k, v, _ in parts])
        sl = service_level(n, np.tile(vol * aht / interval_s, 2), np.tile(aht, 2),
                           goal.answer_within_s, goal.patience_s)
        sl_before, sl_after = sl[:len(vol)], sl[len(vol):]
        i = 0
        for k, v, _ in parts:
            j = i + len(v)
            out[k] = dataclasses.replace(
                runs[k], sl_before=float(np.sum(sl_before[i:j] * v) / np.sum(v)),
                sl_after=float(np.sum(sl_after[i:j] * v) / np.sum(v)))
            i = j
    return out


def edit_effect(problem: SchedulingProblem, agent_id: str, before: pd.DataFrame,
                after: pd.DataFrame, site_segments: pd.DataFrame,
                window_segments: pd.DataFrame, required: pd.DataFrame,
                forecast: pd.DataFrame | None = None,
                goals: dict[str, QueueGoal] | None = None,
                own_before: Sequence[Violation] | None = None) -> EditEffect:
    """The effect of replacing `agent_id`'s segments `before` by `after`.

    Parameters
    ----------
    site_segments
        The other agents of the site, segments overlapping the changed window (seats).
    window_segments
        Every agent's segments (work with its queue) overlapping the changed window, the
        agent's own `before` segments included (the coverage before the edit).
    required
        ``queue``, ``interval_start``, ``agents`` of the changed window's intervals.
    forecast, goals
        ``queue``, ``interval_start``, ``volume``, ``aht_s`` of the window and each queue's
        goal: the coverage runs then carry their service level before and after.
    own_before
        `own_violations` of `before` when the caller already has them (they depend only on
        the agent's segments before the edit, so a page can keep them per draft revision).
    """
    if own_before is None:
        v_before = agent_violations(problem, agent_id, before, site_segments)
    else:
        v_before = [*own_before, *check_seats(
            problem, pd.concat([site_segments, before], ignore_index=True))]
    v_after = agent_violations(problem, agent_id, after, site_segments)
    kb, ka = {_key(v) for v in v_before}, {_key(v) for v in v_after}
    times = pd.DatetimeIndex(sorted(required["interval_start"].unique()))
    queues = sorted(set(required["queue"]))
    req = np.zeros((len(queues), len(times)))
    if len(times):
        qi = pd.Index(queues).get_indexer(required["queue"])
        ti = times.get_indexer(required["interval_start"])
        req[qi, ti] = required["agents"].to_numpy(float)
    others = window_segments[window_segments["agent_id"] != agent_id]
    cover_before = work_counts(pd.concat([others, before], ignore_index=True), queues, times)
    cover_after = work_counts(pd.concat([others, after], ignore_index=True), queues, times)
    eps = 1e-9
    return EditEffect(
        after=tuple(v_after),
        new=tuple(v for v in v_after if _key(v) not in kb),
        fixed=tuple(v for v in v_before if _key(v) not in ka),
        coverage=tuple(with_service_levels(
            coverage_runs(queues, times, req, cover_before, cover_after),
            forecast if forecast is not None else pd.DataFrame(), goals or {},
            problem.scenario.interval_s)),
        below_before=int(((cover_before + eps) < req)[cover_before != cover_after].sum()),
        below_after=int(((cover_after + eps) < req)[cover_before != cover_after].sum()),
    )


def changed_window(spans: Sequence[tuple[datetime, datetime]], interval_s: int
                   ) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The span an edit changes (the old and the new shift), widened to whole intervals.

    >>> t = lambda h: pd.Timestamp("2026-03-30", tz="UTC") + pd.Timedelta(hours=h)
    >>> [x.hour + x.minute / 60 for x in changed_window([(t(8.1), t(16)), (t(9), t(17.2))], 900)]
    [8.0, 17.25]
    """
    step = timedelta(seconds=interval_s)
    lo = pd.Timestamp(min(s for s, _ in spans)).floor(step)
    hi = pd.Timestamp(max(e for _, e in spans)).ceil(step)
    return lo, hi


@dataclass(frozen=True)
class VersionDiff:
    """What a draft changes against the published version, agent by agent."""

    changed_agents: tuple[str, ...]
    shifts_removed: int
    """Shifts of the published version that are not in the draft as they were."""
    shifts_added: int


def _shift_keys(segments: pd.DataFrame) -> set[tuple[object, ...]]:
    out: set[tuple[object, ...]] = set()
    for aid, df in segments.sort_values(["agent_id", "start"]).groupby("agent_id"):
        parts: list[tuple[object, ...]] = []
        for act, s, e, q in zip(df["activity"], df["start"], df["end"], df["queue"],
                                strict=True):
            if parts and s != parts[-1][2]:
                out.add((aid, *parts))
                parts = []
            parts.append((act, s, e, q if isinstance(q, str) else None))
        if parts:
            out.add((aid, *parts))
    return out


def compare_versions(draft: pd.DataFrame, published: pd.DataFrame) -> VersionDiff:
    """The agents whose shifts differ between two segment tables, and how many shifts
    went and came (a moved shift counts once each way).

    >>> t = lambda h: pd.Timestamp("2026-03-30", tz="UTC") + pd.Timedelta(hours=h)
    >>> pub = pd.DataFrame({"agent_id": ["a", "b"], "activity": ["work", "work"],
    ...                     "start": [t(8), t(8)], "end": [t(16), t(16)], "queue": ["q", "q"]})
    >>> draft = pub.assign(start=[t(9), t(8)], end=[t(17), t(16)])
    >>> compare_versions(draft, pub)
    VersionDiff(changed_agents=('a',), shifts_removed=1, shifts_added=1)
    """
    d, p = _shift_keys(draft), _shift_keys(published)
    changed = sorted({str(k[0]) for k in d ^ p})
    return VersionDiff(tuple(changed), len(p - d), len(d - p))
