"""Stage 3: place each break and meal inside its window where coverage can best spare it.

Greedy against the residual coverage: shifts in start order, breaks in rule order; each
break goes to the start (on the break grid) inside its window that maximises the surplus
(scheduled share - required) of the agent's queues over the break, then the agent's share
is removed there. Each agent counts 1/k toward each of its k skills here (a heuristic for
placement only; reported coverage is the optimal split, `cover.flow_coverage`).
"""

from __future__ import annotations

import numpy as np

from openwfm.scheduling.model import SchedulingProblem


def _add(share: np.ndarray, qs: list[int], start: int, end: int, im: int, w: float) -> None:
    """Add weight `w` per agent to queues `qs` over minutes [start, end) (interval fractions)."""
    T = share.shape[1]
    t0, t1 = start // im, (end - 1) // im
    for t in range(max(0, t0), min(T - 1, t1) + 1):
        lo, hi = max(start, t * im), min(end, (t + 1) * im)
        share[qs, t] += w * (hi - lo) / im


def place_breaks(problem: SchedulingProblem, shifts: list[tuple[str, int]],
                 step_min: int = 15) -> dict[tuple[str, int], list[tuple[str, str, int, int]]]:
    """Place breaks for `shifts` ((agent id, shift type index)).

    Returns, per shift, ``(rule name, activity, start, end)`` in minutes from the origin.
    """
    im = problem.interval_min
    qidx = {q: i for i, q in enumerate(problem.queues)}
    skills = {a.id: [qidx[q] for q in a.skills] for a in problem.scenario.agents}
    share = np.zeros_like(problem.required, dtype=float)
    order = sorted(shifts, key=lambda x: (problem.shift_types[x[1]].start, x[0]))
    for aid, s in order:
        st = problem.shift_types[s]
        _add(share, skills[aid], st.start, st.end, im, 1.0 / len(skills[aid]))
    surplus = share - problem.required
    out: dict[tuple[str, int], list[tuple[str, str, int, int]]] = {}
    T = surplus.shape[1]
    for aid, s in order:
        st = problem.shift_types[s]
        qs = skills[aid]
        placed: list[tuple[str, str, int, int]] = []
        for b in problem.config.breaks:
            if not b.applies(st.length):
                continue
            a, e = b.window_min(st.length)
            best, best_score = None, -np.inf
            for off in range(a, e - b.minutes + 1, step_min):
                bs, be = st.start + off, st.start + off + b.minutes
                if any(bs < pe and ps < be for _, _, ps, pe in placed):
                    continue
                t0, t1 = max(0, bs // im), min(T, (be - 1) // im + 1)
                score = float(surplus[np.ix_(qs, np.arange(t0, t1))].sum()) if t1 > t0 else 0.0
                if score > best_score + 1e-9:
                    best, best_score = (bs, be), score
            if best is None:
                continue  # the checker reports the missing break
            _add(surplus, qs, best[0], best[1], im, -1.0 / len(qs))
            placed.append((b.name, b.activity.value, best[0], best[1]))
        out[aid, s] = sorted(placed, key=lambda x: x[2])
    return out
