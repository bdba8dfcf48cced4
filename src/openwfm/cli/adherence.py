"""`openwfm adherence SEGMENTS.csv EVENTS.csv -o OUT/`: adherence and conformance."""

from __future__ import annotations

from pathlib import Path

import typer

from openwfm.cli.app import app, console
from openwfm.errors import InputError

HELP = "\n\n".join([
    "Adherence and conformance per agent, team, site and local day, from the schedule "
    "SEGMENTS.csv and the agent-state EVENTS.csv; writes OUT/ (by_agent.csv, by_team.csv, "
    "by_site.csv, spells.csv).",
    "SEGMENTS.csv: agent_id, site, activity (work, break, meal, training, meeting), start, "
    "end (ISO 8601 with offset), optional team and tz (IANA zone of the site). EVENTS.csv: "
    "event_id, agent_id, state, at (openwfm states: logged_out, available, on_contact, "
    "after_contact_work, break, meal, training, meeting, other), or a vendor agent-state "
    "export read with --preset (genesys, avaya, cisco, nice) or --mapping FILE.",
    "Definitions: a state adheres to a scheduled activity when work <- available, "
    "on_contact, after_contact_work; break <- break; meal <- meal; training <- training; "
    "meeting <- meeting. adherence = (scheduled time - counted out-of-adherence time) / "
    "scheduled time, where an out-of-adherence spell (a stretch of scheduled time in a "
    "non-adhering state) shorter than --grace-s is forgiven; conformance = time in a work "
    "state / time scheduled for work. Days are the site's local days (DST and Ramadan "
    "changes included).",
    "A bad row stops the run naming the file, row and column; nothing is written then.",
])


@app.command(help=HELP)
def adherence(
    segments: Path = typer.Argument(..., metavar="SEGMENTS.csv", help="Schedule segments."),
    events: Path = typer.Argument(..., metavar="EVENTS.csv", help="Agent-state events."),
    out: Path = typer.Option(..., "-o", "--out", metavar="OUT", help="Output folder "
                             "(written atomically)."),
    preset: str | None = typer.Option(None, "--preset", help="Vendor export preset: "
                                      "genesys, avaya, cisco or nice."),
    mapping: Path | None = typer.Option(None, "--mapping", dir_okay=False, help="State "
                                        "mapping file (TOML) for a vendor export."),
    grace_s: float = typer.Option(60.0, "--grace-s", min=0.0, help="Out-of-adherence "
                                  "spells shorter than this many seconds are forgiven."),
    site_tz: list[str] = typer.Option([], "--site-tz", metavar="SITE=ZONE", help="IANA "
                                      "zone of a site (repeat per site); or one ZONE for "
                                      "all; else the segments' tz column."),
    tz: str | None = typer.Option(None, "--tz", help="Zone of event times written without "
                                  "an offset."),
) -> None:
    import pandas as pd

    from openwfm.intraday.adherence import compute_adherence, read_segments
    from openwfm.intraday.events import EventLog, events_from_frame, read_events_csv
    from openwfm.intraday.mapping import PRESETS, read_agent_events
    from openwfm.io.atomic import atomic_dir

    if preset is not None and mapping is not None:
        raise InputError("give --preset or --mapping, not both", column="--preset")
    if preset is not None and preset not in PRESETS:
        raise InputError(f"unknown preset '{preset}': expected one of {list(PRESETS)}",
                         column="--preset")
    seg = read_segments(str(segments))
    zones: dict[str, str] = {}
    if "tz" in pd.read_csv(segments, nrows=0).columns:
        tzs = pd.read_csv(segments, dtype=str, usecols=["site", "tz"]).dropna()
        zones.update(dict(zip(tzs["site"].str.strip(), tzs["tz"].str.strip(), strict=True)))
    for item in site_tz:
        if "=" in item:
            site, zone = item.split("=", 1)
            zones[site.strip()] = zone.strip()
        else:
            zones.update({s: item.strip() for s in seg["site"].unique()})
    log = EventLog()
    if preset is not None or mapping is not None:
        frame = read_agent_events(events, preset or mapping, tz=tz)
        log.add(events_from_frame(frame, file=events.name))
    else:
        log.add(read_events_csv(str(events), tz=tz))
    result = compute_adherence(seg, log, zones, grace_s=grace_s)
    with atomic_dir(out) as tmp:
        for name in ("by_agent", "by_team", "by_site", "spells"):
            getattr(result, name).to_csv(tmp / f"{name}.csv", index=False,
                                         date_format="%Y-%m-%dT%H:%M:%S+00:00")
    site = result.by_site
    for row in site.itertuples(index=False):
        console.print(f"{row.site} {row.day}: adherence {row.adherence:.1%}, conformance "
                      f"{row.conformance:.1%} ({row.scheduled_s / 3600:,.1f} h scheduled)",
                      highlight=False)
    console.print(f"wrote {out}/ ({result.by_agent['agent_id'].nunique()} agents, "
                  f"{int(result.spells['counted'].sum())} counted spells, grace "
                  f"{grace_s:g} s)", highlight=False)
