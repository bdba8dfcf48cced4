"""Agents' availability and preferences per schedule period (docs/selfservice.md), stored
and fed to the scheduler.

A period is one scheduler week: 7 local days from ``period_start``, a date on the plan
set-up's ``plan_start`` weekday. Its soft wishes are the rows of the scheduler's preferences
file (`openwfm.scheduling.preferences.parse_preference`, the same parser and rules) and its
unavailable times those of the availability file
(`openwfm.scheduling.model.parse_unavailability`), entered local to the agent's site and
stored in UTC. A schedule job passes the wishes of the periods in its plan window to
`openwfm.app.plan` (`plan_wishes`), as rows of those files would be, each scoped to its
own week (a plan of several weeks judges a week's wishes in that week only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from openwfm.errors import InputError
from openwfm.scenario import Scenario
from openwfm.scheduling.model import parse_unavailability
from openwfm.scheduling.preferences import (
    Preference,
    check_preference_dates,
    parse_preference,
)
from openwfm.server.models import Agent, AgentPreference, AgentUnavailability, PlanSetup, Site

PERIOD_DAYS = 7
"""A period is one week: the scheduler plans week by week (`openwfm.scheduling.weeks`)."""
SOURCE = "<server database>"


@dataclass(frozen=True)
class Period:
    """One agent's period: local dates [start, end) at the agent's site, and its zone."""

    start: date
    zone: ZoneInfo

    @property
    def end(self) -> date:
        return self.start + timedelta(days=PERIOD_DAYS)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        return tuple(datetime.combine(d, time(0), self.zone).astimezone(UTC)  # type: ignore[return-value]
                     for d in (self.start, self.end))


def unprocessable(loc: Sequence[str | int], msg: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         [{"loc": ["body" if loc[0] != "period_start" else "query", *loc],
                           "msg": msg, "type": "value_error"}])


def period_for(session: Session, agent: Agent, period_start: date | None) -> Period:
    """The agent's period starting `period_start` (default: the plan set-up's
    ``plan_start``, the next period the scheduler plans); 422 on another weekday."""
    setup = session.scalar(sa.select(PlanSetup).order_by(PlanSetup.id.desc()).limit(1))
    if setup is None:
        raise unprocessable(["period_start"], "the server has no plan set-up (plan start); "
                            "a planner loads one first")
    start = setup.plan_start if period_start is None else period_start
    if start.weekday() != setup.plan_start.weekday():
        raise unprocessable(["period_start"], (
            f"a period starts on the plan's weekday ({setup.plan_start:%A}, as the plan start "
            f"{setup.plan_start}); got {start} ({start:%A})"))
    tz = session.scalar(sa.select(Site.tz).where(Site.id == agent.site_id))
    return Period(start, ZoneInfo(tz or agent.tz))


def parse_wishes(agent_id: str, period: Period,
                 preferences: Sequence[tuple[str, str, float | None]],
                 unavailable: Sequence[tuple[str, str]]
                 ) -> tuple[tuple[Preference, ...], tuple[tuple[datetime, datetime], ...]]:
    """Validate what the agent entered with the scheduler's own parsers: the preferences
    ``(kind, value, weight)`` and the unavailable ``(start, end)`` (ISO; naive = local
    at the agent's site), which must lie inside the period. 422 naming the field
    (``preferences[i].value``) otherwise. Unavailable times come back in UTC."""
    prefs = []
    for i, (kind, value, weight) in enumerate(preferences):
        try:
            p = parse_preference(agent_id, kind, value, None if weight is None else str(weight),
                                 file="preferences", row=i + 1)
            check_preference_dates((p,), period.start, PERIOD_DAYS)
        except InputError as exc:
            raise unprocessable(["preferences", i, exc.location.column or "value"],
                                exc.message) from exc
        prefs.append(p)
    lo, hi = period.utc_bounds()
    times = []
    for i, (start, end) in enumerate(unavailable):
        try:
            _, s, e = parse_unavailability(agent_id, start, end, file="unavailable", row=i + 1)
        except InputError as exc:
            raise unprocessable(["unavailable", i, exc.location.column or "start"],
                                exc.message) from exc
        s_utc, e_utc = (x.replace(tzinfo=period.zone) if x.tzinfo is None else x
                        for x in (s, e))
        s_utc, e_utc = s_utc.astimezone(UTC), e_utc.astimezone(UTC)
        if s_utc < lo or e_utc > hi:
            raise unprocessable(["unavailable", i, "start" if s_utc < lo else "end"], (
                f"must lie in the period {period.start} to {period.end} (local at the "
                f"agent's site, {period.zone.key}); got {start} - {end}"))
        times.append((s_utc, e_utc))
    return tuple(prefs), tuple(times)


def store_wishes(session: Session, agent_id: str, period: Period,
                 prefs: tuple[Preference, ...],
                 times: tuple[tuple[datetime, datetime], ...]) -> None:
    """Replace the agent's wishes of the period."""
    for model in (AgentPreference, AgentUnavailability):
        session.execute(sa.delete(model).where(model.agent_id == agent_id,
                                               model.period_start == period.start))
    session.add_all(AgentPreference(agent_id=agent_id, period_start=period.start, position=i,
                                    kind=p.kind.value, value=p.value, weight=p.weight)
                    for i, p in enumerate(prefs))
    session.add_all(AgentUnavailability(agent_id=agent_id, period_start=period.start, start=s,
                                        end=e) for s, e in times)
    session.flush()


def stored_wishes(session: Session, agent_id: str, period_start: date
                  ) -> tuple[list[AgentPreference], list[AgentUnavailability]]:
    prefs = list(session.scalars(sa.select(AgentPreference).where(
        AgentPreference.agent_id == agent_id, AgentPreference.period_start == period_start)
        .order_by(AgentPreference.position)))
    times = list(session.scalars(sa.select(AgentUnavailability).where(
        AgentUnavailability.agent_id == agent_id,
        AgentUnavailability.period_start == period_start)
        .order_by(AgentUnavailability.start, AgentUnavailability.id)))
    return prefs, times


def plan_wishes(session: Session, scenario: Scenario
                ) -> tuple[tuple[Preference, ...], tuple[tuple[str, datetime, datetime], ...]]:
    """The stored preferences and unavailable times of the periods in the scenario's plan
    window, as `openwfm.app.plan` takes them (the rows of a preferences and an availability
    file), each holding in its own week only (``week_start``; a weekday ``day_off`` names
    that day of its week)."""
    lo = scenario.plan_start
    hi = lo + timedelta(days=scenario.plan_days)
    agents = {a.id for a in scenario.agents}
    prefs = []
    for row in session.scalars(sa.select(AgentPreference).where(
            AgentPreference.period_start >= lo, AgentPreference.period_start < hi)
            .order_by(AgentPreference.agent_id, AgentPreference.period_start,
                      AgentPreference.position)):
        if row.agent_id not in agents:
            continue
        p = parse_preference(row.agent_id, row.kind, row.value, str(row.weight), file=SOURCE,
                             row=row.id)
        if p.weekday is not None:
            day = row.period_start + timedelta(days=(p.weekday - row.period_start.weekday()) % 7)
            p = dataclasses.replace(p, weekday=None, on_date=day)
        # a dated wish already holds in its date's week only
        prefs.append(p if p.on_date is not None
                     else dataclasses.replace(p, week_start=row.period_start))
    times = tuple((r.agent_id, r.start, r.end) for r in session.scalars(
        sa.select(AgentUnavailability).where(AgentUnavailability.period_start >= lo,
                                             AgentUnavailability.period_start < hi)
        .order_by(AgentUnavailability.agent_id, AgentUnavailability.start))
        if r.agent_id in agents)
    return tuple(prefs), times
