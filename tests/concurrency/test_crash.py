"""SIGKILL the server in the middle of a write load: every acknowledged write survives.

Each round starts a two-worker server, fires single and batch adjustments at it, kills
the whole process group without warning, then checks against the database: every write
the client saw acknowledged (201) is in the ledger; every batch is all there or not at all;
the ledger verifies. Three rounds.
"""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
from sqlalchemy import func, select

from stockroom.db.models import StockMovement
from stockroom.ledger.verify import verify_ledger
from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.server import start_server

ROUNDS = 3
BATCH_LINES = 4


async def test_acknowledged_writes_survive_a_sigkill_and_no_batch_is_half_written(
    database_url: str, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    products = [await create_product(brand) for _ in range(BATCH_LINES)]
    for product in products:
        await put_stock(brand, product, 1_000_000)
    acknowledged: set[str] = set()
    batches_sent: list[str] = []
    rng = random.Random(11)

    for _ in range(ROUNDS):
        server = start_server(database_url, workers=2)
        stop = asyncio.Event()

        async def writer(
            client: httpx.AsyncClient, server_url: str = server.base_url, stop: asyncio.Event = stop
        ) -> None:
            while not stop.is_set():
                reference = uuid.uuid4().hex
                if rng.random() < 0.5:
                    body: dict[str, object] = {
                        "products": [
                            {"product_id": str(p), "quantity": rng.choice([-3, 2])}
                            for p in products
                        ],
                        "reason": "recount",
                        "reference": reference,
                    }
                    batches_sent.append(reference)
                else:
                    body = {"product_id": str(rng.choice(products)), "quantity": 1}
                try:
                    response = await client.post(
                        f"{server_url}/inventory/adjustments",
                        headers=brand.admin.headers,
                        json=body,
                    )
                except httpx.HTTPError:
                    continue  # the server died under this request: not acknowledged
                if response.status_code == 201:
                    data = response.json()
                    for movement in data.get("data", [data]):
                        acknowledged.add(movement["id"])

        async with httpx.AsyncClient(timeout=10) as client:
            tasks = [asyncio.create_task(writer(client)) for _ in range(16)]
            await asyncio.sleep(1.5 + rng.random())
            server.kill()
            stop.set()
            await asyncio.gather(*tasks)

    assert len(acknowledged) > 50, "the load never got going"
    async with db.sessionmaker() as session:
        stored = set(
            str(i)
            for i in (
                await session.execute(
                    select(StockMovement.id).where(StockMovement.brand_id == brand.id)
                )
            ).scalars()
        )
        per_batch = dict(
            (
                await session.execute(
                    select(StockMovement.reference, func.count())
                    .where(
                        StockMovement.brand_id == brand.id,
                        StockMovement.reference.in_(batches_sent),
                    )
                    .group_by(StockMovement.reference)
                )
            ).all()
        )
    assert acknowledged <= stored
    assert set(per_batch.values()) <= {BATCH_LINES}
    async with db.engine.connect() as conn:
        report = await verify_ledger(conn)
    assert report.ok, [c for c in report.checks if not c.ok]
