"""Stock through time on PostgreSQL: `as_of` reads at N movements, backdated vs normal writes.

    .venv/bin/python -m bench.through_time [--movements 1000000] [--seconds 3]

Loads the benchmark's data set (bench/data.py: products × 20 sites × 5 movements over the
last year, with its as-of checkpoints) scaled to `--movements` into its own database
(`BENCH_TIME_DATABASE`, default stockroom_bench_time), then, in process and over ONE
database connection (httpx → the ASGI app, no HTTP server), for `--seconds` each:
- `GET /inventory/products/{id}/stock` of a random product, plain and `as_of` a random
  instant of the last 60 days;
- `POST /inventory/adjustments` of ±1 on random products, plain and with `occurred_at`
  three days back (a backdated write touches an older checkpoint row).
Prints p50/p95 latencies (ms) as JSON. The 10 M run is the `scale` scenario's to make; this
one takes the movement count so the same code measures 1 M and 10 M.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench import data
from bench.server import stockroom
from stockroom.app import create_app
from stockroom.settings import Settings

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = os.environ.get("BENCH_TIME_DATABASE", "stockroom_bench_time")


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _load(url: str, brand: data.Brand, products: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await data.load_postgres(conn, brand, products=products)
    finally:
        await conn.close()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
    }


async def timed(seconds: float, call: Callable[[int], Awaitable[httpx.Response]]) -> list[float]:
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < stop:
        started = time.perf_counter()
        answer = await call(n)
        samples.append(time.perf_counter() - started)
        if answer.status_code >= 300:
            raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")
        n += 1
    return samples


async def measure(url: str, brand: data.Brand, products: int, seconds: float) -> dict[str, Any]:
    settings = Settings(database_url=url, pool_size=1, pool_max_overflow=0)
    app = create_app(settings)
    rng = random.Random(12)
    headers = {"Authorization": f"Bearer {brand.token}"}
    now = datetime.now(UTC)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            def stock(as_of: bool) -> Callable[[int], Awaitable[httpx.Response]]:
                def call(_: int) -> Awaitable[httpx.Response]:
                    path = f"/inventory/products/{data.product_id(rng.randint(1, products))}/stock"
                    params = {}
                    if as_of:
                        instant = now - timedelta(seconds=rng.randint(0, 60 * 86_400))
                        params["as_of"] = instant.isoformat()
                    return client.get(path, params=params, headers=headers)

                return call

            def adjust(backdated: bool) -> Callable[[int], Awaitable[httpx.Response]]:
                def call(n: int) -> Awaitable[httpx.Response]:
                    body: dict[str, Any] = {
                        "product_id": data.product_id(rng.randint(1, products)),
                        "quantity": 1 if n % 2 == 0 else -1,
                    }
                    if backdated:
                        moment = datetime.now(UTC) - timedelta(days=3)
                        body["occurred_at"] = moment.isoformat()
                    return client.post("/inventory/adjustments", json=body, headers=headers)

                return call

            results: dict[str, Any] = {}
            await timed(min(1.0, seconds), stock(True))  # warm up
            for name, call in (
                ("product_stock", stock(False)),
                ("product_stock_as_of", stock(True)),
                ("adjustment", adjust(False)),
                ("adjustment_backdated", adjust(True)),
            ):
                results[name] = percentiles(await timed(seconds, call))
            return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=data.MOVEMENTS)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    products = max(1, args.movements // (data.SITES * data.MOVEMENTS_PER_LEVEL))
    url = make_url(ADMIN_URL).set(database=DATABASE).render_as_string(hide_password=False)
    asyncio.run(
        _admin(
            f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', f'CREATE DATABASE "{DATABASE}"'
        )
    )
    try:
        stockroom(["migrate"], url)
        brand = data.Brand.from_demo(json.loads(stockroom(["demo", "--json"], url)))
        started = time.perf_counter()
        asyncio.run(_load(url, brand, products))
        loaded = time.perf_counter() - started
        results = asyncio.run(measure(url, brand, products, args.seconds))
        movements = products * data.SITES * data.MOVEMENTS_PER_LEVEL
        print(
            json.dumps(
                {"movements": movements, "load_seconds": round(loaded, 1), **results}, indent=2
            )
        )
    finally:
        if not args.keep:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
