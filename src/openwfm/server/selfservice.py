"""Self-service on the server: requests on the published schedule, their effect, decisions
applied as new published versions, notifications (in-app and e-mail), calendar tokens.

The domain (`openwfm.selfservice`) does the work: the change applied to the published
segments, the independent rule checker as the gate, the effect on coverage and Erlang
service level, the auto-approval rule. This module only loads and stores.

Concurrency: a decision names the published version the team leader saw (``If-Match``); the
decision claims the schedule row with ``UPDATE ... WHERE published_version_id = <seen>``
(a row lock on PostgreSQL, the write lock on SQLite), so of two decisions made on one
version exactly one publishes and the other answers 409, changing nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import smtplib
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from openwfm.activities import OFF_DUTY, Activity
from openwfm.scenario import Scenario
from openwfm.scheduling.check import shifts_from_segments
from openwfm.scheduling.model import SchedulingProblem, build_problem
from openwfm.selfservice import (
    Accrual,
    ActivityChange,
    Allowance,
    AutoApprovalRule,
    ChangeError,
    Offer,
    RequestKind,
    RequestStatus,
    Swap,
    TimeOff,
    apply_change,
    change_effect,
    validate_change,
)
from openwfm.selfservice.changes import Change
from openwfm.server.center import load_scenario_from_db
from openwfm.server.config import Settings
from openwfm.server.models import (
    Agent,
    ContactAddress,
    ForecastInterval,
    Notification,
    Requirement,
    RequirementInterval,
    Role,
    Schedule,
    ScheduleVersion,
    Segment,
    Site,
    StaffRequest,
    User,
)

log = logging.getLogger("openwfm.server.selfservice")


def conflict(msg: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, msg)


def unprocessable(field: str, msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": ["body", field], "msg": msg, "type": "value_error"}])


# ------------------------------------------------------------------------------ loading
def published_number(session: Session, sched: Schedule) -> int | None:
    if sched.published_version_id is None:
        return None
    return session.scalar(sa.select(ScheduleVersion.number).where(
        ScheduleVersion.id == sched.published_version_id))


def schedule_for(session: Session, at: datetime, schedule_id: int | None) -> Schedule:
    """The schedule a request is made on: `schedule_id`, else the newest published schedule
    whose period holds `at`."""
    stmt = sa.select(Schedule).where(Schedule.published_version_id.is_not(None))
    if schedule_id is not None:
        stmt = stmt.where(Schedule.id == schedule_id)
    else:
        stmt = stmt.where(Schedule.period_start <= at, Schedule.period_end > at)
    sched = session.scalar(stmt.order_by(Schedule.id.desc()).limit(1))
    if sched is None:
        raise unprocessable("schedule_id", f"no published schedule holds {at.isoformat()}")
    return sched


def segments_frame(session: Session, version_id: int | None,
                   schedule_id: int | None = None) -> pd.DataFrame:
    """The segments of a published version (or, with `version_id` None, the draft of
    `schedule_id`) as the domain's table."""
    which = (Segment.version_id == version_id if version_id is not None else
             sa.and_(Segment.version_id.is_(None), Segment.schedule_id == schedule_id))
    rows = session.execute(
        sa.select(Segment.agent_id, Site.name, Segment.activity, Segment.start, Segment.end,
                  Segment.queue_id)
        .join(Agent, Agent.id == Segment.agent_id).join(Site, Site.id == Agent.site_id)
        .where(which)).all()
    df = pd.DataFrame(rows, columns=["agent_id", "site", "activity", "start", "end", "queue"])
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c], utc=True)
    df["queue"] = df["queue"].astype(object).where(df["queue"].notna(), None)
    return df


