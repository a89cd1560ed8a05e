"""Authentication comes first: without a valid token nothing about the request is judged.

A body with NUL, an oversized body (declared or sent), a 256-character Idempotency-Key,
malformed JSON or an unknown path under the API all answer 401 to a caller without a valid
token, so it learns nothing about validation; with a token the same requests get their
422/413.
"""

from __future__ import annotations

import httpx
import pytest

from stockroom.settings import Settings
from tests.factories import Database, create_brand_with_admin

NUL_BODY = (
    b'{"product_id": "00000000-0000-0000-0000-000000000000", "quantity": 1,'
    b' "reason_code": "a\\u0000b"}'
)
LONG_KEY = "k" * 256

NO_TOKEN: dict[str, str] = {}
BAD_TOKEN = {"Authorization": "Bearer sr_" + "x" * 40}


def requests(settings: Settings) -> dict[str, tuple[str, dict[str, str], bytes, int]]:
    """name → (path, extra headers, body, the answer a valid token gets)."""
    json = {"Content-Type": "application/json"}
    return {
        "NUL in the body": ("/inventory/adjustments", json, NUL_BODY, 422),
        "body over the limit": (
            "/inventory/adjustments",
            json,
            b'{"notes": "' + b"x" * (settings.max_body_bytes + 10) + b'"}',
            413,
        ),
        "256-character key": (
            "/inventory/adjustments",
            {**json, "Idempotency-Key": LONG_KEY},
            b'{"quantity": 1}',
            422,
        ),
        "malformed JSON": ("/inventory/adjustments", json, b'{"quantity": ', 422),
        "NUL with a key": (
            "/inventory/adjustments",
            {**json, "Idempotency-Key": "fine"},
            NUL_BODY,
            422,
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "NUL in the body",
        "body over the limit",
        "256-character key",
        "malformed JSON",
        "NUL with a key",
    ],
)
@pytest.mark.parametrize("credentials", ["none", "unknown token"])
async def test_an_unauthenticated_caller_gets_401_before_any_validation(
    client: httpx.AsyncClient, db: Database, settings: Settings, name: str, credentials: str
) -> None:
    path, headers, body, with_token = requests(settings)[name]
    auth = NO_TOKEN if credentials == "none" else BAD_TOKEN

    response = await client.post(path, headers={**headers, **auth}, content=body)

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response.json()["error"]["details"] == []
    assert response.headers["www-authenticate"] == "Bearer"
    # And the request is a bad one: a valid token gets the validation answer.
    brand = await create_brand_with_admin(db)
    judged = await client.post(path, headers={**headers, **brand.admin.headers}, content=body)
    assert judged.status_code == with_token, judged.text


async def test_a_declared_oversized_body_without_a_token_is_401(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(
        "/inventory/adjustments",
        headers={"Content-Length": str(settings.max_body_bytes + 1)},
        content=b"x" * (settings.max_body_bytes + 1),
    )
    assert response.status_code == 401


async def test_an_unknown_path_under_the_api_is_401_without_a_token(
    client: httpx.AsyncClient, db: Database
) -> None:
    assert (await client.get("/inventory/no-such-thing")).status_code == 401
    brand = await create_brand_with_admin(db)
    found = await client.get("/inventory/no-such-thing", headers=brand.admin.headers)
    assert found.status_code == 404


async def test_the_dashboard_and_health_need_no_bearer_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/")).status_code == 200
