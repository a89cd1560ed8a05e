"""The level statements both halves of the writer share, built once with bind parameters.

`writer.py` (on_hand only) and `available.py` (on_hand and reserved) lock, create and change
levels with the same statements, so the lock order, the conflict target and the site rule's
lock are defined once. Building a SQLAlchemy statement per request cost more Python time
than running it, hence module-level statements keyed by dialect.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core, prepared
from stockroom.db.models import Site, StockLevel
from stockroom.db.unnest import column_parameters, unnest_columns

if TYPE_CHECKING:
    from stockroom.ledger.rules import LevelChange

levels = cast(Table, StockLevel.__table__)
sites = cast(Table, Site.__table__)

KEY = and_(
    levels.c.brand_id == bindparam("b_brand"),
    levels.c.product_id == bindparam("b_product"),
    levels.c.site_id == bindparam("b_site"),
    levels.c.location_id == bindparam("b_location"),
)
_LEVEL_COLUMNS = [levels.c.brand_id, levels.c.product_id, levels.c.site_id, levels.c.location_id]

# The site's rule, read FOR SHARE (PostgreSQL; SQLite has no row locks and needs none):
# a PATCH turning negative stock off waits until the writes that relied on it commit, and
# a write waits for such a PATCH and then reads its outcome.
ALLOWS_NEGATIVE = prepared(
    select(sites.c.allow_negative_stock)
    .where(sites.c.id == bindparam("b_site"), sites.c.brand_id == bindparam("b_brand"))
    .with_for_update(read=True)
)
# In a conditional UPDATE it comes after `on_hand + delta >= 0` in an OR: PostgreSQL runs it
# (an InitPlan, evaluated when first needed) only for a write that goes below zero.
SITE_ALLOWS_NEGATIVE = ALLOWS_NEGATIVE.scalar_subquery()


def _insert(dialect: Any) -> Any:
    """A new level holding the change: `b_delta` on hand, `b_reserved` reserved."""
    return dialect.insert(levels).values(
        brand_id=bindparam("b_brand"),
        product_id=bindparam("b_product"),
        site_id=bindparam("b_site"),
        location_id=bindparam("b_location"),
        on_hand=bindparam("b_delta"),
        reserved=bindparam("b_reserved"),
        updated_at=bindparam("b_now"),
    )


def _build_apply(dialect: Any) -> Any:
    """Add the change to the level, creating it if need be (no condition: the caller judged)."""
    stmt = _insert(dialect)
    return stmt.on_conflict_do_update(
        index_elements=_LEVEL_COLUMNS,
        set_={
            "on_hand": levels.c.on_hand + stmt.excluded.on_hand,
            "reserved": levels.c.reserved + stmt.excluded.reserved,
            "updated_at": stmt.excluded.updated_at,
        },
    ).returning(levels.c.on_hand)


def _build_lock(dialect: Any) -> Any:
    """Insert the level at 0 if missing, else touch it (`on_hand = on_hand`): either way the
    row is ours until commit. Run with many parameter sets it is ONE multi-row statement
    (no `sort_by_parameter_order`: that makes SQLAlchemy send a row at a time); rows are
    taken in VALUES order, which is the callers' sorted order, and read back by key."""
    stmt = _insert(dialect)
    return stmt.on_conflict_do_update(
        index_elements=_LEVEL_COLUMNS, set_={"on_hand": levels.c.on_hand}
    ).returning(
        levels.c.product_id,
        levels.c.site_id,
        levels.c.location_id,
        levels.c.on_hand,
        levels.c.reserved,
    )


def _build_create(dialect: Any) -> Any:
    """Create a level holding the change, only if it still does not exist: the one write of
    a new level whose rules were judged against "no level" (on hand 0). When another
    writer created it meanwhile nothing is written and nothing returned (PostgreSQL waits
    for that writer to commit first), and the caller judges the row that now exists."""
    return (
        _insert(dialect)
        .on_conflict_do_nothing(index_elements=_LEVEL_COLUMNS)
        .returning(levels.c.on_hand)
    )


APPLY = {"postgresql": prepared(_build_apply(postgresql)), "sqlite": _build_apply(sqlite)}
LOCK = {"postgresql": prepared(_build_lock(postgresql)), "sqlite": _build_lock(sqlite)}
CREATE = {"postgresql": prepared(_build_create(postgresql)), "sqlite": _build_create(sqlite)}

