"""Many writers on one product at once: no lost update, never below zero, ledger == levels.

Every request here runs on its own database connection (the app's pool holds more
connections than there are concurrent requests), so the database really sees them race.
"""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
from sqlalchemy import func, select

from stockroom.db.models import StockLevel, StockMovement
from stockroom.errors import InsufficientStock
from stockroom.ledger import MovementDraft, post_movements
from stockroom.ledger.verify import verify_ledger
from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock

WRITERS = 32


async def level_and_ledger(db: Database, brand: Brand, product: uuid.UUID) -> tuple[int, int]:
    async with db.sessionmaker() as session:
        level = (
            await session.execute(
                select(func.sum(StockLevel.on_hand)).where(
                    StockLevel.brand_id == brand.id, StockLevel.product_id == product
                )
            )
        ).scalar()
        ledger = (
            await session.execute(
                select(func.sum(StockMovement.quantity)).where(
                    StockMovement.brand_id == brand.id, StockMovement.product_id == product
                )
            )
        ).scalar()
    return int(level or 0), int(ledger or 0)


async def test_concurrent_increments_through_the_api_lose_no_update(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    async def add_one() -> int:
        response = await client.post(
            "/inventory/adjustments",
            headers=brand.admin.headers,
            json={"product_id": str(product), "quantity": 1, "reason_code": "count"},
        )
        return response.status_code

    statuses = await asyncio.gather(*(add_one() for _ in range(WRITERS * 2)))

    assert statuses == [201] * (WRITERS * 2)
    assert await level_and_ledger(db, brand, product) == (WRITERS * 2, WRITERS * 2)


async def test_concurrent_drain_sells_exactly_the_stock_and_never_goes_negative(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    stock, take = 50, 3
    await put_stock(brand, product, stock)

    async def take_some() -> httpx.Response:
        return await client.post(
            "/inventory/adjustments",
            headers=brand.admin.headers,
            json={"product_id": str(product), "quantity": -take, "reason_code": "waste"},
        )

    responses = await asyncio.gather(*(take_some() for _ in range(WRITERS)))

    succeeded = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(succeeded) == stock // take
    assert {r.json()["error"]["code"] for r in refused} == {"insufficient_stock"}
    assert await level_and_ledger(db, brand, product) == (stock % take, stock % take)


async def test_random_writers_on_separate_connections_keep_levels_equal_to_the_ledger(
    db: Database,
) -> None:
    brand = await create_brand_with_admin(db)
    products = [await create_product(brand) for _ in range(3)]
    for product in products:
        await put_stock(brand, product, 20)
    rng = random.Random(7)

    async def writer(seed: int) -> int:
        """A few transactions of 1-3 lines on the hot products; returns how many committed."""
        local = random.Random(seed)
        committed = 0
        for _ in range(5):
            lines = [
                MovementDraft(
                    type="adjustment",
                    product_id=local.choice(products),
                    site_id=brand.site_id,
                    quantity=local.choice([-4, -2, -1, 1, 3]),
                )
                for _ in range(local.randint(1, 3))
            ]
            try:
                async with db.transaction() as session:
                    await post_movements(session, brand.id, lines, user_id=None)
                committed += 1
            except InsufficientStock:
                pass
        return committed

    committed = await asyncio.gather(*(writer(rng.randint(0, 10**6)) for _ in range(24)))

    assert sum(committed) > 0
    for product in products:
        level, ledger = await level_and_ledger(db, brand, product)
        assert level == ledger
        assert level >= 0
    async with db.engine.connect() as conn:
        report = await verify_ledger(conn)
    assert report.ok, [c for c in report.checks if not c.ok]
