"""Initial stock: the first movements of products at a site, when tracking starts there.

A product that already has any movement at the site is refused (`already_initialized`),
and the whole request with it. A level (product and location) may appear once: a
location-aware product may have one line per location of the site. Two requests racing for
the same product and site must not both pass the check: on PostgreSQL the product rows
are locked (`FOR NO KEY UPDATE`, in id order) before the check, so the second waits for the
first to commit and then sees its movements; on SQLite the write transaction is already
serialized by `BEGIN IMMEDIATE`. The lock is `NO KEY UPDATE`, not `UPDATE`, so it does not
block the key-share locks that other writers' foreign keys take on the product row.

The CSV import (`stockroom import stock --mode initial`) applies the same rules through the
public functions here: `initialized_products` and `average_opening_costs`.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterable, Iterator
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import Access, SiteChoice
from stockroom.auth.principal import Principal
from stockroom.catalog.costs import average_in_costs
from stockroom.db.core import execute_core
from stockroom.db.models import Product, StockLevel, StockMovement
from stockroom.db.models.base import utcnow
from stockroom.errors import AlreadyInitialized, ValidationFailed, field_error
from stockroom.initial_stock.schemas import InitialStockRequest
from stockroom.ledger import MovementDraft, check_line_targets, post_movements
from stockroom.ledger.lines import LOOKUP_CHUNK, one_of, targets_of

products = cast(Table, Product.__table__)
levels = cast(Table, StockLevel.__table__)
movements = cast(Table, StockMovement.__table__)


async def create_initial_stock(
    session: AsyncSession,
    principal: Principal,
    body: InitialStockRequest,
    site_choice: SiteChoice,
) -> list[dict[str, Any]]:
    """Write an `initial_stock` movement per line (all or none); return the movements."""
    site = await site_choice.resolve(session, principal, Access.write, body=body.site_id)
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
    _refuse_repeated_levels(drafts)
    await check_line_targets(
        session,
        principal.brand_id,
        targets_of(drafts),
    )
    started = await initialized_products(
        session, principal.brand_id, site.id, [d.product_id for d in drafts]
    )
    _refuse_initialized(drafts, started)
    now = utcnow()
    await average_opening_costs(session, principal.brand_id, drafts, now=now)
    return await post_movements(
        session,
        principal.brand_id,
        drafts,
        user_id=principal.user_id,
        now=now,
        occurred_at=body.occurred_at,
    )


def _repeats(keys: Iterable[Hashable]) -> Iterator[tuple[int, int]]:
    """(position, position of its first occurrence) for each key seen before."""
    first: dict[Hashable, int] = {}
    for position, key in enumerate(keys):
        seen = first.setdefault(key, position)
        if seen != position:
            yield position, seen


def _refuse_repeated_levels(drafts: list[MovementDraft]) -> None:
    details = [
        field_error(
            f"{drafts[i].field}product_id",
            "the product is already on line "
            f"{drafts[first].field.rstrip('.')}"
            + ("" if drafts[i].location_id is None else " at this location"),
        )
        for i, first in _repeats((d.product_id, d.location_id) for d in drafts)
    ]
    if details:
        raise ValidationFailed("Each product may appear only once per location.", details)


async def initialized_products(
    session: AsyncSession, brand_id: uuid.UUID, site_id: uuid.UUID, product_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of the products already have movements at the site (so cannot be initialized).

    The products are locked first, in id order, so a racing initial stock for the same
    products waits for this transaction and then sees its movements (PostgreSQL).
    """
    ordered = sorted(set(product_ids), key=lambda product_id: product_id.int)
    dialect = session.get_bind().dialect.name
    started: set[uuid.UUID] = set()
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        await execute_core(
            session,
            select(products.c.id)
            .where(products.c.brand_id == brand_id, one_of(products.c.id, chunk, dialect))
            .order_by(products.c.id)
            .with_for_update(key_share=True),
        )
        started.update(
            (
                await execute_core(
                    session,
                    select(movements.c.product_id)
                    .where(
                        movements.c.brand_id == brand_id,
                        movements.c.site_id == site_id,
                        one_of(movements.c.product_id, chunk, dialect),
                    )
                    .distinct(),
                )
            ).scalars()
        )
    return started


def _refuse_initialized(drafts: list[MovementDraft], started: set[uuid.UUID]) -> None:
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


async def average_opening_costs(
    session: AsyncSession, brand_id: uuid.UUID, drafts: Iterable[MovementDraft], *, now: datetime
) -> None:
    """Costed opening stock moves its products' average cost; call before posting the drafts,
    so "existing stock" is the stock held before them. Several lines of one product (one per
    location) count together."""
    await average_in_costs(
        session,
        brand_id,
        ((d.product_id, d.quantity, d.unit_cost) for d in drafts if d.unit_cost is not None),
        now=now,
    )
