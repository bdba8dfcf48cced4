"""Sites."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter

from openwfm.server.deps import CurrentUser, ReadDB
from openwfm.server.models import Site
from openwfm.server.permissions import require
from openwfm.server.routers.common import AUTH_ERRORS, Id, get_visible
from openwfm.server.schemas import SiteOut

router = APIRouter(prefix="/api/sites", tags=["sites"])


@router.get("", response_model=list[SiteOut], responses=AUTH_ERRORS)
async def list_sites(p: CurrentUser, session: ReadDB) -> list[Site]:
    require(p, "site", "read")
    return list(session.scalars(sa.select(Site).order_by(Site.id)))


@router.get("/{site_id}", response_model=SiteOut, responses=AUTH_ERRORS)
async def get_site(site_id: Id, p: CurrentUser, session: ReadDB) -> Site:
    require(p, "site", "read")
    return get_visible(session, Site, site_id)
