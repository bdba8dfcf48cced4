"""Coaching tasks placed in the schedule by the meeting scheduler: inside the due window,
where the agent works, the schedule still within the rules, the session a non-productive
coaching activity; a task whose agent does not work in its window stays open."""

from __future__ import annotations

import pandas as pd

from openwfm.activities import ShrinkageCategory, definition
from openwfm.app.quality import schedule_coaching
from openwfm.quality.coaching import CoachingReason, CoachingStatus, CoachingTask
from openwfm.scheduling.check import check_schedule
from selfservice_support import MONDAY, small_center

H = pd.Timedelta(hours=1)


def task(tid: str, agent: str, start: pd.Timestamp, end: pd.Timestamp) -> CoachingTask:
    return CoachingTask(tid, agent, "E" + tid, CoachingReason.LOW_SCORE, "score 55 < 70",
                        start.to_pydatetime(), end.to_pydatetime(), minutes=30)


def test_coaching_is_placed_inside_the_window_where_the_agent_works() -> None:
    problem, seg, req = small_center()
    tuesday = MONDAY + pd.Timedelta(days=1)
    sunday = MONDAY + pd.Timedelta(days=6)   # nobody works on Sunday in the small center
    tasks = [task("1", "a1", tuesday + 8 * H, tuesday + 11 * H),
             task("2", "a3", tuesday + 13 * H, tuesday + 15 * H),
             task("3", "a2", sunday + 8 * H, sunday + 12 * H)]
    out = schedule_coaching(problem, req, seg, tasks)
    by_id = {t.id: t for t in out.tasks}
    assert by_id["3"].status == CoachingStatus.OPEN and "no start" in out.unplaced["3"]
    for tid in ("1", "2"):
        t = by_id[tid]
        assert t.status == CoachingStatus.SCHEDULED and tid not in out.unplaced
        start = pd.Timestamp(t.scheduled_start)
        assert t.due_from <= t.scheduled_start and start + 30 * pd.Timedelta(minutes=1) <= \
            pd.Timestamp(t.due_by)
        # the agent was working the whole session in the schedule before
        work = seg[(seg["agent_id"] == t.agent_id) & (seg["activity"] == "work")
                   & (seg["start"] <= start) & (seg["end"] >= start + pd.Timedelta(minutes=30))]
        assert len(work) == 1
        coaching = out.segments[(out.segments["agent_id"] == t.agent_id)
                                & (out.segments["activity"] == "coaching")]
        assert list(coaching["start"]) == [start]
        assert (coaching["end"] - coaching["start"]).iloc[0] == pd.Timedelta(minutes=30)
    assert check_schedule(problem, out.segments).ok
    d = definition("coaching")
    assert d.paid and not d.productive and d.shrinkage == ShrinkageCategory.COACHING
