"""Alembic migrations shipped inside the package: `upgrade` brings any database to head.

`openwfm serve` calls `upgrade` at start; the migration scripts live in
``openwfm/server/migrations/versions``.
"""

from __future__ import annotations

from importlib.resources import files

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at `url` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("openwfm.server") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (default: head), in one transaction."""
    command.upgrade(alembic_config(url), revision)


def revisions(url: str = "sqlite://") -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(url))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current(engine: sa.Engine) -> str | None:
    """The revision a database is at (None when never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
