"""The scheduling problem: configuration (``[scheduling]`` in the scenario), shift types, groups.

Times inside the scheduler are integer minutes from the problem's ``origin`` (the UTC start
of the first requirement interval). Shift starts are generated in each site's local time
(so DST and Morocco's Ramadan offset move them correctly in UTC), then converted.

Week edges
----------
Each site plans its own local week (local Monday 00:00 to the next Monday 00:00: weekly
hours, days off and one shift per day are judged on it), while the requirement covers the
plan's week in ``plan_tz`` (the horizon, ``n_intervals`` from ``origin``). A site west of
the plan's zone (Bogota on a UTC plan) starts its week after the horizon does and ends it
after; one east of it (Manila) starts and ends before. The plan week is cyclic
(`SchedulingProblem.cyclic`, the standard assumption of a weekly schedule that repeats):
a shift crossing an edge of the horizon counts on both sides, its part beyond the end
covering the first intervals (as the same shift one week earlier) and its part before the
start covering the last ones, in the cover model, the local search, the breaks, the
evaluation and the seats rule (`SchedulingProblem.fold`). So the site whose local week
holds the hours near the edge can cover them: Sunday evening in Bogota covers Monday
00:00-05:00 UTC, Monday morning in Manila covers Sunday 16:00-24:00 UTC. In a plan of
several weeks (`weeks.schedule_weeks`) the first week is cyclic; the later ones take the
previous week's real shifts at their start instead (``carried_supply``).

Scenario TOML section (all keys optional)::

    [scheduling]
    time_limit_s = 30            # work budget of the whole solve, deterministic: CP-SAT
                                 #   deterministic seconds (about seconds on an idle core),
                                 #   HiGHS node limits, stage-2b sweeps; same input, same plan
    wall_clock_cap_s = 600       # optional user cap in real seconds (default: none); when
                                 #   it stops a solve, the plan can depend on the machine load
    seed = 0
    num_workers = 1
    understaffing_cost_per_hour = 60.0   # per missing agent-hour (first piece; "piecewise")
    understaffing_penalty = "service_level"  # or "piecewise"; default: service_level when
                                 # the requirement has volume and aht_s, else piecewise
    cost_per_missed_contact = 10.0   # per contact missing the service goal ("service_level")
    fairness_weight = 1.0
    contract_tolerance_h = 2.0   # weekly paid hours in [contract - tol, contract]
    hard_coverage = false
    availability = "availability.csv"    # agent_id,start,end (local ISO): unavailable
    history = "history.csv"      # previous week's end: agent_id,last_shift_end,
                                 #   consecutive_days_worked (openwfm.scheduling.history)
    preferences = "preferences.csv"      # agent_id,kind,value[,weight] (soft, see
    preference_cost = 1.0        #   openwfm.scheduling.preferences); per violation x weight
    start_spread_max_h = 2.0     # rule start_time_spread: an agent's start times (local time
    start_spread_hard = false    #   of day) within the week differ by at most this; soft:
    start_spread_weight = 1.0    #   each hour beyond costs weight x paid hour at site cost
    over_staffing_ratio = 1.2    # summary: flag queues scheduled / required hours above it

    [[scheduling.shifts]]
    name = "day"; start_step_min = 30; earliest = "00:00"; latest = "23:30"
    lengths_h = [8.5, 9.0]; days = [0, 1, 2, 3, 4, 5, 6]   # Monday = 0

    [[scheduling.breaks]]
    name = "break1"; activity = "break"; minutes = 15; window_h = [1.0, 3.0]
    [[scheduling.breaks]]
    name = "meal"; activity = "meal"; minutes = 60; window_h = [3.0, 5.0]; paid = false
    [[scheduling.breaks]]
    name = "break2"; activity = "break"; minutes = 15; window_h = [3.0, 1.0]; anchor = "end"

    [scheduling.rule_packs]
    CO = [{effective_from = "2026-07-15", max_weekly_h = 42}]

A break window is ``[a, b]`` hours after the shift start (``anchor = "start"``) or before
its end (``anchor = "end"``, then ``a`` >= ``b``); the break lies wholly inside it.
The understaffing penalty (``understaffing_penalty``, ``cost_per_missed_contact``,
``understaffing_cost_per_hour``) is defined in `openwfm.scheduling.penalty`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from openwfm.activities import Activity
from openwfm.errors import InputError, shown
from openwfm.io.records import csv_records
from openwfm.scenario import Agent, Scenario
from openwfm.scheduling.history import AgentHistory, HistoryRecord, read_history, resolve_history
from openwfm.scheduling.penalty import (
    DEFAULT_COST_PER_MISSED_CONTACT,
    ShortfallPieces,
    UnderstaffingPenalty,
    shortfall_pieces,
)
from openwfm.scheduling.preferences import Preference, read_preferences, validate_preferences
from openwfm.scheduling.rules import RulePack, parse_rule_packs, rule_pack_for
from openwfm.schema import SchedulingSpec, validate


@dataclass(frozen=True)
class ShiftTemplate:
    """Allowed shifts: starts every `start_step_min` local minutes in [earliest, latest]."""

    name: str = "any"
    start_step_min: int = 30
    earliest_min: int = 0
    latest_min: int = 24 * 60 - 30
    lengths_h: tuple[float, ...] = (8.5, 9.0)
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class BreakRule:
    """A break or meal each shift of at least `min_shift_h` hours takes inside its window."""

    name: str
    activity: Activity = Activity.BREAK
    minutes: int = 15
    window_h: tuple[float, float] = (1.0, 3.0)
    anchor: str = "start"
    paid: bool = True
    min_shift_h: float = 6.0

    def window_min(self, length_min: int) -> tuple[int, int]:
        """Window [earliest start, latest end] in minutes from the shift start."""
        a, b = (round(x * 60) for x in self.window_h)
        if self.anchor == "end":
            a, b = length_min - a, length_min - b
        return max(0, a), min(length_min, b)

    def applies(self, length_min: int) -> bool:
        return length_min >= round(self.min_shift_h * 60)


@dataclass(frozen=True)
class SchedulingConfig:
    """Everything in ``[scheduling]`` (see the module docstring)."""

    shifts: tuple[ShiftTemplate, ...] = (ShiftTemplate(),)
    breaks: tuple[BreakRule, ...] = (
        BreakRule("break1", Activity.BREAK, 15, (1.0, 3.0)),
        BreakRule("meal", Activity.MEAL, 60, (3.0, 5.5), paid=False),
        BreakRule("break2", Activity.BREAK, 15, (3.0, 1.0), anchor="end"),
    )
    rule_packs: dict[str, tuple[RulePack, ...]] = field(default_factory=dict)
    time_limit_s: float = 30.0
    """Deterministic work budget (see the module docstring), not wall-clock time."""
    wall_clock_cap_s: float | None = None
    """Optional wall-clock cap (seconds) of a solve; None (default): no cap."""
    seed: int = 0
    num_workers: int = 1
    understaffing_cost_per_hour: float = 60.0
    fairness_weight: float = 1.0
    contract_tolerance_h: float = 2.0
    hard_coverage: bool = False
    availability: tuple[tuple[str, datetime, datetime], ...] = ()
    understaffing_penalty: UnderstaffingPenalty | None = None
    """None: service level when the requirement carries traffic, else piecewise."""
    cost_per_missed_contact: float = DEFAULT_COST_PER_MISSED_CONTACT
    history: tuple[HistoryRecord, ...] = ()
    preferences: tuple[Preference, ...] = ()
    preference_cost: float = 1.0
    start_spread_max_h: float = 2.0
    """Start-time stability (rule ``start_time_spread``): the largest difference between an
    agent's shift start times (local time of day) within the week that costs nothing."""
    start_spread_hard: bool = False
    """True: ``start_spread_max_h`` is a hard rule; False: each hour beyond it costs
    ``start_spread_weight`` paid hours at the agent's site cost."""
    start_spread_weight: float = 1.0
    over_staffing_ratio: float = 1.2
    """Summary flag: a queue's scheduled / required productive hours above this is
    over-staffed (`openwfm.scheduling.summary_figures`)."""


