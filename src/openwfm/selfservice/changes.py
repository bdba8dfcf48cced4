"""Schedule changes an agent or a team leader asks for, applied to a segments table and
re-checked by the independent rule checker (`openwfm.scheduling.check`).

A segments table has the scheduler's columns ``agent_id, site, activity, start, end[,
queue]`` (UTC). A *shift* is an agent's run of contiguous on-duty segments
(`openwfm.scheduling.check.shifts_from_segments`); it is named by its agent and start.

- `TimeOff` (paid leave, or ``voluntary_time_off``): the on-duty time of the agent inside
  ``[start, end)`` becomes off-duty time; paid parts become the request's activity, unpaid
  ones (meal) are dropped, so the hours off are the paid hours given up.
- `Swap`: agent A's shift and agent B's shift change hands (each goes to the other agent,
  at the receiving agent's site).
- `Offer`: agent A's shift goes to agent B (B takes it; A is left without it).
- `ActivityChange`: a meeting, training, coaching or one-to-one replaces work inside a
  shift; ``overtime`` extends a shift at its start or end.

`validate_change` answers which rules the result breaks that the schedule did not break
before: the checker on the agents the change touches, and the seats of every site.
The receiving agent of a shift needs its skills: the segment's ``queue`` when the table has
one, else every skill of the giving agent.

Examples
--------
>>> seg = pd.DataFrame({"agent_id": ["a1", "a1"], "site": ["S", "S"],
...     "activity": ["work", "work"],
...     "start": pd.to_datetime(["2026-03-30 08:00", "2026-03-30 12:00"], utc=True),
...     "end": pd.to_datetime(["2026-03-30 12:00", "2026-03-30 17:00"], utc=True)})
>>> out = apply_change(seg, TimeOff("a1", pd.Timestamp("2026-03-30 15:00", tz="UTC"),
...                                 pd.Timestamp("2026-03-31", tz="UTC")), {"a1": "S"})
>>> [(r.activity, r.start.hour, r.end.hour) for r in out.itertuples()]  # adjacent work joined
[('work', 8, 15), ('time_off', 15, 17)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from openwfm.activities import OFF_DUTY, PRODUCTIVE, Activity, definition
from openwfm.scheduling.check import Violation, check_schedule, check_seats
from openwfm.scheduling.model import SchedulingProblem

__all__ = ["ActivityChange", "Change", "ChangeError", "Offer", "Swap", "TimeOff",
           "apply_change", "find_shift", "hours_off", "qualified_takers", "validate_change"]

COLUMNS = ["agent_id", "site", "activity", "start", "end", "queue"]


class ChangeError(ValueError):
    """A change that cannot be applied (no such shift, nothing scheduled, skills)."""


@dataclass(frozen=True)
class TimeOff:
    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    activity: Activity = Activity.TIME_OFF

    def agents(self) -> tuple[str, ...]:
        return (self.agent_id,)


@dataclass(frozen=True)
class Swap:
    agent_a: str
    shift_a: pd.Timestamp
    agent_b: str
    shift_b: pd.Timestamp

    def agents(self) -> tuple[str, ...]:
        return (self.agent_a, self.agent_b)


@dataclass(frozen=True)
class Offer:
    agent_id: str
    shift_start: pd.Timestamp
    to_agent: str

    def agents(self) -> tuple[str, ...]:
        return (self.agent_id, self.to_agent)


@dataclass(frozen=True)
class ActivityChange:
    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    activity: Activity

    def agents(self) -> tuple[str, ...]:
        return (self.agent_id,)


Change = TimeOff | Swap | Offer | ActivityChange


def _frame(segments: pd.DataFrame) -> pd.DataFrame:
    out = segments.copy()
    if "queue" not in out.columns:
        out["queue"] = None
    return out[COLUMNS].reset_index(drop=True)


def _merge(df: pd.DataFrame) -> pd.DataFrame:
    """Sort, and join an agent's adjacent segments of one activity and queue."""
    df = df.sort_values(["agent_id", "start", "end"], kind="stable").reset_index(drop=True)
    rows: list[dict] = []
    for r in df.to_dict("records"):
        p = rows[-1] if rows else None
        if (p is not None and p["agent_id"] == r["agent_id"] and p["activity"] == r["activity"]
                and p["end"] == r["start"] and p["site"] == r["site"]
                and (p["queue"] == r["queue"] or (pd.isna(p["queue"]) and pd.isna(r["queue"])))):
            p["end"] = r["end"]
        else:
            rows.append(dict(r))
    return pd.DataFrame(rows, columns=COLUMNS)


