"""The scenario file's schema: every key of a scenario TOML, defined once.

Each table of the file is a pydantic model here: its keys, types, units, bounds, defaults
and an example. `load_scenario` (`openwfm.scenario`), ``parse_config``
(`openwfm.scheduling.model`), `parse_capacity` (`openwfm.capacity.config`) and
`parse_history_model` (`openwfm.demo.history`) validate their sections with these models and
convert them to the domain's frozen dataclasses; ``docs/scenario.md`` and
``openwfm scenario schema`` (a JSON Schema for editors) are generated from them.

Unknown keys are errors that name the nearest valid key; every error becomes an
`openwfm.errors.InputError` naming the file and the key path (``queues[2].sl_target``):

>>> try:
...     validate(QueueSpec, {"id": "q", "client": "c", "channel": "voice", "language": "fr",
...                          "market": "FR", "sl_targt": 0.8}, file="s.toml", prefix="queues[2]")
... except Exception as e:
...     print(e)
s.toml, key 'queues[2].sl_targt': unknown key; did you mean 'sl_target'?

This module imports no domain package (they import it), so the enums a key takes are plain
``Literal`` values where the enum lives in a package (`Channel` is defined here).
"""

from __future__ import annotations

import difflib
from datetime import date, time
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from openwfm.errors import InputError

__all__ = [
    "DEFAULT_COST_PER_MISSED_CONTACT",
    "AgentSpec",
    "BreakSpec",
    "CapacitySiteSpec",
    "CapacitySpec",
    "Channel",
    "DemoQueueSpec",
    "DemoSpec",
    "DriverSpec",
    "HiringSpec",
    "LaunchSpec",
    "OverflowSpec",
    "ProfileSpec",
    "QueueSpec",
    "RosterSpec",
    "RoutingSpec",
    "RulePackSpec",
    "RulePacks",
    "ScenarioFile",
    "SchedulingSpec",
    "ShiftSpec",
    "SimulationSpec",
    "SiteSpec",
    "SkillSpec",
    "TransferSpec",
    "VariantSpec",
    "nearest",
    "validate",
]

DEFAULT_COST_PER_MISSED_CONTACT = 10.0
"""Default ``[scheduling] cost_per_missed_contact`` (currency per contact)."""


class Channel(StrEnum):
    """How contacts arrive; decides which staffing model applies."""

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


def nearest(word: str, choices: Any) -> str | None:
    """The valid choice closest to a misspelt `word` (difflib), or None.

    Examples
    --------
    >>> nearest("patiance_s", ["patience_s", "priority", "tz"])
    'patience_s'
    >>> nearest("zzz", ["patience_s"]) is None
    True
    """
    found = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return found[0] if found else None


# ------------------------------------------------------------------------ field types
@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_zone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        hint = nearest(tz, _zones())
        raise PydanticCustomError(
            "iana_zone", "{tz} is not an IANA time zone ({hint})",
            {"tz": repr(tz), "hint": f"did you mean {hint!r}?" if hint else
             "e.g. 'Africa/Casablanca'"}) from None
    return tz


IanaZone = Annotated[str, AfterValidator(_check_zone),
                     Field(json_schema_extra={"unit": "IANA zone"})]
"""An IANA time zone name (``Europe/Paris``), checked against the zone database."""


def _upper(v: Any) -> Any:
    return v.strip().upper() if isinstance(v, str) else v


def _lower(v: Any) -> Any:
    return v.strip().lower() if isinstance(v, str) else v


Upper = Annotated[str, BeforeValidator(_upper), Field(min_length=1)]
Name = Annotated[str, Field(min_length=1)]


def _semicolon_list(v: Any) -> Any:
    """A CSV cell ``a;b`` is the list ``["a", "b"]``."""
    if isinstance(v, str):
        return [s.strip() for s in v.split(";") if s.strip()]
    return v


def _weights_ok(w: list[float]) -> list[float]:
    if sum(w) <= 0:
        raise PydanticCustomError("weights", "weights must have a positive sum", {})
    return w


def _weights(n: int) -> Any:
    def length(v: Any) -> Any:
        if isinstance(v, list | tuple) and len(v) != n:
            raise PydanticCustomError("weights", "expected a list of {n} numbers, got {k}",
                                      {"n": n, "k": len(v)})
        return v

    return Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=n, max_length=n),
                     BeforeValidator(length), AfterValidator(_weights_ok)]


Hourly = _weights(24)
Weekly = _weights(7)


def _drop_blank(data: Any) -> Any:
    """A CSV's empty cell is an absent key (the default applies)."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items()
                if v is not None and not (isinstance(v, str) and not v.strip())}
    return data


class Spec(BaseModel):
    """Base of every table: frozen, unknown keys are errors naming the nearest valid key."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = [f.alias or n for n, f in cls.model_fields.items()]
            for k in data:
                if k not in known and k not in cls.model_fields:
                    hint = nearest(k, known)
                    raise PydanticCustomError(
                        "unknown_key", "unknown {what}{hint}",
                        {"at": k, "what": "key",
                         "hint": f"; did you mean {hint!r}?" if hint else
                         f"; expected one of {sorted(known)}"})
        return data


# ------------------------------------------------------------------------ the domain
class SiteSpec(Spec):
    """A ``[[sites]]`` table: a physical site."""

    name: Name = Field(description="Site name (unique), used by agents and capacity.",
                       examples=["Casablanca"])
    country: Upper = Field(description="ISO 3166 country code (upper-cased).",
                           examples=["MA"])
    tz: IanaZone = Field(description="The site's IANA time zone: shifts are generated on "
                         "its local clock and a week is its local week.",
                         examples=["Africa/Casablanca"])
    seats: int = Field(ge=0, description="Workstations: agents on duty at once never "
                       "exceed it.", examples=[180], json_schema_extra={"unit": "seats"})
    cost_per_hour: float = Field(ge=0, description="Fully loaded cost of one paid agent-hour "
                                 "(currency of `currency`).", examples=[9.5],
                                 json_schema_extra={"unit": "currency/h"})
    rules: str | None = Field(None, description="Labour pack (built in: see "
                              "`scheduling.rule_packs`); default: the country's pack.",
                              examples=["MA"])


