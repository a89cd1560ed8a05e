"""`/webhooks` through HTTP: admins only, the secret shown once and kept encrypted, rotation,
and the SSRF refusal of loopback URLs (the only URLs any test ever uses)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from stockroom.app import create_app
from stockroom.auth.principal import Role
from stockroom.db.models import IdempotencyKey, WebhookEndpoint
from stockroom.settings import Settings
from stockroom.webhooks.secrets import decrypt_secret
from tests.factories import Brand, Database, create_brand_with_admin, create_caller

LOOPBACK = "http://127.0.0.1:9/hooks"  # the discard port: nothing listens, nothing is sent


@pytest.fixture
async def brand(db: Database) -> Brand:
    return await create_brand_with_admin(db)


async def create(client: httpx.AsyncClient, brand: Brand, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/webhooks", headers=brand.admin.headers, json={"url": LOOPBACK, "events": ["*"], **body}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_secret_is_shown_once_and_signs_in_the_standard_webhooks_form(
    client: httpx.AsyncClient, brand: Brand
) -> None:
    created = await create(client, brand, description="ERP")
    assert created["secret"].startswith("whsec_")
    Webhook(created["secret"])  # the reference implementation accepts it
    one = await client.get(f"/webhooks/{created['id']}", headers=brand.admin.headers)
    listed = await client.get("/webhooks", headers=brand.admin.headers)
    assert one.status_code == 200 and "secret" not in one.json()
    assert [w["id"] for w in listed.json()["data"]] == [created["id"]]
    assert created["secret"] not in one.text + listed.text
    assert one.json()["events"] == ["*"] and one.json()["enabled"] is True


async def test_the_secret_is_stored_encrypted(
    client: httpx.AsyncClient, brand: Brand, db: Database
) -> None:
    created = await create(client, brand)
    async with db.sessionmaker() as session:
        stored = (
            await session.execute(
                select(WebhookEndpoint.secret_encrypted).where(
                    WebhookEndpoint.id == uuid.UUID(created["id"])
                )
            )
        ).scalar_one()
    raw = created["secret"].removeprefix("whsec_")
    assert raw not in stored and created["secret"] not in stored


async def test_rotating_gives_a_new_secret_once(client: httpx.AsyncClient, brand: Brand) -> None:
    created = await create(client, brand)
    rotated = await client.post(
        f"/webhooks/{created['id']}/rotate-secret", headers=brand.admin.headers
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]


async def _stored_answer(db: Database, brand: Brand, key: str) -> bytes:
    async with db.sessionmaker() as session:
        stored = (
            await session.execute(
                select(IdempotencyKey.response_body).where(
                    IdempotencyKey.brand_id == brand.id, IdempotencyKey.key == key
                )
            )
        ).scalar_one()
    assert stored is not None
    return bytes(stored)


async def test_a_replayed_create_answers_the_same_secret_and_never_stores_it_in_plaintext(
    client: httpx.AsyncClient, brand: Brand, db: Database
) -> None:
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    body = {"url": LOOPBACK, "events": ["*"]}
    first = await client.post("/webhooks", headers=brand.admin.headers | key, json=body)
    again = await client.post("/webhooks", headers=brand.admin.headers | key, json=body)
    assert first.status_code == again.status_code == 201, first.text + again.text
    assert again.headers["idempotent-replayed"] == "true"
    # The client that lost the first answer gets the secret it needs, and one endpoint only.
    assert again.json() == first.json()
    assert first.headers["cache-control"] == again.headers["cache-control"] == "no-store"
    listed = await client.get("/webhooks", headers=brand.admin.headers)
    assert [w["id"] for w in listed.json()["data"]] == [first.json()["id"]]
    stored = await _stored_answer(db, brand, key["Idempotency-Key"])
    secret = first.json()["secret"]
    assert b"whsec_" not in stored
    assert secret.removeprefix("whsec_").encode() not in stored
    assert first.json()["id"].encode() not in stored  # the whole answer is encrypted


async def test_a_replayed_rotation_rotates_once_and_keeps_the_secret_encrypted(
    client: httpx.AsyncClient, brand: Brand, db: Database, settings: Settings
) -> None:
    created = await create(client, brand)
    key = {"Idempotency-Key": f"rotate-{uuid.uuid4()}"}
    path = f"/webhooks/{created['id']}/rotate-secret"
    first = await client.post(path, headers=brand.admin.headers | key)
    again = await client.post(path, headers=brand.admin.headers | key)
    assert first.status_code == again.status_code == 200, first.text + again.text
    assert again.json()["secret"] == first.json()["secret"] != created["secret"]
    async with db.sessionmaker() as session:
        encrypted = (
            await session.execute(
                select(WebhookEndpoint.secret_encrypted).where(
                    WebhookEndpoint.id == uuid.UUID(created["id"])
                )
            )
        ).scalar_one()
    # Rotated once: the endpoint signs with the secret both answers show.
    assert decrypt_secret(settings, encrypted) == first.json()["secret"]
    stored = await _stored_answer(db, brand, key["Idempotency-Key"])
    assert b"whsec_" not in stored
    assert first.json()["secret"].removeprefix("whsec_").encode() not in stored


async def test_a_stored_secret_answer_is_not_replayed_once_the_secret_key_changed(
    client: httpx.AsyncClient, brand: Brand, settings: Settings
) -> None:
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    body = {"url": LOOPBACK, "events": ["*"]}
    first = await client.post("/webhooks", headers=brand.admin.headers | key, json=body)
    assert first.status_code == 201, first.text
    other = create_app(settings.model_copy(update={"secret_key": Fernet.generate_key().decode()}))
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://stockroom.test") as c:
            again = await c.post("/webhooks", headers=brand.admin.headers | key, json=body)
    assert again.status_code == 422, again.text
    assert again.json()["error"]["code"] == "idempotency_conflict"
    assert "whsec_" not in again.text


async def test_patch_changes_url_events_and_enabled_and_delete_removes_it(
    client: httpx.AsyncClient, brand: Brand
) -> None:
    created = await create(client, brand)
    path, h = f"/webhooks/{created['id']}", brand.admin.headers
    patched = await client.patch(
        path,
        headers=h,
        json={"url": "http://localhost:9/other", "events": ["stock.low"], "enabled": False},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["url"], body["events"], body["enabled"]) == (
        "http://localhost:9/other",
        ["stock.low"],
        False,
    )
    assert (await client.delete(path, headers=h)).status_code == 204
    assert (await client.get(path, headers=h)).status_code == 404
    assert (await client.delete(path, headers=h)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://127.0.0.1/x", "events": ["*"]},
        {"url": "not a url", "events": ["*"]},
        {"url": "http://user:pw@127.0.0.1/x", "events": ["*"]},
        {"url": LOOPBACK, "events": []},
        {"url": LOOPBACK, "events": ["no.such.type"]},
        {"url": LOOPBACK, "events": ["*", "stock.low"]},
        {"url": LOOPBACK, "events": ["*"], "secret": "mine"},
    ],
)
async def test_bad_bodies_are_422(
    client: httpx.AsyncClient, brand: Brand, body: dict[str, Any]
) -> None:
    response = await client.post("/webhooks", headers=brand.admin.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_managers_and_viewers_are_refused(
    client: httpx.AsyncClient, brand: Brand, role: Role
) -> None:
    caller = await create_caller(brand, role, site_ids=[brand.site_id])
    created = await create(client, brand)
    for method, path in [
        ("GET", "/webhooks"),
        ("POST", "/webhooks"),
        ("GET", f"/webhooks/{created['id']}"),
        ("GET", f"/webhooks/{created['id']}/deliveries"),
        ("POST", f"/webhooks/{created['id']}/rotate-secret"),
        ("DELETE", f"/webhooks/{created['id']}"),
    ]:
        body = {"url": LOOPBACK, "events": ["*"]} if method == "POST" else None
        response = await client.request(method, path, headers=caller.headers, json=body)
        assert response.status_code == 403, (method, path, response.text)


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API as deployed by default: private addresses refused."""
    app = create_app(settings.model_copy(update={"webhook_allow_private": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "https://127.0.0.2/hooks",
        "http://localhost/hooks",
        "http://LOCALHOST./hooks",
        "http://[::1]:8080/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://2130706433/hooks",  # 127.0.0.1 as one decimal number
    ],
)
async def test_loopback_urls_are_refused_unless_private_addresses_are_allowed(
    strict_client: httpx.AsyncClient, client: httpx.AsyncClient, db: Database, url: str
) -> None:
    brand = await create_brand_with_admin(db)
    body = {"url": url, "events": ["*"]}
    refused = await strict_client.post("/webhooks", headers=brand.admin.headers, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "url"
    created = await create(client, brand)  # STOCKROOM_WEBHOOK_ALLOW_PRIVATE=true (the suite)
    patched = await strict_client.patch(
        f"/webhooks/{created['id']}", headers=brand.admin.headers, json={"url": url}
    )
    assert patched.status_code == 422, patched.text
