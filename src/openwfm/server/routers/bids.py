"""Shift bidding (docs/selfservice.md): a planner publishes shift patterns with places for a
team's next period, the team's agents rank them, the planner closes the bid; the domain
(`openwfm.selfservice.bidding`) awards the places exactly (by seniority or by the fairness
rule) and explains each award; the awarded patterns become the agents' schedule for the
period, published as a new version (audited) once the rule checker passes it; the agents
are notified."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from openwfm.activities import Activity
from openwfm.selfservice import award_bids, validate_change
from openwfm.selfservice.bidding import PatternShift, pattern_segments, seniority_order
from openwfm.server import audit
from openwfm.server import selfservice as svc
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import (
    Agent,
    BidRanking,
    Role,
    Schedule,
    Segment,
    ShiftBid,
    Site,
    Team,
)
from openwfm.server.permissions import Principal, agent_filter, not_found, require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id
from openwfm.server.routers.schedules import publish_draft

router = APIRouter(tags=["self-service"])

ActivityName = Literal[tuple(a.value for a in Activity)]  # type: ignore[valid-type]


class BidShiftIn(BaseModel):
    """One shift of a pattern: local day (0 = the first day of the period), local start
    ``HH:MM`` at the agent's site, and its parts in order (activity, minutes)."""

    model_config = ConfigDict(extra="forbid")
    day: int = Field(ge=0, le=41)
    start: time
    parts: list[tuple[ActivityName, Annotated[int, Field(ge=5, le=720)]]] = Field(
        min_length=1, max_length=20)


class PatternIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    places: int = Field(ge=1, le=10_000)
    shifts: list[BidShiftIn] = Field(min_length=1, max_length=42)


