"""The HTML report: one self-contained page that works offline.

plotly.js is in the page once, gzip-compressed (about 2 MB instead of 4.8 MB), and every
chart's data is a compressed JSON block next to its place; a small loader decompresses
plotly.js with the browser's own ``DecompressionStream`` and draws each chart when it scrolls
into view. Numbers in tables are rounded for reading (`format_number`); the CSVs keep full
precision.
"""

from __future__ import annotations

import base64
import gzip
import html
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Report", "Section", "figure_html", "figure_specs", "format_number", "table_html"]


@dataclass(frozen=True)
class Section:
    """A titled part of the report; `body_html` is trusted HTML made by openwfm itself."""

    title: str
    body_html: str
    stage: str = ""


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em}"
    "table{border-collapse:collapse;font-size:0.85em;display:block;max-width:100%;"
    "overflow-x:auto}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    "th{background:#f0f0f0;position:sticky;top:0}td:first-child,th:first-child"
    "{text-align:left}section{margin-bottom:2em}.bad{background:#fdd}.warn{background:#fed}"
    ".good{background:#dfd}.chart{min-height:120px;max-width:100%}"
    ".chart-wait{color:#888;font-size:0.85em}"
)

# Decompress plotly.js once, then draw each chart when it comes near the viewport.
_LOADER = """
(function(){
  function gunzip(b64){
    var bin=Uint8Array.from(atob(b64.trim()),function(c){return c.charCodeAt(0);});
    var s=new Blob([bin]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(s).text();
  }
  var ready=gunzip(document.getElementById('owfm-plotly').textContent).then(function(js){
    var s=document.createElement('script'); s.textContent=js; document.head.appendChild(s);
  });
  function draw(el){
    if(el.dataset.drawn){return;} el.dataset.drawn='1';
    var data=document.getElementById(el.id+'-data').textContent;
    Promise.all([ready,gunzip(data)]).then(function(r){
      var fig=JSON.parse(r[1]); el.textContent='';
      return Plotly.newPlot(el,fig.data,fig.layout,{responsive:true});
    });
  }
  var charts=document.querySelectorAll('div.chart');
  if('IntersectionObserver' in window){
    var io=new IntersectionObserver(function(es){es.forEach(function(e){
      if(e.isIntersecting){io.unobserve(e.target);draw(e.target);}});},{rootMargin:'800px'});
    charts.forEach(function(el){io.observe(el);});
  } else { charts.forEach(draw); }
})();
"""


@cache
def _plotly_js_gz() -> str:
    from plotly.offline import get_plotlyjs

    return _pack(get_plotlyjs())


def _pack(text: str) -> str:
    """`text` gzip-compressed (mtime 0: the same bytes every run) and base64-encoded."""
    return base64.b64encode(gzip.compress(text.encode("utf-8"), 9, mtime=0)).decode("ascii")


def _unpack(b64: str) -> str:
    return gzip.decompress(base64.b64decode(b64)).decode("utf-8")


@dataclass
class Report:
    """The sections of a report, and the page they make (`to_html`)."""

    title: str
    sections: list[Section] = field(default_factory=list)

    def add(self, section: Section) -> None:
        self.sections.append(section)

    def to_html(self) -> str:
        nav = "".join(
            f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>'
            for i, s in enumerate(self.sections)
        )
        body = "".join(
            f'<section id="s{i}"><h2>{html.escape(s.title)}</h2>{s.body_html}</section>'
            for i, s in enumerate(self.sections)
        )
        # number the charts in page order (each figure_html has a placeholder id twice: the
        # div and its data block, numbered by two counters that advance together)
        divs, blocks = itertools.count(), itertools.count()
        body = re.sub(r"id='__OWFM_CHART__'", lambda _: f"id='c{next(divs)}'", body)
        body = re.sub(r"id='__OWFM_CHART__-data'", lambda _: f"id='c{next(blocks)}-data'",
                      body)
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1><ul>{nav}</ul>{body}"
            f"<script type='text/plain' id='owfm-plotly'>{_plotly_js_gz()}</script>"
            f"<script>{_LOADER}</script></body></html>"
        )


