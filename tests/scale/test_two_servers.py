"""Two API servers (two workers each, the default pool sizes) on different ports against one
PostgreSQL, writers racing through both: nothing acknowledged is lost, the ledger verifies,
a key retried through the other server writes once, and the connections stay in budget."""

from __future__ import annotations

import asyncio
import random
import uuid
from contextlib import ExitStack

import httpx
from sqlalchemy import select, text

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.models import StockMovement
from stockroom.ledger.verify import verify_ledger
from stockroom.settings import Settings
from tests.concurrency.test_hammer import level_and_ledger
from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.server import Server, start_server

# The shipped defaults (tests/server.py gives test servers a little more), and a name of
# their own in pg_stat_activity: the suite's other engines (this test's, an earlier test's
# server still closing) share the database and must not count against the two servers.
APPLICATION_NAME = f"stockroom-two-servers-{uuid.uuid4().hex[:8]}"
DEFAULT_POOLS = {
    "STOCKROOM_POOL_SIZE": "10",
    "STOCKROOM_POOL_MAX_OVERFLOW": "0",
    "STOCKROOM_DATABASE_APPLICATION_NAME": APPLICATION_NAME,
}
SERVERS, WORKERS, WRITERS, WRITES_EACH = 2, 2, 24, 10


async def test_writers_racing_through_two_servers_lose_nothing_and_verify(
    postgres_url: str,
) -> None:
    engine = create_engine(Settings(database_url=postgres_url, pool_size=2))
    db = Database(engine, create_sessionmaker(engine))
    try:
        brand = await create_brand_with_admin(db)
        products = [await create_product(brand) for _ in range(2)]
        for product in products:
            await put_stock(brand, product, 30)
        # Started side by side (a server takes seconds to boot on a busy machine).
        first, second = await asyncio.gather(
            *(
                asyncio.to_thread(start_server, postgres_url, workers=WORKERS, env=DEFAULT_POOLS)
                for _ in range(SERVERS)
            ),
            return_exceptions=True,
        )
        with ExitStack() as servers:
            for server in (first, second):
                if isinstance(server, Server):
                    servers.callback(server.stop)
            assert isinstance(first, Server) and isinstance(second, Server), (first, second)
            assert first.port != second.port
            bases = [first.base_url, second.base_url]
            acknowledged: dict[str, int] = {}
            statuses: list[int] = []
            peak = 0
            racing = True

            async def sample_connections() -> None:
                nonlocal peak
                async with engine.connect() as conn:
                    while racing:
                        count = (
                            await conn.execute(
                                text(
                                    "SELECT count(*) FROM pg_stat_activity WHERE "
                                    "datname = current_database() AND "
                                    "application_name = :name"
                                ),
                                {"name": APPLICATION_NAME},
                            )
                        ).scalar_one()
                        await conn.rollback()  # a new snapshot of pg_stat_activity
                        peak = max(peak, int(count))
                        await asyncio.sleep(0.05)

            async def writer(client: httpx.AsyncClient, seed: int) -> None:
                rng = random.Random(seed)
                for _ in range(WRITES_EACH):
                    response = await client.post(
                        f"{rng.choice(bases)}/inventory/adjustments",
                        headers=brand.admin.headers,
                        json={
                            "product_id": str(rng.choice(products)),
                            "quantity": rng.choice([-3, -1, 1, 2]),
                        },
                    )
                    statuses.append(response.status_code)
                    if response.status_code == 201:
                        acknowledged[response.json()["id"]] = response.json()["quantity"]

            async with httpx.AsyncClient(timeout=60) as client:
                sampler = asyncio.create_task(sample_connections())
                await asyncio.gather(*(writer(client, seed) for seed in range(WRITERS)))
                # One key, sent to both servers at once and again: one write.
                key = {"Idempotency-Key": str(uuid.uuid4())}
                body = {"product_id": str(products[0]), "quantity": 4}
                retries = await asyncio.gather(
                    *(
                        client.post(
                            f"{base}/inventory/adjustments",
                            headers={**brand.admin.headers, **key},
                            json=body,
                        )
                        for base in bases * 2
                    )
                )
                racing = False
                await sampler

        assert set(statuses) <= {201, 422}, statuses
        assert statuses.count(201) > WRITERS
        done = [r for r in retries if r.status_code == 201]
        assert done and {r.json()["id"] for r in done} == {done[0].json()["id"]}
        assert {r.status_code for r in retries} <= {201, 409}
        async with db.sessionmaker() as session:
            stored = {
                str(i): 0
                for i in (
                    await session.execute(
                        select(StockMovement.id).where(StockMovement.brand_id == brand.id)
                    )
                ).scalars()
            }
        assert set(acknowledged) <= set(stored), "an acknowledged write is missing"
        # 2 put_stock movements + every acknowledged adjustment + the one idempotent write.
        assert len(stored) == 2 + len(acknowledged) + 1
        for product in products:
            level, ledger = await level_and_ledger(db, brand, product)
            assert level == ledger >= 0
        expected_total = 60 + sum(acknowledged.values()) + 4
        totals = [await level_and_ledger(db, brand, p) for p in products]
        assert sum(level for level, _ in totals) == expected_total
        async with engine.connect() as conn:
            report = await verify_ledger(conn)
        assert report.ok, [c for c in report.checks if not c.ok]
        # Each worker holds at most pool + overflow connections.
        assert 0 < peak <= SERVERS * WORKERS * (5 + 5), peak
        print(f"peak connections of {SERVERS} servers x {WORKERS} workers: {peak}")
    finally:
        await engine.dispose()
