"""The ledger's monthly partitions on PostgreSQL: reports prune, `maintain` creates ahead.

Each test gets a database of its own (partitions are per database, and `maintain` moves rows
out of the default partition, which other tests' movements would land in). Movements are
written at chosen instants (the writer's `now`), in months far from today's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import event, text
from typer.testing import CliRunner

from stockroom import clock
from stockroom.app import create_app
from stockroom.cli import app as cli
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import alembic_config, upgrade_database
from stockroom.ledger.partitions import (
    DEFAULT_PARTITION,
    maintain_partitions,
    occurred_at_window,
    partition_name,
)
from stockroom.ledger.verify import verify_ledger
from stockroom.movements.service import encode_cursor
from stockroom.settings import Settings, get_settings
from stockroom.worker import run_worker
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.factories import Database, create_brand_with_admin, create_product
from tests.movements.ledger_setup import post_movements_at


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00")


@pytest.fixture
def pg_url(postgres_server: str | None) -> Iterator[str]:
    if postgres_server is None:
        pytest.skip("PostgreSQL does not answer")
    url = _create_postgres_database(postgres_server)
    try:
        upgrade_database(url)
        yield url
    finally:
        _drop_postgres_database(postgres_server, url)


@pytest.fixture
async def pg_db(pg_url: str) -> AsyncIterator[Database]:
    engine = create_engine(Settings(database_url=pg_url, pool_size=2, pool_max_overflow=2))
    try:
        yield Database(engine, create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def maintain(db: Database, today: date, months_ahead: int = 3) -> list[str]:
    async with db.engine.begin() as conn:
        return (await maintain_partitions(conn, today, months_ahead=months_ahead)).created


async def partitions_of(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'stock_movements'::regclass"
            )
        )
        return {r[0] for r in rows}


async def rows_in(db: Database, table: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


def scanned(plan: Any) -> set[str]:
    """Every table an EXPLAIN (FORMAT JSON) plan reads."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(plan["Relation Name"])
        for value in plan.values():
            found |= scanned(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= scanned(value)
    return found


async def report_scans(
    pg_url: str, headers: dict[str, str], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], set[str]]:
    """GET the movements report through the API; EXPLAIN each ledger query it ran."""
    settings = Settings(database_url=pg_url, pool_size=2, pool_max_overflow=2)
    application = create_app(settings)
    statements: list[tuple[str, Any]] = []
    async with application.router.lifespan_context(application):
        engine = application.state.engine

        def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
            if "FROM stock_movements" in statement:
                statements.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://stockroom.test") as c:
            answer = await c.get("/inventory/movements", params=params, headers=headers)
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
        assert answer.status_code == 200, answer.text
        assert statements
        tables: set[str] = set()
        async with engine.connect() as conn:
            for statement, parameters in statements:
                plan = await conn.exec_driver_sql(
                    "EXPLAIN (FORMAT JSON) " + statement, tuple(parameters)
                )
                tables |= scanned(plan.scalar_one())
    return answer.json()["data"], {t for t in tables if t.startswith("stock_movements")}


async def test_report_of_a_month_reads_only_the_months_its_backdating_window_reaches(
    pg_url: str, pg_db: Database
) -> None:
    assert await maintain(pg_db, date(2031, 1, 15)) == [
        partition_name(date(2031, m, 1)) for m in (1, 2, 3, 4)
    ]
    brand = await create_brand_with_admin(pg_db)
    product = await create_product(brand)
    for day, quantity in [("2031-01-10", 5), ("2031-02-10", 7), ("2031-03-10", -2)]:
        await post_movements_at(brand, product, [quantity], at=at(day))

    rows, tables = await report_scans(
        pg_url, brand.admin.headers, {"start_date": "2031-02-01", "end_date": "2031-02-28"}
    )

    assert [r["quantity"] for r in rows] == [7]
    # The report filters by occurred_at; a movement of February was created at most 5 min
    # before it occurred (so possibly in January) or up to 31 days after (March): those
    # created_at bounds prune April and the default partition.
    assert tables == {
        "stock_movements_y2031m01",
        "stock_movements_y2031m02",
        "stock_movements_y2031m03",
    }


async def test_keyset_page_after_a_cursor_skips_the_newer_months(
    pg_url: str, pg_db: Database
) -> None:
    await maintain(pg_db, date(2031, 1, 15))
    brand = await create_brand_with_admin(pg_db)
    product = await create_product(brand)
    for day, quantity in [("2031-01-10", 5), ("2031-02-10", 7), ("2031-04-10", 1)]:
        await post_movements_at(brand, product, [quantity], at=at(day))
    first, _ = await report_scans(pg_url, brand.admin.headers, {"limit": 2})
    assert [r["quantity"] for r in first] == [1, 7]
    async with pg_db.engine.connect() as conn:
        cursor = (
            await conn.execute(
                text(
                    "SELECT id, created_at FROM stock_movements "
                    "WHERE brand_id = :b AND quantity = 7"
                ),
                {"b": brand.id},
            )
        ).one()
    rows, tables = await report_scans(
        pg_url,
        brand.admin.headers,
        {"limit": 2, "cursor": encode_cursor(cursor.created_at, cursor.id)},
    )

    assert [r["quantity"] for r in rows] == [5]
    assert "stock_movements_y2031m03" not in tables
    assert "stock_movements_y2031m04" not in tables
    assert "stock_movements_y2031m01" in tables


