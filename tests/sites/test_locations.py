"""/sites/{site_id}/locations through HTTP, on both backends."""

from __future__ import annotations

import asyncio
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
)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def location_names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [loc["name"] for loc in response.json()["data"]]


async def test_admin_adds_a_location_that_holds_stock_of_location_aware_products(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)

    created = await client.post(
        f"/sites/{brand.site_id}/locations", headers=brand.admin.headers, json={"name": "Shelf A"}
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "site_id", "name", "created_at"}
    assert isinstance(body["id"], int)
    assert (body["site_id"], body["name"]) == (str(brand.site_id), "Shelf A")
    assert body["created_at"].endswith("Z")
    adjusted = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 4, "location_id": body["id"]},
    )
    assert adjusted.status_code == 201, adjusted.text


async def test_a_sites_locations_are_listed_newest_first_without_other_sites(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand)
    await create_location(brand, brand.site_id, name="Shelf A")
    await create_location(brand, brand.site_id, name="Shelf B")
    await create_location(brand, other_site, name="Elsewhere")

    response = await client.get(f"/sites/{brand.site_id}/locations", headers=brand.admin.headers)

    assert location_names(response) == ["Shelf B", "Shelf A"]
    assert {loc["site_id"] for loc in response.json()["data"]} == {str(brand.site_id)}
    assert response.json()["meta"]["total"] == 2


async def test_locations_are_paginated(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    for name in ["A", "B", "C"]:
        await create_location(brand, brand.site_id, name=name)

    page = await client.get(
        f"/sites/{brand.site_id}/locations",
        headers=brand.admin.headers,
        params={"per_page": 2, "page": 2},
    )
    too_many = await client.get(
        f"/sites/{brand.site_id}/locations",
        headers=brand.admin.headers,
        params={"per_page": 101},
    )

    assert location_names(page) == ["A"]
    assert page.json()["meta"] == {"page": 2, "per_page": 2, "total": 3, "total_pages": 2}
    assert too_many.status_code == 422


async def test_a_location_name_already_used_in_the_site_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand)
    await create_location(brand, brand.site_id, name="Cold room")

    same_site = await client.post(
        f"/sites/{brand.site_id}/locations",
        headers=brand.admin.headers,
        json={"name": "cold ROOM"},
    )
    other = await client.post(
        f"/sites/{other_site}/locations", headers=brand.admin.headers, json={"name": "Cold room"}
    )

    assert same_site.status_code == 422
    assert same_site.json()["error"]["details"][0]["field"] == "name"
    assert other.status_code == 201


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "X" * 201}, {"name": "A", "x": 1}])
async def test_a_location_with_invalid_fields_is_refused(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.post(
        f"/sites/{brand.site_id}/locations", headers=brand.admin.headers, json=body
    )

    assert response.status_code == 422
    assert error_code(response) == "validation_error"


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_managers_and_viewers_read_locations_only_at_granted_sites(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    ungranted = await create_site(brand)
    await create_location(brand, brand.site_id, name="Mine")
    await create_location(brand, ungranted, name="Not mine")
    caller = await create_caller(brand, role, site_ids=[brand.site_id])

    granted = await client.get(f"/sites/{brand.site_id}/locations", headers=caller.headers)
    forbidden = await client.get(f"/sites/{ungranted}/locations", headers=caller.headers)

    assert location_names(granted) == ["Mine"]
    assert forbidden.status_code == 403
    assert error_code(forbidden) == "forbidden"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_another_brands_site_has_no_locations_for_you(
    client: httpx.AsyncClient, db: Database, method: str
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    await create_location(other, other.site_id, name="Their bin")
    body = {"name": "Intruder"} if method == "POST" else None

    response = await client.request(
        method, f"/sites/{other.site_id}/locations", headers=brand.admin.headers, json=body
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    theirs = await client.get(f"/sites/{other.site_id}/locations", headers=other.admin.headers)
    assert location_names(theirs) == ["Their bin"]


async def test_each_brand_numbers_its_locations_from_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    first, second = await create_brand_with_admin(db), await create_brand_with_admin(db)
    backroom = await create_site(first, name="Backroom")

    numbers = []
    for brand, site in ((first, first.site_id), (second, second.site_id), (first, backroom)):
        created = await client.post(
            f"/sites/{site}/locations", headers=brand.admin.headers, json={"name": "Shelf"}
        )
        assert created.status_code == 201, created.text
        numbers.append(created.json()["id"])

    # Numbered within the brand (across its sites), not by a sequence every brand shares.
    assert numbers == [1, 1, 2]
    listed = await client.get(f"/sites/{second.site_id}/locations", headers=second.admin.headers)
    assert [loc["id"] for loc in listed.json()["data"]] == [1]


async def test_concurrent_new_locations_of_one_brand_get_distinct_numbers(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    sites = [brand.site_id, await create_site(brand, name="Backroom")]

    async def add(n: int) -> int:
        return await create_location(brand, sites[n % 2], name=f"Bin {n}")

    numbers = await asyncio.gather(*(add(n) for n in range(6)))

    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
