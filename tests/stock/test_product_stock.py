"""GET /inventory/products/{product_id}/stock, on both backends."""

from __future__ import annotations

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


async def test_stock_is_listed_per_site_with_the_total(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 7)
    await put_stock(brand, product, 5, site_id=warehouse)
    await put_stock(brand, product, -2, site_id=warehouse)

    response = await client.get(f"/inventory/products/{product}/stock", headers=brand.admin.headers)

    assert response.status_code == 200, response.text
    four = {"reserved": 0, "in_transit": 0}
    assert response.json() == {
        "product_id": str(product),
        "total": 10,
        "reserved": 0,
        "available": 10,
        "in_transit": 0,
        "sites": [
            {
                "site_id": str(brand.site_id),
                "site_name": "Main shop",
                "on_hand": 7,
                "available": 7,
                **four,
                "locations": [],
            },
            {
                "site_id": str(warehouse),
                "site_name": "Warehouse",
                "on_hand": 3,
                "available": 3,
                **four,
                "locations": [],
            },
        ],
    }


async def test_a_readable_site_without_the_product_shows_zero(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 4)

    response = await client.get(f"/inventory/products/{product}/stock", headers=brand.admin.headers)

    sites = {s["site_id"]: s for s in response.json()["sites"]}
    assert sites[str(warehouse)] == {
        "site_id": str(warehouse),
        "site_name": "Warehouse",
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "in_transit": 0,
        "locations": [],
    }
    assert response.json()["total"] == 4


async def test_location_levels_are_listed_and_summed_per_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shelf = await create_location(brand, brand.site_id, name="Shelf")
    bay = await create_location(brand, brand.site_id, name="Bay")
    await create_location(brand, brand.site_id, name="Empty bin")
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 3, location_id=shelf)
    await put_stock(brand, product, 9, location_id=bay)

    response = await client.get(f"/inventory/products/{product}/stock", headers=brand.admin.headers)

    (site,) = response.json()["sites"]
    assert site["on_hand"] == 12
    assert site["locations"] == sorted(
        [
            {"location_id": shelf, "on_hand": 3, "reserved": 0, "available": 3},
            {"location_id": bay, "on_hand": 9, "reserved": 0, "available": 9},
        ],
        key=lambda entry: entry["location_id"],
    )
    assert response.json()["total"] == 12


async def test_only_sites_the_caller_may_read_are_listed_and_totalled(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 7)
    await put_stock(brand, product, 5, site_id=warehouse)
    viewer = await create_caller(brand, Role.viewer, site_ids=[warehouse])

    response = await client.get(f"/inventory/products/{product}/stock", headers=viewer.headers)

    assert response.status_code == 200
    assert [s["site_id"] for s in response.json()["sites"]] == [str(warehouse)]
    assert response.json()["total"] == 5


async def test_a_product_of_another_brand_is_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    theirs = await create_product(other)
    await put_stock(other, theirs, 5)

    response = await client.get(f"/inventory/products/{theirs}/stock", headers=brand.admin.headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("product_id", ["5b0d8a5e-6f44-4c1e-9d3a-0c2b7e1f9a13", "12"])
async def test_an_unknown_product_is_not_found(
    client: httpx.AsyncClient, db: Database, product_id: str
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(
        f"/inventory/products/{product_id}/stock", headers=brand.admin.headers
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_product_stock_needs_a_token(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await client.get(
        f"/inventory/products/{product}/stock", headers={"Authorization": "Bearer sr_nope"}
    )

    assert response.status_code == 401
