"""Brands: the tenants. Created by operators (CLI), never over the API."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import Brand
from stockroom.errors import NotFound


async def create_brand(session: AsyncSession, name: str) -> Brand:
    """A new, empty brand."""
    brand = Brand(name=name)
    session.add(brand)
    await session.flush()
    return brand


async def get_brand(session: AsyncSession, brand_id: uuid.UUID) -> Brand:
    """The brand, or NotFound."""
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound(f"no brand {brand_id}")
    return brand


async def list_brands(session: AsyncSession) -> list[Brand]:
    """Every brand, oldest first (operators only: brands are never listed over the API)."""
    found = await session.execute(select(Brand).order_by(Brand.created_at, Brand.id))
    return list(found.scalars())