class QueueSpec(Spec):
    """A ``[[queues]]`` table (also ``[[capacity.new_queues]]``): client x channel x
    language, with its service goal."""

    id: Name = Field(description="Queue id (unique), as in history files and agents' "
                     "skills.", examples=["telco-fr-voice"])
    client: Name = Field(description="The client company.", examples=["Telco FR"])
    channel: Annotated[Channel, BeforeValidator(_lower)] = Field(
        description="voice, chat or email: decides the staffing model.", examples=["voice"])
    language: Name = Field(description="Language code (ISO 639-1).", examples=["fr"])
    market: Upper = Field(description="Country of the customers (public holidays).",
                          examples=["FR"])
    tz: IanaZone = Field("UTC", description="Time zone of the customers: drives the daily "
                         "shape and holidays.", examples=["Europe/Paris"])
    sl_target: float = Field(0.8, gt=0, lt=1, description="Service level goal: share of "
                             "contacts answered within `answer_within_s`.", examples=[0.8],
                             json_schema_extra={"unit": "share"})
    answer_within_s: float = Field(20.0, ge=0, description="The service level's answer "
                                   "time (email: the reply deadline).", examples=[20],
                                   json_schema_extra={"unit": "s"})
    max_asa_s: float | None = Field(None, ge=0, description="Optional cap on the mean wait "
                                    "of answered contacts.", examples=[30],
                                    json_schema_extra={"unit": "s"})
    max_abandon: float | None = Field(None, ge=0, le=1, description="Optional cap on the "
                                      "abandonment probability.", examples=[0.05],
                                      json_schema_extra={"unit": "share"})
    max_occupancy: float | None = Field(None, gt=0, le=1, description="Optional cap on "
                                        "agent occupancy.", examples=[0.9],
                                        json_schema_extra={"unit": "share"})
    patience_s: float | None = Field(None, gt=0, description="Mean customer patience: "
                                     "given, voice/chat use Erlang A; absent, Erlang C.",
                                     examples=[180], json_schema_extra={"unit": "s"})
    concurrency: int = Field(1, ge=1, description="Chats one agent handles at once (chat "
                             "only).", examples=[2], json_schema_extra={"unit": "contacts"})
    priority: int = Field(0, description="Routing priority (higher first) in the "
                          "simulation.", examples=[2])


class AgentSpec(Spec):
    """An agent: a ``[[agents]]`` table or one row of the agents CSV (``agents = "x.csv"``,
    columns as these keys, ``skills`` separated by ``;``)."""

    id: Name = Field(description="Agent id (unique).", examples=["CAS-001"])
    name: str | None = Field(None, description="Display name; default: the id.",
                             examples=["Amal Idrissi"])
    site: Name = Field(description="Name of the agent's site.", examples=["Casablanca"])
    skills: Annotated[list[Name], BeforeValidator(_semicolon_list,
                                                  json_schema_input_type=list[str] | str)] = Field(
        min_length=1, description="Queue ids the agent may take (CSV: `;`-separated).",
        examples=[["telco-fr-voice", "telco-fr-email"]])
    contract_hours: float = Field(40.0, ge=0, le=80, description="Paid hours per week.",
                                  examples=[44], json_schema_extra={"unit": "h/week"})
    min_shift_h: float = Field(4.0, ge=1, le=16, description="Shortest shift.",
                               examples=[4], json_schema_extra={"unit": "h"})
    max_shift_h: float = Field(9.0, ge=1, le=16, description="Longest shift.",
                               examples=[9], json_schema_extra={"unit": "h"})
    night_ok: bool = Field(True, description="May work in the site's night window.",
                           examples=[False])
    group: str | None = Field(None, description="Agent group the [routing] table refers to "
                              "(overflow lists, per-group agent selection); default: the "
                              "agent's site.", examples=["senior"])
    hire_date: date | None = Field(None, description="First day at the company "
                                   "(YYYY-MM-DD): shift bids awarded by seniority go to the "
                                   "earliest first; empty = unknown (ranks after every known "
                                   "date).", examples=["2019-04-01"])

    _blank_is_missing = model_validator(mode="before")(_drop_blank)

    @model_validator(mode="after")
    def _shift_range(self) -> AgentSpec:
        if self.min_shift_h > self.max_shift_h:
            raise PydanticCustomError("shift_range", "min_shift_h {lo} > max_shift_h {hi}",
                                      {"lo": self.min_shift_h, "hi": self.max_shift_h,
                                       "at": "min_shift_h"})
        return self


# ------------------------------------------------------------------------ scheduling
class ShiftSpec(Spec):
    """A ``[[scheduling.shifts]]`` template: starts every `start_step_min` local minutes in
    [earliest, latest], each of the `lengths_h`, on `days`."""

    name: str | None = Field(None, description="Template name; default `shift<i>`.",
                             examples=["day"])
    start_step_min: int = Field(30, gt=0, description="Minutes between allowed starts.",
                                examples=[60], json_schema_extra={"unit": "min"})
    earliest: time = Field(time(0, 0), description="Earliest local start (HH:MM).",
                           examples=["06:00"])
    latest: time = Field(time(23, 30), description="Latest local start (HH:MM).",
                         examples=["22:00"])
    lengths_h: list[Annotated[float, Field(ge=1, le=16)]] = Field(
        [8.5, 9.0], min_length=1, description="Shift lengths, breaks included.",
        examples=[[8.5, 9.0]], json_schema_extra={"unit": "h"})
    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        [0, 1, 2, 3, 4, 5, 6], min_length=1, description="Local weekdays (Monday = 0).",
        examples=[[0, 1, 2, 3, 4]])


