"""POST /inventory/transfers through HTTP, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.transfers.transit import warehouse_with_stock


async def site_stock(
    client: httpx.AsyncClient, headers: dict[str, str], product_id: uuid.UUID
) -> dict[str, dict[str, Any]]:
    """The product's stock per site id, as GET /inventory/products/{id}/stock shows it."""
    response = await client.get(f"/inventory/products/{product_id}/stock", headers=headers)
    assert response.status_code == 200, response.text
    return {s["site_id"]: s for s in response.json()["sites"]}


async def test_transfer_moves_exactly_the_quantity_and_both_halves_share_a_transfer_id(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "destination_site_id": str(warehouse),
            "quantity": 4,
            "reference": "TR-1",
            "notes": "weekly restock",
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    out_half, in_half = body["transfer_out"], body["transfer_in"]
    assert out_half["transfer_id"] == in_half["transfer_id"] == body["transfer_id"]
    assert out_half["id"] != in_half["id"]
    assert (out_half["type"], out_half["site_id"], out_half["quantity"]) == (
        "transfer_out",
        str(brand.site_id),
        -4,
    )
    assert (in_half["type"], in_half["site_id"], in_half["quantity"]) == (
        "transfer_in",
        str(warehouse),
        4,
    )
    for half in (out_half, in_half):
        assert half["source_site_id"] == str(brand.site_id)
        assert half["destination_site_id"] == str(warehouse)
        assert half["reference"] == "TR-1"
        assert half["notes"] == "weekly restock"
        assert half["user_id"] == str(brand.admin.user_id)
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(brand.site_id)]["on_hand"] == 6
    assert stock[str(warehouse)]["on_hand"] == 4


async def test_source_is_the_x_site_id_header_when_the_body_names_none(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 5, site_id=warehouse)

    response = await client.post(
        "/inventory/transfers",
        headers={**brand.admin.headers, "X-Site-Id": str(warehouse)},
        json={"product_id": str(product), "destination_site_id": str(brand.site_id), "quantity": 2},
    )

    assert response.status_code == 201, response.text
    assert response.json()["transfer_out"]["site_id"] == str(warehouse)
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(warehouse)]["on_hand"] == 3
    assert stock[str(brand.site_id)]["on_hand"] == 2


async def test_workspace_aliases_name_the_source_and_the_destination(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shop = await create_site(brand, name="Shop")
    kitchen = await create_site(brand, name="Kitchen")
    product = await create_product(brand)
    await put_stock(brand, product, 5, site_id=shop)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "workspace_id": str(shop),
            "destination_workspace_id": str(kitchen),
            "quantity": 5,
        },
    )

    assert response.status_code == 201, response.text
    assert response.json()["transfer_out"]["site_id"] == str(shop)
    assert response.json()["transfer_in"]["site_id"] == str(kitchen)


async def test_transfer_to_the_same_site_is_rejected_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={"product_id": str(product), "destination_site_id": str(brand.site_id), "quantity": 1},
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["destination_site_id"]
    listed = await client.get("/inventory/transfers", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 0


async def test_transfer_of_more_than_on_hand_is_insufficient_stock_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db, 3)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={"product_id": str(product), "destination_site_id": str(warehouse), "quantity": 4},
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"][0]["field"] == "quantity"
    assert error["details"][0]["on_hand"] == 3
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(brand.site_id)]["on_hand"] == 3
    assert stock[str(warehouse)]["on_hand"] == 0
    listed = await client.get(
        "/inventory/transfers", headers=brand.admin.headers, params={"site_id": str(warehouse)}
    )
    assert listed.json()["meta"]["total"] == 0


async def test_a_site_that_allows_negative_stock_can_send_more_than_it_holds(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    bar = await create_site(brand, name="Bar", allow_negative_stock=True)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "site_id": str(bar),
            "destination_site_id": str(brand.site_id),
            "quantity": 2,
        },
    )

    assert response.status_code == 201, response.text
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(bar)]["on_hand"] == -2
    assert stock[str(brand.site_id)]["on_hand"] == 2


async def test_manager_who_may_write_the_source_but_not_the_destination_can_transfer(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db, 5)
    manager = await create_caller(brand, Role.manager, site_ids=[brand.site_id])

    response = await client.post(
        "/inventory/transfers",
        headers=manager.headers,
        json={
            "product_id": str(product),
            "site_id": str(brand.site_id),
            "destination_site_id": str(warehouse),
            "quantity": 5,
        },
    )

    assert response.status_code == 201, response.text
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(warehouse)]["on_hand"] == 5


