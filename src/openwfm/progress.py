"""Progress lines: the stage a run has entered, for a user watching a long run and for
tests that must act while a given stage runs (e.g. send Ctrl-C inside the HiGHS solve).

Domain code calls `stage` when a long step starts; the line goes to the
``openwfm.progress`` logger, which prints nothing unless a program attaches a handler:
`openwfm` does with ``OPENWFM_PROGRESS=1`` in the environment (``progress: NAME`` on stderr).

Examples
--------
>>> stage("schedule: stage 1 cover LP (HiGHS)")  # silent without a handler
"""

from __future__ import annotations

import logging

LOGGER = logging.getLogger("openwfm.progress")


def stage(name: str) -> None:
    """Report that the run enters stage `name`."""
    LOGGER.info("%s", name)
