"""/users and /me through HTTP, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.factories import Database, create_brand_with_admin, create_caller, create_site


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def error_fields(response: httpx.Response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


def emails(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [u["email"] for u in response.json()["data"]]


async def test_admin_creates_a_user_with_granted_sites_and_a_default_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    second = await create_site(brand)

    created = await client.post(
        "/users",
        headers=brand.admin.headers,
        json={
            "email": "  Kim@Example.com ",
            "role": "manager",
            "site_ids": [str(second)],
            "default_site_id": str(brand.site_id),
        },
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "email", "role", "site_ids", "default_site_id", "created_at"}
    assert body["email"] == "kim@example.com"
    assert body["role"] == "manager"
    # The default site is granted too: it is where the user's requests land.
    assert set(body["site_ids"]) == {str(second), str(brand.site_id)}
    assert body["default_site_id"] == str(brand.site_id)
    assert body["created_at"].endswith("Z")
    listed = await client.get("/users", headers=brand.admin.headers)
    assert body in listed.json()["data"]


async def test_workspace_aliases_name_the_sites_of_a_new_user(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    created = await client.post(
        "/users",
        headers=brand.admin.headers,
        json={
            "email": "ws@example.com",
            "role": "viewer",
            "workspace_ids": [str(brand.site_id)],
            "default_workspace_id": str(brand.site_id),
        },
    )

    assert created.status_code == 201, created.text
    assert created.json()["site_ids"] == [str(brand.site_id)]
    assert created.json()["default_site_id"] == str(brand.site_id)


async def test_a_user_needs_only_an_email_and_a_role(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    created = await client.post(
        "/users", headers=brand.admin.headers, json={"email": "a@example.com", "role": "admin"}
    )

    assert created.status_code == 201, created.text
    assert (created.json()["site_ids"], created.json()["default_site_id"]) == ([], None)


@pytest.mark.parametrize("field", ["site_ids", "default_site_id"])
async def test_another_brands_site_cannot_be_granted(
    client: httpx.AsyncClient, db: Database, field: str
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    theirs = str(other.site_id)
    body: dict[str, Any] = {"email": "spy@example.com", "role": "manager"}
    body[field] = [theirs] if field == "site_ids" else theirs

    response = await client.post("/users", headers=brand.admin.headers, json=body)

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert error_fields(response) == {field}
    assert "spy@example.com" not in emails(await client.get("/users", headers=brand.admin.headers))


async def test_an_unknown_site_cannot_be_granted(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.post(
        "/users",
        headers=brand.admin.headers,
        json={
            "email": "x@example.com",
            "role": "viewer",
            "site_ids": [str(brand.site_id), str(uuid.uuid4())],
        },
    )

    assert response.status_code == 422
    assert error_fields(response) == {"site_ids"}


async def test_an_email_already_used_in_the_brand_is_refused_in_any_case(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    first = await client.post(
        "/users", headers=brand.admin.headers, json={"email": "sam@example.com", "role": "viewer"}
    )
    assert first.status_code == 201

    again = await client.post(
        "/users", headers=brand.admin.headers, json={"email": "SAM@example.com", "role": "admin"}
    )
    elsewhere = await client.post(
        "/users", headers=other.admin.headers, json={"email": "sam@example.com", "role": "viewer"}
    )

    assert again.status_code == 422
    assert error_fields(again) == {"email"}
    assert elsewhere.status_code == 201


@pytest.mark.parametrize(
    "change",
    [
        {"email": "not-an-email"},
        {"email": "two@@example.com"},
        {"email": ""},
        {"role": "owner"},
        {"role": None},
        {"site_ids": ["nope"]},
        {"default_site_id": "nope"},
        {"password": "hunter2"},
    ],
)
async def test_a_user_with_invalid_fields_is_refused(
    client: httpx.AsyncClient, db: Database, change: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)
    body = {"email": "ok@example.com", "role": "viewer"} | change

    response = await client.post("/users", headers=brand.admin.headers, json=body)

    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    assert {f.split("[")[0] for f in error_fields(response)} == set(change)


async def test_users_are_listed_newest_first_and_only_from_your_brand(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    manager = await create_caller(brand, Role.manager, site_ids=[brand.site_id])
    await create_caller(other, Role.viewer)

    response = await client.get("/users", headers=brand.admin.headers)

    assert response.status_code == 200
    data = response.json()["data"]
    assert [u["id"] for u in data] == [str(manager.user_id), str(brand.admin.user_id)]
    assert data[0]["site_ids"] == [str(brand.site_id)]
    assert data[1]["role"] == "admin"
    assert response.json()["meta"]["total"] == 2


async def test_users_are_paginated(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    await create_caller(brand, Role.viewer)
    await create_caller(brand, Role.viewer)

    page = await client.get(
        "/users", headers=brand.admin.headers, params={"per_page": 2, "page": 2}
    )
    too_many = await client.get("/users", headers=brand.admin.headers, params={"per_page": 101})

    assert [u["id"] for u in page.json()["data"]] == [str(brand.admin.user_id)]
    assert page.json()["meta"] == {"page": 2, "per_page": 2, "total": 3, "total_pages": 2}
    assert too_many.status_code == 422


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_only_an_admin_may_list_or_create_users(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    caller = await create_caller(brand, role, site_ids=[brand.site_id])

    listed = await client.get("/users", headers=caller.headers)
    created = await client.post(
        "/users", headers=caller.headers, json={"email": "boss@example.com", "role": "admin"}
    )

    for response in (listed, created):
        assert response.status_code == 403, response.text
        assert error_code(response) == "forbidden"
    assert "boss@example.com" not in emails(await client.get("/users", headers=brand.admin.headers))


async def test_me_describes_the_caller_and_its_brand(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    second = await create_site(brand)
    viewer = await create_caller(
        brand, Role.viewer, site_ids=[brand.site_id, second], default_site_id=second
    )

    mine = await client.get("/me", headers=viewer.headers)
    admins = await client.get("/me", headers=brand.admin.headers)

    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["id"] == str(viewer.user_id)
    assert body["brand_id"] == str(brand.id)
    assert body["role"] == "viewer"
    assert set(body["site_ids"]) == {str(brand.site_id), str(second)}
    assert body["default_site_id"] == str(second)
    assert body["email"].startswith("viewer-")
    assert body["created_at"].endswith("Z")
    assert admins.json()["id"] == str(brand.admin.user_id)
    assert admins.json()["role"] == "admin"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sr_unknown-token-0000000000"}, {"Authorization": "Basic x"}],
)
async def test_me_and_users_need_a_valid_token(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for response in (
        await client.get("/me", headers=headers),
        await client.get("/users", headers=headers),
        await client.post("/users", headers=headers, json={"email": "a@b.co", "role": "admin"}),
    ):
        assert response.status_code == 401
        assert error_code(response) == "unauthenticated"
