"""The `openwfm` command line: thin shells over the application layer
(`openwfm.app`) and the domain packages.

Each sub-command lives in its own module and registers itself on `app`.
"""

from __future__ import annotations

# Importing a module registers its commands on `app`; add one line per command module.
from openwfm.cli import adherence as _adherence  # noqa: F401
from openwfm.cli import capacity as _capacity  # noqa: F401
from openwfm.cli import forecast as _forecast  # noqa: F401
from openwfm.cli import imports as _imports  # noqa: F401
from openwfm.cli import plan as _plan  # noqa: F401
from openwfm.cli import quality as _quality  # noqa: F401
from openwfm.cli import rta as _rta  # noqa: F401
from openwfm.cli import runs as _runs  # noqa: F401
from openwfm.cli import scenario as _scenario  # noqa: F401
from openwfm.cli import schedule as _schedule  # noqa: F401
from openwfm.cli import serve as _serve  # noqa: F401
from openwfm.cli import simulate as _simulate  # noqa: F401
from openwfm.cli import staff as _staff  # noqa: F401
from openwfm.cli.app import app, main, summarize_commands

summarize_commands(app)  # one line per command in `openwfm --help`

__all__ = ["app", "main"]
