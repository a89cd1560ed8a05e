"""/sites through HTTP, on both backends."""

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
    create_product,
    create_site,
    put_stock,
)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def error_fields(response: httpx.Response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


def site_ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {s["id"] for s in response.json()["data"]}


async def test_admin_creates_a_site_that_refuses_negative_stock_by_default(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    created = await client.post("/sites", headers=brand.admin.headers, json={"name": "Kitchen"})

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Kitchen"
    assert body["allow_negative_stock"] is False
    assert body["created_at"].endswith("Z")
    uuid.UUID(body["id"])
    fetched = await client.get(f"/sites/{body['id']}", headers=brand.admin.headers)
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_a_new_site_refuses_stock_below_zero_unless_allowed(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    strict = await client.post("/sites", headers=brand.admin.headers, json={"name": "Strict"})
    lenient = await client.post(
        "/sites",
        headers=brand.admin.headers,
        json={"name": "Lenient", "allow_negative_stock": True},
    )
    assert lenient.json()["allow_negative_stock"] is True

    outcomes = []
    for site in (strict, lenient):
        response = await client.post(
            "/inventory/adjustments",
            headers=brand.admin.headers,
            json={"product_id": str(product), "quantity": -2, "site_id": site.json()["id"]},
        )
        outcomes.append(response.status_code)

    assert outcomes == [422, 201]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "X" * 201},
        {"name": "Shop", "allow_negative_stock": "yes"},
        {"name": "Shop", "colour": "red"},
    ],
)
async def test_a_site_with_invalid_fields_is_refused(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.post("/sites", headers=brand.admin.headers, json=body)

    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    listed = await client.get("/sites", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 1


async def test_admin_lists_every_site_of_its_brand_and_no_other(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    second = await create_site(brand, name="Second")
    await create_site(other, name="Theirs")

    response = await client.get("/sites", headers=brand.admin.headers)

    assert site_ids(response) == {str(brand.site_id), str(second)}
    assert response.json()["meta"]["total"] == 2


async def test_sites_are_listed_newest_first_one_page_at_a_time(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    second = await create_site(brand, name="Second")
    third = await create_site(brand, name="Third")

    first_page = await client.get("/sites", headers=brand.admin.headers, params={"per_page": 2})
    last_page = await client.get(
        "/sites", headers=brand.admin.headers, params={"per_page": 2, "page": 2}
    )

    assert [s["id"] for s in first_page.json()["data"]] == [str(third), str(second)]
    assert first_page.json()["meta"] == {"page": 1, "per_page": 2, "total": 3, "total_pages": 2}
    assert [s["id"] for s in last_page.json()["data"]] == [str(brand.site_id)]


async def test_per_page_over_100_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get("/sites", headers=brand.admin.headers, params={"per_page": 101})

    assert response.status_code == 422
    assert error_fields(response) == {"per_page"}


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_managers_and_viewers_list_and_read_only_their_granted_sites(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    granted = await create_site(brand, name="Granted")
    ungranted = await create_site(brand, name="Not yours")
    caller = await create_caller(brand, role, site_ids=[granted])

    listed = await client.get("/sites", headers=caller.headers)
    readable = await client.get(f"/sites/{granted}", headers=caller.headers)
    forbidden = await client.get(f"/sites/{ungranted}", headers=caller.headers)

    assert site_ids(listed) == {str(granted)}
    assert listed.json()["meta"]["total"] == 1
    assert readable.status_code == 200
    assert readable.json()["name"] == "Granted"
    assert forbidden.status_code == 403
    assert error_code(forbidden) == "forbidden"


async def test_a_caller_without_grants_lists_no_sites(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    caller = await create_caller(brand, Role.viewer)

    response = await client.get("/sites", headers=caller.headers)

    assert site_ids(response) == set()
    assert response.json()["meta"]["total"] == 0


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_another_brands_site_is_not_found(
    client: httpx.AsyncClient, db: Database, method: str
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    body = {"name": "Stolen"} if method == "PATCH" else None

    response = await client.request(
        method, f"/sites/{other.site_id}", headers=brand.admin.headers, json=body
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    untouched = await client.get(f"/sites/{other.site_id}", headers=other.admin.headers)
    assert untouched.json()["name"] == "Main shop"


@pytest.mark.parametrize("site_id", ["not-a-uuid", "42", "5b0d8a5e-6f44-4c1e-9d3a-0c2b7e1f9a11"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("PATCH", ""), ("GET", "/locations"), ("POST", "/locations")],
)
async def test_an_unknown_or_malformed_site_id_is_not_found(
    client: httpx.AsyncClient, db: Database, site_id: str, method: str, path: str
) -> None:
    brand = await create_brand_with_admin(db)
    body = {"name": "X"} if method != "GET" else None

    response = await client.request(
        method, f"/sites/{site_id}{path}", headers=brand.admin.headers, json=body
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"


async def test_admin_renames_a_site_and_allows_negative_stock(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    renamed = await client.patch(
        f"/sites/{brand.site_id}", headers=brand.admin.headers, json={"name": "Flagship"}
    )
    lenient = await client.patch(
        f"/sites/{brand.site_id}",
        headers=brand.admin.headers,
        json={"allow_negative_stock": True},
    )

    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["allow_negative_stock"]) == ("Flagship", False)
    assert (lenient.json()["name"], lenient.json()["allow_negative_stock"]) == ("Flagship", True)
    fetched = await client.get(f"/sites/{brand.site_id}", headers=brand.admin.headers)
    assert fetched.json() == lenient.json()


@pytest.mark.parametrize(
    "body", [{"name": None}, {"name": ""}, {"allow_negative_stock": None}, {"brand_id": "x"}]
)
async def test_patch_with_null_invalid_or_unknown_fields_is_refused(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.patch(f"/sites/{brand.site_id}", headers=brand.admin.headers, json=body)

    assert response.status_code == 422, response.text
    assert error_fields(response) == set(body)


async def test_negative_stock_cannot_be_turned_off_while_stock_is_below_zero(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    site = await create_site(brand, name="Lenient", allow_negative_stock=True)
    product = await create_product(brand)
    await put_stock(brand, product, -3, site_id=site)

    refused = await client.patch(
        f"/sites/{site}", headers=brand.admin.headers, json={"allow_negative_stock": False}
    )
    await put_stock(brand, product, 3, site_id=site)
    allowed = await client.patch(
        f"/sites/{site}", headers=brand.admin.headers, json={"allow_negative_stock": False}
    )

    assert refused.status_code == 422
    assert error_fields(refused) == {"allow_negative_stock"}
    assert allowed.status_code == 200
    assert allowed.json()["allow_negative_stock"] is False


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_only_an_admin_may_create_or_change_sites_and_locations(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    caller = await create_caller(brand, role, site_ids=[brand.site_id])

    responses = [
        await client.post("/sites", headers=caller.headers, json={"name": "Mine"}),
        await client.patch(
            f"/sites/{brand.site_id}",
            headers=caller.headers,
            json={"name": "Renamed", "allow_negative_stock": True},
        ),
        await client.post(
            f"/sites/{brand.site_id}/locations", headers=caller.headers, json={"name": "Bin"}
        ),
    ]

    for response in responses:
        assert response.status_code == 403, response.text
        assert error_code(response) == "forbidden"
    sites = await client.get("/sites", headers=brand.admin.headers)
    assert [(s["name"], s["allow_negative_stock"]) for s in sites.json()["data"]] == [
        ("Main shop", False)
    ]
    locations = await client.get(f"/sites/{brand.site_id}/locations", headers=brand.admin.headers)
    assert locations.json()["meta"]["total"] == 0


async def test_sites_need_a_valid_token(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    responses = [
        await client.get("/sites"),
        await client.get(f"/sites/{brand.site_id}"),
        await client.post("/sites", json={"name": "X"}),
        await client.get(
            f"/sites/{brand.site_id}/locations", headers={"Authorization": "Token abc"}
        ),
    ]

    for response in responses:
        assert response.status_code == 401
        assert error_code(response) == "unauthenticated"


async def test_a_retried_create_with_the_same_idempotency_key_opens_one_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    headers = brand.admin.headers | {"Idempotency-Key": "open-kitchen-1"}

    first = await client.post("/sites", headers=headers, json={"name": "Kitchen"})
    retry = await client.post("/sites", headers=headers, json={"name": "Kitchen"})

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    listed = await client.get("/sites", headers=brand.admin.headers)
    assert [s["name"] for s in listed.json()["data"]].count("Kitchen") == 1
