"""The feed: committed events in commit order, each exactly once, by `position`.

A reader follows positions (`after` → the next events). That is only safe if no event can
ever get a position at or below one a reader has already passed, even when transactions
commit in another order than they started or wrote — the outbox sequence gap. So events are
numbered only once committed, and in an order no later commit can undercut:

- PostgreSQL: events are inserted without a position. `number_events` takes the brand's
  transaction-scoped advisory lock, then gives every *committed* unnumbered event of the
  brand the next positions (in insertion order), and commits. Numberings of one brand run
  one at a time; each sees the previous one's result (READ COMMITTED takes a new snapshot
  per statement, after the lock); a transaction that commits events later is numbered by
  a later numbering, above everything already numbered. `GET /events` numbers before it
  reads; the worker's relay job does it for every brand (for webhooks).
- SQLite: one writer at a time holds the database until it commits, so the position a
  writer gives (record.py: the brand's highest plus one) is already in commit order;
  `number_events` has nothing to do.

Readers see only numbered events; positions are dense per brand, and a reader whose snapshot
sees position p sees every position below p.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core
from stockroom.db.models import Event

events = cast(Table, Event.__table__)

# Namespace of the events' advisory locks (pg_advisory_xact_lock(int, int): namespace, brand).
_LOCK_NAMESPACE = 0x5E7E  # "events"
NUMBER_BATCH = 5000

_LOCK_BRAND = text("SELECT pg_advisory_xact_lock(:namespace, :brand_key)")
_NUMBER = text(
    """
    UPDATE events SET position = numbered.position
    FROM (
        SELECT pending.id,
               (SELECT coalesce(max(position), 0) FROM events WHERE brand_id = :brand)
               + row_number() OVER (ORDER BY pending.seq) AS position
        FROM events AS pending
        WHERE pending.brand_id = :brand AND pending.position IS NULL
        ORDER BY pending.seq
        LIMIT :limit
    ) AS numbered
    WHERE events.brand_id = :brand AND events.id = numbered.id
    """
)
_PENDING_BRANDS = select(events.c.brand_id).where(events.c.position.is_(None)).distinct().limit(100)
_LAST_POSITION = select(func.max(events.c.position)).where(
    events.c.brand_id == bindparam("b_brand")
)


@dataclass(frozen=True, slots=True)
class EventRow:
    id: uuid.UUID
    position: int
    type: str
    data: dict[str, Any]
    created_at: datetime


def _brand_key(brand_id: uuid.UUID) -> int:
    return int.from_bytes(brand_id.bytes[:4], "big", signed=True)


async def number_events(
    session: AsyncSession, brand_id: uuid.UUID, *, limit: int = NUMBER_BATCH
) -> int:
    """Give the brand's committed, unnumbered events their positions; return how many.

    The caller commits (the lock is held until then). A no-op on SQLite.
    """
    if session.get_bind().dialect.name != "postgresql":
        return 0
    await execute_core(
        session, _LOCK_BRAND, {"namespace": _LOCK_NAMESPACE, "brand_key": _brand_key(brand_id)}
    )
    result = await execute_core(session, _NUMBER, {"brand": brand_id, "limit": limit})
    return int(result.rowcount or 0)


async def brands_with_unnumbered_events(session: AsyncSession) -> list[uuid.UUID]:
    """Brands whose committed events wait for a position (PostgreSQL; none on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    return sorted((await execute_core(session, _PENDING_BRANDS)).scalars())


async def read_events(
    session: AsyncSession,
    brand_id: uuid.UUID,
    *,
    after: int | None,
    limit: int,
    types: Sequence[str] | None = None,
) -> list[EventRow]:
    """The brand's numbered events after position `after`, oldest first (at most `limit`)."""
    rows, _ = await read_events_page(session, brand_id, after=after, limit=limit, types=types)
    return rows


async def read_events_page(
    session: AsyncSession,
    brand_id: uuid.UUID,
    *,
    after: int | None,
    limit: int,
    types: Sequence[str] | None = None,
) -> tuple[list[EventRow], int | None]:
    """The events (see read_events) and the position read up to: the last one returned
    when the page is full, else the brand's last position at the time of reading — with a
    `types` filter, events of other types up to there are passed over, not read again."""
    # The last position first: every event at or below it is committed and numbered, so
    # the next statement (a newer snapshot under READ COMMITTED) sees all of them.
    last = (await execute_core(session, _LAST_POSITION, {"b_brand": brand_id})).scalar()
    if last is None or (after is not None and last <= after):
        return [], after
    query = (
        select(events.c.id, events.c.position, events.c.type, events.c.data, events.c.created_at)
        .where(events.c.brand_id == brand_id, events.c.position <= last)
        .order_by(events.c.position)
        .limit(limit)
    )
    if after is not None:
        query = query.where(events.c.position > after)
    if types:
        query = query.where(events.c.type.in_(list(types)))
    rows = [
        EventRow(r.id, int(r.position), r.type, r.data, r.created_at)
        for r in await execute_core(session, query)
    ]
    reached = rows[-1].position if len(rows) == limit else int(last)
    return rows, reached