class BreakSpec(Spec):
    """A ``[[scheduling.breaks]]`` rule: every shift of at least `min_shift_h` takes this
    break wholly inside its window."""

    name: str | None = Field(None, description="Break name; default `break<i>`.",
                             examples=["meal"])
    activity: Literal["break", "meal"] = Field("break", description="break or meal.",
                                               examples=["meal"])
    minutes: int = Field(15, gt=0, le=240, description="Length.", examples=[30],
                         json_schema_extra={"unit": "min"})
    window_h: tuple[Annotated[float, Field(ge=0, le=16)],
                    Annotated[float, Field(ge=0, le=16)]] = Field(
        (1.0, 3.0), description="[a, b] hours after the shift start (anchor start) or "
        "before its end (anchor end, then a >= b).", examples=[[3.5, 5.5]],
        json_schema_extra={"unit": "h"})
    anchor: Literal["start", "end"] = Field("start", description="What the window counts "
                                            "from.", examples=["end"])
    paid: bool | None = Field(None, description="Paid time; default: breaks paid, meals "
                              "unpaid.", examples=[False])
    min_shift_h: float = Field(6.0, ge=0, description="Shifts shorter than this skip it.",
                               examples=[7.0], json_schema_extra={"unit": "h"})

    @model_validator(mode="after")
    def _window_order(self) -> BreakSpec:
        a, b = self.window_h
        if (self.anchor == "start" and a >= b) or (self.anchor == "end" and a <= b):
            rel = "<" if self.anchor == "start" else ">"
            raise PydanticCustomError(
                "break_window", f"break window [{a:g}, {b:g}] is reversed: with anchor "
                f"{self.anchor!r} it needs a {rel} b", {"at": "window_h"})
        if abs(b - a) * 60 < self.minutes:
            raise PydanticCustomError(
                "break_window", f"break window [{a:g}, {b:g}] ({abs(b - a) * 60:g} min) is "
                f"shorter than the break ({self.minutes} min)", {"at": "window_h"})
        return self


class RulePackSpec(Spec):
    """One version of a labour pack in ``[scheduling.rule_packs]``: ``NAME = [{...}, ...]``
    (or one table). A key left out keeps the built-in pack's value (or the default pack's
    for a new name)."""

    effective_from: date | None = Field(None, description="First day this version "
                                        "applies.", examples=["2026-07-15"])
    max_weekly_h: float | None = Field(None, gt=0, le=168, description="Legal maximum paid "
                                       "hours per local week.", examples=[42],
                                       json_schema_extra={"unit": "h"})
    max_daily_h: float | None = Field(None, gt=0, le=24, description="Maximum paid hours "
                                      "per shift.", examples=[8],
                                      json_schema_extra={"unit": "h"})
    min_rest_h: float | None = Field(None, ge=0, le=48, description="Minimum rest between "
                                     "two shifts.", examples=[11],
                                     json_schema_extra={"unit": "h"})
    min_days_off: int | None = Field(None, ge=0, le=7, description="Local days without a "
                                     "shift start per week.", examples=[2],
                                     json_schema_extra={"unit": "days"})
    min_consecutive_days_off: int | None = Field(
        None, ge=0, le=7, description="At least this many days off in a row (0 or 1: no "
        "rule).", examples=[2], json_schema_extra={"unit": "days"})
    max_consecutive_days: int | None = Field(None, ge=1, le=14, description="Most local "
                                             "days worked in a row.", examples=[6],
                                             json_schema_extra={"unit": "days"})
    night_premium: float | None = Field(None, ge=0, le=5, description="Extra pay fraction "
                                        "for hours in the night window.", examples=[0.1],
                                        json_schema_extra={"unit": "share"})
    night_start_h: float | None = Field(None, ge=0, le=24, description="Night window start "
                                        "(local hour).", examples=[22],
                                        json_schema_extra={"unit": "h"})
    night_end_h: float | None = Field(None, ge=0, le=24, description="Night window end "
                                      "(local hour).", examples=[6],
                                      json_schema_extra={"unit": "h"})
    weekend_days: list[Annotated[int, Field(ge=0, le=6)]] | None = Field(
        None, max_length=7, description="Local weekdays of the weekend (Monday = 0): "
        "weekend shifts are spread fairly. [5, 6] = Saturday-Sunday, [4, 5] = "
        "Friday-Saturday (Israel, Saudi Arabia).", examples=[[4, 5]])


def _pack_versions(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: [x] if isinstance(x, dict) else x for k, x in v.items()}
    return v


RulePacks = Annotated[dict[str, list[RulePackSpec]],
                      BeforeValidator(_pack_versions, json_schema_input_type=dict[
                          str, list[RulePackSpec] | RulePackSpec])]
"""``[scheduling.rule_packs]``: pack name -> versions (one table = one version)."""


