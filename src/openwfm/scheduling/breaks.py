"""Stage 3: place each break and meal inside its window where coverage can best spare it.

Against the coverage of all shifts: shifts in start order, breaks in rule order; each break
goes to the start (on the break grid) inside its window whose absence adds the least
understaffing penalty (`problem.penalty`, the objective's own pieces) to the agent's queues,
ties to the largest surplus (scheduled - required); the agent's share is then removed
there. A second pass takes each break out again and re-places it knowing where every other
break went (the first breaks were placed before the later ones existed). Each agent counts
1/k toward each of its k skills here (a heuristic for placement only; reported coverage is
the optimal split, `cover.flow_coverage`).
"""

from __future__ import annotations

import numpy as np

from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.penalty import pieces_penalty


def _add(share: np.ndarray, qs: list[int], start: int, end: int, im: int, w: float) -> None:
    """Add weight `w` per agent to queues `qs` over minutes [start, end) (interval fractions)."""
    T = share.shape[1]
    t0, t1 = start // im, (end - 1) // im
    for t in range(max(0, t0), min(T - 1, t1) + 1):
        lo, hi = max(start, t * im), min(end, (t + 1) * im)
        share[qs, t] += w * (hi - lo) / im


def place_breaks(problem: SchedulingProblem, shifts: list[tuple[str, int]],
                 step_min: int = 15, passes: int = 2
                 ) -> dict[tuple[str, int], list[tuple[str, str, int, int]]]:
    """Place breaks for `shifts` ((agent id, shift type index)).

    Returns, per shift, ``(rule name, activity, start, end)`` in minutes from the origin.
    """
    im = problem.interval_min
    qidx = {q: i for i, q in enumerate(problem.queues)}
    skills = {a.id: [qidx[q] for q in a.skills] for a in problem.scenario.agents}
    cov = np.zeros_like(problem.required, dtype=float)
    carried = problem.carried_productive()  # the previous week's shifts still on here
    for g, grp in enumerate(problem.groups):
        for qn in grp.skills:
            cov[qidx[qn]] += carried[g] / len(grp.skills)
    order = sorted(shifts, key=lambda x: (problem.shift_types[x[1]].start, x[0]))
    for aid, s in order:
        st = problem.shift_types[s]
        _add(cov, skills[aid], st.start, st.end, im, 1.0 / len(skills[aid]))
    req = problem.required
    widths, weights = problem.penalty.widths, problem.penalty.weights
    T = cov.shape[1]
    out: dict[tuple[str, int], list[tuple[str, str, int, int]]] = {}

    def best_start(qs: list[int], st_start: int, a: int, e: int, minutes: int,
                   placed: list[tuple[str, str, int, int]]) -> tuple[int, int] | None:
        offs = [off for off in range(a, e - minutes + 1, step_min)
                if not any(st_start + off < pe and ps < st_start + off + minutes
                           for _, _, ps, pe in placed)]
        if not offs:
            return None
        bs = st_start + np.array(offs)
        t_lo = max(0, int(bs.min()) // im)
        t_hi = min(T, (int(bs.max()) + minutes - 1) // im + 1)
        if t_hi <= t_lo:
            return int(bs[0]), int(bs[0]) + minutes
        t = np.arange(t_lo, t_hi)
        # minutes of each candidate break inside each interval, as interval fractions
        lo = np.maximum(bs[:, None], t * im)
        hi = np.minimum(bs[:, None] + minutes, (t + 1) * im)
        frac = np.clip(hi - lo, 0, None) / im
        pen = np.zeros(len(offs))
        surplus = np.zeros(len(offs))
        for q in qs:
            short = req[q, t] - cov[q, t]
            after = short[None, :] + frac / len(qs)
            pen += (pieces_penalty(after, widths[q, t], weights[q, t])
                    - pieces_penalty(short, widths[q, t], weights[q, t])[None, :]).sum(axis=1)
            surplus -= (short[None, :] * (frac > 0)).sum(axis=1)
        k = int(np.lexsort((-surplus, np.round(pen, 9)))[0])
        return int(bs[k]), int(bs[k]) + minutes

    for _ in range(max(1, passes)):
        for aid, s in order:
            st = problem.shift_types[s]
            qs = skills[aid]
            placed = out.get((aid, s), [])
            rules = [b for b in problem.config.breaks if b.applies(st.length)]
            for b in rules:
                prev = next((x for x in placed if x[0] == b.name), None)
                if prev is not None:  # second pass: take it out, place it again
                    placed = [x for x in placed if x is not prev]
                    _add(cov, qs, prev[2], prev[3], im, 1.0 / len(qs))
                a, e = b.window_min(st.length)
                best = best_start(qs, st.start, a, e, b.minutes, placed)
                if best is None:
                    continue  # the checker reports the missing break
                _add(cov, qs, best[0], best[1], im, -1.0 / len(qs))
                placed.append((b.name, b.activity.value, best[0], best[1]))
            out[aid, s] = sorted(placed, key=lambda x: x[2])
    return out
