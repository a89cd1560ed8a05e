"""/purchases through HTTP: received stock, the weighted average cost, scope, on both backends."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx

from stockroom.auth.principal import Role
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.movements.ledger_setup import all_movements, on_hand, product_cost


def line(product: uuid.UUID, quantity: Any, cost: Any = "1.00", **extra: Any) -> dict:
    return {"product_id": str(product), "quantity": quantity, "cost_per_unit": cost, **extra}


async def purchase(
    client: httpx.AsyncClient, brand: Brand, lines: list[dict], **body: Any
) -> httpx.Response:
    return await client.post(
        "/purchases", headers=brand.admin.headers, json={"lines": lines, **body}
    )


async def test_purchase_receives_each_line_with_its_cost(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    cups = await create_product(brand, location_aware=True)
    shelf = await create_location(brand, brand.site_id)

    response = await purchase(
        client,
        brand,
        [line(tea, 10, "2.5"), line(cups, 4, 0.75, location_id=shelf)],
        reference="PO-1042",
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["site_id"] == str(brand.site_id)
    assert body["reference"] == "PO-1042"
    assert body["user_id"] == str(brand.admin.user_id)
    assert body["created_at"].endswith("Z")
    assert [
        (m["type"], m["product_id"], m["quantity"], m["unit_cost"], m["location_id"])
        for m in body["movements"]
    ] == [
        ("purchase", str(tea), 10, "2.5", None),
        ("purchase", str(cups), 4, "0.75", shelf),
    ]
    assert {m["reference"] for m in body["movements"]} == {"PO-1042"}
    assert await on_hand(brand, tea) == 10
    assert await on_hand(brand, cups) == 4
    reported = await all_movements(client, brand.admin.headers, type="purchase")
    assert {m["id"] for m in reported} == {m["id"] for m in body["movements"]}


async def test_cost_becomes_the_weighted_average_of_stock_on_hand(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    kitchen = await create_site(brand, name="Kitchen")
    product = await create_product(brand, cost_per_unit="2.00")
    await put_stock(brand, product, 6)
    await put_stock(brand, product, 4, site_id=kitchen)  # brand-wide on hand: 10 at 2.00

    first = await purchase(client, brand, [line(product, 30, "3.00")])
    assert first.status_code == 201, first.text
    assert await product_cost(brand, product) == Decimal("2.75")  # (10·2 + 30·3) / 40

    # Two lines of one product at two costs average in together: (40·2.75 + 10·1 + 10·4) / 60.
    second = await purchase(
        client, brand, [line(product, 10, 1), line(product, 10, "4")], site_id=str(kitchen)
    )
    assert second.status_code == 201, second.text
    assert await product_cost(brand, product) == Decimal("2.6667")
    assert await on_hand(brand, product) == 60


async def test_without_stock_on_hand_the_purchase_cost_is_taken(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    overdrawn = await create_site(brand, name="Bar", allow_negative_stock=True)
    fresh = await create_product(brand, cost_per_unit="9.99")
    owed = await create_product(brand, cost_per_unit="5.00")
    await put_stock(brand, owed, -3, site_id=overdrawn)

    response = await purchase(client, brand, [line(fresh, 7, "1.10"), line(owed, 5, "2")])

    assert response.status_code == 201, response.text
    assert await product_cost(brand, fresh) == Decimal("1.1")
    assert await product_cost(brand, owed) == Decimal("2")
    assert await on_hand(brand, owed) == 2


async def test_concurrent_purchases_each_average_in_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    sites = [brand.site_id, await create_site(brand, name="Kitchen")]
    product = await create_product(brand, cost_per_unit="10")
    await put_stock(brand, product, 10)
    costs = [Decimal(c) for c in ("1", "2", "3", "4", "5", "6", "7", "8")]

    answers = await asyncio.gather(
        *(
            purchase(client, brand, [line(product, 10, str(cost))], site_id=str(sites[i % 2]))
            for i, cost in enumerate(costs)
        )
    )

    assert [a.status_code for a in answers] == [201] * len(costs)
    # The weighted average does not depend on the order the purchases land in.
    expected = (10 * Decimal(10) + sum(10 * c for c in costs)) / (10 + 10 * len(costs))
    assert abs(await product_cost(brand, product) - expected) < Decimal("0.001")
    assert await on_hand(brand, product) == 10 + 10 * len(costs)


async def test_purchase_input_is_validated(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    product = await create_product(brand, cost_per_unit="3")
    foreign = await create_product(other)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"lines": []}, "lines"),
        ({"lines": [line(product, 0)]}, "lines[0].quantity"),
        ({"lines": [line(product, "3")]}, "lines[0].quantity"),
        ({"lines": [line(product, 1, "-1")]}, "lines[0].cost_per_unit"),
        ({"lines": [line(product, 1, "Infinity")]}, "lines[0].cost_per_unit"),
        ({"lines": [{"product_id": str(product), "quantity": 1}]}, "lines[0].cost_per_unit"),
        ({"lines": [line(product, 1), line(foreign, 2)]}, "lines[1].product_id"),
        ({"lines": [line(product, 1)], "reference": "R" * 256}, "reference"),
        ({"lines": [line(product, 1)], "site_id": str(other.site_id)}, "site_id"),
    ]
    for body, field in cases:
        response = await client.post("/purchases", headers=brand.admin.headers, json=body)
        assert response.status_code == 422, (field, response.text)
        assert field in [d["field"] for d in response.json()["error"]["details"]], field
    assert await on_hand(brand, product) == 0
    assert await product_cost(brand, product) == Decimal("3")
    assert await on_hand(other, foreign) == 0


async def test_only_writers_of_the_site_may_purchase(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    kitchen = await create_site(brand, name="Kitchen")
    stranger = await create_caller(brand, Role.manager, site_ids=[kitchen])
    body = {"lines": [line(product, 1)], "site_id": str(brand.site_id)}

    assert (await client.post("/purchases", headers=viewer.headers, json=body)).status_code == 403
    assert (await client.post("/purchases", headers=stranger.headers, json=body)).status_code == 403
    assert (await client.post("/purchases", json=body)).status_code == 401
    assert await on_hand(brand, product) == 0


async def test_purchases_can_be_read_back(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    kitchen = await create_site(brand, name="Kitchen")
    tea, coffee = await create_product(brand), await create_product(brand)
    made = []
    for reference, site in [("PO-1", brand.site_id), (None, kitchen), ("PO-3", brand.site_id)]:
        response = await purchase(
            client, brand, [line(tea, 2), line(coffee, 3)], reference=reference, site_id=str(site)
        )
        made.append(response.json())
    kitchen_viewer = await create_caller(brand, Role.viewer, site_ids=[kitchen])

    one = await client.get(f"/purchases/{made[1]['id']}", headers=brand.admin.headers)
    listed = (await client.get("/purchases", headers=brand.admin.headers)).json()
    at_kitchen = (await client.get("/purchases", headers=kitchen_viewer.headers)).json()
    hidden = await client.get(f"/purchases/{made[0]['id']}", headers=kitchen_viewer.headers)

    assert one.status_code == 200
    got = one.json()
    assert {k: v for k, v in got.items() if k != "movements"} == {
        k: v for k, v in made[1].items() if k != "movements"
    }
    assert sorted(m["id"] for m in got["movements"]) == sorted(
        m["id"] for m in made[1]["movements"]
    )
    assert [p["reference"] for p in listed["data"]] == ["PO-3", None, "PO-1"]
    assert [len(p["movements"]) for p in listed["data"]] == [2, 2, 2]
    assert listed["meta"]["total"] == 3
    assert [p["id"] for p in at_kitchen["data"]] == [made[1]["id"]]
    assert hidden.status_code == 404


async def test_another_brand_cannot_see_purchases_or_use_its_products(
    client: httpx.AsyncClient, db: Database
) -> None:
    mine = await create_brand_with_admin(db)
    theirs = await create_brand_with_admin(db)
    their_product = await create_product(theirs, cost_per_unit="4")
    theirs_purchase = (await purchase(client, theirs, [line(their_product, 1, "4")])).json()

    read = await client.get(f"/purchases/{theirs_purchase['id']}", headers=mine.admin.headers)
    listed = (await client.get("/purchases", headers=mine.admin.headers)).json()
    use = await purchase(client, mine, [line(their_product, 5, "0")])

    assert read.status_code == 404
    assert listed["data"] == []
    assert use.status_code == 422
    assert await on_hand(theirs, their_product) == 1
    assert await product_cost(theirs, their_product) == Decimal("4")
    assert await all_movements(client, mine.admin.headers) == []
