"""Stock counts through HTTP: start, record from several devices, read, complete, cancel."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.counts.helpers import count_adjustments, read, sell, start
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.movements.ledger_setup import on_hand


async def test_sales_made_after_a_line_was_counted_survive_completion(
    client: httpx.AsyncClient, db: Database
) -> None:
    # The books say 12; at 09:00:00 the shelf is counted: 10. At 09:00:05 three are sold.
    # Completing at 09:00:10 must apply −2 (the difference found when counting), not
    # "set to 10" (which would wipe out the sale): 12 − 3 − 2 = 7.
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 12)
    count = await start(client, brand)

    recorded = await client.put(
        f"/inventory/counts/{count['id']}/lines",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(tea), "counted_quantity": 10}]},
    )
    assert recorded.status_code == 200, recorded.text
    await sell(client, brand, tea, 3)
    completed = await client.post(
        f"/inventory/counts/{count['id']}/complete", headers=brand.admin.headers
    )

    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert body["status"] == "completed"
    assert [(m["quantity"], m["reason_code"], m["reference"]) for m in body["movements"]] == [
        (-2, "recount", count["id"])
    ]
    [line] = body["lines"]
    assert (line["counted_quantity"], line["expected"], line["variance"]) == (10, 12, -2)
    assert line["counted_by"] == str(brand.admin.user_id)
    assert await on_hand(brand, tea) == 7
    assert [m["quantity"] for m in await count_adjustments(client, brand, count["id"])] == [-2]


async def test_the_latest_entry_for_a_level_wins_with_its_own_expected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, cups = await create_product(brand, sku="A-TEA"), await create_product(brand, sku="B-CUP")
    await put_stock(brand, tea, 20)
    await put_stock(brand, cups, 4)
    count = await start(client, brand)
    url = f"/inventory/counts/{count['id']}/lines"

    first = await client.put(
        url,
        headers=brand.admin.headers,
        json={
            "lines": [
                {"product_id": str(tea), "counted_quantity": 18},
                {"product_id": str(cups), "counted_quantity": 4},
            ]
        },
    )
    assert first.status_code == 200, first.text
    await sell(client, brand, tea, 5)
    # A second device recounts the tea after the sale: its entry replaces the first one,
    # and its expected is the on hand at its own instant (15).
    second = await client.put(
        url,
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(tea), "counted_quantity": 14}]},
    )
    assert second.status_code == 200, second.text

    lines = {line["product_id"]: line for line in second.json()["lines"]}
    assert (lines[str(tea)]["counted_quantity"], lines[str(tea)]["expected"]) == (14, 15)
    assert lines[str(tea)]["variance"] == -1
    assert (lines[str(cups)]["expected"], lines[str(cups)]["variance"]) == (4, 0)
    done = await client.post(
        f"/inventory/counts/{count['id']}/complete", headers=brand.admin.headers
    )
    assert done.status_code == 200, done.text
    # One adjustment only: the cups matched.
    assert [(m["product_id"], m["quantity"]) for m in done.json()["movements"]] == [(str(tea), -1)]
    assert await on_hand(brand, tea) == 14
    assert await on_hand(brand, cups) == 4


async def test_a_count_lists_what_is_not_counted_yet_and_can_zero_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shelf_a = await create_location(brand, brand.site_id, name="A")
    shelf_b = await create_location(brand, brand.site_id, name="B")
    plain = await create_product(brand, sku="A-PLAIN")
    located = await create_product(brand, sku="B-LOC", location_aware=True)
    empty = await create_product(brand, sku="C-EMPTY")
    archived = await create_product(brand, sku="D-GONE")
    await put_stock(brand, plain, 6)
    await put_stock(brand, located, 3, location_id=shelf_a)
    await put_stock(brand, located, 5, location_id=shelf_b)
    archive = await client.delete(f"/products/{archived}", headers=brand.admin.headers)
    assert archive.status_code in (200, 204), archive.text
    count = await start(client, brand)
    assert count["product_ids"] is None
    assert count["uncounted"] is None  # listed on GET only: it can be the whole catalogue
    assert (await read(client, brand, count))["uncounted"] == [
        {"product_id": str(plain), "location_id": None},
        {"product_id": str(located), "location_id": shelf_a},
        {"product_id": str(located), "location_id": shelf_b},
        {"product_id": str(empty), "location_id": None},
    ]

    recorded = await client.put(
        f"/inventory/counts/{count['id']}/lines",
        headers=brand.admin.headers,
        json={
            "lines": [{"product_id": str(located), "location_id": shelf_a, "counted_quantity": 4}]
        },
    )
    assert recorded.status_code == 200, recorded.text
    assert {
        (u["product_id"], u["location_id"]) for u in (await read(client, brand, count))["uncounted"]
    } == {
        (str(plain), None),
        (str(located), shelf_b),
        (str(empty), None),
    }
    done = await client.post(
        f"/inventory/counts/{count['id']}/complete",
        headers=brand.admin.headers,
        json={"zero_uncounted": True},
    )

    assert done.status_code == 200, done.text
    assert done.json()["uncounted"] is None
    assert sorted((m["location_id"] or 0, m["quantity"]) for m in done.json()["movements"]) == [
        (0, -6),
        (shelf_a, 1),
        (shelf_b, -5),
    ]
    assert await on_hand(brand, plain) == 0
    assert await on_hand(brand, located) == 4


async def test_uncounted_products_are_left_alone_by_default(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, cups = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 8)
    await put_stock(brand, cups, 9)
    count = await start(
        client,
        brand,
        product_ids=[str(tea), str(cups)],
        lines=[{"product_id": str(tea), "counted_quantity": 7}],
    )
    assert sorted(count["product_ids"]) == sorted([str(tea), str(cups)])
    assert (await read(client, brand, count))["uncounted"] == [
        {"product_id": str(cups), "location_id": None}
    ]

    done = await client.post(
        f"/inventory/counts/{count['id']}/complete", headers=brand.admin.headers, json={}
    )

    assert done.status_code == 200, done.text
    assert await on_hand(brand, tea) == 7
    assert await on_hand(brand, cups) == 9


async def test_count_and_apply_in_one_call(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 5)

    count = await start(
        client, brand, lines=[{"product_id": str(tea), "counted_quantity": 11}], complete=True
    )

    assert count["status"] == "completed"
    assert count["completed_at"] is not None
    assert [m["quantity"] for m in count["movements"]] == [6]
    assert await on_hand(brand, tea) == 11


async def test_a_count_of_one_location_counts_its_location_aware_products(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shelf = await create_location(brand, brand.site_id, name="Shelf")
    other = await create_location(brand, brand.site_id, name="Other")
    located = await create_product(brand, location_aware=True)
    plain = await create_product(brand)
    await put_stock(brand, located, 5, location_id=shelf)
    await put_stock(brand, located, 2, location_id=other)
    count = await start(client, brand, location_id=shelf)
    assert (await read(client, brand, count))["uncounted"] == [
        {"product_id": str(located), "location_id": shelf}
    ]
    url = f"/inventory/counts/{count['id']}/lines"

    # The line's location defaults to the count's.
    ok = await client.put(
        url,
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(located), "counted_quantity": 3}]},
    )
    elsewhere = await client.put(
        url,
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(located), "location_id": other, "counted_quantity": 3}]},
    )
    not_located = await client.put(
        url,
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(plain), "counted_quantity": 3}]},
    )

    assert ok.status_code == 200, ok.text
    assert ok.json()["lines"][0]["location_id"] == shelf
    for refused, field in (
        (elsewhere, "lines[0].location_id"),
        (not_located, "lines[0].product_id"),
    ):
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"][0]["field"] == field
    done = await client.post(
        f"/inventory/counts/{count['id']}/complete", headers=brand.admin.headers
    )
    assert done.status_code == 200, done.text
    assert await on_hand(brand, located) == 3 + 2


async def test_cancel_writes_nothing_and_closes_the_count(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 5)
    count = await start(client, brand, lines=[{"product_id": str(tea), "counted_quantity": 1}])
    url = f"/inventory/counts/{count['id']}"

    cancelled = await client.post(f"{url}/cancel", headers=brand.admin.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"] is not None

    again: list[httpx.Response] = [
        await client.post(f"{url}/cancel", headers=brand.admin.headers),
        await client.post(f"{url}/complete", headers=brand.admin.headers),
        await client.put(
            f"{url}/lines",
            headers=brand.admin.headers,
            json={"lines": [{"product_id": str(tea), "counted_quantity": 2}]},
        ),
    ]
    for response in again:
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "count_closed"
    assert await on_hand(brand, tea) == 5
    assert await count_adjustments(client, brand, count["id"]) == []


async def test_list_filters_by_status_and_site(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand, name="Warehouse")
    tea = await create_product(brand)
    open_here = await start(client, brand)
    done_here = await start(
        client, brand, lines=[{"product_id": str(tea), "counted_quantity": 0}], complete=True
    )
    there = await start(client, brand, site_id=str(other_site))

    async def ids(**params: Any) -> list[str]:
        response = await client.get("/inventory/counts", headers=brand.admin.headers, params=params)
        assert response.status_code == 200, response.text
        assert all(c["uncounted"] is None for c in response.json()["data"])
        return [c["id"] for c in response.json()["data"]]

    assert await ids() == [there["id"], done_here["id"], open_here["id"]]
    assert await ids(status="open") == [there["id"], open_here["id"]]
    assert await ids(status="completed", site_id=str(brand.site_id)) == [done_here["id"]]
    assert await ids(workspace_id=str(other_site)) == [there["id"]]
    got = await client.get(f"/inventory/counts/{there['id']}", headers=brand.admin.headers)
    assert got.status_code == 200
    assert got.json()["site_id"] == str(other_site)
    missing = await client.get(f"/inventory/counts/{uuid.uuid4()}", headers=brand.admin.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_a_retried_put_does_not_move_the_instant_a_line_was_counted(
    client: httpx.AsyncClient, db: Database
) -> None:
    # A device's PUT is retried after a sale (its first answer was lost): the shelf was
    # counted before the sale, and the retry must not say otherwise.
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 12)
    count = await start(client, brand)
    url = f"/inventory/counts/{count['id']}/lines"
    body = {"lines": [{"product_id": str(tea), "counted_quantity": 10}]}

    first = await client.put(url, headers=brand.admin.headers, json=body)
    await sell(client, brand, tea, 3)
    retry = await client.put(url, headers=brand.admin.headers, json=body)

    assert retry.status_code == 200, retry.text
    assert retry.json()["lines"] == first.json()["lines"]
    assert retry.json()["lines"][0]["expected"] == 12
    done = await client.post(
        f"/inventory/counts/{count['id']}/complete", headers=brand.admin.headers
    )
    assert done.status_code == 200, done.text
    assert await on_hand(brand, tea) == 7
