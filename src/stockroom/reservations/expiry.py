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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import NO_LOCATION, Reservation, ReservationLine
from stockroom.events.record import api_data, record_events
from stockroom.ledger import post_movements
from stockroom.ledger.available import HoldDraft
from stockroom.reservations.schemas import Reservation as ReservationOut
from stockroom.reservations.service import reservation_view

BATCH = 200


async def expire_reservations(session: AsyncSession, now: datetime, *, limit: int = BATCH) -> int:
    """Expire up to `limit` due reservations in the session's transaction; return how many."""
    due = list(
        (
            await session.execute(
                select(Reservation)
                .where(Reservation.status == "active", Reservation.expires_at <= now)
                .order_by(Reservation.expires_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    if not due:
        return 0
    ids = [row.id for row in due]
    holds: dict[uuid.UUID, list[HoldDraft]] = defaultdict(list)
    lines: dict[uuid.UUID, list[ReservationLine]] = defaultdict(list)
    for line in (
        await session.execute(
            select(ReservationLine)
            .where(
                ReservationLine.reservation_id.in_(ids),
                ReservationLine.active.is_(True),
            )
            .order_by(ReservationLine.reservation_id, ReservationLine.line_no)
        )
    ).scalars():
        lines[line.reservation_id].append(line)
        if line.remaining <= 0:
            continue
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
    # One reservation.expired per reservation, in this transaction (as the API shows it now).
    expired: dict[uuid.UUID, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for reservation in due:
        # effective_status says "expired" already (expires_at <= now); the rows were updated
        # in bulk above, so the loaded objects are left as they are (no second UPDATE).
        view = reservation_view(reservation, lines[reservation.id], now) | {"updated_at": now}
        view = api_data(ReservationOut, view)
        expired[reservation.brand_id].append(("reservation.expired", view))
    for brand_id in sorted(expired):
        await record_events(session, brand_id, expired[brand_id], now=now)
    return len(ids)
