"""Quality: the homogeneity between sites and teams (spread, ICC(1), ANOVA p) and the mean
score per site and team with 95 % intervals, for the evaluations the user may see (a client
viewer: their client's, aggregated; a team leader: their team's); an agent sees their own
evaluations. Computed by `openwfm.quality` through the API's tenancy filter
(`openwfm.server.routers.quality.evaluation_filter`); docs/quality.md."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import Response

from openwfm.errors import InputError
from openwfm.quality.stats import homogeneity, score_summary
from openwfm.server.deps import ReadDB
from openwfm.server.models import QualityEvaluation, QualityForm, Role
from openwfm.server.permissions import allowed, client_filter, require
from openwfm.server.quality import evaluations_table
from openwfm.server.routers.quality import evaluation_filter
from openwfm.web.deps import WebUser
from openwfm.web.render import render

router = APIRouter(include_in_schema=False)


def _groups(df: Any, by: str) -> dict[str, Any]:
    """Homogeneity and per-group scores of `by` (site or team); `h` None when fewer than
    two groups have enough evaluations."""
    d = df[df[by] != ""]
    try:
        h = homogeneity(d, by)
    except InputError:
        h = None
    rows = score_summary(d, by).sort_values("mean_score", ascending=False) if len(d) else None
    return {"h": h, "rows": [] if rows is None else rows.to_dict("records")}


@router.get("/quality")
def quality_page(w: WebUser, db: ReadDB,
                 form: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
                 ) -> Response:
    require(w.p, "quality_score", "read")
    where = evaluation_filter(w.p)
    forms = db.execute(sa.select(QualityForm.id, QualityForm.form_key, QualityForm.version)
                       .where(client_filter(w.p, QualityForm.client_id))
                       .order_by(QualityForm.form_key, QualityForm.version)).all()
    if form is not None:
        where.append(QualityEvaluation.form_id == form)
    df = evaluations_table(db, *where)
    ctx: dict[str, Any] = {**w.ctx, "forms": forms, "form": form, "count": len(df),
                           "can_export": allowed(w.p, "quality_evaluation", "read")}
    if w.p.role == Role.AGENT:
        mine = df.sort_values("evaluated_at", ascending=False) if len(df) else df
        ctx["mine"] = mine.to_dict("records") if len(mine) else []
    elif len(df):
        ctx["sites"] = _groups(df, "site")
        ctx["teams"] = _groups(df, "team")
    return render(w.ctx["request"], "quality.html", ctx)


@router.get("/quality/evaluations.csv")
def quality_csv(w: WebUser, db: ReadDB,
                form: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
                ) -> Response:
    """The evaluations the user may see as CSV (the API's export, signed in by cookie)."""
    require(w.p, "quality_evaluation", "read")
    where = evaluation_filter(w.p)
    if form is not None:
        where.append(QualityEvaluation.form_id == form)
    return Response(evaluations_table(db, *where).to_csv(index=False), media_type="text/csv",
                    headers={"Content-Disposition": "attachment; filename=evaluations.csv"})
