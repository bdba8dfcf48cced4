"""`openwfm capacity`: the long-term hiring plan of a scenario's ``[capacity]`` section."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from openwfm.cli import options
from openwfm.cli.app import app, console


@app.command(short_help="Long-term capacity plan: required vs available FTE, hiring plan (HiGHS).")
def capacity(
    scenario_file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                         help="Scenario TOML with a \\[capacity] section."),
    out: Path = typer.Option(Path("openwfm-capacity"), "-o", "--out",
                             help="Output folder (replaced as a whole when the run succeeds).",
                             callback=options.output_dir),
    weeks: int | None = typer.Option(None, "--weeks", min=1, max=104,
                                     help="Horizon in weeks (default: \\[capacity] weeks, 78)."),
    scenarios: bool = typer.Option(False, "--scenarios",
                                   help="Also plan every \\[\\[capacity.scenarios]] and compare."),
    time_limit_s: float | None = typer.Option(
        None, "--time-limit", help="Optional wall-clock cap per plan (s), greater than 0 to "
        "86400; default none: the solver stops at the gap or its node limit, the same plan "
        "on any machine.",
        callback=options.in_range(0, options.MAX_TIME_LIMIT_S, lo_open=True)),
    mip_gap: float = typer.Option(1e-2, "--mip-gap", help="Relative MIP gap to stop at, 0 to 1.",
                               callback=options.in_range(0.0, 1.0)),
    history_file: Path | None = typer.Option(
        None, "--history", exists=True, dir_okay=False,
        help="Interval history CSV (intraday pattern, base volume, AHT); default: the "
             "scenario's history file, or the generated history of a \\[demo] scenario."),
) -> None:
    """Long-term capacity plan: required FTE per site and skill group for up to 104 weeks,
    available FTE (headcount, attrition, hiring classes through training and nesting,
    transfers), and the hiring plan that minimises cost + a penalty on the gap (integer
    program solved by HiGHS; the LP bound and MIP gap are reported).

    Required FTE = productive agent-hours that meet each queue's service goal in every
    interval of a representative week / (fte_hours x (1 - shrinkage) x scheduling
    efficiency). Service level = contacts answered within answer_within_s / contacts
    offered; asa_s = mean wait of answered contacts; occupancy = busy agents / agents.
    Seats host seats x shifts_per_day x 7 / workdays_per_week people.

    Writes weekly_plan.csv, site_plan.csv, hiring_plan.csv, required_by_queue.csv,
    limits.csv, solver.csv (scenarios.csv with --scenarios), capacity.xlsx (one sheet per
    table) and capacity_charts.html.
    """
    from openwfm.app.writers import write_capacity_outputs
    from openwfm.capacity.run import run_capacity, summary_lines
    from openwfm.io.atomic import atomic_dir
    from openwfm.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    history = None
    path = history_file or scenario.history_path
    if path is not None:
        from openwfm.io.intervals import check_queues, read_interval_csv

        history = read_interval_csv(path, tz=scenario.plan_tz,
                                    interval_s=scenario.interval_s).frame
        check_queues(history, [q.id for q in scenario.queues], file=str(path))
    elif "demo" in scenario.extra:
        from openwfm.demo import demo_history

        history = demo_history(scenario)
    with console.status("planning capacity ..."):
        result = run_capacity(scenario, history, weeks=weeks, scenarios=scenarios,
                              time_limit_s=time_limit_s, mip_rel_gap=mip_gap)
    with atomic_dir(out) as tmp:
        write_capacity_outputs(result, tmp)
    table = Table(title=f"openwfm capacity: {scenario.name}")
    table.add_column("what")
    table.add_column("value")
    for what, value in summary_lines(result):
        table.add_row(what, value)
    console.print(table)
    if result.comparison is not None:
        cmp = Table(title="scenarios (differences vs base)")
        cols = ["scenario", "cost", "hires", "under FTE-weeks", "peak seats"]
        for c in cols:
            cmp.add_column(c, justify="left" if c == "scenario" else "right")
        for i, r in result.comparison.iterrows():
            cmp.add_row(str(r["scenario"]),
                        f"{r['total_cost']:,.0f} ({r['cost_vs_base']:+,.0f})"
                        + ("" if r["difference_proven"] or i == 0 else " ?"),
                        f"{int(r['hires'])} ({int(r['hires_vs_base']):+d})",
                        f"{r['under_fte_weeks']:,.0f} ({r['under_vs_base']:+,.0f})",
                        f"{r['peak_seat_use']:.0%}")
        cmp.caption = ("? = the sign of the difference (objective: cost + gap penalties) is "
                       "within the solvers' gaps, see scenarios.csv")
        console.print(cmp)
    console.print(f"wrote {out}/")
