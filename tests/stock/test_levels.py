"""GET /inventory/stock: levels per product and site, on both backends."""

from __future__ import annotations

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


async def list_levels(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return await client.get("/inventory/stock", headers=headers, params=params)


async def test_levels_are_listed_per_product_and_site_with_locations_summed(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shelf = await create_location(brand, warehouse)
    bay = await create_location(brand, warehouse)
    tea = await create_product(brand, sku="A-TEA", name="Tea", min_stock=4)
    bolts = await create_product(brand, sku="B-BOLT", name="Bolts", location_aware=True)
    await create_product(brand, sku="C-NEVER", name="Never stocked")
    await put_stock(brand, tea, 3)
    await put_stock(brand, bolts, 2, site_id=warehouse, location_id=shelf)
    await put_stock(brand, bolts, 5, site_id=warehouse, location_id=bay)

    response = await list_levels(client, brand.admin.headers, site_id=str(warehouse))
    everything = await list_levels(client, brand.admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["data"] == [
        {
            "product_id": str(bolts),
            "sku": "B-BOLT",
            "name": "Bolts",
            "site_id": str(warehouse),
            "on_hand": 7,
            "reserved": 0,
            "available": 7,
            "in_transit": 0,
            "min_stock": 0,
        }
    ]
    assert [(i["sku"], i["on_hand"]) for i in everything.json()["data"]] == [
        ("A-TEA", 3),
        ("B-BOLT", 7),
    ]
    assert everything.json()["data"][0]["min_stock"] == 4


async def test_levels_filter_by_product_and_page(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    sites = [brand.site_id] + [await create_site(brand, name=f"S{i}") for i in range(4)]
    product = await create_product(brand)
    other_product = await create_product(brand)
    for quantity, site_id in enumerate(sites, start=1):
        await put_stock(brand, product, quantity, site_id=site_id)
        await put_stock(brand, other_product, 1, site_id=site_id)

    first = await list_levels(
        client, brand.admin.headers, product_id=str(product), per_page=2, page=1
    )
    last = await list_levels(
        client, brand.admin.headers, product_id=str(product), per_page=2, page=3
    )

    assert first.json()["meta"] == {"page": 1, "per_page": 2, "total": 5, "total_pages": 3}
    assert len(first.json()["data"]) == 2
    assert len(last.json()["data"]) == 1
    assert {i["product_id"] for i in first.json()["data"] + last.json()["data"]} == {str(product)}


async def test_a_caller_sees_only_the_levels_of_sites_it_may_read(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 7)
    await put_stock(brand, product, 5, site_id=warehouse)
    manager = await create_caller(brand, Role.manager, site_ids=[warehouse])

    visible = await list_levels(client, manager.headers)
    forbidden = await list_levels(client, manager.headers, site_id=str(brand.site_id))

    assert [(i["site_id"], i["on_hand"]) for i in visible.json()["data"]] == [(str(warehouse), 5)]
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"


async def test_the_workspace_alias_filters_by_site(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 7)
    await put_stock(brand, product, 5, site_id=warehouse)

    response = await list_levels(client, brand.admin.headers, workspace_id=str(warehouse))

    assert [i["on_hand"] for i in response.json()["data"]] == [5]


async def test_another_brands_site_or_product_is_rejected_and_nothing_leaks(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 7)
    other = await create_brand_with_admin(db, name="Other brand")

    by_site = await list_levels(client, other.admin.headers, site_id=str(brand.site_id))
    by_product = await list_levels(client, other.admin.headers, product_id=str(product))
    unfiltered = await list_levels(client, other.admin.headers)

    assert by_site.status_code == 422
    assert [d["field"] for d in by_site.json()["error"]["details"]] == ["site_id"]
    assert by_product.status_code == 422
    assert [d["field"] for d in by_product.json()["error"]["details"]] == ["product_id"]
    assert unfiltered.status_code == 200
    assert unfiltered.json()["data"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"site_id": "x"}, "site_id"), ({"per_page": 0}, "per_page"), ({"page": "two"}, "page")],
)
async def test_bad_level_filters_are_rejected(
    client: httpx.AsyncClient, db: Database, params: dict[str, Any], field: str
) -> None:
    brand = await create_brand_with_admin(db)

    response = await list_levels(client, brand.admin.headers, **params)

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
