"""Discrete-event simulation of a multi-skill contact center (compiled with numba).

`simulate(model, replications, seed)` runs independent replications of a
`SimulationModel` and returns a `SimulationResult`: the immutable per-contact
`ContactLog` and the KPIs computed from it per queue and interval with 95% confidence
intervals. See ``docs/simulation.md`` for the model, the definitions and the validation.

Definitions: ``service_level`` = answered within ``answer_within_s`` ÷ offered (abandons
count as failures); ``asa_s`` = mean wait of answered contacts; ``p_abandon`` = abandoned ÷
offered; ``occupancy`` = handling agent-seconds ÷ present agent-seconds (an agent finishing
a contact after its shift is present until it ends, so occupancy never exceeds 1).

Examples
--------
>>> from openwfm.simulation import simulate, single_queue_model
>>> m = single_queue_model(arrival_rate_per_s=4.2 / 60, aht_s=120, agents=12,
...                        horizon_s=8 * 3600, answer_within_s=20)
>>> res = simulate(m, replications=8, seed=42)
>>> q = res.queues.iloc[0]
>>> bool(0.85 < q.service_level < 0.95)
True
>>> bool(q.service_level_lo < q.service_level < q.service_level_hi)
True
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from openwfm.simulation.distributions import (
        Deterministic,
        Distribution,
        Empirical,
        Exponential,
        Gamma,
        LogNormal,
        fit_lognormal,
    )
    from openwfm.simulation.engine import Backend, replicate
    from openwfm.simulation.kpis import (
        ReplicationCounts,
        count_by_replication,
        group_kpis,
        interval_kpis,
        kpi_ci,
        mean_ci,
        proportion_ci,
        queue_kpis,
        ratio_ci,
    )
    from openwfm.simulation.model import (
        InitialState,
        QueueSpec,
        SimulationModel,
        model_from_segments,
        model_from_staffing,
        single_queue_model,
    )
    from openwfm.simulation.policy import (
        AgentSelection,
        ContactSelection,
        Overflow,
        RoutingPolicy,
    )
    from openwfm.simulation.records import OUTCOMES, ContactLog, PresenceLog

# The package's names are loaded from their modules on first use (PEP 562): importing
# `openwfm.simulation.policy` (as `openwfm.scenario` does, and through it the server) no
# longer loads the engine (numba), the KPIs (scipy.stats) and the distributions.
_LAZY = {
    **dict.fromkeys(("Deterministic", "Distribution", "Empirical", "Exponential", "Gamma",
                     "LogNormal", "fit_lognormal"), "distributions"),
    **dict.fromkeys(("Backend", "replicate"), "engine"),
    **dict.fromkeys(("ReplicationCounts", "count_by_replication", "group_kpis",
                     "interval_kpis", "kpi_ci", "mean_ci", "proportion_ci", "queue_kpis",
                     "ratio_ci"), "kpis"),
    **dict.fromkeys(("InitialState", "QueueSpec", "SimulationModel", "model_from_segments",
                     "model_from_staffing", "single_queue_model"), "model"),
    **dict.fromkeys(("AgentSelection", "ContactSelection", "Overflow", "RoutingPolicy"),
                    "policy"),
    **dict.fromkeys(("OUTCOMES", "ContactLog", "PresenceLog"), "records"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "OUTCOMES",
    "AgentSelection",
    "Backend",
    "ContactLog",
    "ContactSelection",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "InitialState",
    "LogNormal",
    "Overflow",
    "PresenceLog",
    "QueueSpec",
    "ReplicationCounts",
    "RoutingPolicy",
    "SimulationModel",
    "SimulationResult",
    "count_by_replication",
    "fit_lognormal",
    "group_kpis",
    "interval_kpis",
    "kpi_ci",
    "mean_ci",
    "model_from_segments",
    "model_from_staffing",
    "proportion_ci",
    "queue_kpis",
    "ratio_ci",
    "replicate",
    "simulate",
    "single_queue_model",
]


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """A simulation: its model, its contact log, and KPIs derived from the log."""

    model: SimulationModel
    log: ContactLog
    seed: int | None

    @cached_property
    def counts(self) -> ReplicationCounts:
        from openwfm.simulation.kpis import count_by_replication

        return count_by_replication(self.log, self.model)

    @cached_property
    def intervals(self) -> pd.DataFrame:
        """KPIs per queue and interval with 95% CIs (see `interval_kpis`)."""
        from openwfm.simulation.kpis import interval_kpis

        return interval_kpis(self.log, self.model, counts=self.counts)

    @cached_property
    def queues(self) -> pd.DataFrame:
        """KPIs per queue over the horizon with 95% CIs (see `queue_kpis`)."""
        from openwfm.simulation.kpis import queue_kpis

        return queue_kpis(self.log, self.model, counts=self.counts)

    @cached_property
    def groups(self) -> pd.DataFrame:
        """Occupancy per agent group over each whole replication (see `group_kpis`)."""
        from openwfm.simulation.kpis import group_kpis

        return group_kpis(self.log, self.model)


def simulate(
    model: SimulationModel,
    replications: int = 10,
    seed: int | None = None,
    *,
    backend: Backend = "threads",
    client: Any = None,
    workers: int | None = None,
) -> SimulationResult:
    """Simulate `replications` independent replications of `model`.

    Parameters
    ----------
    model : what to simulate (`single_queue_model`, `model_from_staffing`,
        `model_from_segments`).
    replications : number of independent replications (>= 2 for confidence intervals).
    seed : root seed; replication r uses ``np.random.SeedSequence(seed).spawn(R)[r]``.
    backend : "threads" (default: all cores, the compiled loop releases the GIL), "serial",
        "processes", or "dask" with `client` a ``distributed.Client``; the result is the same
        for the same seed whatever the backend.

    References
    ----------
    L'Ecuyer, P. et al., ContactCenters simulation library, examples MMC / MMCAb (values in
    ``REFERENCES.md`` R4/R5), reproduced in ``tests/test_simulation_validation.py``.
    """
    from openwfm.simulation.engine import run_replications

    log = run_replications(model, replications, seed, backend=backend, client=client,
                           workers=workers)
    return SimulationResult(model=model, log=log, seed=seed)
