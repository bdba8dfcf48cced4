"""Report sections of a quality run (`openwfm.app.quality.QualityRun`): the homogeneity
between sites and teams first (what a client reads), then scores, calibration, coaching.
Nothing is computed here."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from openwfm.report import Report, Section, figure_html, table_html

if TYPE_CHECKING:
    from openwfm.app.quality import QualityRun

__all__ = ["quality_report", "quality_sections"]


def _means_figure(summary: pd.DataFrame, by: str, title: str) -> str:
    import plotly.graph_objects as go

    s = summary.sort_values("mean_score", ascending=False)
    fig = go.Figure(go.Bar(
        x=s[by].astype(str), y=s["mean_score"], marker_color="#1f77b4",
        error_y={"type": "data", "symmetric": False,
                 "array": (s["mean_score_hi"] - s["mean_score"]).tolist(),
                 "arrayminus": (s["mean_score"] - s["mean_score_lo"]).tolist()},
        hovertemplate="%{x}: %{y:.1f} points<extra></extra>"))
    fig.update_layout(title=title, yaxis_title="mean score (0-100) with 95% CI",
                      yaxis_range=[max(0.0, float(s["mean_score_lo"].min()) - 5), 100],
                      height=380)
    return figure_html(fig)


def quality_sections(run: QualityRun) -> list[Section]:
    """Homogeneity, scores by site / team / evaluator, trend, calibration, coaching."""
    out = []
    lines = []
    for by, h in run.homogeneity.items():
        lines.append(
            f"<li><b>{html.escape(by)}s</b> ({h.groups} with enough evaluations): spread "
            f"<b>{h.spread_points:.1f} points</b> between {html.escape(h.highest)} (highest) "
            f"and {html.escape(h.lowest)} (lowest); ICC(1) = {h.icc1:.3f} of the score's "
            f"variance lies between {html.escape(by)}s; ANOVA p = {h.p_value:.2g}</li>")
    for by, note in run.homogeneity_notes.items():
        lines.append(f"<li><b>{html.escape(by)}s</b>: {html.escape(note)}</li>")
    body = ("<p>Homogeneity: do sites and teams deliver the same quality? The spread is the "
            "highest minus the lowest mean score; ICC(1) the share of variance between "
            "groups (0 = homogeneous). Definitions: docs/quality.md.</p>"
            f"<ul>{''.join(lines)}</ul>")
    if "site" in run.scores:
        body += _means_figure(run.scores["site"], "site", "Mean score per site")
        body += table_html(run.scores["site"])
    out.append(Section("Quality: homogeneity between sites and teams", body, stage="quality"))
    if "team" in run.scores:
        out.append(Section("Quality: scores per team",
                           _means_figure(run.scores["team"], "team", "Mean score per team")
                           + table_html(run.scores["team"]), stage="quality"))
    if "evaluator_id" in run.scores:
        out.append(Section("Quality: scores per evaluator",
                           table_html(run.scores["evaluator_id"]), stage="quality"))
    if not run.trend.empty:
        out.append(Section("Quality: weekly trend per site (local weeks)",
                           table_html(run.trend), stage="quality"))
    if run.calibration is not None:
        c = run.calibration
        flagged = (", ".join(c.flagged_evaluators) or "none", ", ".join(c.flagged_items)
                   or "none")
        out.append(Section(
            f"Quality: calibration ({html.escape(run.calibration_form)})",
            f"<p>{c.evaluator_count} evaluators, {c.contacts} contacts: Krippendorff's alpha "
            f"of the scores (interval) = <b>{c.alpha_score:.3f}</b>. Flagged evaluators: "
            f"<b>{html.escape(flagged[0])}</b>; flagged items: "
            f"<b>{html.escape(flagged[1])}</b>.</p>"
            + table_html(c.evaluators) + table_html(c.items), stage="quality"))
    counts = run.coaching.groupby("reason").size().to_dict() if not run.coaching.empty else {}
    out.append(Section(
        "Quality: coaching tasks",
        f"<p>{len(run.coaching)} coaching task(s) opened: "
        + html.escape(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none")
        + ".</p>" + table_html(run.coaching, max_rows=50), stage="quality"))
    return out


def quality_report(run: QualityRun) -> Report:
    """The report of a quality run (``report.html``)."""
    forms = ", ".join(run.forms) if len(run.forms) <= 2 else f"{len(run.forms)} forms"
    return Report(f"openwfm quality: {forms}, {len(run.evaluations):,} evaluations",
                  quality_sections(run))
