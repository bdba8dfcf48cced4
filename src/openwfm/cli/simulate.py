"""`openwfm simulate`: simulate a scenario's forecast with a schedule or a staffing table."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from openwfm.cli import options
from openwfm.cli.app import app, console
from openwfm.simulation.plan import HandleModel
from openwfm.simulation.policy import AgentSelection, ContactSelection

_DEFS = (
    "service_level = contacts answered within answer_within_s / contacts offered (abandons "
    "count as failures); asa_s = mean wait of answered contacts; p_abandon = abandoned / "
    "offered; occupancy = handling agent-seconds / working agent-seconds of the agents "
    "having the queue among their skills (a chat counts 1/concurrency). Each KPI: mean over "
    "replications with a 95% Student-t confidence interval (<kpi>_lo, <kpi>_hi)."
)


#: Bounds of what a simulation computes (docs/simulation.md): contacts of one interval and
#: agents on duty in one interval. Beyond them the run takes hours or exhausts memory.
MAX_SIMULATED_VOLUME = 1_000_000.0
MAX_SIMULATED_AGENTS = 100_000.0
MAX_AHT_S = 7 * 86_400.0


def _read_csv(path: Path):
    from openwfm.io.records import read_csv_frame

    return read_csv_frame(path)


def _check_forecast(fc, path: Path) -> None:
    """Volumes and handle times a simulation can run, one row per queue and interval."""
    import numpy as np
    import pandas as pd

    from openwfm.io.records import check_range, check_unique_rows

    file = str(path)
    check_unique_rows(fc, ("queue", "interval_start"), file=file, what="interval")
    check_range(fc, "volume", file=file, lo=0, hi=MAX_SIMULATED_VOLUME)
    if "aht_s" in fc.columns:
        busy = (pd.to_numeric(fc["volume"], errors="coerce") > 0).to_numpy() \
            if "volume" in fc.columns else np.ones(len(fc), dtype=bool)
        check_range(fc, "aht_s", file=file, lo=0, hi=MAX_AHT_S, lo_open=True, where=busy)


def _check_staffing(df, path: Path) -> None:
    from openwfm.io.records import check_range, check_unique_rows

    check_unique_rows(df, ("queue", "interval_start"), file=str(path), what="interval")
    check_range(df, "agents", file=str(path), lo=0, hi=MAX_SIMULATED_AGENTS)


@app.command(short_help=(
    "Simulate a forecast with a schedule or staffing: KPIs with 95% CIs and the contact log."),
    help=(
    "Simulate the contact center of SCENARIO (TOML) with the volumes and AHT of FORECAST "
    "(interval CSV: interval_start UTC ISO 8601, queue, volume, aht_s) and either the agents "
    "of a schedule (--schedule: agent_id, site, activity work/break/meal, start, end UTC) or "
    "a staffing table (--staffing: interval_start, queue, agents). Discrete-event simulation "
    "with skills-based routing as the scenario's [routing] table configures it (agent "
    "selection priority / oldest / priority_oldest, contact selection longest_idle / "
    "least_skilled / proficiency, per-queue overflow to agent groups after a delay), queue "
    "priorities, chat concurrency, email backlog, exponential patience (the queue's "
    "patience_s), agents finishing their contact when a break or shift starts (present until "
    "it ends: occupancy never exceeds 1). Writes OUT/intervals.csv (per queue and interval), "
    "OUT/queues.csv (per "
    "queue over the period) and OUT/contacts.csv (one row per simulated contact: "
    "replication, arrival, queue, wait_s, outcome served/abandoned/unserved, agent, "
    "handle_s). " + _DEFS
))
def simulate(
    scenario: Path = typer.Argument(..., exists=True, dir_okay=False, help="Scenario TOML."),
    forecast: Path = typer.Argument(..., exists=True, dir_okay=False, help="Forecast CSV."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder (replaced on success).",
                     callback=options.output_dir),
    schedule: Path | None = typer.Option(None, "--schedule", exists=True, dir_okay=False,
                                         help="Schedule segments CSV."),
    staffing: Path | None = typer.Option(None, "--staffing", exists=True, dir_okay=False,
                                         help="Staffing / requirement CSV."),
    replications: int = typer.Option(10, "--replications", "-r",
                                     help="Independent replications (>= 2 for CIs), 1 "
                                     f"to {options.MAX_REPLICATIONS}.",
                                     callback=options.in_range(1, options.MAX_REPLICATIONS)),
    seed: int = typer.Option(0, "--seed", help="Root random seed.",
                      callback=options.in_range(0, options.MAX_SEED)),
    handle: HandleModel = typer.Option(HandleModel.LOGNORMAL, "--handle",
                                       help="Handle-time distribution (mean = aht_s)."),
    handle_cv: float = typer.Option(1.0, "--handle-cv", callback=options.in_range(0.01, 10.0),
                                    help="Coefficient of variation of lognormal handle times."),
    busyness_cv: float = typer.Option(0.0, "--busyness-cv", callback=options.in_range(0.0, 10.0),
                                      help="CV of a gamma day-level volume factor (0: Poisson)."),
    agent_selection: AgentSelection | None = typer.Option(
        None, "--agent-selection",
        help="Which waiting contact a freed agent takes: priority (queue priority, then the "
             "agent's skill order), oldest (longest wait across its queues), priority_oldest. "
             "Default: the scenario's [routing] agent_selection, else priority."),
    contact_selection: ContactSelection | None = typer.Option(
        None, "--contact-selection",
        help="Which idle agent a contact goes to: longest_idle, least_skilled (fewest skills "
             "first), proficiency (agents whose first skill it is first). Default: the "
             "scenario's [routing] contact_selection, else longest_idle."),
    no_contacts: bool = typer.Option(False, "--no-contacts",
                                     help="Do not write contacts.csv (it can be large)."),
) -> None:
    import pandas as pd

    from openwfm.errors import InputError
    from openwfm.io.atomic import atomic_dir
    from openwfm.scenario import load_scenario
    from openwfm.simulation import simulate as run
    from openwfm.simulation.plan import plan_model

    if (schedule is None) == (staffing is None):
        raise InputError("give exactly one of --schedule SEGMENTS.csv or "
                         "--staffing REQUIREMENT.csv")
    sc = load_scenario(scenario)
    fc = _read_csv(forecast)
    _check_forecast(fc, forecast)
    files = {"forecast": str(forecast)}
    if schedule is not None:
        seg = _read_csv(schedule)
        files["schedule"] = str(schedule)
        for col in ("start", "end"):
            if col in seg.columns:
                try:
                    seg[col] = pd.to_datetime(seg[col], utc=True)
                except (ValueError, TypeError) as exc:
                    raise InputError(f"not a date-time: {exc}", file=str(schedule),
                                     column=col) from exc
        model = plan_model(sc, fc, segments=seg, handle=handle, handle_cv=handle_cv,
                           busyness_cv=busyness_cv, files=files,
                           agent_selection=agent_selection,
                           contact_selection=contact_selection)
    else:
        files["staffing"] = str(staffing)
        staff_df = _read_csv(staffing)  # type: ignore[arg-type]
        _check_staffing(staff_df, staffing)  # type: ignore[arg-type]
        model = plan_model(sc, fc, staffing=staff_df, handle=handle,
                           handle_cv=handle_cv, busyness_cv=busyness_cv, files=files,
                           agent_selection=agent_selection,
                           contact_selection=contact_selection)
    with console.status(f"simulating {replications} replications ..."):
        res = run(model, replications=replications, seed=seed)
    with atomic_dir(out) as tmp:
        res.intervals.to_csv(tmp / "intervals.csv", index=False)
        res.queues.to_csv(tmp / "queues.csv", index=False)
        if not no_contacts:
            res.log.to_frame().to_csv(tmp / "contacts.csv", index=False)
    table = Table(title=f"simulated {len(res.log):,} contacts, {replications} replications")
    for col in ("queue", "offered", "service level [95% CI]", "ASA s", "p_abandon",
                "occupancy"):
        table.add_column(col)
    for r in res.queues.itertuples():
        table.add_row(r.queue, f"{r.offered:,.0f}",
                      f"{r.service_level:.3f} [{r.service_level_lo:.3f}, "
                      f"{r.service_level_hi:.3f}]", f"{r.asa_s:.1f}", f"{r.p_abandon:.3f}",
                      f"{r.occupancy:.2f}")
    console.print(table)
    console.print(f"wrote {out}/ (intervals.csv, queues.csv"
                  f"{'' if no_contacts else ', contacts.csv'})")
