"""The database unreachable while the pipeline looks a token up or claims a key: 503, not 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from stockroom.app import create_app
from stockroom.auth.token_cache import TOKEN_CACHE
from stockroom.settings import Settings
from tests.server import free_port

TOKEN = {"Authorization": "Bearer sr_" + "a" * 43}


@pytest.fixture
async def unreachable() -> AsyncIterator[httpx.AsyncClient]:
    # Nothing listens on this port: every connection is refused.
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/none", auth_cache_seconds=0
    )
    app = create_app(settings)
    TOKEN_CACHE.clear()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.mark.parametrize(
    ("method", "headers", "body"),
    [
        ("GET", TOKEN, None),
        ("POST", TOKEN, {"quantity": 1}),
        ("POST", {**TOKEN, "Idempotency-Key": "k"}, {"quantity": 1}),
    ],
    ids=["read", "write", "keyed write"],
)
async def test_requests_answer_503_with_retry_after(
    unreachable: httpx.AsyncClient, method: str, headers: dict[str, str], body: object
) -> None:
    response = await unreachable.request(
        method, "/inventory/adjustments", headers=headers, json=body
    )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert response.headers["retry-after"] == "1"


async def test_without_a_token_it_is_still_401(unreachable: httpx.AsyncClient) -> None:
    response = await unreachable.get("/inventory/adjustments")
    assert response.status_code == 401