START_TIME_SPREAD = "start_time_spread"
"""The start-time stability rule's one name (builder, stage 2b, checker, summary)."""


def start_spread_excess_min(local_start_min: np.ndarray | list[int],
                            config: SchedulingConfig) -> float:
    """Minutes by which an agent's start times (local minutes of day) spread beyond
    ``start_spread_max_h`` (rule ``start_time_spread``; 0 for one shift or none).

    Examples
    --------
    >>> start_spread_excess_min([6 * 60, 14 * 60, 7 * 60], SchedulingConfig())  # 8 h - 2 h
    360.0
    """
    m = np.asarray(local_start_min, dtype=float)
    if m.size < 2:
        return 0.0
    return max(0.0, float(m.max() - m.min()) - round(config.start_spread_max_h * 60))


def parse_config(raw: dict[str, Any], *, file: str = "<scenario>",
                 base: Path | None = None) -> SchedulingConfig:
    """Parse the ``[scheduling]`` table (``Scenario.extra["scheduling"]``).

    The keys, types, units, bounds and defaults are `openwfm.schema.SchedulingSpec`'s;
    unknown keys are errors naming the nearest valid one.

    Examples
    --------
    >>> cfg = parse_config({"time_limit_s": 5, "shifts": [{"lengths_h": [8]}]})
    >>> cfg.time_limit_s, cfg.shifts[0].lengths_h
    (5.0, (8.0,))
    >>> parse_config({"time_limit_s": "abc"}, file="s.toml")
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: s.toml, key 'scheduling.time_limit_s': expected a number, got 'abc'
    """
    spec = validate(SchedulingSpec, raw, file=file, prefix="scheduling")
    shifts = tuple(ShiftTemplate(
        name=t.name or f"shift{i}", start_step_min=t.start_step_min,
        earliest_min=t.earliest.hour * 60 + t.earliest.minute,
        latest_min=t.latest.hour * 60 + t.latest.minute,
        lengths_h=tuple(t.lengths_h), days=tuple(t.days)) for i, t in enumerate(spec.shifts))
    breaks = tuple(BreakRule(
        b.name or f"break{i}", Activity(b.activity), b.minutes, b.window_h, b.anchor,
        b.activity != Activity.MEAL if b.paid is None else b.paid, b.min_shift_h)
        for i, b in enumerate(spec.breaks))
    folder = base or Path(".")
    return SchedulingConfig(
        shifts=shifts,
        breaks=breaks,
        rule_packs=parse_rule_packs(raw.get("rule_packs", {}), file),
        time_limit_s=spec.time_limit_s,
        wall_clock_cap_s=spec.wall_clock_cap_s,
        seed=spec.seed,
        num_workers=spec.num_workers,
        understaffing_cost_per_hour=spec.understaffing_cost_per_hour,
        fairness_weight=spec.fairness_weight,
        contract_tolerance_h=spec.contract_tolerance_h,
        hard_coverage=spec.hard_coverage,
        availability=tuple(read_availability(folder / spec.availability))
        if spec.availability else (),
        understaffing_penalty=(UnderstaffingPenalty(spec.understaffing_penalty)
                               if spec.understaffing_penalty else None),
        cost_per_missed_contact=spec.cost_per_missed_contact,
        history=read_history(folder / spec.history) if spec.history else (),
        preferences=read_preferences(folder / spec.preferences) if spec.preferences else (),
        preference_cost=spec.preference_cost,
        start_spread_max_h=spec.start_spread_max_h,
        start_spread_hard=spec.start_spread_hard,
        start_spread_weight=spec.start_spread_weight,
        over_staffing_ratio=spec.over_staffing_ratio,
    )


