"""Many clients at once: no unit is promised twice, and sales honour the promises."""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.reservations.helpers import (
    assert_ledger_sound,
    error_code,
    level,
    line,
    reserve,
    sell,
)


async def test_forty_clients_reserving_one_of_thirty_three_get_exactly_thirty_three(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 33)

    responses = await asyncio.gather(
        *(reserve(client, brand, [line(product, 1)], reference=f"SO-{i}") for i in range(40))
    )

    won = [r for r in responses if r.status_code == 201]
    lost = [r for r in responses if r.status_code != 201]
    assert len(won) == 33
    assert len(lost) == 7
    assert {error_code(r) for r in lost} == {"insufficient_available"}
    for r in lost:
        [detail] = r.json()["error"]["details"]
        assert (detail["available"], detail["requested"]) == (0, 1)
    assert await level(client, brand, product) == {
        "on_hand": 33,
        "reserved": 33,
        "available": 0,
        "in_transit": 0,
    }

    # A sale without a reservation finds nothing available; each holder can buy its unit.
    assert error_code(await sell(client, brand, product, 1)) == "insufficient_available"
    sales = await asyncio.gather(
        *(sell(client, brand, product, 1, reservation_id=r.json()["id"]) for r in won[:10])
    )
    assert [s.status_code for s in sales] == [201] * 10
    assert await level(client, brand, product) == {
        "on_hand": 23,
        "reserved": 23,
        "available": 0,
        "in_transit": 0,
    }
    # The same reservation cannot be sold twice, even by clients racing each other.
    twice = await asyncio.gather(
        *(sell(client, brand, product, 1, reservation_id=won[10].json()["id"]) for _ in range(5))
    )
    assert sorted(s.status_code for s in twice) == [201, 422, 422, 422, 422]
    assert {error_code(s) for s in twice if s.status_code == 422} == {"reservation_closed"}
    await assert_ledger_sound(db)


async def test_reservations_and_plain_sales_racing_never_oversell_available(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 20)

    results = await asyncio.gather(
        *(reserve(client, brand, [line(product, 1)]) for _ in range(15)),
        *(sell(client, brand, product, 1) for _ in range(15)),
    )

    assert sum(r.status_code == 201 for r in results) == 20
    assert {error_code(r) for r in results if r.status_code != 201} <= {"insufficient_available"}
    figures = await level(client, brand, product)
    assert figures["available"] == 0
    assert figures["on_hand"] == figures["reserved"]
    await assert_ledger_sound(db)
