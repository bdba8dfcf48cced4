"""What is simulated: queues, arrival rates, agents and when they work (inputs only).

A `SimulationModel` is a frozen description built once and simulated many times. Time is
in seconds from `origin` (a UTC timestamp); the horizon is `n_intervals` intervals of
`interval_s` seconds. Agents are present in two ways:

- individually, inside their *work* segments (a schedule: breaks and meals are gaps); an
  agent whose segment ends during a contact finishes it and then leaves;
- by **group staffing**: the number of agents of a group changes at given instants
  (`staff_t_s`, `staff_group`, `staff_agents`; a staffing table, ContactCenters' agent
  groups). When the number drops, idle agents leave first; busy ones finish their contact
  and then leave. When it rises, agents still finishing a contact are kept first.

Either way, an agent finishing a contact after leaving counts as present until it ends (a
"ghost" agent), so occupancy never exceeds 1. Agents belong to **groups** (`group_ids`,
`agent_group`; by default one group per skill set) to which the routing policy
(`openwfm.simulation.policy.RoutingPolicy`) refers.

A simulation may start from the floor as it is (`InitialState`, ``SimulationModel.initial``):
contacts already waiting and agents already busy at ``start_s``; see `InitialState`.

Builders: `single_queue_model` (tests, benchmarks), `model_from_staffing` (agents per queue
and interval, e.g. a requirement table), `model_from_segments` (a schedule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openwfm.errors import InputError, shown
from openwfm.simulation.distributions import Distribution, Exponential
from openwfm.simulation.policy import RoutingPolicy

__all__ = [
    "InitialState",
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
class InitialState:
    """The floor at ``start_s`` (seconds from the model's origin), where the simulation
    starts instead of an empty, idle center at 0.

    - ``waiting[q]`` contacts of queue q are waiting at ``start_s``; ``oldest_wait_s[q]`` is
      how long the oldest has waited (NaN: unknown, then every one counts as just arrived,
      an optimistic reading). One of them has waited exactly the oldest wait, the others a
      wait drawn uniformly on ``[0, oldest]`` in each replication (the order statistics of
      Poisson arrivals given their number; the contacts that left before ``start_s`` are not
      known, so no finer spread is claimed). Their patience is the queue's distribution
      conditioned on having waited that long (`Distribution.residual`), their handle time a
      fresh draw of the queue's mean at ``start_s``.
    - Contact i in service at ``start_s`` is held by agent ``busy_agent[i]`` for queue
      ``busy_queue[i]``; it has been in service ``busy_elapsed_s[i]`` seconds (NaN: unknown)
      and ends after a residual time of the queue's handle-time distribution (exponential:
      memoryless; the others conditioned on the elapsed time, or the equilibrium residual
      when it is unknown: `openwfm.simulation.distributions`).

    Nothing happens before ``start_s``: arrivals are drawn as usual and those before it are
    dropped (a thinned Poisson process is the process on the rest), work segments and
    staffing changes before it take effect at ``start_s``.

    KPIs (`openwfm.simulation.kpis`): a contact waiting at ``start_s`` counts in the interval
    holding ``start_s`` (the interval in progress), with its whole wait (before and after
    ``start_s``) against the threshold; a contact in service at ``start_s`` is not counted
    (it was answered before), but its remaining handle time is busy time of its agent.
    """

    start_s: float
    waiting: NDArray[np.int64]
    oldest_wait_s: NDArray[np.float64]
    busy_agent: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    busy_queue: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    busy_elapsed_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True, eq=False)
class SimulationModel:
    """Inputs of a simulation (see module docstring).

    `volume` and `aht_s` are (queues x intervals) arrays: expected contacts offered and mean
    handle time of the contacts *arriving* in each interval; `patience_s`, when given, the
    same for the mean patience (else each queue's `QueueSpec.patience_s`). `skill_rank` is
    (agents x queues): 0 for the agent's first skill, 1 for the second, ..., -1 where the
    agent lacks the skill. Work segments are parallel arrays `seg_agent`, `seg_start_s`,
    `seg_end_s`; group staffing events are `staff_t_s`, `staff_group`, `staff_agents` (the
    group's number of agents from that instant on). `busyness_cv` > 0 multiplies every rate
    of a day by a gamma factor of mean 1 and this coefficient of variation (over-dispersion;
    ContactCenters' busyness B ~ Gamma(a0, a0) is ``busyness_cv = 1 / sqrt(a0)``).
    `arrivals_s` / `arrival_queue`, when given, replace the Poisson arrivals (replay).
    Contacts arriving before `warmup_s` are simulated but left out of every KPI.
    `initial`, when given, starts the simulation from a state (`InitialState`).
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
    patience_s: NDArray[np.float64] | None = None
    group_ids: tuple[str, ...] = ()
    agent_group: NDArray[np.int64] | None = None
    staff_t_s: NDArray[np.float64] | None = None
    staff_group: NDArray[np.int64] | None = None
    staff_agents: NDArray[np.int64] | None = None
    routing: RoutingPolicy = field(default_factory=RoutingPolicy)
    initial: InitialState | None = None

    def __post_init__(self) -> None:
        q, t = np.shape(self.volume)
        if self.initial is not None:
            self._check_initial(q, t)
        if q != len(self.queues) or np.shape(self.aht_s) != (q, t):
            raise ValueError("volume and aht_s must be (queues x intervals)")
        if self.patience_s is not None and np.shape(self.patience_s) != (q, t):
            raise ValueError("patience_s must be (queues x intervals)")
        if np.shape(self.skill_rank) != (len(self.agent_ids), q):
            raise ValueError("skill_rank must be (agents x queues)")
        if np.any(np.asarray(self.volume) < 0) or np.any(~np.isfinite(self.volume)):
            raise ValueError("volume must be finite and >= 0")
        if (self.agent_group is None) != (len(self.group_ids) == 0):
            raise ValueError("give both group_ids and agent_group, or neither")
        if self.agent_group is not None:
            g = np.asarray(self.agent_group)
            if g.shape != (len(self.agent_ids),) or (g.size and (
                    g.min() < 0 or g.max() >= len(self.group_ids))):
                raise ValueError("agent_group must give a group index for every agent")
        staff = (self.staff_t_s, self.staff_group, self.staff_agents)
        if any(x is not None for x in staff):
            if any(x is None for x in staff) or self.agent_group is None:
                raise ValueError("group staffing needs staff_t_s, staff_group, staff_agents "
                                 "and the agents' groups")
            st, sg, sn = (np.asarray(x) for x in staff)
            if not (st.shape == sg.shape == sn.shape) or st.ndim != 1:
                raise ValueError("staff_t_s, staff_group, staff_agents must be parallel")
            if sg.size and (sg.min() < 0 or sg.max() >= len(self.group_ids)):
                raise ValueError("staff_group must be group indices")
            if np.any(sn < 0):
                raise ValueError("staff_agents must be >= 0")
            roster = np.bincount(np.asarray(self.agent_group), minlength=len(self.group_ids))
            for gi in np.unique(sg):
                most = int(sn[sg == gi].max())
                if most > roster[gi]:
                    raise ValueError(f"group {self.group_ids[gi]!r} is staffed with {most} "
                                     f"agents but has only {roster[gi]}")
            staffed = np.isin(np.asarray(self.agent_group)[np.asarray(self.seg_agent)], sg)
            if staffed.any():
                raise ValueError("agents of a staffed group cannot also have work segments")

    def _check_initial(self, nq: int, nt: int) -> None:
        s = self.initial
        assert s is not None
        if not 0 <= s.start_s < nt * self.interval_s:
            raise ValueError("initial.start_s must be inside the horizon")
        w, o = np.asarray(s.waiting), np.asarray(s.oldest_wait_s, dtype=float)
        if w.shape != (nq,) or o.shape != (nq,):
            raise ValueError("initial.waiting and initial.oldest_wait_s need one value "
                             "per queue")
        if np.any(w < 0) or np.any(o[np.isfinite(o)] < 0) or np.any(np.isinf(o)):
            raise ValueError("initial waiting contacts and waits must be >= 0")
        ba, bq, be = (np.asarray(x) for x in (s.busy_agent, s.busy_queue, s.busy_elapsed_s))
        if not (ba.shape == bq.shape == be.shape) or ba.ndim != 1:
            raise ValueError("initial.busy_agent, busy_queue, busy_elapsed_s must be "
                             "parallel")
        if ba.size:
            if ba.min() < 0 or ba.max() >= len(self.agent_ids) or bq.min() < 0 \
                    or bq.max() >= nq:
                raise ValueError("initial busy contacts need agent and queue indices")
            if np.any(be[np.isfinite(be)] < 0):
                raise ValueError("initial.busy_elapsed_s must be >= 0 (NaN: unknown)")
            load = np.bincount(ba, weights=1.0 / np.array(
                [max(1, x.concurrency) for x in self.queues])[bq],
                minlength=len(self.agent_ids))
            if np.any(load > 1.0 + 1e-9):
                a = int(np.argmax(load))
                raise ValueError(f"agent {self.agent_ids[a]!r} holds more contacts at the "
                                 "start than its capacity")

    @property
    def n_intervals(self) -> int:
        return int(np.shape(self.volume)[1])

    @property
    def horizon_s(self) -> float:
        return self.n_intervals * self.interval_s

    def groups(self) -> tuple[tuple[str, ...], NDArray[np.int64]]:
        """(group ids, group index of each agent): the model's own, else one group per skill
        set, named by its queues in the agents' preference order (e.g. ``"fr+en"``)."""
        if self.agent_group is not None:
            return self.group_ids, np.asarray(self.agent_group, dtype=np.int64)
        rank = np.asarray(self.skill_rank)
        a, q = np.nonzero(rank >= 0)
        order = np.lexsort((rank[a, q], a))
        a, q = a[order], q[order]
        cut = np.searchsorted(a, np.arange(rank.shape[0] + 1))
        qids = [x.id for x in self.queues]
        ql = q.tolist()
        names = ["+".join(qids[i] for i in ql[cut[k]:cut[k + 1]]) for k in range(rank.shape[0])]
        ids, idx = np.unique(np.asarray(names, dtype=object), return_inverse=True)
        return tuple(str(x) for x in ids), idx.astype(np.int64)

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

    Each queue has its own agent group (named after the queue) staffed with `agents[q, t]`
    from the start of interval t; when the count drops, idle agents leave first and busy
    ones finish their contact ("ghost" agents); everyone leaves at the end of the horizon.
    Fractional agents are rounded up.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> m = model_from_staffing([QueueSpec("v")], np.array([[100.0, 80.0]]),
    ...                         np.array([[180.0, 180.0]]), np.array([[3, 2]]),
    ...                         interval_s=1800, origin=pd.Timestamp("2026-03-02", tz="UTC"))
    >>> m.agent_ids, m.group_ids
    (('v#0', 'v#1', 'v#2'), ('v',))
    >>> m.staff_t_s.tolist(), m.staff_agents.tolist()
    ([0.0, 1800.0, 3600.0], [3, 2, 0])
    """
    agents = np.asarray(np.ceil(np.asarray(agents, dtype=float) - 1e-9), dtype=np.int64)
    nq, nt = agents.shape
    most = agents.max(axis=1, initial=0) if nt else np.zeros(nq, np.int64)
    n = int(most.sum())
    home = np.repeat(np.arange(nq), most)
    ids = tuple(f"{queues[q].id}#{j}" for q in range(nq) for j in range(int(most[q])))
    rank = np.full((n, nq), -1, dtype=np.int64)
    rank[np.arange(n), home] = 0
    # one event where the count changes (and at 0), one at the horizon
    padded = np.concatenate([np.full((nq, 1), -1), agents, np.zeros((nq, 1), np.int64)],
                            axis=1)
    change = padded[:, 1:] != padded[:, :-1]
    change[:, -1] &= padded[:, -2] != 0
    qi, ti = np.nonzero(change)
    count = padded[:, 1:][qi, ti]
    keep = ~((ti == 0) & (count == 0))
    qi, ti, count = qi[keep], ti[keep], count[keep]
    order = np.lexsort((qi, ti))
    return SimulationModel(
        queues=tuple(queues),
        volume=np.asarray(volume, dtype=float),
        aht_s=np.asarray(aht_s, dtype=float),
        agent_ids=ids,
        skill_rank=rank,
        seg_agent=np.zeros(0, np.int64),
        seg_start_s=np.zeros(0),
        seg_end_s=np.zeros(0),
        interval_s=float(interval_s),
        origin=origin,
        busyness_cv=busyness_cv,
        group_ids=tuple(q.id for q in queues),
        agent_group=home.astype(np.int64),
        staff_t_s=(ti[order] * float(interval_s)).astype(float),
        staff_group=qi[order].astype(np.int64),
        staff_agents=count[order].astype(np.int64),
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
    groups: dict[str, str] | None = None,
    routing: RoutingPolicy | None = None,
) -> SimulationModel:
    """Agents following a schedule (segments table of ``docs/architecture.md``).

    `groups` maps agent ids to agent-group names (default: one group per skill set) and
    `routing` is the router (default: priority / longest idle).

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
                         f"{shown(segments['activity'].iloc[row - 1])}", file=file, row=row,
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
    group_kw: dict[str, object] = {}
    if groups is not None:
        names = [str(groups.get(a, "")) for a in ids_l]
        gids = tuple(sorted(set(names) | {str(g) for g in groups.values()}))
        gpos = {g: i for i, g in enumerate(gids)}
        group_kw = {"group_ids": gids, "agent_group": np.asarray(
            [gpos[n] for n in names], dtype=np.int64)}
    return SimulationModel(
        **group_kw,  # type: ignore[arg-type]
        routing=routing or RoutingPolicy(),
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
