"""POST /inventory/adjustments through HTTP, on both backends."""

from __future__ import annotations

import httpx

from tests.factories import Database, create_brand_with_admin, create_product, put_stock


async def stock_of(client: httpx.AsyncClient, headers: dict[str, str], product_id: object) -> int:
    response = await client.get(f"/inventory/products/{product_id}/stock", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def test_single_adjustment_returns_the_movement_with_its_reason(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "quantity": 7,
            "reason_code": "correction",
            "reason_description": "found behind the counter",
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == "adjustment"
    assert body["quantity"] == 7
    assert body["product_id"] == str(product)
    assert body["site_id"] == str(brand.site_id)
    assert body["reason_code"] == "correction"
    assert body["user_id"] == str(brand.admin.user_id)
    assert body["created_at"].endswith("Z")


async def test_negative_adjustment_below_zero_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": -6},
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"][0]["on_hand"] == 5
    listed = await client.get("/inventory/adjustments", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 1  # only the setup adjustment
