"""Alembic: an empty database and a database at each earlier revision upgrade to head, on
SQLite and on a real PostgreSQL server, and head matches the table models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from openwfm.server.migrate import alembic_config, current, revisions, upgrade
from openwfm.server.models import Base


def _check_head(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        assert current(engine) == revisions()[-1]
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True}), Base.metadata)
        assert diff == [], f"migrations and models differ: {diff}"
    finally:
        engine.dispose()


def _walk(url_for: object) -> None:
    revs = revisions()
    assert len(revs) >= 2
    for start in [None, *revs[:-1]]:
        url = url_for(start)  # type: ignore[operator]
        if start is not None:
            upgrade(url, start)
            engine = sa.create_engine(url)
            assert current(engine) == start
            engine.dispose()
        upgrade(url)
        _check_head(url)
    # and back down to nothing: every downgrade works
    command.downgrade(alembic_config(url), "base")
    engine = sa.create_engine(url)
    assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()


def test_sqlite_upgrades_from_every_revision(tmp_path: Path) -> None:
    _walk(lambda start: f"sqlite:///{tmp_path / f'from-{start}.db'}")


@pytest.mark.slow
def test_postgresql_upgrades_from_every_revision(pg_server_url: str) -> None:
    import uuid

    names: list[str] = []
    admin = sa.create_engine(f"{pg_server_url}/postgres", isolation_level="AUTOCOMMIT")

    def fresh(start: str | None) -> str:
        name = f"openwfm_mig_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        names.append(name)
        return f"{pg_server_url}/{name}"

    try:
        _walk(fresh)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
