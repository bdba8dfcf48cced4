"""The domain of a multi-site contact center: sites, queues, agents, service goals.

A scenario is one TOML file plus CSVs it names (paths relative to the TOML file)::

    name = "Atlas BPO"
    interval_s = 900
    plan_start = "2026-03-30"          # local Monday of the first planned week (the
    plan_days = 7                       #  reference zone is `plan_tz`)
    plan_tz = "UTC"
    history = "history.csv"            # optional interval table (see openwfm.io.intervals)
    agents = "agents.csv"              # or [[agents]] tables

    [[sites]]
    name = "Casablanca"
    country = "MA"
    tz = "Africa/Casablanca"
    seats = 180
    cost_per_hour = 9.5
    rules = "MA"                       # labour pack (openwfm.labour)

    [[queues]]
    id = "telco-fr-voice"
    client = "Telco FR"
    channel = "voice"
    language = "fr"
    market = "FR"
    sl_target = 0.8
    answer_within_s = 20
    patience_s = 180

Every key (and every column of the agents CSV: ``id, name, site, skills`` (``;``-separated
queue ids), ``contract_hours``, ``min_shift_h``, ``max_shift_h``, ``night_ok``, ``group``,
``hire_date``)
is defined once in `openwfm.schema`; docs/scenario.md lists them with type, unit, default
and example. The optional ``[routing]`` table (how the ACD routes in the simulation;
``docs/simulation.md``) becomes `Scenario.routing`, a
`openwfm.simulation.policy.RoutingPolicy`, its queue and group names checked here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openwfm.errors import InputError
from openwfm.io.records import csv_records
from openwfm.labour import known_packs
from openwfm.schema import (
    AgentSpec,
    Channel,
    QueueSpec,
    RoutingSpec,
    ScenarioFile,
    SiteSpec,
    nearest,
    validate,
)
from openwfm.simulation.policy import Overflow, RoutingPolicy

__all__ = ["Agent", "Channel", "Queue", "Scenario", "ServiceGoal", "Site", "agent_from_spec",
           "load_scenario", "queue_from_spec", "read_toml", "routing_from_spec",
           "scenario_from_dict", "site_from_spec"]


@dataclass(frozen=True)
class Site:
    """A physical site with its time zone, seats and cost."""

    name: str
    country: str
    tz: str
    seats: int
    cost_per_hour: float
    rules: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass(frozen=True)
class ServiceGoal:
    """What a queue must achieve in every interval.

    Voice/chat: `sl_target` of contacts answered within `answer_within_s`, optionally
    `max_asa_s`, `max_abandon`, `max_occupancy`. Email: `sl_target` answered within
    `answer_within_s` (e.g. 0.9 within 14 400 s).
    """

    sl_target: float = 0.8
    answer_within_s: float = 20.0
    max_asa_s: float | None = None
    max_abandon: float | None = None
    max_occupancy: float | None = None


@dataclass(frozen=True)
class Queue:
    """A queue = client x channel x language, with its market (for holidays) and goal."""

    id: str
    client: str
    channel: Channel
    language: str
    market: str
    goal: ServiceGoal = field(default_factory=ServiceGoal)
    patience_s: float | None = None
    concurrency: int = 1
    tz: str = "UTC"
    """Time zone of the queue's customers: drives the daily shape and holidays."""
    priority: int = 0


@dataclass(frozen=True)
class Agent:
    """An agent: a site, the queues they may take, and a weekly contract."""

    id: str
    name: str
    site: str
    skills: tuple[str, ...]
    contract_hours: float = 40.0
    min_shift_h: float = 4.0
    max_shift_h: float = 9.0
    night_ok: bool = True
    group: str = ""
    """Agent group for routing (overflow lists, per-group agent selection); "" = the site."""
    hire_date: date | None = None
    """First day at the company (seniority in shift bids); None = unknown."""

    @property
    def routing_group(self) -> str:
        return self.group or self.site


@dataclass(frozen=True)
class Scenario:
    """A whole contact center as the planner sees it."""

    name: str
    interval_s: int
    sites: tuple[Site, ...]
    queues: tuple[Queue, ...]
    agents: tuple[Agent, ...]
    plan_start: date
    plan_days: int = 7
    plan_tz: str = "UTC"
    shrinkage: float = 0.3
    history_path: Path | None = None
    source: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    routing: RoutingPolicy = field(default_factory=RoutingPolicy)

    def site(self, name: str) -> Site:
        return next(s for s in self.sites if s.name == name)

    def queue(self, queue_id: str) -> Queue:
        return next(q for q in self.queues if q.id == queue_id)


