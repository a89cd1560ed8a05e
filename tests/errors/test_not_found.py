"""404 and 405: unknown ids in paths, unknown routes and wrong methods, all in the error shape."""

from __future__ import annotations

import uuid

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.errors.shape import error_of
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
)


async def adjustment_at(client: httpx.AsyncClient, brand: Brand, site_id: uuid.UUID) -> str:
    product = await create_product(brand)
    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 4, "site_id": str(site_id)},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_movement_is_found_by_its_id(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    movement_id = await adjustment_at(client, brand, brand.site_id)

    response = await client.get(f"/inventory/movements/{movement_id}", headers=brand.admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == movement_id
    assert response.json()["quantity"] == 4


async def test_unknown_movement_id_is_not_found(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(f"/inventory/movements/{uuid.uuid4()}", headers=brand.admin.headers)

    error_of(response, 404, "not_found")


async def test_another_brands_movement_is_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    theirs = await adjustment_at(client, other, other.site_id)

    response = await client.get(f"/inventory/movements/{theirs}", headers=brand.admin.headers)

    error = error_of(response, 404, "not_found")
    assert theirs not in str(error["details"])


async def test_movement_at_a_site_not_granted_is_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    ungranted = await create_site(brand)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    hidden = await adjustment_at(client, brand, ungranted)
    visible = await adjustment_at(client, brand, brand.site_id)

    hidden_response = await client.get(f"/inventory/movements/{hidden}", headers=viewer.headers)
    visible_response = await client.get(f"/inventory/movements/{visible}", headers=viewer.headers)

    error_of(hidden_response, 404, "not_found")
    assert visible_response.status_code == 200, visible_response.text


@pytest.mark.parametrize("movement_id", ["not-a-uuid", "123", "1e3", "%00", "null"])
async def test_malformed_movement_id_is_not_found(
    client: httpx.AsyncClient, db: Database, movement_id: str
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(f"/inventory/movements/{movement_id}", headers=brand.admin.headers)

    error_of(response, 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/nowhere", "/inventory/adjustment", "/inventory/adjustments/extra/bits"]
)
async def test_unknown_route_is_not_found_in_the_error_shape(
    client: httpx.AsyncClient, db: Database, path: str
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(path, headers=brand.admin.headers)

    error_of(response, 404, "not_found")


MOVEMENT = "/inventory/movements/00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/inventory/adjustments", {"GET", "POST"}),
        ("PUT", "/inventory/adjustments", {"GET", "POST"}),
        ("PATCH", "/inventory/adjustments", {"GET", "POST"}),
        ("POST", MOVEMENT, {"GET"}),
        ("DELETE", MOVEMENT, {"GET"}),
    ],
)
async def test_wrong_method_is_not_allowed_and_says_which_are(
    client: httpx.AsyncClient, db: Database, method: str, path: str, allowed: set[str]
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.request(method, path, headers=brand.admin.headers, json={})

    error_of(response, 405, "method_not_allowed")
    assert allowed <= {m.strip() for m in response.headers["allow"].split(",")}
    assert method not in response.headers["allow"]