class SchedulingSpec(Spec):
    """The ``[scheduling]`` section (every key optional)."""

    time_limit_s: float = Field(30.0, gt=0, description="Work budget of the whole solve, "
                                "deterministic: CP-SAT deterministic seconds (about seconds "
                                "on an idle core); the same plan under any machine load.",
                                examples=[20], json_schema_extra={"unit": "s"})
    wall_clock_cap_s: float | None = Field(None, gt=0, description="Optional wall-clock cap "
                                           "of the whole solve (default none); when it "
                                           "stops a solve, the plan can depend on the load.",
                                           examples=[600], json_schema_extra={"unit": "s"})
    start_spread_max_h: float = Field(2.0, ge=0, le=24, description="Rule start_time_spread: "
                                      "an agent's start times (local time of day) within the "
                                      "week differ by at most this without cost.",
                                      examples=[2.0], json_schema_extra={"unit": "h"})
    start_spread_hard: bool = Field(False, description="start_spread_max_h as a hard rule "
                                    "(else soft, priced by start_spread_weight).",
                                    examples=[False])
    start_spread_weight: float = Field(1.0, ge=0, allow_inf_nan=False, description="Soft "
                                       "start_time_spread: paid hours at the agent's site "
                                       "cost per hour of spread beyond the maximum.",
                                       examples=[1.0])
    over_staffing_ratio: float = Field(1.2, gt=0, allow_inf_nan=False, description="Summary "
                                       "flag: a queue whose scheduled / required productive "
                                       "hours exceed this is over-staffed.", examples=[1.2])
    seed: int = Field(0, ge=0, description="Solver and local-search seed.", examples=[0])
    num_workers: int = Field(1, ge=1, le=64, description="CP-SAT workers.", examples=[1])
    understaffing_penalty: Literal["service_level", "piecewise"] | None = Field(
        None, description="How a missing agent is priced; default: service_level when the "
        "requirement has volume and aht_s, else piecewise.", examples=["service_level"])
    understaffing_cost_per_hour: float = Field(
        60.0, ge=0, description="Cost per missing agent-hour (piecewise penalty's first "
        "piece).", examples=[60], json_schema_extra={"unit": "currency/h"})
    cost_per_missed_contact: float = Field(
        DEFAULT_COST_PER_MISSED_CONTACT, ge=0, allow_inf_nan=False,
        description="Cost per contact missing its goal (service_level penalty).",
        examples=[10], json_schema_extra={"unit": "currency/contact"})
    fairness_weight: float = Field(1.0, ge=0, description="Weight of spreading nights and "
                                   "weekend shifts.", examples=[1.0])
    contract_tolerance_h: float = Field(2.0, ge=0, le=40, description="Weekly paid hours lie "
                                        "in [contract - tol, contract].", examples=[4],
                                        json_schema_extra={"unit": "h"})
    hard_coverage: bool = Field(False, description="Cover every interval's requirement or "
                                "fail.", examples=[False])
    availability: str | None = Field(None, description="CSV agent_id,start,end (local ISO): "
                                     "unavailable (path relative to the scenario).",
                                     examples=["availability.csv"])
    history: str | None = Field(None, description="CSV agent_id,last_shift_end,"
                                "consecutive_days_worked: the previous week's end.",
                                examples=["history.csv"])
    preferences: str | None = Field(None, description="CSV agent_id,kind,value[,weight]: "
                                    "soft wishes.", examples=["preferences.csv"])
    preference_cost: float = Field(1.0, ge=0, description="Cost per broken wish x weight.",
                                   examples=[1.0], json_schema_extra={"unit": "currency"})
    shifts: list[ShiftSpec] = Field([ShiftSpec(name="any")], min_length=1,
                                    description="Shift templates ([[scheduling.shifts]]).")
    breaks: list[BreakSpec] = Field(
        [BreakSpec(name="break1", activity="break", minutes=15, window_h=(1.0, 3.0)),
         BreakSpec(name="meal", activity="meal", minutes=60, window_h=(3.0, 5.5), paid=False),
         BreakSpec(name="break2", activity="break", minutes=15, window_h=(3.0, 1.0),
                   anchor="end")],
        description="Break rules ([[scheduling.breaks]]); [] = no breaks.")
    rule_packs: RulePacks = (
        Field({}, description="Labour packs added or overridden, by name: versions with "
              "effective_from."))

    @model_validator(mode="after")
    def _breaks_fit_the_shifts(self) -> SchedulingSpec:
        """Each break's window, clipped to a shift it applies to, holds the break (else no
        shift of that length can be scheduled: the cover model would be infeasible)."""
        for i, br in enumerate(self.breaks):
            for sh in self.shifts:
                for length_h in sh.lengths_h:
                    if length_h < br.min_shift_h:
                        continue
                    a, b = br.window_h
                    lo, hi = (a, min(b, length_h)) if br.anchor == "start" else \
                        (max(0.0, length_h - a), length_h - b)
                    if (hi - lo) * 60 < br.minutes:
                        raise PydanticCustomError(
                            "break_window", f"break window [{a:g}, {b:g}] (anchor "
                            f"{br.anchor!r}) leaves {max(0.0, hi - lo) * 60:g} min of a "
                            f"{length_h:g} h shift for a {br.minutes} min break",
                            {"at": f"breaks[{i}].window_h"})
        return self


# ------------------------------------------------------------------------ simulation
class SimulationSpec(Spec):
    """The ``[simulation]`` section: how a planning run (`openwfm plan`, `openwfm demo`)
    simulates the plan (``openwfm plan --seed`` overrides the seed)."""

    replications: int = Field(5, ge=1, le=10_000, description="Independent replications "
                              "of the plan week (>= 2 for confidence intervals).",
                              examples=[5], json_schema_extra={"unit": "runs"})
    seed: int = Field(20260330, ge=0, description="Root random seed: same inputs and seed, "
                      "same outputs.", examples=[20260330])


# ------------------------------------------------------------------------ capacity
class HiringSpec(Spec):
    """``[capacity.hiring]``: the hiring pipeline."""

    lead_time_weeks: int = Field(4, ge=0, le=52, description="Decision -> first day of "
                                 "training.", examples=[4], json_schema_extra={"unit": "weeks"})
    training_weeks: int = Field(4, ge=0, le=52, description="Classroom weeks (productivity "
                                "0).", examples=[3], json_schema_extra={"unit": "weeks"})
    nesting_productivity: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        [0.5, 0.75, 0.9], description="Productivity of each nesting week.",
        examples=[[0.5, 0.7, 0.85]], json_schema_extra={"unit": "share"})
    class_min: int = Field(0, ge=0, description="Smallest class.", examples=[6],
                           json_schema_extra={"unit": "agents"})
    class_max: int = Field(30, ge=1, description="Largest class.", examples=[30],
                           json_schema_extra={"unit": "agents"})
    class_every_weeks: int = Field(1, ge=1, le=26, description="A class can start every this "
                                   "many weeks.", examples=[2],
                                   json_schema_extra={"unit": "weeks"})

    @model_validator(mode="after")
    def _class_range(self) -> HiringSpec:
        if self.class_min > self.class_max:
            raise PydanticCustomError("class_range", "class_min {lo} > class_max {hi}",
                                      {"lo": self.class_min, "hi": self.class_max,
                                       "at": "class_min"})
        return self


