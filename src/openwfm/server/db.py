"""Engines and sessions: SQLite in WAL mode (the embedded default) or any SQLAlchemy URL.

SQLite serializes writers; a write transaction starts with ``BEGIN IMMEDIATE`` so that two
writers queue on the lock (``busy_timeout``) instead of failing when a reader upgrades.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from openwfm.errors import InputError


def _sqlite_pragmas(engine: sa.Engine, *, immediate: bool, begin: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy recipe)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    if begin:
        @event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


POOL_SIZE = 48
"""Connections per engine and process (>= the 40 threads of FastAPI's thread pool)."""


def make_engine(url: str, *, immediate: bool = False, autocommit: bool = False,
                pool_size: int = POOL_SIZE) -> sa.Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout. With
    `autocommit`, each statement is its own transaction (no BEGIN/ROLLBACK round trips):
    for the single-statement reads of the hot path."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InputError(f"not a database URL: {url!r}", column="--db") from exc
    # At least as many connections as the threads FastAPI runs sync handlers and
    # dependencies on (40): a request holds its connection until its session dependency
    # exits, which needs a thread of its own; with fewer connections than threads, every
    # thread can end up waiting for a connection that only a waiting exit would return.
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
        else:
            kwargs.update(pool_size=pool_size, max_overflow=0)
    else:
        # the autocommit engine skips the ping (a round trip per checkout): its one caller
        # retries once on a connection the database dropped (`readpath.agent_week`)
        kwargs.update(pool_pre_ping=not autocommit, pool_size=pool_size, max_overflow=0)
    if autocommit:
        kwargs.update(isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise InputError(f"not a usable database URL {url!r}: {exc}", column="--db") from exc
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine, immediate=immediate, begin=not autocommit)
    return engine


@dataclass
class Database:
    """The read and write session factories of one database, and the autocommit engine
    of the hot path's single-statement reads (`openwfm.server.readpath`)."""

    url: str
    engine: sa.Engine
    write_engine: sa.Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]
    fast_engine: sa.Engine

    @classmethod
    def connect(cls, url: str) -> Database:
        engine = make_engine(url)
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            write_engine = make_engine(url, immediate=True)
            fast_engine = make_engine(url, autocommit=True, pool_size=4)
        elif engine.dialect.name == "sqlite":  # one in-memory database: one connection
            write_engine = fast_engine = engine
        else:
            write_engine = engine
            fast_engine = make_engine(url, autocommit=True, pool_size=4)
        return cls(
            url=url,
            engine=engine,
            write_engine=write_engine,
            read=sessionmaker(engine, expire_on_commit=False),
            write=sessionmaker(write_engine, expire_on_commit=False),
            fast_engine=fast_engine,
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session committed on success, rolled back on any error."""
        with self.write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        for engine in {id(e): e for e in (self.engine, self.write_engine,
                                          self.fast_engine)}.values():
            engine.dispose()


@dataclass(frozen=True)
class UpsertCount:
    """A batch stored by `upsert_by_queue`: ``received`` = ``inserted`` (keys new to the
    table) + ``replaced`` (keys stored before, their values overwritten)."""

    received: int
    inserted: int
    replaced: int


def upsert_by_queue(session: Session, model: Any, time_column: str,
                    rows: list[dict[str, Any]], update: tuple[str, ...]) -> UpsertCount:
    """Insert `rows` of `model` (a table unique on ``queue_id`` and `time_column`), or on a
    key stored before overwrite its `update` columns (``INSERT ... ON CONFLICT DO UPDATE``
    on SQLite and PostgreSQL), in the caller's transaction; how many were new."""
    if not rows:
        return UpsertCount(0, 0, 0)
    existing = 0
    time_attr = getattr(model, time_column)
    for q in sorted({r["queue_id"] for r in rows}):
        times = [r[time_column] for r in rows if r["queue_id"] == q]
        existing += int(session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.queue_id == q, time_attr.in_(times))) or 0)
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the server supports SQLite and PostgreSQL
        raise RuntimeError(f"no INSERT ... ON CONFLICT for {name}")
    stmt = insert(model)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["queue_id", time_column],
        set_={c: stmt.excluded[c] for c in update}), rows)
    return UpsertCount(received=len(rows), inserted=len(rows) - existing, replaced=existing)
