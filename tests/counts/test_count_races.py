"""Counts under concurrent writers: sales racing line entries and completion, repeated completes."""

from __future__ import annotations

import asyncio

import httpx

from stockroom.ledger.verify import verify_ledger
from tests.counts.helpers import count_adjustments, sell, start
from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.movements.ledger_setup import on_hand

STOCK = 60
SALES_WHILE_COUNTING = 12
SALES_WHILE_COMPLETING = 12
COUNTED = 50
CONCURRENT_COMPLETES = 6


async def test_sales_racing_the_count_are_all_kept(client: httpx.AsyncClient, db: Database) -> None:
    # The books say 60, the shelf holds 50 (10 went missing). Single-unit sales run while
    # the line is recorded and while the count is completed. Whatever the interleaving,
    # each sale lands before the line was read (then it is in `expected`) or after (then
    # completing keeps it): the final stock is the count minus the sales after counting.
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, STOCK)
    count = await start(client, brand)
    url = f"/inventory/counts/{count['id']}"

    async def record() -> httpx.Response:
        return await client.put(
            f"{url}/lines",
            headers=brand.admin.headers,
            json={"lines": [{"product_id": str(tea), "counted_quantity": COUNTED}]},
        )

    half = SALES_WHILE_COUNTING // 2
    first = await asyncio.gather(
        *(sell(client, brand, tea, 1) for _ in range(half)),
        record(),
        *(sell(client, brand, tea, 1) for _ in range(SALES_WHILE_COUNTING - half)),
    )
    recorded = first.pop(half)
    second = await asyncio.gather(
        client.post(f"{url}/complete", headers=brand.admin.headers),
        *(sell(client, brand, tea, 1) for _ in range(SALES_WHILE_COMPLETING)),
    )

    assert recorded.status_code == 200, recorded.text
    completed = second[0]
    assert completed.status_code == 200, completed.text
    sales = [r for r in [*first, *second[1:]] if r.status_code == 201]
    assert len(sales) == SALES_WHILE_COUNTING + SALES_WHILE_COMPLETING  # stock never ran out
    [line] = completed.json()["lines"]
    sold_before_counting = STOCK - line["expected"]
    assert 0 <= sold_before_counting <= SALES_WHILE_COUNTING
    sold_after_counting = len(sales) - sold_before_counting
    assert await on_hand(brand, tea) == COUNTED - sold_after_counting
    adjustments = await count_adjustments(client, brand, count["id"])
    # One recount adjustment of the difference found when counting (none when it matched).
    variance = COUNTED - line["expected"]
    assert [m["quantity"] for m in adjustments] == ([variance] if variance else [])
    async with db.engine.connect() as conn:
        assert (await verify_ledger(conn)).ok


async def test_devices_racing_on_one_level_leave_one_consistent_line(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 30)
    count = await start(client, brand)
    url = f"/inventory/counts/{count['id']}"

    answers = await asyncio.gather(
        *(
            client.put(
                f"{url}/lines",
                headers=brand.admin.headers,
                json={"lines": [{"product_id": str(tea), "counted_quantity": q}]},
            )
            for q in range(20, 28)
        ),
        *(sell(client, brand, tea, 1) for _ in range(6)),
    )

    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    got = await client.get(url, headers=brand.admin.headers)
    [line] = got.json()["lines"]
    # The stored line is one device's entry, whole: its quantity and its own expected.
    assert line["counted_quantity"] in range(20, 28)
    assert 30 - 6 <= line["expected"] <= 30
    done = await client.post(f"{url}/complete", headers=brand.admin.headers)
    assert done.status_code == 200, done.text
    sold_after = line["expected"] - (30 - 6)
    assert await on_hand(brand, tea) == line["counted_quantity"] - sold_after


async def test_concurrent_completions_apply_the_count_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 9)
    count = await start(client, brand, lines=[{"product_id": str(tea), "counted_quantity": 4}])

    answers = await asyncio.gather(
        *(
            client.post(f"/inventory/counts/{count['id']}/complete", headers=brand.admin.headers)
            for _ in range(CONCURRENT_COMPLETES)
        )
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [422] * (CONCURRENT_COMPLETES - 1), [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 422} == {"count_closed"}
    assert await on_hand(brand, tea) == 4
    assert [m["quantity"] for m in await count_adjustments(client, brand, count["id"])] == [-5]


async def test_a_retried_complete_with_its_idempotency_key_writes_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 9)
    count = await start(client, brand, lines=[{"product_id": str(tea), "counted_quantity": 7}])
    headers = {**brand.admin.headers, "Idempotency-Key": f"complete-{count['id']}"}
    url = f"/inventory/counts/{count['id']}/complete"

    first = await client.post(url, headers=headers, json={})
    retries = [await client.post(url, headers=headers, json={}) for _ in range(3)]
    without_key = await client.post(url, headers=brand.admin.headers, json={})

    assert first.status_code == 200, first.text
    for retry in retries:
        assert retry.status_code == 200
        assert retry.json() == first.json()
    assert without_key.status_code == 422
    assert without_key.json()["error"]["code"] == "count_closed"
    assert await on_hand(brand, tea) == 7
    assert [m["quantity"] for m in await count_adjustments(client, brand, count["id"])] == [-2]


async def test_a_retried_count_and_apply_with_its_idempotency_key_writes_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 3)
    headers = {**brand.admin.headers, "Idempotency-Key": "shelf-7-monday"}
    body = {"lines": [{"product_id": str(tea), "counted_quantity": 5}], "complete": True}

    answers = [await client.post("/inventory/counts", headers=headers, json=body) for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await on_hand(brand, tea) == 5
    listed = await client.get("/inventory/counts", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 1


async def test_a_count_that_would_take_stock_below_zero_stays_open(
    client: httpx.AsyncClient, db: Database
) -> None:
    # Counted 2 of 10, then 9 sold (the count was wrong): applying −8 now would go below zero.
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 10)
    count = await start(client, brand, lines=[{"product_id": str(tea), "counted_quantity": 2}])
    await put_stock(brand, tea, -9)
    url = f"/inventory/counts/{count['id']}"

    refused = await client.post(f"{url}/complete", headers=brand.admin.headers)

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "insufficient_stock"
    assert refused.json()["error"]["details"][0]["field"] == "lines[0].quantity"
    assert (await client.get(url, headers=brand.admin.headers)).json()["status"] == "open"
    assert await on_hand(brand, tea) == 1
    # Recount and apply.
    fixed = await client.put(
        f"{url}/lines",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(tea), "counted_quantity": 0}]},
    )
    assert fixed.status_code == 200, fixed.text
    done = await client.post(f"{url}/complete", headers=brand.admin.headers)
    assert done.status_code == 200, done.text
    assert await on_hand(brand, tea) == 0
