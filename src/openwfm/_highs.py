"""One way to make a HiGHS solver object, silent, and to run it so a signal stops it.

highspy's constructor prints its licence banner straight to file descriptor 1, before any
option can turn output off; in a command whose stdout is a CSV or a rich table that banner
is noise. This module creates the object with descriptor 1 pointed at /dev/null.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def quiet_highs() -> Any:
    """A `highspy.Highs` with its banner swallowed and ``output_flag`` off.

    Examples
    --------
    >>> h = quiet_highs()
    >>> h.getOptionValue("output_flag")[1]
    False
    """
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    h.setOptionValue("output_flag", False)
    return h


def run(h: Any) -> Any:
    """``h.run()``, stopped at once by SIGINT/SIGTERM in a command (`openwfm.interrupt`):
    HiGHS's interrupt callbacks (simplex, IPM, MIP) see highspy's ``cancelSolve`` flag,
    set from the signal watcher, and the solve returns; then `Interrupted` is raised.
    Outside a command (a library user) it is plain ``h.run()``.
    """
    from openwfm.interrupt import active, check, stop_hook

    if not active():
        return h.run()
    h.HandleUserInterrupt = True
    try:
        with stop_hook(h.cancelSolve):
            status = h.run()
    finally:
        h.HandleUserInterrupt = False
    check()
    return status