def requirement_frame(session: Session, scenario: Scenario, sched: Schedule) -> pd.DataFrame:
    """``interval_start, queue, agents[, volume, aht_s]`` over the schedule's period: the
    newest stored requirement there (with its forecast's traffic), else zero on the grid."""
    lo, hi = sched.period_start, sched.period_end
    req_id = session.scalar(
        sa.select(RequirementInterval.requirement_id)
        .where(RequirementInterval.interval_start >= lo, RequirementInterval.interval_start < hi)
        .order_by(RequirementInterval.requirement_id.desc()).limit(1))
    grid = pd.date_range(pd.Timestamp(lo).tz_convert("UTC"), pd.Timestamp(hi).tz_convert("UTC"),
                         freq=f"{scenario.interval_s}s", inclusive="left")
    idx = pd.MultiIndex.from_product([[q.id for q in scenario.queues], grid],
                                     names=["queue", "interval_start"])
    base = idx.to_frame(index=False)[["interval_start", "queue"]]
    base["agents"] = 0.0
    if req_id is None:
        return base
    fc_id = session.scalar(sa.select(Requirement.forecast_id).where(Requirement.id == req_id))
    rows = session.execute(sa.select(
        RequirementInterval.interval_start, RequirementInterval.queue_id,
        RequirementInterval.agents).where(RequirementInterval.requirement_id == req_id,
                                          RequirementInterval.interval_start >= lo,
                                          RequirementInterval.interval_start < hi)).all()
    req = pd.DataFrame(rows, columns=["interval_start", "queue", "agents"])
    req["interval_start"] = pd.to_datetime(req["interval_start"], utc=True)
    out = base.drop(columns="agents").merge(req, on=["interval_start", "queue"], how="left")
    out["agents"] = out["agents"].fillna(0.0)
    if fc_id is not None:
        fc = pd.DataFrame(session.execute(sa.select(
            ForecastInterval.interval_start, ForecastInterval.queue_id, ForecastInterval.volume,
            ForecastInterval.aht_s).where(ForecastInterval.forecast_id == fc_id,
                                          ForecastInterval.interval_start >= lo,
                                          ForecastInterval.interval_start < hi)).all(),
            columns=["interval_start", "queue", "volume", "aht_s"])
        fc["interval_start"] = pd.to_datetime(fc["interval_start"], utc=True)
        out = out.merge(fc, on=["interval_start", "queue"], how="left")
    return out


@dataclasses.dataclass(frozen=True)
class Context:
    """What a decision on one schedule needs."""

    scenario: Scenario
    problem: SchedulingProblem
    requirement: pd.DataFrame
    segments: pd.DataFrame
    version_number: int

    @property
    def sites(self) -> dict[str, str]:
        return {a.id: a.site for a in self.scenario.agents}

    @property
    def skills(self) -> dict[str, tuple[str, ...]]:
        return {a.id: a.skills for a in self.scenario.agents}


def problem_for(session: Session, sched: Schedule
                ) -> tuple[Scenario, SchedulingProblem, pd.DataFrame]:
    """The center's scenario over the schedule's period, its rule-checking problem and the
    requirement there (`requirement_frame`)."""
    scenario = load_scenario_from_db(session)
    start = pd.Timestamp(sched.period_start).tz_convert("UTC")
    days = max(1, round((sched.period_end - sched.period_start).total_seconds() / 86400))
    scenario = dataclasses.replace(scenario, plan_start=start.date(), plan_days=days,
                                   plan_tz="UTC")
    req = requirement_frame(session, scenario, sched)
    return scenario, build_problem(scenario, req[["interval_start", "queue", "agents"]]), req


def context(session: Session, sched: Schedule) -> Context:
    scenario, problem, req = problem_for(session, sched)
    assert sched.published_version_id is not None
    return Context(scenario, problem, req, segments_frame(session, sched.published_version_id),
                   published_number(session, sched) or 0)


def approval_rule_of(scenario: Scenario) -> AutoApprovalRule:
    """The auto-approval limits of the plan set-up's ``[selfservice]`` table."""
    raw = scenario.extra.get("selfservice", {}) if isinstance(scenario.extra, dict) else {}
    rule = AutoApprovalRule(
        max_contacts_lost=float(raw.get("auto_max_contacts_lost", 0.0)),
        max_coverage_loss_agent_h=float(raw.get("auto_max_coverage_loss_agent_h", 0.0)),
        min_sl_after=raw.get("auto_min_sl_after"),
        quota_per_day_team=int(raw.get("auto_quota_per_day_team", 2)))
    return rule


@dataclasses.dataclass(frozen=True)
class TeamShift:
    """One published shift of an agent (contiguous on-duty segments), UTC."""

    agent_id: str
    agent_name: str
    start: datetime
    end: datetime


def team_shifts(session: Session, sched: Schedule, agent_id: str) -> list[TeamShift]:
    """The shifts of the agent's team (the agent included) in the published version of
    `sched`, by start: what a swap or an offer is made of."""
    if sched.published_version_id is None:
        return []
    team = session.scalar(sa.select(Agent.team_id).where(Agent.id == agent_id))
    names = dict(session.execute(sa.select(Agent.id, Agent.name).where(
        Agent.team_id == team) if team is not None else
        sa.select(Agent.id, Agent.name).where(Agent.id == agent_id)).all())
    seg = segments_frame(session, sched.published_version_id)
    seg = seg[seg["agent_id"].isin(list(names)) & ~seg["activity"].isin(OFF_DUTY)]
    return sorted((TeamShift(sh.agent_id, names[sh.agent_id], sh.start.to_pydatetime(),
                             sh.end.to_pydatetime())
                   for sh in shifts_from_segments(seg)), key=lambda t: (t.start, t.agent_id))


