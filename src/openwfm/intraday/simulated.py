"""The predicted service level of the rest of the day by simulation from the current state.

`simulate_rest_of_day` runs `openwfm.simulation` from ``start`` (now) over the intervals of
the reforecast (``rest``: the interval in progress and the later ones), starting from the
floor as it is (`openwfm.simulation.InitialState`):

- the contacts **waiting** now per queue and how long the oldest has waited (the ACD's
  queue state; unknown oldest wait: counted as just arrived);
- the agents **busy** now (on a contact or in after-contact work, from live adherence), each
  holding one contact of the queue its work segment names, else its first skill among the
  simulated queues, for a residual handle time (the elapsed time on the contact when known);
- who works: the segments given (`openwfm.intraday.current.live_segments`: the agents in a
  work state for the interval in progress, the published schedule after), agents following
  their *work* segments; multi-skilled agents routed by the simulator's skills-based routing
  (the scenario's ``[routing]``) over every queue they serve;
- arrivals: Poisson with the reforecast volume of each interval (only the part of the
  interval in progress after ``start``), handle times exponential with the reforecast AHT
  (the Erlang model's assumption, so that the two figures differ by the state and the
  transient, not by a handle-time shape), exponential patience of the queue's
  ``patience_s`` (none for email), chat with its concurrency.

Counting (`openwfm.simulation.kpis`): a contact waiting now counts in the interval in
progress with its whole wait; a contact arriving later in the interval of its arrival; a
contact in service now in none. The interval in progress therefore holds its contacts from
``start`` on plus those waiting at ``start`` (the contacts before are in the actuals).

Per queue and interval, the service level is the **ratio of means** over replications:
expected contacts answered within the threshold / expected contacts (what the Erlang figure
and the re-optimization count, contacts-weighted), with its delta-method 95 % interval
(`openwfm.simulation.ratio_ci`, vectorized here); over the rest of the day, the same with
each replication's sums over all the queue's intervals. (The mean of per-replication ratios
would weigh a replication with one contact in a quiet interval like one with ten: with two
contacts a quarter it reads several points above the expected ratio.) Seeded: the same
inputs and seed give the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from openwfm.scenario import Channel, Scenario
from openwfm.simulation import (
    InitialState,
    ReplicationCounts,
    model_from_segments,
    simulate,
)
from openwfm.simulation.plan import HandleModel, queue_specs

__all__ = ["SimulatedComparison", "SimulatedRest", "compare_rest_of_day",
           "paired_difference", "ratio_of_means", "simulate_rest_of_day"]


@dataclass(frozen=True, eq=False)
class SimulatedRest:
    """A simulated rest of the day.

    ``intervals``: ``interval_start, queue, contacts`` (mean offered per replication, the
    waiting contacts included in the interval in progress), ``service_level`` (ratio of
    means), ``service_level_lo``, ``service_level_hi``. ``rest``: per queue the same over all its
    intervals. ``replications`` and ``seed`` say how it was drawn; ``waiting`` and ``busy``
    the state it started from, ``agents`` how many agents work in it."""

    intervals: pd.DataFrame
    rest: pd.DataFrame
    replications: int
    seed: int
    start: pd.Timestamp
    waiting: dict[str, tuple[int, float | None]]
    busy: int
    agents: int
    """Agents with a work segment in the simulated span."""
    counts: ReplicationCounts
    """Per replication and used cell (`openwfm.simulation.ReplicationCounts`)."""


def ratio_of_means(num: NDArray[np.float64], den: NDArray[np.float64], level: float = 0.95
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per column of (replications x columns) arrays: ``sum(num) / sum(den)`` and its
    delta-method confidence bounds, clipped to [0, 1] (`openwfm.simulation.ratio_ci`
    column by column; NaN where ``den`` is all zero).

    >>> import numpy as np
    >>> from openwfm.simulation import ratio_ci
    >>> num = np.array([[1.0, 0.0], [2.0, 0.0], [2.0, 0.0], [3.0, 0.0], [2.0, 0.0]])
    >>> den = np.array([[2.0, 0.0], [3.0, 0.0], [3.0, 0.0], [4.0, 0.0], [3.0, 0.0]])
    >>> r, lo, hi = ratio_of_means(num, den)
    >>> ref = ratio_ci(num[:, 0], den[:, 0])
    >>> bool(np.allclose([r[0], lo[0], hi[0]], ref)), bool(np.isnan(r[1]))
    (True, True)
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    n = num.shape[0]
    mx, my = num.mean(axis=0), den.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(my > 0, mx / my, np.nan)
        if n < 2:
            return r, np.full_like(r, np.nan), np.full_like(r, np.nan)
        dx, dy = num - mx, den - my
        sxx = (dx * dx).sum(axis=0) / (n - 1)
        sxy = (dx * dy).sum(axis=0) / (n - 1)
        syy = (dy * dy).sum(axis=0) / (n - 1)
        var = (sxx - 2 * r * sxy + r * r * syy) / (my * my)
        half = stats.t.ppf(0.5 + level / 2, n - 1) * np.sqrt(np.maximum(var, 0.0) / n)
    return r, np.clip(r - half, 0.0, 1.0), np.clip(r + half, 0.0, 1.0)


def simulate_rest_of_day(
    scenario: Scenario,
    segments: pd.DataFrame,
    rest: pd.DataFrame,
    start: pd.Timestamp,
    *,
    interval_s: int,
    waiting: Mapping[str, tuple[int, float | None]] | None = None,
    busy: Mapping[str, float | None] | None = None,
    replications: int = 100,
    seed: int = 0,
) -> SimulatedRest:
    """Simulate the rest of the day from the state at `start` (module docstring).

    Parameters
    ----------
    segments : ``agent_id, site, activity, start, end[, queue]`` (UTC); only ``work``
        segments of the scenario's agents count.
    rest : ``interval_start, queue, volume, aht_s``: the interval holding `start` and the
        later ones (the reforecast).
    waiting : queue id -> (contacts waiting at `start`, the oldest wait in seconds or None).
    busy : agent id -> seconds on the contact so far (None: unknown) of each agent busy at
        `start`; an agent without a work segment at `start` is left out.

    Examples
    --------
    >>> from openwfm.scheduling.synthetic import toy_scenario
    >>> sc = toy_scenario(n_agents=2)
    >>> q = sc.queues[0].id
    >>> t = pd.Timestamp("2026-03-31 09:00", tz="UTC")
    >>> seg = pd.DataFrame({"agent_id": [a.id for a in sc.agents], "site": "s",
    ...                     "activity": "work", "start": t, "end": t + pd.Timedelta(hours=1)})
    >>> rest = pd.DataFrame({"interval_start": [t, t + pd.Timedelta(minutes=30)],
    ...                      "queue": q, "volume": 6.0, "aht_s": 300.0})
    >>> a = simulate_rest_of_day(sc, seg, rest, t + pd.Timedelta(minutes=10), interval_s=1800,
    ...                          waiting={q: (8, 90.0)}, replications=50, seed=1)
    >>> b = simulate_rest_of_day(sc, seg, rest, t + pd.Timedelta(minutes=10), interval_s=1800,
    ...                          replications=50, seed=1)
    >>> first = a.intervals.iloc[0]
    >>> bool(first.service_level < b.intervals.iloc[0].service_level), bool(first.contacts > 8)
    (True, True)
    """
    waiting = dict(waiting or {})
    busy = dict(busy or {})
    frame = rest.copy()
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True)
    start = pd.Timestamp(start).tz_convert("UTC")
    origin = frame["interval_start"].min()
    step = pd.Timedelta(seconds=interval_s)
    nt = int((frame["interval_start"].max() - origin) / step) + 1
    specs = queue_specs(scenario, HandleModel.EXPONENTIAL)
    qidx = {s.id: i for i, s in enumerate(specs)}
    volume = np.zeros((len(specs), nt))
    aht = np.full((len(specs), nt), np.nan)
    ti = ((frame["interval_start"] - origin) / step).astype(int).to_numpy()
    qi = frame["queue"].map(qidx).to_numpy()
    vol = pd.to_numeric(frame["volume"], errors="coerce").fillna(0.0).clip(lower=0)
    volume[qi, ti] = vol.to_numpy(dtype=float)
    aht[qi, ti] = pd.to_numeric(frame["aht_s"], errors="coerce").to_numpy(dtype=float)
    for k in range(len(specs)):  # no reforecast AHT: the queue's mean, else 300 s
        row = aht[k]
        ok = np.isfinite(row) & (row > 0)
        row[~ok] = row[ok].mean() if ok.any() else 300.0
    agents = {a.id: a for a in scenario.agents}
    seg = segments[(segments["activity"] == "work")
                   & segments["agent_id"].isin(list(agents))].copy()
    seg["start"] = pd.to_datetime(seg["start"], utc=True)
    seg["end"] = pd.to_datetime(seg["end"], utc=True)
    horizon = origin + nt * step
    seg = seg[(seg["end"] > start) & (seg["start"] < horizon)]
    skilled = np.array([any(s in qidx for s in agents[a].skills) for a in seg["agent_id"]],
                       dtype=bool)
    seg = seg[skilled]  # a boolean array: an empty one still keeps the columns
    skills = {a.id: a.skills for a in scenario.agents}
    groups = {a.id: a.routing_group for a in scenario.agents}
    model = model_from_segments(specs, volume, aht, seg.reset_index(drop=True), skills,
                                interval_s=float(interval_s), origin=origin, groups=groups,
                                routing=scenario.routing)
    start_s = (start - origin).total_seconds()
    w = np.zeros(len(specs), np.int64)
    oldest = np.full(len(specs), np.nan)
    for q, (n, o) in waiting.items():
        if q in qidx:
            w[qidx[q]] = int(n)
            oldest[qidx[q]] = np.nan if o is None else float(o)
    # the busy agents: the identity working at `start` (a segment restricted to a queue is a
    # second identity holding that skill), one contact of its first skill
    on = (model.seg_start_s <= start_s) & (model.seg_end_s > start_s)
    working = {}
    for a in np.asarray(model.seg_agent)[on].tolist():
        working.setdefault(model.agent_ids[a], a)
    rank = np.asarray(model.skill_rank)
    b_agent, b_queue, b_elapsed = [], [], []
    for aid, elapsed in sorted(busy.items()):
        if aid not in working:
            continue
        a = working[aid]
        b_agent.append(a)
        b_queue.append(int(np.argmin(np.where(rank[a] >= 0, rank[a], 1 << 30))))
        b_elapsed.append(np.nan if elapsed is None else max(float(elapsed), 0.0))
    model = model.with_(initial=InitialState(
        start_s, w, oldest, busy_agent=np.asarray(b_agent, np.int64),
        busy_queue=np.asarray(b_queue, np.int64),
        busy_elapsed_s=np.asarray(b_elapsed, dtype=float)))
    res = simulate(model, replications=replications, seed=seed)
    c = res.counts
    keep = [q for q in dict.fromkeys(frame["queue"]) if q in qidx
            and next(x for x in scenario.queues if x.id == q).channel != Channel.EMAIL]
    ids = np.array([s.id for s in specs], dtype=object)
    cell = np.isin(ids[c.cell_queue], keep)
    sl, lo, hi = ratio_of_means(c.answered_within[:, cell], c.offered[:, cell])
    iv = pd.DataFrame({
        "interval_start": origin + pd.to_timedelta(c.cell_interval[cell] * interval_s,
                                                   unit="s"),
        "queue": ids[c.cell_queue[cell]], "contacts": c.offered[:, cell].mean(axis=0),
        "service_level": sl, "service_level_lo": lo, "service_level_hi": hi})
    within, offered = c.by_queue(c.answered_within), c.by_queue(c.offered)
    j = [qidx[q] for q in keep]
    sl, lo, hi = ratio_of_means(within[:, j], offered[:, j])
    rest_frame = pd.DataFrame({"queue": keep, "contacts": offered[:, j].mean(axis=0),
                               "service_level": sl, "service_level_lo": lo,
                               "service_level_hi": hi})
    return SimulatedRest(
        intervals=iv, rest=rest_frame,
        replications=replications, seed=seed, start=start,
        waiting={q: (int(n), o) for q, (n, o) in waiting.items()}, busy=len(b_agent),
        agents=int(seg["agent_id"].nunique()), counts=c)


def paired_difference(aw: NDArray[np.float64], ao: NDArray[np.float64],
                      bw: NDArray[np.float64], bo: NDArray[np.float64], level: float = 0.95
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                 NDArray[np.float64]]:
    """Per column of (replications x columns) arrays of two runs with common random
    numbers (replication r of both drew the same contacts): ``mean(aw)/mean(ao) -
    mean(bw)/mean(bo)`` and its delta-method confidence bounds, the covariance of the four
    sums within a replication included (so that what both runs share cancels).

    >>> import numpy as np
    >>> o = np.array([[10.0], [12.0], [9.0], [11.0]])
    >>> d, lo, hi = paired_difference(o * 0.9, o, o * 0.7, o)
    >>> round(float(d[0]), 6), round(float(hi[0] - lo[0]), 6)   # the same 0.2 each time
    (0.2, 0.0)
    """
    x = np.stack([np.asarray(v, dtype=float) for v in (aw, ao, bw, bo)], axis=-1)
    n = x.shape[0]
    m = x.mean(axis=0)  # columns x 4
    with np.errstate(invalid="ignore", divide="ignore"):
        d = m[:, 0] / m[:, 1] - m[:, 2] / m[:, 3]
        g = np.stack([1 / m[:, 1], -m[:, 0] / m[:, 1] ** 2, -1 / m[:, 3],
                      m[:, 2] / m[:, 3] ** 2], axis=-1)
        if n < 2:
            return d, np.full_like(d, np.nan), np.full_like(d, np.nan)
        xc = x - m
        cov = np.einsum("rci,rcj->cij", xc, xc) / (n - 1)
        var = np.einsum("ci,cij,cj->c", g, cov, g)
        half = stats.t.ppf(0.5 + level / 2, n - 1) * np.sqrt(np.maximum(var, 0.0) / n)
    return d, d - half, d + half


@dataclass(frozen=True, eq=False)
class SimulatedComparison:
    """Two schedules simulated from the same state with the same seed (common random
    numbers). ``intervals``: ``interval_start, queue, contacts, service_level_before,
    service_level_after, delta, delta_lo, delta_hi`` (after - before, paired 95 % interval);
    ``rest``: the same per queue over the rest of the day."""

    intervals: pd.DataFrame
    rest: pd.DataFrame
    replications: int
    seed: int
    total: dict[str, float]
    """The same over every queue simulated (voice and chat), contacts-weighted."""
    busy: int = 0
    """The agents busy at the start who were working then (their contact in hand)."""


def compare_rest_of_day(scenario: Scenario, before: pd.DataFrame, after: pd.DataFrame,
                        rest: pd.DataFrame, start: pd.Timestamp, *, interval_s: int,
                        waiting: Mapping[str, tuple[int, float | None]] | None = None,
                        busy: Mapping[str, float | None] | None = None,
                        replications: int = 100, seed: int = 0) -> SimulatedComparison:
    """`simulate_rest_of_day` of the segments `before` and `after` with the same seed: the
    same contacts arrive with the same handle times and patience in both (every random
    number is drawn per contact before the run), so the difference is the schedules' and
    its interval is narrower than the two bands suggest.

    >>> from openwfm.scheduling.synthetic import toy_scenario
    >>> sc = toy_scenario(n_agents=2)
    >>> q, (a1, a2) = sc.queues[0].id, (a.id for a in sc.agents)
    >>> t = pd.Timestamp("2026-03-31 09:00", tz="UTC")
    >>> one = pd.DataFrame({"agent_id": [a1], "site": "s", "activity": "work", "start": t,
    ...                     "end": t + pd.Timedelta(hours=1)})
    >>> two = pd.concat([one, one.assign(agent_id=a2)])
    >>> rest = pd.DataFrame({"interval_start": [t, t + pd.Timedelta(minutes=30)],
    ...                      "queue": q, "volume": 6.0, "aht_s": 300.0})
    >>> c = compare_rest_of_day(sc, one, two, rest, t, interval_s=1800, replications=50)
    >>> r = c.rest.iloc[0]
    >>> bool(r.service_level_after > r.service_level_before), bool(r.delta_lo > 0)
    (True, True)
    """
    kw = {"interval_s": interval_s, "waiting": waiting, "busy": busy,
          "replications": replications, "seed": seed}
    b = simulate_rest_of_day(scenario, before, rest, start, **kw)  # type: ignore[arg-type]
    a = simulate_rest_of_day(scenario, after, rest, start, **kw)  # type: ignore[arg-type]
    specs = [q.id for q in scenario.queues]
    keep = list(b.rest["queue"])
    j = [specs.index(q) for q in keep]
    origin = pd.to_datetime(rest["interval_start"], utc=True).min()
    cb, ca = b.counts, a.counts
    bw, bo = cb.dense("answered_within")[:, j, :], cb.dense("offered")[:, j, :]
    aw, ao = ca.dense("answered_within")[:, j, :], ca.dense("offered")[:, j, :]
    rows = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, q in enumerate(keep):
            sb, _, _ = ratio_of_means(bw[:, k, :], bo[:, k, :])
            sa, _, _ = ratio_of_means(aw[:, k, :], ao[:, k, :])
            d, lo, hi = paired_difference(aw[:, k, :], ao[:, k, :], bw[:, k, :], bo[:, k, :])
            used = bo[:, k, :].sum(axis=0) + ao[:, k, :].sum(axis=0) > 0
            for t in np.flatnonzero(used):
                rows.append({"interval_start": origin + pd.Timedelta(seconds=int(t)
                                                                     * interval_s),
                             "queue": q, "contacts": float(bo[:, k, t].mean()),
                             "service_level_before": float(sb[t]),
                             "service_level_after": float(sa[t]), "delta": float(d[t]),
                             "delta_lo": float(lo[t]), "delta_hi": float(hi[t])})
        sb, _, _ = ratio_of_means(bw.sum(axis=2), bo.sum(axis=2))
        sa, _, _ = ratio_of_means(aw.sum(axis=2), ao.sum(axis=2))
        d, lo, hi = paired_difference(aw.sum(axis=2), ao.sum(axis=2), bw.sum(axis=2),
                                      bo.sum(axis=2))
        tb, _, _ = ratio_of_means(bw.sum(axis=(1, 2))[:, None], bo.sum(axis=(1, 2))[:, None])
        ta, _, _ = ratio_of_means(aw.sum(axis=(1, 2))[:, None], ao.sum(axis=(1, 2))[:, None])
        td, tlo, thi = paired_difference(*(x.sum(axis=(1, 2))[:, None]
                                           for x in (aw, ao, bw, bo)))
    total = {"service_level_before": float(tb[0]), "service_level_after": float(ta[0]),
             "delta": float(td[0]), "delta_lo": float(tlo[0]), "delta_hi": float(thi[0])}
    cols = ["interval_start", "queue", "contacts", "service_level_before",
            "service_level_after", "delta", "delta_lo", "delta_hi"]
    return SimulatedComparison(
        intervals=pd.DataFrame(rows, columns=cols),
        rest=pd.DataFrame({"queue": keep, "contacts": bo.sum(axis=2).mean(axis=0),
                           "service_level_before": sb, "service_level_after": sa,
                           "delta": d, "delta_lo": lo, "delta_hi": hi}),
        replications=replications, seed=seed, total=total, busy=b.busy)
