"""Checks a whole database against the ledger's invariants with set-based SQL (no Python loops).

Holds when: every level equals the sum of its movements; no level is below zero at a site
that forbids negative stock; a location-aware product holds stock only at locations and any
other product only at "no location" (0), and a level's location is a location of its site
(the rules `location_aware` implies); every transfer has one `transfer_out`, its movements
net to what is still outstanding or written off on it (0 for a one-step transfer), it has
its row in `transfers`, each line balances (shipped = received + outstanding + written_off
+ returned), the lines agree with the movements (shipped out of the source, received in at
the destination, returned in at the source) and the status with the lines; every sale and
return names an invoice of its brand;
every level's `reserved` equals what the active reservations' lines hold on it (so, less the
holds past `expires_at` the sweeper has not recorded yet, what the active, unexpired ones
hold), and no line holds more than it reserved or less than nothing.
Every as-of checkpoint (a level's net change on one UTC day) equals that day's movements.
Every stored shortfall (a product's stock at a site beside its minimum, stock/shortfalls.py)
holds the sum of the product's movements at the site, what its active reservation lines hold
there, and the product's min_stock; a product with stock or holds at a site, or with a
minimum, has its row at the site (at every site of its brand for a minimum).
A level counts even at 0: the writer never creates one on the wrong side of these rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    Table,
    Uuid,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from stockroom.db.models import (
    Invoice,
    Location,
    Product,
    ReservationLine,
    Site,
    SiteShortfall,
    StockLevel,
    StockLevelDay,
    StockMovement,
    Transfer,
    TransferLine,
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
    # One pass: the count of every problem row rides along the first LIMIT of them.
    sub = query.subquery()
    total = func.count().over().label("problems_in_total")
    rows = (await conn.execute(select(sub, total).limit(LIMIT))).mappings().all()
    count = int(rows[0]["problems_in_total"]) if rows else 0
    return Check(
        name,
        count,
        [{k: _plain(v) for k, v in r.items() if k != "problems_in_total"} for r in rows],
    )


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str | type(None)) else str(value)


def _same_level(a: Any, b: Any, *, location: Any = None) -> Any:
    """SQL: rows `a` and `b` (tables or subqueries with the level's key columns) are of the same
    level: brand, product, site and location (`location`: `b`'s location as an expression)."""
    return and_(
        a.c.brand_id == b.c.brand_id,
        a.c.product_id == b.c.product_id,
        a.c.site_id == b.c.site_id,
        a.c.location_id == (b.c.location_id if location is None else location),
    )


def _checkpoints_vs_ledger(conn: AsyncConnection, levels: Any = None) -> Any:
    """(level, UTC day) pairs whose checkpoint differs from its movements' sum, either way
    (of the levels in the `levels` selectable only, when given)."""
    m, d = StockMovement.__table__, StockLevelDay.__table__
    location = func.coalesce(m.c.location_id, literal(0))
    day = day_of(m.c.occurred_at, conn.dialect.name)
    movements = select(
        m.c.brand_id,
        m.c.product_id,
        m.c.site_id,
        location.label("location_id"),
        day.label("day"),
        m.c.quantity.label("quantity"),
    )
    checkpoints = select(
        d.c.brand_id,
        d.c.product_id,
        d.c.site_id,
        d.c.location_id,
        d.c.day,
        (-d.c.quantity).label("quantity"),
    )
    if levels is not None:
        movements = movements.join(
            levels,
            _same_level(levels, m, location=location),
        )
        checkpoints = checkpoints.join(
            levels,
            _same_level(levels, d),
        )
    both = union_all(movements, checkpoints).subquery()
    key = (both.c.brand_id, both.c.product_id, both.c.site_id, both.c.location_id, both.c.day)
    return (
        select(*key, func.sum(both.c.quantity).label("difference"))
        .group_by(*key)
        .having(func.sum(both.c.quantity) != 0)
    )


# The levels whose checkpoints disagree with their movements (PostgreSQL's checkpoint check).
_SUSPECTS = Table(
    "verify_checkpoint_suspects",
    MetaData(),
    Column("brand_id", Uuid),
    Column("product_id", Uuid),
    Column("site_id", Uuid),
    Column("location_id", Integer),
)


async def _check_checkpoints(conn: AsyncConnection, sums: Table) -> Check:
    """Every checkpoint equals its day's movements.

    Comparing (level, day) pairs directly groups the whole ledger by day: 10 M groups at
    10 M movements, most of a minute. On PostgreSQL it compares per level instead, three
    sums each side — Σ q, Σ q·d and Σ q·d² over the level's movements (from the one pass
    that sums the ledger) and over its checkpoints, d the day's number — and lists the
    (level, day) pairs of only the levels that differ. Equal sums with unequal days need
    a difference spread over four days or more of one level that cancels in all three
    (three days or fewer cannot: the sums form a Vandermonde system); a bug or a hand edit
    that moves, changes, drops or adds a checkpoint does not do that. SQLite's ledgers are
    small: it compares the pairs directly.
    """
    name = "as-of checkpoints equal their day's movements"
    if conn.dialect.name != "postgresql":
        return await _run(conn, name, _checkpoints_vs_ledger(conn))
    d = StockLevelDay.__table__
    d1, d2 = _day_moments(d.c.quantity, d.c.day)
    checkpoints = (
        select(
            d.c.brand_id,
            d.c.product_id,
            d.c.site_id,
            d.c.location_id,
            func.sum(d.c.quantity).label("total"),
            d1,
            d2,
        )
        .group_by(d.c.brand_id, d.c.product_id, d.c.site_id, d.c.location_id)
        .subquery()
    )
    same_level = _same_level(checkpoints, sums)
    zero = literal(0)
    suspects = (
        select(
            func.coalesce(checkpoints.c.brand_id, sums.c.brand_id).label("brand_id"),
            func.coalesce(checkpoints.c.product_id, sums.c.product_id).label("product_id"),
            func.coalesce(checkpoints.c.site_id, sums.c.site_id).label("site_id"),
            func.coalesce(checkpoints.c.location_id, sums.c.location_id).label("location_id"),
        )
        .select_from(checkpoints.join(sums, same_level, full=True))
        .where(
            (func.coalesce(checkpoints.c.total, zero) != func.coalesce(sums.c.total, zero))
            | (
                func.coalesce(checkpoints.c.day_moment_1, zero)
                != func.coalesce(sums.c.day_moment_1, zero)
            )
            | (
                func.coalesce(checkpoints.c.day_moment_2, zero)
                != func.coalesce(sums.c.day_moment_2, zero)
            )
        )
    )
    sql = suspects.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    await conn.execute(text(f"CREATE TEMPORARY TABLE {_SUSPECTS.name} AS {sql}"))
    try:
        found = (await conn.execute(select(func.count()).select_from(_SUSPECTS))).scalar_one()
        if not found:
            return Check(name)
        await conn.execute(text(f"ANALYZE {_SUSPECTS.name}"))
        return await _run(conn, name, _checkpoints_vs_ledger(conn, _SUSPECTS))
    finally:
        await conn.execute(text(f"DROP TABLE {_SUSPECTS.name}"))


TRANSFER_TYPES = ("transfer_out", "transfer_in")


def _transfer_checks() -> list[tuple[str, Any]]:
    """Transfers: their halves, their rows and their lines against the movements."""
    m, t, tl = StockMovement.__table__, Transfer.__table__, TransferLine.__table__
    # What each transfer still owes the ledger: units on the road or written off.
    owed = (
        select(
            tl.c.brand_id,
            tl.c.transfer_id,
            func.sum(tl.c.outstanding + tl.c.written_off).label("owed"),
        )
        .group_by(tl.c.brand_id, tl.c.transfer_id)
        .subquery()
    )
    outs = func.sum(case((m.c.type == "transfer_out", 1), else_=0))
    net = func.sum(m.c.quantity)
    expected_net = -func.coalesce(func.max(owed.c.owed), 0)
    unpaired = (
        select(
            m.c.brand_id,
            m.c.transfer_id,
            func.count().label("halves"),
            net.label("net"),
            expected_net.label("expected_net"),
        )
        .select_from(
            m.outerjoin(
                owed, and_(owed.c.brand_id == m.c.brand_id, owed.c.transfer_id == m.c.transfer_id)
            )
        )
        .where(m.c.type.in_(TRANSFER_TYPES))
        .group_by(m.c.brand_id, m.c.transfer_id)
        .having((outs != 1) | (net != expected_net))
    )
    rowless = (
        select(m.c.brand_id, m.c.transfer_id, func.count().label("movements"))
        .select_from(m.outerjoin(t, and_(t.c.brand_id == m.c.brand_id, t.c.id == m.c.transfer_id)))
        .where(m.c.type.in_(TRANSFER_TYPES), t.c.id.is_(None))
        .group_by(m.c.brand_id, m.c.transfer_id)
    )
    unbalanced = select(
        tl.c.brand_id,
        tl.c.transfer_id,
        tl.c.product_id,
        tl.c.shipped,
        tl.c.received,
        tl.c.outstanding,
        tl.c.written_off,
        tl.c.returned,
    ).where(
        (tl.c.shipped != tl.c.received + tl.c.outstanding + tl.c.written_off + tl.c.returned)
        | (tl.c.received < 0)
        | (tl.c.outstanding < 0)
        | (tl.c.written_off < 0)
        | (tl.c.returned < 0)
    )
    moved = (
        select(
            m.c.brand_id,
            m.c.transfer_id,
            m.c.product_id,
            func.sum(case((m.c.type == "transfer_out", -m.c.quantity), else_=0)).label("out"),
            func.sum(
                case(
                    (
                        (m.c.type == "transfer_in") & (m.c.site_id == t.c.destination_site_id),
                        m.c.quantity,
                    ),
                    else_=0,
                )
            ).label("received"),
            func.sum(
                case(
                    (
                        (m.c.type == "transfer_in") & (m.c.site_id == t.c.source_site_id),
                        m.c.quantity,
                    ),
                    else_=0,
                )
            ).label("returned"),
            func.sum(
                case(
                    (
                        (m.c.type == "transfer_out") & (m.c.site_id != t.c.source_site_id),
                        1,
                    ),
                    (
                        (m.c.type == "transfer_in")
                        & (m.c.site_id != t.c.source_site_id)
                        & (m.c.site_id != t.c.destination_site_id),
                        1,
                    ),
                    else_=0,
                )
            ).label("elsewhere"),
        )
        .select_from(m.join(t, and_(t.c.brand_id == m.c.brand_id, t.c.id == m.c.transfer_id)))
        .where(m.c.type.in_(TRANSFER_TYPES))
        .group_by(m.c.brand_id, m.c.transfer_id, m.c.product_id)
        .subquery()
    )
    line_of = and_(
        moved.c.brand_id == tl.c.brand_id,
        moved.c.transfer_id == tl.c.transfer_id,
        moved.c.product_id == tl.c.product_id,
    )
    lines_vs_movements = (
        select(
            tl.c.brand_id,
            tl.c.transfer_id,
            tl.c.product_id,
            tl.c.shipped,
            func.coalesce(moved.c.out, 0).label("shipped_by_movements"),
            tl.c.received,
            func.coalesce(moved.c.received, 0).label("received_by_movements"),
            tl.c.returned,
            func.coalesce(moved.c.returned, 0).label("returned_by_movements"),
        )
        .select_from(tl.outerjoin(moved, line_of))
        .where(
            (tl.c.shipped != func.coalesce(moved.c.out, 0))
            | (tl.c.received != func.coalesce(moved.c.received, 0))
            | (tl.c.returned != func.coalesce(moved.c.returned, 0))
            | (func.coalesce(moved.c.elsewhere, 0) != 0)
        )
    )
    movements_without_line = (
        select(moved.c.brand_id, moved.c.transfer_id, moved.c.product_id)
        .select_from(moved.outerjoin(tl, line_of))
        .where(tl.c.id.is_(None))
    )
    totals = (
        select(
            tl.c.brand_id,
            tl.c.transfer_id,
            func.sum(tl.c.outstanding).label("outstanding"),
            func.sum(tl.c.received).label("received"),
            func.sum(tl.c.written_off + tl.c.returned).label("ended"),
        )
        .group_by(tl.c.brand_id, tl.c.transfer_id)
        .subquery()
    )
    outstanding = func.coalesce(totals.c.outstanding, 0)
    status_vs_lines = (
        select(
            t.c.brand_id, t.c.id.label("transfer_id"), t.c.status, outstanding.label("outstanding")
        )
        .select_from(
            t.outerjoin(
                totals, and_(totals.c.brand_id == t.c.brand_id, totals.c.transfer_id == t.c.id)
            )
        )
        .where(
            # Open exactly while units are outstanding; in transit before any receipt;
            # completed with nothing returned or written off.
            ((t.c.status.in_(("in_transit", "partially_received"))) & (outstanding <= 0))
            | (t.c.status.in_(("completed", "closed")) & (outstanding != 0))
            | ((t.c.status == "in_transit") & (func.coalesce(totals.c.received, 0) != 0))
            | ((t.c.status == "completed") & (func.coalesce(totals.c.ended, 0) != 0))
            | totals.c.transfer_id.is_(None)
            | t.c.status.not_in(("completed", "in_transit", "partially_received", "closed"))
        )
    )
    return [
        ("transfer halves pair up", unpaired),
        ("every transfer has its row", rowless),
        ("every transfer line balances", unbalanced),
        ("transfer lines agree with their movements", lines_vs_movements),
        ("every transfer movement has its line", movements_without_line),
        ("transfer status agrees with its lines", status_vs_lines),
    ]


def _shortfall_checks(sums: Table) -> list[tuple[str, Any]]:
    """The stored shortfalls against the ledger (not the levels: a broken level is the level
    checks' finding), the reservation lines and the products."""
    ss, p, s, rl = (
        SiteShortfall.__table__,
        Product.__table__,
        Site.__table__,
        ReservationLine.__table__,
    )
    zero = literal(0)
    parts = union_all(
        select(
            sums.c.brand_id,
            sums.c.site_id,
            sums.c.product_id,
            sums.c.total.label("on_hand"),
            zero.label("reserved"),
        ),
        select(rl.c.brand_id, rl.c.site_id, rl.c.product_id, zero, rl.c.remaining).where(
            rl.c.active.is_(True)
        ),
    ).subquery()
    truth = (
        select(
            parts.c.brand_id,
            parts.c.site_id,
            parts.c.product_id,
            cast(func.sum(parts.c.on_hand), BigInteger).label("on_hand"),
            cast(func.sum(parts.c.reserved), BigInteger).label("reserved"),
        )
        .group_by(parts.c.brand_id, parts.c.site_id, parts.c.product_id)
        .subquery()
    )
    same_pair = and_(
        truth.c.brand_id == ss.c.brand_id,
        truth.c.site_id == ss.c.site_id,
        truth.c.product_id == ss.c.product_id,
    )
    ledger_on_hand = func.coalesce(truth.c.on_hand, 0)
    held = func.coalesce(truth.c.reserved, 0)
    stored_vs_truth = (
        select(
            ss.c.brand_id,
            ss.c.site_id,
            ss.c.product_id,
            ss.c.on_hand,
            ledger_on_hand.label("ledger_on_hand"),
            ss.c.reserved,
            held.label("held_by_reservations"),
            ss.c.min_stock,
            p.c.min_stock.label("product_min_stock"),
        )
        .select_from(
            ss.outerjoin(truth, same_pair).outerjoin(
                p, and_(p.c.brand_id == ss.c.brand_id, p.c.id == ss.c.product_id)
            )
        )
        .where(
            (ss.c.on_hand != ledger_on_hand)
            | (ss.c.reserved != held)
            | (ss.c.min_stock != func.coalesce(p.c.min_stock, -1))
        )
    )

    def no_row(brand_id: Any, site_id: Any, product_id: Any) -> Any:
        # One probe of the rows' key per pair, whatever the statistics: as an anti-join,
        # PostgreSQL with stale statistics scanned the whole table per pair (past the
        # statement timeout on the test suite's shared database).
        return (
            select(literal(1))
            .where(
                ss.c.brand_id == brand_id,
                ss.c.site_id == site_id,
                ss.c.product_id == product_id,
            )
            .limit(1)
            .scalar_subquery()
            .is_(None)
        )

    stocked_without_row = select(
        truth.c.brand_id,
        truth.c.site_id,
        truth.c.product_id,
        truth.c.on_hand,
        truth.c.reserved,
        literal(None).label("min_stock"),
    ).where(
        (truth.c.on_hand != 0) | (truth.c.reserved != 0),
        no_row(truth.c.brand_id, truth.c.site_id, truth.c.product_id),
    )
    minimum_without_row = (
        select(
            p.c.brand_id,
            s.c.id.label("site_id"),
            p.c.id.label("product_id"),
            literal(None).label("on_hand"),
            literal(None).label("reserved"),
            p.c.min_stock,
        )
        .select_from(p.join(s, s.c.brand_id == p.c.brand_id))
        .where(p.c.min_stock > 0, no_row(p.c.brand_id, s.c.id, p.c.id))
    )
    return [
        (
            "stored shortfalls equal the movements, the holds and the products' minimum",
            stored_vs_truth,
        ),
        (
            "every product with stock, holds or a minimum at a site has its stored shortfall",
            union_all(stocked_without_row, minimum_without_row),
        ),
    ]


# Each level's ledger total, summed once per run into a temporary table that the level
# checks and (on PostgreSQL) the checkpoint check read: summing 10 M movements is most of
# verify's work (BENCHMARKS.md).
_TOTALS = Table(
    "verify_ledger_totals",
    MetaData(),
    Column("brand_id", Uuid),
    Column("product_id", Uuid),
    Column("site_id", Uuid),
    Column("location_id", Integer),
    Column("total", BigInteger),
    Column("movements", BigInteger),
    Column("day_moment_1", Numeric),
    Column("day_moment_2", Numeric),
)

# Day numbers of the checkpoint moments count from here (small numbers, exact sums).
_DAY_ZERO = date(2000, 1, 1)


def _day_moments(quantity: Any, day: Any) -> tuple[Any, Any]:
    """SQL: Σ quantity × d and Σ quantity × d², d the day's number (PostgreSQL; exact numerics)."""
    number = cast(day - literal(_DAY_ZERO, Date), Numeric)
    return (
        func.sum(quantity * number).label("day_moment_1"),
        func.sum(quantity * number * number).label("day_moment_2"),
    )


async def _sum_ledger(conn: AsyncConnection) -> Table:
    """Sum the movements per level into `_TOTALS` (dropped by `_drop_totals`)."""
    m = StockMovement.__table__
    location = func.coalesce(m.c.location_id, literal(0))
    moments: tuple[Any, Any] = (
        _day_moments(m.c.quantity, day_of(m.c.occurred_at, conn.dialect.name))
        if conn.dialect.name == "postgresql"
        else (literal(None).label("day_moment_1"), literal(None).label("day_moment_2"))
    )
    sums = select(
        m.c.brand_id,
        m.c.product_id,
        m.c.site_id,
        location.label("location_id"),
        func.sum(m.c.quantity).label("total"),
        func.count().label("movements"),
        *moments,
    ).group_by(m.c.brand_id, m.c.product_id, m.c.site_id, location)
    sql = sums.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    # CREATE TABLE AS (not INSERT … SELECT): PostgreSQL may scan the ledger in parallel.
    await conn.execute(text(f"CREATE TEMPORARY TABLE {_TOTALS.name} AS {sql}"))
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"ANALYZE {_TOTALS.name}"))
    return _TOTALS