# Many levels at once on PostgreSQL: the same upserts as LOCK and APPLY, fed column by
# column (db/unnest.py) instead of one parameter set per level, so a request of 500 levels is
# one statement of six parameters, not 500 rows of bound values SQLAlchemy builds in Python.
# `ORDER BY ord` keeps the callers' sorted order: rows are inserted, and their locks taken,
# in that order. $1 brand, $2 now, then product ids, site ids, location ids, deltas.
_LEVEL_TYPES = ("uuid", "uuid", "integer", "bigint")


@functools.lru_cache(maxsize=32)
def _many_levels(single: tuple[bool, ...], *, lock: bool) -> str:
    product, site, location, delta = (columns := unnest_columns(_LEVEL_TYPES, single, 3)).values
    on_conflict = (
        """on_hand = stock_levels.on_hand
        RETURNING stock_levels.product_id, stock_levels.site_id, stock_levels.location_id,
                  stock_levels.on_hand, stock_levels.reserved"""
        if lock
        else """on_hand = stock_levels.on_hand + excluded.on_hand,
        reserved = stock_levels.reserved + excluded.reserved, updated_at = excluded.updated_at"""
    )
    return f"""INSERT INTO stock_levels
        (brand_id, product_id, site_id, location_id, on_hand, reserved, updated_at)
        SELECT $1, {product}, {site}, {location}, {delta}, 0, $2
        FROM {columns.source}
        ORDER BY u.ord
        ON CONFLICT (brand_id, product_id, site_id, location_id) DO UPDATE SET {on_conflict}"""  # noqa: S608


async def _many_levels_postgres(
    connection: Any,
    brand_id: uuid.UUID,
    changes: Sequence[LevelChange],
    now: datetime,
    *,
    lock: bool,
) -> Any:
    single, params = column_parameters(
        [
            [c.key.product_id for c in changes],
            [c.key.site_id for c in changes],
            [c.key.location_id for c in changes],
            [0] if lock else [c.delta for c in changes],  # a lock creates a level at 0
        ]
    )
    return await connection.exec_driver_sql(
        _many_levels(single, lock=lock), (brand_id, now, *params)
    )


async def lock_levels(
    session: AsyncSession, brand_id: uuid.UUID, changes: Sequence[LevelChange], now: datetime
) -> Any:  # the rows: product_id, site_id, location_id, on_hand, reserved
    """Lock every level of `changes` in their (sorted) order, creating missing ones at 0."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        return await _many_levels_postgres(connection, brand_id, changes, now, lock=True)
    return await connection.execute(
        LOCK["sqlite"], [level_params(brand_id, c, now) | {"b_delta": 0} for c in changes]
    )


async def apply_levels(
    session: AsyncSession, brand_id: uuid.UUID, changes: Sequence[LevelChange], now: datetime
) -> None:
    """Add every change's delta to its level (creating it), in the changes' (sorted) order."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await _many_levels_postgres(connection, brand_id, changes, now, lock=False)
        return
    await connection.execute(APPLY["sqlite"], [level_params(brand_id, c, now) for c in changes])


def level_params(
    brand_id: uuid.UUID, change: Any, now: datetime, *, reserved: int = 0
) -> dict[str, Any]:
    """The bind parameters of the level statements for one change (a `key` and a `delta`)."""
    key = change.key
    return {
        "b_brand": brand_id,
        "b_product": key.product_id,
        "b_site": key.site_id,
        "b_location": key.location_id,
        "b_delta": change.delta,
        "b_reserved": reserved,
        "b_now": now,
    }


async def sites_allowing_negative(
    session: AsyncSession, brand_id: uuid.UUID, site_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these sites allow negative stock, read FOR SHARE in id order (see above)."""
    candidates = set(site_ids)
    if not candidates:
        return set()
    return set(
        (
            await execute_core(
                session,
                select(sites.c.id)
                .where(
                    sites.c.brand_id == brand_id,
                    sites.c.id.in_(candidates),
                    sites.c.allow_negative_stock.is_(True),
                )
                .order_by(sites.c.id)
                .with_for_update(read=True),
            )
        ).scalars()
    )
