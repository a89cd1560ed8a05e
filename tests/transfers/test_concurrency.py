"""Transfers fired at once: no deadlock, no 5xx, no unit created or lost."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_product,
    create_site,
    put_stock,
)


async def post_transfer(
    client: httpx.AsyncClient,
    brand: Brand,
    product_id: uuid.UUID,
    source: uuid.UUID,
    destination: uuid.UUID,
    quantity: int,
) -> httpx.Response:
    return await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product_id),
            "site_id": str(source),
            "destination_site_id": str(destination),
            "quantity": quantity,
        },
    )


async def on_hand_by_site(
    client: httpx.AsyncClient, brand: Brand, product_id: uuid.UUID
) -> dict[str, int]:
    response = await client.get(
        f"/inventory/products/{product_id}/stock", headers=brand.admin.headers
    )
    assert response.status_code == 200, response.text
    return {s["site_id"]: s["on_hand"] for s in response.json()["sites"]}


async def test_opposing_transfers_at_once_all_succeed_and_conserve_the_total(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    site_a, site_b = brand.site_id, await create_site(brand, name="B")
    products = [await create_product(brand) for _ in range(2)]
    for product in products:
        await put_stock(brand, product, 100, site_id=site_a)
        await put_stock(brand, product, 100, site_id=site_b)

    responses = await asyncio.gather(
        *(
            post_transfer(client, brand, product, source, destination, 3)
            for _ in range(10)
            for product in products
            for source, destination in ((site_a, site_b), (site_b, site_a))
        )
    )

    assert sorted({r.status_code for r in responses}) == [201], [
        r.text for r in responses if r.status_code != 201
    ]
    assert len({r.json()["transfer_id"] for r in responses}) == 40
    for product in products:
        # 10 of each direction of 3 units each: every site ends where it started.
        assert await on_hand_by_site(client, brand, product) == {
            str(site_a): 100,
            str(site_b): 100,
        }
    listed = await client.get(
        "/inventory/transfers", headers=brand.admin.headers, params={"site_id": str(site_b)}
    )
    assert listed.json()["meta"]["total"] == 40


async def test_transfers_racing_for_too_little_stock_never_overdraw_the_source(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    site_a, site_b = brand.site_id, await create_site(brand, name="B")
    product = await create_product(brand)
    await put_stock(brand, product, 20, site_id=site_a)

    responses = await asyncio.gather(
        *(post_transfer(client, brand, product, site_a, site_b, 3) for _ in range(10))
    )

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 6
    assert codes.count(422) == 4
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 422} == {
        "insufficient_stock"
    }
    assert await on_hand_by_site(client, brand, product) == {str(site_a): 2, str(site_b): 18}
