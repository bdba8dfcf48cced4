"""Request and response models of the API (pydantic), separate from the table models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model, field_validator
from pydantic.fields import FieldInfo

from openwfm.activities import Activity
from openwfm.schema import AgentSpec, QueueSpec, SiteSpec
from openwfm.server.models import PLAN_KINDS, JobKind, JobState, Role

#: An integer id in a request body (bounded to what every database stores).
DbId = Annotated[int, Field(ge=1, le=2_147_483_647)]


def from_spec(name: str, spec: type[BaseModel], fields: dict[str, tuple[str, int | None]],
              *, partial: bool, doc: str, **extra: Any) -> type[BaseModel]:
    """An API body whose fields are those of the scenario table `spec` (openwfm.schema):
    the same type, bounds, validators and description, so that each bound is defined once.

    `fields` maps the API field name to (the spec's field name, the database column's
    length limit or None). `partial`: every field optional (an update: omitted fields stay
    as they are); else the spec's defaults. `extra`: further fields, ``(type, default)``."""
    defs: dict[str, Any] = {}
    for api_name, (spec_name, max_length) in fields.items():
        f = spec.model_fields[spec_name]
        metadata = [*f.metadata] + ([Field(max_length=max_length)] if max_length else [])
        annotation: Any = Annotated[(f.annotation, *metadata)] if metadata else f.annotation
        info = {"description": f.description, "examples": f.examples}
        if partial:
            defs[api_name] = (annotation | None, FieldInfo(default=None, **info))
        elif f.is_required():
            defs[api_name] = (annotation, FieldInfo(**info))
        else:
            defs[api_name] = (annotation, FieldInfo(default=f.default, **info))
    model = create_model(name, __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
                         __doc__=doc, **defs, **extra)
    return model


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Message(BaseModel):
    """An error: what went wrong, in one line."""

    detail: str


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    revision: str | None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_at: datetime


class Me(Out):
    id: int
    username: str
    role: Role
    agent_id: str | None
    team_id: int | None
    client_id: int | None
    client_ids: list[int]


class ClientOut(Out):
    id: int
    name: str


class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class SiteOut(Out):
    id: int
    name: str
    country: str
    tz: str
    seats: int
    cost_per_hour: float
    labour_pack: str


class QueueOut(Out):
    id: str
    client_id: int
    channel: str
    language: str
    market: str
    tz: str
    sl_target: float
    answer_within_s: float
    max_asa_s: float | None
    max_abandon: float | None
    max_occupancy: float | None
    patience_s: float | None
    concurrency: int
    priority: int


class TeamOut(Out):
    id: int
    name: str
    site_id: int
    leader_user_id: int | None


class AgentSkillOut(Out):
    skill_id: str
    proficiency: float


class AgentOut(Out):
    id: str
    name: str
    site_id: int
    team_id: int | None
    tz: str
    contract_hours: float
    labour_pack: str
    min_shift_h: float
    max_shift_h: float
    night_ok: bool
    hire_date: date | None
    skills: list[AgentSkillOut]


class AgentSkillIn(BaseModel):
    skill_id: str = Field(min_length=1, max_length=100)
    proficiency: float = Field(1.0, gt=0, le=1)


AGENT_FIELDS = {"name": ("name", 200), "contract_hours": ("contract_hours", None),
                "min_shift_h": ("min_shift_h", None), "max_shift_h": ("max_shift_h", None),
                "night_ok": ("night_ok", None), "hire_date": ("hire_date", None)}
AgentUpdate = from_spec(
    "AgentUpdate", AgentSpec, AGENT_FIELDS, partial=True,
    doc="Fields a planner may change; omitted fields stay as they are. Bounds: those of "
        "the scenario's agents (openwfm.schema.AgentSpec).",
    team_id=(DbId | None, None), site_id=(DbId | None, None),
    skills=(list[AgentSkillIn] | None, Field(None, max_length=200)))
AgentIn = from_spec(
    "AgentIn", AgentSpec, {"id": ("id", 100), **AGENT_FIELDS}, partial=False,
    doc="A new agent. Bounds: those of the scenario's agents (openwfm.schema.AgentSpec); "
        "zone and labour pack: the site's unless given.",
    site_id=(DbId, ...), team_id=(DbId | None, None),
    tz=(str | None, Field(None, max_length=64)),
    skills=(list[AgentSkillIn], Field(min_length=1, max_length=200)))

SITE_FIELDS = {"name": ("name", 200), "country": ("country", 2), "tz": ("tz", 64),
               "seats": ("seats", None), "cost_per_hour": ("cost_per_hour", None),
               "labour_pack": ("rules", 32)}
SiteIn = from_spec("SiteIn", SiteSpec, SITE_FIELDS, partial=False,
                   doc="A new site (bounds: openwfm.schema.SiteSpec).")
SiteUpdate = from_spec("SiteUpdate", SiteSpec, SITE_FIELDS, partial=True,
                       doc="Fields of a site to change; omitted fields stay as they are.")

QUEUE_FIELDS = {f: (f, n) for f, n in (
    ("channel", None), ("language", 16), ("market", 8), ("tz", 64), ("sl_target", None),
    ("answer_within_s", None), ("max_asa_s", None), ("max_abandon", None),
    ("max_occupancy", None), ("patience_s", None), ("concurrency", None),
    ("priority", None))}
QueueIn = from_spec("QueueIn", QueueSpec, {"id": ("id", 100), **QUEUE_FIELDS}, partial=False,
                    doc="A new queue of a client company (bounds: openwfm.schema.QueueSpec); "
                        "its skill (same id) is made with it.",
                    client_id=(DbId, ...))
QueueUpdate = from_spec("QueueUpdate", QueueSpec, QUEUE_FIELDS, partial=True,
                        doc="Fields of a queue to change; omitted fields stay as they are.")


