"""Sites (where stock is held) and their bin locations."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import Location, Site


async def create_site(
    session: AsyncSession, brand_id: uuid.UUID, name: str, *, allow_negative_stock: bool = False
) -> Site:
    """A new site of the brand."""
    site = Site(brand_id=brand_id, name=name, allow_negative_stock=allow_negative_stock)
    session.add(site)
    await session.flush()
    return site


async def create_location(
    session: AsyncSession, brand_id: uuid.UUID, site_id: uuid.UUID, name: str
) -> Location:
    """A new bin location inside a site (the site must already be checked to be the brand's)."""
    location = Location(brand_id=brand_id, site_id=site_id, name=name)
    session.add(location)
    await session.flush()
    return location
