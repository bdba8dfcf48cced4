"""The inputs of a long-term capacity plan: the ``[capacity]`` section of a scenario.

Everything a planner states about the next 6-24 months lives in `CapacityInputs`:
per-site costs, seats and labour markets, the hiring pipeline (lead time, training,
nesting with its productivity curve, class sizes), attrition, skill groups (which queues,
which sites serve them), the long-term volume drivers of each queue (base level, growth,
seasonality, new client launches with their ramp-up), current headcount and transfers.

A ``[capacity]`` section looks like this (every key but ``skills`` has a default)::

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
from openwfm.scenario import Queue, Scenario, _parse_queue

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


def _num(t: dict[str, Any], key: str, default: float | None, file: str, where: str,
         lo: float = 0.0, hi: float | None = None) -> float:
    if key not in t:
        if default is None:
            raise InputError(f"{where}: missing required key '{key}'", file=file, column=key)
        return default
    v = t[key]
    try:
        x = float(v)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: expected a number, got {v!r}", file=file,
                         column=key) from exc
    if x < lo or (hi is not None and x > hi):
        raise InputError(f"{where}: expected a number in [{lo}, {hi if hi is not None else 'inf'}]"
                         f", got {v!r}", file=file, column=key)
    return x


def _int(t: dict[str, Any], key: str, default: int | None, file: str, where: str,
         lo: int = 0, hi: int | None = None) -> int:
    x = _num(t, key, None if default is None else float(default), file, where, lo, hi)
    if x != int(x):
        raise InputError(f"{where}: expected a whole number, got {t[key]!r}", file=file,
                         column=key)
    return int(x)


def _shares(raw: Any, sites: set[str], file: str, where: str, key: str) -> dict[str, float]:
    if isinstance(raw, str):
        raw = {raw: 1.0}
    if isinstance(raw, list):
        raw = {s: 1.0 / len(raw) for s in raw} if raw else {}
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"{where}: '{key}' must name at least one site, e.g. "
                         "{ Casablanca = 1.0 }", file=file, column=key)
    out = {}
    for s, v in raw.items():
        if s not in sites:
            raise InputError(f"{where}: unknown site {s!r}; expected one of {sorted(sites)}",
                             file=file, column=key)
        out[s] = _num({key: v}, key, None, file, where)
    total = sum(out.values())
    if abs(total - 1.0) > 1e-6:
        raise InputError(f"{where}: site shares in '{key}' must sum to 1, got {total:g}",
                         file=file, column=key)
    return out


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
                             column="capacity")
    base = base if base is not None else (scenario.source.parent if scenario.source
                                          else Path("."))
    w = "capacity"
    n_weeks = weeks if weeks is not None else _int(section, "weeks", 78, file, w, 1, MAX_WEEKS)
    if not 1 <= n_weeks <= MAX_WEEKS:
        raise InputError(f"weeks must be in [1, {MAX_WEEKS}], got {n_weeks}", file=file,
                         column="weeks")
    start_raw = section.get("start", scenario.plan_start.isoformat())
    try:
        start = date.fromisoformat(str(start_raw))
    except ValueError as exc:
        raise InputError(f"capacity: start must be an ISO date, got {start_raw!r}", file=file,
                         column="start") from exc
    start = start - timedelta(days=start.weekday())  # weeks start on Monday

    site_tables = {t.get("name"): t for t in section.get("sites", [])}
    scen_sites = {s.name for s in scenario.sites}
    for name in site_tables:
        if name not in scen_sites:
            raise InputError(f"capacity.sites: unknown site {name!r}; expected one of "
                             f"{sorted(scen_sites)}", file=file, column="name")
    sites = []
    for i, s in enumerate(scenario.sites):
        t = site_tables.get(s.name, {})
        where = f"capacity.sites[{i}] ({s.name})"
        limits_raw = t.get("max_hires_per_week", {})
        if not isinstance(limits_raw, dict):
            raise InputError(f"{where}: max_hires_per_week must be a table language -> "
                             "number", file=file, column="max_hires_per_week")
        limits = {str(k): _num(limits_raw, k, None, file, where) for k in limits_raw}
        sites.append(SiteCapacity(
            name=s.name,
            seats=_int(t, "seats", s.seats, file, where),
            hourly_cost=_num(t, "hourly_cost", s.cost_per_hour, file, where),
            shifts_per_day=_num(t, "shifts_per_day", 2.0, file, where, 0.1, 24.0),
            workdays_per_week=_num(t, "workdays_per_week", 5.0, file, where, 0.5, 7.0),
            hire_cost=_num(t, "hire_cost", 0.0, file, where),
            training_cost=_num(t, "training_cost", 0.0, file, where),
            max_hires_per_week=limits,
            trainees_use_seats=bool(t.get("trainees_use_seats", False)),
        ))

    h = section.get("hiring", {})
    nest = h.get("nesting_productivity", [0.5, 0.75, 0.9])
    if not isinstance(nest, list) or any(
            not isinstance(p, int | float) or not 0 <= p <= 1 for p in nest):
        raise InputError("capacity.hiring: nesting_productivity must be a list of numbers in "
                         f"[0, 1], got {nest!r}", file=file, column="nesting_productivity")
    hiring = HiringPolicy(
        lead_time_weeks=_int(h, "lead_time_weeks", 4, file, "capacity.hiring", 0, 52),
        training_weeks=_int(h, "training_weeks", 4, file, "capacity.hiring", 0, 52),
        nesting_productivity=tuple(float(p) for p in nest),
        class_min=_int(h, "class_min", 0, file, "capacity.hiring"),
        class_max=_int(h, "class_max", 30, file, "capacity.hiring", 1),
        class_every_weeks=_int(h, "class_every_weeks", 1, file, "capacity.hiring", 1, 26),
    )
    if hiring.class_min > hiring.class_max:
        raise InputError(f"capacity.hiring: class_min {hiring.class_min} > class_max "
                         f"{hiring.class_max}", file=file, column="class_min")

    new_queues = tuple(_parse_queue(t, file, i) for i, t in
                       enumerate(section.get("new_queues", [])))
    queue_by_id = {q.id: q for q in scenario.queues}
    for q in new_queues:
        if q.id in queue_by_id:
            raise InputError(f"capacity.new_queues: queue {q.id!r} already exists in the "
                             "scenario", file=file, column="id")
        queue_by_id[q.id] = q
    queue_ids = set(queue_by_id)
    skills = []
    raw_skills = section.get("skills", [])
    if not raw_skills:
        raise InputError("capacity: at least one [[capacity.skills]] table is needed",
                         file=file, column="skills")
    seen: set[str] = set()
    for i, t in enumerate(raw_skills):
        where = f"capacity.skills[{i}]"
        name = str(t.get("name", "")).strip()
        if not name or name in seen:
            raise InputError(f"{where}: each skill group needs a unique 'name'", file=file,
                             column="name")
        seen.add(name)
        qs = t.get("queues", [])
        if not isinstance(qs, list) or not qs:
            raise InputError(f"{where}: 'queues' must list queue ids", file=file,
                             column="queues")
        for q in qs:
            if q not in queue_ids:
                raise InputError(f"{where}: unknown queue {q!r}", file=file, column="queues")
        langs = tuple(sorted({queue_by_id[q].language for q in qs}))
        skills.append(SkillGroup(name=name, queues=tuple(qs),
                                 site_shares=_shares(t.get("sites"), scen_sites, file, where,
                                                     "sites"),
                                 languages=langs))
    grouped = [q for k in skills for q in k.queues]
    dup = sorted({q for q in grouped if grouped.count(q) > 1})
    if dup:
        raise InputError(f"capacity.skills: queue(s) {dup} belong to more than one group",
                         file=file, column="queues")

    drv_tables = {t.get("id"): t for t in section.get("queues", [])}
    drivers = []
    for q in grouped:
        t = drv_tables.get(q, {})
        where = f"capacity.queues ({q})"
        seas = t.get("seasonality", [1.0] * 12)
        if not isinstance(seas, list) or len(seas) != 12 or any(
                not isinstance(x, int | float) or x < 0 for x in seas):
            raise InputError(f"{where}: seasonality must be 12 monthly factors >= 0",
                             file=file, column="seasonality")
        oh = t.get("open_hours", [8, 20])
        pf = t.get("pattern_from")
        if pf is not None and pf not in queue_ids:
            raise InputError(f"{where}: pattern_from names unknown queue {pf!r}", file=file,
                             column="pattern_from")
        drivers.append(QueueDrivers(
            queue=q,
            weekly_volume=_num(t, "weekly_volume", 0.0, file, where) if "weekly_volume" in t
            else None,
            growth_yearly=_num(t, "growth_yearly", 0.0, file, where, -0.99),
            seasonality=tuple(float(x) for x in seas),
            aht_s=_num(t, "aht_s", 0.0, file, where, 1.0) if "aht_s" in t else None,
            open_hours=(float(oh[0]), float(oh[1])),
            pattern_from=pf,
        ))
    for qid in drv_tables:
        if qid not in grouped:
            raise InputError(f"capacity.queues: queue {qid!r} is in no skill group",
                             file=file, column="id")

    launches = []
    launch_src: list[tuple[str, int | None, dict[str, Any]]]
    if isinstance(section.get("launches"), str):
        lpath = base / section["launches"]
        launch_src = [(str(lpath), r, rec) for r, rec in
                      _read_csv(lpath, ("queue", "start_week", "weekly_volume"))]
    else:
        launch_src = [(file, None, t) for t in section.get("launches", [])]
    for i, (f, row, t) in enumerate(launch_src):
        where = f"capacity.launches[{i}]" if row is None else "launch"
        q = str(t.get("queue", "")).strip()
        if q not in grouped:
            raise InputError(f"{where}: queue {q!r} is in no skill group", file=f, row=row,
                             column="queue")
        vals = {}
        for key, default, lo, hi in (("start_week", None, 0, MAX_WEEKS),
                                     ("weekly_volume", None, 0, None),
                                     ("ramp_weeks", 0, 0, MAX_WEEKS),
                                     ("ramp_from", 1.0, 0, 1)):
            raw = t.get(key)
            if raw is None or str(raw).strip() == "":
                if default is None:
                    raise InputError(f"{where}: missing '{key}'", file=f, row=row, column=key)
                vals[key] = float(default)
                continue
            try:
                x = float(raw)
            except (TypeError, ValueError) as exc:
                raise InputError(f"{where}: expected a number, got {raw!r}", file=f, row=row,
                                 column=key) from exc
            if x < lo or (hi is not None and x > hi):
                raise InputError(f"{where}: expected a number in [{lo}, {hi}], got {raw!r}",
                                 file=f, row=row, column=key)
            vals[key] = x
        launches.append(Launch(queue=q, start_week=int(vals["start_week"]),
                               weekly_volume=vals["weekly_volume"],
                               ramp_weeks=int(vals["ramp_weeks"]), ramp_from=vals["ramp_from"]))

    skill_names = {k.name for k in skills}
    transfers = []
    for i, t in enumerate(section.get("transfers", [])):
        where = f"capacity.transfers[{i}]"
        for key, allowed in (("skill", skill_names), ("from", scen_sites), ("to", scen_sites)):
            if t.get(key) not in allowed:
                raise InputError(f"{where}: '{key}' must be one of {sorted(allowed)}, got "
                                 f"{t.get(key)!r}", file=file, column=key)
        transfers.append(Transfer(week=_int(t, "week", None, file, where, 0, MAX_WEEKS),
                                  skill=t["skill"], from_site=t["from"], to_site=t["to"],
                                  fte=_num(t, "fte", None, file, where)))

    fte_hours = _num(section, "fte_hours", 40.0, file, w, 1.0, 80.0)
    if "headcount" in section:
        hpath = base / str(section["headcount"])
        hf = str(hpath)
        headcount: dict[tuple[str, str], float] = {}
        for row, rec in _read_csv(hpath, ("site", "skill", "headcount")):
            site, skill = (rec.get("site") or "").strip(), (rec.get("skill") or "").strip()
            if site not in scen_sites:
                raise InputError(f"unknown site {site!r}; expected one of {sorted(scen_sites)}",
                                 file=hf, row=row, column="site")
            if skill not in skill_names:
                raise InputError(f"unknown skill group {skill!r}; expected one of "
                                 f"{sorted(skill_names)}", file=hf, row=row, column="skill")
            n = _csv_num(rec, "headcount", hf, row)
            ch = (_csv_num(rec, "contract_hours", hf, row) if (rec.get("contract_hours") or
                                                                "").strip() else fte_hours)
            headcount[(site, skill)] = headcount.get((site, skill), 0.0) + n * ch / fte_hours
    else:
        headcount = _headcount_from_agents(scenario, tuple(skills), fte_hours)

    scenarios = []
    for i, t in enumerate(section.get("scenarios", [])):
        where = f"capacity.scenarios[{i}]"
        ss = t.get("skill_sites", {})
        for k in ss:
            if k not in skill_names:
                raise InputError(f"{where}: unknown skill group {k!r} in skill_sites",
                                 file=file, column="skill_sites")
        seats_raw = t.get("seats", {})
        for site in seats_raw:
            if site not in scen_sites:
                raise InputError(f"{where}: unknown site {site!r} in seats", file=file,
                                 column="seats")
        scenarios.append(ScenarioVariant(
            name=str(t.get("name", f"scenario {i + 1}")),
            attrition_monthly=(_num(t, "attrition_monthly", None, file, where, 0.0, 0.99)
                               if "attrition_monthly" in t else None),
            volume_factor=(_num(t, "volume_factor", None, file, where)
                           if "volume_factor" in t else None),
            skill_sites={k: _shares(v, scen_sites, file, where, "skill_sites")
                         for k, v in ss.items()},
            seats={k: _int(seats_raw, k, None, file, where) for k in seats_raw},
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
        shrinkage=_num(section, "shrinkage", scenario.shrinkage, file, w, 0.0, 0.95),
        scheduling_efficiency=_num(section, "scheduling_efficiency", 1.0, file, w, 0.1, 1.0),
        attrition_monthly=_num(section, "attrition_monthly", 0.05, file, w, 0.0, 0.99),
        under_penalty_per_fte_week=_num(section, "under_penalty_per_fte_week", 3000.0, file, w),
        over_penalty_per_fte_week=_num(section, "over_penalty_per_fte_week", 100.0, file, w),
        min_coverage=_num(section, "min_coverage", 0.0, file, w, 0.0, 1.0),
        scenarios=tuple(scenarios),
        new_queues=new_queues,
        source=file,
    )
