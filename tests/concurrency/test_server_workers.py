"""Races against a real server with two worker processes (two pools, two event loops)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from stockroom.ledger.verify import verify_ledger
from tests.concurrency.test_hammer import level_and_ledger
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_product,
    create_site,
    put_stock,
)
from tests.server import Server, running_server

RACING = 200


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
    """Adjustments (single and batch), transfers both ways and invoices on 3 hot products."""
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand, name="Second shop")
    sites = [brand.site_id, other_site]
    products = [await create_product(brand) for _ in range(3)]
    for product in products:
        for site in sites:
            await put_stock(brand, product, 30, site_id=site)

    def request_for(i: int) -> tuple[str, dict[str, object]]:
        product, site = products[i % 3], sites[i % 2]
        kind = i % 5
        if kind == 0:
            return "/inventory/adjustments", {
                "products": [
                    {"product_id": str(product), "quantity": -2},
                    {"product_id": str(products[(i + 1) % 3]), "quantity": 1},
                ],
                "reason": "recount",
                "site_id": str(site),
            }
        if kind == 1:
            return "/inventory/adjustments", {
                "product_id": str(product),
                "quantity": 2,
                "site_id": str(site),
            }
        if kind in (2, 3):
            return "/inventory/transfers", {
                "product_id": str(product),
                "site_id": str(site),
                "destination_site_id": str(sites[1 - i % 2]),
                "quantity": 3,
            }
        return "/invoices", {
            "site_id": str(site),
            "lines": [
                {"product_id": str(product), "quantity": 2, "unit_price": "1.00"},
                {"product_id": str(products[(i + 2) % 3]), "quantity": 1, "unit_price": "1.00"},
            ],
        }

    async def one(i: int, client: httpx.AsyncClient) -> int:
        path, body = request_for(i)
        response = await client.post(path, headers=brand.admin.headers, json=body)
        return response.status_code

    async with http(server) as client:
        statuses = await asyncio.gather(*(one(i, client) for i in range(RACING)))

    assert set(statuses) <= {201, 422}
    assert statuses.count(201) > RACING // 4
    for product in products:
        level, ledger = await level_and_ledger(db, brand, product)
        assert level == ledger >= 0
    async with db.engine.connect() as conn:
        report = await verify_ledger(conn)
    assert report.ok, [c for c in report.checks if not c.ok]


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
