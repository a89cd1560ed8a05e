"""The benchmark's data set, written with set-based SQL on PostgreSQL and on SQLite.

One brand (a `stockroom demo` brand) gets 10,000 products and 20 sites (the demo's two
plus 18), and a ledger of 1,000,000 movements: five per (product, site) level —
an `initial_stock`, a `purchase` of +10 and three adjustments (−5, −3, −2), spread over
the last year. The levels are written to match (on hand = the opening quantity, since
the other four net to 0), so `stockroom verify` passes on the result.

At 10 M (`BENCH_MOVEMENTS=10000000`, PostgreSQL only) the same brand has ten years of that
ledger: the first year as above, then each later year five more movements per level (a
`purchase` of +12 and adjustments −5, −3, −2, −2: net 0), so the levels are the same and a
report over 30 days returns as many rows as at 1 M, out of ten times the history (120 month
partitions).

Ids are deterministic, so the load scripts (pgbench, wrk request files) can name
product `i` without reading the database: product i is `00000000-0000-4000-8000-<i:012x>`,
generated site i is `00000000-0000-4000-9000-<i:012x>`.

Opening quantities: 100,000 at the two demo sites (the write scenarios hammer them), and
at the other sites 1,000, except for one product in a hundred, which opens at 5 — below
its `min_stock` of 20 — so every generated site has 100 low-stock products.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from stockroom.ledger import partitions
from stockroom.stock import shortfalls

PRODUCTS = 10_000
SITES = 20
MOVEMENTS_PER_LEVEL = 5
MOVEMENTS = PRODUCTS * SITES * MOVEMENTS_PER_LEVEL
MIN_STOCK = 20
BUSY_OPENING = 100_000
OPENING = 1_000
LOW_OPENING = 5
# The ledger covers the 366 days before today (UTC); nothing of it is from today.
LEDGER_DAYS = 366


def product_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012x}"


# Reservations seeded for "invoice consuming a reservation": reservation i holds HELD units
# of product i at the shop for 30 days (so available there stays 100,000 − HELD).
RESERVATIONS = 1_000
HELD = 50_000


def reservation_id(i: int) -> str:
    return f"00000000-0000-4000-b000-{i:012x}"


def generated_site_id(i: int) -> str:
    return f"00000000-0000-4000-9000-{i:012x}"


def ledger_start(today: date | None = None, years: int = 1) -> date:
    """The first day of the seeded ledger (its last is the day before today)."""
    return (today or datetime.now(UTC).date()) - timedelta(days=LEDGER_DAYS * years)


def ledger_years(movements: int) -> int:
    """Years of ledger that make `movements` (a whole number of millions)."""
    if movements < MOVEMENTS or movements % MOVEMENTS:
        raise ValueError(f"BENCH_MOVEMENTS must be a multiple of {MOVEMENTS:,}: {movements}")
    return movements // MOVEMENTS


@dataclass(frozen=True)
class Brand:
    """The demo brand the data set is written into (from `stockroom demo --json`)."""

    brand_id: str
    user_id: str
    token: str
    site_ids: list[str]  # all 20: the demo's shop (the default site), its warehouse, then 18

    @classmethod
    def from_demo(cls, demo: dict[str, Any]) -> Brand:
        extra = [generated_site_id(i) for i in range(2, SITES)]
        return cls(demo["brand_id"], demo["user_id"], demo["token"], demo["site_ids"] + extra)

    @property
    def shop(self) -> str:
        return self.site_ids[0]

    @property
    def warehouse(self) -> str:
        return self.site_ids[1]

    @property
    def low_stock_sites(self) -> list[str]:
        return self.site_ids[2:]


# --- PostgreSQL ------------------------------------------------------------------------------

# Shared by the data set and the pgbench scripts: product/site i → its uuid (inlined by the
# planner, so a script's `bench_product(:i)` costs what a literal id would).
PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION bench_product(i integer) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid $$;
CREATE OR REPLACE FUNCTION bench_site(i integer) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid $$;
CREATE OR REPLACE FUNCTION bench_invoice(i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(i), 12, '0'))::uuid $$;
CREATE OR REPLACE FUNCTION bench_reservation(i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT ('00000000-0000-4000-b000-' || lpad(to_hex(i), 12, '0'))::uuid $$;
"""

