"""What writing the events costs an adjustment: the same requests with and without them.

    python -m bench.events_cost            (EVENTS_COST_SECONDS=5 per round, 3 rounds each)

A fresh PostgreSQL database (`stockroom_events_cost`, dropped after) with one brand and
1,000 products; the app in process (httpx ASGITransport, 16 concurrent clients) posts
single-line ±1 adjustments on random products. Rounds alternate "with events" (the code
as it is) and "without" (the writer's event hook replaced for the round by a plain INSERT
of the movements, what the writer did before it had events), so a machine whose load
changes meanwhile hurts both alike. Prints req/s per round and the cost.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from tests.factories import Database, create_brand_with_admin, create_product, put_stock

import stockroom.ledger.writer as writer
from stockroom.app import create_app
from stockroom.db.core import execute_core
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.db.models import StockMovement
from stockroom.settings import Settings

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "stockroom_events_cost"
SECONDS = float(os.environ.get("EVENTS_COST_SECONDS", "5"))
ROUNDS = int(os.environ.get("EVENTS_COST_ROUNDS", "3"))
CLIENTS = 16
PRODUCTS = 1000


async def _admin(statement: str) -> None:
    dsn = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _no_events(
    session: AsyncSession,
    _brand_id: Any,
    movements: Sequence[Mapping[str, Any]],
    *_: Any,
    insert_movements: bool = False,
) -> None:
    """The writer's hook without events: the movements alone, as one INSERT."""
    if insert_movements and movements:
        await execute_core(session, insert(StockMovement.__table__), list(movements))


async def _round(client: httpx.AsyncClient, headers: dict[str, str], products: list[Any]) -> float:
    done = 0
    deadline = time.monotonic() + SECONDS
    rng = random.Random()

    async def one_client() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            body = {"product_id": str(rng.choice(products)), "quantity": rng.choice((-1, 1))}
            response = await client.post("/inventory/adjustments", headers=headers, json=body)
            assert response.status_code == 201, response.text
            done += 1

    start = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return done / (time.monotonic() - start)


async def main() -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{DATABASE}"')
    url = make_url(ADMIN_URL).set(database=DATABASE).render_as_string(False)
    try:
        await asyncio.to_thread(upgrade_database, url)
        settings = Settings(database_url=url, pool_size=CLIENTS, pool_max_overflow=4)
        engine = create_engine(settings)
        db = Database(engine, create_sessionmaker(engine))
        brand = await create_brand_with_admin(db)
        products = [await create_product(brand, min_stock=5) for _ in range(PRODUCTS)]
        for product in products:
            await put_stock(brand, product, 1_000_000)
        await engine.dispose()
        app = create_app(settings)
        hook = writer.record_ledger_events
        results: dict[str, list[float]] = {"with events": [], "without": []}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                await _round(client, brand.admin.headers, products)  # warm up
                for _ in range(ROUNDS):
                    for name in results:
                        writer.record_ledger_events = hook if name == "with events" else _no_events  # type: ignore[assignment]
                        rate = await _round(client, brand.admin.headers, products)
                        results[name].append(rate)
                        print(f"{name:12} {rate:8.1f} req/s", flush=True)
        writer.record_ledger_events = hook
        with_events = statistics.median(results["with events"])
        without = statistics.median(results["without"])
        print(
            f"median: with events {with_events:.1f} req/s, without {without:.1f} req/s; "
            f"cost {100 * (1 - with_events / without):.1f} %"
        )
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
