"""The ledger's monthly partitions on PostgreSQL (SQLite keeps one plain table).

`stock_movements` is partitioned by range of `created_at`, one partition per calendar month
(UTC), named `stock_movements_yYYYYmMM`, plus `stock_movements_default`, which takes any row
whose month has no partition yet so that a write never fails for a missing partition.
Movements are stamped "now" when written, so only the current month's partition is written
to; the others are only read.

`maintain_partitions` (the `stockroom maintain` command and a job of the worker) creates the
partitions of the current month and the next `MONTHS_AHEAD` ones, and gives every month found
in the default partition a partition of its own (moving its rows there: the same rows, in
the same table as far as any query can tell). It is idempotent and cheap when there is
nothing to do (one catalogue query), and safe with any number of workers at once (an
advisory lock; a short lock timeout, so it never queues writers behind a long report).

Why a DEFAULT partition at all: without one, a write in a month nobody created a partition
for fails ("no partition of relation found for row"); the ledger must never refuse a write
for housekeeping. Its cost: creating a partition must check the default holds none of its
rows, which scans the default (empty, normally: a few milliseconds) under a lock on it; and
rows that land there are not pruned by month until `maintain` moves them out. See
docs/scaling.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

TABLE = "stock_movements"
DEFAULT_PARTITION = f"{TABLE}_default"
# Partitions exist this many months past the current one: months of slack for the worker.
MONTHS_AHEAD = 3
# Two advisory-lock keys (any fixed pair): one `maintain` at a time per database.
_LOCK = (0x5354_4F43, 0x4D4F_5645)
# `maintain` never waits long for a lock the API's transactions hold: it retries next round.
MAINTAIN_LOCK_TIMEOUT = "2s"


def month_start(moment: date | datetime) -> date:
    """The first day of the month `moment` falls in (UTC for instants)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return moment.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def months(first: date, last: date) -> list[date]:
    """Every month from `first`'s to `last`'s, both included."""
    out, month = [], month_start(first)
    while month <= month_start(last):
        out.append(month)
        month = next_month(month)
    return out


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"


def create_partition_sql(month: date) -> str:
    """DDL for the partition of `month` (IF NOT EXISTS: running it twice is harmless)."""
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF {TABLE} "
        f"FOR VALUES FROM ({_bound(month)}) TO ({_bound(next_month(month))})"
    )


def create_default_partition_sql() -> str:
    return f"CREATE TABLE IF NOT EXISTS {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT"


# --- pruning ---------------------------------------------------------------------------------


def created_at_window(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The created_at range `[start, end)` a report filter confines the rows to.

    Today the report filters created_at itself, so the window is the filter. The planner
    prunes the month partitions outside it (tests/scale/test_partitions.py). A filter on
    another time column is pruned by adding the created_at window that column implies:
    for `occurred_at` in [a, b), with occurred_at in [created_at − BACKDATE_DAYS,
    created_at + 5 min], created_at is in [a − 5 min, b + BACKDATE_DAYS) —
    `occurred_at_window` below; add its bounds as created_at conditions next to the
    occurred_at ones.
    """
    return start, end


def occurred_at_window(
    start: datetime | None, end: datetime | None, backdate_days: int
) -> tuple[datetime | None, datetime | None]:
    """The created_at range that holds every movement with occurred_at in `[start, end)`."""
    return (
        start - timedelta(minutes=5) if start is not None else None,
        end + timedelta(days=backdate_days) if end is not None else None,
    )


# --- maintenance -----------------------------------------------------------------------------


@dataclass
class Maintenance:
    """What one `maintain` run did."""

    partitioned: bool
    created: list[str]
    moved_rows: int = 0
    skipped: str | None = None  # why nothing was done (a lock held elsewhere)


async def is_partitioned(conn: AsyncConnection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    found = await conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"),
        {"t": TABLE},
    )
    return found.first() is not None


async def _existing(conn: AsyncConnection) -> set[str]:
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": TABLE},
    )
    return {r[0] for r in rows}


async def _months_in_default(conn: AsyncConnection) -> list[date]:
    rows = await conn.execute(
        text(
            f"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date "  # noqa: S608
            f"FROM {DEFAULT_PARTITION} ORDER BY 1"
        )
    )
    return [r[0] for r in rows]


async def _columns(conn: AsyncConnection) -> str:
    rows = await conn.execute(
        text(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = to_regclass(:t) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        {"t": TABLE},
    )
    return ", ".join(r[0] for r in rows)


async def _move_out_of_default(conn: AsyncConnection, month: date) -> int:
    """Give `month` its partition, moving its rows out of the default partition.

    One transaction: a new table like the ledger takes the month's rows from the default,
    then is attached as the month's partition; readers see the same rows before and after.
    """
    name, columns = partition_name(month), await _columns(conn)
    low, high = _bound(month), _bound(next_month(month))
    await conn.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
    moved = await conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608 (our own names)
            f"WHERE created_at >= {low} AND created_at < {high} RETURNING {columns}) "
            f"INSERT INTO {name} ({columns}) SELECT {columns} FROM moved"
        )
    )
    await conn.execute(
        text(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})")
    )
    return int(moved.rowcount or 0)


async def maintain_partitions(
    conn: AsyncConnection, today: date, *, months_ahead: int = MONTHS_AHEAD
) -> Maintenance:
    """Create the partitions due by `today` (see the module docstring); the caller commits."""
    if not await is_partitioned(conn):
        return Maintenance(partitioned=False, created=[])
    wanted = months(today, month_start(today) + timedelta(days=31 * months_ahead))
    existing = await _existing(conn)
    due = [m for m in wanted if partition_name(m) not in existing]
    stray = await _months_in_default(conn)
    if not due and not stray:
        return Maintenance(partitioned=True, created=[])
    locked = await conn.execute(
        text("SELECT pg_try_advisory_xact_lock(:a, :b)"), {"a": _LOCK[0], "b": _LOCK[1]}
    )
    if not locked.scalar_one():
        return Maintenance(partitioned=True, created=[], skipped="another maintain is running")
    await conn.execute(text(f"SET LOCAL lock_timeout = '{MAINTAIN_LOCK_TIMEOUT}'"))
    existing = await _existing(conn)
    result = Maintenance(partitioned=True, created=[])
    for month in sorted(set(due) | set(await _months_in_default(conn))):
        name = partition_name(month)
        if name in existing:
            continue
        if month in stray:
            result.moved_rows += await _move_out_of_default(conn, month)
        else:
            await conn.execute(text(create_partition_sql(month)))
        result.created.append(name)
    return result


def describe(result: Maintenance) -> dict[str, Any]:
    return {
        "partitioned": result.partitioned,
        "created": result.created,
        "moved_rows": result.moved_rows,
        "skipped": result.skipped,
    }
