"""The value of the stock at an instant, from the ledger's quantities and recorded costs.

Quantity: each level as it was at the instant (stock/history.py). Average cost of a
product at the instant: the weighted average unit cost of its costed incoming movements
(`purchase` and `initial_stock` with a `unit_cost`, quantity > 0) that occurred at or
before it, across the brand's sites — Σ(quantity × unit_cost) / Σ quantity, rounded half
up to 4 places. Value: quantity × average cost, rounded the same way.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any, cast

from sqlalchemy import BigInteger, Table, and_, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import Access, check_site_access, load_site
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped_columns
from stockroom.db.models import Product, StockLevel, StockMovement
from stockroom.fields import MONEY_CONTEXT, MONEY_STEP
from stockroom.stock.history import changes_since
from stockroom.valuation.schemas import BrandValue, SiteValue, Valuation, ValuationLine

products = cast(Table, Product.__table__)
levels = cast(Table, StockLevel.__table__)
movements = cast(Table, StockMovement.__table__)

COSTED_TYPES = ("purchase", "initial_stock")


async def average_costs(
    session: AsyncSession, brand_id: uuid.UUID, instant: datetime
) -> dict[uuid.UUID, Decimal]:
    """Each product's weighted average incoming unit cost up to `instant` (see module doc)."""
    # Grouped by cost in SQL (few distinct costs per product), multiplied in Python: money
    # arithmetic stays exact on both databases (SQLite would turn it into floats).
    rows: Any = (
        await session.execute(
            select(
                movements.c.product_id,
                movements.c.unit_cost,
                sql_cast(func.sum(movements.c.quantity), BigInteger),
            )
            .where(
                movements.c.brand_id == brand_id,
                movements.c.type.in_(COSTED_TYPES),
                movements.c.unit_cost.is_not(None),
                movements.c.quantity > 0,
                movements.c.occurred_at <= instant,
            )
            .group_by(movements.c.product_id, movements.c.unit_cost)
        )
    ).all()
    units: dict[uuid.UUID, int] = defaultdict(int)
    amounts: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    with localcontext(MONEY_CONTEXT):
        for product_id, unit_cost, quantity in rows:
            units[product_id] += int(quantity)
            amounts[product_id] += int(quantity) * unit_cost
        return {
            product_id: (amounts[product_id] / count).quantize(MONEY_STEP)
            for product_id, count in units.items()
            if count > 0
        }


async def valuation(
    session: AsyncSession,
    principal: Principal,
    *,
    site_id: uuid.UUID | None,
    instant: datetime,
) -> Valuation:
    """Per product and site at the sites the caller may read (or one of them), with totals.

    Lines whose quantity was 0 at the instant are left out.
    """
    query = (
        brand_scoped_columns(
            StockLevel,
            principal,
            levels.c.product_id,
            products.c.sku,
            products.c.name,
            levels.c.site_id,
            levels.c.location_id,
            levels.c.on_hand,
        )
        .join(
            products,
            and_(products.c.brand_id == levels.c.brand_id, products.c.id == levels.c.product_id),
        )
        .order_by(products.c.sku, levels.c.site_id, levels.c.location_id)
    )
    scope: set[uuid.UUID] | None = None
    if site_id is not None:
        site = await load_site(session, principal, site_id)
        check_site_access(principal, site, Access.read)
        scope = {site.id}
    elif not principal.is_admin:
        scope = set(principal.site_ids)
    if scope is not None:
        query = query.where(levels.c.site_id.in_(sorted(scope)))
    rows: Any = (await session.execute(query)).all()
    since = await changes_since(session, principal.brand_id, instant, site_ids=scope)
    costs = await average_costs(session, principal.brand_id, instant)

    lines: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    for product_id, sku, name, level_site, location_id, on_hand in rows:
        line = lines.setdefault(
            (product_id, level_site),
            {
                "product_id": product_id,
                "sku": sku,
                "name": name,
                "site_id": level_site,
                "quantity": 0,
            },
        )
        line["quantity"] += int(on_hand) - since.get((product_id, level_site, location_id), 0)
    site_totals: dict[uuid.UUID, list[Any]] = {}
    data = []
    with localcontext(MONEY_CONTEXT):
        for line in lines.values():
            if line["quantity"] == 0:
                continue  # nothing held then: nothing to value
            cost = costs.get(line["product_id"])
            value = None if cost is None else (line["quantity"] * cost).quantize(MONEY_STEP)
            data.append(ValuationLine(average_cost=cost, value=value, **line))
            total = site_totals.setdefault(line["site_id"], [0, Decimal(0)])
            total[0] += line["quantity"]
            total[1] += value or Decimal(0)
    sites = [
        SiteValue(site_id=site, quantity=quantity, value=value)
        for site, (quantity, value) in sorted(site_totals.items())
    ]
    return Valuation(
        as_of=instant,
        data=data,
        sites=sites,
        total=BrandValue(
            quantity=sum(s.quantity for s in sites),
            value=sum((s.value for s in sites), Decimal(0)),
        ),
    )
