"""Reading a brand's events in commit order — STAND-IN with the interface agreed with `events`.

The real module (branch `events`) decides which events are visible so that a cursor never
skips one committed out of order; this stand-in returns the numbered ones, in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.scope import brand_scoped
from stockroom.db.models import Event

EventRow = Event


async def read_events(
    session: AsyncSession,
    brand_id: uuid.UUID,
    *,
    after: int | None,
    limit: int,
    types: Sequence[str] | None = None,
) -> list[EventRow]:
    """The brand's events after position `after` (all when None), oldest first, at most `limit`."""
    query = brand_scoped(Event, brand_id).where(Event.position.is_not(None))
    if after is not None:
        query = query.where(Event.position > after)
    if types:
        query = query.where(Event.type.in_(list(types)))
    rows = await session.execute(query.order_by(Event.position).limit(limit))
    return list(rows.scalars())