class TeamIn(BaseModel):
    """A new team of a site."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    site_id: DbId


class TeamUpdate(BaseModel):
    """Fields of a team to change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=200)
    site_id: DbId | None = None


class UserOut(Out):
    id: int
    username: str
    role: Role
    agent_id: str | None
    team_id: int | None
    client_id: int | None
    active: bool


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    agent_id: str | None = Field(None, max_length=100)
    team_id: DbId | None = None
    client_id: DbId | None = None
    client_ids: list[DbId] = Field(default_factory=list, max_length=1000)


class UserUpdate(BaseModel):
    """What an admin changes on a user: disable or enable (a disabled user's tokens stop
    working at once), a new password, a planner's or evaluator's client companies, or the
    role with its tenancy field (agent: ``agent_id``, team leader: ``team_id``, client
    viewer and ACD integration: ``client_id``, planner and evaluator: ``client_ids``); a
    new role takes effect at the user's next request, and the fields of the old role that
    the new one does not have are cleared."""

    model_config = ConfigDict(extra="forbid")
    active: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=200)
    role: Role | None = None
    agent_id: str | None = Field(None, max_length=100)
    team_id: DbId | None = None
    client_id: DbId | None = None
    client_ids: list[DbId] | None = Field(None, max_length=1000)


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: str = Field(min_length=1, max_length=100)
    activity: Activity
    """One of `openwfm.activities.Activity` (work, break, meal, meeting, training, ...)."""
    start: AwareDatetime
    end: AwareDatetime
    queue_id: str | None = None


class SegmentOut(Out):
    agent_id: str
    activity: str
    start: datetime
    end: datetime
    queue_id: str | None


class ScheduleIn(BaseModel):
    """A new draft schedule from segments (e.g. the ``segments.csv`` of `openwfm schedule`)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    period_start: AwareDatetime
    period_end: AwareDatetime
    segments: list[SegmentIn] = Field(default_factory=list, max_length=200_000)


class AgentDraftIn(BaseModel):
    """All segments of one agent in the draft (they replace the agent's current ones)."""

    model_config = ConfigDict(extra="forbid")
    segments: list[SegmentIn] = Field(max_length=2000)


class VersionOut(Out):
    id: int
    number: int
    draft_rev: int
    segments: int
    published_by: int | None
    published_at: datetime


class ScheduleOut(Out):
    id: int
    name: str
    period_start: datetime
    period_end: datetime
    draft_rev: int
    published_version_id: int | None
    updated_at: datetime
    versions: list[VersionOut] = Field(default_factory=list)


class AgentScheduleOut(BaseModel):
    agent_id: str
    tz: str
    schedule_id: int | None
    version: int | None
    start: datetime
    end: datetime
    segments: list[SegmentOut]


class ImportOut(Out):
    id: int
    filename: str
    rows: int
    interval_s: int
    queues: list[str]
    first_interval: datetime
    last_interval: datetime


class HistoryRowOut(Out):
    queue_id: str
    interval_start: datetime
    interval_s: int
    volume: float
    handled: float | None
    abandoned: float | None
    aht_s: float | None
    asa_s: float | None
    answered_within: float | None


class ForecastOut(Out):
    id: int
    name: str
    version: int
    job_id: str | None
    created_at: datetime


class ForecastRowOut(Out):
    queue_id: str
    interval_start: datetime
    volume: float
    aht_s: float | None
    volume_lo_80: float | None
    volume_hi_80: float | None
    volume_lo_95: float | None
    volume_hi_95: float | None
    overridden: bool = False


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queue_id: str = Field(min_length=1, max_length=100)
    interval_start: AwareDatetime
    field: Literal["volume", "aht_s"]
    value: float = Field(ge=0, le=1e9)
    reason: str = Field(min_length=3, max_length=2000)


class OverrideOut(Out):
    id: int
    forecast_id: int
    queue_id: str
    interval_start: datetime
    field: str
    value: float
    previous: float | None
    reason: str
    user_id: int
    username: str = Field(description="Who made the change")
    created_at: datetime


class JobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: JobKind = Field(description=(
        "forecast, staffing, schedule, simulation, capacity or plan (a re-optimization "
        "starts with POST /api/intraday/queues/{id}/reoptimize)"))
    publish: bool = Field(False, description="Publish the schedule the job makes.")
    name: str | None = Field(None, max_length=200)

    @field_validator("kind")
    @classmethod
    def _plan_kind(cls, v: JobKind) -> JobKind:
        if v not in PLAN_KINDS:
            raise ValueError(f"a {v.value} job starts with POST /api/intraday/queues/"
                             "{queue_id}/reoptimize, not POST /api/jobs")
        return v


class JobOut(Out):
    id: str
    kind: JobKind
    state: JobState
    stage: str
    progress: float
    params: dict[str, Any]
    result: Any | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class AuditOut(Out):
    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    object_type: str
    object_id: str
    before: Any | None
    after: Any | None


class PlanSetupOut(Out):
    """A plan set-up: what a scenario file holds besides the center."""

    id: int
    name: str
    interval_s: int
    plan_start: date
    plan_days: int
    plan_tz: str
    shrinkage: float
    extra: dict[str, Any]
    created_at: datetime


class RequirementOut(Out):
    id: int
    name: str
    forecast_id: int | None
    job_id: str | None
    created_at: datetime


class RequirementRowOut(Out):
    queue_id: str
    interval_start: datetime
    agents: float
    scheduled: float | None
    service_level: float | None


class CapacityPlanOut(Out):
    id: int
    name: str
    job_id: str | None
    created_at: datetime


class CapacityPlanDetail(CapacityPlanOut):
    summary: list[list[str]]
    tables: dict[str, list[dict[str, Any]]]