async def test_manager_who_may_not_write_the_source_is_forbidden(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db, 5)
    manager = await create_caller(brand, Role.manager, site_ids=[warehouse])

    response = await client.post(
        "/inventory/transfers",
        headers=manager.headers,
        json={
            "product_id": str(product),
            "site_id": str(brand.site_id),
            "destination_site_id": str(warehouse),
            "quantity": 1,
        },
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(brand.site_id)]["on_hand"] == 5


async def test_viewer_cannot_transfer(client: httpx.AsyncClient, db: Database) -> None:
    brand, warehouse, product = await warehouse_with_stock(db, 5)
    viewer = await create_caller(
        brand, Role.viewer, site_ids=[brand.site_id, warehouse], default_site_id=brand.site_id
    )

    response = await client.post(
        "/inventory/transfers",
        headers=viewer.headers,
        json={"product_id": str(product), "destination_site_id": str(warehouse), "quantity": 1},
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_destination_of_another_brand_is_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={"product_id": str(product), "destination_site_id": str(other.site_id), "quantity": 1},
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["destination_site_id"]
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(brand.site_id)]["on_hand"] == 5


async def test_product_of_another_brand_is_rejected_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    other = await create_brand_with_admin(db, name="Other brand")
    foreign_product = await create_product(other)
    await put_stock(other, foreign_product, 5)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(foreign_product),
            "destination_site_id": str(warehouse),
            "quantity": 1,
        },
    )

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["product_id"]
    stock = await site_stock(client, other.admin.headers, foreign_product)
    assert stock[str(other.site_id)]["on_hand"] == 5


async def test_location_aware_product_moves_from_a_location_to_a_location(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shelf = await create_location(brand, brand.site_id, name="Shelf 1")
    bay = await create_location(brand, warehouse, name="Bay 7")
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 8, location_id=shelf)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "destination_site_id": str(warehouse),
            "quantity": 3,
            "source_location_id": shelf,
            "destination_location_id": bay,
        },
    )

    assert response.status_code == 201, response.text
    assert response.json()["transfer_out"]["location_id"] == shelf
    assert response.json()["transfer_in"]["location_id"] == bay
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(brand.site_id)]["locations"] == [
        {"location_id": shelf, "on_hand": 5, "reserved": 0, "available": 5}
    ]
    assert stock[str(warehouse)]["locations"] == [
        {"location_id": bay, "on_hand": 3, "reserved": 0, "available": 3}
    ]


async def test_location_aware_transfer_without_locations_names_both_missing_fields(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shelf = await create_location(brand, brand.site_id)
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 8, location_id=shelf)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={"product_id": str(product), "destination_site_id": str(warehouse), "quantity": 3},
    )

    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"source_location_id", "destination_location_id"}


async def test_each_location_must_belong_to_its_own_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shelf = await create_location(brand, brand.site_id)
    bay = await create_location(brand, warehouse)
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 8, location_id=shelf)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "destination_site_id": str(warehouse),
            "quantity": 3,
            # Swapped: each names a location of the other site.
            "source_location_id": bay,
            "destination_location_id": shelf,
        },
    )

    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"source_location_id", "destination_location_id"}
    stock = await site_stock(client, brand.admin.headers, product)
    assert stock[str(brand.site_id)]["on_hand"] == 8


async def test_locations_for_a_product_that_is_not_location_aware_are_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shelf = await create_location(brand, brand.site_id)
    product = await create_product(brand)
    await put_stock(brand, product, 8)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "destination_site_id": str(warehouse),
            "quantity": 3,
            "source_location_id": shelf,
        },
    )

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["source_location_id"]


@pytest.mark.parametrize("quantity", [0, -1, "3", 2.5, True, None, 1_000_000_001])
async def test_quantity_must_be_a_plain_integer_above_zero(
    client: httpx.AsyncClient, db: Database, quantity: object
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db, 5)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "destination_site_id": str(warehouse),
            "quantity": quantity,
        },
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert [d["field"] for d in response.json()["error"]["details"]] == ["quantity"]


async def test_unknown_fields_and_a_missing_destination_are_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 1, "colour": "red"},
    )

    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"destination_site_id", "colour"}


async def test_transfer_without_a_token_is_unauthenticated(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)

    response = await client.post(
        "/inventory/transfers",
        json={"product_id": str(product), "destination_site_id": str(warehouse), "quantity": 1},
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
