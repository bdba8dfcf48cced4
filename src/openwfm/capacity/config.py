"""The inputs of a long-term capacity plan: the ``[capacity]`` section of a scenario.

Everything a planner states about the next 6-24 months lives in `CapacityInputs`:
per-site costs, seats and labour markets, the hiring pipeline (lead time, training,
nesting with its productivity curve, class sizes), attrition, skill groups (which queues,
which sites serve them), the long-term volume drivers of each queue (base level, growth,
seasonality, new client launches with their ramp-up), current headcount and transfers.

A ``[capacity]`` section looks like this (every key but ``skills`` has a default; the keys,
units and bounds are defined once in `openwfm.schema.CapacitySpec`, listed in
docs/scenario.md)::

    [capacity]
    weeks = 78                      # horizon, 1..104 weeks
    fte_hours = 40                  # paid hours of one FTE per week
    attrition_monthly = 0.05        # share of headcount leaving per month
    under_penalty_per_fte_week = 3000
    over_penalty_per_fte_week = 100
    headcount = "headcount.csv"     # optional: site, skill, headcount[, contract_hours]

    [capacity.hiring]
    lead_time_weeks = 4             # recruiting: decision -> first day of training
    training_weeks = 4              # classroom, productivity 0
    nesting_productivity = [0.5, 0.7, 0.85]   # one value per nesting week
    class_min = 8
    class_max = 25
    class_every_weeks = 2           # a class can start every 2 weeks

    [[capacity.sites]]
    name = "Casablanca"
    shifts_per_day = 2
    workdays_per_week = 5
    hire_cost = 500
    training_cost = 1500
    max_hires_per_week = { fr = 40, en = 15, nl = 0 }   # per language; absent = unlimited

    [[capacity.skills]]
    name = "telco-fr"
    queues = ["telco-fr-voice", "telco-fr-chat"]
    sites = { Casablanca = 1.0 }    # share of the skill's required FTE per site

    [[capacity.queues]]
    id = "telco-fr-voice"
    weekly_volume = 12000           # default: mean of the last 4 weeks of history
    growth_yearly = 0.05
    seasonality = [1.1, 1.0, 1.0, 0.95, 0.95, 0.9, 0.85, 0.9, 1.0, 1.05, 1.1, 1.2]

    [[capacity.new_queues]]         # a client still to launch: keys as in [[queues]]
    id = "ride-us-voice"; client = "RideNow"; channel = "voice"; language = "en"
    market = "US"; tz = "America/New_York"; patience_s = 150

    [[capacity.launches]]
    queue = "ride-us-voice"
    start_week = 4
    ramp_weeks = 40
    weekly_volume = 60000           # at the end of the ramp-up
    ramp_from = 0.09                # share of it in the launch week

    [[capacity.transfers]]
    week = 10; skill = "telco-fr"; from = "Casablanca"; to = "Bogota"; fte = 5

    [[capacity.scenarios]]
    name = "attrition 7%"
    attrition_monthly = 0.07        # also: volume_factor, seats = { site = seats },
                                    #  skill_sites = { skill = { site = share } }
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openwfm.errors import InputError
from openwfm.scenario import Queue, Scenario, queue_from_spec
from openwfm.schema import CapacitySiteSpec, CapacitySpec, DriverSpec, LaunchSpec, nearest, validate

MAX_WEEKS = 104


@dataclass(frozen=True)
class SiteCapacity:
    """A site as the capacity plan sees it.

    The seat conversion: one seat hosts at most ``shifts_per_day`` non-overlapping shifts a
    day, so a site offers ``seats * shifts_per_day * 7`` person-shifts a week. A person works
    ``workdays_per_week`` shifts a week, so the headcount on the floor is bounded by
    ``seat_headcount = seats * shifts_per_day * 7 / workdays_per_week``; agents on the
    floor at any instant never exceed ``seats`` as long as the shifts do not overlap.
    """

    name: str
    seats: int
    hourly_cost: float
    shifts_per_day: float = 2.0
    workdays_per_week: float = 5.0
    hire_cost: float = 0.0
    training_cost: float = 0.0
    max_hires_per_week: dict[str, float] = field(default_factory=dict)
    """Per language (ISO code as in the queues): the labour market's weekly limit; a
    language absent from the dict is unlimited, 0 means it cannot be hired there."""
    trainees_use_seats: bool = False
    """Whether classroom trainees sit on production seats (nesting agents always do)."""

    @property
    def seat_headcount(self) -> float:
        """Headcount the seats can host: ``seats * shifts_per_day * 7 / workdays_per_week``.

        Examples
        --------
        >>> SiteCapacity("A", seats=100, hourly_cost=10.0).seat_headcount
        280.0
        """
        return self.seats * self.shifts_per_day * 7.0 / self.workdays_per_week


@dataclass(frozen=True)
class HiringPolicy:
    """The hiring pipeline: a class decided in week ``s - lead_time_weeks`` starts training
    in week ``s``, trains ``training_weeks`` (productivity 0), nests
    ``len(nesting_productivity)`` weeks at those productivities, then is fully productive."""

    lead_time_weeks: int = 4
    training_weeks: int = 4
    nesting_productivity: tuple[float, ...] = (0.5, 0.75, 0.9)
    class_min: int = 0
    class_max: int = 30
    class_every_weeks: int = 1
    """Classes start every this many weeks (from week ``lead_time_weeks`` on)."""


@dataclass(frozen=True)
class SkillGroup:
    """A group of queues staffed by the same agents, and the sites that serve it."""

    name: str
    queues: tuple[str, ...]
    site_shares: dict[str, float]
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueDrivers:
    """The long-term volume drivers of one queue (weekly volume before launches)."""

    queue: str
    weekly_volume: float | None = None
    growth_yearly: float = 0.0
    seasonality: tuple[float, ...] = (1.0,) * 12
    aht_s: float | None = None
    open_hours: tuple[float, float] = (8.0, 20.0)
    """Used only when the history has no rows for the queue: a flat pattern over these
    local hours, 7 days a week."""
    pattern_from: str | None = None
    """Take the intraday pattern (and the handle time, unless ``aht_s``) from this queue's
    history: for a new client shaped like an existing one."""


@dataclass(frozen=True)
class Launch:
    """A new client (or a new line of business) on a queue, ramping up linearly from
    ``ramp_from * weekly_volume`` in ``start_week`` to ``weekly_volume`` at
    ``start_week + ramp_weeks``."""

    queue: str
    start_week: int
    weekly_volume: float
    ramp_weeks: int = 0
    ramp_from: float = 1.0


@dataclass(frozen=True)
class Transfer:
    """Fully productive FTE moved between sites (same skill) from ``week`` on."""

    week: int
    skill: str
    from_site: str
    to_site: str
    fte: float


@dataclass(frozen=True)
class ScenarioVariant:
    """A what-if on top of the base inputs (None keeps the base value)."""

    name: str
    attrition_monthly: float | None = None
    volume_factor: float | None = None
    skill_sites: dict[str, dict[str, float]] = field(default_factory=dict)
    seats: dict[str, int] = field(default_factory=dict)
    """Seats per site (e.g. a new floor)."""


@dataclass(frozen=True)
class CapacityInputs:
    """Everything the long-term plan needs, validated."""

    start: date
    weeks: int
    sites: tuple[SiteCapacity, ...]
    skills: tuple[SkillGroup, ...]
    hiring: HiringPolicy
    drivers: tuple[QueueDrivers, ...]
    launches: tuple[Launch, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    headcount: dict[tuple[str, str], float] = field(default_factory=dict)
    """Current FTE per (site, skill) at the start of week 0."""
    fte_hours: float = 40.0
    shrinkage: float = 0.3
    scheduling_efficiency: float = 1.0
    attrition_monthly: float = 0.05
    under_penalty_per_fte_week: float = 3000.0
    over_penalty_per_fte_week: float = 100.0
    min_coverage: float = 0.0
    """Hard floor: available >= min_coverage * required in every week a new class can
    reach (0 = no hard floor, only the penalty)."""
    volume_factor: float = 1.0
    scenarios: tuple[ScenarioVariant, ...] = ()
    new_queues: tuple[Queue, ...] = ()
    """Queues that exist only in the long-term plan (clients still to launch)."""
    source: str | None = None
    """The file the inputs came from (for error messages)."""

    def week_starts(self) -> list[date]:
        return [self.start + timedelta(weeks=w) for w in range(self.weeks)]

    def site(self, name: str) -> SiteCapacity:
        return next(s for s in self.sites if s.name == name)

    def variant(self, v: ScenarioVariant) -> CapacityInputs:
        """These inputs with a scenario's overrides applied."""
        skills = tuple(
            replace(k, site_shares=dict(v.skill_sites[k.name])) if k.name in v.skill_sites
            else k for k in self.skills)
        sites = tuple(replace(s, seats=v.seats[s.name]) if s.name in v.seats else s
                      for s in self.sites)
        return replace(
            self, skills=skills, sites=sites,
            attrition_monthly=(self.attrition_monthly if v.attrition_monthly is None
                               else v.attrition_monthly),
            volume_factor=self.volume_factor * (1.0 if v.volume_factor is None
                                                else v.volume_factor),
            scenarios=())


