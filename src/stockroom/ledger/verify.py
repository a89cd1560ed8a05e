"""Checks a whole database against the ledger's invariants with set-based SQL (no Python loops).

Holds when: every level equals the sum of its movements; no level is below zero at a site
that forbids negative stock; a location-aware product holds stock only at locations and any
other product only at "no location" (0), and a level's location is a location of its site
(the rules `location_aware` implies); every transfer is one `transfer_out` and one
`transfer_in` with opposite quantities; every sale and return names an invoice of its brand;
every level's `reserved` equals what the active reservations' lines hold on it (so, less the
holds past `expires_at` the sweeper has not recorded yet, what the active, unexpired ones
hold), and no line holds more than it reserved or less than nothing.
A level counts even at 0: the writer never creates one on the wrong side of these rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from stockroom.db.models import (
    Invoice,
    Location,
    Product,
    ReservationLine,
    Site,
    StockLevel,
    StockLevelDay,
    StockMovement,
)
from stockroom.db.models.ledger import NO_LOCATION
from stockroom.ledger.timeline import day_of

LIMIT = 100  # problems listed per check; the count is exact


@dataclass
class Check:
    name: str
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.count == 0


@dataclass
class Report:
    checks: list[Check]
    levels: int = 0
    movements: int = 0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


async def _run(conn: AsyncConnection, name: str, query: Any) -> Check:
    sub = query.subquery()
    count = (await conn.execute(select(func.count()).select_from(sub))).scalar_one()
    rows = (await conn.execute(select(sub).limit(LIMIT))).mappings().all()
    return Check(name, count, [{k: _plain(v) for k, v in r.items()} for r in rows])


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str | type(None)) else str(value)


def _checkpoints_vs_ledger(conn: AsyncConnection) -> Any:
    """(level, UTC day) pairs whose checkpoint differs from its movements' sum, either way."""
    m, d = StockMovement.__table__, StockLevelDay.__table__
    location = func.coalesce(m.c.location_id, literal(0))
    day = day_of(m.c.occurred_at, conn.dialect.name)
    both = union_all(
        select(
            m.c.brand_id,
            m.c.product_id,
            m.c.site_id,
            location.label("location_id"),
            day.label("day"),
            m.c.quantity.label("quantity"),
        ),
        select(
            d.c.brand_id,
            d.c.product_id,
            d.c.site_id,
            d.c.location_id,
            d.c.day,
            (-d.c.quantity).label("quantity"),
        ),
    ).subquery()
    key = (both.c.brand_id, both.c.product_id, both.c.site_id, both.c.location_id, both.c.day)
    return (
        select(*key, func.sum(both.c.quantity).label("difference"))
        .group_by(*key)
        .having(func.sum(both.c.quantity) != 0)
    )