def _round_arrays(spec: Any, decimals: int) -> Any:
    """Floats in a plotly JSON spec rounded to `decimals` (smaller page, readable hover)."""
    if isinstance(spec, dict):
        return {k: _round_arrays(v, decimals) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_round_arrays(v, decimals) for v in spec]
    if isinstance(spec, float) and math.isfinite(spec):
        r = round(spec, decimals)
        return 0.0 if r == 0 else r
    return spec


def figure_html(fig: Any, *, decimals: int = 3) -> str:
    """A plotly figure as an HTML fragment for `Report`: an empty ``div.chart`` and the
    figure's JSON (floats rounded to `decimals`), gzip-compressed, drawn by the page's
    loader with the one plotly.js of the page."""
    spec = json.loads(fig.to_json())  # plotly's encoder: numpy, pandas, datetimes
    spec = {"data": _round_arrays(_plain_arrays(spec.get("data", [])), decimals),
            "layout": spec.get("layout", {})}
    packed = _pack(json.dumps(spec, separators=(",", ":"), allow_nan=False, default=str))
    return ("<div class='chart' id='__OWFM_CHART__'><span class='chart-wait'>chart loading "
            "(needs a browser with JavaScript)</span></div><script type='text/plain' "
            f"id='__OWFM_CHART__-data'>{packed}</script>")


def _plain_arrays(spec: Any) -> Any:
    """Typed arrays of plotly's JSON (``{"dtype": "f8", "bdata": ...}``) as plain lists, so
    their floats can be rounded (and compress well)."""
    if isinstance(spec, dict):
        if set(spec) >= {"dtype", "bdata"}:
            arr = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]))
            if "shape" in spec:
                shape = [int(x) for x in str(spec["shape"]).split(",")]
                arr = arr.reshape(shape)
            out = arr.tolist()
            return _nan_to_none(out)
        return {k: _plain_arrays(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_plain_arrays(v) for v in spec]
    return spec


def _nan_to_none(x: Any) -> Any:
    if isinstance(x, list):
        return [_nan_to_none(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def figure_specs(page: str) -> list[dict[str, Any]]:
    """The plotly figures (``{"data": [...], "layout": {...}}``) of a report page or
    fragment, in page order: what the browser draws, for tests and tools."""
    blocks = re.findall(r"<script type='text/plain' id='(?:c\d+|__OWFM_CHART__)-data'>"
                        r"([^<]*)</script>", page)
    return [json.loads(_unpack(b)) for b in blocks]


def format_number(x: Any) -> str:
    """A number as a planner reads it: thousands separators, decimals by size (none from
    100 up, 2 from 1, 3 below), ``0`` for what rounds to zero (never ``-0``); anything else
    as text, missing as empty.

    Examples
    --------
    >>> [format_number(v) for v in (123456.789, 42.4249, 0.85312, -0.0001, -12.0, None)]
    ['123,457', '42.42', '0.853', '0', '-12.00', '']
    >>> format_number(float("nan")), format_number(7), format_number(True), format_number("ok")
    ('', '7', 'True', 'ok')
    """
    if x is None or isinstance(x, bool | np.bool_) or not isinstance(x, Real):
        return "" if x is None else str(x)
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    v = float(x)
    if not math.isfinite(v):
        return ""
    decimals = 0 if abs(v) >= 100 else 2 if abs(v) >= 1 else 3
    v = round(v, decimals)
    if v == 0:
        return "0"  # never "-0.000"
    return f"{v:,.{decimals}f}"


def table_html(df: pd.DataFrame, *, float_format: str | None = None,
               max_rows: int = 200) -> str:
    """A DataFrame as a compact HTML table, numbers rounded for reading (`format_number`,
    or `float_format` such as ``"{:,.1f}"`` for every float column; never ``-0``)."""
    shown = df.head(max_rows).copy()
    for col in shown.columns:
        s = shown[col]
        if s.dtype == object or pd.api.types.is_float_dtype(s):
            if float_format is not None and pd.api.types.is_float_dtype(s):
                shown[col] = [_fixed(v, float_format) for v in s]
            else:
                shown[col] = [format_number(v) if isinstance(v, Real) else
                              ("" if v is None or (isinstance(v, float) and math.isnan(v))
                               else v) for v in s]
    return shown.to_html(index=False, border=0, na_rep="", escape=True)


def _fixed(v: Any, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    text = fmt.format(v)
    return text[1:] if re.fullmatch(r"-[0,.]*", text) else text
