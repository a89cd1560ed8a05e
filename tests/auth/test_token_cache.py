"""The per-process token cache: revocation here is immediate, elsewhere within the TTL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update

from stockroom.app import create_app
from stockroom.auth.token_cache import TOKEN_CACHE
from stockroom.db.models import ApiToken
from stockroom.db.models.base import utcnow
from stockroom.settings import Settings
from stockroom.users.service import revoke_tokens
from tests.factories import Database, create_brand_with_admin

TTL = 0.5


@pytest.fixture
async def short_cache_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    previous = TOKEN_CACHE.ttl_seconds
    app = create_app(Settings(database_url=database_url, auth_cache_seconds=TTL))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client
    finally:
        TOKEN_CACHE.ttl_seconds = previous
        TOKEN_CACHE.clear()


async def test_a_token_revoked_by_another_process_stops_working_within_the_cache_ttl(
    short_cache_client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    assert (await short_cache_client.get("/me", headers=brand.admin.headers)).status_code == 200
    # As the CLI in another process would: straight to the database, this cache untouched.
    async with db.transaction() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == brand.admin.user_id)
            .values(revoked_at=utcnow())
        )

    await asyncio.sleep(TTL + 0.2)
    later = await short_cache_client.get("/me", headers=brand.admin.headers)

    assert later.status_code == 401


async def test_a_token_revoked_in_this_process_stops_working_at_once(
    short_cache_client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    assert (await short_cache_client.get("/me", headers=brand.admin.headers)).status_code == 200

    async with db.transaction() as session:
        assert await revoke_tokens(session, brand.admin.token) == 1
    at_once = await short_cache_client.get("/me", headers=brand.admin.headers)

    assert at_once.status_code == 401
