"""Connection budgets: a worker's pool is small and bounded, and an exhausted pool answers 503.

A request that cannot get a pooled connection within STOCKROOM_POOL_TIMEOUT_SECONDS is
answered `503 unavailable` with `Retry-After` — it neither hangs nor fails with a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from stockroom.app import create_app
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.settings import Settings
from tests.factories import Database, create_brand_with_admin, create_product, put_stock


def test_the_default_pools_fit_the_documented_deployment_in_100_connections() -> None:
    """docs/running.md: 2 instances x 4 workers x (pool + overflow) + 10 for CLI/sweepers
    and 10 of headroom fit PostgreSQL's default max_connections = 100."""
    defaults = Settings()
    instances, workers, others, headroom = 2, 4, 10, 10
    budget = instances * workers * (defaults.pool_size + defaults.pool_max_overflow)
    assert budget + others + headroom <= 100
    assert defaults.pool_timeout_seconds <= 10


async def test_the_engine_takes_its_pool_bounds_from_the_settings() -> None:
    engine = create_engine(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    try:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow, pool.timeout()) == (10, 0, 5.0)
    finally:
        await engine.dispose()


async def wait_for_a_lock_wait(engine: AsyncEngine) -> None:
    """Until a backend of this database waits on a lock (the request's write)."""
    async with engine.connect() as watcher:
        for _ in range(1200):
            waiting = (
                await watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND wait_event_type = 'Lock'"
                    )
                )
            ).scalar_one()
            await watcher.rollback()  # pg_stat_activity is a snapshot per transaction
            if waiting:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the request never waited on the lock")


@pytest.fixture
async def tiny_pool_client(postgres_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=postgres_url,
        pool_size=1,
        pool_max_overflow=0,
        pool_timeout_seconds=0.5,
        lock_timeout_seconds=60,
        auth_cache_seconds=60,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://stockroom.test", timeout=60
        ) as client:
            yield client


async def test_a_request_waiting_for_the_only_connection_gets_503_with_retry_after(
    postgres_url: str, tiny_pool_client: httpx.AsyncClient
) -> None:
    engine = create_engine(Settings(database_url=postgres_url, pool_size=2))
    db = Database(engine, create_sessionmaker(engine))
    try:
        brand = await create_brand_with_admin(db)
        product = await create_product(brand)
        await put_stock(brand, product, 5)
        client = tiny_pool_client
        # Warm the token cache, so the second request needs the pool only for its data.
        assert (
            await client.get("/inventory/stock", headers=brand.admin.headers)
        ).status_code == 200

        async with engine.connect() as locker:
            # Hold the product's level row: the first request's write waits on this lock
            # while it holds the app's only pooled connection.
            await locker.execute(
                text("SELECT 1 FROM stock_levels WHERE product_id = :p FOR UPDATE"),
                {"p": product},
            )
            holder = asyncio.create_task(
                client.post(
                    "/inventory/adjustments",
                    headers=brand.admin.headers,
                    json={"product_id": str(product), "quantity": 1},
                )
            )
            await wait_for_a_lock_wait(engine)
            waiting = await client.get("/inventory/stock", headers=brand.admin.headers)
            assert not holder.done()
            await locker.rollback()
        written = await holder

        assert waiting.status_code == 503, waiting.text
        assert waiting.json()["error"]["code"] == "unavailable"
        assert int(waiting.headers["Retry-After"]) >= 1
        # The request that held the connection was only delayed, and the pool recovers.
        assert written.status_code == 201, written.text
        after = await client.get("/inventory/stock", headers=brand.admin.headers)
        assert after.status_code == 200
        assert [row["on_hand"] for row in after.json()["data"]] == [6]
    finally:
        await engine.dispose()
