"""Time in the ledger: the backdating window of `occurred_at`, and the per-day checkpoints.

A movement's `occurred_at` (when it happened in the world) may differ from its
`created_at` (when it was written) only within a window: at most
`STOCKROOM_BACKDATE_DAYS` (≤ `MAX_BACKDATE_DAYS`) before, and at most `MAX_AHEAD` after.
So for every movement ever written,
`created_at − MAX_BACKDATE_DAYS ≤ occurred_at ≤ created_at + MAX_AHEAD`, which lets a reader
bound a search by one column through the other (partition pruning by created_at).

Checkpoints (`stock_level_days`): for each level and UTC day, the net quantity of the
level's movements whose occurred_at falls on that day. The writer adds to one row per
(level, day) of a request, in the request's transaction; a backdated movement therefore
corrects exactly the checkpoint of its day, never the ones after it (there is nothing to
repost: later days hold their own deltas, not running totals).
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core, prepared
from stockroom.db.models import NO_LOCATION, StockLevelDay
from stockroom.db.unnest import column_parameters, unnest_columns
from stockroom.errors import ValidationFailed, field_error
from stockroom.settings import get_settings

MAX_BACKDATE_DAYS = 31
"""The most STOCKROOM_BACKDATE_DAYS may be: a hard bound every movement satisfies."""
MAX_AHEAD = timedelta(minutes=5)
"""How far ahead of the clock a write may set `occurred_at` (clock skew of a device)."""

days = cast(Table, StockLevelDay.__table__)


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of an aware instant: the checkpoint bucket it falls in."""
    return moment.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def checked_occurred_at(occurred_at: datetime | None, now: datetime) -> datetime:
    """`occurred_at` if it lies in the backdating window around `now` (else 422); `now` if None."""
    if occurred_at is None:
        return now
    occurred_at = occurred_at.astimezone(UTC)
    window = timedelta(days=get_settings().backdate_days)
    if occurred_at < now - window:
        raise ValidationFailed(
            "occurred_at is further in the past than the backdating window allows.",
            [
                field_error(
                    "occurred_at",
                    f"must be at most {window.days} days before now ({now.isoformat()})",
                )
            ],
        )
    if occurred_at > now + MAX_AHEAD:
        raise ValidationFailed(
            "occurred_at is in the future.",
            [field_error("occurred_at", "must be at most 5 minutes after now")],
        )
    return occurred_at


def _build_add(dialect: Any) -> Any:
    stmt = dialect.insert(days).values(
        brand_id=bindparam("d_brand"),
        product_id=bindparam("d_product"),
        site_id=bindparam("d_site"),
        location_id=bindparam("d_location"),
        day=bindparam("d_day"),
        quantity=bindparam("d_quantity"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[
            days.c.brand_id,
            days.c.product_id,
            days.c.site_id,
            days.c.location_id,
            days.c.day,
        ],
        set_={"quantity": days.c.quantity + stmt.excluded.quantity},
    )


_ADD = {"postgresql": prepared(_build_add(postgresql)), "sqlite": _build_add(sqlite)}
# Many checkpoints on PostgreSQL: the same upsert fed column by column (db/unnest.py), in
# their sorted order. $1 brand, then product ids, site ids, location ids, days, quantities.
_DAY_TYPES = ("uuid", "uuid", "integer", "date", "bigint")


@functools.lru_cache(maxsize=32)
def _add_many_postgres(single: tuple[bool, ...]) -> str:
    columns = unnest_columns(_DAY_TYPES, single, 2)
    return f"""INSERT INTO stock_level_days
        (brand_id, product_id, site_id, location_id, day, quantity)
        SELECT $1, {", ".join(columns.values)} FROM {columns.source}
        ORDER BY u.ord
        ON CONFLICT (brand_id, product_id, site_id, location_id, day)
        DO UPDATE SET quantity = stock_level_days.quantity + excluded.quantity"""  # noqa: S608


async def add_to_checkpoints(
    session: AsyncSession, brand_id: uuid.UUID, rows: Iterable[dict[str, Any]]
) -> None:
    """Add the movements' quantities to their levels' checkpoints of their occurred_at day.

    One upsert per request (a row per level and day), in sorted key order: the levels
    themselves are already locked in that order by the writer, so no two writers wait on
    each other's checkpoint rows the other way round.
    """
    net: dict[tuple[uuid.UUID, uuid.UUID, int, date], int] = defaultdict(int)
    for row in rows:
        location = NO_LOCATION if row["location_id"] is None else row["location_id"]
        net[(row["product_id"], row["site_id"], location, utc_day(row["occurred_at"]))] += row[
            "quantity"
        ]
    # Sorted by key; UUIDs compared by their integers (the order of UUID's own comparison,
    # without a Python call per comparison).
    added = [
        (key, quantity)
        for key, quantity in sorted(
            net.items(), key=lambda item: (item[0][0].int, item[0][1].int, *item[0][2:])
        )
        if quantity != 0
    ]
    if not added:
        return
    dialect = session.get_bind().dialect.name
    if len(added) > 1 and dialect == "postgresql":
        connection = await session.connection()
        single, params = column_parameters(
            [*([key[i] for key, _ in added] for i in range(4)), [q for _, q in added]]
        )
        await connection.exec_driver_sql(_add_many_postgres(single), (brand_id, *params))
        return
    params = [
        {
            "d_brand": brand_id,
            "d_product": product_id,
            "d_site": site_id,
            "d_location": location,
            "d_day": day,
            "d_quantity": quantity,
        }
        for (product_id, site_id, location, day), quantity in added
    ]
    await execute_core(session, _ADD[dialect], params)


def day_of(column: Any, dialect_name: str) -> Any:
    """SQL: the UTC calendar day of a timestamp column (for checks over the whole ledger)."""
    if dialect_name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def parse_instant(value: str, field: str) -> datetime:
    """An RFC 3339 instant from a query string (with its offset; `Z` or ±hh:mm), else 422."""
    try:
        if len(value) < 20 or value[10] not in "Tt ":
            raise ValueError(value)
        moment = datetime.fromisoformat(value.upper())
        if moment.tzinfo is None:
            raise ValueError(value)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            "Instants are RFC 3339 timestamps with an offset, e.g. 2026-11-28T17:30:00Z.",
            [field_error(field, f"not an RFC 3339 instant with an offset: {value[:64]!r}")],
        ) from None


def as_of_instant(value: str | None, now: datetime) -> datetime | None:
    """The `as_of` of a stock read: a past (or present) RFC 3339 instant, else 422."""
    if value is None:
        return None
    moment = parse_instant(value, "as_of")
    if moment > now:
        raise ValidationFailed(
            "as_of is in the future; stock can only be read as it was.",
            [field_error("as_of", f"must not be after now ({now.isoformat()})")],
        )
    return moment
