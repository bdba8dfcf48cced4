"""The meeting scheduler: place a session for given people (a team, a trainer, a list),
a duration and a window where the loss of service level is least.

Candidates: every start in the window on a step (default: the scenario's interval) such
that the session ends in the window. A candidate is feasible when every person is working
(a productive activity, not a break) for the whole session, the room has a seat for
everyone (``room_seats``), and the schedule with the session passes the independent rule
checker (`changes.validate_change`). Among the feasible candidates the one with the fewest
contacts lost (`effect.change_effect`; without traffic: the fewest productive agent-hours
lost, that is the same for every candidate, then the smallest required-minus-scheduled
excess) wins, earliest first on ties. Every candidate is evaluated, so the placement is the
exact optimum over the candidate grid (the test compares it with a brute force that
rebuilds each candidate independently).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from openwfm.activities import Activity
from openwfm.scheduling.model import SchedulingProblem
from openwfm.selfservice.changes import ActivityChange, ChangeError, apply_change, validate_change
from openwfm.selfservice.effect import Effect, change_effect

__all__ = ["MeetingPlacement", "place_meeting"]


@dataclass(frozen=True)
class MeetingPlacement:
    start: pd.Timestamp
    end: pd.Timestamp
    people: tuple[str, ...]
    activity: Activity
    loss: float
    """Contacts lost (or productive agent-hours lost without traffic)."""
    effect: Effect
    segments: pd.DataFrame
    """The schedule with the session."""
    feasible: int
    candidates: int


def _loss(effect: Effect) -> float:
    if effect.contacts_lost is not None:
        return effect.contacts_lost
    return -effect.coverage_change_agent_h


def place_meeting(problem: SchedulingProblem, requirement: pd.DataFrame,
                  segments: pd.DataFrame, people: Sequence[str], duration_min: int,
                  window_start: pd.Timestamp, window_end: pd.Timestamp, *,
                  activity: Activity = Activity.MEETING, room_seats: int | None = None,
                  step_min: int | None = None) -> MeetingPlacement:
    """The best placement (module docstring); `ChangeError` when no candidate fits."""
    people = tuple(dict.fromkeys(people))
    if not people or duration_min <= 0:
        raise ValueError("at least one person and a duration > 0 expected")
    if room_seats is not None and room_seats < len(people):
        raise ChangeError(f"{len(people)} people for a room of {room_seats} seats")
    step = pd.Timedelta(minutes=step_min or problem.scenario.interval_s // 60)
    dur = pd.Timedelta(minutes=duration_min)
    sites = {a.id: a.site for a in problem.scenario.agents}
    best: tuple | None = None
    n = feasible = 0
    # a session changes only its people's rows: apply it to those, keep the rest as is
    concerned = segments["agent_id"].isin(people)
    rest, mine = segments[~concerned], segments[concerned]
    t = window_start
    while t + dur <= window_end:
        n += 1
        try:
            changed = mine
            for p in people:
                changed = apply_change(changed, ActivityChange(p, t, t + dur, activity), sites)
        except ChangeError:
            t += step
            continue
        after = pd.concat([rest, changed], ignore_index=True)
        if not validate_change(problem, segments, after, people):
            feasible += 1
            eff = change_effect(problem.scenario, requirement, segments, after)
            key = (round(_loss(eff), 9), t)
            if best is None or key < best[0]:
                best = (key, t, eff, after)
        t += step
    if best is None:
        raise ChangeError(f"no start between {window_start} and {window_end} where all of "
                          f"{', '.join(people)} work the whole {duration_min} min within the "
                          "rules")
    (loss, _), start, eff, after = best
    return MeetingPlacement(start, start + dur, people, activity, loss, eff, after, feasible, n)
