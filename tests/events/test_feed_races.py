"""The feed never skips an event, even when transactions commit out of order.

The classic outbox gap: an event numbered when written (a sequence) by a transaction that
commits late gets a number below events a reader has already passed, and is never read.
Here events are numbered only once committed (PostgreSQL) or by the one writer holding the
database (SQLite); these tests hold a transaction open across a later commit, and race 20
writers against a reader, comparing what the reader saw with the ledger.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from stockroom.db.engine import WRITE
from stockroom.db.models import StockMovement
from stockroom.ledger import MovementDraft, post_movements
from stockroom.worker import run_once
from tests.factories import Brand, Database, create_brand_with_admin, create_product

WRITERS = 20
WRITES_PER_WRITER = 4


async def follow(
    client: httpx.AsyncClient, brand: Brand, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Read the feed from `after` to its current end; return the events and the cursor."""
    seen: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": 7} | ({"after": after} if after is not None else {})
        response = await client.get("/events", headers=brand.admin.headers, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["data"]
        after = body["meta"]["next_cursor"]
        if not body["meta"]["has_more"]:
            return seen, after


def adjustment(brand: Brand, product: uuid.UUID, quantity: int) -> MovementDraft:
    return MovementDraft(
        type="adjustment", product_id=product, site_id=brand.site_id, quantity=quantity
    )


async def test_an_event_committed_after_a_later_one_is_still_read_once(
    client: httpx.AsyncClient, db: Database, backend: str
) -> None:
    brand = await create_brand_with_admin(db)
    early, late = await create_product(brand), await create_product(brand)

    async with db.sessionmaker() as held:
        # The early transaction writes its event first and stays open.
        await held.connection(execution_options={WRITE: True})
        await post_movements(held, brand.id, [adjustment(brand, early, 1)], user_id=None)
        if backend == "sqlite":
            # One writer at a time: no later transaction can commit while this one is open.
            # A reader still sees nothing of it until it commits.
            seen, cursor = await follow(client, brand, None)
            assert seen == []
        else:
            # A later transaction commits while the early one is still open.
            response = await client.post(
                "/inventory/adjustments",
                headers=brand.admin.headers,
                json={"product_id": str(late), "quantity": 2},
            )
            assert response.status_code == 201, response.text
            seen, cursor = await follow(client, brand, None)
            assert [e["data"]["product_id"] for e in seen] == [str(late)]
        await held.commit()

    more, _ = await follow(client, brand, cursor)
    assert [e["data"]["product_id"] for e in more] == [str(early)]


async def test_twenty_writers_and_a_follower_every_event_exactly_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    products = [await create_product(brand) for _ in range(4)]
    rng = random.Random(13)
    writing = True

    async def writer(n: int) -> None:
        for _ in range(WRITES_PER_WRITER):
            product = rng.choice(products)
            response = await client.post(
                "/inventory/adjustments",
                headers=brand.admin.headers,
                json={"product_id": str(product), "quantity": rng.randint(1, 5)},
            )
            assert response.status_code == 201, response.text
            await asyncio.sleep(0)

    async def relay() -> None:
        # The worker numbers events too, racing the readers' numbering.
        while writing:
            await run_once(db.sessionmaker)
            await asyncio.sleep(0)

    seen: list[dict[str, Any]] = []

    async def reader() -> str | None:
        cursor = None
        while writing:
            events, cursor = await follow(client, brand, cursor)
            seen.extend(events)
            await asyncio.sleep(0)
        return cursor

    async def writers() -> None:
        nonlocal writing
        try:
            await asyncio.gather(*(writer(n) for n in range(WRITERS)))
        finally:
            writing = False

    _, _, cursor = await asyncio.gather(writers(), relay(), reader())
    rest, _ = await follow(client, brand, cursor)
    seen += rest

    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "an event was read twice"
    async with db.sessionmaker() as session:
        ledger = set(
            (
                await session.execute(
                    select(StockMovement.id).where(StockMovement.brand_id == brand.id)
                )
            ).scalars()
        )
    read = [uuid.UUID(e["data"]["id"]) for e in seen if e["type"] == "movement.created"]
    assert len(read) == WRITERS * WRITES_PER_WRITER
    assert set(read) == ledger
