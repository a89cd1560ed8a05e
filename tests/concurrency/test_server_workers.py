"""Races against a real server with two worker processes (two pools, two event loops)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from stockroom.ledger.verify import verify_ledger
from tests.concurrency.test_hammer import level_and_ledger
from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.server import Server, running_server


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    with running_server(database_url, workers=2) as running:
        yield running


def http(server: Server) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    return httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60)


async def test_clients_draining_a_product_through_two_workers_succeed_exactly_stock_over_take(
    server: Server, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    stock, take, clients = 100, 7, 40
    await put_stock(brand, product, stock)

    async with http(server) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/inventory/adjustments",
                    headers=brand.admin.headers,
                    json={"product_id": str(product), "quantity": -take},
                )
                for _ in range(clients)
            )
        )

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == stock // take
    assert set(statuses) == {201, 422}
    assert await level_and_ledger(db, brand, product) == (stock % take, stock % take)


async def test_mixed_racing_writes_through_two_workers_keep_levels_equal_to_the_ledger(
    server: Server, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    products = [await create_product(brand) for _ in range(3)]
    for product in products:
        await put_stock(brand, product, 30)

    async def one(i: int, client: httpx.AsyncClient) -> int:
        product = products[i % len(products)]
        if i % 3 == 0:
            body: dict[str, object] = {
                "products": [
                    {"product_id": str(product), "quantity": -2},
                    {"product_id": str(products[(i + 1) % 3]), "quantity": 1},
                ],
                "reason": "recount",
            }
        else:
            body = {"product_id": str(product), "quantity": -1 if i % 2 else 2}
        response = await client.post(
            "/inventory/adjustments", headers=brand.admin.headers, json=body
        )
        return response.status_code

    async with http(server) as client:
        statuses = await asyncio.gather(*(one(i, client) for i in range(150)))

    assert set(statuses) <= {201, 422}
    assert statuses.count(201) > 0
    for product in products:
        level, ledger = await level_and_ledger(db, brand, product)
        assert level == ledger >= 0
    async with db.engine.connect() as conn:
        assert (await verify_ledger(conn)).ok


async def test_one_idempotency_key_sent_to_both_workers_at_once_writes_once(
    server: Server, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    key = str(uuid.uuid4())

    async with http(server) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/inventory/adjustments",
                    headers={**brand.admin.headers, "Idempotency-Key": key},
                    json={"product_id": str(product), "quantity": 5},
                )
                for _ in range(24)
            )
        )
        # Once the first has finished, every retry replays it.
        replay = await client.post(
            "/inventory/adjustments",
            headers={**brand.admin.headers, "Idempotency-Key": key},
            json={"product_id": str(product), "quantity": 5},
        )

    assert {r.status_code for r in responses} <= {201, 409}
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert await level_and_ledger(db, brand, product) == (5, 5)