class CapacitySiteSpec(Spec):
    """A ``[[capacity.sites]]`` table: a scenario site as the capacity plan sees it."""

    name: Name = Field(description="One of the scenario's sites.", examples=["Manila"])
    seats: int | None = Field(None, ge=0, description="Seats; default: the site's.",
                              examples=[150], json_schema_extra={"unit": "seats"})
    hourly_cost: float | None = Field(None, ge=0, description="Cost per paid hour; default: "
                                      "the site's cost_per_hour.", examples=[6.0],
                                      json_schema_extra={"unit": "currency/h"})
    shifts_per_day: float = Field(2.0, ge=0.1, le=24, description="Non-overlapping shifts a "
                                  "seat hosts per day.", examples=[3])
    workdays_per_week: float = Field(5.0, ge=0.5, le=7, description="Shifts a person works "
                                     "per week.", examples=[5.5],
                                     json_schema_extra={"unit": "days"})
    hire_cost: float = Field(0.0, ge=0, description="Cost per hire.", examples=[450],
                             json_schema_extra={"unit": "currency"})
    training_cost: float = Field(0.0, ge=0, description="Cost per trainee.", examples=[1100],
                                 json_schema_extra={"unit": "currency"})
    max_hires_per_week: dict[str, Annotated[float, Field(ge=0)]] = Field(
        {}, description="Per language: the labour market's weekly limit (absent: "
        "unlimited; 0: none).", examples=[{"fr": 30, "en": 10}],
        json_schema_extra={"unit": "hires/week"})
    trainees_use_seats: bool = Field(False, description="Classroom trainees sit on "
                                     "production seats.", examples=[False])


def _site_shares(v: Any) -> Any:
    if isinstance(v, str):
        return {v: 1.0}
    if isinstance(v, list):
        return {s: 1.0 / len(v) for s in v} if v else {}
    return v


def _shares_ok(v: dict[str, float]) -> dict[str, float]:
    if not v:
        raise PydanticCustomError("shares", "must name at least one site, e.g. "
                                  "{ Casablanca = 1.0 }", {})
    total = sum(v.values())
    if abs(total - 1.0) > 1e-6:
        raise PydanticCustomError("shares", "site shares must sum to 1, got {total}",
                                  {"total": round(total, 9)})
    return v


SiteShares = Annotated[
    dict[str, Annotated[float, Field(ge=0)]],
    BeforeValidator(_site_shares, json_schema_input_type=dict[str, float] | list[str] | str),
    AfterValidator(_shares_ok)]


class SkillSpec(Spec):
    """A ``[[capacity.skills]]`` group: queues staffed by the same agents."""

    name: Name = Field(description="Group name (unique).", examples=["telco-fr"])
    queues: list[Name] = Field(min_length=1, description="Queue ids of the group.",
                               examples=[["telco-fr-voice", "telco-fr-email"]])
    sites: SiteShares = Field(description="Share of the group's required FTE per site "
                              "(sums to 1); a name or a list = equal shares.",
                              examples=[{"Manila": 0.92, "Bogota": 0.08}])


class DriverSpec(Spec):
    """A ``[[capacity.queues]]`` table: the long-term volume drivers of one queue."""

    id: Name = Field(description="Queue id (in a skill group).", examples=["ride-en-voice"])
    weekly_volume: float | None = Field(None, ge=0, description="Base weekly contacts; "
                                        "default: mean of the history's last 4 weeks.",
                                        examples=[12000],
                                        json_schema_extra={"unit": "contacts/week"})
    growth_yearly: float = Field(0.0, ge=-0.99, description="Relative growth per year.",
                                 examples=[0.05], json_schema_extra={"unit": "share/year"})
    seasonality: list[Annotated[float, Field(ge=0)]] = Field(
        [1.0] * 12, min_length=12, max_length=12, description="12 monthly factors.",
        examples=[[1.1, 1.0, 1.0, 0.95, 0.95, 0.9, 0.85, 0.9, 1.0, 1.05, 1.1, 1.2]])
    aht_s: float | None = Field(None, ge=1, description="Handle time; default: the "
                                "history's.", examples=[420], json_schema_extra={"unit": "s"})
    open_hours: tuple[Annotated[float, Field(ge=0, le=24)],
                      Annotated[float, Field(ge=0, le=24)]] = Field(
        (8.0, 20.0), description="Local open hours for a queue without history (flat "
        "pattern).", examples=[[8, 20]], json_schema_extra={"unit": "h"})
    pattern_from: str | None = Field(None, description="Take the intraday pattern (and "
                                     "AHT) from this queue's history.",
                                     examples=["ride-en-voice"])


class LaunchSpec(Spec):
    """A ``[[capacity.launches]]`` table (or a row of the launches CSV): a new client
    ramping up linearly."""

    queue: Name = Field(description="Queue id (in a skill group).",
                        examples=["ride-driver-en-voice"])
    start_week: int = Field(ge=0, le=104, description="Week of the launch (0 = first).",
                            examples=[4], json_schema_extra={"unit": "week"})
    weekly_volume: float = Field(ge=0, description="Weekly contacts at the end of the "
                                 "ramp-up.", examples=[45600],
                                 json_schema_extra={"unit": "contacts/week"})
    ramp_weeks: int = Field(0, ge=0, le=104, description="Length of the ramp-up.",
                            examples=[70], json_schema_extra={"unit": "weeks"})
    ramp_from: float = Field(1.0, ge=0, le=1, description="Share of weekly_volume in the "
                             "launch week.", examples=[0.045],
                             json_schema_extra={"unit": "share"})

    _blank_is_missing = model_validator(mode="before")(_drop_blank)


