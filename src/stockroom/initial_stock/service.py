"""Initial stock: the first movements of products at a site, when tracking starts there.

A product that already has any movement at the site is refused (`already_initialized`),
and the whole request with it. Two requests racing for the same product and site must not
both pass the check: on PostgreSQL the product rows are locked (`FOR NO KEY UPDATE`, in id
order) before the check, so the second waits for the first to commit and then sees its
movements; on SQLite the write transaction is already serialized by `BEGIN IMMEDIATE`.
The lock is `NO KEY UPDATE`, not `UPDATE`, so it does not block the key-share locks that
other writers' foreign keys take on the product row.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import Access, SiteChoice
from stockroom.auth.principal import Principal
from stockroom.catalog.costs import average_in_costs
from stockroom.db.models import Product, StockLevel, StockMovement
from stockroom.db.models.base import utcnow
from stockroom.errors import AlreadyInitialized, ValidationFailed, field_error
from stockroom.initial_stock.schemas import InitialStockLine, InitialStockRequest
from stockroom.ledger import LineTarget, MovementDraft, check_line_targets, post_movements

products = cast(Table, Product.__table__)
levels = cast(Table, StockLevel.__table__)


async def create_initial_stock(
    session: AsyncSession,
    principal: Principal,
    body: InitialStockRequest,
    site_choice: SiteChoice,
) -> list[dict[str, Any]]:
    """Write an `initial_stock` movement per line (all or none); return the movements."""
    site = await site_choice.resolve(session, principal, Access.write, body=body.site_id)
    _refuse_repeated_products(body.products)
    drafts = [
        MovementDraft(
            type="initial_stock",
            product_id=line.product_id,
            site_id=site.id,
            quantity=line.quantity,
            location_id=line.location_id,
            unit_cost=line.cost_per_unit,
            field=f"products[{i}].",
        )
        for i, line in enumerate(body.products)
    ]
    await check_line_targets(
        session,
        principal.brand_id,
        (LineTarget(d.field, d.product_id, d.site_id, d.location_id) for d in drafts),
    )
    await _lock_products(session, principal.brand_id, [d.product_id for d in drafts])
    await _refuse_initialized(session, principal.brand_id, site.id, drafts)
    # Before the movements land, so "existing stock" is the stock held before this request.
    now = utcnow()
    await average_in_costs(
        session,
        principal.brand_id,
        (
            (line.product_id, line.quantity, line.cost_per_unit)
            for line in body.products
            if line.cost_per_unit is not None
        ),
        now=now,
    )
    return await post_movements(
        session, principal.brand_id, drafts, user_id=principal.user_id, now=now
    )


def _refuse_repeated_products(lines: list[InitialStockLine]) -> None:
    first_line: dict[uuid.UUID, int] = {}
    details = []
    for i, line in enumerate(lines):
        if line.product_id in first_line:
            details.append(
                field_error(
                    f"products[{i}].product_id",
                    f"the product is already on line products[{first_line[line.product_id]}]",
                )
            )
        else:
            first_line[line.product_id] = i
    if details:
        raise ValidationFailed("Each product may appear only once.", details)


async def _lock_products(
    session: AsyncSession, brand_id: uuid.UUID, product_ids: list[uuid.UUID]
) -> None:
    # Sorted, so two requests naming overlapping products lock them in the same order.
    await session.execute(
        select(Product.id)
        .where(Product.brand_id == brand_id, Product.id.in_(product_ids))
        .order_by(Product.id)
        .with_for_update(key_share=True)
    )


async def _refuse_initialized(
    session: AsyncSession, brand_id: uuid.UUID, site_id: uuid.UUID, drafts: list[MovementDraft]
) -> None:
    started = set(
        (
            await session.execute(
                select(StockMovement.product_id)
                .where(
                    StockMovement.brand_id == brand_id,
                    StockMovement.site_id == site_id,
                    StockMovement.product_id.in_([d.product_id for d in drafts]),
                )
                .distinct()
            )
        ).scalars()
    )
    details = [
        field_error(
            f"{d.field}product_id",
            f"product {d.product_id} already has stock movements at this site",
        )
        for d in drafts
        if d.product_id in started
    ]
    if details:
        raise AlreadyInitialized(
            "Stock is already tracked at this site for some products; nothing was written.",
            details,
        )
