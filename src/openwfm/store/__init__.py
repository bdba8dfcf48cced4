"""Persistence of planning runs in a SQL database: SQLite by default, PostgreSQL supported.

Any SQLAlchemy URL works (``sqlite:///openwfm.db``, ``postgresql+psycopg://user@host/db``).
A run is saved in one transaction: a row in ``openwfm_runs`` plus one SQL table per result
table (``openwfm_run_<id>_<name>``), so analysts can query them directly. Datetimes are
stored as UTC; the columns that were timezone-aware come back as UTC-aware.
"""

from __future__ import annotations

from openwfm.store.runs import RunInfo, RunStore

__all__ = ["RunInfo", "RunStore"]
