"""GET /inventory/low-stock: products below their min_stock at a site, on both backends."""

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
    create_location,
    create_product,
    create_site,
    put_stock,
)


async def low_stock(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return await client.get("/inventory/low-stock", headers=headers, params=params)


def shortfalls(response: httpx.Response) -> list[tuple[str, int, int, int]]:
    assert response.status_code == 200, response.text
    return [
        (i["sku"], i["on_hand"], i["min_stock"], i["shortfall"]) for i in response.json()["data"]
    ]


async def archive(client: httpx.AsyncClient, brand: Brand, product_id: uuid.UUID) -> None:
    response = await client.delete(f"/products/{product_id}", headers=brand.admin.headers)
    assert response.status_code in (200, 204), response.text


async def test_low_stock_lists_shortfalls_biggest_first_then_by_sku(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shelf = await create_location(brand, brand.site_id)
    bay = await create_location(brand, brand.site_id)
    e_short = await create_product(brand, sku="E-SHORT", name="Eggs", min_stock=10)
    a_short = await create_product(brand, sku="A-SHORT", name="Apples", min_stock=8)
    b_never = await create_product(brand, sku="B-NEVER", name="Beans", min_stock=5)
    c_exact = await create_product(brand, sku="C-EXACT", name="Corn", min_stock=5)
    d_above = await create_product(brand, sku="D-ABOVE", name="Dates", min_stock=3)
    await create_product(brand, sku="F-NOMIN", name="Figs", min_stock=0)
    g_bins = await create_product(
        brand, sku="G-BINS", name="Grapes", min_stock=6, location_aware=True
    )
    await put_stock(brand, e_short, 2)
    await put_stock(brand, a_short, 3)
    await put_stock(brand, a_short, -3)
    await put_stock(brand, b_never, 50, site_id=warehouse)
    await put_stock(brand, c_exact, 5)
    await put_stock(brand, d_above, 4)
    await put_stock(brand, g_bins, 2, location_id=shelf)
    await put_stock(brand, g_bins, 3, location_id=bay)

    response = await low_stock(client, brand.admin.headers)

    assert shortfalls(response) == [
        ("A-SHORT", 0, 8, 8),
        ("E-SHORT", 2, 10, 8),
        ("B-NEVER", 0, 5, 5),
        ("G-BINS", 5, 6, 1),
    ]
    first = response.json()["data"][0]
    assert first == {
        "product_id": str(a_short),
        "sku": "A-SHORT",
        "name": "Apples",
        "site_id": str(brand.site_id),
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "in_transit": 0,
        "min_stock": 8,
        "shortfall": 8,
        "compared": "available",
    }
    assert response.json()["meta"] == {"page": 1, "per_page": 25, "total": 4, "total_pages": 1}


async def test_archived_products_are_not_low_stock(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    kept = await create_product(brand, sku="KEPT", min_stock=2)
    retired = await create_product(brand, sku="RETIRED", min_stock=9)
    await archive(client, brand, retired)

    response = await low_stock(client, brand.admin.headers)

    assert [i["product_id"] for i in response.json()["data"]] == [str(kept)]


async def test_each_site_is_judged_on_its_own_stock(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand, sku="TEA", min_stock=5)
    await put_stock(brand, product, 1)
    await put_stock(brand, product, 9, site_id=warehouse)

    shop = await low_stock(client, brand.admin.headers)
    by_site = await low_stock(client, brand.admin.headers, site_id=str(warehouse))
    by_alias = await low_stock(client, brand.admin.headers, workspace_id=str(warehouse))
    by_header = await low_stock(client, {**brand.admin.headers, "X-Site-Id": str(warehouse)})

    assert shortfalls(shop) == [("TEA", 1, 5, 4)]
    assert shop.json()["data"][0]["site_id"] == str(brand.site_id)
    assert shortfalls(by_site) == shortfalls(by_alias) == shortfalls(by_header) == []


async def test_a_level_below_zero_is_short_even_without_a_minimum(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    bar = await create_site(brand, name="Bar", allow_negative_stock=True)
    product = await create_product(brand, sku="OVERSOLD", min_stock=0)
    await put_stock(brand, product, -3, site_id=bar)

    response = await low_stock(client, brand.admin.headers, site_id=str(bar))

    assert shortfalls(response) == [("OVERSOLD", -3, 0, 3)]


async def test_low_stock_is_paginated(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    for n in range(1, 6):
        await create_product(brand, sku=f"P{n}", min_stock=n)

    page_two = await low_stock(client, brand.admin.headers, page=2, per_page=2)

    assert shortfalls(page_two) == [("P3", 0, 3, 3), ("P2", 0, 2, 2)]
    assert page_two.json()["meta"] == {"page": 2, "per_page": 2, "total": 5, "total_pages": 3}


async def test_a_site_the_caller_may_not_read_is_forbidden(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    await create_product(brand, min_stock=3)
    viewer = await create_caller(
        brand, Role.viewer, site_ids=[warehouse], default_site_id=warehouse
    )

    forbidden = await low_stock(client, viewer.headers, site_id=str(brand.site_id))
    own_default = await low_stock(client, viewer.headers)

    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    assert own_default.status_code == 200
    assert own_default.json()["data"][0]["site_id"] == str(warehouse)


async def test_without_a_current_site_low_stock_is_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    manager = await create_caller(brand, Role.manager, site_ids=[brand.site_id])

    response = await low_stock(client, manager.headers)

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["site_id"]


async def test_another_brand_sees_nothing_of_our_low_stock(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, min_stock=3)
    other = await create_brand_with_admin(db, name="Other brand")

    our_site = await low_stock(client, other.admin.headers, site_id=str(brand.site_id))
    their_site = await low_stock(client, other.admin.headers)

    assert our_site.status_code == 422
    assert [d["field"] for d in our_site.json()["error"]["details"]] == ["site_id"]
    assert shortfalls(their_site) == []


@pytest.mark.parametrize("params", [{"site_id": "nope"}, {"per_page": 101}])
async def test_bad_low_stock_parameters_are_rejected(
    client: httpx.AsyncClient, db: Database, params: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)

    response = await low_stock(client, brand.admin.headers, **params)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
