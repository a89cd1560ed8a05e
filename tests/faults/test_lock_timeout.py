"""A writer stuck behind a lock gets a quick 503 `unavailable`, not a hang; nothing is written."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from stockroom.app import create_app
from stockroom.settings import Settings
from tests.concurrency.test_hammer import level_and_ledger
from tests.factories import Database, create_brand_with_admin, create_product, put_stock


@pytest.fixture
async def impatient_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a 300 ms lock timeout (and SQLite busy timeout)."""
    settings = Settings(
        database_url=database_url, lock_timeout_seconds=0.3, sqlite_busy_timeout_ms=300
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def test_a_write_blocked_by_a_held_lock_answers_503_quickly_and_writes_nothing(
    impatient_client: httpx.AsyncClient, db: Database, database_url: str, backend: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    body = {"product_id": str(product), "quantity": -1}

    if backend == "postgres":
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        holder = await asyncpg.connect(dsn)
        lock = holder.transaction()
        await lock.start()
        await holder.execute(
            "SELECT on_hand FROM stock_levels WHERE product_id = $1 FOR UPDATE", product
        )
    else:
        holder_sqlite = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
        holder_sqlite.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        blocked = await impatient_client.post(
            "/inventory/adjustments", headers=brand.admin.headers, json=body
        )
        waited = time.monotonic() - started
    finally:
        if backend == "postgres":
            await lock.rollback()
            await holder.close()
        else:
            holder_sqlite.execute("ROLLBACK")
            holder_sqlite.close()

    assert blocked.status_code == 503
    assert blocked.json()["error"]["code"] == "unavailable"
    assert blocked.headers["retry-after"] == "1"
    assert waited < 10  # a timeout, not a hang (the lock was never released while waiting)
    assert await level_and_ledger(db, brand, product) == (10, 10)
    retried = await impatient_client.post(
        "/inventory/adjustments", headers=brand.admin.headers, json=body
    )
    assert retried.status_code == 201
