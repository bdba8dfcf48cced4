"""Chat staffing with concurrency: an agent handles up to ``k`` chats at a time.

Model (and why). Each agent is ``k`` independent *slots*; the chats form an M/M/(n k)
queue (M/M/(n k)+M with a mean patience), so Erlang C / Erlang A apply to the slots.
``aht_s`` must be the handle time of one chat **as measured while agents run k chats in
parallel** (what ACD/chat platforms report): it already contains the slowdown of
multitasking, so no extra factor is guessed. The slot model is the usual first-order model
of chat (Koole 2013, ch. 6; Tezcan & Zhang 2014 show that with the concurrency-adjusted
handle time it is accurate when agents mostly run at full concurrency, which is the regime
a service-level target puts them in). Required agents = ``ceil(s* / k)`` where ``s*`` is
the smallest slot count meeting the targets; because every metric is monotone in the slots,
that is the smallest agent count. With ``k = 1`` it is exactly Erlang C / Erlang A.
Metrics are reported for the ``n k`` slots; occupancy is busy slots / slots.

References
----------
.. [1] G. Koole (2013), "Call Center Optimization", MG books, chapter on multi-channel
   (multi-channel).
.. [2] T. Tezcan & J. Zhang (2014), "Routing and staffing in customer service chat systems
   with impatient customers", Operations Research 62(4):943-956.

Examples
--------
>>> r = chat_required_agents(20.0, 600, concurrency=3, sl_target=0.8, answer_within_s=60)
>>> int(r.agents), int(r.agents) * 3 >= 21
(8, True)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from openwfm.staffing import erlang
from openwfm.staffing.erlang import QueueMetrics, StaffingResult


def _concurrency(concurrency: ArrayLike) -> np.ndarray:
    k = np.asarray(concurrency, dtype=np.float64)
    if np.any(~(k >= 1)) or np.any(k != np.floor(k)):
        raise ValueError("concurrency must be an integer >= 1")
    return k


def chat_metrics(
    agents: ArrayLike,
    traffic_erl: ArrayLike,
    aht_s: ArrayLike,
    concurrency: ArrayLike,
    answer_within_s: ArrayLike,
    patience_s: ArrayLike | None = None,
) -> QueueMetrics:
    """Metrics of ``agents`` agents each handling up to ``concurrency`` chats.

    ``traffic_erl`` is chats per second x ``aht_s`` (slot-Erlangs). The returned ``agents``
    are agents (not slots).

    Examples
    --------
    >>> m1 = chat_metrics(14, 10.0, 180, 1, 20)
    >>> m0 = erlang.metrics(14, 10.0, 180, 20)
    >>> bool(m1.service_level == m0.service_level)
    True
    """
    k = _concurrency(concurrency)
    n = np.asarray(agents, dtype=np.float64)
    m = erlang.metrics(n * k, traffic_erl, aht_s, answer_within_s, patience_s)
    return QueueMetrics(agents=np.broadcast_to(n, m.service_level.shape).astype(np.int64),
                        service_level=m.service_level, asa_s=m.asa_s, p_wait=m.p_wait,
                        p_abandon=m.p_abandon, occupancy=m.occupancy)


def chat_required_agents(
    traffic_erl: ArrayLike,
    aht_s: ArrayLike,
    concurrency: ArrayLike,
    sl_target: ArrayLike,
    answer_within_s: ArrayLike,
    patience_s: ArrayLike | None = None,
    *,
    max_asa_s: ArrayLike | None = None,
    max_abandon: ArrayLike | None = None,
    max_occupancy: ArrayLike | None = None,
) -> StaffingResult:
    """Smallest number of agents (each with ``concurrency`` slots) meeting every target.

    Examples
    --------
    >>> r = chat_required_agents(10.0, 180, 1, 0.8, 20)
    >>> int(r.agents)
    14
    """
    k = _concurrency(concurrency)
    slots = erlang.required_agents(traffic_erl, aht_s, sl_target, answer_within_s, patience_s,
                                   max_asa_s=max_asa_s, max_abandon=max_abandon,
                                   max_occupancy=max_occupancy)
    n = np.ceil(slots.agents / k)
    m = chat_metrics(n, traffic_erl, aht_s, k, answer_within_s, patience_s)
    return StaffingResult(agents=m.agents, service_level=m.service_level, asa_s=m.asa_s,
                          p_wait=m.p_wait, p_abandon=m.p_abandon, occupancy=m.occupancy)
