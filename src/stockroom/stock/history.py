"""Stock as it was at an instant, from the per-day checkpoints (ledger/timeline.py).

For a level and an instant T on UTC day D:
    on_hand(T) = on_hand now − Σ checkpoints of the days after D
                             − Σ movements of day D that occurred after T.
The first sum reads one row per later day with movements, the second only day D's
movements of the level (one range of the (brand, product, site, occurred_at) index), so the
cost is bounded by the days between T and now and one day's movements, never by the
length of the ledger. Movements dated ahead of the clock (≤ 5 minutes) are in `on_hand
now` and in the later sums alike, so they cancel.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import StockMovement
from stockroom.ledger.timeline import MAX_AHEAD, MAX_BACKDATE_DAYS, day_start, days, utc_day

movements = cast(Table, StockMovement.__table__)

Level = tuple[uuid.UUID, uuid.UUID, int]  # product, site, location (0: none)


async def changes_since(
    session: AsyncSession,
    brand_id: uuid.UUID,
    instant: datetime,
    *,
    pairs: Collection[tuple[uuid.UUID, uuid.UUID]] | None = None,
    site_ids: Collection[uuid.UUID] | None = None,
) -> dict[Level, int]:
    """Per level: the net quantity that occurred after `instant` (subtract it from on_hand now).

    The levels of these (product, site) `pairs`, or of these sites, or of the whole brand.
    """
    if (pairs is not None and not pairs) or (site_ids is not None and not site_ids):
        return {}
    day = utc_day(instant)
    next_midnight = day_start(day) + timedelta(days=1)

    def scoped(query: Any, table: Table) -> Any:
        if pairs is not None:
            query = query.where(tuple_(table.c.product_id, table.c.site_id).in_(sorted(pairs)))
        if site_ids is not None:
            query = query.where(table.c.site_id.in_(sorted(site_ids)))
        return query

    later = scoped(
        select(days.c.product_id, days.c.site_id, days.c.location_id, func.sum(days.c.quantity))
        .where(
            days.c.brand_id == brand_id,
            days.c.day > day,
        )
        .group_by(days.c.product_id, days.c.site_id, days.c.location_id),
        days,
    )
    location = func.coalesce(movements.c.location_id, literal(0))
    same_day = scoped(
        select(
            movements.c.product_id, movements.c.site_id, location, func.sum(movements.c.quantity)
        )
        .where(
            movements.c.brand_id == brand_id,
            movements.c.occurred_at > instant,
            movements.c.occurred_at < next_midnight,
            # Implied by the backdating window; lets created_at partitions be pruned.
            movements.c.created_at >= instant - MAX_AHEAD,
            movements.c.created_at < next_midnight + timedelta(days=MAX_BACKDATE_DAYS),
        )
        .group_by(movements.c.product_id, movements.c.site_id, location),
        movements,
    )
    since: dict[Level, int] = defaultdict(int)
    for query in (later, same_day):
        rows: Any = (await session.execute(query)).all()
        for product_id, site_id, location_id, quantity in rows:
            since[(product_id, site_id, int(location_id))] += int(quantity)
    return since
