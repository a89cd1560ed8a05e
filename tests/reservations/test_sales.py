"""Invoices consume reservations; sales and transfers out without them respect `available`."""

from __future__ import annotations

import httpx

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
    sell,
)


async def test_a_sale_without_the_reservation_may_take_only_available_units(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    assert (await reserve(client, brand, [line(product, 7)])).status_code == 201

    too_many = await sell(client, brand, product, 4)
    fits = await sell(client, brand, product, 3)

    assert error_code(too_many) == "insufficient_available"
    [detail] = too_many.json()["error"]["details"]
    assert (detail["field"], detail["available"], detail["requested"]) == (
        "lines[0].quantity",
        3,
        4,
    )
    assert fits.status_code == 201, fits.text
    assert await level(client, brand, product) == {
        "on_hand": 7,
        "reserved": 7,
        "available": 0,
        "in_transit": 0,
    }
    await assert_ledger_sound(db)


async def test_a_sale_beyond_on_hand_is_still_insufficient_stock(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 2)

    response = await sell(client, brand, product, 3)

    assert error_code(response) == "insufficient_stock"


async def test_selling_fewer_than_reserved_leaves_the_rest_reserved(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    reservation = (await reserve(client, brand, [line(product, 6)])).json()

    sale = await sell(client, brand, product, 4, reservation_id=reservation["id"])

    assert sale.status_code == 201, sale.text
    assert sale.json()["reservation_id"] == reservation["id"]
    after = (
        await client.get(
            f"/inventory/reservations/{reservation['id']}", headers=brand.admin.headers
        )
    ).json()
    assert after["status"] == "active"
    assert after["lines"][0]["remaining"] == 2
    assert await level(client, brand, product) == {
        "on_hand": 6,
        "reserved": 2,
        "available": 4,
        "in_transit": 0,
    }

    rest = await sell(client, brand, product, 2, reservation_id=reservation["id"])

    assert rest.status_code == 201, rest.text
    final = (
        await client.get(
            f"/inventory/reservations/{reservation['id']}", headers=brand.admin.headers
        )
    ).json()
    assert final["status"] == "consumed"
    assert final["lines"][0]["remaining"] == 0
    assert (await level(client, brand, product))["reserved"] == 0
    again = await sell(client, brand, product, 1, reservation_id=reservation["id"])
    assert error_code(again) == "reservation_closed"
    await assert_ledger_sound(db)


async def test_selling_reserved_units_needs_only_on_hand(
    client: httpx.AsyncClient, db: Database
) -> None:
    """Stock lost after it was promised: available is negative, the holder can still buy."""
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    reservation = (await reserve(client, brand, [line(product, 8)])).json()
    await put_stock(brand, product, -5)  # on hand 5, reserved 8, available −3

    stranger = await sell(client, brand, product, 1)
    holder = await sell(client, brand, product, 5, reservation_id=reservation["id"])
    beyond_on_hand = await sell(client, brand, product, 1, reservation_id=reservation["id"])

    assert error_code(stranger) == "insufficient_available"
    assert holder.status_code == 201, holder.text
    assert error_code(beyond_on_hand) == "insufficient_stock"
    assert await level(client, brand, product) == {
        "on_hand": 0,
        "reserved": 3,
        "available": -3,
        "in_transit": 0,
    }
    await assert_ledger_sound(db)


async def test_a_sale_of_more_than_reserved_takes_the_rest_from_available(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    mine = (await reserve(client, brand, [line(product, 3)])).json()
    assert (await reserve(client, brand, [line(product, 5)])).status_code == 201  # someone else

    too_many = await sell(client, brand, product, 6, reservation_id=mine["id"])
    fits = await sell(client, brand, product, 5, reservation_id=mine["id"])

    assert error_code(too_many) == "insufficient_available"
    assert too_many.json()["error"]["details"][0]["requested"] == 3
    assert fits.status_code == 201, fits.text
    assert await level(client, brand, product) == {
        "on_hand": 5,
        "reserved": 5,
        "available": 0,
        "in_transit": 0,
    }


async def test_a_reservation_is_consumed_only_by_lines_of_its_product_and_location(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shelf = await create_location(brand, brand.site_id, name="Shelf")
    bay = await create_location(brand, brand.site_id, name="Bay")
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 5, location_id=shelf)
    await put_stock(brand, product, 5, location_id=bay)
    reservation = (await reserve(client, brand, [line(product, 5, location_id=shelf)])).json()

    from_bay = await client.post(
        "/invoices",
        headers=brand.admin.headers,
        json={
            "reservation_id": reservation["id"],
            "lines": [
                {"product_id": str(product), "quantity": 2, "unit_price": "1", "location_id": bay}
            ],
        },
    )

    assert from_bay.status_code == 201, from_bay.text
    held = await client.get(
        f"/inventory/reservations/{reservation['id']}", headers=brand.admin.headers
    )
    assert held.json()["lines"][0]["remaining"] == 5


async def test_an_unknown_foreign_or_other_site_reservation_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, other = await create_brand_with_admin(db), await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    theirs = await create_product(other)
    await put_stock(brand, product, 10)
    await put_stock(brand, product, 10, site_id=warehouse)
    await put_stock(other, theirs, 10)
    foreign = (await reserve(client, other, [line(theirs, 1)])).json()["id"]
    elsewhere = (await reserve(client, brand, [line(product, 1)], site_id=str(warehouse))).json()[
        "id"
    ]

    for reservation_id in (foreign, elsewhere, "00000000-0000-4000-8000-000000000000"):
        response = await sell(client, brand, product, 1, reservation_id=reservation_id)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == "reservation_id"
    not_an_id = await sell(client, brand, product, 1, reservation_id="nope")
    assert error_code(not_an_id) == "validation_error"
    assert (await level(client, other, theirs))["reserved"] == 1
    assert (await level(client, brand, product))["on_hand"] == 10


async def test_a_transfer_out_respects_available_and_receiving_does_not_care(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    assert (await reserve(client, brand, [line(product, 8)])).status_code == 201

    def transfer(quantity: int) -> dict[str, object]:
        return {
            "product_id": str(product),
            "destination_site_id": str(warehouse),
            "quantity": quantity,
        }

    too_many = await client.post(
        "/inventory/transfers", headers=brand.admin.headers, json=transfer(3)
    )
    fits = await client.post("/inventory/transfers", headers=brand.admin.headers, json=transfer(2))

    assert error_code(too_many) == "insufficient_available"
    assert fits.status_code == 201, fits.text
    assert (await level(client, brand, product))["available"] == 0
    assert (await level(client, brand, product, warehouse))["available"] == 2
    await assert_ledger_sound(db)


async def test_voiding_a_sale_from_a_reservation_returns_stock_not_the_hold(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    reservation = (await reserve(client, brand, [line(product, 4)])).json()
    sale = (await sell(client, brand, product, 4, reservation_id=reservation["id"])).json()

    void = await client.post(f"/invoices/{sale['id']}/void", headers=brand.admin.headers)

    assert void.status_code == 200, void.text
    assert await level(client, brand, product) == {
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
        "in_transit": 0,
    }
    await assert_ledger_sound(db)
