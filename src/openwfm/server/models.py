"""The table models of the system of record (SQLAlchemy 2 declarative).

Request and response shapes live in `openwfm.server.schemas`; these classes are only the
storage. Every datetime is stored as UTC (`UTCDateTime`) and comes back timezone-aware.
The schema is owned by Alembic (``openwfm/server/migrations``); a test checks that the
migrations at head and these models agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored naive-UTC on every database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class Role(StrEnum):
    """Who a user is; what each role may do is `openwfm.server.permissions.POLICY`."""

    ADMIN = "admin"
    PLANNER = "planner"
    TEAM_LEADER = "team_leader"
    AGENT = "agent"
    CLIENT_VIEWER = "client_viewer"
    ACD = "acd"
    """An ACD integration of one client company: posts agent-state events (docs/rta.md)."""
    EVALUATOR = "evaluator"
    """A quality evaluator: scores contacts of the client companies assigned, resolves
    disputes, runs calibration sessions (docs/quality.md)."""


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"


class JobKind(StrEnum):
    """What a job computes: the stages of a plan up to and including this one, or
    ``reoptimize``: the re-optimization of the rest of one queue's day (params ``queue_id``
    and ``at``; result ``proposal_id``: docs/intraday.md), started by
    ``POST /api/intraday/queues/{id}/reoptimize`` and seen only by who may see the queue."""

    FORECAST = "forecast"
    STAFFING = "staffing"
    SCHEDULE = "schedule"
    SIMULATION = "simulation"
    CAPACITY = "capacity"
    PLAN = "plan"
    REOPTIMIZE = "reoptimize"


PLAN_KINDS = (JobKind.FORECAST, JobKind.STAFFING, JobKind.SCHEDULE, JobKind.SIMULATION,
              JobKind.CAPACITY, JobKind.PLAN)
"""The kinds `POST /api/jobs` starts (a plan of the stored center)."""


# ------------------------------------------------------------------------ tenants and center
class Client(Base):
    """A client company (tenant): it buys the service of some queues."""

    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    country: Mapped[str] = mapped_column(sa.String(2))
    tz: Mapped[str] = mapped_column(sa.String(64))
    seats: Mapped[int]
    cost_per_hour: Mapped[float]
    labour_pack: Mapped[str] = mapped_column(sa.String(32), default="")


class Queue(Base):
    """Client x channel x language, with its service goal."""

    __tablename__ = "queues"
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    language: Mapped[str] = mapped_column(sa.String(16))
    market: Mapped[str] = mapped_column(sa.String(8))
    tz: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    sl_target: Mapped[float] = mapped_column(default=0.8)
    answer_within_s: Mapped[float] = mapped_column(default=20.0)
    max_asa_s: Mapped[float | None]
    max_abandon: Mapped[float | None]
    max_occupancy: Mapped[float | None]
    patience_s: Mapped[float | None]
    concurrency: Mapped[int] = mapped_column(default=1)
    priority: Mapped[int] = mapped_column(default=0)
    client: Mapped[Client] = relationship()


class Skill(Base):
    """A skill; ``queue_id`` is the queue it serves (openwfm schedules skills as queues)."""

    __tablename__ = "skills"
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    queue_id: Mapped[str | None] = mapped_column(sa.ForeignKey("queues.id"), index=True)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    leader_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True, name="fk_teams_leader_user_id_users"))


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    tz: Mapped[str] = mapped_column(sa.String(64))
    contract_hours: Mapped[float] = mapped_column(default=40.0)
    labour_pack: Mapped[str] = mapped_column(sa.String(32), default="")
    min_shift_h: Mapped[float] = mapped_column(default=4.0)
    max_shift_h: Mapped[float] = mapped_column(default=9.0)
    night_ok: Mapped[bool] = mapped_column(default=True)
    hire_date: Mapped[date | None] = mapped_column(sa.Date, default=None)
    """First day at the company: seniority of shift bids (None = unknown)."""
    skills: Mapped[list[AgentSkill]] = relationship(
        cascade="all, delete-orphan", order_by="AgentSkill.rank", lazy="selectin")


class AgentSkill(Base):
    __tablename__ = "agent_skills"
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"),
                                          primary_key=True)
    skill_id: Mapped[str] = mapped_column(sa.ForeignKey("skills.id"), primary_key=True)
    proficiency: Mapped[float] = mapped_column(default=1.0)
    rank: Mapped[int] = mapped_column(default=0)
    """Order of the agent's skills (the first is the primary one)."""


