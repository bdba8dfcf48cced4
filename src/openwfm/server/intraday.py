"""A queue's day on the server: the morning forecast, the actuals so far, the reforecast of
the rest of the day, the requirement recomputed and the predicted service level of every
remaining interval from the current state (docs/intraday.md, "On the server").

The computing is `openwfm.intraday`'s (`reforecast_day`, `level_prior_contacts`,
`choose_level_weighting`, `rest_requirement`, `live_segments`, `predicted_by_interval`);
this module reads the rows they need and shapes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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
from openwfm.intraday.reoptimize import predicted_by_interval
from openwfm.intraday.states import AgentState
from openwfm.scenario import Channel, Scenario
from openwfm.server.actuals import center_interval_s, day_bounds
from openwfm.server.center import load_scenario_from_db
from openwfm.server.models import (
    Agent,
    AgentSkill,
    ForecastInterval,
    HistoryInterval,
    Queue,
    Schedule,
    Segment,
    Site,
    Skill,
)

__all__ = ["HISTORY_DAYS", "DayInputs", "agent_states", "day_inputs", "published_segments",
           "queue_day"]

HISTORY_DAYS = 56
"""Days of history before today the level's variances and half-life are estimated on."""
_BANDS = ("volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95")


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


def queue_day(inputs: DayInputs, states: dict[str, AgentState], now: datetime
              ) -> dict[str, Any]:
    """The intraday view of the queue's day (`IntradayOut` of the router)."""
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
    seg = live_segments(inputs.segments.drop(columns="schedule_id"), states, cut, cut + step)
    pred = predicted_by_interval(inputs.scenario, seg, rest, cut,
                                 interval_s=inputs.interval_s)
    pred = pred[pred["queue"] == q.id].set_index("interval_start")
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
            "predicted_service_level": _num(pr["service_level"]) if pr is not None else None,
        })
    lv = ref.levels[ref.levels["queue"] == q.id]
    level = {k: _num(v) for k, v in lv.iloc[0].items() if k != "queue"} if len(lv) else {}
    contacts = float(pred["contacts"].sum()) if len(pred) else 0.0
    on_duty = sorted(a for a, s in states.items() if s in
                     {AgentState.AVAILABLE, AgentState.ON_CONTACT,
                      AgentState.AFTER_CONTACT_WORK})
    return {
        "queue_id": q.id, "tz": q.tz, "day": inputs.day_start.astimezone(ZoneInfo(q.tz)).date(),
        "as_of": now, "interval_s": inputs.interval_s, "current_interval": cut.to_pydatetime(),
        "forecast_id": inputs.forecast_id, "sl_target": q.sl_target,
        "answer_within_s": q.answer_within_s,
        "level": level,
        "predicted_service_level_rest": (float(pred["answered_in_time"].sum()) / contacts
                                         if contacts > 0 else None),
        "agents_working_now": len(on_duty),
        "intervals": rows,
    }


def agent_states(board_log: Any, agent_ids: list[str], now: datetime
                 ) -> dict[str, AgentState]:
    """Each agent's state at `now` from the live board's event log."""
    return {a: board_log.state_at(a, now) for a in agent_ids}
