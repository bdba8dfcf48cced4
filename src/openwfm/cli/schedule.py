"""`openwfm schedule`: agents' shifts and breaks for the plan from a requirement table."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from openwfm.cli import options
from openwfm.cli.app import app, console

#: The largest requirement of one queue and interval (docs/scheduling.md).
MAX_REQUIRED_AGENTS = 100_000.0


@app.command()
def schedule(
    scenario: Path = typer.Argument(..., exists=True, dir_okay=False,
                                    help="Scenario TOML (sites, queues, agents, and an "
                                    "optional \\[scheduling] section: shifts, breaks, rule "
                                    "packs, history, preferences)."),
    requirement: Path = typer.Argument(..., exists=True, dir_okay=False,
                                       help="Requirement CSV (output of `openwfm staff`): "
                                       "interval_start (UTC), queue, agents."),
    out: Path = typer.Option(Path("openwfm-schedule"), "-o", "--out",
                             help="Output folder (replaced as a whole when the run succeeds).",
                             callback=options.output_dir),
    time_limit_s: float | None = typer.Option(None, "--time-limit-s",
                                              help="Solver time limit per week (default: "
                                              "scenario's \\[scheduling] time_limit_s, "
                                              "else 30); from 0 to 86400 s, 0 excluded.",
                                              callback=options.in_range(
                                                  0, options.MAX_TIME_LIMIT_S, lo_open=True)),
    history: Path | None = typer.Option(
        None, "--history", help="Previous week's end per agent (overrides \\[scheduling] "
        "history): CSV agent_id, last_shift_end (ISO; local to the agent's site without an "
        "offset), consecutive_days_worked (>= 0). Hard: min rest after last_shift_end, max "
        "consecutive days counting the carried-in days."),
    preferences: Path | None = typer.Option(
        None, "--preferences", help="Agent preferences, soft (overrides \\[scheduling] "
        "preferences): CSV agent_id, kind, value[, weight >= 0, default 1]; kind day_off "
        "(ISO date or weekday name), start_between (HH:MM-HH:MM local, inclusive), "
        "max_nights (int). Each violation costs weight x preference_cost shift-hours."),
) -> None:
    """Schedule agents (shifts, breaks, meals) at least cost and shortfall, under labour rules.

    Writes segments.csv (agent_id, site, activity work/break/meal, start, end UTC, queue,
    start_local, end_local in the site zone),
    shifts.csv (UTC and local times), coverage.csv (required vs scheduled productive agents
    per queue and interval), rule_check.csv, schedule_summary.csv (with preferences_met /
    preferences_total), preferences.csv (per preference: met, violations, penalty) and
    ics/<agent>.ics.

    The requirement's `agents` are productive agents for the service goal, where
    service_level = contacts answered within answer_within_s / contacts offered.
    Coverage splits a multi-skill agent between queues (never counted twice). Gap =
    (objective - LP bound) / objective, objective = shift cost + shortfall penalty.
    A plan of several weeks (plan_days = 7, 14, ...) is scheduled week by week, each week
    with the previous one's end as history (rest and consecutive days hold across weeks).

    Shortfall penalty (scenario [scheduling] understaffing_penalty): "service_level", the
    default when the requirement has volume and aht_s: k agents short of r costs
    cost_per_missed_contact x volume x (SL(r) - SL(r - k)) (contacts that miss the goal, SL
    by Erlang C/A or chat slots; email rows piecewise); "piecewise": 1x, 2x, 4x
    understaffing_cost_per_hour per missing agent-hour over 10 %, 15 %, rest of r.
    """
    from dataclasses import replace

    import pandas as pd

    from openwfm.app.writers import write_schedule_outputs
    from openwfm.errors import InputError
    from openwfm.io.atomic import atomic_dir
    from openwfm.scenario import load_scenario
    from openwfm.scheduling.history import read_history
    from openwfm.scheduling.model import scenario_config
    from openwfm.scheduling.preferences import read_preferences
    from openwfm.scheduling.summary import summary_frame
    from openwfm.scheduling.weeks import schedule_weeks

    sc = load_scenario(scenario)
    from openwfm.io.records import check_range, check_unique_rows, read_csv_frame

    req = read_csv_frame(requirement)
    check_unique_rows(req, ("queue", "interval_start"), file=str(requirement),
                      what="requirement interval")
    # more agents than a roster can hold are a typo; the solver would not say so
    check_range(req, "agents", file=str(requirement), lo=0, hi=MAX_REQUIRED_AGENTS)
    if "interval_start" in req.columns:
        ts = pd.to_datetime(req["interval_start"], utc=True, errors="coerce")
        if ts.isna().any():
            row = int(ts.isna().to_numpy().argmax()) + 1
            bad = req["interval_start"].iloc[row - 1]
            raise InputError(f"expected an ISO datetime, got {bad!r}",
                             file=str(requirement), row=row, column="interval_start")
        req["interval_start"] = ts
    config = scenario_config(sc)
    if history is not None:
        config = replace(config, history=read_history(history))
    if preferences is not None:
        config = replace(config, preferences=read_preferences(preferences))
    with console.status("scheduling ..."):
        problem, result = schedule_weeks(sc, req, config, requirement_file=str(requirement),
                                         time_limit_s=time_limit_s)
    with atomic_dir(out) as tmp:
        write_schedule_outputs(problem, result, tmp)
    table = Table(title=f"openwfm schedule: {sc.name}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for what, value in summary_frame(result, problem).itertuples(index=False):
        table.add_row(str(what), str(value))
    for stage, seconds in result.timings_s:
        table.add_row(f"seconds_{stage}", f"{seconds:.2f}")
    console.print(table)
    console.print(f"wrote {out}/ ({len(result.shifts)} shifts, "
                  f"{result.segments['agent_id'].nunique()} agents, .ics per agent)")
