"""The `openwfm` command line: thin shells over the domain packages and the pipeline.

Each sub-command lives in its own module and registers itself on `app`.
"""

from __future__ import annotations

from openwfm.cli.app import app, main

# Importing a module registers its commands on `app`; add one line per command module.
from openwfm.cli import demo as _demo  # noqa: E402,F401

__all__ = ["app", "main"]
