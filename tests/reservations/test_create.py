"""Creating reservations: all lines or none, against `available`, with the contract's errors."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import (
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.reservations.helpers import (
    assert_ledger_sound,
    error_code,
    level,
    line,
    reserve,
)


async def test_a_reservation_holds_units_and_every_read_shows_them(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, min_stock=4)
    await put_stock(brand, product, 10)

    response = await reserve(client, brand, [line(product, 7)], reference="SO-1", notes="gift")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active"
    assert body["site_id"] == str(brand.site_id)
    assert body["lines"] == [
        {"product_id": str(product), "location_id": None, "quantity": 7, "remaining": 7}
    ]
    assert body["reference"] == "SO-1" and body["notes"] == "gift"
    assert body["user_id"] == str(brand.admin.user_id)
    assert await level(client, brand, product) == {
        "on_hand": 10,
        "reserved": 7,
        "available": 3,
        "in_transit": 0,
    }
    listing = await client.get(
        "/inventory/stock", headers=brand.admin.headers, params={"product_id": str(product)}
    )
    [item] = listing.json()["data"]
    assert (item["on_hand"], item["reserved"], item["available"], item["in_transit"]) == (
        10,
        7,
        3,
        0,
    )
    # Low stock compares available (3) with min_stock (4), not on hand (10).
    low = await client.get("/inventory/low-stock", headers=brand.admin.headers)
    [alert] = [i for i in low.json()["data"] if i["product_id"] == str(product)]
    assert (alert["on_hand"], alert["available"], alert["shortfall"], alert["compared"]) == (
        10,
        3,
        1,
        "available",
    )
    await assert_ledger_sound(db)


async def test_a_line_beyond_available_rejects_every_line_and_names_each_short_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    enough, short, shorter = [await create_product(brand) for _ in range(3)]
    for product, quantity in ((enough, 10), (short, 2), (shorter, 1)):
        await put_stock(brand, product, quantity)

    response = await reserve(client, brand, [line(enough, 5), line(short, 3), line(shorter, 4)])

    assert response.status_code == 422, response.text
    assert error_code(response) == "insufficient_available"
    details = {d["field"]: d for d in response.json()["error"]["details"]}
    assert set(details) == {"lines[1].quantity", "lines[2].quantity"}
    assert (
        details["lines[1].quantity"]["available"],
        details["lines[1].quantity"]["requested"],
    ) == (2, 3)
    assert (
        details["lines[2].quantity"]["available"],
        details["lines[2].quantity"]["requested"],
    ) == (1, 4)
    for product, on_hand in ((enough, 10), (short, 2), (shorter, 1)):
        assert await level(client, brand, product) == {
            "on_hand": on_hand,
            "reserved": 0,
            "available": on_hand,
            "in_transit": 0,
        }
    listed = await client.get("/inventory/reservations", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 0


async def test_units_promised_to_one_order_are_not_promised_to_another(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    assert (await reserve(client, brand, [line(product, 4)])).status_code == 201

    second = await reserve(client, brand, [line(product, 2)])

    assert error_code(second) == "insufficient_available"
    assert second.json()["error"]["details"][0]["available"] == 1
    assert (await reserve(client, brand, [line(product, 1)])).status_code == 201


async def test_two_lines_on_one_level_are_checked_together(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    response = await reserve(client, brand, [line(product, 3), line(product, 3)])

    assert error_code(response) == "insufficient_available"
    assert response.json()["error"]["details"][0]["requested"] == 6


async def test_location_aware_products_are_reserved_at_a_location(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shelf = await create_location(brand, brand.site_id, name="Shelf")
    bay = await create_location(brand, brand.site_id, name="Bay")
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 3, location_id=shelf)
    await put_stock(brand, product, 9, location_id=bay)

    missing = await reserve(client, brand, [line(product, 1)])
    beyond_shelf = await reserve(client, brand, [line(product, 4, location_id=shelf)])
    at_bay = await reserve(client, brand, [line(product, 4, location_id=bay)])

    assert error_code(missing) == "validation_error"
    assert error_code(beyond_shelf) == "insufficient_available"
    assert at_bay.status_code == 201, at_bay.text
    assert at_bay.json()["lines"][0]["location_id"] == bay
    stock = await client.get(f"/inventory/products/{product}/stock", headers=brand.admin.headers)
    [site] = stock.json()["sites"]
    assert (site["on_hand"], site["reserved"], site["available"]) == (12, 4, 8)
    by_location = {loc["location_id"]: loc for loc in site["locations"]}
    assert (by_location[bay]["reserved"], by_location[bay]["available"]) == (4, 5)
    assert (by_location[shelf]["reserved"], by_location[shelf]["available"]) == (0, 3)


async def test_adjustments_need_only_on_hand_and_available_may_go_negative(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    assert (await reserve(client, brand, [line(product, 8)])).status_code == 201

    loss = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": -5, "reason_code": "damaged"},
    )

    assert loss.status_code == 201, loss.text
    assert await level(client, brand, product) == {
        "on_hand": 5,
        "reserved": 8,
        "available": -3,
        "in_transit": 0,
    }
    await assert_ledger_sound(db)


async def test_a_reservation_at_another_site_does_not_touch_this_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    await put_stock(brand, product, 5, site_id=warehouse)

    response = await reserve(client, brand, [line(product, 5)], site_id=str(warehouse))

    assert response.status_code == 201, response.text
    assert (await level(client, brand, product))["available"] == 5
    assert (await level(client, brand, product, warehouse))["available"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"quantity": 0}]}, "lines[0].quantity"),
        ({"lines": [{"quantity": -2}]}, "lines[0].quantity"),
        ({"lines": [{"quantity": "3"}]}, "lines[0].quantity"),
        ({"lines": [{"quantity": 1}], "ttl_seconds": 59}, "ttl_seconds"),
        ({"lines": [{"quantity": 1}], "ttl_seconds": 30 * 24 * 3600 + 1}, "ttl_seconds"),
        ({"lines": [{"quantity": 1}], "ttl_seconds": 0}, "ttl_seconds"),
        ({"lines": [{"quantity": 1}], "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"lines": [{"quantity": 1}], "expires_at": "2999-01-01T00:00:00Z"}, "expires_at"),
        ({"lines": [{"quantity": 1}], "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"lines": []}, "lines"),
        ({"lines": [{"quantity": 1}], "ttl_seconds": 600, "expires_at": "x"}, "expires_at"),
    ],
)
async def test_bad_input_gets_the_error_shape_and_reserves_nothing(
    client: httpx.AsyncClient, db: Database, body: dict[str, object], field: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    for item in body["lines"]:  # type: ignore[attr-defined]
        item["product_id"] = str(product)

    response = await client.post("/inventory/reservations", headers=brand.admin.headers, json=body)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in {d["field"] for d in error["details"]}, error
    assert (await level(client, brand, product))["reserved"] == 0


async def test_expires_at_and_ttl_both_given_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    response = await reserve(
        client,
        brand,
        [line(product, 1)],
        ttl_seconds=600,
        expires_at="2099-01-01T00:00:00Z",
    )

    assert error_code(response) == "validation_error"


async def test_a_product_of_another_brand_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, other = await create_brand_with_admin(db), await create_brand_with_admin(db)
    theirs = await create_product(other)
    await put_stock(other, theirs, 5)

    response = await reserve(client, brand, [line(theirs, 1)])

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "lines[0].product_id"
    assert (await level(client, other, theirs))["reserved"] == 0


async def test_ttl_sets_expiry_and_the_default_is_fifteen_minutes(
    client: httpx.AsyncClient, db: Database, frozen_clock: object
) -> None:
    from datetime import datetime

    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    default = await reserve(client, brand, [line(product, 1)])
    hour = await reserve(client, brand, [line(product, 1)], ttl_seconds=3600)

    created = datetime.fromisoformat(default.json()["created_at"])
    assert (datetime.fromisoformat(default.json()["expires_at"]) - created).total_seconds() == 900
    assert (datetime.fromisoformat(hour.json()["expires_at"]) - created).total_seconds() == 3600
