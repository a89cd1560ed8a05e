"""Write events into the outbox, in the caller's transaction (services never commit).

One multi-row INSERT per call. On PostgreSQL the rows arrive without a `position` (the feed
numbers them once committed, see feed.py); on SQLite, where one writer at a time holds the
database until it commits, the writer's numbers are already in commit order and are given
here: the brand's highest position plus one, plus two, ...
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core
from stockroom.db.models import Event, Product, StockLevel
from stockroom.db.models.base import new_id, utcnow
from stockroom.events.rules import EVENT_TYPES, threshold_crossing
from stockroom.movements.schemas import Movement

events = cast(Table, Event.__table__)
_levels = cast(Table, StockLevel.__table__)
_products = cast(Table, Product.__table__)

# (product_id, site_id): a level's site-wide figure, the one low stock is judged on.
SiteKey = tuple[uuid.UUID, uuid.UUID]

_LAST_POSITION = select(func.coalesce(func.max(events.c.position), 0)).where(
    events.c.brand_id == bindparam("b_brand")
)

# Available units (as stored: on hand − reserved) of products at sites, summed over bin
# locations, with each product's threshold. Only rows whose change could cross are asked for.
_SITE_FIGURES = (
    select(
        _levels.c.product_id,
        _levels.c.site_id,
        _products.c.min_stock,
        func.sum(_levels.c.on_hand).label("on_hand"),
        func.sum(_levels.c.reserved).label("reserved"),
    )
    .join(
        _products,
        (_products.c.id == _levels.c.product_id) & (_products.c.brand_id == _levels.c.brand_id),
    )
    .where(
        _levels.c.brand_id == bindparam("b_brand"),
        _levels.c.product_id.in_(bindparam("b_products", expanding=True)),
        _levels.c.site_id.in_(bindparam("b_sites", expanding=True)),
    )
    .group_by(_levels.c.product_id, _levels.c.site_id, _products.c.min_stock)
)


def api_data(schema: type[BaseModel], value: Any) -> dict[str, Any]:
    """`value` as the API answers it (validated and dumped through its response schema)."""
    return schema.model_validate(value).model_dump(mode="json")


async def record_events(
    session: AsyncSession,
    brand_id: uuid.UUID,
    typed: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    now: datetime | None = None,
) -> None:
    """Append events `(type, JSON-ready data)` for the brand, in this order, in one INSERT."""
    if not typed:
        return
    now = now or utcnow()
    rows: list[dict[str, Any]] = []
    for type_, data in typed:
        if type_ not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type_!r}")
        rows.append(
            {"brand_id": brand_id, "id": new_id(), "type": type_, "data": data, "created_at": now}
        )
    if session.get_bind().dialect.name == "sqlite":
        last = (await execute_core(session, _LAST_POSITION, {"b_brand": brand_id})).scalar_one()
        for i, row in enumerate(rows, start=1):
            row["position"] = row["seq"] = int(last) + i
    await execute_core(session, insert(events), rows)


async def record_event(
    session: AsyncSession,
    brand_id: uuid.UUID,
    type: str,
    data: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Append one event (see record_events)."""
    await record_events(session, brand_id, [(type, data)], now=now)


async def record_ledger_events(
    session: AsyncSession,
    brand_id: uuid.UUID,
    movements: Iterable[Mapping[str, Any]],
    available_changes: Mapping[SiteKey, int],
    now: datetime,
) -> None:
    """The writer's events: `movement.created` per movement, then `stock.low` /
    `stock.replenished` for each product and site whose available units crossed min_stock.

    Called after the levels changed, under their row locks: the stored figures read here
    are this transaction's, and `available_changes` (the request's net change of available
    units per product and site) gives the figure before it.
    """
    typed: list[tuple[str, Mapping[str, Any]]] = [
        ("movement.created", api_data(Movement, row)) for row in movements
    ]
    moved = {key: delta for key, delta in available_changes.items() if delta}
    if moved:
        figures = await execute_core(
            session,
            _SITE_FIGURES,
            {
                "b_brand": brand_id,
                "b_products": sorted({p for p, _ in moved}),
                "b_sites": sorted({s for _, s in moved}),
            },
        )
        for row in sorted(figures, key=lambda r: (str(r.product_id), str(r.site_id))):
            key = (row.product_id, row.site_id)
            if key not in moved:
                continue
            available = int(row.on_hand) - int(row.reserved)
            before = available - moved[key]
            crossing = threshold_crossing(before, available, int(row.min_stock))
            if crossing is not None:
                typed.append(
                    (
                        crossing,
                        {
                            "product_id": str(row.product_id),
                            "site_id": str(row.site_id),
                            "min_stock": int(row.min_stock),
                            "on_hand": int(row.on_hand),
                            "reserved": int(row.reserved),
                            "available": available,
                            "previous_available": before,
                        },
                    )
                )
    await record_events(session, brand_id, typed, now=now)
