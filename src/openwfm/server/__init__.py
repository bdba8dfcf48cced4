"""The openwfm server: the shared system of record (REST API, storage, jobs, users, roles).

`openwfm serve` runs it; `create_app` builds the FastAPI application; the table models are
in `models`, the request/response models in `schemas`, one router per resource in `routers`,
who-may-do-what in `permissions`, the background jobs in `worker`. See docs/server.md.
"""

from __future__ import annotations

from openwfm.server.app import create_app
from openwfm.server.config import Settings

__all__ = ["Settings", "create_app"]
