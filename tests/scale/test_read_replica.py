"""A read replica: lists, reports and CSV exports read from it; writes and reads of one thing
stay on the primary.

A private primary (wal_level=replica) and a hot standby made with `pg_basebackup -R` stream
for this module. With the standby's replay paused (pg_wal_replay_pause()), a write is on the
primary only: what a route answers shows which server it read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from stockroom.app import create_app
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.settings import Settings
from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock
from tests.services import Instance, running_replica_pair


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Instance, Instance]]:
    with running_replica_pair() as (primary, replica):
        upgrade_database(primary.url)
        yield primary, replica


async def caught_up(primary: Instance, replica: Instance) -> None:
    """Wait until the standby has replayed everything the primary has written."""
    p = await asyncpg.connect(_dsn(primary.url))
    r = await asyncpg.connect(_dsn(replica.url))
    try:
        await r.execute("SELECT pg_wal_replay_resume()")
        target = await p.fetchval("SELECT pg_current_wal_lsn()")
        for _ in range(600):
            if await r.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the replica did not catch up in 30 s")
    finally:
        await p.close()
        await r.close()


async def pause_replay(replica: Instance) -> None:
    r = await asyncpg.connect(_dsn(replica.url))
    try:
        await r.execute("SELECT pg_wal_replay_pause()")
        for _ in range(600):
            if await r.fetchval("SELECT pg_get_wal_replay_pause_state() = 'paused'"):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("replay did not pause")
    finally:
        await r.close()


@pytest.fixture
async def setup(
    pair: tuple[Instance, Instance],
) -> AsyncIterator[tuple[httpx.AsyncClient, Brand, Instance, Instance]]:
    primary, replica = pair
    settings = Settings(
        database_url=primary.url,
        read_database_url=replica.url,
        pool_size=2,
        pool_max_overflow=2,
        # The replica stays in use however slow this machine is (the lag guard is tested
        # below, with a limit of 0).
        read_max_lag_seconds=3600,
    )
    engine = create_engine(settings)
    db = Database(engine, create_sessionmaker(engine))
    app = create_app(settings)
    try:
        brand = await create_brand_with_admin(db)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://stockroom.test", timeout=60
            ) as client:
                yield client, brand, primary, replica
    finally:
        await caught_up(primary, replica)
        await engine.dispose()


async def test_reports_lists_and_exports_read_the_replica_and_writes_read_the_primary(
    setup: tuple[httpx.AsyncClient, Brand, Instance, Instance],
) -> None:
    client, brand, primary, replica = setup
    headers = brand.admin.headers
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    await caught_up(primary, replica)
    await pause_replay(replica)

    # A write while the replica lags: answered from the primary.
    write = await client.post(
        "/inventory/adjustments", headers=headers, json={"product_id": str(product), "quantity": 5}
    )
    assert write.status_code == 201, write.text
    new_id = write.json()["id"]

    # Reads of one thing stay on the primary: they see the caller's own write at once.
    one = await client.get(f"/inventory/movements/{new_id}", headers=headers)
    assert one.status_code == 200
    stock = await client.get(f"/inventory/products/{product}/stock", headers=headers)
    assert stock.json()["total"] == 15

    # Lists, reports and exports read the replica, which has not replayed the write yet.
    report = await client.get("/inventory/movements", headers=headers)
    assert new_id not in {m["id"] for m in report.json()["data"]}
    assert len(report.json()["data"]) == 1
    csv = await client.get("/inventory/movements", headers=headers, params={"format": "csv"})
    assert csv.status_code == 200 and new_id not in csv.text
    export = await client.get("/inventory/movements.csv", headers=headers)
    assert export.status_code == 200 and new_id not in export.text
    levels = await client.get("/inventory/stock", headers=headers)
    assert [row["on_hand"] for row in levels.json()["data"]] == [10]
    adjustments = await client.get("/inventory/adjustments", headers=headers)
    assert new_id not in {m["id"] for m in adjustments.json()["data"]}

    # Once the replica replays, the same reads see the write.
    await caught_up(primary, replica)
    report = await client.get("/inventory/movements", headers=headers)
    assert new_id in {m["id"] for m in report.json()["data"]}
    levels = await client.get("/inventory/stock", headers=headers)
    assert [row["on_hand"] for row in levels.json()["data"]] == [15]
    csv = await client.get("/inventory/movements", headers=headers, params={"format": "csv"})
    assert new_id in csv.text
    assert new_id in (await client.get("/inventory/movements.csv", headers=headers)).text


async def test_a_token_made_while_the_replica_lags_works_on_replica_routes(
    setup: tuple[httpx.AsyncClient, Brand, Instance, Instance],
) -> None:
    """The token lookup reads the primary: a brand-new caller is not refused by a lagging
    replica; the list it reads is simply behind (here: empty)."""
    client, _, primary, replica = setup
    await caught_up(primary, replica)
    await pause_replay(replica)
    engine = create_engine(Settings(database_url=primary.url, pool_size=1))
    try:
        newcomer = await create_brand_with_admin(Database(engine, create_sessionmaker(engine)))
        product = await create_product(newcomer)
        await put_stock(newcomer, product, 3)
        fresh = await client.get("/inventory/movements", headers=newcomer.admin.headers)
        on_primary = await client.get(
            f"/inventory/products/{product}/stock", headers=newcomer.admin.headers
        )
    finally:
        await engine.dispose()
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["data"] == []  # the replica has not replayed the brand's movement
    assert on_primary.json()["total"] == 3  # the primary has


async def test_reads_go_to_the_primary_while_the_replica_lags_beyond_the_limit(
    pair: tuple[Instance, Instance],
) -> None:
    """STOCKROOM_READ_MAX_LAG_SECONDS=0: a replica with anything left to replay is not read."""
    primary, replica = pair
    settings = Settings(
        database_url=primary.url,
        read_database_url=replica.url,
        pool_size=2,
        pool_max_overflow=2,
        read_max_lag_seconds=0,
    )
    engine = create_engine(settings)
    app = create_app(settings)
    try:
        brand = await create_brand_with_admin(Database(engine, create_sessionmaker(engine)))
        headers = brand.admin.headers
        product = await create_product(brand)
        await put_stock(brand, product, 10)
        await caught_up(primary, replica)
        await pause_replay(replica)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://stockroom.test", timeout=60
            ) as client:
                write = await client.post(
                    "/inventory/adjustments",
                    headers=headers,
                    json={"product_id": str(product), "quantity": 5},
                )
                assert write.status_code == 201, write.text
                new_id = write.json()["id"]

                report = await client.get("/inventory/movements", headers=headers)
                export = await client.get("/inventory/movements.csv", headers=headers)
                levels = await client.get("/inventory/stock", headers=headers)
            guard = app.state.replica_lag
    finally:
        await caught_up(primary, replica)
        await engine.dispose()

    assert new_id in {m["id"] for m in report.json()["data"]}
    assert export.status_code == 200 and new_id in export.text
    assert [row["on_hand"] for row in levels.json()["data"]] == [15]
    assert guard.lag_seconds > 0
