"""Each change writes its events in its own transaction, with `data` as the API answered it;
a refused change writes none; stock.low / stock.replenished only when min_stock is crossed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from stockroom.events import record
from stockroom.worker import run_once
from tests.events.test_feed import feed
from tests.factories import Brand, Database, create_brand_with_admin, create_product, create_site
from tests.reservations.conftest import Clock
from tests.reservations.helpers import line, reserve, sell


async def types_since(
    client: httpx.AsyncClient, brand: Brand, after: str | None
) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    events, meta = await feed(client, brand, **({"after": after} if after else {}))
    return [(e["type"], e["data"]) for e in events], meta["next_cursor"]


async def post(client: httpx.AsyncClient, brand: Brand, path: str, body: Any = None) -> Any:
    response = await client.post(path, headers=brand.admin.headers, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_low_and_replenished_fire_only_when_available_crosses_min_stock(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, min_stock=5)
    adjust = "/inventory/adjustments"

    steps = [10, -3, -3, -1, 2, 3]  # 10 (up), 7, 4 (low), 3, 5 (back), 8
    for quantity in steps:
        await post(client, brand, adjust, {"product_id": str(tea), "quantity": quantity})
    events, _ = await types_since(client, brand, None)
    crossings = [(t, d["available"]) for t, d in events if t.startswith("stock.")]

    assert crossings == [("stock.replenished", 10), ("stock.low", 4), ("stock.replenished", 5)]
    low = next(d for t, d in events if t == "stock.low")
    assert low == {
        "product_id": str(tea),
        "site_id": str(brand.site_id),
        "min_stock": 5,
        "on_hand": 4,
        "reserved": 0,
        "available": 4,
        "previous_available": 7,
    }


async def test_a_reservation_is_a_crossing_too_and_its_life_is_in_the_feed(
    client: httpx.AsyncClient, db: Database, frozen_clock: Clock
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, min_stock=3)
    await post(client, brand, "/inventory/adjustments", {"product_id": str(tea), "quantity": 5})
    _, cursor = await types_since(client, brand, None)

    held = (await reserve(client, brand, [line(tea, 4)])).json()
    released = await post(client, brand, f"/inventory/reservations/{held['id']}/release")
    sold_from = (await reserve(client, brand, [line(tea, 2)])).json()
    invoice = (await sell(client, brand, tea, 2, reservation_id=sold_from["id"])).json()
    expiring = (await reserve(client, brand, [line(tea, 1)], ttl_seconds=60)).json()
    frozen_clock.set(datetime.fromisoformat(expiring["expires_at"]))
    while await run_once(db.sessionmaker):
        pass

    events, _ = await types_since(client, brand, cursor)
    assert [t for t, _ in events] == [
        "stock.low",  # 4 of 5 reserved: available 1 < 3
        "reservation.created",
        "stock.replenished",  # released: 5
        "reservation.released",
        "reservation.created",  # 2 reserved: available 3, not below 3: no event
        "reservation.consumed",
        "movement.created",  # selling reserved units leaves available as it was
        "invoice.created",
        "stock.low",  # 1 more reserved: available 2
        "reservation.created",
        "stock.replenished",  # the sweeper gives the unit back
        "reservation.expired",
    ]
    data = dict(events)
    assert data["reservation.released"] == released
    assert data["invoice.created"] == invoice
    assert data["reservation.expired"]["id"] == expiring["id"]
    assert data["reservation.expired"]["status"] == "expired"


async def test_invoices_counts_and_transfers_record_their_events(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_site(brand)
    tea = await create_product(brand)
    await post(client, brand, "/inventory/adjustments", {"product_id": str(tea), "quantity": 9})
    _, cursor = await types_since(client, brand, None)

    transfer = await post(
        client,
        brand,
        "/inventory/transfers",
        {"product_id": str(tea), "destination_site_id": str(other), "quantity": 2},
    )
    invoice = (await sell(client, brand, tea, 1)).json()
    voided = await post(client, brand, f"/invoices/{invoice['id']}/void")
    count = await post(client, brand, "/inventory/counts", {})
    response = await client.put(
        f"/inventory/counts/{count['id']}/lines",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(tea), "counted_quantity": 5}]},
    )
    assert response.status_code == 200, response.text
    completed = await post(client, brand, f"/inventory/counts/{count['id']}/complete")

    events, _ = await types_since(client, brand, cursor)
    assert [t for t, _ in events] == [
        "movement.created",
        "movement.created",
        "transfer.shipped",
        "transfer.received",
        "movement.created",
        "invoice.created",
        "movement.created",
        "invoice.voided",
        "movement.created",
        "count.completed",
    ]
    data = dict(events)
    assert data["transfer.shipped"] == transfer == data["transfer.received"]
    assert data["invoice.voided"] == voided
    assert data["count.completed"] == completed


async def test_a_refused_change_writes_no_event(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, min_stock=1)

    refused = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(tea), "quantity": -1},
    )

    assert refused.status_code == 422
    events, _ = await types_since(client, brand, None)
    assert events == []


async def test_a_large_write_records_its_events_in_chunks_in_order(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three lines in statements of two rows: the movements' events first, then the crossings.
    monkeypatch.setattr(record, "CHUNK", 2)
    brand = await create_brand_with_admin(db)
    products = [await create_product(brand, min_stock=1) for _ in range(3)]

    movements = await post(
        client,
        brand,
        "/inventory/adjustments",
        {"products": [{"product_id": str(p), "quantity": 2} for p in products], "reason": "found"},
    )

    events, _ = await types_since(client, brand, None)
    assert [t for t, _ in events] == ["movement.created"] * 3 + ["stock.replenished"] * 3
    assert [d for t, d in events if t == "movement.created"] == movements["data"]
    assert {d["product_id"] for t, d in events if t == "stock.replenished"} == {
        str(p) for p in products
    }
