"""The weighted average cost of a product's stock, moved by stock coming in at a cost.

Purchases and costed initial stock both call `average_in_costs` before they post their
movements, so "stock held" is the stock before the incoming quantities.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import Product, StockLevel
from stockroom.db.models.base import Money
from stockroom.fields import MONEY_CONTEXT, MONEY_STEP

_product = cast(Table, Product.__table__)
_level = cast(Table, StockLevel.__table__)


async def average_in_costs(
    session: AsyncSession,
    brand_id: uuid.UUID,
    incoming: Iterable[tuple[uuid.UUID, int, Decimal]],
    *,
    now: datetime,
) -> None:
    """Move each product's `cost_per_unit` to the weighted average with stock coming in.

    new = (on_hand·old + Σ q·cost) / (on_hand + Σ q), where on_hand is the product's
    stock across the brand before the incoming stock is posted; when that is ≤ 0 the
    incoming cost alone. Call it before `post_movements` adds the incoming quantities.
    Read after the products' row locks, computed exactly in Python, rounded half away
    from zero to 4 places, written in one executemany UPDATE.
    """
    # Per product: units, their value, and the last unit cost (for lines of 0 units).
    totals: dict[uuid.UUID, list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    with localcontext(MONEY_CONTEXT):
        for product_id, units, cost in incoming:
            totals[product_id][0] += units
            totals[product_id][1] += units * cost
            totals[product_id][2] = cost
    if not totals:
        return
    product_ids = sorted(totals)
    # PostgreSQL: lock the products first, in id order. The SELECT below is a later
    # statement, so it reads the levels and costs a concurrent purchase of the same product
    # committed (both its new cost and its new levels), never one without the other.
    # NO KEY UPDATE: the key-share locks that movement inserts take on their product (the
    # foreign key) must not wait on it, or a purchase and an adjustment could deadlock.
    # SQLite: the request's transaction holds the database's write lock already.
    await session.execute(
        select(_product.c.id)
        .where(_product.c.brand_id == brand_id, _product.c.id.in_(product_ids))
        .order_by(_product.c.id)
        .with_for_update(key_share=True)
    )
    on_hand = (
        select(func.coalesce(func.sum(_level.c.on_hand), 0))
        .where(_level.c.brand_id == _product.c.brand_id, _level.c.product_id == _product.c.id)
        .scalar_subquery()
    )
    current = (
        await session.execute(
            select(_product.c.id, _product.c.cost_per_unit, on_hand.label("on_hand")).where(
                _product.c.brand_id == brand_id, _product.c.id.in_(product_ids)
            )
        )
    ).all()
    # In Python, exactly: on_hand × cost alone can need 30 digits, beyond numeric(18, 4)
    # (PostgreSQL) and beyond the 64-bit integers and floats of SQLite.
    averaged: list[dict[str, Any]] = []
    with localcontext(MONEY_CONTEXT):
        for product_id, old_cost, held in current:
            units, amount, last_cost = totals[product_id]
            held = int(held)
            if held > 0:
                cost = (held * old_cost + amount) / (held + units)
            else:
                cost = amount / units if units else last_cost
            averaged.append({"target_id": product_id, "new_cost": cost.quantize(MONEY_STEP)})
    await session.execute(
        update(_product)
        .where(_product.c.brand_id == brand_id, _product.c.id == bindparam("target_id"))
        .values(cost_per_unit=bindparam("new_cost", type_=Money), updated_at=now),
        averaged,
    )