class TransferSpec(Spec):
    """A ``[[capacity.transfers]]`` table: productive FTE moved between sites."""

    week: int = Field(ge=0, le=104, description="From this week on.", examples=[10],
                      json_schema_extra={"unit": "week"})
    skill: Name = Field(description="Skill group.", examples=["telco-fr"])
    from_site: Name = Field(alias="from", description="Site they leave.",
                            examples=["Casablanca"])
    to_site: Name = Field(alias="to", description="Site they join.", examples=["Bogota"])
    fte: float = Field(ge=0, description="FTE moved.", examples=[5],
                       json_schema_extra={"unit": "FTE"})


class VariantSpec(Spec):
    """A ``[[capacity.scenarios]]`` table: a what-if on top of the base plan."""

    name: str | None = Field(None, description="Label; default `scenario <i>`.",
                             examples=["attrition 7%"])
    attrition_monthly: float | None = Field(None, ge=0, le=0.99, description="Overrides "
                                            "attrition.", examples=[0.07],
                                            json_schema_extra={"unit": "share/month"})
    volume_factor: float | None = Field(None, ge=0, description="Multiplies every volume.",
                                        examples=[1.2])
    skill_sites: dict[str, SiteShares] = Field(
        {}, description="Skill group -> site shares.",
        examples=[{"ride-driver": {"Casablanca": 1.0}}])
    seats: dict[str, Annotated[int, Field(ge=0)]] = Field(
        {}, description="Seats per site.", examples=[{"Manila": 200}],
        json_schema_extra={"unit": "seats"})


def _launch_kind(v: Any) -> str:
    return "file" if isinstance(v, str) else "tables"


class CapacitySpec(Spec):
    """The ``[capacity]`` section: a long-term (6-24 months) capacity plan."""

    weeks: int = Field(78, ge=1, le=104, description="Horizon.", examples=[78],
                       json_schema_extra={"unit": "weeks"})
    start: date | None = Field(None, description="First week (moved to its Monday); "
                               "default: plan_start.", examples=["2026-03-30"])
    fte_hours: float = Field(40.0, ge=1, le=80, description="Paid hours of one FTE per week.",
                             examples=[40], json_schema_extra={"unit": "h/week"})
    shrinkage: float | None = Field(None, ge=0, le=0.95, description="Default: the "
                                    "scenario's shrinkage.", examples=[0.3],
                                    json_schema_extra={"unit": "share"})
    scheduling_efficiency: float = Field(1.0, ge=0.1, le=1, description="Share of scheduled "
                                         "productive time that covers need.",
                                         examples=[0.92], json_schema_extra={"unit": "share"})
    attrition_monthly: float = Field(0.05, ge=0, le=0.99, description="Share of headcount "
                                     "leaving per month.", examples=[0.05],
                                     json_schema_extra={"unit": "share/month"})
    under_penalty_per_fte_week: float = Field(3000.0, ge=0, description="Cost of one missing "
                                              "FTE for a week.", examples=[2000],
                                              json_schema_extra={"unit": "currency"})
    over_penalty_per_fte_week: float = Field(100.0, ge=0, description="Cost of one surplus "
                                             "FTE for a week.", examples=[50],
                                             json_schema_extra={"unit": "currency"})
    min_coverage: float = Field(0.0, ge=0, le=1, description="Hard floor: available >= "
                                "min_coverage x required where a class can reach.",
                                examples=[0.9], json_schema_extra={"unit": "share"})
    headcount: str | None = Field(None, description="CSV site,skill,headcount"
                                  "[,contract_hours]; default: from the agents.",
                                  examples=["headcount.csv"])
    hiring: HiringSpec = Field(HiringSpec(), description="[capacity.hiring].")
    sites: list[CapacitySiteSpec] = Field([], description="[[capacity.sites]].")
    skills: list[SkillSpec] = Field(min_length=1, description="[[capacity.skills]] (at "
                                    "least one).")
    queues: list[DriverSpec] = Field([], description="[[capacity.queues]].")
    new_queues: list[QueueSpec] = Field([], description="[[capacity.new_queues]]: clients "
                                        "still to launch, keys as in [[queues]].")
    launches: Annotated[Annotated[str, Tag("file")] | Annotated[list[LaunchSpec],
                                                                Tag("tables")],
                        Discriminator(_launch_kind)] = Field(
        [], description="[[capacity.launches]] tables or a CSV path (same columns).")
    transfers: list[TransferSpec] = Field([], description="[[capacity.transfers]].")
    scenarios: list[VariantSpec] = Field([], description="[[capacity.scenarios]].")


# ------------------------------------------------------------------------ demo
class ProfileSpec(Spec):
    """A ``[demo.profiles.NAME]`` table: shapes shared by demo queues."""

    hourly: Hourly | None = Field(None, description="24 weights of local hours 00..23.")
    weekly: Weekly | None = Field(None, description="7 weights Monday..Sunday.")
    hours: list[str] | None = Field(None, description="Opening windows, local time.",
                                    examples=[["Mon-Fri 08:00-18:00"]])


