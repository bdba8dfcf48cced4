"""openwfm: open-source workforce management for contact centers.

``openwfm.plan(scenario, history, ...)`` plans a center end to end (`openwfm.app.plan`);
it is imported on first use, so ``import openwfm`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from openwfm.app import PlanResult, plan

__all__ = ["PlanResult", "__version__", "plan"]


def __getattr__(name: str) -> Any:
    if name in ("plan", "PlanResult"):
        import openwfm.app as app

        return getattr(app, name)
    raise AttributeError(f"module 'openwfm' has no attribute {name!r}")
