"""Bearer tokens: every way of not presenting a valid one is a 401 in the error shape."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from stockroom.auth.principal import Role
from stockroom.db.models import ApiToken, StockMovement, User
from stockroom.users.service import create_token, revoke_tokens
from tests.errors.shape import error_of
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
)


@dataclass
class Setup:
    brand: Brand
    product_id: uuid.UUID
    movement_id: str


async def make_setup(client: httpx.AsyncClient, db: Database) -> Setup:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    created = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 3},
    )
    assert created.status_code == 201, created.text
    return Setup(brand, product, created.json()["id"])


async def revoked_token(setup: Setup) -> str:
    token = setup.brand.admin.token
    async with setup.brand.db.transaction() as session:
        assert await revoke_tokens(session, token) == 1
    return token


def unknown_token(_: Setup) -> str:
    return "sr_" + secrets.token_urlsafe(32)


# Each way of getting the Authorization header wrong, as the header to send (None: no header).
AuthorizationHeader = Callable[[Setup], Awaitable[str | None]]


async def no_header(_: Setup) -> str | None:
    return None


async def wrong_scheme(setup: Setup) -> str | None:
    return f"Token {setup.brand.admin.token}"


async def basic_scheme(_: Setup) -> str | None:
    return "Basic dXNlcjpwYXNzd29yZA=="


async def malformed_token(_: Setup) -> str | None:
    return "Bearer not-a-token"


async def bearer_without_token(_: Setup) -> str | None:
    return "Bearer "


async def unknown(setup: Setup) -> str | None:
    return f"Bearer {unknown_token(setup)}"


async def revoked(setup: Setup) -> str | None:
    return f"Bearer {await revoked_token(setup)}"


BAD_AUTHORIZATION = [
    pytest.param(no_header, id="no-header"),
    pytest.param(wrong_scheme, id="wrong-scheme"),
    pytest.param(basic_scheme, id="basic-scheme"),
    pytest.param(malformed_token, id="malformed-token"),
    pytest.param(bearer_without_token, id="bearer-without-token"),
    pytest.param(unknown, id="unknown-token"),
    pytest.param(revoked, id="revoked-token"),
]


async def request_as(
    client: httpx.AsyncClient, setup: Setup, endpoint: str, authorization: str | None
) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    if endpoint == "list adjustments":
        return await client.get("/inventory/adjustments", headers=headers)
    if endpoint == "create adjustment":
        body = {"product_id": str(setup.product_id), "quantity": 1}
        return await client.post("/inventory/adjustments", headers=headers, json=body)
    return await client.get(f"/inventory/movements/{setup.movement_id}", headers=headers)


@pytest.mark.parametrize("endpoint", ["list adjustments", "create adjustment", "get movement"])
@pytest.mark.parametrize("bad_authorization", BAD_AUTHORIZATION)
async def test_request_without_a_valid_token_is_unauthenticated(
    client: httpx.AsyncClient,
    db: Database,
    endpoint: str,
    bad_authorization: AuthorizationHeader,
) -> None:
    setup = await make_setup(client, db)

    response = await request_as(client, setup, endpoint, await bad_authorization(setup))

    error_of(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_unauthenticated_create_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    setup = await make_setup(client, db)

    response = await request_as(client, setup, "create adjustment", await unknown(setup))

    error_of(response, 401, "unauthenticated")
    listed = await client.get("/inventory/adjustments", headers=setup.brand.admin.headers)
    assert listed.json()["meta"]["total"] == 1  # only the setup adjustment


async def test_revoked_token_stops_working_while_other_tokens_of_the_user_still_work(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    async with db.transaction() as session:
        user = (await session.execute(select(User).where(User.id == brand.admin.user_id))).scalar()
        assert user is not None
        _, second_token = await create_token(session, user)
    before = await client.get("/inventory/adjustments", headers=brand.admin.headers)
    assert before.status_code == 200, before.text

    async with db.transaction() as session:
        assert await revoke_tokens(session, brand.admin.token) == 1

    after = await client.get("/inventory/adjustments", headers=brand.admin.headers)
    error_of(after, 401, "unauthenticated")
    other = await client.get(
        "/inventory/adjustments", headers={"Authorization": f"Bearer {second_token}"}
    )
    assert other.status_code == 200, other.text


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(
        "/inventory/adjustments", headers={"Authorization": f"bearer {brand.admin.token}"}
    )

    assert response.status_code == 200, response.text


async def test_token_is_stored_only_as_its_sha256(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    async with db.transaction() as session:
        user = (await session.execute(select(User).where(User.id == brand.admin.user_id))).scalar()
        assert user is not None
        created, clear = await create_token(session, user)
    works = await client.get("/inventory/adjustments", headers={"Authorization": f"Bearer {clear}"})
    assert works.status_code == 200, works.text

    async with db.transaction() as session:
        row = (
            (await session.execute(select(ApiToken.__table__).where(ApiToken.id == created.id)))
            .mappings()
            .one()
        )

    assert row["token_hash"] == hashlib.sha256(clear.encode()).hexdigest()
    stored = " ".join(str(value) for value in row.values())
    assert clear not in stored
    # Not even the secret part after the public display prefix is kept anywhere.
    assert clear[len(row["prefix"]) :] not in stored


async def test_token_of_another_role_authenticates_as_its_own_user(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    manager = await create_caller(
        brand, Role.manager, site_ids=[brand.site_id], default_site_id=brand.site_id
    )

    response = await client.post(
        "/inventory/adjustments",
        headers=manager.headers,
        json={"product_id": str(product), "quantity": 2},
    )

    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == str(manager.user_id)
    async with db.transaction() as session:
        user_id = (
            await session.execute(
                select(StockMovement.user_id).where(
                    StockMovement.id == uuid.UUID(response.json()["id"])
                )
            )
        ).scalar()
    assert user_id == manager.user_id


@pytest.mark.parametrize("named_by", ["display prefix", "token id"])
async def test_token_revoked_by_prefix_or_id_is_unauthenticated(
    client: httpx.AsyncClient, db: Database, named_by: str
) -> None:
    brand = await create_brand_with_admin(db)
    async with db.transaction() as session:
        user = (await session.execute(select(User).where(User.id == brand.admin.user_id))).scalar()
        assert user is not None
        created, clear = await create_token(session, user)
    headers = {"Authorization": f"Bearer {clear}"}
    assert (await client.get("/inventory/adjustments", headers=headers)).status_code == 200

    async with db.transaction() as session:
        name = created.prefix if named_by == "display prefix" else str(created.id)
        assert await revoke_tokens(session, name) == 1

    error_of(await client.get("/inventory/adjustments", headers=headers), 401, "unauthenticated")
    still = await client.get("/inventory/adjustments", headers=brand.admin.headers)
    assert still.status_code == 200, still.text
