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
    name = "Casablanca"; country = "MA"; tz = "Africa/Casablanca"
    seats = 180; cost_per_hour = 9.5; rules = "MA"

    [[queues]]
    id = "telco-fr-voice"; client = "Telco FR"; channel = "voice"; language = "fr"
    market = "FR"; sl_target = 0.8; answer_within_s = 20; patience_s = 180

Agents CSV columns: ``id, name, site, skills`` (``;``-separated queue ids),
``contract_hours`` (per week), optional ``min_shift_h``, ``max_shift_h``, ``night_ok``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openwfm.errors import InputError
from openwfm.io.records import csv_records


class Channel(StrEnum):
    """How contacts arrive; decides which staffing model applies."""

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


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

    def site(self, name: str) -> Site:
        return next(s for s in self.sites if s.name == name)

    def queue(self, queue_id: str) -> Queue:
        return next(q for q in self.queues if q.id == queue_id)


def _require(table: dict[str, Any], key: str, file: str, where: str) -> Any:
    if key not in table:
        raise InputError(f"{where}: missing required key '{key}'", file=file, column=key)
    return table[key]


def _check_tz(tz: str, file: str, where: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(
            f"{where}: '{tz}' is not an IANA time zone (e.g. 'Africa/Casablanca')",
            file=file,
            column="tz",
        ) from exc
    return tz


def _number(value: Any, file: str, where: str, key: str, *, lo: float | None = None,
            hi: float | None = None, open_interval: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: expected a number, got {value!r}", file=file,
                         column=key) from exc
    bad = (lo is not None and (x <= lo if open_interval else x < lo)) or (
        hi is not None and (x >= hi if open_interval else x > hi))
    if bad:
        rng = f"({lo}, {hi})" if open_interval else f"[{lo}, {hi}]"
        raise InputError(f"{where}: expected a number in {rng}, got {value!r}", file=file,
                         column=key)
    return x


def _parse_site(t: dict[str, Any], file: str, i: int) -> Site:
    where = f"sites[{i}]"
    return Site(
        name=str(_require(t, "name", file, where)),
        country=str(_require(t, "country", file, where)).upper(),
        tz=_check_tz(str(_require(t, "tz", file, where)), file, where),
        seats=int(_number(_require(t, "seats", file, where), file, where, "seats", lo=0)),
        cost_per_hour=_number(_require(t, "cost_per_hour", file, where), file, where,
                              "cost_per_hour", lo=0),
        rules=str(t.get("rules", t.get("country", ""))),
    )


def _parse_queue(t: dict[str, Any], file: str, i: int) -> Queue:
    where = f"queues[{i}]"
    channel_raw = str(_require(t, "channel", file, where)).lower()
    try:
        channel = Channel(channel_raw)
    except ValueError as exc:
        raise InputError(f"{where}: channel must be voice, chat or email, got {channel_raw!r}",
                         file=file, column="channel") from exc
    opt = {k: (_number(t[k], file, where, k, lo=0) if k in t else None)
           for k in ("max_asa_s", "max_abandon", "max_occupancy", "patience_s")}
    goal = ServiceGoal(
        sl_target=_number(t.get("sl_target", 0.8), file, where, "sl_target", lo=0, hi=1,
                          open_interval=True),
        answer_within_s=_number(t.get("answer_within_s", 20), file, where, "answer_within_s",
                                lo=0),
        max_asa_s=opt["max_asa_s"],
        max_abandon=opt["max_abandon"],
        max_occupancy=opt["max_occupancy"],
    )
    return Queue(
        id=str(_require(t, "id", file, where)),
        client=str(_require(t, "client", file, where)),
        channel=channel,
        language=str(_require(t, "language", file, where)),
        market=str(_require(t, "market", file, where)).upper(),
        goal=goal,
        patience_s=opt["patience_s"],
        concurrency=int(_number(t.get("concurrency", 1), file, where, "concurrency", lo=1)),
        tz=_check_tz(str(t.get("tz", "UTC")), file, where),
        priority=int(t.get("priority", 0)),
    )


def _parse_agent(t: dict[str, Any], file: str, row: int, sites: set[str],
                 queues: set[str]) -> Agent:
    def req(key: str) -> str:
        v = t.get(key)
        if v is None or str(v).strip() == "":
            raise InputError(f"missing value for '{key}'", file=file, row=row, column=key)
        return str(v).strip()

    site = req("site")
    if site not in sites:
        raise InputError(f"unknown site {site!r}; expected one of {sorted(sites)}", file=file,
                         row=row, column="site")
    skills_raw = t.get("skills", "")
    skills = tuple(s.strip() for s in (skills_raw if isinstance(skills_raw, list)
                                       else str(skills_raw).split(";")) if s.strip())
    if not skills:
        raise InputError("an agent needs at least one skill (queue id)", file=file, row=row,
                         column="skills")
    for s in skills:
        if s not in queues:
            raise InputError(f"unknown queue {s!r} in skills", file=file, row=row,
                             column="skills")

    def num(key: str, default: float, lo: float, hi: float) -> float:
        v = t.get(key)
        if v is None or str(v).strip() == "":
            return default
        try:
            x = float(v)
        except ValueError as exc:
            raise InputError(f"expected a number, got {v!r}", file=file, row=row,
                             column=key) from exc
        if not lo <= x <= hi:
            raise InputError(f"expected a number in [{lo}, {hi}], got {v!r}", file=file,
                             row=row, column=key)
        return x

    night = str(t.get("night_ok", "true")).strip().lower() not in {"0", "false", "no", "n"}
    return Agent(
        id=req("id"),
        name=str(t.get("name") or req("id")),
        site=site,
        skills=skills,
        contract_hours=num("contract_hours", 40.0, 0, 80),
        min_shift_h=num("min_shift_h", 4.0, 1, 16),
        max_shift_h=num("max_shift_h", 9.0, 1, 16),
        night_ok=night,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario TOML file (and the CSVs it names), validating every field."""
    path = Path(path)
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("file not found", file=file) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=file) from exc
    return scenario_from_dict(raw, base=path.parent, file=file)


def scenario_from_dict(raw: dict[str, Any], *, base: Path, file: str = "<scenario>") -> Scenario:
    """Build a scenario from parsed TOML (paths relative to `base`)."""
    sites = tuple(_parse_site(t, file, i) for i, t in enumerate(raw.get("sites", [])))
    if not sites:
        raise InputError("a scenario needs at least one [[sites]] table", file=file)
    queues = tuple(_parse_queue(t, file, i) for i, t in enumerate(raw.get("queues", [])))
    if not queues:
        raise InputError("a scenario needs at least one [[queues]] table", file=file)
    names = (("site name", [s.name for s in sites]), ("queue id", [q.id for q in queues]))
    for kind, items in names:
        dup = {x for x in items if items.count(x) > 1}
        if dup:
            raise InputError(f"duplicated {kind}: {sorted(dup)}", file=file)
    site_names = {s.name for s in sites}
    queue_ids = {q.id for q in queues}
    agents_raw = raw.get("agents", [])
    agents: list[Agent] = []
    if isinstance(agents_raw, str):
        agents_file = base / agents_raw
        for row, rec in csv_records(agents_file, what="agents"):
            agents.append(_parse_agent(rec, str(agents_file), row, site_names, queue_ids))
    else:
        for row, rec in enumerate(agents_raw, start=1):
            agents.append(_parse_agent(rec, file, row, site_names, queue_ids))
    ids = [a.id for a in agents]
    dup_agents = {x for x in ids if ids.count(x) > 1}
    if dup_agents:
        raise InputError(f"duplicated agent id: {sorted(dup_agents)[:5]}", file=file)
    interval_s = int(_number(raw.get("interval_s", 900), file, "scenario", "interval_s", lo=60))
    if 86400 % interval_s:
        raise InputError(f"interval_s must divide a day, got {interval_s}", file=file,
                         column="interval_s")
    try:
        plan_start = date.fromisoformat(str(_require(raw, "plan_start", file, "scenario")))
    except ValueError as exc:
        raise InputError(f"plan_start must be an ISO date, got {raw.get('plan_start')!r}",
                         file=file, column="plan_start") from exc
    history = raw.get("history")
    return Scenario(
        name=str(raw.get("name", "scenario")),
        interval_s=interval_s,
        sites=sites,
        queues=queues,
        agents=tuple(agents),
        plan_start=plan_start,
        plan_days=int(_number(raw.get("plan_days", 7), file, "scenario", "plan_days", lo=1)),
        plan_tz=_check_tz(str(raw.get("plan_tz", "UTC")), file, "scenario"),
        shrinkage=_number(raw.get("shrinkage", 0.3), file, "scenario", "shrinkage", lo=0, hi=0.95),
        history_path=(base / history) if history else None,
        source=Path(file) if file != "<scenario>" else None,
        extra={k: v for k, v in raw.items() if k not in {
            "name", "interval_s", "sites", "queues", "agents", "plan_start", "plan_days",
            "plan_tz", "shrinkage", "history"}},
    )
