"""The current site of a request: explicit `site_id`, else `X-Site-Id`, else the user's default."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped_columns
from stockroom.db.core import execute_core
from stockroom.db.models import Site
from stockroom.errors import Forbidden, ValidationFailed, field_error


class Access(Enum):
    read = "read"
    write = "write"


@dataclass(frozen=True, slots=True)
class SiteRef:
    """A site known to exist in a brand: all that stock requests need of it."""

    id: uuid.UUID
    brand_id: uuid.UUID


# Site id → brand id, per process. Sites are never deleted and never change brand, so an
# entry cannot go stale; whether a site allows negative stock is not cached (the ledger
# reads it in the statement that writes). Saves a query on every stock request.
_KNOWN_SITES: dict[uuid.UUID, uuid.UUID] = {}
_MAX_KNOWN_SITES = 100_000


async def load_site(
    session: AsyncSession, principal: Principal, site_id: uuid.UUID, *, field: str = "site_id"
) -> SiteRef:
    """A site of the caller's brand named in a request body or query; 422 when there is none."""
    if _KNOWN_SITES.get(site_id) == principal.brand_id:
        return SiteRef(site_id, principal.brand_id)
    found = (
        await execute_core(
            session, brand_scoped_columns(Site, principal, Site.id).where(Site.id == site_id)
        )
    ).scalar()
    if found is None:
        raise ValidationFailed(
            "The site does not exist in your brand.",
            [field_error(field, f"unknown site {site_id}")],
        )
    if len(_KNOWN_SITES) >= _MAX_KNOWN_SITES:
        _KNOWN_SITES.clear()
    _KNOWN_SITES[site_id] = principal.brand_id
    return SiteRef(site_id, principal.brand_id)


def check_site_access(principal: Principal, site: SiteRef | Site, access: Access) -> None:
    if access is Access.write:
        principal.require_writer()
        if not principal.can_write(site.id):
            raise Forbidden(f"You may not change stock at site {site.id}.")
    elif not principal.can_read(site.id):
        raise Forbidden(f"You may not read site {site.id}.")


async def resolve_current_site(
    session: AsyncSession,
    principal: Principal,
    *,
    explicit: uuid.UUID | None,
    header: uuid.UUID | None,
    access: Access,
) -> SiteRef:
    """The site a request acts on, checked for the caller's access (422 none, 403 not allowed)."""
    site_id = explicit or header or principal.default_site_id
    if site_id is None:
        raise ValidationFailed(
            "No current site: pass site_id, send X-Site-Id, or give the user a default site.",
            [field_error("site_id", "required")],
        )
    field = "site_id" if explicit else ("X-Site-Id" if header else "default_site_id")
    site = await load_site(session, principal, site_id, field=field)
    check_site_access(principal, site, access)
    return site
