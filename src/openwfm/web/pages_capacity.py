"""Capacity plans: the list of stored plans (`openwfm.capacity`, made by a plan or capacity
job) and, for one plan, the FTE required vs available and the paid headcount per month for
a site / skill group, the hires and classes starting per month, and two of its scenarios
side by side (charts, each with the same figures in a table beside it).

The figures are the plan's own (``monthly_plan``: `openwfm.capacity.run.monthly_plan`,
stored with the plan); the page only sums the rows of the chosen sites and skill groups.
Who sees which rows is the server's (`openwfm.server.routers.plans.visible_plan_tables`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import RedirectResponse, Response

from openwfm.server.deps import ReadDB
from openwfm.server.models import CapacityPlan
from openwfm.server.permissions import require
from openwfm.server.routers.common import get_visible
from openwfm.server.routers.plans import visible_plan_tables
from openwfm.web.deps import WebUser
from openwfm.web.render import render

router = APIRouter(include_in_schema=False)

BASE = "base"
COLOURS = {"required": "#b3261e", "available": "#2f6fa3", "headcount": "#4a5561",
           "hires": "#2f6fa3", "classes": "#8a5a00"}
SCENARIO_COLOURS = ("#2f6fa3", "#b35c00")
DASH = ("solid", "dash")


@dataclass(frozen=True)
class Month:
    """The sums over the chosen sites and skill groups of one scenario's month."""

    month: str
    required_fte: float
    available_fte: float
    headcount: float
    in_training: float
    hires: float
    classes: int

    @property
    def gap_fte(self) -> float:
        return self.available_fte - self.required_fte


def months(rows: list[dict[str, Any]], scenario: str, site: str, skill: str) -> list[Month]:
    """The rows of ``monthly_plan`` of `scenario` for `site` / `skill` ("" = all) summed per
    month, in month order."""
    acc: dict[str, list[float]] = {}
    for r in rows:
        if r["scenario"] != scenario or (site and r["site"] != site) or (
                skill and r["skill"] != skill):
            continue
        a = acc.setdefault(r["month"], [0.0] * 6)
        for i, col in enumerate(("required_fte", "available_fte", "headcount", "in_training",
                                 "hires", "classes")):
            a[i] += float(r[col])
    return [Month(m, *v[:5], int(v[5])) for m, v in sorted(acc.items())]


def line(name: str, xs: list[str], ys: list[float], colour: str, dash: str = "solid",
         ) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines+markers", "name": name, "x": xs,
            "y": [round(y, 1) for y in ys], "line": {"color": colour, "dash": dash}}


def bars(name: str, xs: list[str], ys: list[float], colour: str) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": xs, "y": [round(y, 1) for y in ys],
            "marker": {"color": colour}}


def layout(y_title: str, **extra: Any) -> dict[str, Any]:
    return {"height": 320, "margin": {"l": 55, "r": 10, "t": 10, "b": 40},
            "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
            "xaxis": {"type": "category"}, "legend": {"orientation": "h"},
            "paper_bgcolor": "#fff", "plot_bgcolor": "#fff", **extra}


def fte_figure(ms: list[Month], labels: dict[str, str]) -> dict[str, Any]:
    xs = [m.month for m in ms]
    return {"data": [line(labels["required"], xs, [m.required_fte for m in ms],
                          COLOURS["required"]),
                     line(labels["available"], xs, [m.available_fte for m in ms],
                          COLOURS["available"]),
                     line(labels["headcount"], xs, [m.headcount for m in ms],
                          COLOURS["headcount"], "dot")],
            "layout": layout(labels["fte"])}


def hires_figure(ms: list[Month], labels: dict[str, str]) -> dict[str, Any]:
    xs = [m.month for m in ms]
    return {"data": [bars(labels["hires"], xs, [m.hires for m in ms], COLOURS["hires"]),
                     bars(labels["classes"], xs, [m.classes for m in ms], COLOURS["classes"])],
            "layout": layout(labels["people"], barmode="group")}


