"""Stage 3: place each break and meal inside its window where coverage can best spare it.

Against the coverage of all shifts: shifts in start order, breaks in rule order; each break
goes to the start (on the break grid) inside its window whose absence adds the least
understaffing penalty (`problem.penalty`, the objective's own pieces, plus
`penalty.empty_interval_cost` for an interval it would leave with nobody) to the agent's
queues,
ties to the largest surplus (scheduled - required); the agent's share is then removed
there. A second pass takes each break out again and re-places it knowing where every other
break went (the first breaks were placed before the later ones existed). Each agent counts
1/k toward each of its k skills here (a heuristic for placement only; reported coverage is
the optimal split, `cover.flow_coverage`).
"""

from __future__ import annotations

import numpy as np

from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.penalty import empty_interval_cost, pieces_penalty


def _add(problem: SchedulingProblem, share: np.ndarray, qs: list[int], start: int, end: int,
         w: float) -> None:
    """Add weight `w` per agent to queues `qs` over minutes [start, end) (interval
    fractions; on a cyclic week the parts past the horizon's edges wrap)."""
    im = problem.interval_min
    ss, ee, _ = problem.fold(np.array([start]), np.array([end]))
    for a, b in zip(ss.tolist(), ee.tolist(), strict=True):
        for t in range(a // im, (b - 1) // im + 1):
            lo, hi = max(a, t * im), min(b, (t + 1) * im)
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
        _add(problem, cov, skills[aid], st.start, st.end, 1.0 / len(skills[aid]))
    req = problem.required
    empty = empty_interval_cost(req, problem.config.understaffing_cost_per_hour,
                                problem.interval_min * 60)
    widths, weights = problem.penalty.widths, problem.penalty.weights
    out: dict[tuple[str, int], list[tuple[str, str, int, int]]] = {}

    def best_start(qs: list[int], st_start: int, a: int, e: int, minutes: int,
                   placed: list[tuple[str, str, int, int]]) -> tuple[int, int] | None:
        offs = [off for off in range(a, e - minutes + 1, step_min)
                if not any(st_start + off < pe and ps < st_start + off + minutes
                           for _, _, ps, pe in placed)]
        if not offs:
            return None
        bs = st_start + np.array(offs)
        t = np.arange(int(bs.min()) // im, (int(bs.max()) + minutes - 1) // im + 1)
        # minutes of each candidate break inside each interval, as interval fractions
        lo = np.maximum(bs[:, None], t * im)
        hi = np.minimum(bs[:, None] + minutes, (t + 1) * im)
        frac = np.clip(hi - lo, 0, None) / im
        t, inside = problem.wrap_intervals(t)  # cyclic: past an edge, the other end
        if not inside.any():
            return int(bs[0]), int(bs[0]) + minutes
        t, frac = t[inside], frac[:, inside]
        pen = np.zeros(len(offs))
        surplus = np.zeros(len(offs))
        for q in qs:
            short = req[q, t] - cov[q, t]
            after = short[None, :] + frac / len(qs)
            pen += (pieces_penalty(after, widths[q, t], weights[q, t])
                    - pieces_penalty(short, widths[q, t], weights[q, t])[None, :]).sum(axis=1)
            # a break that leaves an interval with a requirement with nobody
            emptied = (cov[q, t][None, :] - frac / len(qs) <= 1e-9) & (
                cov[q, t][None, :] > 1e-9) & (frac > 0)
            pen += (emptied * empty[q, t][None, :]).sum(axis=1)
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
                    _add(problem, cov, qs, prev[2], prev[3], 1.0 / len(qs))
                a, e = b.window_min(st.length)
                best = best_start(qs, st.start, a, e, b.minutes, placed)
                if best is None:
                    continue  # the checker reports the missing break
                _add(problem, cov, qs, best[0], best[1], -1.0 / len(qs))
                placed.append((b.name, b.activity.value, best[0], best[1]))
            out[aid, s] = sorted(placed, key=lambda x: x[2])
    return out
