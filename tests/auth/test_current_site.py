"""The current site: body `site_id` (or `workspace_id`), else `X-Site-Id`, else the default."""

from __future__ import annotations

import uuid

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.errors.shape import detail_fields, error_of
from tests.factories import (
    Caller,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
)


def with_site_header(caller: Caller, site_id: object) -> dict[str, str]:
    return caller.headers | {"X-Site-Id": str(site_id)}


async def test_body_site_id_wins_over_header_and_default(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    in_body, in_header = await create_site(brand), await create_site(brand)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=with_site_header(brand.admin, in_header),
        json={"product_id": str(product), "quantity": 1, "site_id": str(in_body)},
    )

    assert response.status_code == 201, response.text
    assert response.json()["site_id"] == str(in_body)


async def test_workspace_id_is_an_alias_of_site_id_and_answers_with_site_id(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    workspace, in_header = await create_site(brand), await create_site(brand)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=with_site_header(brand.admin, in_header),
        json={"product_id": str(product), "quantity": 1, "workspace_id": str(workspace)},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["site_id"] == str(workspace)
    assert "workspace_id" not in body


async def test_batch_takes_workspace_id_too(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    workspace = await create_site(brand)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={
            "products": [{"product_id": str(product), "quantity": 2}],
            "reason": "found",
            "workspace_id": str(workspace),
        },
    )

    assert response.status_code == 201, response.text
    assert [m["site_id"] for m in response.json()["data"]] == [str(workspace)]


async def test_header_site_wins_over_default_site(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    in_header = await create_site(brand)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=with_site_header(brand.admin, in_header),
        json={"product_id": str(product), "quantity": 1},
    )

    assert response.status_code == 201, response.text
    assert response.json()["site_id"] == str(in_header)


async def test_default_site_is_used_when_nothing_names_a_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_site(brand)
    other_default = await create_site(brand)
    manager = await create_caller(
        brand, Role.manager, site_ids=[brand.site_id], default_site_id=other_default
    )
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=manager.headers,
        json={"product_id": str(product), "quantity": 1},
    )

    assert response.status_code == 201, response.text
    assert response.json()["site_id"] == str(other_default)


@pytest.mark.parametrize("role", [Role.admin, Role.manager])
async def test_no_resolvable_site_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    caller = await create_caller(brand, role, site_ids=[brand.site_id])
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=caller.headers,
        json={"product_id": str(product), "quantity": 1},
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["site_id"]


@pytest.mark.parametrize("field", ["site_id", "workspace_id"])
async def test_unknown_site_in_body_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, field: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 1, field: str(uuid.uuid4())},
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["site_id"]


async def test_another_brands_site_in_body_is_a_validation_error_not_a_write(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 1, "site_id": str(other.site_id)},
    )

    error_of(response, 422, "validation_error")
    theirs = await client.get("/inventory/adjustments", headers=other.admin.headers)
    assert theirs.json()["meta"]["total"] == 0


@pytest.mark.parametrize("whose", ["unknown", "another brand's"])
async def test_unknown_site_in_header_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, whose: str
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    product = await create_product(brand)
    site = uuid.uuid4() if whose == "unknown" else other.site_id

    response = await client.post(
        "/inventory/adjustments",
        headers=with_site_header(brand.admin, site),
        json={"product_id": str(product), "quantity": 1},
    )

    error = error_of(response, 422, "validation_error")
    assert [f.lower() for f in detail_fields(error)] == ["x-site-id"]


@pytest.mark.parametrize("header", ["not-a-uuid", "123", ""])
async def test_malformed_site_header_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, header: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers | {"X-Site-Id": header},
        json={"product_id": str(product), "quantity": 1},
    )

    error = error_of(response, 422, "validation_error")
    assert [f.lower() for f in detail_fields(error)] == ["x-site-id"]


async def test_malformed_site_id_in_body_is_a_validation_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 1, "site_id": "shop-1"},
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["site_id"]


@pytest.mark.parametrize("field", ["site_id", "workspace_id"])
async def test_listing_with_an_unknown_site_filter_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, field: str
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")

    response = await client.get(
        "/inventory/adjustments", headers=brand.admin.headers, params={field: str(other.site_id)}
    )

    error_of(response, 422, "validation_error")
