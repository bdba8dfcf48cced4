"""Size of the planning report, against plotly's own offline HTML of the same figures
(run: .venv/bin/python benchmarks/bench_report.py [--center demo|tejo]).

Plans the center (`openwfm.plan`; the demo by default, or examples/tejo with its generated
history), builds ``report.html`` and prints its size split into plotly.js and chart data,
the time to build it, and the peer measured in the same run: the same sections (every
agent's Gantt included) with every figure as plotly's ``to_html(include_plotlyjs=False)``
after plotly.js inlined once as text, chart data as plain JSON: the report's encoding
before. The machine's 2 cores are shared
with other jobs while this runs: times vary run to run; sizes do not.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import time
from pathlib import Path
from unittest import mock


def plan_center(center: str):
    import openwfm

    if center == "demo":
        from openwfm.demo import demo_history, demo_scenario

        sc = demo_scenario()
        return openwfm.plan(sc, demo_history(sc))
    import importlib.util
    import tempfile

    from openwfm.io.intervals import read_interval_csv
    from openwfm.scenario import load_scenario

    here = Path(__file__).resolve().parents[1] / "examples" / "tejo"
    spec = importlib.util.spec_from_file_location("make_history", here / "make_history.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    sc = load_scenario(here / "scenario.toml")
    with tempfile.TemporaryDirectory() as tmp:
        mod.write(Path(tmp) / "history.csv")
        history = read_interval_csv(Path(tmp) / "history.csv", tz=sc.plan_tz).frame
    return openwfm.plan(sc, history)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--center", choices=["demo", "tejo"], default="demo")
    args = ap.parse_args()

    import openwfm.report as report
    from openwfm.report.plan import plan_report

    t0 = time.perf_counter()
    result = plan_center(args.center)
    print(f"[{args.center}] planned in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    page = plan_report(result).to_html()
    t_build = time.perf_counter() - t0
    js = re.search(r"id='owfm-plotly'>([^<]*)<", page)
    js_mb = len(js.group(1)) / 1e6 if js else 0.0
    n_charts = len(report.figure_specs(page))
    size = len(page.encode()) / 1e6
    print(f"[{args.center}] report.html {size:.2f} MB: plotly.js (gzip + base64) {js_mb:.2f} MB, "
          f"{n_charts} charts and tables {size - js_mb:.2f} MB; built in {t_build:.1f} s")

    # the peer: plotly's own offline HTML of every figure (the report before)
    from plotly.offline import get_plotlyjs

    def plotly_fragment(fig, **_: object) -> str:
        return fig.to_html(full_html=False, include_plotlyjs=False)

    import openwfm.report.capacity as m_capacity
    import openwfm.report.forecast as m_forecast
    import openwfm.report.schedule as m_schedule
    import openwfm.report.simulation as m_simulation
    import openwfm.report.staffing as m_staffing

    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        for m in (m_capacity, m_forecast, m_schedule, m_simulation, m_staffing):
            stack.enter_context(mock.patch.object(m, "figure_html", plotly_fragment))
        sections = plan_report(result).sections
    body = "".join(s.body_html for s in sections)
    peer = len((get_plotlyjs() + body).encode()) / 1e6
    t_peer = time.perf_counter() - t0
    print(f"[{args.center}] peer (plotly to_html, plotly.js inline once): {peer:.2f} MB "
          f"(plotly.js {len(get_plotlyjs()) / 1e6:.2f} MB); built in {t_peer:.1f} s; "
          f"ratio {size / peer:.2f}")


if __name__ == "__main__":
    main()