def site_from_spec(spec: SiteSpec) -> Site:
    """The domain `Site` of a validated ``[[sites]]`` table (``rules`` defaults to the
    country)."""
    return Site(name=spec.name, country=spec.country, tz=spec.tz, seats=spec.seats,
                cost_per_hour=spec.cost_per_hour, rules=spec.rules or spec.country)


def queue_from_spec(spec: QueueSpec) -> Queue:
    """The domain `Queue` of a validated ``[[queues]]`` table (its goal keys folded into
    `ServiceGoal`)."""
    goal = ServiceGoal(sl_target=spec.sl_target, answer_within_s=spec.answer_within_s,
                       max_asa_s=spec.max_asa_s, max_abandon=spec.max_abandon,
                       max_occupancy=spec.max_occupancy)
    return Queue(id=spec.id, client=spec.client, channel=spec.channel, language=spec.language,
                 market=spec.market, goal=goal, patience_s=spec.patience_s,
                 concurrency=spec.concurrency, tz=spec.tz, priority=spec.priority)


def agent_from_spec(spec: AgentSpec) -> Agent:
    """The domain `Agent` of a validated agent table or CSV row."""
    return Agent(id=spec.id, name=spec.name or spec.id, site=spec.site,
                 skills=tuple(spec.skills), contract_hours=spec.contract_hours,
                 min_shift_h=spec.min_shift_h, max_shift_h=spec.max_shift_h,
                 night_ok=spec.night_ok, group=spec.group or "", hire_date=spec.hire_date)


