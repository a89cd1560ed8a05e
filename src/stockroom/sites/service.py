"""Sites (where stock is held) and their bin locations."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import Access, check_site_access
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped
from stockroom.db.models import Location, Site, StockLevel
from stockroom.errors import NotFound, ValidationFailed, field_error
from stockroom.pagination import PageMeta, PageParams, fetch_page
from stockroom.stock import shortfalls


async def create_site(
    session: AsyncSession, brand_id: uuid.UUID, name: str, *, allow_negative_stock: bool = False
) -> Site:
    """A new site of the brand."""
    site = Site(brand_id=brand_id, name=name, allow_negative_stock=allow_negative_stock)
    session.add(site)
    await session.flush()
    # Every product with a minimum is short at the new site until stocked there.
    await shortfalls.add_site(session, brand_id, site.id)
    return site


# Concurrent creations in one brand draw the same number; the loser retries. Each retry
# sees the winner's row (PostgreSQL blocks the loser's insert until the winner commits).
_LOCATION_ID_ATTEMPTS = 8


async def create_location(
    session: AsyncSession, brand_id: uuid.UUID, site_id: uuid.UUID, name: str
) -> Location:
    """A new bin location inside a site (the site must already be checked to be the brand's).

    Its integer id is the brand's next number (1, 2, ...): drawn within the brand's own rows,
    not from a sequence shared by every brand, which a sharded database cannot serve
    (docs/scaling.md, "Location ids").
    """
    next_id = select(func.coalesce(func.max(Location.id), 0) + 1).where(
        Location.brand_id == brand_id
    )
    attempts_left = _LOCATION_ID_ATTEMPTS
    while True:
        location_id = (await session.execute(next_id)).scalar_one()
        location = Location(id=location_id, brand_id=brand_id, site_id=site_id, name=name)
        try:
            async with session.begin_nested():
                session.add(location)
        except IntegrityError:
            attempts_left -= 1
            if not attempts_left:
                raise
            continue
        return location


async def list_sites(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Site], PageMeta]:
    """The sites the caller may read (an admin: all of the brand's), newest first."""
    query = brand_scoped(Site, principal)
    if not principal.is_admin:
        query = query.where(Site.id.in_(principal.site_ids))
    query = query.order_by(Site.created_at.desc(), Site.id.desc())
    return await fetch_page(session, query, params)


async def get_site(
    session: AsyncSession,
    principal: Principal,
    site_id: uuid.UUID,
    access: Access = Access.read,
) -> Site:
    """A site named in a path: 404 when not the brand's, 403 when the caller may not use it."""
    site = (await session.execute(brand_scoped(Site, principal).where(Site.id == site_id))).scalar()
    if site is None:
        raise NotFound(f"No site {site_id}.")
    check_site_access(principal, site, access)
    return site


async def find_site(session: AsyncSession, site_id: uuid.UUID) -> Site:
    """Any brand's site by id (operators at the command line), or NotFound."""
    # By id alone: an operator names a site without its brand (ids are UUIDs, unique anyway).
    site = (await session.execute(select(Site).where(Site.id == site_id))).scalar()
    if site is None:
        raise NotFound(f"no site {site_id}")
    return site


async def sites_by_name(session: AsyncSession, brand_id: uuid.UUID) -> list[Site]:
    """Every site of the brand, by name."""
    found = await session.execute(brand_scoped(Site, brand_id).order_by(Site.name, Site.id))
    return list(found.scalars())


async def locations_by_name(session: AsyncSession, site: Site) -> list[Location]:
    """Every bin location of the site, by name."""
    found = await session.execute(
        brand_scoped(Location, site.brand_id)
        .where(Location.site_id == site.id)
        .order_by(Location.name, Location.id)
    )
    return list(found.scalars())


async def update_site(
    session: AsyncSession, principal: Principal, site_id: uuid.UUID, changes: dict[str, Any]
) -> Site:
    """Rename a site or change whether its stock may go below zero."""
    site = await get_site(session, principal, site_id)
    if "allow_negative_stock" in changes:
        await _lock_rule(session, site)
    if changes.get("allow_negative_stock") is False:
        # A level below zero where that is not allowed is what `stockroom verify` reports as
        # a broken ledger; the stock has to be brought back to zero first. Counted after
        # the lock, so every write that went below zero under the old rule has committed.
        negative = (
            await session.execute(
                select(func.count())
                .select_from(StockLevel)
                .where(
                    StockLevel.brand_id == site.brand_id,
                    StockLevel.site_id == site.id,
                    StockLevel.on_hand < 0,
                )
            )
        ).scalar_one()
        if negative:
            raise ValidationFailed(
                "Negative stock cannot be turned off while stock at the site is below zero.",
                [
                    field_error(
                        "allow_negative_stock",
                        f"{negative} stock level(s) at the site are below zero",
                    )
                ],
            )
    for name, value in changes.items():
        setattr(site, name, value)
    await session.flush()
    return site


async def _lock_rule(session: AsyncSession, site: Site) -> None:
    """Lock the site row as the writer's rule needs (PostgreSQL; SQLite has one writer).

    FOR NO KEY UPDATE waits for every write that read `allow_negative_stock` FOR SHARE
    (those that took a level below zero) to commit, and makes the next ones wait for this
    change and read its outcome. Writes that keep levels at or above zero are not held up.
    """
    await session.execute(
        select(Site.id)
        .where(Site.brand_id == site.brand_id, Site.id == site.id)
        .with_for_update(key_share=True)
    )


async def list_locations(
    session: AsyncSession, principal: Principal, site_id: uuid.UUID, params: PageParams
) -> tuple[list[Location], PageMeta]:
    """The bin locations of a site the caller may read, newest first."""
    site = await get_site(session, principal, site_id)
    query = (
        brand_scoped(Location, principal)
        .where(Location.site_id == site.id)
        .order_by(Location.created_at.desc(), Location.id.desc())
    )
    return await fetch_page(session, query, params)


async def add_location(
    session: AsyncSession, principal: Principal, site_id: uuid.UUID, name: str
) -> Location:
    """A new location in a site named in a path; its name must be new in the site (any case)."""
    site = await get_site(session, principal, site_id)
    taken = (
        await session.execute(
            brand_scoped(Location, principal).where(
                Location.site_id == site.id, func.lower(Location.name) == name.lower()
            )
        )
    ).first()
    if taken:
        raise ValidationFailed(
            "The site already has a location with this name.",
            [field_error("name", "already exists in this site")],
        )
    return await create_location(session, principal.brand_id, site.id, name)
