"""`openwfm runs`: list the planning runs saved in a database."""

from __future__ import annotations

import typer
from rich.table import Table

from openwfm.cli.app import app, console


@app.command()
def runs(
    db: str = typer.Option("sqlite:///openwfm.db", "--db",
                           help="Database (SQLAlchemy URL): SQLite by default, PostgreSQL too."),
) -> None:
    """List saved planning runs (saved with `openwfm demo --db URL`)."""
    from openwfm.store import RunStore

    store = RunStore(db, create=False)
    table = Table(title=f"runs in {db}")
    for col in ("run", "name", "scenario", "created (UTC)", "tables"):
        table.add_column(col)
    for r in store.runs():
        table.add_row(str(r.run_id), r.name, r.scenario, f"{r.created_utc:%Y-%m-%d %H:%M}",
                      ", ".join(r.tables))
    console.print(table)
