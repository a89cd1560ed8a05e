"""Per-token rate limits (API.md Part 2): counted after authentication, 429 `rate_limited`
beyond them with Retry-After and the RateLimit headers; shared through Redis when set.

Windows are an hour or a minute long, far longer than any test, so nothing sleeps and no
assertion depends on timing: the counts alone decide.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from stockroom.app import create_app
from stockroom.auth.principal import Role
from stockroom.ratelimit import RateLimiter
from stockroom.settings import Settings
from tests.errors.shape import error_of
from tests.factories import Database, create_brand_with_admin, create_caller

REDIS_URL = os.environ.get("STOCKROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@asynccontextmanager
async def serving(
    settings: Settings, limiter: RateLimiter | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own (a worker) with these settings, or with this limiter put in place."""
    app: FastAPI = create_app(settings)
    if limiter is not None:
        app.state.rate_limiter = limiter
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://stockroom.test"
            ) as c:
                yield c
    finally:
        built = getattr(app.state, "rate_limiter", None)
        if built is not None:
            await built.aclose()


async def _redis_answers() -> bool:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        return bool(await client.ping())
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    if asyncio.run(_redis_answers()):
        return REDIS_URL
    if os.environ.get("CI") == "true":
        pytest.fail(f"Redis is required (CI=true) but does not answer at {REDIS_URL}")
    pytest.skip(f"Redis does not answer at {REDIS_URL}")


@pytest.fixture
async def key_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are removed afterwards."""
    prefix = f"stockroom-test:{uuid.uuid4().hex}"
    yield prefix
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_rate_limits_are_off_by_default(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    answers = [await client.get("/sites", headers=brand.admin.headers) for _ in range(20)]

    assert {a.status_code for a in answers} == {200}
    assert not any(name.lower().startswith("ratelimit") for name in answers[-1].headers)


async def test_beyond_the_limit_a_token_gets_429_with_retry_after_and_its_standing(
    settings: Settings, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    limited = settings.model_copy(update={"rate_limit": "3/hour"})

    async with serving(limited) as client:
        answers = [await client.get("/sites", headers=brand.admin.headers) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert answers[0].headers["RateLimit-Limit"] == "3"
    assert answers[0].headers["RateLimit-Policy"] == "3;w=3600"
    refused = answers[3]
    error_of(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Limit"] == "3"


async def test_each_token_has_its_own_count(settings: Settings, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    limited = settings.model_copy(update={"rate_limit": "2/hour"})

    async with serving(limited) as client:
        for _ in range(2):
            assert (await client.get("/sites", headers=brand.admin.headers)).status_code == 200
        admin_again = await client.get("/sites", headers=brand.admin.headers)
        viewer_first = await client.get("/sites", headers=viewer.headers)

    error_of(admin_again, 429, "rate_limited")
    assert viewer_first.status_code == 200
    assert viewer_first.headers["RateLimit-Remaining"] == "1"


async def test_requests_without_a_valid_token_get_401_and_do_not_count(
    settings: Settings, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    unknown = {"Authorization": "Bearer sr_" + "x" * 40}
    limited = settings.model_copy(update={"rate_limit": "2/hour"})

    async with serving(limited) as client:
        strangers = [await client.get("/sites", headers=unknown) for _ in range(5)]
        admin = [await client.get("/sites", headers=brand.admin.headers) for _ in range(2)]

    assert {a.status_code for a in strangers} == {401}
    assert [a.status_code for a in admin] == [200, 200]


async def test_the_tightest_limit_is_the_one_reported_and_enforced(
    settings: Settings, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    limited = settings.model_copy(update={"rate_limit": "100/hour;2/minute"})

    async with serving(limited) as client:
        answers = [await client.get("/sites", headers=brand.admin.headers) for _ in range(3)]

    assert answers[0].headers["RateLimit-Limit"] == "2"
    assert answers[0].headers["RateLimit-Policy"] == "100;w=3600, 2;w=60"
    error_of(answers[2], 429, "rate_limited")
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60


async def test_with_redis_every_worker_shares_the_count(
    settings: Settings, db: Database, redis_url: str, key_prefix: str
) -> None:
    brand = await create_brand_with_admin(db)
    limited = settings.model_copy(update={"rate_limit": "3/hour", "redis_url": redis_url})

    def worker_limiter() -> RateLimiter:
        return RateLimiter(limited.rate_limit, redis_url=redis_url, key_prefix=key_prefix)

    async with (
        serving(limited, worker_limiter()) as one,
        serving(limited, worker_limiter()) as two,
    ):
        first = [await one.get("/sites", headers=brand.admin.headers) for _ in range(2)]
        third = await two.get("/sites", headers=brand.admin.headers)
        fourth = await two.get("/sites", headers=brand.admin.headers)

    assert [a.status_code for a in first] == [200, 200]
    assert third.status_code == 200
    assert third.headers["RateLimit-Remaining"] == "0"
    error_of(fourth, 429, "rate_limited")
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert [key async for key in client.scan_iter(match=f"{key_prefix}*")]
    finally:
        await client.aclose()


async def test_the_redis_url_setting_puts_the_counters_in_redis(
    settings: Settings,
    db: Database,
    redis_url: str,
    key_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Built from the settings alone, as `stockroom serve` builds it (only the prefix is this
    # test's own).
    monkeypatch.setattr("stockroom.ratelimit.KEY_PREFIX", key_prefix)
    brand = await create_brand_with_admin(db)
    limited = settings.model_copy(update={"rate_limit": "5/hour", "redis_url": redis_url})

    async with serving(limited) as client:
        answer = await client.get("/sites", headers=brand.admin.headers)

    assert answer.headers["RateLimit-Remaining"] == "4"
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert [key async for key in client.scan_iter(match=f"{key_prefix}*")]
    finally:
        await client.aclose()


async def test_an_unreachable_redis_lets_requests_through(settings: Settings, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    # Nothing listens on port 1 of the loopback: every connection is refused at once.
    limited = settings.model_copy(
        update={"rate_limit": "1/hour", "redis_url": "redis://127.0.0.1:1/0"}
    )

    async with serving(limited) as client:
        answers = [await client.get("/sites", headers=brand.admin.headers) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "RateLimit-Limit" not in answers[0].headers


async def test_every_protected_operation_declares_the_429(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("security") == []:
                continue
            declared = operation["responses"].get("429", {})
            assert "rate_limited" in declared.get("description", ""), f"{method} {path}"