# ------------------------------------------------------------------------------ people
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    agent_id: Mapped[str | None] = mapped_column(sa.ForeignKey("agents.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    """The pages' language the user chose (en, fr, es); None: the browser's."""


class RevokedSession(Base):
    """A web session signed out before it expired: its cookie no longer signs in (kept
    until the session would have expired)."""

    __tablename__ = "revoked_sessions"
    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PlannerClient(Base):
    """The client companies a planner plans for."""

    __tablename__ = "planner_clients"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), primary_key=True)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(100), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool]
    address: Mapped[str] = mapped_column(sa.String(64), default="", index=True)


class ServerSetting(Base):
    """Key/value settings shared by every process (the token signing key)."""

    __tablename__ = "server_settings"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class AuditEntry(Base):
    """One write: who, when, what, with the object before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(32))
    object_type: Mapped[str] = mapped_column(sa.String(32), index=True)
    object_id: Mapped[str] = mapped_column(sa.String(100))
    before: Mapped[Any | None] = mapped_column(sa.JSON)
    after: Mapped[Any | None] = mapped_column(sa.JSON)


# ------------------------------------------------------------------------ planning data
class PlanSetup(Base):
    """The planning set-up of the center (what a scenario file holds besides the center):
    interval length, plan window, shrinkage and the packages' sections (``extra``)."""

    __tablename__ = "plan_setups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    interval_s: Mapped[int]
    plan_start: Mapped[date] = mapped_column(sa.Date)
    plan_days: Mapped[int]
    plan_tz: Mapped[str] = mapped_column(sa.String(64))
    shrinkage: Mapped[float]
    extra: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HistoryImport(Base):
    __tablename__ = "history_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(300))
    rows: Mapped[int]
    interval_s: Mapped[int]
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HistoryInterval(Base):
    """One row of the interval table (docs/architecture.md) of one queue."""

    __tablename__ = "history_intervals"
    __table_args__ = (sa.UniqueConstraint("queue_id", "interval_start",
                                          name="uq_history_intervals_queue_start"),)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    queue_id: Mapped[str] = mapped_column(sa.ForeignKey("queues.id"))
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_s: Mapped[int]
    volume: Mapped[float]
    handled: Mapped[float | None]
    abandoned: Mapped[float | None]
    aht_s: Mapped[float | None]
    asa_s: Mapped[float | None]
    answered_within: Mapped[float | None]
    import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("history_imports.id"))


class Forecast(Base):
    """One forecast version; rows in `ForecastInterval`, planner edits in `ForecastOverride`."""

    __tablename__ = "forecasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int]
    job_id: Mapped[str | None] = mapped_column(sa.ForeignKey("jobs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ForecastInterval(Base):
    __tablename__ = "forecast_intervals"
    __table_args__ = (sa.Index("ix_forecast_intervals_fq", "forecast_id", "queue_id"),)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    forecast_id: Mapped[int] = mapped_column(sa.ForeignKey("forecasts.id", ondelete="CASCADE"))
    queue_id: Mapped[str] = mapped_column(sa.ForeignKey("queues.id"))
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime)
    volume: Mapped[float]
    aht_s: Mapped[float | None]
    volume_lo_80: Mapped[float | None]
    volume_hi_80: Mapped[float | None]
    volume_lo_95: Mapped[float | None]
    volume_hi_95: Mapped[float | None]


class ForecastOverride(Base):
    """A planner's change of one forecast value: who, when, why, and the value it replaced."""

    __tablename__ = "forecast_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    forecast_id: Mapped[int] = mapped_column(sa.ForeignKey("forecasts.id", ondelete="CASCADE"),
                                             index=True)
    queue_id: Mapped[str] = mapped_column(sa.ForeignKey("queues.id"))
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime)
    field: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[float]
    previous: Mapped[float | None]
    reason: Mapped[str] = mapped_column(sa.Text)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Requirement(Base):
    __tablename__ = "requirements"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    forecast_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forecasts.id"))
    job_id: Mapped[str | None] = mapped_column(sa.ForeignKey("jobs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RequirementInterval(Base):
    __tablename__ = "requirement_intervals"
    __table_args__ = (sa.Index("ix_requirement_intervals_rq", "requirement_id", "queue_id"),)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    requirement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("requirements.id", ondelete="CASCADE"))
    queue_id: Mapped[str] = mapped_column(sa.ForeignKey("queues.id"))
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime)
    agents: Mapped[float]
    scheduled: Mapped[float | None]
    service_level: Mapped[float | None]