def _read_csv(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"missing column(s) {missing}; expected {list(required)}",
                                 file=str(path), column=missing[0])
            return list(enumerate(reader, start=1))
    except FileNotFoundError as exc:
        raise InputError("file not found", file=str(path)) from exc


def _csv_num(rec: dict[str, str], key: str, file: str, row: int, lo: float = 0.0) -> float:
    v = (rec.get(key) or "").strip()
    try:
        x = float(v)
    except ValueError as exc:
        raise InputError(f"expected a number >= {lo:g}, got {v!r}", file=file, row=row,
                         column=key) from exc
    if x < lo:
        raise InputError(f"expected a number >= {lo:g}, got {v!r}", file=file, row=row,
                         column=key)
    return x


def _headcount_from_agents(scenario: Scenario, skills: tuple[SkillGroup, ...],
                           fte_hours: float) -> dict[tuple[str, str], float]:
    """Current FTE per (site, skill) from the scenario's agents: an agent counts
    ``contract_hours / fte_hours`` FTE, split equally over the skill groups of their
    queues (a multi-skilled agent is never counted fully in every group)."""
    group_of = {q: k.name for k in skills for q in k.queues}
    out: dict[tuple[str, str], float] = {}
    for a in scenario.agents:
        groups = sorted({group_of[q] for q in a.skills if q in group_of})
        for g in groups:
            key = (a.site, g)
            out[key] = out.get(key, 0.0) + a.contract_hours / fte_hours / len(groups)
    return out


