"""Staffing: how many agents each queue and interval needs (Erlang C / A, chat, email).

`staff_frame` is the table-level entry point (the columns of ``openwfm staff``); the pure
vectorized kernels live in `openwfm.staffing.erlang`, `chat` and `email`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openwfm.staffing.frame import staff_frame

__all__ = ["staff_frame"]


def __getattr__(name: str) -> Any:
    if name == "staff_frame":
        from openwfm.staffing.frame import staff_frame

        return staff_frame
    raise AttributeError(name)
