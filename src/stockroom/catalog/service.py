"""The product catalogue of a brand."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped
from stockroom.db.models import Product, StockMovement
from stockroom.errors import NotFound, ValidationFailed, field_error
from stockroom.pagination import PageMeta, PageParams, fetch_page
from stockroom.stock import shortfalls


def _sku_taken() -> ValidationFailed:
    return ValidationFailed(
        "A product with this SKU already exists.", [field_error("sku", "already exists")]
    )


async def _flush_unique_sku(session: AsyncSession) -> None:
    # The check before the write covers the usual case; the unique index covers two
    # concurrent requests for one SKU (PostgreSQL), which would otherwise surface as a 503.
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _sku_taken() from exc


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
        raise _sku_taken()
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
    await _flush_unique_sku(session)
    if min_stock > 0:
        # Short at every site until stocked (low stock reads the stored shortfalls).
        await shortfalls.add_products(session, brand_id, [product.id], created=True)
    return product


async def list_products(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    q: str | None = None,
    sku: str | None = None,
    archived: bool = False,
) -> tuple[list[Product], PageMeta]:
    """One page of the brand's catalogue, by SKU; `q` matches name or SKU, any case."""
    query = brand_scoped(Product, principal).where(Product.archived.is_(archived))
    if sku is not None:
        query = query.where(Product.sku == sku)
    if q:
        needle = q.lower()
        query = query.where(
            or_(
                func.lower(Product.name).contains(needle, autoescape=True),
                func.lower(Product.sku).contains(needle, autoescape=True),
            )
        )
    query = query.order_by(Product.sku, Product.id)
    return await fetch_page(session, query, params)


async def get_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> Product:
    """A product of the caller's brand named in a path (404 when there is none)."""
    product = (
        await session.execute(brand_scoped(Product, principal).where(Product.id == product_id))
    ).scalar()
    if product is None:
        raise NotFound(f"No product {product_id}.")
    return product


async def _has_movements(session: AsyncSession, product: Product) -> bool:
    found = await session.execute(
        select(StockMovement.id)
        .where(StockMovement.brand_id == product.brand_id, StockMovement.product_id == product.id)
        .limit(1)
    )
    return found.first() is not None


async def _lock_location_rule(session: AsyncSession, product: Product) -> None:
    """Lock the product row against every write that read `location_aware` (PostgreSQL).

    Writers read it FOR KEY SHARE (`check_line_targets`), so FOR UPDATE waits for those in
    flight to commit — their movements are then seen by `_has_movements` — and makes the
    next ones wait for this change and read its outcome. Reloads the product under the lock.
    """
    await session.execute(
        select(Product)
        .where(Product.brand_id == product.brand_id, Product.id == product.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def update_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, changes: dict[str, Any]
) -> Product:
    """Apply the given field changes; SKU stays unique, `location_aware` is fixed once stocked."""
    product = await get_product(session, principal, product_id)
    details = []
    new_sku = changes.get("sku")
    if new_sku is not None and new_sku != product.sku:
        taken = (
            await session.execute(
                brand_scoped(Product, principal).where(
                    Product.sku == new_sku, Product.id != product.id
                )
            )
        ).first()
        if taken:
            details.append(field_error("sku", "already exists"))
    aware = changes.get("location_aware")
    if aware is not None:
        await _lock_location_rule(session, product)
    if (
        aware is not None
        and aware != product.location_aware
        and await _has_movements(session, product)
    ):
        # Its levels and movements are keyed with (or without) locations; switching would
        # strand them.
        details.append(
            field_error("location_aware", "cannot change: the product has stock movements")
        )
    if details:
        raise ValidationFailed("The product cannot be changed.", details)
    new_minimum = "min_stock" in changes and changes["min_stock"] != product.min_stock
    for name, value in changes.items():
        setattr(product, name, value)
    await _flush_unique_sku(session)
    if new_minimum:
        await shortfalls.add_products(session, product.brand_id, [product.id])
    return product


async def archive_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> Product:
    """Mark a product archived (hidden from the catalogue list; its history stays)."""
    return await update_product(session, principal, product_id, {"archived": True})
