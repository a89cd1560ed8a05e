"""`GET /events`: admins only, every change's event in order, the cursor, the type filter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
)


async def adjust(client: httpx.AsyncClient, brand: Brand, product: Any, quantity: int) -> Any:
    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": quantity, "reason_code": "correction"},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def feed(
    client: httpx.AsyncClient, brand: Brand, **params: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = await client.get("/events", headers=brand.admin.headers, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["data"], body["meta"]


async def test_an_adjustment_is_in_the_feed_as_the_movement_the_api_answered(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    movement = await adjust(client, brand, product, 5)

    events, meta = await feed(client, brand)

    assert [(e["type"], e["data"]) for e in events] == [("movement.created", movement)]
    assert set(events[0]) == {"id", "type", "created_at", "data"}
    assert meta["has_more"] is False


async def test_following_next_cursor_reads_each_event_once_in_order(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    made = [(await adjust(client, brand, product, q))["id"] for q in (1, 2, 3, 4, 5)]

    seen: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"after": after} if after else {})
        events, meta = await feed(client, brand, **params)
        seen += [e["data"]["id"] for e in events]
        after = meta["next_cursor"]
        if not meta["has_more"]:
            break
    assert seen == made

    await adjust(client, brand, product, 6)
    events, _ = await feed(client, brand, after=after)
    assert [e["data"]["quantity"] for e in events] == [6]


async def test_the_type_filter_reads_only_those_types_and_moves_past_the_others(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, min_stock=3)
    await adjust(client, brand, product, 5)  # replenished: 0 → 5 crosses 3
    await adjust(client, brand, product, -4)  # low

    events, meta = await feed(client, brand, type="stock.low,stock.replenished")
    assert [e["type"] for e in events] == ["stock.replenished", "stock.low"]
    everything, _ = await feed(client, brand)
    assert meta["next_cursor"] == str(len(everything))

    events, _ = await feed(client, brand, type="stock.low", after=meta["next_cursor"])
    assert events == []


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_the_feed_is_for_admins_only(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    caller = await create_caller(brand, role, site_ids=[brand.site_id])

    response = await client.get("/events", headers=caller.headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1001}, {"after": "-1"}, {"after": "abc"}, {"type": "stock.gone"}],
)
async def test_bad_feed_parameters_are_refused(
    client: httpx.AsyncClient, db: Database, params: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get("/events", headers=brand.admin.headers, params=params)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
