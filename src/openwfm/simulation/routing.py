"""Routing tables: who can take which queue, in which order, after which delay, and when.

`routing_tables(model)` flattens a `SimulationModel` and its `RoutingPolicy`
(`openwfm.simulation.policy`) into the CSR arrays the compiled loop reads:

- ``q_agents[q_ptr[q]:q_ptr[q + 1]]``: the agents allowed to take queue q, sorted by
  ``q_tier`` (overflow position, then the contact-selection criterion: 0 for longest idle,
  the number of skills for least skilled, the skill's rank for proficiency), each with
  ``q_delay`` (seconds the contact must have waited); an arriving contact goes to the free
  agent of lowest tier, then lowest load, then longest idle;
- ``qd_delay[qd_ptr[q]:qd_ptr[q + 1]]``: the distinct positive delays of queue q (when a
  waiting contact is offered again to the groups it has become eligible for);
- ``a_queues[a_ptr[a]:a_ptr[a + 1]]``: agent a's queues, highest queue `priority` first,
  then the agent's own skill preference, each with ``a_delay``; ``a_policy[a]`` is the agent
  selection of a's group (0 priority, 1 oldest, 2 priority then oldest);
- ``g_agents[g_ptr[g]:g_ptr[g + 1]]``: the agents of group g;
- ``q_load[q] = 1 / concurrency``: the share of an agent one contact of q occupies;
- shift events ``ev_t, ev_kind, ev_x, ev_n`` sorted by time, then kind: 0 an agent leaves
  (end of a work segment), 1 group ``ev_x`` is staffed with ``ev_n`` agents, 2 an agent
  arrives (start of a work segment). When the model starts from a state
  (``model.initial``), segments ending by its ``start_s`` are dropped and every event before
  it takes effect at ``start_s`` (nothing happens before the start).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from openwfm.simulation.model import SimulationModel
from openwfm.simulation.policy import AgentSelection, ContactSelection

__all__ = ["AGENT_POLICY_CODES", "RoutingTables", "routing_tables"]

#: codes of `AgentSelection` in the compiled loop
AGENT_POLICY_CODES = {AgentSelection.PRIORITY: 0, AgentSelection.OLDEST: 1,
                      AgentSelection.PRIORITY_OLDEST: 2}
_TIER = 1 << 20  # overflow position weight in the tier


@dataclass(frozen=True, eq=False)
class RoutingTables:
    q_load: NDArray[np.float64]
    q_prio: NDArray[np.int64]
    q_ptr: NDArray[np.int64]
    q_agents: NDArray[np.int64]
    q_tier: NDArray[np.int64]
    q_delay: NDArray[np.float64]
    qd_ptr: NDArray[np.int64]
    qd_delay: NDArray[np.float64]
    a_ptr: NDArray[np.int64]
    a_queues: NDArray[np.int64]
    a_delay: NDArray[np.float64]
    a_policy: NDArray[np.int64]
    g_ptr: NDArray[np.int64]
    g_agents: NDArray[np.int64]
    ev_t: NDArray[np.float64]
    ev_kind: NDArray[np.int64]
    ev_x: NDArray[np.int64]
    ev_n: NDArray[np.int64]
    presence_capacity: int


def _csr(keys: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(keys, minlength=n))
    return ptr


def routing_tables(model: SimulationModel) -> RoutingTables:
    """Flatten the routing of `model` (see module docstring).

    Raises
    ------
    ValueError
        An overflow list naming an unknown queue or group.

    Examples
    --------
    >>> import numpy as np
    >>> from openwfm.simulation.model import QueueSpec, SimulationModel
    >>> m = SimulationModel(
    ...     queues=(QueueSpec("fr", priority=0), QueueSpec("en", priority=1)),
    ...     volume=np.ones((2, 1)), aht_s=np.ones((2, 1)), agent_ids=("bilingual", "fr-only"),
    ...     skill_rank=np.array([[0, 1], [0, -1]]), seg_agent=np.array([0, 1]),
    ...     seg_start_s=np.array([0.0, 0.0]), seg_end_s=np.array([1800.0, 900.0]))
    >>> r = routing_tables(m)
    >>> r.a_queues[r.a_ptr[0]:r.a_ptr[1]].tolist()   # en has the higher priority
    [1, 0]
    >>> r.q_agents[r.q_ptr[0]:r.q_ptr[1]].tolist(), r.ev_t.tolist(), r.ev_kind.tolist()
    ([0, 1], [0.0, 0.0, 900.0, 1800.0], [2, 2, 0, 0])
    """
    rank = np.asarray(model.skill_rank, dtype=np.int64)
    n_agents, nq = rank.shape
    policy = model.routing
    group_ids, agent_group = model.groups()
    ng = len(group_ids)
    qidx = {q.id: i for i, q in enumerate(model.queues)}
    gidx = {g: i for i, g in enumerate(group_ids)}
    for g in policy.group_agent_selection:
        if g not in gidx:
            raise ValueError(f"agent selection given for unknown group {g!r}; groups are "
                             f"{sorted(gidx)}")
    # eligibility (queue, group) -> (position, delay), sparse: a queue without an overflow
    # list is open to every skilled agent at delay 0; with one, to its groups only
    has_list = np.zeros(nq, dtype=bool)
    o_key: list[int] = []
    o_pos: list[int] = []
    o_delay: list[float] = []
    for o in policy.overflow:
        if o.queue not in qidx:
            raise ValueError(f"overflow for unknown queue {o.queue!r}; queues are "
                             f"{sorted(qidx)}")
        q = qidx[o.queue]
        has_list[q] = True
        for p, (g, d) in enumerate(zip(o.groups, o.after_s, strict=True)):
            if g not in gidx:
                raise ValueError(f"overflow of queue {o.queue!r} names unknown group {g!r}; "
                                 f"groups are {sorted(gidx)}")
            o_key.append(q * ng + gidx[g])
            o_pos.append(p)
            o_delay.append(d)
    a_idx, q_idx = np.nonzero(rank >= 0)
    g_of = agent_group[a_idx]
    okey = np.asarray(o_key, dtype=np.int64)
    srt = np.argsort(okey)
    okey = okey[srt]
    key = q_idx * ng + g_of
    at = np.minimum(np.searchsorted(okey, key), max(okey.size - 1, 0))
    listed = (okey[at] == key) if okey.size else np.zeros(key.size, dtype=bool)
    ok = ~has_list[q_idx] | listed
    a_idx, q_idx, g_of, at, listed = a_idx[ok], q_idx[ok], g_of[ok], at[ok], listed[ok]
    pos_e = np.where(listed, np.asarray(o_pos, dtype=np.int64)[srt][at] if okey.size else 0, 0)
    d = np.where(listed, np.asarray(o_delay, dtype=float)[srt][at] if okey.size else 0.0, 0.0)
    n_skills = (rank >= 0).sum(axis=1)
    crit = {ContactSelection.LONGEST_IDLE: np.zeros(a_idx.size, np.int64),
            ContactSelection.LEAST_SKILLED: n_skills[a_idx],
            ContactSelection.PROFICIENCY: rank[a_idx, q_idx]}[policy.contact_selection]
    tier = pos_e * _TIER + crit
    # per queue, sorted by tier (then agent index: deterministic)
    order = np.lexsort((a_idx, tier, q_idx))
    q_ptr = _csr(q_idx, nq)
    # per agent: highest priority first, then the agent's own order
    prio = np.array([q.priority for q in model.queues], dtype=np.int64)
    a_order = np.lexsort((rank[a_idx, q_idx], -prio[q_idx], a_idx))
    a_ptr = _csr(a_idx, n_agents)
    # distinct positive delays per queue
    pairs = np.unique(np.stack([q_idx[d > 0], np.round(d[d > 0], 9)]), axis=1) \
        if np.any(d > 0) else np.zeros((2, 0))
    qd_ptr = _csr(pairs[0].astype(np.int64), nq)
    codes = np.array([AGENT_POLICY_CODES[policy.selection_of(g)] for g in group_ids],
                     dtype=np.int64)
    # shift events: segment ends (0), group staffing (1), segment starts (2)
    seg_a = np.asarray(model.seg_agent, dtype=np.int64)
    seg_s = np.asarray(model.seg_start_s, dtype=float)
    seg_e = np.asarray(model.seg_end_s, dtype=float)
    st = np.zeros(0) if model.staff_t_s is None else np.asarray(model.staff_t_s, float)
    sg = np.zeros(0, np.int64) if model.staff_group is None else np.asarray(model.staff_group)
    sn = np.zeros(0, np.int64) if model.staff_agents is None else np.asarray(model.staff_agents)
    if model.initial is not None:  # nothing happens before the start
        t0 = float(model.initial.start_s)
        live = seg_e > t0
        seg_a, seg_s, seg_e = seg_a[live], np.maximum(seg_s[live], t0), seg_e[live]
        st = np.maximum(st, t0)
    n_seg = len(seg_a)
    ev_t = np.concatenate([seg_e, st, seg_s]).astype(float)
    ev_kind = np.concatenate([np.zeros(n_seg, np.int64), np.ones(st.size, np.int64),
                              np.full(n_seg, 2, np.int64)])
    ev_x = np.concatenate([seg_a, sg, seg_a]).astype(np.int64)
    ev_n = np.concatenate([np.zeros(n_seg, np.int64), sn, np.zeros(n_seg, np.int64)])
    ev_order = np.lexsort((ev_kind, ev_t))
    # presence records: at most one per log-on
    rises = 0
    for g in np.unique(sg):
        c = sn[sg == g][np.argsort(st[sg == g], kind="stable")]
        rises += int(np.maximum(np.diff(np.concatenate([[0], c])), 0).sum())
    g_ptr = _csr(agent_group, ng)
    return RoutingTables(
        q_load=1.0 / np.array([max(1, int(q.concurrency)) for q in model.queues], float),
        q_prio=prio,
        q_ptr=q_ptr,
        q_agents=a_idx[order].astype(np.int64),
        q_tier=tier[order].astype(np.int64),
        q_delay=d[order].astype(float),
        qd_ptr=qd_ptr,
        qd_delay=pairs[1].astype(float),
        a_ptr=a_ptr,
        a_queues=q_idx[a_order].astype(np.int64),
        a_delay=d[a_order].astype(float),
        a_policy=codes[agent_group] if n_agents else np.zeros(0, np.int64),
        g_ptr=g_ptr,
        g_agents=np.argsort(agent_group, kind="stable").astype(np.int64),
        ev_t=ev_t[ev_order],
        ev_kind=ev_kind[ev_order],
        ev_x=ev_x[ev_order],
        ev_n=ev_n[ev_order],
        presence_capacity=n_seg + rises + 1 + (
            0 if model.initial is None else len(model.initial.busy_agent)),
    )