def read_availability(path: Path) -> list[tuple[str, datetime, datetime]]:
    """Read ``agent_id,start,end`` rows: the agent is unavailable in [start, end).

    ``start``/``end`` are ISO datetimes, local to the agent's site when naive (resolved when
    the problem is built) or with an explicit offset (`parse_unavailability`).
    """
    return [parse_unavailability(rec["agent_id"].strip(), rec["start"], rec["end"],
                                 file=str(path), row=row)
            for row, rec in csv_records(path, ("agent_id", "start", "end"),
                                        what="availability")]


def parse_unavailability(agent_id: str, start: str, end: str, *, file: str, row: int
                         ) -> tuple[str, datetime, datetime]:
    """One unavailability row (strings as in the CSV): ``(agent_id, start, end)``, the agent
    unavailable in [start, end); `InputError` names the row and column.

    Examples
    --------
    >>> parse_unavailability("a1", "2026-03-31T00:00", "2026-04-01T00:00", file="f", row=1)[2]
    datetime.datetime(2026, 4, 1, 0, 0)
    >>> parse_unavailability("a1", "2026-03-31T10:00", "2026-03-31T09:00", file="f", row=2)
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: f, row 2, column 'end': end must be after start
    """
    parsed = []
    for column, text in (("start", start), ("end", end)):
        try:
            parsed.append(datetime.fromisoformat(text.strip()))
        except ValueError as exc:
            raise InputError(f"expected an ISO datetime like 2026-03-30T08:00, got {text!r}",
                             file=file, row=row, column=column) from exc
    s, e = parsed
    if (s.tzinfo is None) != (e.tzinfo is None):
        raise InputError("start and end must both be local (naive) or both have an offset",
                         file=file, row=row, column="end")
    if e <= s:
        raise InputError("end must be after start", file=file, row=row, column="end")
    return agent_id, s, e


