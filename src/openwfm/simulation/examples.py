"""Published reference models, written with openwfm's own building blocks.

`simple_msk_model()` is ContactCenters' SimpleMSK example (Buist & L'Ecuyer), expressed
directly: 3 call types, 2 agent groups, three 2-hour periods, a gamma day busyness, service
and patience rates by period of arrival, agent groups staffed per period (agents leaving
when the staffing drops finish their call as "ghost" agents), and the single-FIFO-queue
router (contacts try their groups in order; a freed agent takes the oldest waiting call it
can serve). Its published results over 1,000 days: service level 0.501 [0.494, 0.509]
(answered within 20 s ÷ (answered + abandoned after 20 s)) and group-0 occupancy 0.881
[0.877, 0.884]; reproduced in ``tests/test_simulation_simplemsk.py`` and
``docs/simulation.md``.

References
----------
Buist, E. & L'Ecuyer, P., ContactCenters user's guide, "Examples", section "A simple
multi-skill contact center" (``doc/examples/simplemsk.tex``, ``SimpleMSK.java`` and
``SimpleMSK.res`` of github.com/umontreal-simul/contactcenters).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from openwfm.simulation.distributions import Exponential
from openwfm.simulation.model import QueueSpec, SimulationModel
from openwfm.simulation.policy import AgentSelection, Overflow, RoutingPolicy

__all__ = ["SIMPLE_MSK", "simple_msk_model"]

#: SimpleMSK's parameters (rates per minute, as published), per main period
SIMPLE_MSK = {
    "period_min": 120.0,
    "arrival_rate_per_min": ((4.2, 5.3, 3.2), (5.1, 4.3, 4.8), (6.3, 5.2, 4.8)),
    "busyness_alpha0": 28.7,
    "service_rate_per_min": (0.5, 0.6, 0.4),
    "patience_rate_per_min": (0.3, 0.4, 0.2),
    "answer_within_s": 20.0,
    "agents": ((12, 18, 9), (15, 20, 11)),
    "type_to_groups": ((0,), (0, 1), (1,)),
    "group_to_types": ((1, 0), (2, 1)),
}


def simple_msk_model() -> SimulationModel:
    """ContactCenters' SimpleMSK as a `SimulationModel` (module docstring).

    Times in seconds; one interval per 2-hour period; the agents of the last period stay
    after the day's arrivals end until the last call leaves (ContactCenters' wrap-up
    period), so the model has no staffing event at the horizon.

    Examples
    --------
    >>> m = simple_msk_model()
    >>> m.n_intervals, m.interval_s, m.group_ids, round(m.busyness_cv, 4)
    (3, 7200.0, ('group-0', 'group-1'), 0.1867)
    >>> m.volume[1].tolist(), m.aht_s[0].tolist()   # type 1: 5.1/min x 120 min, ...
    ([612.0, 516.0, 576.0], [120.0, 100.0, 150.0])
    """
    p = SIMPLE_MSK
    period_s = p["period_min"] * 60.0
    lam = np.array(p["arrival_rate_per_min"], dtype=float)
    nk, nper = lam.shape
    aht = 60.0 / np.array(p["service_rate_per_min"], dtype=float)
    patience = 60.0 / np.array(p["patience_rate_per_min"], dtype=float)
    queues = tuple(QueueSpec(f"type-{k}", answer_within_s=p["answer_within_s"],
                             handle=Exponential(), patience=Exponential())
                   for k in range(nk))
    staff = np.array(p["agents"], dtype=np.int64)
    ng = staff.shape[0]
    most = staff.max(axis=1)
    agent_group = np.repeat(np.arange(ng), most)
    rank = np.full((agent_group.size, nk), -1, dtype=np.int64)
    for g, types in enumerate(p["group_to_types"]):
        for r, k in enumerate(types):
            rank[agent_group == g, k] = r
    group_ids = tuple(f"group-{g}" for g in range(ng))
    st = np.tile(np.arange(nper) * period_s, ng)
    sg = np.repeat(np.arange(ng), nper)
    return SimulationModel(
        queues=queues,
        volume=lam * p["period_min"],
        aht_s=np.tile(aht, (nk, 1)),
        patience_s=np.tile(patience, (nk, 1)),
        agent_ids=tuple(f"{group_ids[g]}#{i}" for g in range(ng) for i in range(most[g])),
        skill_rank=rank,
        seg_agent=np.zeros(0, np.int64),
        seg_start_s=np.zeros(0),
        seg_end_s=np.zeros(0),
        interval_s=period_s,
        origin=pd.Timestamp("2026-01-05 08:00", tz="UTC"),
        busyness_cv=1.0 / math.sqrt(p["busyness_alpha0"]),
        group_ids=group_ids,
        agent_group=agent_group.astype(np.int64),
        staff_t_s=st.astype(float),
        staff_group=sg.astype(np.int64),
        staff_agents=staff.ravel(),
        routing=RoutingPolicy(
            agent_selection=AgentSelection.OLDEST,
            overflow=tuple(Overflow(q.id, tuple(group_ids[g] for g in gs))
                           for q, gs in zip(queues, p["type_to_groups"], strict=True))),
    )
