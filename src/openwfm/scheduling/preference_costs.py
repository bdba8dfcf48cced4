"""What agent preferences cost in a scheduling problem and how a schedule meets them.

Parsing and validating preferences is `openwfm.scheduling.preferences` (used while the
problem is built); this module prices them against a built `SchedulingProblem` (per shift
type, for the solver's stages) and reports them from a schedule's segments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from openwfm.scheduling.check import shifts_from_segments
from openwfm.scheduling.model import SchedulingProblem, ShiftType
from openwfm.scheduling.preferences import (
    NIGHT_SHIFT_MIN,
    REPORT_COLUMNS,
    PreferenceKind,
)

__all__ = ["local_start_minute", "preference_report", "preferred_types", "shift_penalties"]


def local_start_minute(problem: SchedulingProblem, st: ShiftType) -> int:
    """Local clock minute (after midnight, site zone) at which shift type `st` starts."""
    t = problem.ts(st.start).tz_convert(problem.scenario.site(st.site).tz)
    return t.hour * 60 + t.minute


def preferred_types(problem: SchedulingProblem, agent_ids: set[str], site: str,
                    lengths: set[int]) -> set[int]:
    """Shift types at `site` with a length in `lengths` whose local start lies in the
    ``start_between`` window of one of `agent_ids` (stage-2 candidates, so such a
    preference can be met even where stage 1 put no shift)."""
    wins = [p for p in problem.preferences
            if p.kind is PreferenceKind.START_BETWEEN and p.agent_id in agent_ids]
    if not wins:
        return set()
    out = set()
    for s, st in enumerate(problem.shift_types):
        if st.site == site and st.length in lengths:
            m = local_start_minute(problem, st)
            if any(p.start_ok(m) for p in wins):
                out.add(s)
    return out


def shift_penalties(problem: SchedulingProblem) -> dict[str, np.ndarray]:
    """Agent id -> penalty per shift type (``weight x preference_cost`` summed over the
    agent's ``day_off`` and ``start_between`` preferences the shift violates; ``max_nights``
    is weekly and left out). For move-based search: a move that raises this for an agent
    makes a preference worse."""
    out: dict[str, np.ndarray] = {}
    local: dict[int, int] = {}
    site = {a.id: a.site for a in problem.scenario.agents}
    for p in problem.preferences:
        if p.kind is PreferenceKind.MAX_NIGHTS:
            continue
        pen = out.setdefault(p.agent_id, np.zeros(len(problem.shift_types)))
        days = set(p.plan_days(problem.scenario.plan_start, problem.days))
        for s, st in enumerate(problem.shift_types):
            if st.site != site[p.agent_id]:
                continue
            if p.kind is PreferenceKind.DAY_OFF:
                bad = st.day in days
            else:
                if s not in local:
                    local[s] = local_start_minute(problem, st)
                bad = not p.start_ok(local[s])
            if bad:
                pen[s] += p.weight * problem.config.preference_cost
    return out


def preference_report(problem: SchedulingProblem, segments: pd.DataFrame) -> pd.DataFrame:
    """One row per preference: ``agent_id, kind, value, weight, met, violations, penalty``,
    from the schedule's segments alone (shift = an agent's contiguous segments; its local
    day and start in the site zone; night minutes from the rule pack's window).
    ``penalty = violations x weight x preference_cost``."""
    if not problem.preferences:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    site = {a.id: a.site for a in problem.scenario.agents}
    wanted = {p.agent_id for p in problem.preferences}
    mine: dict[str, list[tuple[int, int, int]]] = {}
    seg = segments[segments["agent_id"].isin(wanted)] if len(segments) else segments
    for sh in shifts_from_segments(seg):
        s = problem.scenario.site(site[sh.agent_id])
        pack = problem.packs[s.name]
        local = sh.start.tz_convert(s.tz)
        day = (local.date() - problem.scenario.plan_start).days
        mins = pd.date_range(sh.start, sh.end, freq="1min", inclusive="left").tz_convert(s.tz)
        tod = np.asarray(mins.hour * 60 + mins.minute)
        ns, ne = round(pack.night_start_h * 60), round(pack.night_end_h * 60)
        night = int(((tod >= ns) | (tod < ne)).sum() if ns > ne else
                    ((tod >= ns) & (tod < ne)).sum())
        mine.setdefault(sh.agent_id, []).append((day, local.hour * 60 + local.minute, night))
    rows = []
    for p in problem.preferences:
        shifts = mine.get(p.agent_id, [])
        if p.kind is PreferenceKind.DAY_OFF:
            days = set(p.plan_days(problem.scenario.plan_start, problem.days))
            n = sum(d in days for d, _, _ in shifts)
        elif p.kind is PreferenceKind.START_BETWEEN:
            n = sum(not p.start_ok(m) for _, m, _ in shifts)
        else:
            n = max(0, sum(x >= NIGHT_SHIFT_MIN for _, _, x in shifts) - (p.max_nights or 0))
        rows.append((p.agent_id, p.kind.value, p.value, p.weight, n == 0, n,
                     round(n * p.weight * problem.config.preference_cost, 6)))
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)