class Schedule(Base):
    """A schedule of one plan period: one draft (edited under optimistic concurrency,
    ``draft_rev``) and its published versions."""

    __tablename__ = "schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    draft_rev: Mapped[int] = mapped_column(default=1)
    published_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("schedule_versions.id", use_alter=True,
                      name="fk_schedules_published_version_id_schedule_versions"))
    job_id: Mapped[str | None] = mapped_column(sa.ForeignKey("jobs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduleVersion(Base):
    """A published version: a frozen copy of the draft's segments."""

    __tablename__ = "schedule_versions"
    __table_args__ = (sa.UniqueConstraint("schedule_id", "number",
                                          name="uq_schedule_versions_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("schedules.id", ondelete="CASCADE"))
    number: Mapped[int]
    draft_rev: Mapped[int]
    segments: Mapped[int]
    published_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Segment(Base):
    """A work / break / meal segment (docs/architecture.md). ``version_id`` NULL: the draft."""

    __tablename__ = "segments"
    __table_args__ = (
        sa.Index("ix_segments_version_agent", "version_id", "agent_id", "start"),
        sa.Index("ix_segments_schedule_draft", "schedule_id", "agent_id"),
    )
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("schedules.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("schedule_versions.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id"))
    activity: Mapped[str] = mapped_column(sa.String(32))
    """An `openwfm.activities.Activity` value."""
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    queue_id: Mapped[str | None] = mapped_column(sa.ForeignKey("queues.id"))


class CapacityPlan(Base):
    __tablename__ = "capacity_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    job_id: Mapped[str | None] = mapped_column(sa.ForeignKey("jobs.id"))
    summary: Mapped[Any] = mapped_column(sa.JSON)
    tables: Mapped[Any] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """A background computation; the job queue only carries its id."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16), index=True)
    stage: Mapped[str] = mapped_column(sa.String(32), default="")
    progress: Mapped[float] = mapped_column(default=0.0)
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    result: Mapped[Any | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ------------------------------------------------------------------------ real-time adherence
class RtaEvent(Base):
    """One agent-state event from an ACD: the agent entered `state` at `at`. ``event_id`` is
    unique: a repeat is acknowledged and not stored twice (docs/rta.md)."""

    __tablename__ = "rta_events"
    __table_args__ = (sa.Index("ix_rta_events_agent_at", "agent_id", "at"),)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id"))
    state: Mapped[str] = mapped_column(sa.String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(sa.String(16))
    """Where it came from: ``api``, ``nats``, ``redis``."""


class QueueState(Base):
    """What the ACD reports of one queue at an instant: contacts waiting, how long the
    oldest has waited, contacts in service (docs/rta.md, "Queue state"). One row per
    (queue, instant): a repeat replaces it; the newest at or before an instant is the
    queue's state then."""

    __tablename__ = "queue_states"
    __table_args__ = (sa.UniqueConstraint("queue_id", "at", name="uq_queue_states_queue_at"),)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    queue_id: Mapped[str] = mapped_column(sa.ForeignKey("queues.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    waiting: Mapped[int]
    oldest_wait_s: Mapped[float | None]
    in_service: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ------------------------------------------------------------------------ quality
class QualityForm(Base):
    """One version of an evaluation form; ``definition`` is the form as
    `openwfm.quality.forms.Form` validates it (JSON)."""

    __tablename__ = "quality_forms"
    __table_args__ = (sa.UniqueConstraint("form_key", "version",
                                          name="uq_quality_forms_key_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    form_key: Mapped[str] = mapped_column(sa.String(100))
    version: Mapped[int]
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualityEvaluation(Base):
    """One scored evaluation of a contact, with the agent's dispute and its resolution."""

    __tablename__ = "quality_evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("quality_forms.id"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    contact_id: Mapped[str] = mapped_column(sa.String(200))
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id"), index=True)
    evaluator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    evaluator: Mapped[str] = mapped_column(sa.String(100))
    queue_id: Mapped[str | None] = mapped_column(sa.ForeignKey("queues.id"))
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    item_comments: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    raw_score: Mapped[float]
    score: Mapped[float]
    passed: Mapped[bool]
    critical_failed: Mapped[str] = mapped_column(sa.String(1000), default="")
    needs_coaching: Mapped[bool]
    status: Mapped[str] = mapped_column(sa.String(16))
    dispute_reason: Mapped[str | None] = mapped_column(sa.Text)
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(sa.String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    previous_score: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CoachingTaskRow(Base):
    """A coaching task opened by an evaluation (`openwfm.quality.coaching`)."""

    __tablename__ = "coaching_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id"), index=True)
    evaluation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("quality_evaluations.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(24))
    detail: Mapped[str] = mapped_column(sa.String(1000), default="")
    status: Mapped[str] = mapped_column(sa.String(16))
    due_from: Mapped[datetime] = mapped_column(UTCDateTime)
    due_by: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int]
    scheduled_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalibrationSession(Base):
    """A calibration session: several evaluators' answers on the same contacts."""

    __tablename__ = "quality_calibrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("quality_forms.id"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ratings: Mapped[list[Any]] = mapped_column(sa.JSON)
    """``[{"contact_id", "evaluator", "answers": {item: points | null}}, ...]``"""
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
# ------------------------------------------------------------- self-service (docs/selfservice.md)
class StaffRequest(Base):
    """An agent's request (time off, VTO, swap, offer) on a published schedule; ``status`` is
    an `openwfm.selfservice.RequestStatus` value, ``change`` the change's fields (UTC ISO)."""

    __tablename__ = "staff_requests"
    __table_args__ = (sa.Index("ix_staff_requests_status", "status", "agent_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    status: Mapped[str] = mapped_column(sa.String(24))
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id"), index=True)
    other_agent_id: Mapped[str | None] = mapped_column(sa.ForeignKey("agents.id"))
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("schedules.id", ondelete="CASCADE"))
    change: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    effect: Mapped[Any | None] = mapped_column(sa.JSON)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    hours: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("schedule_versions.id", ondelete="SET NULL"))


class Notification(Base):
    """An in-app notification (and whether it was e-mailed)."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user", "user_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.Text)
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_requests.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_to: Mapped[str | None] = mapped_column(sa.String(200))


class ContactAddress(Base):
    """Where a user's notifications are e-mailed."""

    __tablename__ = "contact_addresses"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200))


class CalendarToken(Base):
    """An agent's iCalendar subscription token (only its SHA-256 is stored); revocable."""

    __tablename__ = "calendar_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ------------------------------------------------------------- intraday (docs/intraday.md)
class IntradayProposal(Base):
    """A re-optimization of the rest of a day, made on one published version of a schedule;
    ``status``: ``open``, ``accepted`` (``applied_version_id`` the version it made), or
    ``stale`` (the schedule changed before it was accepted). ``payload`` holds the moves,
    the overtime and VTO proposals and the predicted service level before and after."""

    __tablename__ = "intraday_proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[str] = mapped_column(sa.ForeignKey("queues.id"), index=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("schedules.id", ondelete="CASCADE"))
    version_number: Mapped[int]
    """The published version number it was made on (accepting another: 409)."""
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted: Mapped[Any | None] = mapped_column(sa.JSON)
    """The items accepted: ``{"moves": [indices], "proposals": [indices]}``."""
    applied_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("schedule_versions.id", ondelete="SET NULL"))


class ShiftBid(Base):
    """A shift bid (docs/selfservice.md): the planner's shift patterns with places for a
    team's period; ``status`` open or closed; on close ``awards`` (agent, pattern, rank,
    explanation) and the schedule the awarded patterns were published in."""

    __tablename__ = "shift_bids"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    period_start: Mapped[date] = mapped_column(sa.Date)
    days: Mapped[int] = mapped_column()
    method: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    patterns: Mapped[list[Any]] = mapped_column(sa.JSON)
    awards: Mapped[list[Any] | None] = mapped_column(sa.JSON)
    schedule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("schedules.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BidRanking(Base):
    """An agent's ranking of a bid's patterns (pattern names, first choice first)."""

    __tablename__ = "bid_rankings"
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("shift_bids.id", ondelete="CASCADE"),
                                        primary_key=True)
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id"), primary_key=True)
    ranking: Mapped[list[str]] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgentPreference(Base):
    """An agent's soft wish for a schedule period (docs/selfservice.md): a row of the
    scheduler's preferences (`openwfm.scheduling.preferences`: ``kind``, ``value``,
    ``weight``), `position` its order as entered."""

    __tablename__ = "agent_preferences"
    __table_args__ = (sa.UniqueConstraint("agent_id", "period_start", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(sa.Date, index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[str] = mapped_column(sa.String(40))
    weight: Mapped[float] = mapped_column(sa.Float)


class AgentUnavailability(Base):
    """When an agent cannot work in a schedule period: [start, end) in UTC (entered local to
    the agent's site); a hard rule for the scheduler (``problem.unavailable``)."""

    __tablename__ = "agent_unavailability"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"),
                                          index=True)
    period_start: Mapped[date] = mapped_column(sa.Date, index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