# {count}: RESERVATIONS, or fewer when the catalogue is smaller (a reservation per product).
PG_RESERVATIONS = f"""
INSERT INTO reservations (id, brand_id, site_id, status, reference, user_id, expires_at,
                          created_at, updated_at)
SELECT bench_reservation(r), $1::uuid, $2::uuid, 'active', 'BENCH-SO-' || r, $3::uuid,
       now() + interval '30 days', now(), now()
FROM generate_series(1, {{count}}) AS r;
INSERT INTO reservation_lines (id, brand_id, reservation_id, line_no, product_id, site_id,
                               location_id, quantity, remaining, active, expires_at)
SELECT gen_random_uuid(), $1::uuid, bench_reservation(r), 0, bench_product(r), $2::uuid, 0,
       {HELD}, {HELD}, true, now() + interval '30 days'
FROM generate_series(1, {{count}}) AS r;
UPDATE stock_levels SET reserved = {HELD}
WHERE brand_id = $1::uuid AND site_id = $2::uuid AND location_id = 0
  AND product_id IN (SELECT bench_product(r) FROM generate_series(1, {{count}}) AS r);
"""

PG_SITES = """
INSERT INTO sites (id, brand_id, name, allow_negative_stock, created_at)
SELECT bench_site(s), $1::uuid, 'Bench site ' || lpad(s::text, 2, '0'), false, now()
FROM generate_series(2, $2::int - 1) AS s
"""

PG_PRODUCTS = """
INSERT INTO products (id, brand_id, sku, name, unit, min_stock, location_aware,
                      cost_per_unit, archived, created_at, updated_at)
SELECT bench_product(p), $1::uuid, 'BENCH-' || lpad(p::text, 5, '0'), 'Bench product ' || p,
       'unit', $3::int, false, 2.5, false, now(), now()
FROM generate_series(1, $2::int) AS p
"""

PG_OPENING = (
    f"CASE WHEN s < 2 THEN {BUSY_OPENING} WHEN p % 100 = s THEN {LOW_OPENING} ELSE {OPENING} END"
)

PG_LEVELS = f"""
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
SELECT $1::uuid, bench_product(p), ($2::uuid[])[s + 1], 0, {PG_OPENING}, now()
FROM generate_series(1, $3::int) AS p, generate_series(0, $4::int - 1) AS s
"""

PG_STAMP = f"""$6::timestamptz + make_interval(
           days => y * {LEDGER_DAYS} + k * 73 + (p * 31 + s * 7) % 73,
           secs => (p * 7919 + s * 104729 + k * 13) % 86400)"""

PG_MOVEMENTS = f"""
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity,
                             reason_code, unit_cost, user_id, created_at, occurred_at)
SELECT gen_random_uuid(), $1::uuid,
       CASE WHEN y = 0 AND k = 0 THEN 'initial_stock' WHEN k <= 1 - sign(y) THEN 'purchase'
            ELSE 'adjustment' END,
       bench_product(p), ($2::uuid[])[s + 1], NULL,
       CASE WHEN y > 0 THEN (ARRAY[12, -5, -3, -2, -2])[k + 1]
            WHEN k = 0 THEN {PG_OPENING} WHEN k = 1 THEN 10 WHEN k = 2 THEN -5
            WHEN k = 3 THEN -3 ELSE -2 END,
       CASE WHEN y = 0 THEN (ARRAY[NULL, NULL, 'waste', 'correction', 'theft'])[k + 1]
            ELSE (ARRAY[NULL, 'waste', 'correction', 'theft', 'waste'])[k + 1] END,
       CASE WHEN k = 0 OR (k = 1 AND y = 0) THEN 2.5 END,
       $5::uuid, {PG_STAMP}, {PG_STAMP}
FROM generate_series(0, $7::int - 1) AS y, generate_series(1, $3::int) AS p,
     generate_series(0, $4::int - 1) AS s, generate_series(0, 4) AS k
"""


# The as-of checkpoints of the loaded ledger (the writer keeps them for every later write).
LEVEL_DAYS = """
INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
SELECT brand_id, product_id, site_id, COALESCE(location_id, 0), {day}, SUM(quantity)
FROM stock_movements
GROUP BY brand_id, product_id, site_id, COALESCE(location_id, 0), {day}
"""


# The two tables of 10 M rows: their primary keys are dropped for the load and rebuilt after.
BULK_TABLES = ("stock_movements", "stock_level_days")


