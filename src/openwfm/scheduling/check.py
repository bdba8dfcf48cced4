"""Independent rule checker: re-checks every hard rule from the schedule segments alone.

It reads only the segments table (``agent_id, site, activity, start, end[, queue]``) and the
scenario/config: never a solver variable. A shift is the union of an agent's contiguous
segments. Each rule is one function returning its violations, with a stable name:

``segments``, ``overlap``, ``skills``, ``shift_length``, ``daily_hours``, ``breaks``,
``min_rest``, ``one_shift_per_day``, ``weekly_hours``, ``days_off``,
``consecutive_days_off``, ``max_consecutive_days``, ``night_ok``, ``availability``,
``seats``, ``start_time_spread`` (when ``start_spread_hard``).

Activities (`openwfm.activities`): off-duty segments (``time_off``,
``voluntary_time_off``) are no part of a shift and take no seat; they must not overlap the
agent's other segments and their hours count toward the contract's lower bound (contract
minus ``contract_tolerance_h``). Meetings, training, coaching and one-to-ones inside a shift
are part of it (no break rule asks for them). ``overtime`` segments are part of the shift:
its length rule and the contract's upper bound are judged without them, the legal daily and
weekly maxima with them. With a history
(`openwfm.scheduling.history`), ``min_rest`` also checks the rest between the previous
week's last shift end and the first shift, and
``max_consecutive_days`` counts the days worked in a row before the plan.

Examples
--------
>>> import pandas as pd
>>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
>>> from openwfm.scheduling.model import build_problem
>>> sc = toy_scenario(n_agents=1)
>>> p = build_problem(sc, flat_requirement(sc, 0.0))
>>> seg = pd.DataFrame({"agent_id": ["a1"], "site": ["Casablanca"], "activity": ["work"],
...                     "start": [pd.Timestamp("2026-03-30 08:00", tz="UTC")],
...                     "end": [pd.Timestamp("2026-03-30 20:00", tz="UTC")]})
>>> sorted({v.rule for v in check_schedule(p, seg).violations})
['breaks', 'daily_hours', 'shift_length', 'weekly_hours']
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from openwfm.activities import BREAK_ACTIVITIES, OFF_DUTY, Activity
from openwfm.scheduling.model import START_TIME_SPREAD, SchedulingProblem

ACTIVITIES = tuple(a.value for a in Activity)
_BREAKS = frozenset(a.value for a in BREAK_ACTIVITIES)
_OVERTIME = Activity.OVERTIME.value


@dataclass(frozen=True)
class Violation:
    """One broken rule: which, who, when, by how much (in the rule's unit)."""

    rule: str
    agent_id: str | None
    at: pd.Timestamp | None
    amount: float
    message: str


@dataclass(frozen=True)
class RuleCheck:
    """All violations of a schedule; ``ok`` when there are none."""

    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    def counts(self) -> dict[str, int]:
        return dict(Counter(v.rule for v in self.violations))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([v.__dict__ for v in self.violations],
                            columns=["rule", "agent_id", "at", "amount", "message"])


@dataclass(frozen=True)
class _Shift:
    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    parts: tuple[tuple[str, pd.Timestamp, pd.Timestamp], ...]

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def overtime_minutes(self) -> float:
        return sum((e - s).total_seconds() / 60 for a, s, e in self.parts if a == _OVERTIME)


def shifts_from_segments(segments: pd.DataFrame) -> list[_Shift]:
    """Group each agent's contiguous segments into shifts."""
    out = []
    seg = segments.sort_values(["agent_id", "start"])
    for aid, df in seg.groupby("agent_id", sort=True):
        parts: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
        for act, s, e in zip(df["activity"], df["start"], df["end"], strict=True):
            if parts and s != parts[-1][2]:
                out.append(_Shift(str(aid), parts[0][1], parts[-1][2], tuple(parts)))
                parts = []
            parts.append((str(act), s, e))
        if parts:
            out.append(_Shift(str(aid), parts[0][1], parts[-1][2], tuple(parts)))
    return out


def _unpaid_min(problem: SchedulingProblem, sh: _Shift) -> float:
    unpaid = {b.activity.value for b in problem.config.breaks if not b.paid}
    return sum((e - s).total_seconds() / 60 for a, s, e in sh.parts if a in unpaid)


def _local_day(problem: SchedulingProblem, site: str, ts: pd.Timestamp) -> int:
    zone = problem.scenario.site(site).tz
    d: date = ts.tz_convert(zone).date()
    return (d - problem.scenario.plan_start).days


def check_segments(problem: SchedulingProblem, seg: pd.DataFrame) -> list[Violation]:
    v = []
    for i, (act, s, e) in enumerate(zip(seg["activity"], seg["start"], seg["end"],
                                        strict=True)):
        if act not in ACTIVITIES or not e > s:
            v.append(Violation("segments", str(seg["agent_id"].iloc[i]), s, 1.0,
                               f"row {i + 1}: activity {act!r}, start < end expected"))
    return v


def check_overlap(problem: SchedulingProblem, seg: pd.DataFrame) -> list[Violation]:
    v = []
    for aid, df in seg.sort_values(["agent_id", "start"]).groupby("agent_id"):
        prev_end = df["end"].shift()
        bad = df["start"] < prev_end
        for s, pe in zip(df["start"][bad], prev_end[bad], strict=True):
            v.append(Violation("overlap", str(aid), s, (pe - s).total_seconds() / 60,
                               "segments overlap"))
    return v


def check_skills(problem: SchedulingProblem, seg: pd.DataFrame) -> list[Violation]:
    if "queue" not in seg.columns:
        return []
    skills = {a.id: set(a.skills) for a in problem.scenario.agents}
    v = []
    for aid, q, s in zip(seg["agent_id"], seg["queue"], seg["start"], strict=True):
        if isinstance(q, str) and q and q not in skills.get(aid, set()):
            v.append(Violation("skills", aid, s, 1.0, f"queue {q} is not a skill of {aid}"))
    return v


def check_agents_known(problem: SchedulingProblem, seg: pd.DataFrame) -> list[Violation]:
    agents = {a.id: a.site for a in problem.scenario.agents}
    return [Violation("segments", aid, None, 1.0, f"unknown agent {aid} or wrong site {site}")
            for aid, site in set(zip(seg["agent_id"], seg["site"], strict=True))
            if agents.get(aid) != site]


def check_shifts(problem: SchedulingProblem, shifts: list[_Shift]) -> list[Violation]:
    """Per-shift rules: length, paid hours per day, breaks, night work, availability."""
    agents = {a.id: a for a in problem.scenario.agents}
    lengths = {round(x * 60) for tpl in problem.config.shifts for x in tpl.lengths_h}
    v = []
    for sh in shifts:
        a = agents[sh.agent_id]
        pack = problem.packs[a.site]
        m = sh.minutes - sh.overtime_minutes
        if not a.min_shift_h * 60 <= m <= a.max_shift_h * 60 or round(m) not in lengths:
            v.append(Violation("shift_length", a.id, sh.start, m / 60,
                               f"shift of {m / 60:g} h: allowed {sorted(x / 60 for x in lengths)}"
                               f" within [{a.min_shift_h:g}, {a.max_shift_h:g}] h"))
        paid = sh.minutes - _unpaid_min(problem, sh)
        if paid > pack.max_daily_h * 60 + 1e-6:
            v.append(Violation("daily_hours", a.id, sh.start, (paid - pack.max_daily_h * 60) / 60,
                               f"{paid / 60:g} paid h > {pack.max_daily_h:g} h ({pack.name})"))
        pauses = [(act, (s - sh.start).total_seconds() / 60, (e - sh.start).total_seconds() / 60)
                  for act, s, e in sh.parts if act in _BREAKS]
        used: set[int] = set()
        for b in problem.config.breaks:
            if not b.applies(round(m)):
                continue
            lo, hi = b.window_min(round(m))
            hit = next((k for k, (act, s, e) in enumerate(pauses) if k not in used
                        and act == b.activity.value and abs(e - s - b.minutes) < 1e-6
                        and s >= lo - 1e-6 and e <= hi + 1e-6), None)
            if hit is None:
                v.append(Violation("breaks", a.id, sh.start, b.minutes,
                                   f"no {b.minutes}-min {b.activity.value} '{b.name}' within "
                                   f"{lo / 60:g}-{hi / 60:g} h of the shift"))
            else:
                used.add(hit)
        for k in sorted(set(range(len(pauses))) - used):
            v.append(Violation("breaks", a.id, sh.start, pauses[k][2] - pauses[k][1],
                               f"{pauses[k][0]} not required by any break rule"))
        if not a.night_ok:
            zone = problem.scenario.site(a.site).tz
            mins = pd.date_range(sh.start, sh.end, freq="1min", inclusive="left").tz_convert(zone)
            night = pack.night_minutes(np.asarray(mins.hour * 60 + mins.minute), 0)
            if night:
                v.append(Violation("night_ok", a.id, sh.start, night / 60,
                                   f"{night} min of night work for an agent without night_ok"))
        for s, e in problem.unavailable.get(a.id, ()):
            us, ue = problem.ts(s), problem.ts(e)
            if sh.start < ue and us < sh.end:
                v.append(Violation("availability", a.id, sh.start, 1.0,
                                   f"works while unavailable {us} - {ue}"))
    return v


def check_agent_weeks(problem: SchedulingProblem, shifts: list[_Shift],
                      off_duty_h: dict[str, float] | None = None) -> list[Violation]:
    """Per-agent rules over the plan: rest, one per day, weekly hours, days off (runs).

    `off_duty_h`: agent id -> hours of off-duty segments (time off, VTO), which count
    toward the contract's lower bound only."""
    off_duty_h = off_duty_h or {}
    by_agent: dict[str, list[_Shift]] = {}
    for sh in shifts:
        by_agent.setdefault(sh.agent_id, []).append(sh)
    tol = problem.config.contract_tolerance_h
    v = []
    for a in problem.scenario.agents:
        mine = sorted(by_agent.get(a.id, []), key=lambda x: x.start)
        pack = problem.packs[a.site]
        for p, q in itertools.pairwise(mine):
            rest = (q.start - p.end).total_seconds() / 3600
            if rest < pack.min_rest_h - 1e-9:
                v.append(Violation("min_rest", a.id, q.start, pack.min_rest_h - rest,
                                   f"{rest:g} h rest < {pack.min_rest_h:g} h"))
        hist = problem.history.get(a.id)
        if hist is not None and mine:
            last = problem.ts(hist.last_end)
            rest = (mine[0].start - last).total_seconds() / 3600
            if rest < pack.min_rest_h - 1e-9:
                v.append(Violation("min_rest", a.id, mine[0].start, pack.min_rest_h - rest,
                                   f"{rest:g} h rest after the previous week's last shift "
                                   f"(ended {last}) < {pack.min_rest_h:g} h"))
        days = [_local_day(problem, a.site, sh.start) for sh in mine]
        for d, n in Counter(days).items():
            if n > 1:
                v.append(Violation("one_shift_per_day", a.id, None, n - 1,
                                   f"{n} shifts start on local day {d}"))
        total = sum(sh.minutes - _unpaid_min(problem, sh) for sh in mine) / 60
        paid = total - sum(sh.overtime_minutes for sh in mine) / 60
        hi = min(a.contract_hours, pack.max_weekly_h)
        if paid > hi + 1e-6:
            v.append(Violation("weekly_hours", a.id, None, paid - hi,
                               f"{paid:g} paid h > {hi:g} h (contract {a.contract_hours:g}, "
                               f"legal {pack.max_weekly_h:g} {pack.name})"))
        elif total > pack.max_weekly_h + 1e-6:
            v.append(Violation("weekly_hours", a.id, None, total - pack.max_weekly_h,
                               f"{total:g} paid h with overtime > legal {pack.max_weekly_h:g} h "
                               f"({pack.name})"))
        counted = paid + off_duty_h.get(a.id, 0.0)
        if counted < hi - tol - 1e-6:
            v.append(Violation("weekly_hours", a.id, None, hi - tol - counted,
                               f"{counted:g} paid h < {hi - tol:g} h (contract minus tolerance)"))
        n_days = problem.days
        work = np.zeros(n_days, dtype=bool)
        for d in days:
            if 0 <= d < n_days:
                work[d] = True
        off = n_days - int(work.sum())
        if off < pack.min_days_off:
            v.append(Violation("days_off", a.id, None, pack.min_days_off - off,
                               f"{off} days off < {pack.min_days_off}"))
        k = pack.min_consecutive_days_off
        if k >= 2 and n_days >= k and not any(not work[d:d + k].any()
                                              for d in range(n_days - k + 1)):
            v.append(Violation("consecutive_days_off", a.id, None, 1.0,
                               f"no {k} consecutive days off"))
        run, best = (hist.consecutive_days if hist is not None else 0), 0  # carried in
        for w in work:
            run = run + 1 if w else 0
            best = max(best, run)
        if best > pack.max_consecutive_days:
            v.append(Violation("max_consecutive_days", a.id, None,
                               best - pack.max_consecutive_days,
                               f"{best} consecutive working days > {pack.max_consecutive_days}"))
    return v


def start_spreads_min(problem: SchedulingProblem, shifts: list[_Shift]) -> dict[str, float]:
    """Agent id -> the largest difference between its shifts' start times (local time of
    day at its site, minutes) within the plan (rule ``start_time_spread``)."""
    sites = {a.id: a.site for a in problem.scenario.agents}
    by_agent: dict[str, list[int]] = {}
    for sh in shifts:
        local = sh.start.tz_convert(problem.scenario.site(sites[sh.agent_id]).tz)
        by_agent.setdefault(sh.agent_id, []).append(local.hour * 60 + local.minute)
    return {aid: float(max(m) - min(m)) for aid, m in sorted(by_agent.items())}


def check_start_spread(problem: SchedulingProblem, shifts: list[_Shift]) -> list[Violation]:
    """Start-time stability, when a hard rule (``start_spread_hard``): an agent's start
    times (local time of day) differ by at most ``start_spread_max_h``."""
    cfg = problem.config
    if not cfg.start_spread_hard:
        return []
    v = []
    for aid, spread in start_spreads_min(problem, shifts).items():
        over = spread - round(cfg.start_spread_max_h * 60)
        if over > 1e-9:
            v.append(Violation(START_TIME_SPREAD, aid, None, over / 60,
                               f"start times spread over {spread / 60:g} h > "
                               f"{cfg.start_spread_max_h:g} h"))
    return v


def on_duty_level(seg: pd.DataFrame) -> pd.Series:
    """Agents on duty (any activity) from each segment start or end on, indexed by those
    instants (an agent's contiguous segments end and start at the same instant: net 0)."""
    ev = pd.concat([pd.Series(1, index=seg["start"]), pd.Series(-1, index=seg["end"])])
    return ev.groupby(level=0).sum().sort_index().cumsum()


def _on_horizon(problem: SchedulingProblem, seg: pd.DataFrame) -> pd.DataFrame:
    """Segments of a cyclic week folded onto its horizon: a part past an edge moves one week
    to the other end (`SchedulingProblem.fold`); a later week of a plan is left as is."""
    if not problem.cyclic or seg.empty:
        return seg
    minute = [((seg[c] - problem.origin).dt.total_seconds() // 60).to_numpy(dtype=np.int64)
              for c in ("start", "end")]
    a, b, k = problem.fold(*minute)
    return pd.DataFrame({"site": seg["site"].to_numpy()[k],
                         "start": problem.origin + pd.to_timedelta(a, unit="min"),
                         "end": problem.origin + pd.to_timedelta(b, unit="min")})


def check_seats(problem: SchedulingProblem, seg: pd.DataFrame) -> list[Violation]:
    """Agents on duty (any activity) at a site never exceed its seats (on a cyclic week,
    a shift past an edge of the plan also takes its seat at the other end)."""
    v = []
    seg = _on_horizon(problem, seg)
    for site in problem.scenario.sites:
        df = seg[seg["site"] == site.name]
        if df.empty:
            continue
        level = on_duty_level(df)
        peak = int(level.max())
        if peak > site.seats:
            v.append(Violation("seats", None, level.idxmax(), peak - site.seats,
                               f"{peak} agents on duty at {site.name} > {site.seats} seats"))
    return v


def check_schedule(problem: SchedulingProblem, segments: pd.DataFrame, *,
                   seats: bool = True) -> RuleCheck:
    """Re-check every hard rule on `segments`; returns all violations (without the seats
    of the sites when `seats` is False: a caller that checks one agent's week checks the
    seats with the other agents' segments itself)."""
    v = check_segments(problem, segments) + check_agents_known(problem, segments)
    if v:
        return RuleCheck(tuple(v))
    off = segments["activity"].isin(OFF_DUTY)
    duty = segments[~off]
    off_h = ((segments["end"] - segments["start"]).dt.total_seconds() / 3600)[off]
    off_duty_h = {str(k): float(x) for k, x in off_h.groupby(segments["agent_id"][off]).sum()
                  .items()}
    shifts = shifts_from_segments(duty)
    v += check_overlap(problem, segments)
    v += check_skills(problem, duty)
    v += check_shifts(problem, shifts)
    v += check_agent_weeks(problem, shifts, off_duty_h)
    v += check_start_spread(problem, shifts)
    if seats:
        v += check_seats(problem, duty)
    return RuleCheck(tuple(v))


def weekend_shifts(problem: SchedulingProblem, segments: pd.DataFrame) -> dict[str, int]:
    """Weekend shifts per agent, counted from the segments: a shift whose start falls on a
    weekend day (`openwfm.labour.RulePack.weekend_days`) of the agent's site's labour pack,
    on the site's local clock. Independent of the builder's `ShiftType.weekend` flag, which
    the fairness terms use; agents without a shift are absent."""
    sites = {a.id: a.site for a in problem.scenario.agents}
    out: dict[str, int] = {}
    for sh in shifts_from_segments(segments):
        site = sites[sh.agent_id]
        local = sh.start.tz_convert(problem.scenario.site(site).tz)
        out[sh.agent_id] = out.get(sh.agent_id, 0) + int(
            problem.packs[site].is_weekend(local.weekday()))
    return out