def find_shift(segments: pd.DataFrame, agent_id: str, start: pd.Timestamp) -> pd.Index:
    """Row labels of the agent's shift that starts at `start` (contiguous on-duty rows)."""
    mine = segments[(segments["agent_id"] == agent_id)
                    & ~segments["activity"].isin(OFF_DUTY)].sort_values("start")
    rows: list = []
    last_end = None
    for idx, s, e in zip(mine.index, mine["start"], mine["end"], strict=True):
        if rows and s == last_end:
            rows.append(idx)
        elif rows:
            break
        elif s == start:
            rows.append(idx)
        last_end = e
    if not rows:
        raise ChangeError(f"{agent_id} has no shift starting at {start}")
    return pd.Index(rows)


def _skills_ok(shift: pd.DataFrame, giver: str, taker: str,
               skills: Mapping[str, tuple[str, ...]]) -> str | None:
    have = set(skills.get(taker, ()))
    queues = {q for q in shift["queue"] if isinstance(q, str) and q}
    need = queues if queues else set(skills.get(giver, ()))
    missing = sorted(need - have)
    return f"{taker} lacks the skill(s) {', '.join(missing)} of the shift" if missing else None


def apply_change(segments: pd.DataFrame, change: Change, sites: Mapping[str, str],
                 skills: Mapping[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """The segments after `change` (a new table; `segments` is left as is).

    `sites`: agent id -> site; `skills`: agent id -> skills (needed for swaps and offers).
    Raises `ChangeError` when the change does not apply.
    """
    seg = _frame(segments)
    if isinstance(change, TimeOff | ActivityChange) and change.end <= change.start:
        raise ChangeError("start < end expected")
    if isinstance(change, TimeOff):
        return _time_off(seg, change)
    if isinstance(change, ActivityChange):
        return _activity(seg, change)
    skills = skills or {}
    if isinstance(change, Swap):
        if change.agent_a == change.agent_b:
            raise ChangeError("a swap needs two agents")
        ra = find_shift(seg, change.agent_a, change.shift_a)
        rb = find_shift(seg, change.agent_b, change.shift_b)
        for rows, giver, taker in ((ra, change.agent_a, change.agent_b),
                                   (rb, change.agent_b, change.agent_a)):
            why = _skills_ok(seg.loc[rows], giver, taker, skills)
            if why:
                raise ChangeError(why)
        seg.loc[ra, ["agent_id", "site"]] = [change.agent_b, sites[change.agent_b]]
        seg.loc[rb, ["agent_id", "site"]] = [change.agent_a, sites[change.agent_a]]
        return _merge(seg)
    if isinstance(change, Offer):
        if change.agent_id == change.to_agent:
            raise ChangeError("an offer goes to another agent")
        rows = find_shift(seg, change.agent_id, change.shift_start)
        why = _skills_ok(seg.loc[rows], change.agent_id, change.to_agent, skills)
        if why:
            raise ChangeError(why)
        seg.loc[rows, ["agent_id", "site"]] = [change.to_agent, sites[change.to_agent]]
        return _merge(seg)
    raise TypeError(f"not a change: {change!r}")


def _time_off(seg: pd.DataFrame, c: TimeOff) -> pd.DataFrame:
    if definition(c.activity).on_duty:
        raise ChangeError(f"{c.activity.value} is not an off-duty activity")
    hit = ((seg["agent_id"] == c.agent_id) & ~seg["activity"].isin(OFF_DUTY)
           & (seg["start"] < c.end) & (seg["end"] > c.start))
    if not hit.any():
        raise ChangeError(f"{c.agent_id} is not scheduled between {c.start} and {c.end}")
    keep = [seg[~hit]]
    for r in seg[hit].to_dict("records"):
        s, e = max(r["start"], c.start), min(r["end"], c.end)
        if r["start"] < s:
            keep.append(pd.DataFrame([{**r, "end": s}]))
        if e < r["end"]:
            keep.append(pd.DataFrame([{**r, "start": e}]))
        if definition(r["activity"]).paid or c.activity is Activity.VOLUNTARY_TIME_OFF:
            keep.append(pd.DataFrame([{**r, "activity": c.activity.value, "start": s, "end": e,
                                       "queue": None}]))
    return _merge(pd.concat([k for k in keep if not k.empty], ignore_index=True))


def _activity(seg: pd.DataFrame, c: ActivityChange) -> pd.DataFrame:
    mine = seg[seg["agent_id"] == c.agent_id]
    if c.activity is Activity.OVERTIME:
        duty = mine[~mine["activity"].isin(OFF_DUTY)]
        if ((duty["start"] < c.end) & (duty["end"] > c.start)).any():
            raise ChangeError("overtime lies outside the shift (before its start or after "
                              "its end)")
        nxt = duty[duty["start"] == c.end]
        prv = duty[duty["end"] == c.start]
        edge = prv if not prv.empty else nxt
        if edge.empty:
            raise ChangeError(f"overtime must touch a shift of {c.agent_id} (start or end)")
        r = edge.iloc[0].to_dict()
        return _merge(pd.concat([seg, pd.DataFrame([{
            **r, "activity": c.activity.value, "start": c.start, "end": c.end}])],
            ignore_index=True))
    if not definition(c.activity).on_duty or c.activity.value in PRODUCTIVE \
            or c.activity in (Activity.BREAK, Activity.MEAL):
        raise ChangeError(f"{c.activity.value} is not an activity placed inside a shift")
    inside = mine[(mine["activity"].isin(PRODUCTIVE)) & (mine["start"] <= c.start)
                  & (mine["end"] >= c.end)]
    if inside.empty:
        raise ChangeError(f"{c.agent_id} is not working the whole of {c.start} - {c.end}")
    i = inside.index[0]
    r = seg.loc[i].to_dict()
    parts = [dict(r, end=c.start), dict(r, activity=c.activity.value, start=c.start,
                                        end=c.end, queue=None), dict(r, start=c.end)]
    parts = [p for p in parts if p["start"] < p["end"]]
    return _merge(pd.concat([seg.drop(index=i), pd.DataFrame(parts)], ignore_index=True))


def hours_off(before: pd.DataFrame, after: pd.DataFrame, agent_id: str,
              activity: Activity = Activity.TIME_OFF) -> float:
    """Hours of `activity` the agent gained from `before` to `after` (allowance used)."""
    def h(df: pd.DataFrame) -> float:
        m = (df["agent_id"] == agent_id) & (df["activity"] == activity.value)
        return float((df["end"][m] - df["start"][m]).dt.total_seconds().sum() / 3600)
    return h(after) - h(before)


def validate_change(problem: SchedulingProblem, before: pd.DataFrame, after: pd.DataFrame,
                    agents: tuple[str, ...]) -> list[Violation]:
    """Violations of `after` that `before` does not have (same rule and agent, counted):
    the checker on the `agents` the change touches, and the seats of every site."""
    def found(seg: pd.DataFrame) -> Counter:
        mine = seg[seg["agent_id"].isin(agents)]
        v = list(check_schedule(problem, mine).violations) if not mine.empty else []
        # the checker judges every agent of the scenario (an agent without a segment has
        # 0 h): keep those of the change
        v = [x for x in v if x.rule != "seats" and (x.agent_id is None or x.agent_id in agents)]
        v += check_seats(problem, seg[~seg["activity"].isin(OFF_DUTY)])
        return v
    old = Counter((x.rule, x.agent_id) for x in found(_frame(before)))
    new: list[Violation] = []
    seen: Counter = Counter()
    for x in found(after):
        seen[(x.rule, x.agent_id)] += 1
        if seen[(x.rule, x.agent_id)] > old[(x.rule, x.agent_id)]:
            new.append(x)
    return new


def qualified_takers(problem: SchedulingProblem, segments: pd.DataFrame, agent_id: str,
                     shift_start: pd.Timestamp) -> list[str]:
    """Agents who could take the agent's shift: skills, and no new rule broken."""
    sites = {a.id: a.site for a in problem.scenario.agents}
    skills = {a.id: a.skills for a in problem.scenario.agents}
    out = []
    for a in problem.scenario.agents:
        if a.id == agent_id:
            continue
        try:
            after = apply_change(segments, Offer(agent_id, shift_start, a.id), sites, skills)
        except ChangeError:
            continue
        if not validate_change(problem, segments, after, (agent_id, a.id)):
            out.append(a.id)
    return out
