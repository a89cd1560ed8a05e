"""GET /inventory/products/{id}/stock is written straight from rows (no response model at
run time): its answer is exactly what the documented `ProductStock` model would answer."""

from __future__ import annotations

import httpx

from stockroom.stock.schemas import ProductStock
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)


async def test_the_answer_is_the_documented_model_field_for_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_site(brand, name="Empty warehouse")
    shelf = await create_location(brand, brand.site_id)
    binned = await create_product(brand, location_aware=True)
    await put_stock(brand, binned, 4, location_id=shelf)
    reserved = await client.post(
        "/inventory/reservations",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(binned), "quantity": 3, "location_id": shelf}]},
    )
    assert reserved.status_code == 201, reserved.text

    response = await client.get(f"/inventory/products/{binned}/stock", headers=brand.admin.headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == ProductStock.model_validate(body).model_dump(mode="json")
    assert (body["total"], body["reserved"], body["available"]) == (4, 3, 1)
    [empty] = [s for s in body["sites"] if s["site_name"] == "Empty warehouse"]
    assert empty == {
        "site_id": empty["site_id"],
        "site_name": "Empty warehouse",
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "in_transit": 0,
        "locations": [],
    }
    [stocked] = [s for s in body["sites"] if s["locations"]]
    assert stocked["locations"] == [
        {"location_id": shelf, "on_hand": 4, "reserved": 3, "available": 1}
    ]
