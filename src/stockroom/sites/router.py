"""`/sites` and `/sites/{site_id}/locations`: where stock is held. Admins manage them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from stockroom.auth.dependencies import CurrentPrincipal, Session
from stockroom.http.errors import error_responses
from stockroom.pagination import Page, Paging
from stockroom.sites import service
from stockroom.sites.schemas import Location, LocationCreate, Site, SiteCreate, SiteUpdate

router = APIRouter(prefix="/sites", tags=["Sites"])


@router.get(
    "",
    operation_id="listSites",
    summary="List sites",
    response_model=Page[Site],
    responses=error_responses(401, 422),
)
async def list_sites(session: Session, principal: CurrentPrincipal, paging: Paging) -> Page[Site]:
    """The sites you may read (an admin: every site of the brand), newest first."""
    rows, meta = await service.list_sites(session, principal, paging)
    return Page[Site](data=[Site.model_validate(r) for r in rows], meta=meta)


@router.post(
    "",
    operation_id="createSite",
    summary="Create a site",
    status_code=201,
    response_model=Site,
    responses=error_responses(401, 403, 422),
)
async def create_site(session: Session, principal: CurrentPrincipal, body: SiteCreate) -> Site:
    """Open a new site (admin); negative stock is not allowed there unless asked for."""
    principal.require_admin()
    site = await service.create_site(
        session, principal.brand_id, body.name, allow_negative_stock=body.allow_negative_stock
    )
    return Site.model_validate(site)


@router.get(
    "/{site_id}",
    operation_id="getSite",
    summary="Get a site",
    response_model=Site,
    responses=error_responses(401, 403, 404),
)
async def get_site(session: Session, principal: CurrentPrincipal, site_id: uuid.UUID) -> Site:
    """One site of your brand that you may read."""
    return Site.model_validate(await service.get_site(session, principal, site_id))


@router.patch(
    "/{site_id}",
    operation_id="updateSite",
    summary="Update a site",
    response_model=Site,
    responses=error_responses(401, 403, 404, 422),
)
async def update_site(
    session: Session, principal: CurrentPrincipal, site_id: uuid.UUID, body: SiteUpdate
) -> Site:
    """Rename a site or change `allow_negative_stock` (admin). Negative stock cannot be turned
    off while a level at the site is below zero."""
    principal.require_admin()
    site = await service.update_site(
        session, principal, site_id, body.model_dump(exclude_unset=True)
    )
    return Site.model_validate(site)


@router.get(
    "/{site_id}/locations",
    operation_id="listSiteLocations",
    summary="List the locations of a site",
    response_model=Page[Location],
    responses=error_responses(401, 403, 404, 422),
)
async def list_site_locations(
    session: Session, principal: CurrentPrincipal, site_id: uuid.UUID, paging: Paging
) -> Page[Location]:
    """The bin locations inside a site you may read, newest first."""
    rows, meta = await service.list_locations(session, principal, site_id, paging)
    return Page[Location](data=[Location.model_validate(r) for r in rows], meta=meta)


@router.post(
    "/{site_id}/locations",
    operation_id="createSiteLocation",
    summary="Create a location in a site",
    status_code=201,
    response_model=Location,
    responses=error_responses(401, 403, 404, 422),
)
async def create_site_location(
    session: Session, principal: CurrentPrincipal, site_id: uuid.UUID, body: LocationCreate
) -> Location:
    """Add a bin location to a site (admin); its name must be new in the site."""
    principal.require_admin()
    location = await service.add_location(session, principal, site_id, body.name)
    return Location.model_validate(location)
