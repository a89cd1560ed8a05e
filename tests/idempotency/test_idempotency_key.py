"""Idempotency-Key on POST: one execution, replayed answers, conflicts, and the size limit."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from stockroom.auth.tokens import load_principal
from stockroom.db.models import IdempotencyKey, StockMovement
from stockroom.db.models.base import utcnow
from stockroom.idempotency.calls import caller_fingerprint
from stockroom.idempotency.store import (
    LEASE,
    Claim,
    claim_key,
    purge_expired_keys,
)
from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock


async def movement_count(db: Database, brand: Brand) -> int:
    async with db.sessionmaker() as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(StockMovement)
                    .where(StockMovement.brand_id == brand.id)
                )
            ).scalar_one()
        )


def adjust(client: httpx.AsyncClient, brand: Brand, body: dict[str, object], key: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/inventory/adjustments",
        headers={**brand.admin.headers, "Idempotency-Key": key},
        json=body,
    )


async def test_a_retry_with_the_same_key_replays_the_answer_and_writes_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    body = {"product_id": str(product), "quantity": 4}

    first = await adjust(client, brand, body, "retry-me")
    second = await adjust(client, brand, body, "retry-me")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert await movement_count(db, brand) == 1


async def test_the_same_key_with_another_body_is_a_conflict(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    await adjust(client, brand, {"product_id": str(product), "quantity": 4}, "k1")
    other = await adjust(client, brand, {"product_id": str(product), "quantity": 5}, "k1")

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert await movement_count(db, brand) == 1


async def test_a_refused_request_is_not_stored_so_a_later_retry_runs(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    body = {"product_id": str(product), "quantity": -3}

    refused = await adjust(client, brand, body, "sell-3")
    await put_stock(brand, product, 10)
    retried = await adjust(client, brand, body, "sell-3")

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "insufficient_stock"
    assert retried.status_code == 201
    assert retried.json()["quantity"] == -3


async def test_a_burst_of_identical_requests_with_one_key_writes_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    body = {"product_id": str(product), "quantity": 1}

    responses = await asyncio.gather(*(adjust(client, brand, body, "burst") for _ in range(20)))

    statuses = {r.status_code for r in responses}
    assert statuses <= {201, 409}
    created = [r.json() for r in responses if r.status_code == 201]
    assert created and all(c == created[0] for c in created)
    in_flight = [r for r in responses if r.status_code == 409]
    assert all(r.json()["error"]["code"] == "idempotency_in_progress" for r in in_flight)
    assert await movement_count(db, brand) == 1


async def test_keys_are_scoped_to_the_brand(client: httpx.AsyncClient, db: Database) -> None:
    brand_a = await create_brand_with_admin(db)
    brand_b = await create_brand_with_admin(db)
    product_a = await create_product(brand_a)
    product_b = await create_product(brand_b)

    a = await adjust(client, brand_a, {"product_id": str(product_a), "quantity": 2}, "shared")
    b = await adjust(client, brand_b, {"product_id": str(product_b), "quantity": 2}, "shared")

    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert await movement_count(db, brand_b) == 1


async def test_a_key_longer_than_255_characters_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await adjust(client, brand, {"product_id": str(product), "quantity": 1}, "k" * 256)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    assert await movement_count(db, brand) == 0


async def test_a_body_over_the_limit_is_refused_with_413(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    huge = (
        b'{"product_id": "'
        + str(uuid.uuid4()).encode()
        + b'", "notes": "'
        + b"x" * 2_000_000
        + b'"}'
    )

    response = await client.post(
        "/inventory/adjustments",
        headers={**brand.admin.headers, "Content-Type": "application/json"},
        content=huge,
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def age_key(db: Database, brand: Brand, key: str, **values: object) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.brand_id == brand.id, IdempotencyKey.key == key)
            .values(**values)
        )


async def test_a_key_past_its_24_hours_runs_the_request_anew(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    body = {"product_id": str(product), "quantity": 2}
    await adjust(client, brand, body, "old-key")
    await age_key(db, brand, "old-key", expires_at=utcnow() - timedelta(seconds=1))

    again = await adjust(client, brand, body, "old-key")

    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert await movement_count(db, brand) == 2


async def test_expired_keys_are_purged(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await adjust(client, brand, {"product_id": str(product), "quantity": 1}, "to-purge")
    await adjust(client, brand, {"product_id": str(product), "quantity": 1}, "to-keep")
    await age_key(db, brand, "to-purge", expires_at=utcnow() - timedelta(hours=1))

    async with db.transaction() as session:
        purged = await purge_expired_keys(session)
        left = set(
            (
                await session.execute(
                    select(IdempotencyKey.key).where(IdempotencyKey.brand_id == brand.id)
                )
            ).scalars()
        )

    assert purged >= 1
    assert left == {"to-keep"}


async def test_a_claim_whose_worker_died_is_taken_over_after_the_lease(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    body = json.dumps({"product_id": str(product), "quantity": 3}).encode()
    async with db.sessionmaker() as session:
        admin = await load_principal(session, brand.admin.token)
    fingerprint = caller_fingerprint("POST", "/inventory/adjustments", b"", body, admin, None)
    # A claim with no response: what a worker killed in the middle of the request leaves.
    async with db.transaction() as session:
        assert (await claim_key(session, brand.id, "orphan", fingerprint)).outcome is Claim.new

    def send() -> Any:
        return client.post(
            "/inventory/adjustments",
            headers={
                **brand.admin.headers,
                "Idempotency-Key": "orphan",
                "Content-Type": "application/json",
            },
            content=body,
        )

    in_flight = await send()
    await age_key(db, brand, "orphan", created_at=utcnow() - LEASE - timedelta(seconds=1))
    taken_over = await send()

    assert in_flight.status_code == 409
    assert in_flight.json()["error"]["code"] == "idempotency_in_progress"
    assert taken_over.status_code == 201
    assert await movement_count(db, brand) == 1
