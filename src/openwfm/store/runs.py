"""`RunStore`: save and load planning runs with SQLAlchemy."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event

from openwfm.errors import InputError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class RunInfo:
    """One saved run."""

    run_id: int
    name: str
    scenario: str
    created_utc: datetime
    tables: tuple[str, ...]
    meta: dict[str, Any]


def _sqlite_transactional_ddl(engine: sa.Engine) -> None:
    """Make pysqlite run DDL inside our transaction (the SQLAlchemy-documented recipe), so a
    failed save leaves no table behind."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def _short(exc: BaseException) -> str:
    """The driver's own message of a database error, on one line, without SQLAlchemy's
    statement echo and link."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).split("\n")[0]
    return " ".join(text.split())


@contextlib.contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """Turn an unreachable, unreadable or foreign database into one `InputError` naming
    ``--db``."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.DatabaseError, sa.exc.InterfaceError) as exc:
        raise InputError(f"cannot use the database {_redact(url)}: {_short(exc)}",
                         column="--db") from exc


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _sqlite_file(url: sa.engine.URL) -> Path | None:
    db = url.database
    if url.get_backend_name() != "sqlite" or not db or db == ":memory:" or \
            db.startswith("file:"):
        return None
    return Path(db)


def check_url(url: str, *, create: bool = True) -> sa.engine.URL:
    """Parse `url`; for a SQLite file, check its folder exists and it is not a folder (and
    that it exists, unless `create`). Raises `InputError` naming ``--db``."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise InputError(f"not a usable database URL {url!r}: {exc}", column="--db") from exc
    path = _sqlite_file(parsed)
    if path is not None:
        if path.is_dir():
            raise InputError(f"{path} is a folder, not a SQLite database file", column="--db")
        if not path.parent.is_dir():
            raise InputError(f"folder {path.parent} does not exist (for the SQLite file "
                             f"{path.name})", column="--db")
        if not create and not path.exists():
            raise InputError(f"no database at {path} (runs are saved with `openwfm demo "
                             "--db URL`)", column="--db")
    return parsed


class RunStore:
    """Planning runs in a SQL database.

    Examples
    --------
    >>> import pandas as pd
    >>> store = RunStore("sqlite://")
    >>> t = pd.DataFrame({"interval_start": pd.to_datetime(["2026-03-30T00:00Z"]), "agents": [3]})
    >>> run = store.save("demo", scenario="Tiny", tables={"requirement": t})
    >>> store.load(run, "requirement")["interval_start"].dt.tz is not None
    True
    >>> [r.tables for r in store.runs()]
    [('requirement',)]
    """

    def __init__(self, url: str = "sqlite:///openwfm.db", *, create: bool = True) -> None:
        """Open the store at `url`; with ``create=False`` (reading only) a SQLite file that
        does not exist is an error instead of a new empty database."""
        self.url = url
        check_url(url, create=create)
        try:
            self.engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
            raise InputError(f"not a usable database URL {url!r}: {exc}", column="--db") from exc
        if self.engine.dialect.name == "sqlite":
            _sqlite_transactional_ddl(self.engine)
        self._meta = sa.MetaData()
        self._runs = sa.Table(
            "openwfm_runs",
            self._meta,
            sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("scenario", sa.String(200), nullable=False),
            sa.Column("created_utc", sa.DateTime, nullable=False),
            sa.Column("tables_json", sa.Text, nullable=False),
            sa.Column("meta_json", sa.Text, nullable=False),
        )
        with _database_errors(url):
            names = sa.inspect(self.engine).get_table_names()
            if "openwfm_runs" in names:
                have = {c["name"] for c in sa.inspect(self.engine).get_columns("openwfm_runs")}
                want = {c.name for c in self._runs.columns}
                if not want <= have:
                    raise InputError(
                        f"{_redact(url)} has a table openwfm_runs that openwfm did not write "
                        f"(missing columns {sorted(want - have)})", column="--db")
            elif create:
                self._meta.create_all(self.engine)

    @staticmethod
    def _table_name(run_id: int, name: str) -> str:
        return f"openwfm_run_{run_id}_{name}"

    def save(
        self,
        name: str,
        *,
        scenario: str,
        tables: Mapping[str, pd.DataFrame],
        meta: Mapping[str, Any] | None = None,
    ) -> int:
        """Save `tables` as one run, all or nothing; returns the run id."""
        with _database_errors(self.url):
            return self._save(name, scenario=scenario, tables=tables, meta=meta)

    def _save(self, name: str, *, scenario: str, tables: Mapping[str, pd.DataFrame],
              meta: Mapping[str, Any] | None) -> int:
        for key in tables:
            if not _NAME.match(key):
                raise InputError(
                    f"table name {key!r}: expected lower-case letters, digits and '_'",
                    column="tables",
                )
        layout: dict[str, list[str]] = {}
        with self.engine.begin() as conn:
            run_id = conn.execute(
                self._runs.insert().values(
                    name=name,
                    scenario=scenario,
                    created_utc=datetime.now(UTC).replace(tzinfo=None),
                    tables_json="{}",
                    meta_json=json.dumps(dict(meta or {}), default=str),
                )
            ).inserted_primary_key[0]
            for key, df in tables.items():
                out = df.copy()
                aware = [c for c in out.columns if isinstance(out[c].dtype, pd.DatetimeTZDtype)]
                for c in aware:
                    out[c] = out[c].dt.tz_convert("UTC").dt.tz_localize(None)
                layout[key] = aware
                out.to_sql(self._table_name(run_id, key), conn, index=False)
            conn.execute(
                self._runs.update()
                .where(self._runs.c.run_id == run_id)
                .values(tables_json=json.dumps(layout))
            )
        return int(run_id)

    def runs(self) -> list[RunInfo]:
        """All saved runs, oldest first (none when the store has no runs table yet)."""
        with _database_errors(self.url):
            if "openwfm_runs" not in sa.inspect(self.engine).get_table_names():
                return []
            with self.engine.connect() as conn:
                rows = conn.execute(sa.text(
                    "SELECT run_id, name, scenario, created_utc, tables_json, meta_json "
                    "FROM openwfm_runs ORDER BY run_id")).all()
        out = []
        for r in rows:
            try:
                created = r.created_utc
                if isinstance(created, str):
                    created = datetime.fromisoformat(created)
                if not isinstance(created, datetime):
                    raise TypeError(f"created_utc {created!r} is not a date-time")
                out.append(RunInfo(
                    run_id=int(r.run_id), name=str(r.name), scenario=str(r.scenario),
                    created_utc=created.replace(tzinfo=UTC),
                    tables=tuple(json.loads(r.tables_json)),
                    meta=json.loads(r.meta_json),
                ))
            except (TypeError, ValueError) as exc:
                raise InputError(f"run {r.run_id} of {_redact(self.url)} is damaged: {exc}",
                                 row=None, column="--db") from exc
        return out

    def load(self, run_id: int, table: str) -> pd.DataFrame:
        """One table of one run, with its UTC datetimes restored."""
        with _database_errors(self.url), self.engine.connect() as conn:
            row = conn.execute(
                sa.select(self._runs.c.tables_json).where(self._runs.c.run_id == run_id)
            ).first()
            if row is None:
                raise InputError(f"no run {run_id} in the store", column="run_id")
            layout = json.loads(row.tables_json)
            if table not in layout:
                raise InputError(
                    f"run {run_id} has no table {table!r}; it has {sorted(layout)}",
                    column="table",
                )
            df = pd.read_sql_table(self._table_name(run_id, table), conn)
        for c in layout[table]:
            df[c] = pd.to_datetime(df[c]).dt.tz_localize("UTC")
        return df
