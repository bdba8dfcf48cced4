"""Writers of a planning run's files: they read results and write, they compute nothing.

`write_plan` writes the whole run folder of `openwfm plan` / `openwfm demo` (CSVs and
``report.html``); `write_schedule_outputs` and `write_capacity_outputs` are also the
outputs of `openwfm schedule` and `openwfm capacity`. The caller makes the folder atomic
(`openwfm.io.atomic.atomic_dir`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from openwfm.app.quality import QualityRun, homogeneity_frame
from openwfm.app.result import PlanResult
from openwfm.capacity.run import CapacityResult, tables
from openwfm.scheduling.model import SchedulingProblem
from openwfm.scheduling.solve import ScheduleResult
from openwfm.scheduling.summary import segments_with_local_time, summary_frame

__all__ = ["write_capacity_outputs", "write_plan", "write_quality", "write_schedule_outputs"]


def write_plan(result: PlanResult, folder: Path, *, report: bool = True) -> list[Path]:
    """Write a planning run into `folder`: ``forecast.csv``, ``forecast_backtest.csv``,
    ``requirement.csv``, ``schedule/`` (`write_schedule_outputs`),
    ``simulation_intervals.csv``, ``simulation_queues.csv``, ``capacity/*.csv`` and
    ``report.html`` (when `report`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def csv(df: pd.DataFrame, name: str) -> None:
        df.to_csv(folder / name, index=False)
        written.append(folder / name)

    csv(result.forecast.frame, "forecast.csv")
    csv(result.forecast.accuracy, "forecast_backtest.csv")
    csv(result.requirement, "requirement.csv")
    if result.schedule is not None:
        written += write_schedule_outputs(result.schedule.problem, result.schedule.result,
                                          folder / "schedule")
    if result.simulation is not None:
        csv(result.simulation.intervals, "simulation_intervals.csv")
        csv(result.simulation.queues, "simulation_queues.csv")
    if result.capacity is not None:
        written += write_capacity_outputs(result.capacity, folder / "capacity", excel=False,
                                          charts=False)
    if report:
        from openwfm.report.plan import plan_report

        path = folder / "report.html"
        path.write_text(plan_report(result).to_html(), encoding="utf-8")
        written.append(path)
    return written


def write_schedule_outputs(problem: SchedulingProblem, result: ScheduleResult,
                           folder: Path) -> list[Path]:
    """Write segments.csv (UTC and local times), shifts.csv, coverage.csv, rule_check.csv,
    schedule_summary.csv, preferences.csv (one row per agent preference, met or not) and
    ``ics/<agent>.ics`` into `folder`."""
    from openwfm.io.ical import write_calendars

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in (("segments.csv", segments_with_local_time(problem, result.segments)),
                     ("shifts.csv", result.shifts),
                     ("coverage.csv", result.coverage),
                     ("rule_check.csv", result.check.to_frame()),
                     ("schedule_summary.csv", summary_frame(result, problem)),
                     ("preferences.csv", result.preferences)):
        df.to_csv(folder / name, index=False)
        paths.append(folder / name)
    tz = {a.id: problem.scenario.site(a.site).tz for a in problem.scenario.agents}
    write_calendars(result.segments, tz, folder / "ics")
    return paths


def write_capacity_outputs(result: CapacityResult, folder: Path, *, excel: bool = True,
                           charts: bool = True) -> list[Path]:
    """Write the CSVs, ``capacity.xlsx`` (one sheet per table) and ``capacity_charts.html``
    into `folder` (the caller makes it atomic)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    tabs = tables(result)
    for name, df in tabs.items():
        path = folder / f"{name}.csv"
        df.to_csv(path, index=False)
        written.append(path)
    if excel:
        xlsx = folder / "capacity.xlsx"
        with pd.ExcelWriter(xlsx, engine="openpyxl") as xw:
            for name, df in tabs.items():
                df.to_excel(xw, sheet_name=name[:31], index=False)
        written.append(xlsx)
    if not charts:
        return written
    from openwfm.report import Report, Section, figure_html
    from openwfm.report.capacity import figures

    page = folder / "capacity_charts.html"
    report = Report("openwfm capacity", [Section(str(f.layout.title.text or name),
                                                 figure_html(f), "capacity")
                                         for name, f in figures(result).items()])
    page.write_text(report.to_html(), encoding="utf-8")
    written.append(page)
    return written


def write_quality(run: QualityRun, folder: Path, *, report: bool = True) -> list[Path]:
    """Write `run` into `folder`: ``evaluations_scored.csv``, ``scores_by_<group>.csv``,
    ``trend_by_site.csv``, ``homogeneity.csv``, ``coaching.csv``, the calibration's
    ``calibration_items.csv`` and ``calibration_evaluators.csv``, and ``report.html``.
    The caller makes the folder atomic (`openwfm.io.atomic.atomic_dir`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def csv(df: pd.DataFrame, name: str) -> None:
        df.to_csv(folder / name, index=False)
        written.append(folder / name)

    csv(run.evaluations, "evaluations_scored.csv")
    for g, df in run.scores.items():
        csv(df, f"scores_by_{g.removesuffix('_id')}.csv")
    if not run.trend.empty:
        csv(run.trend, "trend_by_site.csv")
    csv(homogeneity_frame(run), "homogeneity.csv")
    csv(run.coaching, "coaching.csv")
    if run.calibration is not None:
        csv(run.calibration.items, "calibration_items.csv")
        csv(run.calibration.evaluators, "calibration_evaluators.csv")
    if report:
        from openwfm.report.quality import quality_report

        path = folder / "report.html"
        path.write_text(quality_report(run).to_html(), encoding="utf-8")
        written.append(path)
    return written
