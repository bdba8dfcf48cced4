"""`openwfm quality`: score evaluations against a form, calibrate evaluators, size and draw
sampling plans, and write the demo center's quality data. Definitions: docs/quality.md."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from openwfm.cli import options
from openwfm.cli.app import app, console, summarize_commands
from openwfm.errors import InputError

_HELP = ("Quality management: score evaluations against a form (scores per agent, team, "
         "site with confidence intervals, homogeneity between sites and teams, coaching "
         "tasks), calibrate evaluators (Krippendorff's alpha), size and draw sampling plans. "
         "Definitions: docs/quality.md.")
quality_app = typer.Typer(help=_HELP, no_args_is_help=True)
app.add_typer(quality_app, name="quality", help=_HELP,
              short_help="Quality: score evaluations, calibrate evaluators, sampling plans.")

FORM_HELP = "Evaluation form: TOML or JSON (docs/quality.md)."
EVALS_HELP = ("Evaluations CSV: evaluation_id, contact_id, agent_id, evaluator_id, "
              "evaluated_at (ISO with offset), optional queue, channel, site, team, comment, "
              "and one column per item of the form (points or NA).")


def _site_zones(scenario: Path | None) -> dict[str, str]:
    if scenario is None:
        return {}
    from openwfm.scenario import load_scenario

    return {s.name: s.tz for s in load_scenario(scenario).sites}


def _print_run(run, out: Path) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"quality: {len(run.evaluations):,} evaluations -> {out}")
    for col in ("by", "groups", "spread (points)", "ICC(1)", "p", "highest", "lowest"):
        table.add_column(col)
    for by, h in run.homogeneity.items():
        table.add_row(by, str(h.groups), f"{h.spread_points:.1f}", f"{h.icc1:.3f}",
                      f"{h.p_value:.2g}", h.highest, h.lowest)
    for by, note in run.homogeneity_notes.items():
        table.add_row(by, "", "", "", "", note, "")
    console.print(table)
    console.print(f"coaching tasks opened: {len(run.coaching)}", highlight=False)


@quality_app.command()
def score(
    form_file: Path = typer.Argument(..., metavar="FORM", help=FORM_HELP),
    evaluations: Path = typer.Argument(..., metavar="EVALS.csv", help=EVALS_HELP),
    out: Path = typer.Option(..., "-o", "--out", metavar="OUT", help="Output folder "
                             "(written as a whole, atomically).", callback=options.output_dir),
    scenario: Path | None = typer.Option(None, "--scenario", help="Scenario TOML whose "
                                         "sites' zones give each site its local weeks in "
                                         "the trend (default: UTC weeks)."),
    min_evaluations: int = typer.Option(10, "--min-evaluations", help="Evaluations a site "
                                        "or team needs to count in the homogeneity, 2 to "
                                        "10000.", callback=options.in_range(2, 10_000)),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html."),
) -> None:
    """Score EVALS.csv against FORM and write OUT/: evaluations_scored.csv,
    scores_by_<agent|team|site|client|evaluator>.csv (mean score and pass rate with 95%
    confidence intervals), trend_by_site.csv (weekly), homogeneity.csv (spread between
    sites and teams, ICC(1), ANOVA p), coaching.csv (tasks opened by a score below the
    form's coaching_below or a failed critical item) and report.html. A bad row stops
    the run naming file, row and column; nothing is written then (exit status 2)."""
    from openwfm.app.quality import quality_run
    from openwfm.app.writers import write_quality
    from openwfm.io.atomic import atomic_dir
    from openwfm.quality import load_form, read_evaluations

    form = load_form(form_file)
    evs = read_evaluations(evaluations, form)
    run = quality_run([(form, evs)], site_zones=_site_zones(scenario),
                      min_evaluations=min_evaluations)
    with atomic_dir(out) as tmp:
        write_quality(run, tmp, report=report)
    _print_run(run, out)


@quality_app.command()
def calibrate(
    form_file: Path = typer.Argument(..., metavar="FORM", help=FORM_HELP),
    session: Path = typer.Argument(..., metavar="SESSION.csv", help="The calibration "
                                   "session: the evaluations CSV of several evaluators "
                                   "scoring the same contacts."),
    out: Path | None = typer.Option(None, "-o", "--out", metavar="OUT", help="Also write "
                                    "OUT/calibration_items.csv and "
                                    "OUT/calibration_evaluators.csv.",
                                    callback=options.output_dir),
    min_alpha: float = typer.Option(0.667, "--min-alpha", help="Flag items whose alpha is "
                                    "below this (0 to 1).", callback=options.in_range(0, 1)),
    bias_tolerance: float = typer.Option(5.0, "--bias-tolerance", help="Flag evaluators "
                                         "whose mean deviation from the others' median "
                                         "exceeds this many points (0 to 100).",
                                         callback=options.in_range(0, 100)),
) -> None:
    """Agreement of a calibration session: Krippendorff's alpha of the scores (interval)
    and of each item (ordinal; nominal for yes/no items), each evaluator's bias against
    the others' median, mean absolute deviation and alpha without them; items and
    evaluators that disagree are flagged."""
    from openwfm.io.atomic import atomic_dir
    from openwfm.quality import calibrate as run_calibration
    from openwfm.quality import load_form, read_evaluations

    form = load_form(form_file)
    result = run_calibration(form, read_evaluations(session, form), min_alpha=min_alpha,
                             bias_tolerance=bias_tolerance)
    if out is not None:
        with atomic_dir(out) as tmp:
            result.items.to_csv(tmp / "calibration_items.csv", index=False)
            result.evaluators.to_csv(tmp / "calibration_evaluators.csv", index=False)
    console.print(f"{result.evaluator_count} evaluators, {result.contacts} contacts: "
                  f"Krippendorff's alpha of the scores = {result.alpha_score:.3f}",
                  highlight=False)
    t = Table(title="evaluators")
    for col in ("evaluator", "contacts", "mean score", "bias", "mean |dev|",
                "alpha without", "flag"):
        t.add_column(col)
    for r in result.evaluators.itertuples():
        t.add_row(str(r.evaluator_id), str(r.contacts), f"{r.mean_score:.1f}",
                  f"{r.bias:+.1f}", f"{r.mean_abs_deviation:.1f}", f"{r.alpha_without:.3f}",
                  "FLAG" if r.flagged else "")
    console.print(t)
    t = Table(title="items")
    for col in ("item", "level", "alpha", "answers", "flag"):
        t.add_column(col)
    for r in result.items.itertuples():
        t.add_row(str(r.item_id), str(r.level), f"{r.alpha:.3f}", str(r.answers),
                  "FLAG" if r.flagged else "")
    console.print(t)


@quality_app.command("sample-size")
def sample_size(
    margin: float = typer.Option(..., "--margin", help="Target half-width of the 95% "
                                 "confidence interval: score points with --sd, a share "
                                 "(0-1) with --pass-rate.",
                                 callback=options.in_range(0, 100, lo_open=True)),
    sd: float | None = typer.Option(None, "--sd", help="Standard deviation of one agent's "
                                    "scores (points, 0 to 100).",
                                    callback=options.in_range(0, 100)),
    pass_rate: float | None = typer.Option(None, "--pass-rate", help="Expected pass rate "
                                           "(0 to 1; 0.5 is the most demanding).",
                                           callback=options.in_range(0, 1)),
    population: int | None = typer.Option(None, "--population", help="Contacts the agent "
                                          "handles in the period (finite-population "
                                          "correction), 1 to 10000000.",
                                          callback=options.in_range(1, 10_000_000)),
    level: float = typer.Option(0.95, "--level", help="Confidence level (0.5 to 0.999).",
                                callback=options.in_range(0.5, 0.999)),
) -> None:
    """Contacts to evaluate per agent and period for a target precision. Mean score (--sd):
    n0 = z² σ² / E², n = n0 / (1 + n0 / N). Pass rate (--pass-rate): n0 = z² p (1 - p) /
    E², n = n0 / (1 + (n0 - 1) / N). z = the normal quantile of the level, E = --margin,
    N = --population; n rounded up, at most N (Cochran 1977, ch. 4)."""
    from openwfm.quality import sample_size_mean, sample_size_proportion
    from openwfm.quality.sampling import z_value

    if (sd is None) == (pass_rate is None):
        raise InputError("give --sd (mean score) or --pass-rate (pass rate), not both",
                         column="--sd")
    z = z_value(level)
    if sd is not None:
        n0 = (z * sd / margin) ** 2
        n = sample_size_mean(sd, margin, population=population, level=level)
        what = f"mean score ±{margin:g} points (σ = {sd:g})"
    else:
        if margin >= 1:
            raise InputError(f"expected a --margin below 1 with --pass-rate (a share), got "
                             f"{margin:g}", column="--margin")
        n0 = z * z * pass_rate * (1 - pass_rate) / margin**2  # type: ignore[operator]
        n = sample_size_proportion(margin, p=float(pass_rate),  # type: ignore[arg-type]
                                   population=population, level=level)
        what = f"pass rate ±{margin:g} (p = {pass_rate:g})"
    pop = f" of N = {population:,}" if population else ""
    console.print(f"{n} contacts{pop} for the {what} at {level:.0%} (z = {z:.4f}, "
                  f"n0 = {n0:.2f})", highlight=False)


@quality_app.command()
def sample(
    contacts: Path = typer.Argument(..., metavar="CONTACTS.csv", help="The period's "
                                    "contacts: contact_id, agent_id, queue, channel (other "
                                    "columns pass through)."),
    out: Path = typer.Option(..., "-o", "--out", metavar="OUT.csv", help="The contacts to "
                             "evaluate (written atomically).", callback=options.output_file),
    margin: float = typer.Option(..., "--margin", help="As in sample-size.",
                                 callback=options.in_range(0, 100, lo_open=True)),
    sd: float | None = typer.Option(None, "--sd", help="As in sample-size.",
                                    callback=options.in_range(0, 100)),
    pass_rate: float | None = typer.Option(None, "--pass-rate", help="As in sample-size.",
                                           callback=options.in_range(0, 1)),
    level: float = typer.Option(0.95, "--level", help="Confidence level (0.5 to 0.999).",
                                callback=options.in_range(0.5, 0.999)),
    seed: int = typer.Option(0, "--seed", help="Random seed of the draw.",
                             callback=options.in_range(0, options.MAX_SEED)),
) -> None:
    """Draw a stratified sampling plan: each agent's sample size from sample-size with N =
    their contacts in CONTACTS.csv, spread over their queue x channel strata in proportion
    (largest remainders), drawn at random within each with --seed (same input and seed,
    same sample)."""
    from openwfm.io.atomic import atomic_path
    from openwfm.io.records import check_unique_rows, read_csv_frame
    from openwfm.quality import plan_sample

    if (sd is None) == (pass_rate is None):
        raise InputError("give --sd (mean score) or --pass-rate (pass rate), not both",
                         column="--sd")
    file = str(contacts)
    df = read_csv_frame(contacts, text=True)
    for col in ("contact_id", "agent_id", "queue", "channel"):
        if col not in df.columns:
            raise InputError(f"missing column '{col}'; expected contact_id, agent_id, queue, "
                             "channel", file=file, column=col)
        empty = df[col].str.strip() == ""
        if empty.any():
            raise InputError(f"missing value for '{col}'", file=file,
                             row=int(empty.to_numpy().argmax()) + 1, column=col)
    if df.empty:
        raise InputError("no contacts: expected a header and data rows", file=file)
    check_unique_rows(df, ("contact_id",), file=file, what="contact")
    plan = plan_sample(df, sd=sd, pass_rate=pass_rate, margin=margin, level=level, seed=seed)
    with atomic_path(out) as tmp:
        plan.sample.to_csv(tmp, index=False)
    per_agent = plan.allocation.groupby("agent_id")["sample"].sum()
    console.print(f"{len(plan.sample):,} contacts to evaluate for {len(per_agent):,} agents "
                  f"({per_agent.min()}-{per_agent.max()} each) -> {out}", highlight=False)


@quality_app.command()
def demo(
    out: Path = typer.Option(Path("quality-demo"), "-o", "--out", metavar="OUT",
                             help="Output folder (written as a whole, atomically).",
                             callback=options.output_dir),
) -> None:
    """Write the demo center's quality data and its results to OUT/: forms/*.json (one per
    client and channel), evaluations/<form>.csv (March 2026, one evaluation per agent and
    week), calibration.csv (five evaluators, the same ten RideNow voice contacts),
    contacts.csv (the month's contacts, to try `openwfm quality sample`), and the results
    of all forms together as `openwfm quality score` writes them (report.html with the
    homogeneity between sites and teams)."""
    import json

    from openwfm.app.quality import quality_run
    from openwfm.app.writers import write_quality
    from openwfm.demo import demo_scenario
    from openwfm.demo.quality import CALIBRATION_FORM, quality_demo
    from openwfm.io.atomic import atomic_dir
    from openwfm.quality.evaluations import input_frame

    scenario = demo_scenario()
    d = quality_demo(scenario)
    pairs = [(f, [e for e in d.evaluations if e.form_key == f.key]) for f in d.forms]
    cal_form = d.form(CALIBRATION_FORM)
    run = quality_run(pairs, calibration=(cal_form, d.calibration),
                      site_zones={s.name: s.tz for s in scenario.sites})
    with atomic_dir(out) as tmp:
        (tmp / "forms").mkdir()
        (tmp / "evaluations").mkdir()
        for form, evs in pairs:
            (tmp / "forms" / f"{form.id}.json").write_text(
                json.dumps(form.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
            input_frame(evs, form).to_csv(tmp / "evaluations" / f"{form.id}.csv", index=False)
        input_frame(d.calibration, cal_form).to_csv(tmp / "calibration.csv", index=False)
        d.contacts.assign(handled_at=d.contacts["handled_at"].dt.strftime(
            "%Y-%m-%dT%H:%M:%SZ")).to_csv(tmp / "contacts.csv", index=False)
        write_quality(run, tmp / "results")
    _print_run(run, out)
    console.print(f"try: openwfm quality score {out}/forms/{CALIBRATION_FORM}.json "
                  f"{out}/evaluations/{CALIBRATION_FORM}.csv -o ride-voice-quality",
                  highlight=False)


summarize_commands(quality_app)  # one line per command in `openwfm quality --help`