async def _secondary_indexes(conn: Any, table: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = $1 AND i.indexname NOT IN (
               SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass)""",
        table,
    )
    return [(r["indexname"], r["indexdef"]) for r in rows]


async def _primary_key(conn: Any, table: str) -> tuple[str, str]:
    row = await conn.fetchrow(
        "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype = 'p'",
        table,
    )
    return row["conname"], row["definition"]


async def _month_partitions(conn: Any, first: date) -> None:
    """The ledger's month partitions from `first` on (PostgreSQL's ledger is partitioned)."""
    if await conn.fetchval("SELECT to_regclass('stock_movements_default') IS NULL"):
        return
    today = datetime.now(UTC).date()
    for month in partitions.months(first, today):
        await conn.execute(partitions.create_partition_sql(month))


async def load_postgres(
    conn: Any,
    brand: Brand,
    years: int = 1,
    products: int = PRODUCTS,
    log: Callable[[str], None] = lambda _: None,
) -> None:
    """Write the sites, products, levels and ledger into a migrated PostgreSQL database
    (`years` × `products` × 20 sites × 5 movements; the as-of checkpoints to match)."""
    clock = time.monotonic()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        log(f"load: {name} in {now - clock:.1f} s")
        clock = now

    await conn.execute(PG_FUNCTIONS)
    start_day = ledger_start(years=years)
    await _month_partitions(conn, start_day)
    # A consistent set-based load: foreign keys hold by construction, and indexes (the
    # primary keys too: random uuids) are cheaper built once at the end than kept per row.
    # work_mem for this session only: the checkpoints group 10 M rows.
    await conn.execute("SET session_replication_role = replica")
    await conn.execute("SET maintenance_work_mem = '512MB'")
    await conn.execute("SET work_mem = '256MB'")
    indexes = await _secondary_indexes(conn, "stock_movements")
    for name, _ in indexes:
        await conn.execute(f'DROP INDEX "{name}"')
    keys = {table: await _primary_key(conn, table) for table in BULK_TABLES}
    for table, (name, _) in keys.items():
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    async with conn.transaction():
        await conn.execute(PG_SITES, brand.brand_id, SITES)
        await conn.execute(PG_PRODUCTS, brand.brand_id, products, MIN_STOCK)
        await conn.execute(PG_LEVELS, brand.brand_id, brand.site_ids, products, SITES)
        start = datetime.combine(start_day, datetime.min.time(), tzinfo=UTC)
        await conn.execute(
            PG_MOVEMENTS,
            brand.brand_id,
            brand.site_ids,
            products,
            SITES,
            brand.user_id,
            start,
            years,
        )
        phase("movements")
        # Rebuilt whole: the demo's own movements already have theirs.
        await conn.execute("DELETE FROM stock_level_days")
        await conn.execute(LEVEL_DAYS.format(day="(occurred_at AT TIME ZONE 'UTC')::date"))
        phase("as-of checkpoints")
        reservations = PG_RESERVATIONS.format(count=min(RESERVATIONS, products))
        for statement in reservations.split(";")[:-1]:
            args = [brand.brand_id, brand.shop, brand.user_id]
            await conn.execute(statement, *args[: 3 if "$3" in statement else 2])
        # The stored shortfalls low stock reads, from the levels and products just loaded.
        for statement in shortfalls.rebuild_sql("$1::uuid"):
            await conn.execute(statement, brand.brand_id)
        phase("stored shortfalls")
    for table, (name, definition) in keys.items():
        await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, definition in indexes:
        # A partitioned table's index reads "ON ONLY": built that way it would cover no
        # partition.
        await conn.execute(definition.replace(" ON ONLY ", " ON "))
    phase("commit and ledger indexes")
    await conn.execute("SET session_replication_role = origin")
    for table in (
        "stock_movements",
        "stock_levels",
        "stock_level_days",
        "products",
        "sites",
        "reservations",
        "reservation_lines",
        "site_shortfalls",
    ):
        await conn.execute(f"VACUUM ANALYZE {table}")
    await conn.execute("CHECKPOINT")
    phase("vacuum, analyze and checkpoint")


async def add_fresh_sites_postgres(conn: Any, brand: Brand, first: int, count: int) -> list[str]:
    """Sites with no stock at all yet (for initial stock), generated ids `first..first+count-1`."""
    await conn.execute(
        """INSERT INTO sites (id, brand_id, name, allow_negative_stock, created_at)
           SELECT bench_site(s), $1::uuid, 'Fresh site ' || s, false, now()
           FROM generate_series($2::int, $3::int) AS s""",
        brand.brand_id,
        first,
        first + count - 1,
    )
    # Every product with a minimum is short at a new site (as `sites.service.create_site`).
    await conn.execute(
        """INSERT INTO site_shortfalls (brand_id, site_id, product_id, on_hand, reserved, min_stock)
           SELECT $1::uuid, bench_site(s), p.id, 0, 0, p.min_stock
           FROM generate_series($2::int, $3::int) AS s, products AS p
           WHERE p.brand_id = $1::uuid AND p.min_stock > 0""",
        brand.brand_id,
        first,
        first + count - 1,
    )
    return [generated_site_id(i) for i in range(first, first + count)]


# --- SQLite ----------------------------------------------------------------------------------
# SQLAlchemy keeps uuids as 32 hex digits and timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'.


def hex_id(value: str) -> str:
    return value.replace("-", "")


SQLITE_SEQUENCE = """
WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {last})
"""

SQLITE_OPENING = f"""
CASE WHEN s.i < 2 THEN {BUSY_OPENING} WHEN p.i % 100 = s.i THEN {LOW_OPENING} ELSE {OPENING} END
"""

SQLITE_STAMP = (
    "strftime('%Y-%m-%d %H:%M:%S', ?, "
    "'+' || (k.i * 73 + (p.i * 31 + s.i * 7) % 73) || ' days', "
    "'+' || ((p.i * 7919 + s.i * 104729 + k.i * 13) % 86400) || ' seconds') || '.000000'"
)

SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%S', 'now') || '.000000'"


def _sqlite_sites_table(db: sqlite3.Connection, brand: Brand) -> None:
    db.execute("CREATE TEMP TABLE bench_sites (i INTEGER PRIMARY KEY, id TEXT)")
    db.executemany(
        "INSERT INTO bench_sites VALUES (?, ?)",
        [(i, hex_id(site)) for i, site in enumerate(brand.site_ids)],
    )


def load_sqlite(path: str, brand: Brand, products: int = PRODUCTS) -> int:
    """Write the data set into a migrated SQLite file; return the number of movements."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous = OFF")
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'stock_movements' AND sql IS NOT NULL"
        ).fetchall()
        _sqlite_sites_table(db, brand)
        db.execute("BEGIN")
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        _sqlite_insert_rows(db, brand, products)
        for _, definition in indexes:
            db.execute(definition)
        db.execute("COMMIT")
        db.execute("ANALYZE")
        return int(db.execute("SELECT count(*) FROM stock_movements").fetchone()[0])
    finally:
        db.close()


