"""The current site: `site_id` of the body or query, else `X-Site-Id`, else the user's default.

Every route that acts on a current site resolves it here (`SiteChoice.resolve`, or
`resolve_current_site` for a GET whose only explicit site is its query), so the rule of the
contract ("Auth and scope") has one implementation. A body and a query that both name a
site must name the same one (422 otherwise).
"""

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


def explicit_site(
    first: uuid.UUID | None, second: uuid.UUID | None, *, field: str = "site_id"
) -> uuid.UUID | None:
    """One site named twice (body and query, or `site_id` and its alias) must be the same."""
    if first is not None and second is not None and first != second:
        raise ValidationFailed(
            "The request names two different sites.",
            [field_error(field, f"{second} differs from {first} named elsewhere in the request")],
        )
    return first if first is not None else second


@dataclass(frozen=True, slots=True)
class SiteChoice:
    """What a request says about its current site outside its body: the query and `X-Site-Id`."""

    query: uuid.UUID | None = None
    header: uuid.UUID | None = None

    async def resolve(
        self,
        session: AsyncSession,
        principal: Principal,
        access: Access,
        *,
        body: uuid.UUID | None = None,
    ) -> SiteRef:
        """The current site: `body`'s site or the query's (equal when both), else the header's,
        else the caller's default; checked for `access`."""
        return await resolve_current_site(
            session,
            principal,
            explicit=explicit_site(body, self.query),
            header=self.header,
            access=access,
        )