def compare_figures(a: tuple[str, list[Month]], b: tuple[str, list[Month]],
                    labels: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """FTE required and available of two scenarios (one colour each, required dashed), and
    their hires per month side by side."""
    fte, hires = [], []
    for (name, ms), colour in zip((a, b), SCENARIO_COLOURS, strict=True):
        xs = [m.month for m in ms]
        fte.append(line(f"{name}: {labels['required']}", xs, [m.required_fte for m in ms],
                        colour, "dash"))
        fte.append(line(f"{name}: {labels['available']}", xs, [m.available_fte for m in ms],
                        colour))
        hires.append(bars(f"{name}: {labels['hires']}", xs, [m.hires for m in ms], colour))
    return ({"data": fte, "layout": layout(labels["fte"])},
            {"data": hires, "layout": layout(labels["people"], barmode="group")})


def pair_months(a: list[Month], b: list[Month]) -> list[tuple[str, Month | None, Month | None]]:
    """The months of `a` and `b` in order, each with the month of either (None where
    a scenario has no row)."""
    da, db_ = {m.month: m for m in a}, {m.month: m for m in b}
    return [(m, da.get(m), db_.get(m)) for m in sorted(da.keys() | db_.keys())]


@router.get("/capacity")
def capacity_list(w: WebUser, db: ReadDB) -> Response:
    """The stored capacity plans, newest first (admin, planners)."""
    require(w.p, "capacity", "read")
    plans = db.execute(sa.select(CapacityPlan.id, CapacityPlan.name, CapacityPlan.job_id,
                                 CapacityPlan.created_at)
                       .order_by(CapacityPlan.id.desc())).all()
    return render(w.ctx["request"], "capacity.html", {**w.ctx, "plans": plans, "plan": None})


@router.get("/capacity/latest")
def capacity_latest(w: WebUser, db: ReadDB) -> Response:
    require(w.p, "capacity", "read")
    newest = db.scalar(sa.select(sa.func.max(CapacityPlan.id)))
    if newest is None:
        return RedirectResponse("/capacity", status_code=303)
    return RedirectResponse(f"/capacity/{newest}", status_code=303)


Choice = Annotated[str, Query(max_length=200)]


@router.get("/capacity/{plan_id}")
def capacity_plan(plan_id: int, w: WebUser, db: ReadDB, site: Choice = "", skill: Choice = "",
                  a: Choice = "", b: Choice = "") -> Response:
    """One plan: required vs available FTE and headcount per month of `site` / `skill`
    ("" = all the user may see) in the base plan, its hires and classes per month, and
    scenarios `a` and `b` side by side (default: the base and the first other)."""
    require(w.p, "capacity", "read")
    plan = get_visible(db, CapacityPlan, plan_id)
    tables = visible_plan_tables(db, w.p, plan)
    rows = tables.get("monthly_plan", [])
    _ = w.ctx["_"]
    ctx: dict[str, Any] = {**w.ctx, "plan": plan, "has_months": bool(rows)}
    plans = db.execute(sa.select(CapacityPlan.id, CapacityPlan.name, CapacityPlan.job_id,
                                 CapacityPlan.created_at)
                       .order_by(CapacityPlan.id.desc())).all()
    ctx["plans"] = plans
    if not rows:  # a plan stored before monthly_plan, or none of its groups are theirs
        return render(w.ctx["request"], "capacity.html", ctx)
    sites = sorted({r["site"] for r in rows})
    skills = sorted({r["skill"] for r in rows})
    names = list(dict.fromkeys(r["scenario"] for r in rows))
    for value, options, field in ((site, sites, "site"), (skill, skills, "skill"),
                                  (a, names, "a"), (b, names, "b")):
        if value and value not in options:
            raise HTTPException(404, f"{field} {value!r} is not in this plan")
    a = a or names[0]
    b = b or next((n for n in names if n != a), a)
    labels = {"required": _("required FTE"), "available": _("available FTE (productive)"),
              "headcount": _("headcount (paid)"), "hires": _("people starting training"),
              "classes": _("classes starting"), "fte": _("FTE (mean of the month's weeks)"),
              "people": _("people or classes")}
    base = months(rows, names[0], site, skill)
    ma, mb = months(rows, a, site, skill), months(rows, b, site, skill)
    cmp_fte, cmp_hires = compare_figures((a, ma), (b, mb), labels)
    scen = {r["scenario"]: r for r in tables.get("scenarios", [])}
    ctx.update(sites=sites, skills=skills, names=names, site=site, skill=skill, a=a, b=b,
               base_name=names[0], base=base, pairs=pair_months(ma, mb),
               fte_figure=json.dumps(fte_figure(base, labels)),
               hires_figure=json.dumps(hires_figure(base, labels)),
               cmp_fte_figure=json.dumps(cmp_fte), cmp_hires_figure=json.dumps(cmp_hires),
               scen_a=scen.get(a), scen_b=scen.get(b),
               hiring=[h for h in tables.get("hiring_plan", [])
                       if (not site or h["site"] == site) and (not skill or h["skill"] == skill)],
               num=lambda v, fmt="#,##0.0": w.ctx["fmt_num"](float(v), fmt))
    return render(w.ctx["request"], "capacity.html", ctx)