def _sqlite_insert_rows(db: sqlite3.Connection, brand: Brand, products: int) -> None:
    brand_hex, user_hex = hex_id(brand.brand_id), hex_id(brand.user_id)
    db.execute(
        "INSERT INTO sites (id, brand_id, name, allow_negative_stock, created_at) "
        f"SELECT id, ?, 'Bench site ' || i, 0, {SQLITE_NOW} FROM bench_sites WHERE i >= 2",
        (brand_hex,),
    )
    db.execute(
        SQLITE_SEQUENCE.format(first=1, last=products)
        + "INSERT INTO products (id, brand_id, sku, name, unit, min_stock, location_aware, "
        "cost_per_unit, archived, created_at, updated_at) "
        "SELECT printf('00000000000040008000%012x', i), ?, printf('BENCH-%05d', i), "
        # Money on SQLite is in ten-thousandths (MoneyType): 2.5 is 25000.
        f"'Bench product ' || i, 'unit', ?, 0, 25000, 0, {SQLITE_NOW}, {SQLITE_NOW} FROM n",
        (brand_hex, MIN_STOCK),
    )
    db.execute(
        SQLITE_SEQUENCE.format(first=1, last=products)
        + "INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, "
        f"updated_at) SELECT ?, printf('00000000000040008000%012x', p.i), s.id, 0, "
        f"{SQLITE_OPENING}, {SQLITE_NOW} FROM n AS p, bench_sites AS s",
        (brand_hex,),
    )
    start = ledger_start().isoformat()
    db.execute(
        SQLITE_SEQUENCE.format(first=1, last=products)
        + ", k(i) AS (VALUES (0), (1), (2), (3), (4)) "
        "INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, "
        "quantity, reason_code, unit_cost, user_id, created_at, occurred_at) "
        "SELECT lower(hex(randomblob(16))), ?, "
        "CASE k.i WHEN 0 THEN 'initial_stock' WHEN 1 THEN 'purchase' ELSE 'adjustment' END, "
        "printf('00000000000040008000%012x', p.i), s.id, NULL, "
        f"CASE k.i WHEN 0 THEN {SQLITE_OPENING} WHEN 1 THEN 10 WHEN 2 THEN -5 "
        "WHEN 3 THEN -3 ELSE -2 END, "
        "CASE k.i WHEN 2 THEN 'waste' WHEN 3 THEN 'correction' WHEN 4 THEN 'theft' END, "
        f"CASE WHEN k.i < 2 THEN 25000 END, ?, {SQLITE_STAMP}, {SQLITE_STAMP} "
        "FROM n AS p, bench_sites AS s, k",
        (brand_hex, user_hex, start, start),
    )
    db.execute("DELETE FROM stock_level_days")  # rebuilt whole (the demo's have theirs)
    db.execute(LEVEL_DAYS.format(day="date(occurred_at)"))
    for statement in shortfalls.rebuild_sql(":brand"):
        db.execute(statement, {"brand": brand_hex})
