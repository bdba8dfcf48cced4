"""Sites: read (admin, planner, team leader); create, update, delete (admin, planner),
each audited with the site before and after."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Response, status

from openwfm.server import audit
from openwfm.server.deps import CurrentUser, ReadDB, WriteDB, acting_user
from openwfm.server.models import Agent, Site, Team
from openwfm.server.permissions import require
from openwfm.server.routers.common import AUTH_ERRORS, WRITE_ERRORS, Id, get_visible
from openwfm.server.schemas import SiteIn, SiteOut, SiteUpdate

router = APIRouter(prefix="/api/sites", tags=["sites"])
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS, 422: {"description": "Invalid field (named)"}}


@router.get("", response_model=list[SiteOut], responses=AUTH_ERRORS)
async def list_sites(p: CurrentUser, session: ReadDB) -> list[Site]:
    require(p, "site", "read")
    return list(session.scalars(sa.select(Site).order_by(Site.id)))


@router.get("/{site_id}", response_model=SiteOut, responses=AUTH_ERRORS)
async def get_site(site_id: Id, p: CurrentUser, session: ReadDB) -> Site:
    require(p, "site", "read")
    return get_visible(session, Site, site_id)


def _unique_name(session: WriteDB, name: str, site_id: int | None = None) -> None:
    other = session.scalar(sa.select(Site.id).where(Site.name == name))
    if other is not None and other != site_id:
        raise HTTPException(status.HTTP_409_CONFLICT, f"site {name!r} exists")


@router.post("", response_model=SiteOut, status_code=status.HTTP_201_CREATED,
             responses=BODY_ERRORS)
def create_site(body: SiteIn, p: CurrentUser, session: WriteDB) -> Site:  # type: ignore[valid-type]
    """Add a site (admin, planner)."""
    require(p, "site", "write")
    fields = body.model_dump()  # type: ignore[attr-defined]
    _unique_name(session, fields["name"])
    site = Site(**{**fields, "labour_pack": fields["labour_pack"] or ""})
    session.add(site)
    session.flush()
    audit.record(session, acting_user(session, p), "create", "site", site.id,
                 after=audit.snapshot(site))
    return site


@router.patch("/{site_id}", response_model=SiteOut, responses=BODY_ERRORS)
def update_site(site_id: Id, body: SiteUpdate, p: CurrentUser,  # type: ignore[valid-type]
                session: WriteDB) -> Site:
    """Change a site's fields (admin, planner); omitted fields stay as they are."""
    require(p, "site", "write")
    site = get_visible(session, Site, site_id)
    before = audit.snapshot(site)
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items()  # type: ignore[attr-defined]
              if v is not None or k == "labour_pack"}
    if "name" in fields:
        _unique_name(session, fields["name"], site.id)
    for key, value in fields.items():
        setattr(site, key, value if value is not None else "")
    session.flush()
    audit.record(session, acting_user(session, p), "update", "site", site.id, before,
                 audit.snapshot(site))
    return site


@router.delete("/{site_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_site(site_id: Id, p: CurrentUser, session: WriteDB) -> Response:
    """Remove a site without agents or teams (admin, planner); 409 while it has some."""
    require(p, "site", "write")
    site = get_visible(session, Site, site_id)
    for model, what in ((Agent, "agents"), (Team, "teams")):
        n = session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.site_id == site_id))  # type: ignore[attr-defined]
        if n:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"site {site.name!r} still has {n} {what}: move them first")
    before = audit.snapshot(site)
    session.delete(site)
    session.flush()
    audit.record(session, acting_user(session, p), "delete", "site", site_id, before=before)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