class DemoQueueSpec(Spec):
    """A ``[[demo.queues]]`` table: how one queue's demo history is generated."""

    id: Name = Field(description="One of the scenario's queues.", examples=["ride-en-voice"])
    profile: str | None = Field(None, description="A [demo.profiles] name to inherit "
                                "hourly, weekly, hours from.", examples=["business"])
    hourly: Hourly | None = Field(None, description="24 weights of local hours 00..23.")
    weekly: Weekly | None = Field(None, description="7 weights Monday..Sunday.")
    hours: list[str] | None = Field(None, description="Opening windows, local time; "
                                    "default all week.", examples=[["Mon-Sat 08:00-21:00"]])
    daily_volume: float = Field(ge=0, description="Mean contacts per day of an ordinary "
                                "week at trend_origin.", examples=[1100],
                                json_schema_extra={"unit": "contacts/day"})
    trend_yearly: float = Field(0.0, ge=-0.9, le=10, description="Relative growth per year.",
                                examples=[0.12], json_schema_extra={"unit": "share/year"})
    holiday: float = Field(1.0, ge=0, le=10, description="Volume factor on public holidays "
                           "(0 = closed).", examples=[0.75])
    aht_s: float = Field(ge=1, description="Mean handle time at 15:00 local.",
                         examples=[330], json_schema_extra={"unit": "s"})
    aht_night: float = Field(0.0, ge=-0.9, le=10, description="Relative AHT increase at "
                             "03:00 local.", examples=[0.22])
    abandon: float = Field(0.0, ge=0, le=0.5, description="Mean abandonment rate.",
                           examples=[0.05], json_schema_extra={"unit": "share"})


class RosterSpec(Spec):
    """A ``[[demo.roster]]`` group (read by ``python -m openwfm.demo.roster``)."""

    site: Name = Field(description="Site name.", examples=["Manila"])
    skills: list[Name] = Field(min_length=1, description="Queue ids.",
                               examples=[["ride-en-voice"]])
    count: int = Field(ge=0, le=10_000, description="Agents in the group.", examples=[62])
    contract_hours: float = Field(ge=1, le=80, description="Paid hours per week.",
                                  examples=[48], json_schema_extra={"unit": "h/week"})
    min_shift_h: float = Field(4.0, ge=1, le=16, description="Shortest shift.",
                               json_schema_extra={"unit": "h"})
    max_shift_h: float = Field(9.0, ge=1, le=16, description="Longest shift.",
                               json_schema_extra={"unit": "h"})
    night_ok: bool = Field(True, description="May work nights.")


class DemoSpec(Spec):
    """The ``[demo]`` section: the demo center's generative history model."""

    seed: int = Field(ge=0, description="Root seed.", examples=[20260330])
    first_day: date = Field(description="First local day of history.",
                            examples=["2025-12-01"])
    last_day: date = Field(description="Last local day of history.", examples=["2026-03-29"])
    trend_origin: date | None = Field(None, description="Date at which daily_volume holds; "
                                      "default last_day.", examples=["2026-03-29"])
    day_cv: float = Field(0.07, ge=0, le=2, description="Coefficient of variation of the "
                          "day effect.")
    dispersion: float = Field(80.0, ge=0.1, description="Shape of the interval-level gamma "
                              "mixing.")
    aht_cv: float = Field(0.9, ge=0, le=5, description="Coefficient of variation of handle "
                          "times.")
    profiles: dict[str, ProfileSpec] = Field({}, description="Named shapes.")
    queues: list[DemoQueueSpec] = Field([], description="One model per scenario queue.")
    roster: list[RosterSpec] = Field([], description="Agent groups of the demo roster.")

    @model_validator(mode="after")
    def _days(self) -> DemoSpec:
        if self.last_day < self.first_day:
            raise PydanticCustomError("days", "last_day is before first_day",
                                      {"at": "last_day"})
        return self


# ------------------------------------------------------------------------ the file
def _agents_kind(v: Any) -> str:
    return "file" if isinstance(v, str) else "tables"


# ------------------------------------------------------------------------ routing
AgentSelectionName = Literal["priority", "oldest", "priority_oldest"]
"""`openwfm.simulation.policy.AgentSelection` values."""
ContactSelectionName = Literal["longest_idle", "least_skilled", "proficiency"]
"""`openwfm.simulation.policy.ContactSelection` values."""


class OverflowSpec(Spec):
    """A ``[[routing.overflow]]`` table: the ordered agent groups of one queue, each taking
    the queue's contacts once they have waited its delay; only these groups take it."""

    queue: Name = Field(description="Queue id.", examples=["telco-fr-voice"])
    groups: list[Name] = Field(min_length=1, description="Agent groups in order (the agents' "
                               "`group`, else their site).", examples=[["Casablanca", "Manila"]])
    after_s: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        [], description="Wait after which each group may take the contact, one per group; "
        "default: 0 for all (pure order).", examples=[[0, 30]], json_schema_extra={"unit": "s"})

    @model_validator(mode="after")
    def _one_delay_per_group(self) -> OverflowSpec:
        if self.after_s and len(self.after_s) != len(self.groups):
            raise PydanticCustomError("after_s", "{g} groups but {d} after_s values",
                                      {"g": len(self.groups), "d": len(self.after_s),
                                       "at": "after_s"})
        if len(set(self.groups)) != len(self.groups):
            raise PydanticCustomError("groups", "a group is listed twice", {"at": "groups"})
        return self


class RoutingSpec(Spec):
    """``[routing]``: how the ACD routes in the simulation (docs/simulation.md)."""

    agent_selection: AgentSelectionName = Field(
        "priority", description="Which waiting contact a freed agent takes: priority (queue "
        "priority, then the agent's skill order), oldest (longest wait across its queues: FIFO "
        "across skills), priority_oldest (priority, ties by wait).", examples=["oldest"])
    contact_selection: ContactSelectionName = Field(
        "longest_idle", description="Which idle agent an arriving contact goes to: "
        "longest_idle, least_skilled (fewest skills first), proficiency (agents whose first "
        "skill it is first).", examples=["least_skilled"])
    group_agent_selection: dict[str, AgentSelectionName] = Field(
        {}, description="Agent selection of single agent groups (group = policy).",
        examples=[{"Manila": "priority"}])
    overflow: list[OverflowSpec] = Field([], description="[[routing.overflow]] lists, one "
                                         "per queue at most.")


