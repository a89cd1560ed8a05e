"""Expiry is exact at `expires_at`, for reads and writes, before and after the sweeper runs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from stockroom.db.models import Reservation, StockLevel
from stockroom.worker import run_once
from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock
from tests.reservations.conftest import Clock
from tests.reservations.helpers import (
    assert_ledger_sound,
    error_code,
    level,
    line,
    reserve,
    sell,
)

TICK = timedelta(microseconds=1)


async def stored(db: Database, brand: Brand, product: uuid.UUID) -> int:
    """The level's stored `reserved` (what the sweeper brings up to date)."""
    async with db.sessionmaker() as session:
        return int(
            (
                await session.execute(
                    select(StockLevel.reserved).where(
                        StockLevel.brand_id == brand.id, StockLevel.product_id == product
                    )
                )
            ).scalar_one()
        )


async def stored_status(db: Database, reservation_id: str) -> str:
    async with db.sessionmaker() as session:
        return str(
            (
                await session.execute(
                    select(Reservation.status).where(Reservation.id == uuid.UUID(reservation_id))
                )
            ).scalar_one()
        )


async def sweep_until_quiet(db: Database) -> None:
    while await run_once(db.sessionmaker):
        pass


async def test_units_stop_counting_exactly_at_expires_at_without_the_sweeper(
    client: httpx.AsyncClient, db: Database, frozen_clock: Clock
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, min_stock=5)
    await put_stock(brand, product, 10)
    reservation = (await reserve(client, brand, [line(product, 6)], ttl_seconds=60)).json()
    expires_at = datetime.fromisoformat(reservation["expires_at"])
    assert expires_at == frozen_clock.now + timedelta(seconds=60)
    url = f"/inventory/reservations/{reservation['id']}"

    frozen_clock.set(expires_at - TICK)
    assert await level(client, brand, product) == {
        "on_hand": 10,
        "reserved": 6,
        "available": 4,
        "in_transit": 0,
    }
    assert (await client.get(url, headers=brand.admin.headers)).json()["status"] == "active"
    assert error_code(await sell(client, brand, product, 5)) == "insufficient_available"
    assert error_code(await reserve(client, brand, [line(product, 5)])) == "insufficient_available"
    low = await client.get("/inventory/low-stock", headers=brand.admin.headers)
    assert str(product) in {i["product_id"] for i in low.json()["data"]}

    frozen_clock.set(expires_at)
    assert await level(client, brand, product) == {
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
        "in_transit": 0,
    }
    assert (await client.get(url, headers=brand.admin.headers)).json()["status"] == "expired"
    low = await client.get("/inventory/low-stock", headers=brand.admin.headers)
    assert str(product) not in {i["product_id"] for i in low.json()["data"]}
    assert error_code(await sell(client, brand, product, 1, reservation_id=reservation["id"])) == (
        "reservation_closed"
    )
    for action, body in (("release", None), ("extend", {"ttl_seconds": 600})):
        closed = await client.post(f"{url}/{action}", headers=brand.admin.headers, json=body)
        assert error_code(closed) == "reservation_closed"
    # Nobody swept: the stored figure still counts the hold, every reader and writer ignores it.
    assert await stored(db, brand, product) == 6
    assert await stored_status(db, reservation["id"]) == "active"
    assert (await sell(client, brand, product, 7)).status_code == 201
    assert (await reserve(client, brand, [line(product, 3)])).status_code == 201
    await assert_ledger_sound(db)

    await sweep_until_quiet(db)

    assert await stored_status(db, reservation["id"]) == "expired"
    assert await stored(db, brand, product) == 3  # the new reservation only
    assert await level(client, brand, product) == {
        "on_hand": 3,
        "reserved": 3,
        "available": 0,
        "in_transit": 0,
    }
    await assert_ledger_sound(db)


async def test_an_invoice_racing_the_sweeper_at_expires_at_loses_every_time(
    client: httpx.AsyncClient, db: Database, frozen_clock: Clock
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 20)
    reservations = [
        (await reserve(client, brand, [line(product, 1)], ttl_seconds=60)).json() for _ in range(10)
    ]
    frozen_clock.set(datetime.fromisoformat(reservations[0]["expires_at"]))

    results = await asyncio.gather(
        *(sell(client, brand, product, 1, reservation_id=r["id"]) for r in reservations),
        *(run_once(db.sessionmaker) for _ in range(3)),
    )

    sales = results[: len(reservations)]
    assert [error_code(s) for s in sales] == ["reservation_closed"] * len(reservations)  # type: ignore[arg-type]
    await sweep_until_quiet(db)
    assert {await stored_status(db, r["id"]) for r in reservations} == {"expired"}
    assert await stored(db, brand, product) == 0
    assert (await level(client, brand, product))["on_hand"] == 20
    await assert_ledger_sound(db)


async def test_an_invoice_racing_the_sweeper_just_before_expiry_wins_every_time(
    client: httpx.AsyncClient, db: Database, frozen_clock: Clock
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 30)
    reservations = [
        (await reserve(client, brand, [line(product, 3)], ttl_seconds=60)).json() for _ in range(10)
    ]
    expires_at = datetime.fromisoformat(reservations[0]["expires_at"])
    frozen_clock.set(expires_at - TICK)

    # Each sells 2 of its 3; the sweeper runs alongside and finds nothing due.
    results = await asyncio.gather(
        *(sell(client, brand, product, 2, reservation_id=r["id"]) for r in reservations),
        *(run_once(db.sessionmaker) for _ in range(3)),
    )

    sales = results[: len(reservations)]
    assert [s.status_code for s in sales] == [201] * len(reservations)  # type: ignore[union-attr]
    assert {await stored_status(db, r["id"]) for r in reservations} == {"active"}
    assert await level(client, brand, product) == {
        "on_hand": 10,
        "reserved": 10,
        "available": 0,
        "in_transit": 0,
    }

    # At expires_at the unsold unit of each is no longer held; the sweeper then records it.
    frozen_clock.set(expires_at)
    late = await asyncio.gather(
        *(sell(client, brand, product, 1, reservation_id=r["id"]) for r in reservations),
        *(run_once(db.sessionmaker) for _ in range(3)),
    )
    assert [error_code(s) for s in late[: len(reservations)]] == ["reservation_closed"] * 10  # type: ignore[arg-type]
    await sweep_until_quiet(db)
    for r in reservations:
        body = (
            await client.get(f"/inventory/reservations/{r['id']}", headers=brand.admin.headers)
        ).json()
        assert (body["status"], body["lines"][0]["remaining"]) == ("expired", 1)
    assert await stored(db, brand, product) == 0
    assert await level(client, brand, product) == {
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
        "in_transit": 0,
    }
    await assert_ledger_sound(db)