def run_maintain(url: str, today: str) -> dict[str, Any]:
    """`stockroom maintain --json` with the clock at `today` (run it in a thread)."""
    clock.set_now(datetime.fromisoformat(f"{today}T08:00:00+00:00"))
    get_settings.cache_clear()  # the command reads STOCKROOM_DATABASE_URL afresh
    try:
        done = CliRunner().invoke(
            cli, ["maintain", "--json"], env={"STOCKROOM_DATABASE_URL": url}, catch_exceptions=False
        )
    finally:
        clock.set_now(None)
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def test_maintain_moves_a_months_rows_out_of_the_default_partition_once(
    pg_url: str, pg_db: Database
) -> None:
    brand = await create_brand_with_admin(pg_db)
    product = await create_product(brand)
    # No partition for June 2033: the writes land in the default partition, and succeed.
    await post_movements_at(brand, product, [4, 6], at=at("2033-06-10"))
    await post_movements_at(brand, product, [-3], at=at("2033-06-20"))
    assert await rows_in(pg_db, DEFAULT_PARTITION) == 3

    first = await asyncio.to_thread(run_maintain, pg_url, "2033-06-21")
    again = await asyncio.to_thread(run_maintain, pg_url, "2033-06-21")

    june = partition_name(date(2033, 6, 1))
    assert first["created"] == [june] + [partition_name(date(2033, m, 1)) for m in (7, 8, 9)]
    assert first["moved_rows"] == 3
    assert again == {"partitioned": True, "created": [], "moved_rows": 0, "skipped": None}
    assert await rows_in(pg_db, DEFAULT_PARTITION) == 0
    assert await rows_in(pg_db, june) == 3
    async with pg_db.engine.connect() as conn:
        report = await verify_ledger(conn)
    assert report.ok, report.checks


async def test_the_worker_creates_the_current_months_partition(pg_db: Database) -> None:
    clock.set_now(datetime(2036, 2, 3, tzinfo=UTC))
    stop = asyncio.Event()
    try:
        worker = asyncio.create_task(run_worker(pg_db.sessionmaker, stop=stop))
        for _ in range(600):
            if partition_name(date(2036, 2, 1)) in await partitions_of(pg_db):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await worker
    finally:
        clock.set_now(None)

    assert {partition_name(date(2036, m, 1)) for m in (2, 3, 4, 5)} <= await partitions_of(pg_db)


async def test_migration_keeps_the_rows_and_its_downgrade_restores_the_plain_table(
    pg_url: str, pg_db: Database
) -> None:
    brand = await create_brand_with_admin(pg_db)
    product = await create_product(brand)
    await post_movements_at(brand, product, [5, -1], at=at("2024-03-01"))
    await post_movements_at(brand, product, [2], at=at("2025-07-01"))
    total = "SELECT count(*), sum(quantity) FROM stock_movements"
    keys = (
        "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_constraint c, "
        "unnest(c.conkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a "
        "ON a.attnum = k.attnum WHERE c.conname = 'pk_stock_movements' "
        "AND a.attrelid = c.conrelid AND c.conrelid = 'stock_movements'::regclass"
    )

    async def state() -> tuple[Any, ...]:
        async with pg_db.engine.connect() as conn:
            rows = tuple((await conn.execute(text(total))).one())
            key = (await conn.execute(text(keys))).scalar_one()
            kind = (
                await conn.execute(
                    text(
                        "SELECT relkind::text FROM pg_class WHERE oid = 'stock_movements'::regclass"
                    )
                )
            ).scalar_one()
        return rows, key, kind

    partitioned = await state()
    await pg_db.engine.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config(pg_url), "0010-1")
    plain = await state()
    await pg_db.engine.dispose()
    await asyncio.to_thread(upgrade_database, pg_url)
    again = await state()

    assert partitioned == ((3, 6), ["brand_id", "id", "created_at"], "p")
    assert plain == ((3, 6), ["id"], "r")
    assert again == partitioned
    assert {partition_name(date(2024, 3, 1)), partition_name(date(2025, 7, 1))} <= (
        await partitions_of(pg_db)
    )


async def test_maintain_on_sqlite_has_nothing_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    await asyncio.to_thread(upgrade_database, url)

    result = await asyncio.to_thread(run_maintain, url, "2030-01-01")

    assert result == {"partitioned": False, "created": [], "moved_rows": 0, "skipped": None}


def test_an_occurred_at_range_widens_to_the_created_at_window_that_holds_it() -> None:
    start, end = at("2031-02-01"), at("2031-03-01")

    low, high = occurred_at_window(start, end, backdate_days=30)

    assert (low, high) == (datetime(2031, 2, 1, 11, 55, tzinfo=UTC), at("2031-03-31"))
    assert occurred_at_window(None, None, 30) == (None, None)