class BidIn(BaseModel):
    """A bid: patterns with places for the team's period (``period_start`` a local date of
    the team's site, ``days`` long); ``method`` seniority or fairness."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    team_id: int = Field(ge=1, le=2_147_483_647)
    period_start: date
    days: int = Field(7, ge=1, le=42)
    method: Literal["seniority", "fairness"]
    patterns: list[PatternIn] = Field(min_length=1, max_length=50)

    @field_validator("patterns")
    @classmethod
    def _unique(cls, v: list[PatternIn]) -> list[PatternIn]:
        names = [p.name for p in v]
        if len(set(names)) != len(names):
            raise ValueError(f"pattern names must be unique: {sorted(names)}")
        return v


class RankingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ranking: list[str] = Field(max_length=50, description="Pattern names, first choice first")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seniority: list[str] | None = Field(
        None, max_length=10_000,
        description="The team's agents, most senior first (default: by hire date, the "
                    "earliest first; equal dates by agent id; agents without a hire date "
                    "after every dated one, by agent id)")


class BidOut(BaseModel):
    id: int
    name: str
    team_id: int
    period_start: date
    days: int
    method: str
    status: str
    patterns: list[dict[str, Any]]
    awards: list[dict[str, Any]] | None
    schedule_id: int | None
    my_ranking: list[str] | None = Field(None, description="The signed-in agent's ranking")
    rankings: int = Field(description="How many agents of the team have ranked")
    created_at: datetime
    closed_at: datetime | None


def _visible(p: Principal) -> sa.ColumnElement[bool]:
    if p.role == Role.AGENT:
        return ShiftBid.team_id == sa.select(Agent.team_id).where(
            Agent.id == (p.agent_id or "")).scalar_subquery()
    if p.role == Role.TEAM_LEADER:
        return ShiftBid.team_id == p.team_id
    return ShiftBid.team_id.in_(sa.select(Agent.team_id).where(agent_filter(p, Agent.id)))


def _get(session: Session, p: Principal, bid_id: int) -> ShiftBid:
    bid = session.scalar(sa.select(ShiftBid).where(ShiftBid.id == bid_id, _visible(p)))
    if bid is None:
        raise not_found("bid", bid_id)
    return bid


def _out(session: Session, p: Principal, b: ShiftBid) -> BidOut:
    mine = None
    if p.agent_id:
        mine = session.scalar(sa.select(BidRanking.ranking).where(
            BidRanking.bid_id == b.id, BidRanking.agent_id == p.agent_id))
    n = session.scalar(sa.select(sa.func.count()).select_from(BidRanking).where(
        BidRanking.bid_id == b.id)) or 0
    awards = b.awards
    if p.role == Role.AGENT and awards is not None:
        awards = [a for a in awards if a["agent_id"] == p.agent_id]
    return BidOut(id=b.id, name=b.name, team_id=b.team_id, period_start=b.period_start,
                  days=b.days, method=b.method, status=b.status, patterns=b.patterns,
                  awards=awards, schedule_id=b.schedule_id, my_ranking=mine, rankings=n,
                  created_at=b.created_at, closed_at=b.closed_at)


def _team_agents(session: Session, team_id: int) -> list[str]:
    return list(session.scalars(sa.select(Agent.id).where(Agent.team_id == team_id)
                                .order_by(Agent.id)))


@router.post("/api/bids", response_model=BidOut, status_code=status.HTTP_201_CREATED,
             responses=WRITE_ERRORS)
def create_bid(body: BidIn, p: CurrentUser, session: WriteDB, request: Request) -> BidOut:
    """Publish a bid for a team the planner plans for; its agents are notified."""
    require(p, "bid", "write")
    team = session.get(Team, body.team_id)
    agents = _team_agents(session, body.team_id) if team else []
    if team is None or (p.role != Role.ADMIN and not session.scalar(
            sa.select(sa.func.count()).select_from(Agent).where(
                Agent.team_id == body.team_id, agent_filter(p, Agent.id)))):
        raise svc.unprocessable("team_id", f"no team {body.team_id} you plan for")
    if not agents:
        raise svc.unprocessable("team_id", f"team {body.team_id} has no agent")
    places = sum(x.places for x in body.patterns)
    if places < len(agents):
        raise svc.unprocessable("patterns", f"{places} places for the team's {len(agents)} "
                                "agents: publish at least one place per agent")
    for i, pat in enumerate(body.patterns):
        for sh in pat.shifts:
            if sh.day >= body.days:
                raise svc.unprocessable(f"patterns.{i}.shifts.day",
                                        f"day {sh.day} is after the bid's {body.days} days")
    bid = ShiftBid(name=body.name, team_id=body.team_id, period_start=body.period_start,
                   days=body.days, method=body.method, status="open",
                   patterns=[x.model_dump(mode="json") for x in body.patterns],
                   awards=None, created_by=p.user_id)
    session.add(bid)
    session.flush()
    audit.record(session, acting_user(session, p), "create", "bid", bid.id,
                 after={"name": bid.name, "team_id": bid.team_id, "method": bid.method})
    mails = svc.notify(session, svc.users_of_agents(session, agents), "bid_published",
                       f"Shift bid '{bid.name}' is open: rank its patterns (bid #{bid.id}).",
                       None)
    out = _out(session, p, bid)
    session.commit()
    svc.send_mail(request.app.state.settings, mails)
    return out


@router.get("/api/bids", response_model=list[BidOut], responses=AUTH_ERRORS)
def list_bids(p: CurrentUser, session: ReadDB) -> list[BidOut]:
    """Bids the user may see (an agent and a team leader: their team's), newest first."""
    require(p, "bid", "read")
    return [_out(session, p, b) for b in session.scalars(
        sa.select(ShiftBid).where(_visible(p)).order_by(ShiftBid.id.desc()).limit(100))]


@router.get("/api/bids/{bid_id}", response_model=BidOut, responses=AUTH_ERRORS)
def get_bid(bid_id: Id, p: CurrentUser, session: ReadDB) -> BidOut:
    require(p, "bid", "read")
    return _out(session, p, _get(session, p, bid_id))


@router.put("/api/bids/{bid_id}/ranking", response_model=BidOut, responses=WRITE_ERRORS)
def rank_patterns(bid_id: Id, body: RankingIn, p: CurrentUser, session: WriteDB) -> BidOut:
    """The signed-in agent's ranking of an open bid's patterns (replaces an earlier one)."""
    require(p, "bid_ranking", "write")
    bid = _get(session, p, bid_id)
    if bid.status != "open":
        raise svc.conflict(f"bid {bid.id} is closed: rankings can no longer change")
    names = {x["name"] for x in bid.patterns}
    unknown = [x for x in body.ranking if x not in names]
    repeated = sorted({x for x in body.ranking if body.ranking.count(x) > 1})
    if unknown or repeated:
        raise svc.unprocessable("ranking", f"unknown patterns {unknown}, repeated {repeated}; "
                                f"the bid's patterns are {sorted(names)}")
    row = session.get(BidRanking, (bid.id, p.agent_id))
    audit.record(session, acting_user(session, p), "rank", "bid", bid.id,
                 before={"ranking": row.ranking if row else None},
                 after={"ranking": body.ranking})
    if row is None:
        session.add(BidRanking(bid_id=bid.id, agent_id=p.agent_id, ranking=body.ranking))
    else:
        row.ranking, row.updated_at = body.ranking, datetime.now(UTC)
    session.flush()
    out = _out(session, p, bid)
    session.commit()
    return out


def _period(session: Session, bid: ShiftBid) -> tuple[str, str, datetime, datetime]:
    site, tz = session.execute(sa.select(Site.name, Site.tz).join(
        Team, Team.site_id == Site.id).where(Team.id == bid.team_id)).one()
    zone = ZoneInfo(tz)
    lo = datetime.combine(bid.period_start, time(0), zone).astimezone(UTC)
    hi = datetime.combine(bid.period_start + timedelta(days=bid.days), time(0),
                          zone).astimezone(UTC)
    return site, tz, lo, hi


@router.post("/api/bids/{bid_id}/close", response_model=BidOut,
             responses={**WRITE_ERRORS, 422: {"description": "An award breaks a labour rule "
                                                             "(named) or bad seniority"}})
def close_bid(bid_id: Id, body: CloseIn, p: CurrentUser, session: WriteDB,
              request: Request) -> BidOut:
    """Award the places and publish the awarded patterns as the agents' schedule for the
    period (a new version of the period's schedule, created when there is none). Exactly
    one of two planners closing at once wins; the other gets 409."""
    require(p, "bid", "write")
    bid = _get(session, p, bid_id)
    claimed = session.execute(sa.update(ShiftBid).where(
        ShiftBid.id == bid.id, ShiftBid.status == "open").values(status="closed")
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        session.rollback()
        raise svc.conflict(f"bid {bid_id} is already closed (by another planner?); reload it")
    agents = _team_agents(session, bid.team_id)
    hired = dict(session.execute(sa.select(Agent.id, Agent.hire_date).where(
        Agent.team_id == bid.team_id)).all())
    seniority = body.seniority if body.seniority is not None else seniority_order(hired)
    if sorted(seniority) != agents:
        raise svc.unprocessable("seniority", f"list each agent of team {bid.team_id} exactly "
                                f"once: {agents}")
    rankings = dict(session.execute(sa.select(BidRanking.agent_id, BidRanking.ranking).where(
        BidRanking.bid_id == bid.id)).all())
    patterns = {x["name"]: int(x["places"]) for x in bid.patterns}
    try:
        awards = award_bids(patterns, rankings, bid.method, seniority, hired)
    except ValueError as e:
        raise svc.unprocessable("patterns", str(e)) from None
    _site, _tz, lo, hi = _period(session, bid)
    sched = session.scalar(sa.select(Schedule).where(
        Schedule.period_start == lo, Schedule.period_end == hi).order_by(Schedule.id.desc())
        .limit(1))
    if sched is None:
        sched = Schedule(name=f"bid {bid.name}", period_start=lo, period_end=hi, draft_rev=0)
        session.add(sched)
        session.flush()
    shifts = {x["name"]: [PatternShift(s["day"], time.fromisoformat(s["start"]),
                                       tuple((a, int(m)) for a, m in s["parts"]))
                          for s in x["shifts"]] for x in bid.patterns}
    sites = dict(session.execute(sa.select(Agent.id, Site.name).join(
        Site, Site.id == Agent.site_id).where(Agent.id.in_(agents))).all())
    tzs = dict(session.execute(sa.select(Agent.id, Site.tz).join(
        Site, Site.id == Agent.site_id).where(Agent.id.in_(agents))).all())
    new = pd.concat([pattern_segments(shifts[a.pattern], a.agent_id, sites[a.agent_id],
                                      tzs[a.agent_id], bid.period_start) for a in awards],
                    ignore_index=True)
    before = svc.segments_frame(session, None, sched.id)
    after = pd.concat([before[~before["agent_id"].isin(agents)], new], ignore_index=True)
    _scenario, problem, _req = svc.problem_for(session, sched)
    bad = validate_change(problem, before, after, tuple(agents))
    if bad:
        got = {a.agent_id: a.pattern for a in awards}
        raise svc.unprocessable("patterns", "the awarded schedule would break: " + "; ".join(
            sorted({f"{v.rule} ({v.agent_id or 'site'}"
                    + (f", pattern {got[v.agent_id]}" if v.agent_id in got else "")
                    + f"): {v.message}" for v in bad})))
    session.execute(sa.delete(Segment).where(Segment.schedule_id == sched.id,
                                              Segment.version_id.is_(None),
                                              Segment.agent_id.in_(agents)))
    session.execute(sa.insert(Segment), [
        {"schedule_id": sched.id, "version_id": None, "agent_id": r.agent_id,
         "activity": r.activity, "start": r.start.to_pydatetime(),
         "end": r.end.to_pydatetime(), "queue_id": None} for r in new.itertuples()])
    sched.draft_rev += 1
    version = publish_draft(session, sched, p.user_id)
    bid.awards = [{"agent_id": a.agent_id, "pattern": a.pattern, "rank": a.rank,
                   "explanation": a.explanation} for a in awards]
    bid.status, bid.schedule_id = "closed", sched.id
    bid.closed_by, bid.closed_at = p.user_id, datetime.now(UTC)
    audit.record(session, acting_user(session, p), "close", "bid", bid.id,
                 after={"awards": bid.awards, "schedule_id": sched.id,
                        "schedule_version": version.number})
    mails: list[tuple[str, str]] = []
    for a in awards:
        mails += svc.notify(session, svc.users_of_agents(session, [a.agent_id]), "bid_awarded",
                            f"Shift bid '{bid.name}': you got pattern {a.pattern} "
                            f"({a.explanation}). Schedule version {version.number} is "
                            "published.", None)
    out = _out(session, p, bid)
    session.commit()
    svc.send_mail(request.app.state.settings, mails)
    return out