async def _drop_totals(conn: AsyncConnection) -> None:
    await conn.execute(text(f"DROP TABLE IF EXISTS {_TOTALS.name}"))


async def verify_ledger(conn: AsyncConnection) -> Report:
    """Run every check; the ledger is read in one transaction of `conn` (left open)."""
    await _drop_totals(conn)
    report = await _checks(conn, await _sum_ledger(conn))
    # On an error the caller's rollback takes the temporary table with it (DDL is
    # transactional on both databases).
    await _drop_totals(conn)
    return report


async def _checks(conn: AsyncConnection, sums: Table) -> Report:
    m, lv, s = StockMovement.__table__, StockLevel.__table__, Site.__table__
    joined = _same_level(lv, sums)
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
        .select_from(
            # Location ids are numbered per brand: the brand is part of the location's key.
            lv.outerjoin(loc, and_(loc.c.brand_id == lv.c.brand_id, loc.c.id == lv.c.location_id))
        )
        .where(
            lv.c.location_id != NO_LOCATION,
            (loc.c.id.is_(None)) | (loc.c.site_id != lv.c.site_id),
        )
    )
    transfer_checks = _transfer_checks()
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
    held_on_level = _same_level(lv, holds)
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
        *[await _run(conn, name, query) for name, query in transfer_checks],
        await _run(conn, "every sale and return has its invoice", orphan_sales),
        await _run(conn, "levels' reserved equal what active reservations hold", reserved_vs_holds),
        await _run(conn, "every active hold has its level", holds_without_level),
        await _run(conn, "reservation lines hold between 0 and what they reserved", bad_lines),
        await _check_checkpoints(conn, sums),
        *[await _run(conn, name, query) for name, query in _shortfall_checks(sums)],
    ]
    levels = (await conn.execute(select(func.count()).select_from(lv))).scalar_one()
    count = (await conn.execute(select(func.coalesce(func.sum(sums.c.movements), 0)))).scalar_one()
    return Report(checks, levels, int(count))
