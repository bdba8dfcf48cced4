"""The immutable record logs of a simulation: every KPI is a function of them.

`ContactLog`: one record per simulated contact: replication, arrival (seconds from the
model's origin), queue, wait, outcome (served / abandoned / unserved when the horizon ended
with the contact still waiting and no patience), agent (-1 unless served) and handle time
(drawn for every contact; meaningful for served ones).

`PresenceLog` (``ContactLog.presence``): one record per stretch of time an agent was
present: from log-on to the moment the agent left, which is the end of the work segment
(or the staffing drop) when the agent was idle then, or the end of the contact in hand when
the agent was busy (a "ghost" agent finishing its contact counts as present, as in
ContactCenters). Occupancy = handling time ÷ presence time, so it never exceeds 1.

A simulation started from a state (`openwfm.simulation.model.InitialState`) logs the contacts
carried over from before the start too: ``carried`` is 1 for a contact waiting at the start
(its arrival before the start, its wait counted from its arrival) and 2 for one in service at
the start (logged as arriving at the start with no wait, its handle time the residual).

`Replication` is what the engine returns for one replication; `ContactLog` concatenates
them. This module imports nothing from the engine (the engine imports it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

if TYPE_CHECKING:
    from openwfm.simulation.model import SimulationModel

__all__ = ["OUTCOMES", "ContactLog", "PresenceLog", "Replication"]

#: outcome codes of `ContactLog.outcome`
OUTCOMES: tuple[str, ...] = ("served", "abandoned", "unserved")


@dataclass(frozen=True)
class Replication:
    """The contacts of one replication (arrays in arrival order) as drawn and simulated,
    the agents' presence records and the instant the replication ended (`end_s`: the last
    event, at least the horizon)."""

    arrival_s: NDArray[np.float64]
    queue: NDArray[np.int64]
    handle_s: NDArray[np.float64]
    patience_s: NDArray[np.float64]
    wait_s: NDArray[np.float64]
    agent: NDArray[np.int64]
    outcome: NDArray[np.int8]
    presence_agent: NDArray[np.int64]
    presence_start_s: NDArray[np.float64]
    presence_end_s: NDArray[np.float64]
    end_s: float
    carried: NDArray[np.int8]
    """0 arrived during the run, 1 waiting at the start, 2 in service at the start
    (`openwfm.simulation.model.InitialState`)."""


def _readonly(x: NDArray) -> NDArray:  # type: ignore[type-arg]
    x = np.ascontiguousarray(x)
    x.setflags(write=False)
    return x


@dataclass(frozen=True, eq=False)
class PresenceLog:
    """When each agent was present, per replication (read-only arrays), and when each
    replication ended (`end_s`)."""

    replication: NDArray[np.int32]
    agent: NDArray[np.int32]
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    replication_end_s: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.agent.size)


@dataclass(frozen=True, eq=False)
class ContactLog:
    """Per-contact records of all replications, as read-only numpy arrays, with the agents'
    presence records (`presence`).

    Examples
    --------
    >>> from openwfm.simulation.model import single_queue_model
    >>> from openwfm.simulation.engine import run_replications
    >>> m = single_queue_model(arrival_rate_per_s=0.05, aht_s=60, agents=5, horizon_s=3600)
    >>> log = run_replications(m, 2, seed=1, backend="serial")
    >>> list(log.to_frame().columns)
    ['replication', 'arrival', 'queue', 'wait_s', 'outcome', 'agent', 'handle_s']
    >>> log.replications, bool(log.wait_s.flags.writeable), len(log.presence)
    (2, False, 10)
    """

    replication: NDArray[np.int32]
    arrival_s: NDArray[np.float64]
    queue: NDArray[np.int32]
    wait_s: NDArray[np.float64]
    outcome: NDArray[np.int8]
    agent: NDArray[np.int32]
    handle_s: NDArray[np.float64]
    carried: NDArray[np.int8]
    replications: int
    queue_ids: tuple[str, ...]
    agent_ids: tuple[str, ...]
    origin: pd.Timestamp
    presence: PresenceLog

    @classmethod
    def from_replications(cls, model: SimulationModel,
                          reps: Sequence[Replication]) -> ContactLog:
        cat = np.concatenate
        presence = PresenceLog(
            replication=_readonly(cat([np.full(r.presence_agent.size, i, np.int32)
                                       for i, r in enumerate(reps)])),
            agent=_readonly(cat([r.presence_agent for r in reps]).astype(np.int32)),
            start_s=_readonly(cat([r.presence_start_s for r in reps])),
            end_s=_readonly(cat([r.presence_end_s for r in reps])),
            replication_end_s=_readonly(np.array([r.end_s for r in reps], dtype=float)),
        )
        return cls(
            replication=_readonly(cat([np.full(r.arrival_s.size, i, np.int32)
                                       for i, r in enumerate(reps)])),
            arrival_s=_readonly(cat([r.arrival_s for r in reps])),
            queue=_readonly(cat([r.queue for r in reps]).astype(np.int32)),
            wait_s=_readonly(cat([r.wait_s for r in reps])),
            outcome=_readonly(cat([r.outcome for r in reps])),
            agent=_readonly(cat([r.agent for r in reps]).astype(np.int32)),
            handle_s=_readonly(cat([r.handle_s for r in reps])),
            carried=_readonly(cat([r.carried for r in reps])),
            replications=len(reps),
            queue_ids=tuple(q.id for q in model.queues),
            agent_ids=tuple(model.agent_ids),
            origin=model.origin,
            presence=presence,
        )

    def __len__(self) -> int:
        return int(self.arrival_s.size)

    @property
    def served(self) -> NDArray[np.bool_]:
        return self.outcome == 0

    @property
    def abandoned(self) -> NDArray[np.bool_]:
        return self.outcome == 1

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame: `arrival` in UTC, queue and agent ids, outcome names;
        `handle_s` is empty for contacts not served."""
        agents = np.array((*self.agent_ids, ""), dtype=object)
        return pd.DataFrame({
            "replication": self.replication,
            "arrival": self.origin + pd.to_timedelta(self.arrival_s, unit="s"),
            "queue": np.array(self.queue_ids, dtype=object)[self.queue],
            "wait_s": self.wait_s,
            "outcome": np.array(OUTCOMES, dtype=object)[self.outcome],
            "agent": agents[self.agent],  # -1 -> ""
            "handle_s": np.where(self.served, self.handle_s, np.nan),
        })
