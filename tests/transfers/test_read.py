"""GET /inventory/transfers and /inventory/transfers/{movement_id}, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
    put_stock,
)
from tests.transfers.transit import warehouse_with_stock


async def transfer(
    client: httpx.AsyncClient,
    brand: Brand,
    product_id: uuid.UUID,
    source: uuid.UUID,
    destination: uuid.UUID,
    quantity: int,
) -> dict[str, Any]:
    response = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product_id),
            "site_id": str(source),
            "destination_site_id": str(destination),
            "quantity": quantity,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def list_transfers(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return await client.get("/inventory/transfers", headers=headers, params=params)


async def test_a_site_lists_the_halves_written_there_newest_first(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    await put_stock(brand, product, 10, site_id=warehouse)
    first = await transfer(client, brand, product, brand.site_id, warehouse, 2)
    second = await transfer(client, brand, product, warehouse, brand.site_id, 5)

    shop_list = await list_transfers(client, brand.admin.headers)
    warehouse_list = await list_transfers(client, brand.admin.headers, site_id=str(warehouse))

    assert shop_list.status_code == 200, shop_list.text
    assert [m["id"] for m in shop_list.json()["data"]] == [
        second["transfer_in"]["id"],
        first["transfer_out"]["id"],
    ]
    assert shop_list.json()["meta"] == {"page": 1, "per_page": 25, "total": 2, "total_pages": 1}
    assert [m["id"] for m in warehouse_list.json()["data"]] == [
        second["transfer_out"]["id"],
        first["transfer_in"]["id"],
    ]


async def test_other_movements_are_not_listed_as_transfers(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)

    response = await list_transfers(client, brand.admin.headers)

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["total"] == 0


async def test_transfers_filter_by_type_and_product(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    tea = await create_product(brand)
    coffee = await create_product(brand)
    for product in (tea, coffee):
        await put_stock(brand, product, 10)
        await put_stock(brand, product, 10, site_id=warehouse)
    sent_tea = await transfer(client, brand, tea, brand.site_id, warehouse, 1)
    received_tea = await transfer(client, brand, tea, warehouse, brand.site_id, 2)
    await transfer(client, brand, coffee, brand.site_id, warehouse, 3)

    outgoing_tea = await list_transfers(
        client, brand.admin.headers, type="transfer_out", product_id=str(tea)
    )
    incoming = await list_transfers(client, brand.admin.headers, type="transfer_in")

    assert [m["id"] for m in outgoing_tea.json()["data"]] == [sent_tea["transfer_out"]["id"]]
    assert [m["id"] for m in incoming.json()["data"]] == [received_tea["transfer_in"]["id"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("quantity", [-7, -3, 1, 5]),
        ("-quantity", [5, 1, -3, -7]),
        ("created_at", [-3, 5, -7, 1]),
        ("-created_at", [1, -7, 5, -3]),
    ],
)
async def test_transfers_sort_by_signed_quantity_or_creation_time(
    client: httpx.AsyncClient, db: Database, sort: str, expected: list[int]
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db, 100)
    await put_stock(brand, product, 100, site_id=warehouse)
    await transfer(client, brand, product, brand.site_id, warehouse, 3)
    await transfer(client, brand, product, warehouse, brand.site_id, 5)
    await transfer(client, brand, product, brand.site_id, warehouse, 7)
    await transfer(client, brand, product, warehouse, brand.site_id, 1)

    response = await list_transfers(client, brand.admin.headers, sort=sort)

    assert response.status_code == 200, response.text
    assert [m["quantity"] for m in response.json()["data"]] == expected


async def test_transfers_are_paginated(client: httpx.AsyncClient, db: Database) -> None:
    brand, warehouse, product = await warehouse_with_stock(db, 100)
    for quantity in range(1, 6):
        await transfer(client, brand, product, brand.site_id, warehouse, quantity)

    page_two = await list_transfers(
        client, brand.admin.headers, page=2, per_page=2, sort="quantity"
    )

    assert [m["quantity"] for m in page_two.json()["data"]] == [-3, -2]
    assert page_two.json()["meta"] == {"page": 2, "per_page": 2, "total": 5, "total_pages": 3}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "adjustment"}, "type"),
        ({"sort": "name"}, "sort"),
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
        ({"product_id": "not-a-uuid"}, "product_id"),
    ],
)
async def test_bad_list_parameters_are_rejected(
    client: httpx.AsyncClient, db: Database, params: dict[str, Any], field: str
) -> None:
    brand = await create_brand_with_admin(db)

    response = await list_transfers(client, brand.admin.headers, **params)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


async def test_listing_by_a_product_of_another_brand_is_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    foreign_product = await create_product(other)

    response = await list_transfers(client, brand.admin.headers, product_id=str(foreign_product))

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["product_id"]


async def test_listing_a_site_the_caller_may_not_read_is_forbidden(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])

    forbidden = await list_transfers(client, viewer.headers, site_id=str(warehouse))
    allowed = await list_transfers(client, viewer.headers, site_id=str(brand.site_id))

    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    assert allowed.status_code == 200


async def test_listing_a_site_of_another_brand_is_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")

    response = await list_transfers(client, brand.admin.headers, site_id=str(other.site_id))

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["site_id"]


async def test_either_half_can_be_fetched_by_its_id(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    created = await transfer(client, brand, product, brand.site_id, warehouse, 4)

    for half in ("transfer_out", "transfer_in"):
        response = await client.get(
            f"/inventory/transfers/{created[half]['id']}", headers=brand.admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json() == created[half] | {"status": "completed"}


async def test_a_half_at_a_site_the_caller_may_not_read_is_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    created = await transfer(client, brand, product, brand.site_id, warehouse, 4)
    shop_viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])

    sent = await client.get(
        f"/inventory/transfers/{created['transfer_out']['id']}", headers=shop_viewer.headers
    )
    received = await client.get(
        f"/inventory/transfers/{created['transfer_in']['id']}", headers=shop_viewer.headers
    )

    assert sent.status_code == 200
    assert received.status_code == 404
    assert received.json()["error"]["code"] == "not_found"


async def test_a_movement_that_is_not_a_transfer_is_not_found_here(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    adjustment = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 3},
    )
    assert adjustment.status_code == 201, adjustment.text

    response = await client.get(
        f"/inventory/transfers/{adjustment.json()['id']}", headers=brand.admin.headers
    )

    assert response.status_code == 404


@pytest.mark.parametrize("movement_id", ["5b0d8a5e-6f44-4c1e-9d3a-0c2b7e1f9a12", "not-a-uuid"])
async def test_an_unknown_transfer_id_is_not_found(
    client: httpx.AsyncClient, db: Database, movement_id: str
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(f"/inventory/transfers/{movement_id}", headers=brand.admin.headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_another_brand_sees_nothing_of_our_transfers(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    created = await transfer(client, brand, product, brand.site_id, warehouse, 4)
    other = await create_brand_with_admin(db, name="Other brand")

    fetched = await client.get(
        f"/inventory/transfers/{created['transfer_out']['id']}", headers=other.admin.headers
    )
    listed = await list_transfers(client, other.admin.headers)

    assert fetched.status_code == 404
    assert listed.status_code == 200
    assert listed.json()["meta"]["total"] == 0
