"""The sweeper: records `expired` on reservations past `expires_at` and gives their units back.

Reads and writes already ignore expired holds (ledger/available.py), so the sweeper changes
no figure anyone sees; it makes the stored `reserved` catch up and the status say so.
Safe with many workers: on PostgreSQL each run claims its reservations with
`FOR UPDATE SKIP LOCKED` (a reservation being sold, released or swept elsewhere is
skipped and looked at next time); SQLite runs one writer at a time.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import NO_LOCATION, Reservation, ReservationLine
from stockroom.ledger import post_movements
from stockroom.ledger.available import HoldDraft

BATCH = 200


async def expire_reservations(session: AsyncSession, now: datetime, *, limit: int = BATCH) -> int:
    """Expire up to `limit` due reservations in the session's transaction; return how many."""
    due = (
        await session.execute(
            select(Reservation.id, Reservation.brand_id)
            .where(Reservation.status == "active", Reservation.expires_at <= now)
            .order_by(Reservation.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not due:
        return 0
    ids = [row.id for row in due]
    holds: dict[uuid.UUID, list[HoldDraft]] = defaultdict(list)
    for line in (
        await session.execute(
            select(ReservationLine).where(
                ReservationLine.reservation_id.in_(ids),
                ReservationLine.active.is_(True),
                ReservationLine.remaining > 0,
            )
        )
    ).scalars():
        holds[line.brand_id].append(
            HoldDraft(
                line.product_id,
                line.site_id,
                -line.remaining,
                None if line.location_id == NO_LOCATION else line.location_id,
            )
        )
    # One brand after another, each brand's levels in the writer's sorted order.
    for brand_id in sorted(holds):
        await post_movements(session, brand_id, [], user_id=None, now=now, holds=holds[brand_id])
    await session.execute(
        update(ReservationLine)
        .where(ReservationLine.reservation_id.in_(ids))
        .values(active=False)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Reservation)
        .where(Reservation.id.in_(ids))
        .values(status="expired", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return len(ids)