def routing_from_spec(spec: RoutingSpec | None, queues: list[str], groups: list[str], *,
                      file: str) -> RoutingPolicy:
    """The `RoutingPolicy` of a validated ``[routing]`` table; every queue and agent group it
    names must exist (an error names the key and the nearest valid name).

    Examples
    --------
    >>> spec = RoutingSpec(agent_selection="oldest", overflow=[
    ...     {"queue": "fr", "groups": ["Casablanca", "Manila"], "after_s": [0, 30]}])
    >>> p = routing_from_spec(spec, ["fr"], ["Casablanca", "Manila"], file="s.toml")
    >>> p.agent_selection.value, p.overflow[0].after_s
    ('oldest', (0.0, 30.0))
    >>> routing_from_spec(spec, ["fr"], ["Casablanca", "Manilla"], file="s.toml")
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: s.toml, key 'routing.overflow[0].groups': ...'Manila'...
    """
    if spec is None:
        return RoutingPolicy()

    def known(name: str, valid: list[str], what: str, key: str) -> None:
        if name not in valid:
            hint = nearest(name, valid)
            raise InputError(f"unknown {what} {name!r}"
                             + (f"; did you mean {hint!r}?" if hint else "")
                             + f"; expected one of {sorted(valid)}", file=file, key=key)

    what = "agent group (the agents' group column, else their site)"
    queues_seen: list[str] = []
    for i, o in enumerate(spec.overflow):
        known(o.queue, queues, "queue", f"routing.overflow[{i}].queue")
        if o.queue in queues_seen:
            raise InputError(f"queue {o.queue!r} has two overflow lists", file=file,
                             key=f"routing.overflow[{i}].queue")
        queues_seen.append(o.queue)
        for g in o.groups:
            known(g, groups, what, f"routing.overflow[{i}].groups")
    for g in spec.group_agent_selection:
        known(g, groups, what, "routing.group_agent_selection")
    return RoutingPolicy(
        agent_selection=spec.agent_selection, contact_selection=spec.contact_selection,
        group_agent_selection=dict(spec.group_agent_selection),
        overflow=tuple(Overflow(o.queue, tuple(o.groups), tuple(o.after_s))
                       for o in spec.overflow))


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error names the file, line and column.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = p.write_text('name = "x"\\nseats = = 3\\n')
    >>> read_toml(p)
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: ...s.toml: not valid TOML at line 2, column 9: Invalid value
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("file not found", file=file) from exc
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read as UTF-8 text: {exc}", file=file) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.match(r"(?P<msg>.*?) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", str(exc))
        where = f" at line {m['line']}, column {m['col']}: {m['msg']}" if m else f": {exc}"
        raise InputError(f"not valid TOML{where}", file=file) from None


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario TOML file (and the CSVs it names), validating every key.

    Raises
    ------
    InputError
        Naming the file and the key path (``queues[2].sl_target``) or the CSV row and
        column of the first problem: a TOML syntax error (line and column), an unknown key
        (with the nearest valid one), a wrong type or value, an unknown site, queue or
        labour pack.
    """
    path = Path(path)
    return scenario_from_dict(read_toml(path), base=path.parent, file=str(path))


def _duplicates(items: list[str]) -> list[str]:
    return sorted({x for x in items if items.count(x) > 1})


def scenario_from_dict(raw: dict[str, Any], *, base: Path, file: str = "<scenario>") -> Scenario:
    """Build a scenario from parsed TOML (paths relative to `base`).

    Every section is validated here (`openwfm.schema.ScenarioFile`), so a misspelt key in
    ``[scheduling]`` or ``[capacity]`` is reported when the file loads; the sections are
    kept in `Scenario.extra` for their packages to convert.
    """
    spec = validate(ScenarioFile, raw, file=file)
    sites = tuple(site_from_spec(s) for s in spec.sites)
    queues = tuple(queue_from_spec(q) for q in spec.queues)
    for kind, key, items in (("site name", "sites", [s.name for s in sites]),
                             ("queue id", "queues", [q.id for q in queues])):
        dup = _duplicates(items)
        if dup:
            raise InputError(f"duplicated {kind}: {dup}", file=file, key=key)
    _check_packs(spec, file)
    site_names = sorted(s.name for s in sites)
    queue_ids = [q.id for q in queues]
    agents: list[Agent] = []
    where: list[tuple[int | None, str | None]] = []  # (CSV row, TOML key) of each agent
    if isinstance(spec.agents, str):
        agents_file = base / spec.agents
        af = str(agents_file)
        for row, rec in csv_records(agents_file, what="agents"):
            a = validate(AgentSpec, rec, file=af, row=row)
            agents.append(_check_agent(agent_from_spec(a), site_names, queue_ids, af, row))
            where.append((row, None))
    else:
        for i, a in enumerate(spec.agents):
            agents.append(_check_agent(agent_from_spec(a), site_names, queue_ids, file, None,
                                       key=f"agents[{i}]"))
            where.append((None, f"agents[{i}]"))
    first_seen: dict[str, int] = {}
    for i, a in enumerate(agents):
        j = first_seen.setdefault(a.id, i)
        if j == i:
            continue
        (row0, key0), (row1, key1) = where[j], where[i]
        if row1 is not None:
            raise InputError(f"agent id {a.id!r} listed twice: rows {row0} and {row1}",
                             file=str(base / str(spec.agents)), row=row1, column="id")
        raise InputError(f"agent id {a.id!r} listed twice: {key0} and {key1}", file=file,
                         key=f"{key1}.id")
    return Scenario(
        name=spec.name,
        interval_s=spec.interval_s,
        sites=sites,
        queues=queues,
        agents=tuple(agents),
        plan_start=spec.plan_start,
        plan_days=spec.plan_days,
        plan_tz=spec.plan_tz,
        shrinkage=spec.shrinkage,
        history_path=(base / spec.history) if spec.history else None,
        source=Path(file) if file != "<scenario>" else None,
        extra={k: raw[k] for k in _SECTIONS if k in raw},
        routing=routing_from_spec(spec.routing, queue_ids,
                                  sorted({a.routing_group for a in agents}), file=file),
    )


_SECTIONS = ("currency", "scheduling", "simulation", "capacity", "demo")
"""Keys kept in `Scenario.extra` (validated, converted by their packages)."""


def _check_agent(a: Agent, sites: list[str], queues: list[str], file: str, row: int | None,
                 key: str | None = None) -> Agent:
    def err(msg: str, col: str) -> InputError:
        if row is not None:
            return InputError(msg, file=file, row=row, column=col)
        return InputError(msg, file=file, key=f"{key}.{col}")

    if a.site not in sites:
        hint = nearest(a.site, sites)
        raise err(f"unknown site {a.site!r}" + (f"; did you mean {hint!r}?" if hint else "")
                  + f"; expected one of {sites}", "site")
    for s in a.skills:
        if s not in queues:
            hint = nearest(s, queues)
            raise err(f"unknown queue {s!r} in skills"
                      + (f"; did you mean {hint!r}?" if hint else ""), "skills")
    return a


def _check_packs(spec: ScenarioFile, file: str) -> None:
    """Every site's labour pack exists (built in or in ``[scheduling.rule_packs]``)."""
    user = spec.scheduling.rule_packs if spec.scheduling is not None else {}
    known = known_packs(dict.fromkeys(user, ()))  # type: ignore[arg-type]
    for i, s in enumerate(spec.sites):
        name = s.rules or s.country
        if name not in known:
            hint = nearest(name, known)
            how = ("" if s.rules else f" (rules defaults to the country {s.country!r}; "
                   "set rules = one of the known packs)")
            raise InputError(f"unknown labour pack {name!r}{how}"
                             + (f"; did you mean {hint!r}?" if hint else "")
                             + f"; known packs: {', '.join(known)} (add one in "
                             "[scheduling.rule_packs])", file=file, key=f"sites[{i}].rules")
