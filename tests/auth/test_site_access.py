"""Roles and site grants: who may adjust where, and whose adjustments a listing shows."""

from __future__ import annotations

import uuid

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.errors.shape import error_of
from tests.factories import (
    Brand,
    Caller,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
)


async def adjust(
    client: httpx.AsyncClient, caller: Caller, product: uuid.UUID, site: uuid.UUID, qty: int = 1
) -> httpx.Response:
    return await client.post(
        "/inventory/adjustments",
        headers=caller.headers,
        json={"product_id": str(product), "quantity": qty, "site_id": str(site)},
    )


async def total_adjustments(client: httpx.AsyncClient, brand: Brand) -> int:
    listed = await client.get("/inventory/adjustments", headers=brand.admin.headers)
    assert listed.status_code == 200, listed.text
    return int(listed.json()["meta"]["total"])


async def test_manager_adjusts_stock_at_a_granted_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    manager = await create_caller(brand, Role.manager, site_ids=[brand.site_id])
    product = await create_product(brand)

    response = await adjust(client, manager, product, brand.site_id)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("named_by", ["body", "header"])
async def test_manager_cannot_adjust_stock_at_a_site_not_granted(
    client: httpx.AsyncClient, db: Database, named_by: str
) -> None:
    brand = await create_brand_with_admin(db)
    ungranted = await create_site(brand)
    manager = await create_caller(brand, Role.manager, site_ids=[brand.site_id])
    product = await create_product(brand)
    body: dict[str, object] = {"product_id": str(product), "quantity": 1}
    headers = manager.headers
    if named_by == "body":
        body["site_id"] = str(ungranted)
    else:
        headers = headers | {"X-Site-Id": str(ungranted)}

    response = await client.post("/inventory/adjustments", headers=headers, json=body)

    error_of(response, 403, "forbidden")
    assert await total_adjustments(client, brand) == 0


@pytest.mark.parametrize("form", ["single", "batch"])
async def test_viewer_cannot_adjust_stock_even_at_a_granted_site(
    client: httpx.AsyncClient, db: Database, form: str
) -> None:
    brand = await create_brand_with_admin(db)
    viewer = await create_caller(
        brand, Role.viewer, site_ids=[brand.site_id], default_site_id=brand.site_id
    )
    product = await create_product(brand)
    body: dict[str, object] = (
        {"product_id": str(product), "quantity": 1}
        if form == "single"
        else {"products": [{"product_id": str(product), "quantity": 1}], "reason": "found"}
    )

    response = await client.post("/inventory/adjustments", headers=viewer.headers, json=body)

    error_of(response, 403, "forbidden")
    assert await total_adjustments(client, brand) == 0


async def test_viewer_cannot_adjust_stock_at_a_site_not_granted(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    ungranted = await create_site(brand)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    product = await create_product(brand)

    response = await adjust(client, viewer, product, ungranted)

    error_of(response, 403, "forbidden")


async def test_viewer_lists_adjustments_of_a_granted_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    product = await create_product(brand)
    made = await adjust(client, brand.admin, product, brand.site_id)

    response = await client.get(
        "/inventory/adjustments", headers=viewer.headers, params={"site_id": str(brand.site_id)}
    )

    assert response.status_code == 200, response.text
    assert [m["id"] for m in response.json()["data"]] == [made.json()["id"]]


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_listing_a_site_not_granted_is_forbidden(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    ungranted = await create_site(brand)
    caller = await create_caller(brand, role, site_ids=[brand.site_id])

    response = await client.get(
        "/inventory/adjustments", headers=caller.headers, params={"site_id": str(ungranted)}
    )

    error_of(response, 403, "forbidden")


async def test_manager_lists_only_adjustments_at_granted_sites(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    granted_a, granted_b, ungranted = (
        brand.site_id,
        await create_site(brand),
        await create_site(brand),
    )
    manager = await create_caller(brand, Role.manager, site_ids=[granted_a, granted_b])
    product = await create_product(brand)
    made = {}
    for site in (granted_a, ungranted, granted_b, ungranted):
        response = await adjust(client, brand.admin, product, site)
        assert response.status_code == 201, response.text
        made[response.json()["id"]] = site

    listed = await client.get("/inventory/adjustments", headers=manager.headers)

    assert listed.status_code == 200, listed.text
    body = listed.json()
    visible = {m["id"] for m in body["data"]}
    assert visible == {m for m, site in made.items() if site != ungranted}
    assert body["meta"]["total"] == 2
    assert {m["site_id"] for m in body["data"]} == {str(granted_a), str(granted_b)}


async def test_manager_without_grants_lists_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    manager = await create_caller(brand, Role.manager)
    product = await create_product(brand)
    assert (await adjust(client, brand.admin, product, brand.site_id)).status_code == 201

    listed = await client.get("/inventory/adjustments", headers=manager.headers)

    assert listed.status_code == 200, listed.text
    assert listed.json()["data"] == []
    assert listed.json()["meta"]["total"] == 0


async def test_admin_lists_adjustments_at_every_site_newest_first(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    second, third = await create_site(brand), await create_site(brand)
    product = await create_product(brand)
    made = []
    for site in (brand.site_id, second, third, second, brand.site_id):
        response = await adjust(client, brand.admin, product, site)
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])

    listed = await client.get("/inventory/adjustments", headers=brand.admin.headers)

    assert listed.status_code == 200, listed.text
    assert [m["id"] for m in listed.json()["data"]] == list(reversed(made))


async def test_admin_filters_the_listing_by_site(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    second = await create_site(brand)
    product = await create_product(brand)
    at_second = []
    for site in (brand.site_id, second, brand.site_id, second):
        response = await adjust(client, brand.admin, product, site)
        if site == second:
            at_second.append(response.json()["id"])

    listed = await client.get(
        "/inventory/adjustments", headers=brand.admin.headers, params={"site_id": str(second)}
    )

    assert listed.status_code == 200, listed.text
    assert [m["id"] for m in listed.json()["data"]] == list(reversed(at_second))


async def test_listing_never_shows_another_brands_adjustments(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    theirs = await create_product(other)
    assert (await adjust(client, other.admin, theirs, other.site_id)).status_code == 201

    listed = await client.get("/inventory/adjustments", headers=brand.admin.headers)

    assert listed.json()["data"] == []
    assert listed.json()["meta"]["total"] == 0
