"""Tokens carry their brand, so a lookup reads one brand's tokens (one shard under Citus)."""

from __future__ import annotations

import secrets
import uuid

import httpx

from stockroom.auth.tokens import BRAND_SEPARATOR, TOKEN_PREFIX, hash_token, token_brand
from stockroom.db.models import ApiToken
from tests.factories import Brand, Database, create_brand_with_admin


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def store_token(brand: Brand, token: str) -> None:
    """A token row for the brand's admin, as an older release (or a bug) would have stored it."""
    async with brand.db.transaction() as session:
        session.add(
            ApiToken(
                brand_id=brand.id,
                user_id=brand.admin.user_id,
                token_hash=hash_token(token),
                prefix=token[:11],
            )
        )


async def test_a_new_token_names_its_brand_and_signs_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    assert token_brand(brand.admin.token) == brand.id
    me = await client.get("/me", headers=brand.admin.headers)
    assert me.status_code == 200
    assert me.json()["id"] == str(brand.admin.user_id)


async def test_a_token_minted_before_tokens_named_their_brand_still_signs_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    legacy = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await store_token(brand, legacy)

    assert token_brand(legacy) is None
    me = await client.get("/me", headers=bearer(legacy))
    assert me.status_code == 200
    assert me.json()["id"] == str(brand.admin.user_id)


async def test_a_token_is_looked_up_only_among_the_tokens_of_the_brand_it_names(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner, named = await create_brand_with_admin(db), await create_brand_with_admin(db)
    # Stored for `owner`, but the token itself names another brand.
    token = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}{BRAND_SEPARATOR}{named.id.hex}"
    await store_token(owner, token)

    refused = await client.get("/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"


def test_only_a_whole_brand_id_after_the_last_separator_names_a_brand() -> None:
    brand = uuid.uuid4()
    assert token_brand(f"sr_abc.{brand.hex}") == brand
    assert token_brand(f"sr_abc.{brand.hex[:-1]}") is None
    assert token_brand(f"sr_abc.{'z' * 32}") is None
    assert token_brand(f"sr_abc{brand.hex}") is None