class ScenarioFile(Spec):
    """A scenario TOML file: the whole contact center as the planner sees it."""

    name: str = Field("scenario", description="Name of the center.",
                      examples=["Atlas Contact Group"])
    interval_s: int = Field(900, ge=60, le=86400, description="Planning interval; divides a "
                            "day.", examples=[900], json_schema_extra={"unit": "s"})
    plan_start: date = Field(description="First local day of the plan (a Monday for weekly "
                             "rules).", examples=["2026-03-30"])
    plan_days: int = Field(7, ge=1, le=366, description="Days planned.", examples=[7],
                           json_schema_extra={"unit": "days"})
    plan_tz: IanaZone = Field("UTC", description="Zone whose midnight starts the plan.",
                              examples=["UTC"])
    shrinkage: float = Field(0.3, ge=0, le=0.95, description="Paid time not productive "
                             "(breaks, meetings, absence).", examples=[0.3],
                             json_schema_extra={"unit": "share"})
    currency: str | None = Field(None, description="Currency of every cost (ISO 4217).",
                                 examples=["EUR"])
    history: str | None = Field(None, description="Interval history CSV (path relative to "
                                "the scenario).", examples=["history.csv"])
    sites: list[SiteSpec] = Field(min_length=1, description="[[sites]] (at least one).")
    queues: list[QueueSpec] = Field(min_length=1, description="[[queues]] (at least one).")
    agents: Annotated[Annotated[str, Tag("file")] | Annotated[list[AgentSpec], Tag("tables")],
                      Discriminator(_agents_kind)] = Field(
        [], description="Agents CSV path, or [[agents]] tables.", examples=["agents.csv"])
    scheduling: SchedulingSpec | None = Field(None, description="[scheduling].")
    simulation: SimulationSpec | None = Field(None, description="[simulation].")
    capacity: CapacitySpec | None = Field(None, description="[capacity].")
    demo: DemoSpec | None = Field(None, description="[demo] (the demo center's history "
                                  "model).")
    routing: RoutingSpec | None = Field(None, description="[routing] (simulation).")

    @field_validator("interval_s")
    @classmethod
    def _interval(cls, v: int) -> int:
        if 86400 % v:
            raise PydanticCustomError("interval", "interval_s must divide a day (86400 s), "
                                      "got {v}", {"v": v})
        return v


# ------------------------------------------------------------------------ errors
_TAGS = {"file", "tables"}
_EXPECTED = {
    "float_parsing": "expected a number", "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "int_parsing": "expected a whole number", "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_parsing": "expected true or false", "bool_type": "expected true or false",
    "string_type": "expected a text string", "list_type": "expected a list",
    "tuple_type": "expected a list", "dict_type": "expected a table",
    "model_type": "expected a table", "model_attributes_type": "expected a table",
    "date_parsing": "expected an ISO date like 2026-03-30",
    "date_from_datetime_parsing": "expected an ISO date like 2026-03-30",
    "date_type": "expected an ISO date like 2026-03-30",
    "time_parsing": "expected a time HH:MM", "time_type": "expected a time HH:MM",
}


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _TAGS:
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _message(err: dict[str, Any]) -> tuple[str, str | None]:
    """(message, extra key to append to the path) for one pydantic error."""
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "unknown_key":
        return f"unknown {ctx['what']}{ctx['hint']}", ctx["at"]
    if kind == "missing":
        return "missing required key", None
    if kind == "extra_forbidden":
        return "unknown key", None
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {_short(got)}", None
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"expected a number {bounds[kind]} {limit:g}, got {_short(got)}", None
    if kind in ("enum", "literal_error"):
        return f"expected {ctx.get('expected')}, got {_short(got)}", None
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        what = "at least" if kind == "too_short" else "at most"
        return f"expected {what} {n} item(s), got {ctx.get('actual_length')}", None
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg, ctx.get("at")  # a check across keys names the key it blames


def input_error(exc: ValidationError, *, file: str, prefix: str = "",
                row: int | None = None) -> InputError:
    """The first error of a pydantic `ValidationError` as an `InputError` naming `file` and
    the key path (``prefix`` + the error's location); with `row` (a CSV row), the column."""
    errors = exc.errors()
    # a discriminated union reports only its branch; among several errors the first wins
    err = errors[0]
    msg, extra_key = _message(err)
    path = _path(tuple(err["loc"]) + ((extra_key,) if extra_key is not None else ()))
    full = ".".join(p for p in (prefix, path) if p).replace(".[", "[")
    if row is not None:  # a CSV row: the column is the key
        col = full.rsplit(".", 1)[-1].split("[", 1)[0] or None
        msg = msg.replace("unknown key", "unknown column").replace("missing required key",
                                                                   f"missing value for {col!r}")
        return InputError(msg, file=file, row=row, column=col)
    return InputError(msg, file=file, key=full or None)


M = TypeVar("M")


@cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def validate(model: type[M] | Any, raw: Any, *, file: str, prefix: str = "",
             row: int | None = None) -> M:
    """`model` validated from `raw` (parsed TOML or a CSV record); raises `InputError`
    naming `file`, the key path under `prefix` (or the CSV `row` and column).

    Examples
    --------
    >>> validate(SchedulingSpec, {"time_limit_s": 5}, file="s.toml").time_limit_s
    5.0
    >>> validate(SchedulingSpec, {"time_limit_s": "abc"}, file="s.toml", prefix="scheduling")
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: s.toml, key 'scheduling.time_limit_s': expected a number, got 'abc'
    """
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(raw)  # type: ignore[return-value]
        return _adapter(model).validate_python(raw)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise input_error(exc, file=file, prefix=prefix, row=row) from None
