"""A queue's day on the server: the morning forecast, the actuals so far, the reforecast of
the rest of the day, the requirement recomputed and the predicted service level of every
remaining interval from the current state (docs/intraday.md, "On the server").

The computing is `openwfm.intraday`'s (`reforecast_day`, `level_prior_contacts`,
`choose_level_weighting`, `rest_requirement`, `live_segments`, `predicted_by_interval`);
this module reads the rows they need and shapes the answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openwfm.errors import InputError
from openwfm.intraday.current import live_segments
from openwfm.intraday.reforecast import (
    Reforecast,
    choose_level_weighting,
    level_prior_contacts,
    reforecast_day,
    rest_requirement,
)
from openwfm.intraday.reoptimize import (
    BreakMove,
    Proposal,
    Reassignment,
    apply_changes,
    predicted_by_interval,
    reoptimize,
)
from openwfm.intraday.states import AgentState
from openwfm.scenario import Channel, Scenario
from openwfm.server import audit
from openwfm.server.actuals import center_interval_s, day_bounds
from openwfm.server.center import load_scenario_from_db
from openwfm.server.models import (
    Agent,
    AgentSkill,
    ForecastInterval,
    HistoryInterval,
    IntradayProposal,
    Queue,
    Schedule,
    ScheduleVersion,
    Segment,
    Site,
    Skill,
    User,
)
from openwfm.server.queue_state import latest_states
from openwfm.server.selfservice import (
    claim,
    conflict,
    context,
    notify,
    publish_change,
    unprocessable,
    users_of_agents,
)

__all__ = ["HISTORY_DAYS", "PROPOSAL_ITEMS", "PROPOSE_MIN", "REOPTIMIZE_STAGES",
           "SIM_REPLICATIONS", "DayInputs", "ProposalDraft", "accept_proposal", "agent_states",
           "busy_agents", "compute_proposal", "day_inputs", "other_agents_segments",
           "published_segments", "queue_day", "reoptimize_job", "simulation_seed",
           "store_proposal"]

PROPOSAL_ITEMS = ("moves", "reassignments", "proposals")
"""The kinds of items of a proposal a planner ticks (payload keys, accept's fields)."""
PROPOSE_MIN = 30
"""Minutes of overtime after a shift, or of VTO at its end, a proposal offers."""
HISTORY_DAYS = 56
"""Days of history before today the level's variances and half-life are estimated on."""
_BANDS = ("volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95")
SIM_REPLICATIONS = 100
"""Replications of the simulated rest of the day in the view (docs/intraday.md: cost)."""


def simulation_seed(queue_id: str, at: datetime) -> int:
    """The view's simulation seed: the first 8 bytes of SHA-256 of ``"<queue id>|<at, UTC
    ISO 8601>"``, so the same queue at the same instant gives the same numbers.

    >>> simulation_seed("ride-en-voice", datetime(2026, 12, 7, 15, 30, tzinfo=UTC))
    3571750687617577143
    """
    key = f"{queue_id}|{at.astimezone(UTC).isoformat()}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


@dataclass(frozen=True, eq=False)
class DayInputs:
    """What the intraday view and the re-optimization of one queue's day read."""

    queue: Queue
    scenario: Scenario
    interval_s: int
    day_start: datetime
    day_end: datetime
    cut: pd.Timestamp
    """The start of the interval in progress (the reforecast's ``now``)."""
    forecast_id: int | None
    forecast: pd.DataFrame
    actuals: pd.DataFrame
    reforecast: Reforecast
    segments: pd.DataFrame
    """Published segments of the day of the agents who may serve the related queues."""
    queues: tuple[str, ...]
    """The queue and every other queue its agents serve (routing of multi-skilled agents)."""


def published_segments(session: Session, agent_ids: list[str], start: datetime,
                       end: datetime) -> pd.DataFrame:
    """The published segments of `agent_ids` overlapping ``[start, end)``: ``agent_id,
    site, activity, start, end, queue, schedule_id`` (two published schedules covering
    one agent's time: the newer version wins, as on the live board)."""
    published = sa.select(Schedule.published_version_id).where(
        Schedule.published_version_id.is_not(None))
    rows = session.execute(
        sa.select(Segment.agent_id, Site.name, Segment.activity, Segment.start, Segment.end,
                  Segment.queue_id, Segment.schedule_id, Segment.version_id)
        .join(Agent, Agent.id == Segment.agent_id).join(Site, Site.id == Agent.site_id)
        .where(Segment.version_id.in_(published), Segment.agent_id.in_(agent_ids),
               Segment.end > start, Segment.start < end)
        .order_by(Segment.version_id.desc(), Segment.agent_id, Segment.start)).all()
    kept: dict[str, list[tuple[datetime, datetime]]] = {}
    out = []
    for r in rows:
        spans = kept.setdefault(r.agent_id, [])
        if any(r.start < e and s < r.end for s, e in spans):
            continue
        spans.append((r.start, r.end))
        out.append((r.agent_id, r.name, r.activity, r.start, r.end, r.queue_id,
                    r.schedule_id))
    seg = pd.DataFrame(out, columns=["agent_id", "site", "activity", "start", "end", "queue",
                                     "schedule_id"])
    for c in ("start", "end"):
        seg[c] = pd.to_datetime(seg[c], utc=True)
    return seg.sort_values(["agent_id", "start"], ignore_index=True)


def _frame(rows: list[Any], cols: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=cols)
    df["interval_start"] = pd.to_datetime(df["interval_start"], utc=True)
    for c in cols[2:]:
        df[c] = df[c].astype(float)
    return df


def day_inputs(session: Session, queue: Queue, now: datetime) -> DayInputs:
    """Read and reforecast the local day of `queue` at `now` (and of the queues its agents
    also serve)."""
    scenario = load_scenario_from_db(session)
    interval_s = center_interval_s(session)
    zone = ZoneInfo(queue.tz)
    day_start, day_end = day_bounds(now.astimezone(zone).date(), queue.tz)
    cut = pd.Timestamp(now).tz_convert("UTC").floor(f"{interval_s}s")
    skilled = sa.select(AgentSkill.agent_id).join(Skill, Skill.id == AgentSkill.skill_id) \
        .where(Skill.queue_id == queue.id)
    agent_ids = sorted(session.scalars(sa.select(Agent.id).where(Agent.id.in_(skilled))))
    related = sorted(set(session.scalars(
        sa.select(Skill.queue_id).join(AgentSkill, AgentSkill.skill_id == Skill.id)
        .where(AgentSkill.agent_id.in_(agent_ids), Skill.queue_id.is_not(None)))) | {queue.id})
    tz = dict(session.execute(sa.select(Queue.id, Queue.tz).where(Queue.id.in_(related))).all())
    # the morning forecast: the newest stored forecast version with rows of the day
    lo, hi = day_start - timedelta(days=1), day_end + timedelta(days=1)
    fid = session.scalar(sa.select(sa.func.max(ForecastInterval.forecast_id)).where(
        ForecastInterval.queue_id == queue.id, ForecastInterval.interval_start >= day_start,
        ForecastInterval.interval_start < day_end))
    fcols = ["interval_start", "queue", "volume", "aht_s", *_BANDS]
    frows = [] if fid is None else session.execute(
        sa.select(ForecastInterval.interval_start, ForecastInterval.queue_id,
                  ForecastInterval.volume, ForecastInterval.aht_s,
                  *[getattr(ForecastInterval, b) for b in _BANDS])
        .where(ForecastInterval.forecast_id == fid, ForecastInterval.queue_id.in_(related),
               ForecastInterval.interval_start >= lo, ForecastInterval.interval_start < hi)
        .order_by(ForecastInterval.queue_id, ForecastInterval.interval_start)).all()
    forecast = _frame([tuple(r) for r in frows], fcols)
    hcols = ["interval_start", "queue", "volume", "handled", "abandoned", "aht_s",
             "answered_within"]
    hrows = session.execute(
        sa.select(HistoryInterval.interval_start, HistoryInterval.queue_id,
                  HistoryInterval.volume, HistoryInterval.handled, HistoryInterval.abandoned,
                  HistoryInterval.aht_s, HistoryInterval.answered_within)
        .where(HistoryInterval.queue_id.in_(related),
               HistoryInterval.interval_start >= day_start - timedelta(days=HISTORY_DAYS),
               HistoryInterval.interval_start < hi)
        .order_by(HistoryInterval.queue_id, HistoryInterval.interval_start)).all()
    hist = _frame([tuple(r) for r in hrows], hcols)
    past = hist[hist["interval_start"] < pd.Timestamp(day_start)]
    actuals = hist[hist["interval_start"] >= pd.Timestamp(lo)]
    split = cut.tz_convert(zone).time()
    priors = level_prior_contacts(past, tz=tz, interval_s=interval_s, split=split) \
        if len(past) else None
    weighting = choose_level_weighting(past, split=split, tz=tz, interval_s=interval_s,
                                       priors=priors) if len(past) else None
    if forecast.empty:
        raise InputError(f"no forecast of queue {queue.id!r} for its day "
                         f"{day_start.astimezone(zone).date()}: run a forecast job first "
                         "(POST /api/jobs)", column="queue_id")
    ref = reforecast_day(forecast, actuals, cut, tz=tz, interval_s=interval_s, priors=priors,
                         weighting=weighting)
    seg = published_segments(session, agent_ids, day_start - timedelta(hours=12),
                             day_end + timedelta(hours=12))
    return DayInputs(queue=queue, scenario=scenario, interval_s=interval_s,
                     day_start=day_start, day_end=day_end, cut=cut, forecast_id=fid,
                     forecast=forecast, actuals=actuals, reforecast=ref, segments=seg,
                     queues=tuple(related))


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


def other_agents_segments(session: Session, inputs: DayInputs) -> pd.DataFrame:
    """The published segments of the day of the agents who serve the related queues
    (`DayInputs.queues`) without the queue's own skill: they take part of those queues'
    contacts, so the prediction of the queue counts them (the re-optimization's model
    does too)."""
    mine = set(inputs.segments["agent_id"])
    others = sorted(set(session.scalars(
        sa.select(AgentSkill.agent_id).join(Skill, Skill.id == AgentSkill.skill_id)
        .where(Skill.queue_id.in_(list(inputs.queues))))) - mine)
    return published_segments(session, others, inputs.day_start - timedelta(hours=12),
                              inputs.day_end + timedelta(hours=12))


def queue_day(inputs: DayInputs, states: dict[str, AgentState], now: datetime, *,
              busy: Mapping[str, float | None] | None = None,
              queue_states: Mapping[str, Any] | None = None,
              others: pd.DataFrame | None = None,
              replications: int = SIM_REPLICATIONS) -> dict[str, Any]:
    """The intraday view of the queue's day (`IntradayOut` of the router). `busy`: the
    agents on a contact or in after-contact work now, with the seconds on it so far (None:
    unknown); `queue_states`: the newest `QueueState` report of the related queues;
    `others`: the segments of the agents who serve only the other related queues
    (`other_agents_segments`), in both predictions."""
    q = inputs.queue
    step = pd.Timedelta(seconds=inputs.interval_s)
    cut = inputs.cut
    d0, d1 = pd.Timestamp(inputs.day_start), pd.Timestamp(inputs.day_end)
    ref = inputs.reforecast
    rest = ref.frame.copy()
    req = pd.DataFrame()
    mine = rest[rest["queue"] == q.id]
    if len(mine) and q.channel != Channel.EMAIL.value:
        req = rest_requirement(Reforecast(frame=mine.reset_index(drop=True),
                                          levels=ref.levels, now=ref.now),
                               sl_target=q.sl_target, answer_within_s=q.answer_within_s,
                               patience_s=q.patience_s, interval_s=inputs.interval_s)
    # the current state: the interval in progress from the agents' states now
    serving = inputs.segments if others is None or others.empty else pd.concat(
        [inputs.segments, others], ignore_index=True)
    seg = live_segments(serving.drop(columns="schedule_id"), states, cut, cut + step)
    pred = predicted_by_interval(inputs.scenario, seg, rest, cut,
                                 interval_s=inputs.interval_s)
    pred = pred[pred["queue"] == q.id].set_index("interval_start")
    sim, simulation = _simulated(inputs, seg, rest, now, busy or {}, queue_states or {},
                                 replications)
    f = inputs.forecast[(inputs.forecast["queue"] == q.id)
                        & (inputs.forecast["interval_start"] >= d0)
                        & (inputs.forecast["interval_start"] < d1)].set_index("interval_start")
    a = inputs.actuals[(inputs.actuals["queue"] == q.id)
                       & (inputs.actuals["interval_start"] >= d0)
                       & (inputs.actuals["interval_start"] < d1)].set_index("interval_start")
    r = mine.set_index("interval_start")
    rq = req.set_index("interval_start") if len(req) else pd.DataFrame()
    starts = sorted(set(f.index) | set(a.index))
    rows = []
    for t in starts:
        fr = f.loc[t] if t in f.index else None
        ar = a.loc[t] if t in a.index else None
        rr = r.loc[t] if t in r.index else None
        pr = pred.loc[t] if t in pred.index else None
        qr = rq.loc[t] if t in rq.index else None
        sl = None
        if ar is not None and _num(ar["answered_within"]) is not None and ar["volume"] > 0:
            sl = float(ar["answered_within"]) / float(ar["volume"])
        rows.append({
            "interval_start": t.to_pydatetime(),
            "part": "past" if t + step <= cut else ("current" if t <= cut < t + step
                                                     else "rest"),
            "forecast_volume": _num(fr["volume"]) if fr is not None else None,
            "forecast_aht_s": _num(fr["aht_s"]) if fr is not None else None,
            "actual_volume": _num(ar["volume"]) if ar is not None else None,
            "actual_handled": _num(ar["handled"]) if ar is not None else None,
            "actual_abandoned": _num(ar["abandoned"]) if ar is not None else None,
            "actual_aht_s": _num(ar["aht_s"]) if ar is not None else None,
            "actual_service_level": sl,
            "reforecast_volume": _num(rr["volume"]) if rr is not None else None,
            "reforecast_aht_s": _num(rr["aht_s"]) if rr is not None else None,
            **{f"reforecast_{b}": (_num(rr[b]) if rr is not None and b in rr.index else None)
               for b in _BANDS},
            "agents_required": _num(qr["agents"]) if qr is not None else None,
            "agents_required_morning": _num(qr["agents_morning"]) if qr is not None else None,
            "agents_predicted": _num(pr["agents"]) if pr is not None else None,
            **_sim_row(sim, t),
            "predicted_service_level_erlang": (_num(pr["service_level"]) if pr is not None
                                               else None),
        })
    lv = ref.levels[ref.levels["queue"] == q.id]
    level = {k: _num(v) for k, v in lv.iloc[0].items() if k != "queue"} if len(lv) else {}
    contacts = float(pred["contacts"].sum()) if len(pred) else 0.0
    skilled = set(inputs.segments["agent_id"])
    on_duty = sorted(a for a, s in states.items() if a in skilled and s in
                     {AgentState.AVAILABLE, AgentState.ON_CONTACT,
                      AgentState.AFTER_CONTACT_WORK})
    return {
        "queue_id": q.id, "tz": q.tz, "day": inputs.day_start.astimezone(ZoneInfo(q.tz)).date(),
        "as_of": now, "interval_s": inputs.interval_s, "current_interval": cut.to_pydatetime(),
        "forecast_id": inputs.forecast_id, "sl_target": q.sl_target,
        "answer_within_s": q.answer_within_s,
        "level": level,
        **simulation["rest"],
        "predicted_service_level_rest_erlang": (float(pred["answered_in_time"].sum())
                                                / contacts if contacts > 0 else None),
        "simulation": simulation["about"],
        "agents_working_now": len(on_duty),
        "intervals": rows,
    }


def agent_states(board_log: Any, agent_ids: list[str], now: datetime
                 ) -> dict[str, AgentState]:
    """Each agent's state at `now` from the live board's event log."""
    return {a: board_log.state_at(a, now) for a in agent_ids}


def busy_agents(board_log: Any, states: Mapping[str, AgentState], now: datetime
                ) -> dict[str, float | None]:
    """The agents busy at `now` (on a contact: the seconds since that state began; in
    after-contact work: None, the contact's start is not known)."""
    out: dict[str, float | None] = {}
    for a, st in states.items():
        if st == AgentState.ON_CONTACT:
            since = board_log.state_since(a, now)
            out[a] = None if since is None else (now - since).total_seconds()
        elif st == AgentState.AFTER_CONTACT_WORK:
            out[a] = None
    return out


def _simulated(inputs: DayInputs, seg: pd.DataFrame, rest: pd.DataFrame, now: datetime,
               busy: Mapping[str, float | None], queue_states: Mapping[str, Any],
               replications: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rest of the day simulated from the state at `now`
    (`openwfm.intraday.simulated`): per interval of the queue, and the rest-of-day figure
    and what it started from."""
    q = inputs.queue
    seed = simulation_seed(q.id, now)
    waiting = {k: (int(r.waiting), None if r.oldest_wait_s is None else float(r.oldest_wait_s))
               for k, r in queue_states.items()}
    about: dict[str, Any] = {
        "replications": replications, "seed": seed, "start": now, "handle": "exponential",
        "busy_agents": 0, "agents": 0,
        "queue_states": [{"queue_id": k, "at": r.at, "waiting": int(r.waiting),
                          "oldest_wait_s": r.oldest_wait_s, "in_service": r.in_service}
                         for k, r in sorted(queue_states.items())]}
    empty = {"predicted_service_level_rest": None, "predicted_service_level_rest_lo": None,
             "predicted_service_level_rest_hi": None}
    later = rest[rest["interval_start"] + pd.Timedelta(seconds=inputs.interval_s)
                 > pd.Timestamp(now)]
    if q.channel == Channel.EMAIL.value or later.empty or later[later["queue"] == q.id].empty:
        return pd.DataFrame(), {"rest": empty, "about": about}
    from openwfm.intraday.simulated import simulate_rest_of_day  # numba: only when asked

    r = simulate_rest_of_day(inputs.scenario, seg, later, pd.Timestamp(now),
                             interval_s=inputs.interval_s, waiting=waiting, busy=busy,
                             replications=replications, seed=seed)
    about["busy_agents"] = r.busy
    about["agents"] = r.agents
    mine = r.rest[r.rest["queue"] == q.id]
    if len(mine):
        x = mine.iloc[0]
        empty = {"predicted_service_level_rest": _num(x["service_level"]),
                 "predicted_service_level_rest_lo": _num(x["service_level_lo"]),
                 "predicted_service_level_rest_hi": _num(x["service_level_hi"])}
    iv = r.intervals[r.intervals["queue"] == q.id].set_index("interval_start")
    return iv, {"rest": empty, "about": about}


def _sim_row(sim: pd.DataFrame, t: pd.Timestamp) -> dict[str, float | None]:
    x = sim.loc[t] if len(sim) and t in sim.index else None
    return {"predicted_contacts": _num(x["contacts"]) if x is not None else None,
            "predicted_service_level": _num(x["service_level"]) if x is not None else None,
            "predicted_service_level_lo": (_num(x["service_level_lo"]) if x is not None
                                           else None),
            "predicted_service_level_hi": (_num(x["service_level_hi"]) if x is not None
                                           else None)}


# ------------------------------------------------------------------ re-optimization
def _iso(t: Any) -> str:
    return pd.Timestamp(t).tz_convert("UTC").isoformat()


def _f(v: Any) -> float | None:
    v = float(v)
    return None if np.isnan(v) else v


REOPTIMIZE_STAGES = ("reading", "reoptimizing")
"""The stages of a re-optimization job (then ``storing``)."""


@dataclass(frozen=True)
class ProposalDraft:
    """A re-optimization computed and not stored yet (`compute_proposal`)."""

    queue_id: str
    schedule_id: int
    version_number: int
    as_of: datetime
    payload: dict[str, Any]


def compute_proposal(session: Session, queue: Queue, now: datetime,
                     on_stage: Callable[[str], None] = lambda name: None, *,
                     busy: Mapping[str, float | None] | None = None) -> ProposalDraft:
    """Re-optimize the rest of the queue's day on the published schedule its agents work
    today (`openwfm.intraday.reoptimize.reoptimize`: breaks moved, agents reassigned,
    overtime and VTO proposed, checker-verified). Reads, ends the read transaction
    (``on_stage("reading")``), then computes (``on_stage("reoptimizing")``). `busy`: the
    agents busy at `now` (`busy_agents`, taken from the live board when the job was asked
    for), the simulated before/after starts with their contacts in hand."""
    inputs = day_inputs(session, queue, now)
    today = inputs.segments[(inputs.segments["end"] > pd.Timestamp(now))
                            & (inputs.segments["start"] < pd.Timestamp(inputs.day_end))]
    if today.empty:
        raise InputError(f"no published schedule holds the rest of queue {queue.id!r}'s day "
                         "for its agents", column="queue_id")
    schedule_id = int(today["schedule_id"].value_counts().sort_index().idxmax())
    sched = session.get(Schedule, schedule_id)
    assert sched is not None
    ctx = context(session, sched)
    # the search looks only at the agents who serve the queues reforecast (the others'
    # breaks cannot change their service level); accepting checks the whole schedule
    serving = set(session.scalars(
        sa.select(AgentSkill.agent_id).join(Skill, Skill.id == AgentSkill.skill_id)
        .where(Skill.queue_id.in_(list(inputs.queues)))))
    reports = latest_states(session, list(inputs.queues), now, max_age_s=inputs.interval_s)
    waiting = {k: (int(r.waiting), None if r.oldest_wait_s is None else float(r.oldest_wait_s))
               for k, r in reports.items()}
    session.rollback()  # the read is done; the search may run for seconds
    on_stage("reading")
    mine = ctx.segments[ctx.segments["agent_id"].isin(serving)].reset_index(drop=True)
    rest = inputs.reforecast.frame[["interval_start", "queue", "volume", "aht_s"]].copy()
    rest["aht_s"] = rest["aht_s"].fillna(0.0)
    t_now = pd.Timestamp(now).tz_convert("UTC")
    result = reoptimize(ctx.problem, mine, rest, t_now,
                        interval_s=inputs.interval_s, propose_min=PROPOSE_MIN)
    later = rest[rest["interval_start"] >= t_now]
    before = predicted_by_interval(ctx.scenario, mine, later, t_now,
                                   interval_s=inputs.interval_s)
    after = predicted_by_interval(ctx.scenario, result.segments, later, t_now,
                                  interval_s=inputs.interval_s)
    b = before[before["queue"] == queue.id].reset_index(drop=True)
    a = after[after["queue"] == queue.id].reset_index(drop=True)
    sim_rows, simulated = _simulated_before_after(
        ctx.scenario, mine, result.segments, rest, t_now, inputs.interval_s, waiting,
        busy or {}, queue.id, simulation_seed(queue.id, now))
    payload = {
        "moves": [{"agent_id": m.agent_id, "activity": m.activity, "rule": m.rule,
                   "old_start": _iso(m.old_start), "old_end": _iso(m.old_end),
                   "new_start": _iso(m.new_start), "new_end": _iso(m.new_end)}
                  for m in result.changes],
        "reassignments": [{"agent_id": x.agent_id, "from_queues": list(x.from_queues),
                           "to_queue": x.to_queue, "start": _iso(x.start), "end": _iso(x.end),
                           "answered_in_time_delta": float(x.answered_in_time_delta)}
                          for x in result.reassignments],
        "proposals": [{"kind": x.kind, "agent_id": x.agent_id, "start": _iso(x.start),
                       "end": _iso(x.end),
                       "answered_in_time_delta": float(x.answered_in_time_delta)}
                      for x in result.proposals],
        "service_level_before": _f(result.service_level_before),
        "service_level_after": _f(result.service_level_after),
        "queues": [{"queue": r["queue"], "contacts": float(r["contacts"]),
                    "service_level_before": _f(r["service_level_before"]),
                    "service_level_after": _f(r["service_level_after"])}
                   for r in result.service_level.to_dict("records")],
        "intervals": [{"interval_start": _iso(t), "contacts": float(c),
                       "service_level_before": _f(sb), "service_level_after": _f(sa_),
                       **sim_rows.get(_iso(t), {})}
                      for t, c, sb, sa_ in zip(b["interval_start"], b["contacts"],
                                               b["service_level"], a["service_level"],
                                               strict=True)],
        "simulated": simulated,
        "violations": len(result.check.violations),
    }
    on_stage("reoptimizing")
    return ProposalDraft(queue_id=queue.id, schedule_id=sched.id,
                         version_number=ctx.version_number, as_of=now, payload=payload)


def _simulated_before_after(scenario: Scenario, before: pd.DataFrame, after: pd.DataFrame,
                            rest: pd.DataFrame, now: pd.Timestamp, interval_s: int,
                            waiting: Mapping[str, tuple[int, float | None]],
                            busy: Mapping[str, float | None], queue_id: str,
                            seed: int) -> tuple[dict[str, dict[str, float | None]],
                                                dict[str, Any] | None]:
    """The published schedule and the re-optimized one simulated from the reported queue
    state with the same seed (common random numbers, `compare_rest_of_day`): per interval
    of the queue (keyed by its ISO start) and over the rest of the day."""
    from openwfm.intraday.simulated import compare_rest_of_day  # numba: only when asked

    step = pd.Timedelta(seconds=interval_s)
    current = rest[rest["interval_start"] + step > now]
    if current[current["queue"] == queue_id].empty:
        return {}, None
    c = compare_rest_of_day(scenario, before, after, current, now, interval_s=interval_s,
                            waiting=waiting, busy=busy, replications=SIM_REPLICATIONS,
                            seed=seed)
    rows = {_iso(r["interval_start"]): {
        "sim_service_level_before": _f(r["service_level_before"]),
        "sim_service_level_after": _f(r["service_level_after"]),
        "sim_delta": _f(r["delta"]), "sim_delta_lo": _f(r["delta_lo"]),
        "sim_delta_hi": _f(r["delta_hi"])}
        for r in c.intervals[c.intervals["queue"] == queue_id].to_dict("records")}
    mine = c.rest[c.rest["queue"] == queue_id]
    if mine.empty:
        return rows, None
    x = mine.iloc[0]
    w = waiting.get(queue_id)
    return rows, {"replications": c.replications, "seed": c.seed,
                  "service_level_before": _f(x["service_level_before"]),
                  "service_level_after": _f(x["service_level_after"]),
                  "delta": _f(x["delta"]), "delta_lo": _f(x["delta_lo"]),
                  "delta_hi": _f(x["delta_hi"]),
                  "busy_agents": c.busy,
                  "waiting": None if w is None else w[0],
                  "oldest_wait_s": None if w is None else w[1],
                  **{f"total_{k.removeprefix('service_level_')}": _f(v)
                     for k, v in c.total.items()}}


def store_proposal(session: Session, draft: ProposalDraft, user_id: int | None
                   ) -> IntradayProposal:
    """Store `draft` as an open proposal, audited (``reoptimize``) as made by `user_id`."""
    prop = IntradayProposal(queue_id=draft.queue_id, schedule_id=draft.schedule_id,
                            version_number=draft.version_number, as_of=draft.as_of,
                            status="open", payload=draft.payload, created_by=user_id,
                            created_at=datetime.now(UTC))
    session.add(prop)
    session.flush()
    user = session.get(User, user_id) if user_id is not None else None
    audit.record(session, user, "reoptimize", "intraday_proposal", prop.id,
                 after={"queue_id": draft.queue_id, "schedule_id": draft.schedule_id,
                        "version_number": draft.version_number,
                        **{k: len(draft.payload.get(k, [])) for k in PROPOSAL_ITEMS}})
    return prop


def reoptimize_job(session: Session, params: dict[str, Any],
                   on_stage: Callable[[str], None]) -> ProposalDraft:
    """What a ``reoptimize`` job computes (params ``queue_id``, ``at`` (ISO) and ``busy``:
    agent id -> seconds on the contact so far or None, the live board's at ``at``)."""
    queue = session.get(Queue, str(params.get("queue_id")))
    if queue is None:
        raise InputError(f"queue {params.get('queue_id')!r} no longer exists",
                         column="queue_id")
    try:
        at = datetime.fromisoformat(str(params.get("at")))
    except ValueError:
        raise InputError(f"at: expected an ISO 8601 time, got {params.get('at')!r}",
                         column="at") from None
    busy = params.get("busy") or {}
    if not isinstance(busy, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, int | float))
            for k, v in busy.items()):
        raise InputError("busy: expected agent id -> seconds on the contact (or null)",
                         column="busy")
    return compute_proposal(session, queue, at.astimezone(UTC), on_stage, busy=busy)


def _hhmm(t: Any, tz: str) -> str:
    return pd.Timestamp(t).tz_convert(tz).strftime("%H:%M")


def accept_proposal(session: Session, prop: IntradayProposal, chosen: dict[str, list[int]],
                    user_id: int | None
                    ) -> tuple[ScheduleVersion, list[str], list[tuple[str, str]]]:
    """Apply the chosen items of an open proposal (`chosen`: indices per kind of
    `PROPOSAL_ITEMS`) as the schedule's next published version (compare-and-set on the
    version it was made on: 409 when it moved), the agents' draft following; notify the
    affected agents. Returns the version, the agents and the e-mails to send after the
    commit."""
    if prop.status != "open":
        raise conflict(f"proposal {prop.id} is {prop.status} already")
    sched = session.get(Schedule, prop.schedule_id)
    assert sched is not None
    claim(session, sched, prop.version_number)
    ctx = context(session, sched)
    items = {k: prop.payload.get(k, []) for k in PROPOSAL_ITEMS}
    for name in PROPOSAL_ITEMS:
        bad = [i for i in chosen.get(name, []) if not 0 <= i < len(items[name])]
        if bad:
            raise unprocessable(name, f"no item {bad[0]}: the proposal has "
                                      f"{len(items[name])} {name}")
    if not any(chosen.get(k) for k in PROPOSAL_ITEMS):
        raise unprocessable("moves", "choose at least one move, reassignment or proposal")
    ts = pd.Timestamp

    def picked(name: str) -> list[dict[str, Any]]:
        return [items[name][i] for i in sorted(set(chosen.get(name, [])))]

    chosen_m = [BreakMove(x["agent_id"], x["activity"], x["rule"], ts(x["old_start"]),
                          ts(x["old_end"]), ts(x["new_start"]), ts(x["new_end"]))
                for x in picked("moves")]
    chosen_r = [Reassignment(x["agent_id"], tuple(x["from_queues"]), x["to_queue"],
                             ts(x["start"]), ts(x["end"]), float(x["answered_in_time_delta"]))
                for x in picked("reassignments")]
    chosen_p = [Proposal(x["kind"], x["agent_id"], ts(x["start"]), ts(x["end"]),
                         float(x["answered_in_time_delta"]))
                for x in picked("proposals")]
    try:
        after, new = apply_changes(ctx.problem, ctx.segments, chosen_m, chosen_p, chosen_r)
    except InputError as exc:
        raise conflict(f"the proposal no longer fits the schedule: {exc.message}") from None
    if new:
        raise unprocessable("moves", "together these items break labour rules the "
                                     f"published schedule keeps: {', '.join(new[:5])}")
    agents = tuple(sorted({x.agent_id for x in chosen_m} | {x.agent_id for x in chosen_p}
                          | {x.agent_id for x in chosen_r}))
    version = publish_change(session, sched, after, agents, user_id)
    prop.status = "accepted"
    prop.decided_by = user_id
    prop.decided_at = datetime.now(UTC)
    prop.accepted = {k: sorted(set(chosen.get(k, []))) for k in PROPOSAL_ITEMS}
    prop.applied_version_id = version.id
    tz = {a: z for a, z in session.execute(sa.select(Agent.id, Agent.tz)
                                           .where(Agent.id.in_(agents))).all()}
    mails: list[tuple[str, str]] = []
    for a in agents:
        z = tz.get(a, "UTC")
        parts = [f"{m.activity} moved from {_hhmm(m.old_start, z)} to "
                 f"{_hhmm(m.new_start, z)}" for m in chosen_m if m.agent_id == a]
        parts += [f"you work queue {x.to_queue} only from {_hhmm(x.start, z)} to "
                  f"{_hhmm(x.end, z)}" for x in chosen_r if x.agent_id == a]
        parts += [("overtime " if x.kind == "overtime" else "time off (VTO) ")
                  + f"{_hhmm(x.start, z)}-{_hhmm(x.end, z)}" for x in chosen_p
                  if x.agent_id == a]
        msg = (f"Your schedule of {pd.Timestamp(prop.as_of).tz_convert(z):%Y-%m-%d} changed "
               f"(intraday, version {version.number}): " + "; ".join(parts) + ".")
        mails += notify(session, users_of_agents(session, [a]), "schedule_changed", msg, None)
    return version, list(agents), mails
