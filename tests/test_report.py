"""The HTML report as a page: plotly.js once, every chart's data compressed next to it and
drawn by the page's loader, numbers rounded for reading, tables that fit."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from openwfm.report import Report, Section, figure_html, figure_specs, format_number, table_html


def _page(n_charts: int) -> str:
    sections = []
    for i in range(n_charts):
        fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[0.123456, -0.00001, 2.0 + i]))
        sections.append(Section(f"chart {i}", figure_html(fig)))
    return Report("t", sections).to_html()


def test_plotly_js_is_in_the_page_once_whatever_the_number_of_charts() -> None:
    one, three = _page(1), _page(3)
    assert one.count("id='owfm-plotly'") == three.count("id='owfm-plotly'") == 1
    # each further chart costs its data only, not another plotly.js
    assert len(three) - len(one) < 5_000  # two small charts with their layout template
    assert len(one) < 2_500_000  # plotly.js compressed (4.8 MB as text)


def test_charts_are_numbered_in_page_order_and_decode_to_their_figures() -> None:
    page = _page(3)
    for i in range(3):
        assert page.count(f"id='c{i}'") == 1 and page.count(f"id='c{i}-data'") == 1
    specs = figure_specs(page)
    assert [s["data"][0]["y"] for s in specs] == [[0.123, 0.0, 2.0], [0.123, 0.0, 3.0],
                                                  [0.123, 0.0, 4.0]]


def test_same_figure_same_bytes() -> None:
    assert _page(2) == _page(2)  # gzip without a timestamp: reproducible outputs


def test_tables_round_for_reading_and_never_show_minus_zero() -> None:
    df = pd.DataFrame({"queue": ["a", "b"], "gap": [-0.0000004, 0.8531234],
                       "cost": [98212.3456, -12.5], "what": [0.0123456, "ok"]})
    html = table_html(df)
    assert "-0" not in html
    for text in ("0.853", "98,212", "-12.50", "0.012", "ok"):
        assert f">{text}<" in html
    assert ">0<" in html
    fixed = table_html(pd.DataFrame({"x": [-0.01, 3.14159]}), float_format="{:,.1f}")
    assert ">0.0<" in fixed and ">3.1<" in fixed and "-0.0" not in fixed


def test_format_number_reads_like_a_planner_writes() -> None:
    assert format_number(-0.0) == "0"
    assert format_number(1234567) == "1,234,567"
    assert format_number(float("inf")) == ""
