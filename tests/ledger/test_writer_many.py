"""The writer's many-line path, through HTTP on both backends: what a request of up to 500
lines leaves behind — levels, movements, their events and the day checkpoints — row for row,
and nothing at all when it is refused.

On PostgreSQL each of those is one statement fed column by column (ledger/statements.py,
events/record.py, ledger/timeline.py); these tests hold it to what a line-by-line writer
would leave: every line's movement and movement.created event in line order, a crossing
event per (product, site) whose available units cross min_stock, one checkpoint per level
and day with the day's net quantity, and no checkpoint for a net of zero.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from stockroom.catalog.service import create_product as _create_product
from stockroom.db.models import Event, StockLevel, StockLevelDay, StockMovement
from tests.errors.shape import detail_fields, error_of
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)


async def create_products(brand: Brand, count: int, **overrides: Any) -> list[uuid.UUID]:
    """`count` products in one transaction (`min_stock` may be a function of the index)."""
    min_stock = overrides.pop("min_stock", lambda i: 0)
    async with brand.db.transaction() as session:
        return [
            (
                await _create_product(
                    session,
                    brand.id,
                    sku=f"SKU-{uuid.uuid4().hex[:12]}",
                    name="Widget",
                    min_stock=min_stock(i),
                    **overrides,
                )
            ).id
            for i in range(count)
        ]


async def ledger_of(brand: Brand) -> dict[str, Any]:
    """Everything the writer keeps for the brand: levels, movement count, events in feed
    order (type and data), checkpoints."""
    async with brand.db.transaction() as session:
        levels = {
            (r.product_id, r.site_id, r.location_id): (r.on_hand, r.reserved)
            for r in await session.execute(
                select(
                    StockLevel.product_id,
                    StockLevel.site_id,
                    StockLevel.location_id,
                    StockLevel.on_hand,
                    StockLevel.reserved,
                ).where(StockLevel.brand_id == brand.id)
            )
        }
        movements = len(
            (
                await session.execute(
                    select(StockMovement.id).where(StockMovement.brand_id == brand.id)
                )
            ).all()
        )
        events = [
            (r.type, r.data)
            for r in await session.execute(
                select(Event.type, Event.data).where(Event.brand_id == brand.id).order_by(Event.seq)
            )
        ]
        days = {
            (r.product_id, r.site_id, r.location_id, r.day): r.quantity
            for r in await session.execute(
                select(
                    StockLevelDay.product_id,
                    StockLevelDay.site_id,
                    StockLevelDay.location_id,
                    StockLevelDay.day,
                    StockLevelDay.quantity,
                ).where(StockLevelDay.brand_id == brand.id)
            )
        }
    return {"levels": levels, "movements": movements, "events": events, "days": days}


def day_of(movement: dict[str, Any]) -> date:
    return datetime.fromisoformat(movement["occurred_at"]).astimezone(UTC).date()


def crossing(
    kind: str, product: uuid.UUID, site: uuid.UUID, min_stock: int, before: int, after: int
) -> tuple[str, dict[str, Any]]:
    return (
        kind,
        {
            "product_id": str(product),
            "site_id": str(site),
            "min_stock": min_stock,
            "on_hand": after,
            "reserved": 0,
            "available": after,
            "previous_available": before,
        },
    )


async def test_an_initial_stock_of_500_lines_leaves_every_movement_event_and_checkpoint(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    site = await create_site(brand, name="New shop")
    # Every fifth product has a min_stock of 10; quantities run 0..19, so some lines open
    # at zero (a level, no checkpoint), some below min_stock, some at or above it.
    products = await create_products(brand, 500, min_stock=lambda i: 10 if i % 5 == 0 else 0)
    quantities = [i % 20 for i in range(500)]
    costs = [None if i % 3 else f"{1 + i / 100:.2f}" for i in range(500)]
    lines = [
        {"product_id": str(p), "quantity": q} | ({"cost_per_unit": c} if c else {})
        for p, q, c in zip(products, quantities, costs, strict=True)
    ]

    response = await client.post(
        "/inventory/initial-stock",
        headers=brand.admin.headers,
        json={"site_id": str(site), "products": lines},
    )

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert [(m["product_id"], m["quantity"]) for m in data] == [
        (str(p), q) for p, q in zip(products, quantities, strict=True)
    ]
    assert [m["unit_cost"] for m in data] == [
        None if c is None else str(Decimal(c).normalize()) for c in costs
    ]
    assert {(m["type"], m["site_id"]) for m in data} == {("initial_stock", str(site))}
    today = day_of(data[0])
    ledger = await ledger_of(brand)
    assert ledger["movements"] == 500
    assert ledger["levels"] == {
        (p, site, 0): (q, 0) for p, q in zip(products, quantities, strict=True)
    }
    assert ledger["days"] == {
        (p, site, 0, today): q for p, q in zip(products, quantities, strict=True) if q
    }
    assert ledger["events"] == [("movement.created", m) for m in data] + [
        crossing("stock.replenished", p, site, 10, 0, q)
        for i, (p, q) in enumerate(zip(products, quantities, strict=True))
        if i % 5 == 0 and q >= 10
    ]


async def test_a_batch_mixing_new_and_existing_levels_and_repeated_lines_nets_each_level(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    site = brand.site_id
    watched = await create_product(brand, min_stock=10)  # 20 → 8: crosses below
    stocked = await create_product(brand)  # 5 → 7
    binned = await create_product(brand, location_aware=True)
    shelf, crate = await create_location(brand, site), await create_location(brand, site, name="C")
    await put_stock(brand, watched, 20)
    await put_stock(brand, stocked, 5)
    await put_stock(brand, binned, 3, location_id=shelf)
    fresh = await create_products(brand, 40)  # no level yet
    before = await ledger_of(brand)
    lines = [
        {"product_id": str(watched), "quantity": -6},
        {"product_id": str(stocked), "quantity": 2},
        *({"product_id": str(p), "quantity": 1 + i % 3} for i, p in enumerate(fresh)),
        {"product_id": str(binned), "quantity": -1, "location_id": shelf},
        {"product_id": str(binned), "quantity": 7, "location_id": crate},
        {"product_id": str(watched), "quantity": -6},
    ]

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"products": lines, "reason": "recount"},
    )

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert [m["quantity"] for m in data] == [line["quantity"] for line in lines]
    today = day_of(data[0])
    after = await ledger_of(brand)
    assert after["movements"] == before["movements"] + len(lines)
    expected_levels = dict(before["levels"])
    expected_levels[(watched, site, 0)] = (8, 0)
    expected_levels[(stocked, site, 0)] = (7, 0)
    expected_levels[(binned, site, shelf)] = (2, 0)
    expected_levels[(binned, site, crate)] = (7, 0)
    expected_levels |= {(p, site, 0): (1 + i % 3, 0) for i, p in enumerate(fresh)}
    assert after["levels"] == expected_levels
    # Every level's movements are all of today: its checkpoint is its level.
    assert after["days"] == {
        (product, site_id, location, today): on_hand
        for (product, site_id, location), (on_hand, _) in expected_levels.items()
    }
    assert after["events"] == before["events"] + [("movement.created", m) for m in data] + [
        crossing("stock.low", watched, site, 10, 20, 8)
    ]


async def test_a_500_line_request_repeating_a_product_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    products = await create_products(brand, 499)
    lines = [{"product_id": str(p), "quantity": 5} for p in products]
    lines.append({"product_id": str(products[250]), "quantity": 1})
    before = await ledger_of(brand)

    response = await client.post(
        "/inventory/initial-stock", headers=brand.admin.headers, json={"products": lines}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["products[499].product_id"]
    assert "products[250]" in error["details"][0]["message"]
    assert await ledger_of(brand) == before


async def test_a_500_line_request_with_unknown_products_names_each_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    products = await create_products(brand, 498)
    lines = [{"product_id": str(p), "quantity": 5} for p in products]
    lines.insert(17, {"product_id": str(uuid.uuid4()), "quantity": 5})
    lines.append({"product_id": str(uuid.uuid4()), "quantity": 5})
    before = await ledger_of(brand)

    response = await client.post(
        "/inventory/initial-stock", headers=brand.admin.headers, json={"products": lines}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["products[17].product_id", "products[499].product_id"]
    assert await ledger_of(brand) == before


async def test_a_batch_with_one_short_line_among_many_writes_no_level_event_or_checkpoint(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    scarce = await create_product(brand, min_stock=1)
    await put_stock(brand, scarce, 2)
    fresh = await create_products(brand, 100, min_stock=lambda i: 1)
    before = await ledger_of(brand)
    lines = [{"product_id": str(p), "quantity": 3} for p in fresh]
    lines.insert(60, {"product_id": str(scarce), "quantity": -3})

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"products": lines, "reason": "damaged"},
    )

    error = error_of(response, 422, "insufficient_stock")
    assert detail_fields(error) == ["products[60].quantity"]
    assert error["details"][0]["on_hand"] == 2
    assert await ledger_of(brand) == before
