"""Brands: the tenants. Created by operators (CLI), never over the API."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import Brand


async def create_brand(session: AsyncSession, name: str) -> Brand:
    """A new, empty brand."""
    brand = Brand(name=name)
    session.add(brand)
    await session.flush()
    return brand