async def verify_ledger(conn: AsyncConnection) -> Report:
    m, lv, s = StockMovement.__table__, StockLevel.__table__, Site.__table__
    location = func.coalesce(m.c.location_id, literal(0))
    sums = (
        select(
            m.c.brand_id,
            m.c.product_id,
            m.c.site_id,
            location.label("location_id"),
            func.sum(m.c.quantity).label("total"),
        )
        .group_by(m.c.brand_id, m.c.product_id, m.c.site_id, location)
        .subquery()
    )
    joined = and_(
        lv.c.brand_id == sums.c.brand_id,
        lv.c.product_id == sums.c.product_id,
        lv.c.site_id == sums.c.site_id,
        lv.c.location_id == sums.c.location_id,
    )
    level_vs_ledger = (
        select(
            lv.c.brand_id,
            lv.c.product_id,
            lv.c.site_id,
            lv.c.location_id,
            lv.c.on_hand,
            func.coalesce(sums.c.total, 0).label("ledger_total"),
        )
        .select_from(lv.outerjoin(sums, joined))
        .where(lv.c.on_hand != func.coalesce(sums.c.total, 0))
    )
    ledger_without_level = (
        select(sums.c.brand_id, sums.c.product_id, sums.c.site_id, sums.c.location_id, sums.c.total)
        .select_from(sums.outerjoin(lv, joined))
        .where(lv.c.brand_id.is_(None))
    )
    negative = (
        select(lv.c.brand_id, lv.c.product_id, lv.c.site_id, lv.c.location_id, lv.c.on_hand)
        .select_from(lv.join(s, and_(s.c.id == lv.c.site_id, s.c.brand_id == lv.c.brand_id)))
        .where(lv.c.on_hand < 0, s.c.allow_negative_stock.is_(False))
    )
    p, loc = Product.__table__, Location.__table__
    level_columns = (lv.c.brand_id, lv.c.product_id, lv.c.site_id, lv.c.location_id, lv.c.on_hand)
    with_product = lv.join(p, and_(p.c.id == lv.c.product_id, p.c.brand_id == lv.c.brand_id))
    aware_at_no_location = (
        select(*level_columns)
        .select_from(with_product)
        .where(p.c.location_aware.is_(True), lv.c.location_id == NO_LOCATION)
    )
    plain_at_a_location = (
        select(*level_columns)
        .select_from(with_product)
        .where(p.c.location_aware.is_(False), lv.c.location_id != NO_LOCATION)
    )
    location_elsewhere = (
        select(*level_columns, loc.c.site_id.label("location_site_id"))
        .select_from(lv.outerjoin(loc, loc.c.id == lv.c.location_id))
        .where(
            lv.c.location_id != NO_LOCATION,
            (loc.c.id.is_(None))
            | (loc.c.site_id != lv.c.site_id)
            | (loc.c.brand_id != lv.c.brand_id),
        )
    )
    outs = func.sum(case((m.c.type == "transfer_out", 1), else_=0))
    ins = func.sum(case((m.c.type == "transfer_in", 1), else_=0))
    unpaired = (
        select(
            m.c.brand_id,
            m.c.transfer_id,
            func.count().label("halves"),
            func.sum(m.c.quantity).label("net"),
        )
        .where(m.c.type.in_(("transfer_out", "transfer_in")))
        .group_by(m.c.brand_id, m.c.transfer_id)
        .having((func.count() != 2) | (outs != 1) | (ins != 1) | (func.sum(m.c.quantity) != 0))
    )
    inv = Invoice.__table__
    orphan_sales = (
        select(m.c.brand_id, m.c.id, m.c.type, m.c.invoice_id)
        .select_from(
            m.outerjoin(inv, and_(inv.c.id == m.c.invoice_id, inv.c.brand_id == m.c.brand_id))
        )
        .where(m.c.type.in_(("sale", "return")), inv.c.id.is_(None))
    )
    rl = ReservationLine.__table__
    holds = (
        select(
            rl.c.brand_id,
            rl.c.product_id,
            rl.c.site_id,
            rl.c.location_id,
            func.sum(rl.c.remaining).label("held"),
        )
        .where(rl.c.active.is_(True))
        .group_by(rl.c.brand_id, rl.c.product_id, rl.c.site_id, rl.c.location_id)
        .subquery()
    )
    held_on_level = and_(
        lv.c.brand_id == holds.c.brand_id,
        lv.c.product_id == holds.c.product_id,
        lv.c.site_id == holds.c.site_id,
        lv.c.location_id == holds.c.location_id,
    )
    reserved_vs_holds = (
        select(
            lv.c.brand_id,
            lv.c.product_id,
            lv.c.site_id,
            lv.c.location_id,
            lv.c.reserved,
            func.coalesce(holds.c.held, 0).label("held_by_reservations"),
        )
        .select_from(lv.outerjoin(holds, held_on_level))
        .where(lv.c.reserved != func.coalesce(holds.c.held, 0))
    )
    holds_without_level = (
        select(holds.c.brand_id, holds.c.product_id, holds.c.site_id, holds.c.location_id)
        .select_from(holds.outerjoin(lv, held_on_level))
        .where(lv.c.brand_id.is_(None), holds.c.held != 0)
    )
    bad_lines = select(rl.c.brand_id, rl.c.reservation_id, rl.c.remaining, rl.c.quantity).where(
        (rl.c.remaining < 0) | (rl.c.remaining > rl.c.quantity)
    )
    checks = [
        await _run(conn, "levels equal the sum of their movements", level_vs_ledger),
        await _run(
            conn, "as-of checkpoints equal their day's movements", _checkpoints_vs_ledger(conn)
        ),
        await _run(conn, "every movement total has its level", ledger_without_level),
        await _run(conn, "no level below zero where negative stock is forbidden", negative),
        await _run(
            conn, "stock of a location-aware product is at a location", aware_at_no_location
        ),
        await _run(
            conn,
            "stock of a product that is not location-aware is at no location",
            plain_at_a_location,
        ),
        await _run(conn, "every level's location is a location of its site", location_elsewhere),
        await _run(conn, "transfer halves pair up", unpaired),
        await _run(conn, "every sale and return has its invoice", orphan_sales),
        await _run(conn, "levels' reserved equal what active reservations hold", reserved_vs_holds),
        await _run(conn, "every active hold has its level", holds_without_level),
        await _run(conn, "reservation lines hold between 0 and what they reserved", bad_lines),
    ]
    levels = (await conn.execute(select(func.count()).select_from(lv))).scalar_one()
    count = (await conn.execute(select(func.count()).select_from(m))).scalar_one()
    return Report(checks, levels, count)
