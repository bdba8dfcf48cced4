"""`openwfm demo`: a full planning run on the embedded demo contact center."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from openwfm.cli.app import app, console


@app.command(short_help="Plan the embedded demo contact center end to end: CSVs and report.html.")
def demo(
    out: Path = typer.Option(Path("openwfm-demo-output"), "-o", "--out",
                             help="Output folder (replaced as a whole when the run succeeds)."),
    db: str | None = typer.Option(None, "--db", help="Also save the run's tables in this "
                                  "database (SQLAlchemy URL, e.g. sqlite:///openwfm.db)."),
) -> None:
    """Plan the embedded demo contact center (a BPO in Casablanca, Manila and Bogota):
    forecast, staffing, schedule, simulation and capacity plan; writes CSVs and report.html."""
    from openwfm.demo import demo_history, demo_scenario
    from openwfm.io.atomic import atomic_dir
    from openwfm.pipeline import PlanContext, default_stages, run_plan
    from openwfm.report import Report

    t0 = time.perf_counter()
    scenario = demo_scenario()
    with console.status("building the demo history ..."):
        history = demo_history(scenario)
    first, last = history["interval_start"].min(), history["interval_start"].max()
    console.print(
        f"[bold]{scenario.name}[/]: {len(scenario.sites)} sites, {len(scenario.queues)} queues, "
        f"{len(scenario.agents)} agents, {len(history):,} history rows "
        f"({first:%Y-%m-%d} .. {last:%Y-%m-%d} UTC); "
        f"planning {scenario.plan_days} days from {scenario.plan_start}"
    )
    with atomic_dir(out) as tmp:
        ctx = PlanContext(scenario=scenario, history=history, out_dir=tmp,
                          report=Report(f"openwfm plan: {scenario.name}"))
        stages = default_stages()
        with console.status("") as status:
            def started(i: int) -> None:
                if i < len(stages):
                    status.update(f"[{i + 1}/{len(stages)}] {stages[i][0]} ...")

            def done(name: str, seconds: float) -> None:
                i = [n for n, _ in stages].index(name)
                console.print(f"  [green]done[/] {name} in {seconds:.1f} s")
                started(i + 1)

            started(0)
            run_plan(ctx, stages, on_stage=done)
        (tmp / "report.html").write_text(ctx.report.to_html(), encoding="utf-8")
    if db is not None:
        from openwfm.store import RunStore

        tables = {name: df for name, df in (("forecast", ctx.forecast),
                                            ("requirement", ctx.requirement),
                                            ("segments", ctx.segments)) if df is not None}
        run_id = RunStore(db).save("demo", scenario=scenario.name, tables=tables,
                                   meta={"timings_s": ctx.timings_s})
        console.print(f"saved run {run_id} ({', '.join(tables)}) in {db}")
    table = Table(title="openwfm demo: summary")
    for col in ("stage", "what", "value"):
        table.add_column(col)
    for row in ctx.summary:
        table.add_row(*row)
    console.print(table)
    console.print(f"wrote {out}/ (report.html and CSVs) in {time.perf_counter() - t0:.1f} s")