def parse_capacity(scenario: Scenario, section: dict[str, Any] | None = None, *,
                   base: Path | None = None, weeks: int | None = None) -> CapacityInputs:
    """Validate the ``[capacity]`` section of `scenario` (or `section`) into inputs.

    Parameters
    ----------
    scenario : Scenario
        Sites (seats, hourly cost) and queues (language, channel, goal) come from here.
    section : dict, optional
        The parsed ``[capacity]`` table; default ``scenario.extra["capacity"]``.
    base : Path, optional
        Folder that CSV paths are relative to; default the scenario file's folder.
    weeks : int, optional
        Overrides ``weeks`` of the section (1..104).

    Raises
    ------
    InputError
        Naming the file, row and column of the first bad value.

    Examples
    --------
    >>> from datetime import date
    >>> from openwfm.scenario import scenario_from_dict
    >>> from pathlib import Path
    >>> sc = scenario_from_dict({
    ...     "plan_start": "2026-03-30",
    ...     "sites": [{"name": "A", "country": "MA", "tz": "Africa/Casablanca",
    ...                "seats": 50, "cost_per_hour": 9.0}],
    ...     "queues": [{"id": "q", "client": "c", "channel": "voice", "language": "fr",
    ...                 "market": "FR"}]}, base=Path("."))
    >>> inp = parse_capacity(sc, {"weeks": 12, "skills": [{"name": "fr", "queues": ["q"],
    ...                                                    "sites": {"A": 1.0}}]})
    >>> inp.weeks, inp.skills[0].languages, inp.sites[0].seat_headcount
    (12, ('fr',), 140.0)
    """
    file = str(scenario.source) if scenario.source else "<scenario>"
    if section is None:
        section = scenario.extra.get("capacity")
        if section is None:
            raise InputError("the scenario has no [capacity] section", file=file,
                             key="capacity")
    spec = validate(CapacitySpec, section, file=file, prefix="capacity")
    base = base if base is not None else (scenario.source.parent if scenario.source
                                          else Path("."))
    if weeks is not None and not 1 <= weeks <= MAX_WEEKS:
        raise InputError(f"weeks must be in [1, {MAX_WEEKS}], got {weeks}", file=file,
                         key="capacity.weeks")
    n_weeks = weeks if weeks is not None else spec.weeks
    start = spec.start or scenario.plan_start
    start = start - timedelta(days=start.weekday())  # weeks start on Monday

    scen_sites = sorted(s.name for s in scenario.sites)

    def unknown(kind: str, name: str, known: list[str], key: str) -> InputError:
        hint = nearest(name, known)
        return InputError(f"unknown {kind} {name!r}" + (f"; did you mean {hint!r}?" if hint
                                                         else "")
                          + f"; expected one of {known}", file=file, key=key)

    site_tables = {}
    for i, t in enumerate(spec.sites):
        if t.name not in scen_sites:
            raise unknown("site", t.name, scen_sites, f"capacity.sites[{i}].name")
        site_tables[t.name] = t
    sites = []
    for s in scenario.sites:
        t = site_tables.get(s.name) or CapacitySiteSpec(name=s.name)
        sites.append(SiteCapacity(
            name=s.name,
            seats=s.seats if t.seats is None else t.seats,
            hourly_cost=s.cost_per_hour if t.hourly_cost is None else t.hourly_cost,
            shifts_per_day=t.shifts_per_day,
            workdays_per_week=t.workdays_per_week,
            hire_cost=t.hire_cost,
            training_cost=t.training_cost,
            max_hires_per_week=dict(t.max_hires_per_week),
            trainees_use_seats=t.trainees_use_seats,
        ))

    h = spec.hiring
    hiring = HiringPolicy(
        lead_time_weeks=h.lead_time_weeks, training_weeks=h.training_weeks,
        nesting_productivity=tuple(h.nesting_productivity), class_min=h.class_min,
        class_max=h.class_max, class_every_weeks=h.class_every_weeks)

    new_queues = tuple(queue_from_spec(q) for q in spec.new_queues)
    queue_by_id = {q.id: q for q in scenario.queues}
    for i, q in enumerate(new_queues):
        if q.id in queue_by_id:
            raise InputError(f"queue {q.id!r} already exists in the scenario", file=file,
                             key=f"capacity.new_queues[{i}].id")
        queue_by_id[q.id] = q
    queue_ids = sorted(queue_by_id)
    skills = []
    seen: set[str] = set()
    for i, t in enumerate(spec.skills):
        where = f"capacity.skills[{i}]"
        if t.name in seen:
            raise InputError(f"skill group {t.name!r} is defined twice", file=file,
                             key=f"{where}.name")
        seen.add(t.name)
        for q in t.queues:
            if q not in queue_by_id:
                raise unknown("queue", q, queue_ids, f"{where}.queues")
        for site in t.sites:
            if site not in scen_sites:
                raise unknown("site", site, scen_sites, f"{where}.sites")
        langs = tuple(sorted({queue_by_id[q].language for q in t.queues}))
        skills.append(SkillGroup(name=t.name, queues=tuple(t.queues),
                                 site_shares=dict(t.sites), languages=langs))
    grouped = [q for k in skills for q in k.queues]
    dup = sorted({q for q in grouped if grouped.count(q) > 1})
    if dup:
        raise InputError(f"queue(s) {dup} belong to more than one skill group", file=file,
                         key="capacity.skills")

    drv_tables: dict[str, DriverSpec] = {}
    for i, t in enumerate(spec.queues):
        if t.id not in grouped:
            raise InputError(f"queue {t.id!r} is in no skill group", file=file,
                             key=f"capacity.queues[{i}].id")
        if t.pattern_from is not None and t.pattern_from not in queue_by_id:
            raise unknown("queue", t.pattern_from, queue_ids,
                          f"capacity.queues[{i}].pattern_from")
        drv_tables[t.id] = t
    drivers = []
    for q in grouped:
        t = drv_tables.get(q) or DriverSpec(id=q)
        drivers.append(QueueDrivers(
            queue=q, weekly_volume=t.weekly_volume, growth_yearly=t.growth_yearly,
            seasonality=tuple(t.seasonality), aht_s=t.aht_s, open_hours=t.open_hours,
            pattern_from=t.pattern_from))

    launch_src: list[tuple[str, int | None, str, LaunchSpec]]
    if isinstance(spec.launches, str):
        lpath = base / spec.launches
        lf = str(lpath)
        launch_src = [(lf, r, "", validate(LaunchSpec, rec, file=lf, row=r))
                      for r, rec in _read_csv(lpath, ("queue", "start_week", "weekly_volume"))]
    else:
        launch_src = [(file, None, f"capacity.launches[{i}]", t)
                      for i, t in enumerate(spec.launches)]
    launches = []
    for f, row, where, t in launch_src:
        if t.queue not in grouped:
            if row is not None:
                raise InputError(f"queue {t.queue!r} is in no skill group", file=f, row=row,
                                 column="queue")
            raise InputError(f"queue {t.queue!r} is in no skill group", file=f,
                             key=f"{where}.queue")
        launches.append(Launch(queue=t.queue, start_week=t.start_week,
                               weekly_volume=t.weekly_volume, ramp_weeks=t.ramp_weeks,
                               ramp_from=t.ramp_from))

    skill_names = sorted(k.name for k in skills)
    transfers = []
    for i, t in enumerate(spec.transfers):
        where = f"capacity.transfers[{i}]"
        for key, value, allowed in (("skill", t.skill, skill_names),
                                    ("from", t.from_site, scen_sites),
                                    ("to", t.to_site, scen_sites)):
            if value not in allowed:
                raise unknown("skill group" if key == "skill" else "site", value, allowed,
                              f"{where}.{key}")
        transfers.append(Transfer(week=t.week, skill=t.skill, from_site=t.from_site,
                                  to_site=t.to_site, fte=t.fte))

    fte_hours = spec.fte_hours
    if spec.headcount is not None:
        hpath = base / spec.headcount
        hf = str(hpath)
        headcount: dict[tuple[str, str], float] = {}
        for row, rec in _read_csv(hpath, ("site", "skill", "headcount")):
            site, skill = (rec.get("site") or "").strip(), (rec.get("skill") or "").strip()
            if site not in scen_sites:
                raise InputError(f"unknown site {site!r}; expected one of {scen_sites}",
                                 file=hf, row=row, column="site")
            if skill not in skill_names:
                raise InputError(f"unknown skill group {skill!r}; expected one of "
                                 f"{skill_names}", file=hf, row=row, column="skill")
            n = _csv_num(rec, "headcount", hf, row)
            ch = (_csv_num(rec, "contract_hours", hf, row) if (rec.get("contract_hours") or
                                                                "").strip() else fte_hours)
            headcount[(site, skill)] = headcount.get((site, skill), 0.0) + n * ch / fte_hours
    else:
        headcount = _headcount_from_agents(scenario, tuple(skills), fte_hours)

    scenarios = []
    for i, t in enumerate(spec.scenarios):
        where = f"capacity.scenarios[{i}]"
        for k, shares in t.skill_sites.items():
            if k not in skill_names:
                raise unknown("skill group", k, skill_names, f"{where}.skill_sites")
            for site in shares:
                if site not in scen_sites:
                    raise unknown("site", site, scen_sites, f"{where}.skill_sites.{k}")
        for site in t.seats:
            if site not in scen_sites:
                raise unknown("site", site, scen_sites, f"{where}.seats")
        scenarios.append(ScenarioVariant(
            name=t.name or f"scenario {i + 1}",
            attrition_monthly=t.attrition_monthly,
            volume_factor=t.volume_factor,
            skill_sites={k: dict(v) for k, v in t.skill_sites.items()},
            seats=dict(t.seats),
        ))

    return CapacityInputs(
        start=start,
        weeks=n_weeks,
        sites=tuple(sites),
        skills=tuple(skills),
        hiring=hiring,
        drivers=tuple(drivers),
        launches=tuple(launches),
        transfers=tuple(transfers),
        headcount=headcount,
        fte_hours=fte_hours,
        shrinkage=scenario.shrinkage if spec.shrinkage is None else spec.shrinkage,
        scheduling_efficiency=spec.scheduling_efficiency,
        attrition_monthly=spec.attrition_monthly,
        under_penalty_per_fte_week=spec.under_penalty_per_fte_week,
        over_penalty_per_fte_week=spec.over_penalty_per_fte_week,
        min_coverage=spec.min_coverage,
        scenarios=tuple(scenarios),
        new_queues=new_queues,
        source=file,
    )
