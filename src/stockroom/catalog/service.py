"""The product catalogue of a brand."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import Product
from stockroom.errors import ValidationFailed, field_error


async def create_product(
    session: AsyncSession,
    brand_id: uuid.UUID,
    *,
    sku: str,
    name: str,
    unit: str = "unit",
    min_stock: int = 0,
    location_aware: bool = False,
    cost_per_unit: Decimal = Decimal("0"),
) -> Product:
    """A new product; its SKU must be unused in the brand (422 otherwise)."""
    taken = (
        await session.execute(
            select(Product.id).where(Product.brand_id == brand_id, Product.sku == sku)
        )
    ).first()
    if taken:
        raise ValidationFailed(
            "A product with this SKU already exists.", [field_error("sku", "already exists")]
        )
    product = Product(
        brand_id=brand_id,
        sku=sku,
        name=name,
        unit=unit,
        min_stock=min_stock,
        location_aware=location_aware,
        cost_per_unit=cost_per_unit,
    )
    session.add(product)
    await session.flush()
    return product
