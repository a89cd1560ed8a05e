"""The weighted average cost of a product's stock, moved by stock coming in at a cost.

Purchases and costed initial stock both call `average_in_costs` before they post their
movements, so "stock held" is the stock before the incoming quantities.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import BigInteger, Table, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import Product, StockLevel
from stockroom.db.models.base import Money

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
    The database computes it in one UPDATE per product, never read-then-write in Python.
    """
    # Per product: units, their value, and the last unit cost (for lines of 0 units).
    totals: dict[uuid.UUID, list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for product_id, units, cost in incoming:
        totals[product_id][0] += units
        totals[product_id][1] += units * cost
        totals[product_id][2] = cost
    if not totals:
        return
    product_ids = sorted(totals)
    # PostgreSQL: lock the products first, in id order. The UPDATE below then starts (and
    # reads the levels) only after a concurrent purchase of the same product has committed
    # both its new cost and its new levels, so neither is averaged in twice or missed.
    # NO KEY UPDATE: the key-share locks that movement inserts take on their product (the
    # foreign key) must not wait on it, or a purchase and an adjustment could deadlock.
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
    quantity = bindparam("incoming_quantity", type_=BigInteger)
    amount = bindparam("incoming_amount", type_=Money)
    unit_cost = bindparam("incoming_unit_cost", type_=Money)
    averaged = case(
        (on_hand > 0, (on_hand * _product.c.cost_per_unit + amount) / (on_hand + quantity)),
        else_=unit_cost,
    )
    await session.execute(
        update(_product)
        .where(_product.c.brand_id == brand_id, _product.c.id == bindparam("target_id"))
        .values(cost_per_unit=func.round(averaged, 4), updated_at=now),
        [
            {
                "target_id": product_id,
                "incoming_quantity": totals[product_id][0],
                "incoming_amount": totals[product_id][1],
                "incoming_unit_cost": (
                    totals[product_id][1] / totals[product_id][0]
                    if totals[product_id][0]
                    else totals[product_id][2]
                ),
            }
            for product_id in product_ids
        ],
    )