# ------------------------------------------------------------------------------ changes
def _ts(value: Any, field: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).tz_convert("UTC")
    except (TypeError, ValueError):
        raise unprocessable(field, "an ISO date-time with offset expected") from None


def change_of(kind: RequestKind, agent_id: str, data: dict[str, Any],
              taker: str | None = None) -> Change:
    """The domain change a stored request describes."""
    if kind in (RequestKind.TIME_OFF, RequestKind.VOLUNTARY_TIME_OFF):
        return TimeOff(agent_id, _ts(data["start"], "start"), _ts(data["end"], "end"),
                       Activity.TIME_OFF if kind is RequestKind.TIME_OFF
                       else Activity.VOLUNTARY_TIME_OFF)
    if kind is RequestKind.SWAP:
        return Swap(agent_id, _ts(data["shift_start"], "shift_start"), data["other_agent_id"],
                    _ts(data["other_shift_start"], "other_shift_start"))
    if kind is RequestKind.OFFER:
        return Offer(agent_id, _ts(data["shift_start"], "shift_start"),
                     taker or data.get("other_agent_id") or "")
    return ActivityChange(agent_id, _ts(data["start"], "start"), _ts(data["end"], "end"),
                          Activity(data["activity"]))


def preview(ctx: Context, change: Change) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The schedule after `change` and its effect; 422 naming the broken rules."""
    try:
        after = apply_change(ctx.segments, change, ctx.sites, ctx.skills)
    except ChangeError as e:
        raise unprocessable("change", str(e)) from None
    except KeyError as e:
        raise unprocessable("other_agent_id", f"no agent {e.args[0]!r}") from None
    bad = validate_change(ctx.problem, ctx.segments, after, change.agents())
    if bad:
        raise unprocessable("change", "the schedule would break: " + "; ".join(
            sorted({f"{v.rule} ({v.agent_id or 'site'}): {v.message}" for v in bad})))
    return after, change_effect(ctx.scenario, ctx.requirement, ctx.segments, after).as_dict()


def leave_year(allowance: Allowance, on: date) -> tuple[date, date]:
    """[first day, first day of the next) of the leave year holding `on`."""
    m = allowance.year_start_month
    y = on.year if on.month >= m else on.year - 1
    return date(y, m, 1), date(y + 1, m, 1)


def leave_hours(session: Session, agent_id: str, allowance: Allowance, on: date,
                statuses: tuple[RequestStatus, ...]) -> float:
    """Hours of the agent's time-off requests in `statuses` whose start falls in the leave
    year of `on`."""
    lo, hi = leave_year(allowance, on)
    rows = session.execute(sa.select(StaffRequest.hours, StaffRequest.change).where(
        StaffRequest.agent_id == agent_id, StaffRequest.kind == RequestKind.TIME_OFF.value,
        StaffRequest.status.in_([x.value for x in statuses]))).all()
    return float(sum(h for h, c in rows
                     if lo.isoformat() <= str(c.get("start", ""))[:10] < hi.isoformat()))


APPROVED = (RequestStatus.APPROVED, RequestStatus.AUTO_APPROVED)


def leave_taken_h(session: Session, agent_id: str, allowance: Allowance, on: date) -> float:
    """Hours of approved time off of the agent in the leave year of `on`."""
    return leave_hours(session, agent_id, allowance, on, APPROVED)


def allowance_for(session: Session, scenario: Scenario, agent_id: str) -> Allowance:
    """The agent's annual leave by their contract: the ``[[selfservice.contracts]]`` entry
    whose ``contract_hours`` equals the agent's (``annual_leave_days``, ``accrual``,
    ``carry_over_h``, ``max_negative_h``, ``year_start_month``), else the ``[selfservice]``
    defaults; days are ``contract_hours / 5`` hours."""
    raw = scenario.extra.get("selfservice", {}) if isinstance(scenario.extra, dict) else {}
    hours = session.scalar(sa.select(Agent.contract_hours).where(Agent.id == agent_id)) or 40.0
    entry: dict[str, Any] = {}
    for c in raw.get("contracts", []) or []:
        if isinstance(c, dict) and float(c.get("contract_hours", -1)) == float(hours):
            entry = c
            break

    def get(key: str, default: Any) -> Any:
        return entry.get(key, raw.get(key, default))
    return Allowance(annual_h=float(get("annual_leave_days", 25.0)) * hours / 5,
                     accrual=Accrual(get("accrual", "monthly")),
                     carry_over_h=float(get("carry_over_h", 0.0)),
                     year_start_month=int(get("year_start_month", 1)),
                     max_negative_h=float(get("max_negative_h", 0.0)))


# ------------------------------------------------------------------------------ decisions
def claim(session: Session, sched: Schedule, seen_number: int) -> None:
    """Compare-and-set on the published version (module docstring); 409 when it moved."""
    current = published_number(session, sched)
    msg = (f"the schedule changed while you decided: you saw version {seen_number}, version "
           f"{{now}} is published now (another decision or a publish); reload the request and "
           "decide again")
    if current != seen_number:
        raise conflict(msg.format(now=current))
    done = session.execute(sa.update(Schedule).where(
        Schedule.id == sched.id, Schedule.published_version_id == sched.published_version_id)
        .values(updated_at=datetime.now(UTC)).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.rollback()
        raise conflict(msg.format(now=published_number(session, sched)))


def publish_change(session: Session, sched: Schedule, after: pd.DataFrame,
                   agents: tuple[str, ...], user_id: int | None) -> ScheduleVersion:
    """`after` becomes the next published version; the draft rows of `agents` follow it."""
    number = (session.scalar(sa.select(sa.func.max(ScheduleVersion.number)).where(
        ScheduleVersion.schedule_id == sched.id)) or 0) + 1
    sched.draft_rev += 1
    version = ScheduleVersion(schedule_id=sched.id, number=number, draft_rev=sched.draft_rev,
                              segments=len(after), published_by=user_id,
                              published_at=datetime.now(UTC))
    session.add(version)
    session.flush()

    def rows(df: pd.DataFrame, version_id: int | None) -> list[dict[str, Any]]:
        return [{"schedule_id": sched.id, "version_id": version_id, "agent_id": a,
                 "activity": act, "start": s.to_pydatetime(), "end": e.to_pydatetime(),
                 "queue_id": q if isinstance(q, str) and q else None}
                for a, act, s, e, q in zip(df["agent_id"], df["activity"], df["start"],
                                           df["end"], df["queue"], strict=True)]
    session.execute(sa.insert(Segment), rows(after, version.id))
    session.execute(sa.delete(Segment).where(
        Segment.schedule_id == sched.id, Segment.version_id.is_(None),
        Segment.agent_id.in_(agents)))
    mine = after[after["agent_id"].isin(agents)]
    if not mine.empty:
        session.execute(sa.insert(Segment), rows(mine, None))
    sched.published_version_id = version.id
    session.flush()
    return version


# ------------------------------------------------------------------------------ notifications
def leaders_of(session: Session, agent_id: str) -> list[int]:
    team = session.scalar(sa.select(Agent.team_id).where(Agent.id == agent_id))
    return list(session.scalars(sa.select(User.id).where(
        User.role == Role.TEAM_LEADER.value, User.team_id == team, User.active)))


def users_of_agents(session: Session, agent_ids: list[str]) -> list[int]:
    return list(session.scalars(sa.select(User.id).where(User.agent_id.in_(agent_ids),
                                                         User.active)))


def notify(session: Session, user_ids: list[int], kind: str, message: str,
           request_id: int | None) -> list[tuple[str, str]]:
    """In-app notifications for `user_ids`; returns the (address, message) e-mails to send
    once the transaction has committed."""
    mail = dict(session.execute(sa.select(ContactAddress.user_id, ContactAddress.email).where(
        ContactAddress.user_id.in_(user_ids))).all())
    out = []
    for uid in sorted(set(user_ids)):
        session.add(Notification(user_id=uid, kind=kind, message=message,
                                 request_id=request_id, emailed_to=mail.get(uid)))
        if uid in mail:
            out.append((mail[uid], message))
    return out


def send_mail(settings: Settings, mails: list[tuple[str, str]]) -> int:
    """Send the e-mails over SMTP (after the commit: a mail is never sent for a change that
    did not happen); returns how many were accepted. A failing server is logged."""
    if not settings.smtp_host or not mails:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            for to, text in mails:
                msg = EmailMessage()
                msg["From"] = settings.smtp_from
                msg["To"] = to
                msg["Subject"] = "openwfm: " + text.split(".")[0][:120]
                msg.set_content(text)
                smtp.send_message(msg)
                sent += 1
    except (OSError, smtplib.SMTPException) as e:
        log.warning("e-mail notifications not sent: %s", e)
    return sent


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