@dataclass(frozen=True)
class ShiftType:
    """One concrete shift: site, local day index, UTC start (minutes from origin), length."""

    site: str
    day: int
    start: int
    length: int
    paid_min: int
    night_min: int
    weekend: bool
    cost: float
    local_start_min: int = 0
    """Start as minutes after local midnight at the site (0..1439)."""

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Group:
    """Agents of one site with the same skills: interchangeable in stage 1."""

    site: str
    skills: tuple[str, ...]
    agents: tuple[Agent, ...]


@dataclass(frozen=True)
class SchedulingProblem:
    """A built problem: requirement matrix, shift types, groups, packs. Build with
    `build_problem`; it is read-only input to `openwfm.scheduling.solve.solve_schedule`."""

    scenario: Scenario
    config: SchedulingConfig
    origin: pd.Timestamp
    interval_min: int
    n_intervals: int
    queues: tuple[str, ...]
    required: np.ndarray
    """[queue, interval] productive agents required."""
    shift_types: tuple[ShiftType, ...]
    groups: tuple[Group, ...]
    packs: dict[str, RulePack]
    """Site name -> rule pack in force at the plan start."""
    unavailable: dict[str, tuple[tuple[int, int], ...]]
    """Agent id -> unavailable [start, end) minutes from origin."""
    days: int
    penalty: ShortfallPieces
    """Understaffing penalty pieces per queue and interval (`openwfm.scheduling.penalty`)."""
    history: dict[str, AgentHistory] = field(default_factory=dict)
    """Agent id -> the previous week's end (`openwfm.scheduling.history`)."""
    preferences: tuple[Preference, ...] = ()
    """Soft wishes (`openwfm.scheduling.preferences`), validated against the scenario."""
    carried_duty: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    """Site -> ``(start, end)`` minutes from origin of the previous week's shifts that run
    into this one (a Sunday night shift): they take seats here (`weeks.schedule_weeks`)."""

    carried_supply: np.ndarray | None = None
    """[group, interval] productive agents of the previous week's shifts running into this
    one (they cover the requirement here); None: none."""

    @property
    def cyclic(self) -> bool:
        """Whether the plan week wraps around (module docstring, "Week edges"): True for
        a single week or the first of several (no previous week's shifts carried in)."""
        return self.carried_supply is None

    @property
    def horizon_min(self) -> int:
        return self.n_intervals * self.interval_min

    def fold(self, start: np.ndarray, end: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Spans ``[start, end)`` (minutes from the origin) on the plan's horizon: cyclic,
        the parts before 0 or after the horizon move one week (``horizon_min``) and a span
        crossing an edge becomes two; else they are clipped to ``[0, horizon)``. Returns
        ``(start, end, index of the input span)`` of the non-empty pieces.

        Examples
        --------
        >>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
        >>> p = build_problem(toy_scenario(n_agents=1), flat_requirement(
        ...     toy_scenario(n_agents=1), 1.0))
        >>> s, e, i = p.fold(np.array([-60, 100]), np.array([60, 200]))
        >>> s.tolist(), e.tolist(), i.tolist()  # 10,080 minutes in the week
        ([0, 10020, 100], [60, 10080, 200], [0, 0, 1])
        """
        start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
        n = np.arange(len(start))
        W = self.horizon_min
        if not self.cyclic:
            s, e = np.clip(start, 0, W), np.clip(end, 0, W)
            keep = e > s
            return s[keep], e[keep], n[keep]
        parts = [(np.clip(start + k * W, 0, W), np.clip(end + k * W, 0, W), n)
                 for k in (0, -1, 1)]
        s, e, i = (np.concatenate(x) for x in zip(*parts, strict=True))
        keep = e > s
        order = np.lexsort((s[keep], i[keep]))
        return s[keep][order], e[keep][order], i[keep][order]

    def wrap_intervals(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interval indices on the horizon: ``(index, inside)``; cyclic, every index is
        taken modulo the horizon (all inside), else those outside are flagged."""
        t = np.asarray(t)
        if self.cyclic:
            return np.mod(t, self.n_intervals), np.ones(t.shape, dtype=bool)
        inside = (t >= 0) & (t < self.n_intervals)
        return np.clip(t, 0, self.n_intervals - 1), inside

    def carried_productive(self) -> np.ndarray:
        """`carried_supply`, or zeros [group, interval]."""
        if self.carried_supply is None:
            return np.zeros((len(self.groups), self.n_intervals))
        return self.carried_supply

    def carried_on_duty(self, site: str) -> np.ndarray:
        """Agents of the previous week still on duty at `site` per interval (an agent
        counts in every interval its shift overlaps)."""
        out = np.zeros(self.n_intervals, dtype=int)
        im = self.interval_min
        for a, b in self.carried_duty.get(site, ()):
            t0, t1 = max(0, a // im), min(self.n_intervals, -(-b // im))
            out[t0:t1] += 1
        return out

    @property
    def times(self) -> pd.DatetimeIndex:
        return pd.date_range(self.origin, periods=self.n_intervals,
                             freq=f"{self.interval_min}min")

    def ts(self, minute: int | np.ndarray) -> pd.Timestamp:
        return self.origin + pd.to_timedelta(minute, unit="min")


def requirement_matrix(requirement: pd.DataFrame, queues: tuple[str, ...],
                       *, interval_s: int, file: str = "<requirement>"
                       ) -> tuple[pd.Timestamp, np.ndarray]:
    """Pivot a requirement table into ``(origin, [queue, interval] agents)``.

    Raises `InputError` naming the row/column for unknown queues, negative or missing agents,
    intervals off the grid.
    """
    for col in ("interval_start", "queue", "agents"):
        if col not in requirement.columns:
            raise InputError(f"missing column '{col}'", file=file, column=col)
    ts = pd.to_datetime(requirement["interval_start"], utc=True)
    agents = pd.to_numeric(requirement["agents"], errors="coerce")
    bad = agents.isna() | (agents < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        got = shown(requirement["agents"].iloc[row - 1])
        raise InputError(f"expected a number >= 0, got {got}", file=file, row=row,
                         column="agents")
    qidx = {q: i for i, q in enumerate(queues)}
    qi = requirement["queue"].astype(str).map(qidx)
    if qi.isna().any():
        row = int(np.flatnonzero(qi.isna().to_numpy())[0]) + 1
        raise InputError(f"unknown queue {shown(requirement['queue'].iloc[row - 1])}; expected one "
                         f"of the scenario's queues", file=file, row=row, column="queue")
    origin = ts.min()
    off_s = (ts - origin).dt.total_seconds().to_numpy()
    if (off_s % interval_s).any():
        row = int(np.flatnonzero(off_s % interval_s)[0]) + 1
        raise InputError(f"interval_start not on the {interval_s} s grid", file=file, row=row,
                         column="interval_start")
    ti = (off_s // interval_s).astype(int)
    mat = np.zeros((len(queues), int(ti.max()) + 1))
    np.add.at(mat, (qi.to_numpy(dtype=int), ti), agents.to_numpy(dtype=float))
    return origin, mat


def night_minutes(local_start: datetime, length_min: int, pack: RulePack) -> int:
    """Minutes of [local_start, +length) falling in the pack's night window (local clock):
    `openwfm.labour.RulePack.night_minutes`, the one definition the checker also uses.

    Examples
    --------
    >>> from openwfm.scheduling.rules import rule_pack_for
    >>> ph = rule_pack_for("PH", date(2026, 1, 1))   # night 22:00-06:00
    >>> night_minutes(datetime(2026, 1, 5, 20, 0), 9 * 60, ph)   # 20:00-05:00
    420
    """
    return pack.night_minutes(local_start.hour * 60 + local_start.minute, length_min)


def _unpaid(config: SchedulingConfig, length: int) -> int:
    return sum(b.minutes for b in config.breaks if not b.paid and b.applies(length))


def build_shift_types(scenario: Scenario, config: SchedulingConfig, origin: pd.Timestamp,
                      n_intervals: int, interval_min: int,
                      packs: dict[str, RulePack]) -> tuple[ShiftType, ...]:
    """All shifts the templates allow, per site and local day of the plan (the site's
    local week), in UTC minutes from the origin: a site east of the plan's zone starts
    before the horizon, one west of it ends after (module docstring, "Week edges").

    Shifts whose UTC start is off the interval grid, or whose paid hours exceed the site's
    daily maximum are left out.
    """
    horizon = n_intervals * interval_min
    out: dict[tuple[str, int, int], ShiftType] = {}
    for site in scenario.sites:
        zone = ZoneInfo(site.tz)
        pack = packs[site.name]
        for d in range(scenario.plan_days):
            day = scenario.plan_start + timedelta(days=d)
            for tpl in config.shifts:
                if day.weekday() not in tpl.days:
                    continue
                for m in range(tpl.earliest_min, tpl.latest_min + 1, tpl.start_step_min):
                    local = datetime.combine(day, time(m // 60, m % 60), tzinfo=zone)
                    # a non-existent local time (DST gap) is skipped
                    if local.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(
                            tzinfo=None) != local.replace(tzinfo=None):
                        continue
                    start = (pd.Timestamp(local).tz_convert("UTC") - origin).total_seconds()
                    start_min = int(start // 60)
                    # every start of the site's local week, also those before the
                    # horizon starts or after it ends (east / west of the plan's zone)
                    if start % 60 or start_min % interval_min or not (
                            -24 * 60 < start_min < horizon + 24 * 60):
                        continue
                    for lh in tpl.lengths_h:
                        length = round(lh * 60)
                        paid = length - _unpaid(config, length)
                        if paid > pack.max_daily_h * 60 + 1e-9:
                            continue
                        night = night_minutes(local, length, pack)
                        # the premium is paid on worked night minutes: before the unpaid meal
                        # is placed, its night share is taken as the shift's (the schedule's
                        # final cost uses the placed meal, `solve.shift_costs`)
                        cost = site.cost_per_hour * (
                            paid + pack.night_premium * night * paid / length) / 60
                        key = (site.name, start_min, length)
                        out.setdefault(key, ShiftType(site.name, d, start_min, length, paid,
                                                      night, pack.is_weekend(day.weekday()),
                                                      cost, m))
    return tuple(sorted(out.values(), key=lambda s: (s.site, s.start, s.length)))


def build_problem(scenario: Scenario, requirement: pd.DataFrame,
                  config: SchedulingConfig | None = None, *,
                  requirement_file: str = "<requirement>") -> SchedulingProblem:
    """Build the scheduling problem for `scenario` and a requirement table.

    Examples
    --------
    >>> from openwfm.scheduling.synthetic import toy_scenario, flat_requirement
    >>> sc = toy_scenario(n_agents=3)
    >>> p = build_problem(sc, flat_requirement(sc, agents=1.0))
    >>> p.required.shape, len(p.groups) >= 1
    ((1, 672), True)
    """
    if config is None:
        config = scenario_config(scenario)
    if scenario.plan_days != 7:
        # weekly rules (hours, days off, consecutive days) are judged on the plan: one week
        raise InputError(f"the scheduler plans one week: plan_days must be 7, got "
                         f"{scenario.plan_days} (schedule longer plans week by week, each "
                         f"with the previous week's history)",
                         file=str(scenario.source) if scenario.source else "<scenario>",
                         column="plan_days")
    queues = tuple(q.id for q in scenario.queues)
    origin, req = requirement_matrix(requirement, queues, interval_s=scenario.interval_s,
                                     file=requirement_file)
    interval_min = scenario.interval_s // 60
    plan0 = pd.Timestamp(datetime.combine(scenario.plan_start, time(0),
                                          tzinfo=ZoneInfo(scenario.plan_tz))).tz_convert("UTC")
    if origin > plan0:  # pad the front so the horizon starts at the plan start
        pad = int((origin - plan0).total_seconds() // scenario.interval_s)
        req = np.concatenate([np.zeros((len(queues), pad)), req], axis=1)
        origin = plan0
    src = str(scenario.source) if scenario.source else None
    packs = {s.name: rule_pack_for(s.rules or s.country, scenario.plan_start,
                                   config.rule_packs or None, file=src, key=f"sites[{i}].rules")
             for i, s in enumerate(scenario.sites)}
    types = build_shift_types(scenario, config, origin, req.shape[1], interval_min, packs)
    penalty = shortfall_pieces(
        requirement, queues, origin, req, interval_s=scenario.interval_s,
        method=config.understaffing_penalty,
        cost_per_missed_contact=config.cost_per_missed_contact,
        understaffing_cost_per_hour=config.understaffing_cost_per_hour, file=requirement_file)
    groups: dict[tuple[str, tuple[str, ...]], list[Agent]] = {}
    for a in scenario.agents:
        groups.setdefault((a.site, tuple(sorted(a.skills))), []).append(a)
    unavailable: dict[str, list[tuple[int, int]]] = {}
    by_id = {a.id: a for a in scenario.agents}
    for aid, s, e in config.availability:
        if aid not in by_id:
            raise InputError(f"unknown agent {aid!r} in availability", column="agent_id")
        zone = scenario.site(by_id[aid].site).zone
        s_utc, e_utc = (pd.Timestamp(x if x.tzinfo else x.replace(tzinfo=zone)).tz_convert("UTC")
                        for x in (s, e))
        unavailable.setdefault(aid, []).append(
            (int((s_utc - origin).total_seconds() // 60), int((e_utc - origin).total_seconds()
                                                             // 60)))
    history = resolve_history(config.history, scenario, origin)
    validate_preferences(config.preferences, scenario)
    return SchedulingProblem(
        scenario=scenario, config=config, origin=origin, interval_min=interval_min,
        n_intervals=req.shape[1], queues=queues, required=req, shift_types=types,
        groups=tuple(Group(k[0], k[1], tuple(v)) for k, v in sorted(groups.items())),
        packs=packs, unavailable={k: tuple(v) for k, v in unavailable.items()},
        days=scenario.plan_days, penalty=penalty, history=history, preferences=config.preferences)


def scenario_config(scenario: Scenario) -> SchedulingConfig:
    """The scenario's ``[scheduling]`` section parsed (CSV paths relative to its file)."""
    src = scenario.source
    return parse_config(scenario.extra.get("scheduling", {}),
                        file=str(src) if src else "<scenario>",
                        base=src.parent if src else None)


def local_day_index(problem: SchedulingProblem, site: str, minute: int) -> int:
    """Index of the local plan day (0 = plan_start) containing `minute` at `site`."""
    zone = problem.scenario.site(site).zone
    local = (problem.origin + pd.Timedelta(minutes=int(minute))).tz_convert(zone)
    return (local.date() - problem.scenario.plan_start).days


def plan_date(problem: SchedulingProblem, day: int) -> date:
    return problem.scenario.plan_start + timedelta(days=day)
