"""The HTML report: one self-contained page (plotly inlined once, works offline)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Section:
    """A titled part of the report; `body_html` is trusted HTML made by openwfm itself."""

    title: str
    body_html: str
    stage: str = ""


@dataclass
class Report:
    title: str
    sections: list[Section] = field(default_factory=list)

    def add(self, section: Section) -> None:
        self.sections.append(section)

    def to_html(self) -> str:
        from plotly.offline import get_plotlyjs

        nav = "".join(
            f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>'
            for i, s in enumerate(self.sections)
        )
        body = "".join(
            f'<section id="s{i}"><h2>{html.escape(s.title)}</h2>{s.body_html}</section>'
            for i, s in enumerate(self.sections)
        )
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title>"
            f"<script>{get_plotlyjs()}</script>"
            "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
            "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;"
            "padding:2px 6px;text-align:right}th{background:#f0f0f0}"
            "section{margin-bottom:2em}.bad{background:#fdd}.warn{background:#fed}.good{background:#dfd}</style>"
            f"</head><body><h1>{html.escape(self.title)}</h1><ul>{nav}</ul>{body}</body></html>"
        )


def figure_html(fig: object) -> str:
    """A plotly figure as an HTML fragment (plotly.js is inlined once by `Report`)."""
    return fig.to_html(full_html=False, include_plotlyjs=False)  # type: ignore[attr-defined]


def table_html(df: pd.DataFrame, *, float_format: str = "{:,.3f}", max_rows: int = 200) -> str:
    """A DataFrame as a compact HTML table."""
    shown = df.head(max_rows)
    return shown.to_html(index=False, float_format=float_format.format, border=0, na_rep="")
