"""Skills-based routing tables: who can take which queue, in which order, and when.

`routing_tables(model)` flattens a `SimulationModel` into the CSR arrays the compiled loop
reads:

- ``q_agents[q_ptr[q]:q_ptr[q + 1]]``: the agents having skill q (an arriving contact goes
  to the available one with the lowest load, ties to the longest idle);
- ``a_queues[a_ptr[a]:a_ptr[a + 1]]``: agent a's queues in the order the agent serves them
  when several have contacts waiting: highest queue `priority` first, then the agent's own
  skill preference (`skill_rank` 0, 1, ...);
- ``q_load[q] = 1 / concurrency``: the share of an agent one contact of q occupies;
- log-on / log-off events ``ev_t, ev_a, ev_on`` sorted by time (log-off first on ties).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from openwfm.simulation.model import SimulationModel

__all__ = ["RoutingTables", "routing_tables"]


@dataclass(frozen=True, eq=False)
class RoutingTables:
    q_load: NDArray[np.float64]
    q_ptr: NDArray[np.int64]
    q_agents: NDArray[np.int64]
    a_ptr: NDArray[np.int64]
    a_queues: NDArray[np.int64]
    ev_t: NDArray[np.float64]
    ev_a: NDArray[np.int64]
    ev_on: NDArray[np.bool_]


def routing_tables(model: SimulationModel) -> RoutingTables:
    """Flatten the routing of `model` (see module docstring).

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
    >>> r.q_agents[r.q_ptr[0]:r.q_ptr[1]].tolist(), r.ev_t.tolist(), r.ev_on.tolist()
    ([0, 1], [0.0, 0.0, 900.0, 1800.0], [True, True, False, False])
    """
    rank = np.asarray(model.skill_rank, dtype=np.int64)
    n_agents, nq = rank.shape
    prio = np.array([q.priority for q in model.queues], dtype=np.int64)
    q_lists = [np.flatnonzero(rank[:, q] >= 0) for q in range(nq)]
    q_ptr = np.zeros(nq + 1, dtype=np.int64)
    q_ptr[1:] = np.cumsum([len(x) for x in q_lists])
    a_lists = []
    for a in range(n_agents):
        qs = np.flatnonzero(rank[a] >= 0)
        a_lists.append(qs[np.lexsort((rank[a, qs], -prio[qs]))])
    a_ptr = np.zeros(n_agents + 1, dtype=np.int64)
    a_ptr[1:] = np.cumsum([len(x) for x in a_lists])
    n_seg = len(model.seg_agent)
    ev_t = np.concatenate([model.seg_start_s, model.seg_end_s]).astype(float)
    ev_a = np.concatenate([model.seg_agent, model.seg_agent]).astype(np.int64)
    ev_on = np.concatenate([np.ones(n_seg, bool), np.zeros(n_seg, bool)])
    order = np.lexsort((ev_on, ev_t))
    conc = np.array([max(1, int(q.concurrency)) for q in model.queues], dtype=float)
    return RoutingTables(
        q_load=1.0 / conc,
        q_ptr=q_ptr,
        q_agents=np.concatenate([*q_lists, np.empty(0, np.int64)]).astype(np.int64),
        a_ptr=a_ptr,
        a_queues=np.concatenate([*a_lists, np.empty(0, np.int64)]).astype(np.int64),
        ev_t=ev_t[order],
        ev_a=ev_a[order],
        ev_on=ev_on[order],
    )
