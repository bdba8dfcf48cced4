"""What is simulated: queues, arrival rates, agents and when they work (inputs only).

A `SimulationModel` is a frozen description built once and simulated many times. Time is
in seconds from `origin` (a UTC timestamp); the horizon is `n_intervals` intervals of
`interval_s` seconds. Agents are available only inside their *work* segments (breaks and
meals are gaps); an agent finishes the contact in hand when a segment ends.

Builders: `single_queue_model` (tests, benchmarks), `model_from_staffing` (agents per queue
and interval, e.g. a requirement table), `model_from_segments` (a schedule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openwfm.errors import InputError
from openwfm.simulation.distributions import Distribution, Exponential

__all__ = [
    "QueueSpec",
    "SimulationModel",
    "model_from_segments",
    "model_from_staffing",
    "single_queue_model",
]


@dataclass(frozen=True)
class QueueSpec:
    """One queue as the simulator sees it.

    Parameters
    ----------
    id : queue id.
    answer_within_s : service-level threshold (for email: the deadline).
    handle : shape of the handle-time distribution (mean from the model's `aht_s`).
    patience : patience distribution (its mean is `patience_s`); ``None``: never abandons
        (emails).
    patience_s : mean patience in seconds (ignored when `patience` is None).
    priority : higher is served first by an agent that has several queues waiting.
    concurrency : contacts one agent can hold at once (chat: 2-4; voice and email: 1).
    """

    id: str
    answer_within_s: float = 20.0
    handle: Distribution = field(default_factory=Exponential)
    patience: Distribution | None = None
    patience_s: float = float("inf")
    priority: int = 0
    concurrency: int = 1


@dataclass(frozen=True, eq=False)
class SimulationModel:
    """Inputs of a simulation (see module docstring).

    `volume` and `aht_s` are (queues x intervals) arrays: expected contacts offered and mean
    handle time. `skill_rank` is (agents x queues): 0 for the agent's first skill, 1 for the
    second, ..., -1 where the agent lacks the skill. Work segments are parallel arrays
    `seg_agent`, `seg_start_s`, `seg_end_s`. `busyness_cv` > 0 multiplies every rate of a
    day by a gamma factor of mean 1 and this coefficient of variation (over-dispersion).
    `arrivals_s` / `arrival_queue`, when given, replace the Poisson arrivals (replay).
    Contacts arriving before `warmup_s` are simulated but left out of every KPI.
    """

    queues: tuple[QueueSpec, ...]
    volume: NDArray[np.float64]
    aht_s: NDArray[np.float64]
    agent_ids: tuple[str, ...]
    skill_rank: NDArray[np.int64]
    seg_agent: NDArray[np.int64]
    seg_start_s: NDArray[np.float64]
    seg_end_s: NDArray[np.float64]
    interval_s: float = 1800.0
    origin: pd.Timestamp = field(default_factory=lambda: pd.Timestamp("2026-01-01", tz="UTC"))
    busyness_cv: float = 0.0
    warmup_s: float = 0.0
    arrivals_s: NDArray[np.float64] | None = None
    arrival_queue: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        q, t = np.shape(self.volume)
        if q != len(self.queues) or np.shape(self.aht_s) != (q, t):
            raise ValueError("volume and aht_s must be (queues x intervals)")
        if np.shape(self.skill_rank) != (len(self.agent_ids), q):
            raise ValueError("skill_rank must be (agents x queues)")
        if np.any(np.asarray(self.volume) < 0) or np.any(~np.isfinite(self.volume)):
            raise ValueError("volume must be finite and >= 0")

    @property
    def n_intervals(self) -> int:
        return int(np.shape(self.volume)[1])

    @property
    def horizon_s(self) -> float:
        return self.n_intervals * self.interval_s

    def with_(self, **changes: object) -> SimulationModel:
        """A copy with some fields changed (the model itself is immutable)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def single_queue_model(
    *,
    arrival_rate_per_s: float,
    aht_s: float,
    agents: int,
    horizon_s: float,
    answer_within_s: float = 20.0,
    patience_s: float | None = None,
    handle: Distribution | None = None,
    patience: Distribution | None = None,
    warmup_s: float = 0.0,
    interval_s: float | None = None,
) -> SimulationModel:
    """M/G/n(+G) with constant rate over `horizon_s`: the textbook single queue.

    Arrivals stop at `horizon_s`; the agents stay until every contact that arrived is
    answered or has abandoned (a day "from empty" as in ContactCenters' examples).

    Examples
    --------
    >>> m = single_queue_model(arrival_rate_per_s=0.07, aht_s=120, agents=12, horizon_s=28800)
    >>> m.n_intervals, round(float(m.volume.sum()), 6), len(m.agent_ids)
    (1, 2016.0, 12)
    """
    interval_s = float(interval_s or horizon_s)
    n = round(horizon_s / interval_s)
    pat = None if patience_s is None else (patience or Exponential())
    q = QueueSpec("q", answer_within_s=answer_within_s, handle=handle or Exponential(),
                  patience=pat, patience_s=float("inf") if patience_s is None else patience_s)
    return SimulationModel(
        queues=(q,),
        volume=np.full((1, n), arrival_rate_per_s * interval_s),
        aht_s=np.full((1, n), float(aht_s)),
        agent_ids=tuple(f"a{i}" for i in range(agents)),
        skill_rank=np.zeros((agents, 1), dtype=np.int64),
        seg_agent=np.arange(agents, dtype=np.int64),
        seg_start_s=np.zeros(agents),
        seg_end_s=np.full(agents, np.inf),
        interval_s=interval_s,
        warmup_s=warmup_s,
    )


def _runs(on: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start and end indices (end exclusive) of the runs of True in a 1-d boolean array."""
    d = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def model_from_staffing(
    queues: Sequence[QueueSpec],
    volume: NDArray[np.float64],
    aht_s: NDArray[np.float64],
    agents: NDArray[np.int64],
    *,
    interval_s: float,
    origin: pd.Timestamp,
    busyness_cv: float = 0.0,
) -> SimulationModel:
    """Dedicated agents per queue: `agents[q, t]` agents serve queue q in interval t.

    Agent j of queue q works in every interval where ``j < agents[q, t]``; when the count
    drops, the highest-numbered agents log off after finishing their contact.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> m = model_from_staffing([QueueSpec("v")], np.array([[100.0, 80.0]]),
    ...                         np.array([[180.0, 180.0]]), np.array([[3, 2]]),
    ...                         interval_s=1800, origin=pd.Timestamp("2026-03-02", tz="UTC"))
    >>> m.agent_ids, m.seg_start_s.tolist(), m.seg_end_s.tolist()
    (('v#0', 'v#1', 'v#2'), [0.0, 0.0, 0.0], [3600.0, 3600.0, 1800.0])
    """
    agents = np.asarray(np.ceil(np.asarray(agents, dtype=float)), dtype=np.int64)
    nq, _nt = agents.shape
    ids: list[str] = []
    seg_a: list[int] = []
    seg_s: list[float] = []
    seg_e: list[float] = []
    ranks: list[int] = []
    for qi, q in enumerate(queues):
        for j in range(int(agents[qi].max(initial=0))):
            a = len(ids)
            ids.append(f"{q.id}#{j}")
            ranks.append(qi)
            s, e = _runs(agents[qi] > j)
            seg_a += [a] * len(s)
            seg_s += (s * interval_s).tolist()
            seg_e += (e * interval_s).tolist()
    rank = np.full((len(ids), nq), -1, dtype=np.int64)
    rank[np.arange(len(ids)), np.asarray(ranks, dtype=np.int64)] = 0
    return SimulationModel(
        queues=tuple(queues),
        volume=np.asarray(volume, dtype=float),
        aht_s=np.asarray(aht_s, dtype=float),
        agent_ids=tuple(ids),
        skill_rank=rank,
        seg_agent=np.asarray(seg_a, dtype=np.int64),
        seg_start_s=np.asarray(seg_s, dtype=float),
        seg_end_s=np.asarray(seg_e, dtype=float),
        interval_s=float(interval_s),
        origin=origin,
        busyness_cv=busyness_cv,
    )


def model_from_segments(
    queues: Sequence[QueueSpec],
    volume: NDArray[np.float64],
    aht_s: NDArray[np.float64],
    segments: pd.DataFrame,
    skills: dict[str, Sequence[str]],
    *,
    interval_s: float,
    origin: pd.Timestamp,
    busyness_cv: float = 0.0,
    file: str | None = None,
) -> SimulationModel:
    """Agents following a schedule (segments table of ``docs/architecture.md``).

    Only ``activity == "work"`` segments make an agent available; the agent takes every
    queue of `skills[agent_id]`, in that preference order. A work segment with a `queue`
    (not empty) restricts the agent to that queue for its duration: it is simulated as a
    second identity of the same agent (same id in the log) holding only that skill; at the
    switch the contact in hand is finished while the other identity may already take one.

    Raises
    ------
    InputError
        A missing column, an unknown activity, an agent without skills, end before start.
    """
    for col in ("agent_id", "activity", "start", "end"):
        if col not in segments.columns:
            raise InputError(f"missing column {col!r} in the schedule segments", file=file,
                             column=col)
    bad_act = ~segments["activity"].isin(["work", "break", "meal"])
    if bad_act.any():
        row = int(np.flatnonzero(bad_act.to_numpy())[0]) + 1
        raise InputError(f"activity must be work, break or meal, got "
                         f"{segments['activity'].iloc[row - 1]!r}", file=file, row=row,
                         column="activity")
    qidx = {q.id: i for i, q in enumerate(queues)}
    ids = tuple(dict.fromkeys(segments["agent_id"].astype(str)))
    rank = np.full((len(ids), len(queues)), -1, dtype=np.int64)
    for a, aid in enumerate(ids):
        sk = [s for s in skills.get(aid, ()) if s in qidx]
        if not sk:
            row = int(np.flatnonzero((segments["agent_id"].astype(str) == aid).to_numpy())[0])
            why = ("is not one of the scenario's agents" if aid not in skills
                   else "has no skill among the simulated queues")
            raise InputError(f"agent {aid!r} {why}", file=file, row=row + 1,
                             column="agent_id")
        for r, s in enumerate(sk):
            rank[a, qidx[s]] = r
    work = segments[segments["activity"] == "work"]
    work_rows = np.flatnonzero((segments["activity"] == "work").to_numpy()) + 1
    restricted = np.zeros(len(work), dtype=bool)
    if "queue" in work.columns:
        wq = work["queue"]
        restricted = (wq.notna() & (wq.astype(str).str.strip() != "")).to_numpy()
    ids_l = list(ids)
    rank_l = list(rank)
    virtual: dict[tuple[str, str], int] = {}
    seg_owner = [None] * len(work)
    for i in np.flatnonzero(restricted):
        aid, q = str(work["agent_id"].iloc[i]), str(work["queue"].iloc[i]).strip()
        if q not in qidx:
            raise InputError(f"unknown queue {q!r}; expected one of {sorted(qidx)}",
                             file=file, row=int(work_rows[i]), column="queue")
        if (aid, q) not in virtual:
            virtual[(aid, q)] = len(ids_l)
            ids_l.append(aid)
            row_rank = np.full(len(queues), -1, dtype=np.int64)
            row_rank[qidx[q]] = 0
            rank_l.append(row_rank)
        seg_owner[i] = virtual[(aid, q)]
    start = (pd.to_datetime(work["start"], utc=True) - origin).dt.total_seconds().to_numpy()
    end = (pd.to_datetime(work["end"], utc=True) - origin).dt.total_seconds().to_numpy()
    if np.any(end < start):
        row = int(np.flatnonzero(end < start)[0])
        raise InputError("segment ends before it starts", file=file,
                         row=int(np.flatnonzero((segments["activity"] == "work").to_numpy())[row])
                         + 1, column="end")
    pos = {aid: i for i, aid in enumerate(ids)}
    agent = np.array([pos[a] if o is None else o for a, o in
                      zip(work["agent_id"].astype(str), seg_owner, strict=True)], dtype=np.int64)
    # merge touching/overlapping segments of the same agent
    order = np.lexsort((start, agent))
    agent, start, end = agent[order], start[order], end[order]
    keep_a: list[int] = []
    keep_s: list[float] = []
    keep_e: list[float] = []
    for a, s, e in zip(agent.tolist(), start.tolist(), end.tolist(), strict=True):
        if keep_a and keep_a[-1] == a and s <= keep_e[-1]:
            keep_e[-1] = max(keep_e[-1], e)
        else:
            keep_a.append(a)
            keep_s.append(s)
            keep_e.append(e)
    return SimulationModel(
        queues=tuple(queues),
        volume=np.asarray(volume, dtype=float),
        aht_s=np.asarray(aht_s, dtype=float),
        agent_ids=tuple(ids_l),
        skill_rank=np.asarray(rank_l, dtype=np.int64).reshape(len(ids_l), len(queues)),
        seg_agent=np.asarray(keep_a, dtype=np.int64),
        seg_start_s=np.asarray(keep_s, dtype=float),
        seg_end_s=np.asarray(keep_e, dtype=float),
        interval_s=float(interval_s),
        origin=origin,
        busyness_cv=busyness_cv,
    )
