"""What writing the events costs an adjustment: the same requests with and without them.

    python -m bench.events_cost            (EVENTS_COST_SECONDS=5 per round, 3 rounds each)

A fresh PostgreSQL database (`stockroom_events_cost`, dropped after) with one brand and
1,000 products; the app in process (httpx ASGITransport, 16 concurrent clients) posts
single-line ±1 adjustments on random products. Rounds alternate "with events" (the code
as it is) and "without" (the writer's event hook replaced for the round by a plain INSERT
of the movements, what the writer did before it had events), so a machine whose load
changes meanwhile hurts both alike. Prints req/s per round and the cost: the median over
the rounds of each pair's cost (a "with" round against the "without" round right after it),
and, for comparison with older runs, the cost of the two medians. `make bench` runs it
(bench/run.py) and writes the figures into BENCHMARKS.md.
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
from stockroom.stock import shortfalls

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
    brand_id: Any,
    movements: Sequence[Mapping[str, Any]],
    site_changes: Mapping[Any, Any],
    *_: Any,
    insert_movements: bool = False,
) -> None:
    """The writer's hook without events: the movements as one INSERT, and the stored
    shortfalls the events statement also writes (stock/shortfalls.py), as one upsert."""
    await shortfalls.store(session, brand_id, site_changes)
    if insert_movements and movements:
        await execute_core(session, insert(StockMovement.__table__), list(movements))


async def _round(
    client: httpx.AsyncClient, headers: dict[str, str], products: list[Any]
) -> tuple[float, float]:
    """req/s, and this process's CPU milliseconds per request (client and app together)."""
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

    start, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return done / (time.monotonic() - start), 1000 * (time.process_time() - cpu) / max(done, 1)


async def measure() -> dict[str, Any]:
    """The rounds' req/s with and without events, and the cost (see the module's docstring)."""
    await _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{DATABASE}"')
    url = make_url(ADMIN_URL).set(database=DATABASE).render_as_string(False)
    load_average = os.getloadavg()
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
        rounds: dict[str, list[float]] = {"with events": [], "without": []}
        cpu: dict[str, list[float]] = {"with events": [], "without": []}
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                    await _round(client, brand.admin.headers, products)  # warm up
                    for _ in range(ROUNDS):
                        for name in rounds:
                            writer.record_ledger_events = (
                                hook if name == "with events" else _no_events
                            )
                            rate, ms = await _round(client, brand.admin.headers, products)
                            rounds[name].append(rate)
                            cpu[name].append(ms)
                            print(f"{name:12} {rate:8.1f} req/s {ms:6.2f} ms CPU/req", flush=True)
        finally:
            writer.record_ledger_events = hook
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    with_events = statistics.median(rounds["with events"])
    without = statistics.median(rounds["without"])
    # Each "with" round against the "without" round right after it: the load of a shared
    # machine drifts less within a pair than over the run.
    pairs = [1 - w / o for w, o in zip(rounds["with events"], rounds["without"], strict=True)]
    return {
        "rounds": ROUNDS,
        "seconds": SECONDS,
        "clients": CLIENTS,
        "load_average": [round(x, 1) for x in load_average],
        "with_events": rounds["with events"],
        "without": rounds["without"],
        "median_with_events": with_events,
        "median_without": without,
        "cost_of_medians_percent": 100 * (1 - with_events / without),
        "cost_percent": 100 * statistics.median(pairs),
        # The Python side alone, as CPU time (less bent by a loaded machine than req/s).
        "cpu_ms_with_events": statistics.median(cpu["with events"]),
        "cpu_ms_without": statistics.median(cpu["without"]),
    }


def main() -> None:
    result = asyncio.run(measure())
    print(
        f"median: with events {result['median_with_events']:.1f} req/s, without "
        f"{result['median_without']:.1f} req/s; cost of the medians "
        f"{result['cost_of_medians_percent']:.1f} %, median of the pairs' costs "
        f"{result['cost_percent']:.1f} %; this process's CPU per request "
        f"{result['cpu_ms_with_events']:.2f} vs {result['cpu_ms_without']:.2f} ms"
    )


if __name__ == "__main__":
    main()
