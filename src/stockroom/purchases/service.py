"""Purchases: stock received at a cost, and the weighted average cost it moves.

Each `purchase` movement carries its purchase's id (`purchase_id`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import (
    Access,
    SiteChoice,
    check_site_access,
    load_site,
)
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped, brand_scoped_columns
from stockroom.catalog.costs import average_in_costs
from stockroom.db.models import Product, Purchase, StockLevel, StockMovement
from stockroom.db.models.base import new_id, utcnow
from stockroom.errors import NotFound
from stockroom.ledger import LineTarget, MovementDraft, check_line_targets, post_movements
from stockroom.pagination import PageMeta, PageParams, fetch_page
from stockroom.purchases.schemas import PurchaseCreate

_movement = StockMovement.__table__
_product = cast(Table, Product.__table__)
_level = StockLevel.__table__


async def create_purchase(
    session: AsyncSession, principal: Principal, body: PurchaseCreate, site_choice: SiteChoice
) -> dict[str, Any]:
    """Receive the lines at the current site: one `purchase` movement each, costs averaged in."""
    site = await site_choice.resolve(session, principal, Access.write, body=body.site_id)
    await check_line_targets(
        session,
        principal.brand_id,
        (
            LineTarget(f"lines[{i}].", line.product_id, site.id, line.location_id)
            for i, line in enumerate(body.lines)
        ),
    )
    now = utcnow()
    purchase_id = new_id()
    # Before the levels change: the average weighs the stock on hand before this purchase.
    await average_in_costs(
        session,
        principal.brand_id,
        ((line.product_id, line.quantity, line.cost_per_unit) for line in body.lines),
        now=now,
    )
    movements = await post_movements(
        session,
        principal.brand_id,
        [
            MovementDraft(
                type="purchase",
                product_id=line.product_id,
                site_id=site.id,
                quantity=line.quantity,
                location_id=line.location_id,
                reference=body.reference,
                unit_cost=line.cost_per_unit,
                purchase_id=purchase_id,
                field=f"lines[{i}].",
            )
            for i, line in enumerate(body.lines)
        ],
        user_id=principal.user_id,
        now=now,
        occurred_at=body.occurred_at,
    )
    purchase = Purchase(
        id=purchase_id,
        brand_id=principal.brand_id,
        site_id=site.id,
        reference=body.reference,
        user_id=principal.user_id,
        created_at=now,
    )
    session.add(purchase)
    await session.flush()
    return _purchase_view(purchase, movements)


async def get_purchase(
    session: AsyncSession, principal: Principal, purchase_id: uuid.UUID
) -> dict[str, Any]:
    """One purchase at a site the caller may read (404 otherwise), with its movements."""
    purchase = (
        await session.execute(brand_scoped(Purchase, principal).where(Purchase.id == purchase_id))
    ).scalar()
    if purchase is None or not principal.can_read(purchase.site_id):
        raise NotFound(f"No purchase {purchase_id}.")
    return (await _with_movements(session, principal, [purchase]))[0]


async def list_purchases(
    session: AsyncSession, principal: Principal, params: PageParams, site_id: uuid.UUID | None
) -> tuple[list[dict[str, Any]], PageMeta]:
    """Purchases at the sites the caller may read (or one of them), newest first."""
    query = brand_scoped(Purchase, principal)
    if site_id is not None:
        site = await load_site(session, principal, site_id)
        check_site_access(principal, site, Access.read)
        query = query.where(Purchase.site_id == site.id)
    elif not principal.is_admin:
        query = query.where(Purchase.site_id.in_(sorted(principal.site_ids)))
    query = query.order_by(Purchase.created_at.desc(), Purchase.id.desc())
    purchases, meta = await fetch_page(session, query, params)
    return await _with_movements(session, principal, purchases), meta


async def _with_movements(
    session: AsyncSession, principal: Principal, purchases: Sequence[Purchase]
) -> list[dict[str, Any]]:
    """The purchases with their movements, read in one query."""
    if not purchases:
        return []
    rows = (
        await session.execute(
            brand_scoped_columns(StockMovement, principal, *_movement.c)
            .where(_movement.c.purchase_id.in_([p.id for p in purchases]))
            .order_by(_movement.c.product_id, _movement.c.location_id, _movement.c.id)
        )
    ).mappings()
    movements: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        movements[row["purchase_id"]].append(dict(row))
    return [_purchase_view(purchase, movements[purchase.id]) for purchase in purchases]


def _purchase_view(purchase: Purchase, movements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": purchase.id,
        "site_id": purchase.site_id,
        "reference": purchase.reference,
        "movements": list(movements),
        "created_at": purchase.created_at,
        "user_id": purchase.user_id,
    }
