"""Conditional writes hold their condition under concurrency (issue 9, items 1, 3 and 4).

Each test runs many small trials of requests fired at once, every request on its own
connection (the app's pool has more connections than a trial has requests), so the database
really sees them race. On SQLite the writers are serialised (BEGIN IMMEDIATE) and the same
outcomes must hold.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from stockroom.db.models import StockLevel
from stockroom.imports import ImportRejected
from stockroom.imports.stock import StockFile, StockMode, import_stock, read_stock
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_product,
    create_site,
    put_stock,
)

TRIALS = 20
RACERS = 12


async def levels_of(db: Database, brand: Brand, product: uuid.UUID) -> dict[tuple[Any, int], int]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            select(StockLevel.site_id, StockLevel.location_id, StockLevel.on_hand).where(
                StockLevel.brand_id == brand.id, StockLevel.product_id == product
            )
        )
        return {(site, location): on_hand for site, location, on_hand in rows}


def code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def test_compare_and_set_on_a_level_that_does_not_exist_yet_lets_exactly_one_through(
    client: httpx.AsyncClient, db: Database
) -> None:
    """12 × `{quantity: 5, expected_on_hand: 0}` on a never-stocked product: one 201, level 5."""
    brand = await create_brand_with_admin(db)
    for trial in range(TRIALS):
        product = await create_product(brand)
        single = {"product_id": str(product), "quantity": 5, "expected_on_hand": 0}
        # Half the trials as one-line batches: they take the single-level path too.
        body: dict[str, Any] = (
            single
            if trial % 2 == 0
            else {"reason": "recount", "products": [{**single, "location_id": None}]}
        )

        responses = await asyncio.gather(
            *(
                client.post("/inventory/adjustments", headers=brand.admin.headers, json=body)
                for _ in range(RACERS)
            )
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (RACERS - 1), (trial, statuses)
        assert {code(r) for r in responses if r.status_code == 409} == {"stale_quantity"}
        assert await levels_of(db, brand, product) == {(brand.site_id, 0): 5}


async def test_compare_and_set_on_an_existing_level_lets_exactly_one_through(
    client: httpx.AsyncClient, db: Database
) -> None:
    """The same race on a level that exists (the conditional UPDATE path), for comparison."""
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 1)
    for trial in range(TRIALS):
        body = {"product_id": str(product), "quantity": 5, "expected_on_hand": 1 + 5 * trial}

        responses = await asyncio.gather(
            *(
                client.post("/inventory/adjustments", headers=brand.admin.headers, json=body)
                for _ in range(RACERS)
            )
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (RACERS - 1), (trial, statuses)
        assert await levels_of(db, brand, product) == {(brand.site_id, 0): 1 + 5 * (trial + 1)}


@pytest.mark.parametrize("shape", ["single", "batch"])
async def test_turning_negative_stock_off_never_leaves_a_level_below_zero(
    client: httpx.AsyncClient, db: Database, shape: str
) -> None:
    """A PATCH `allow_negative_stock: false` racing −1 writes: if it succeeds, nothing is < 0.

    `batch` takes two products below zero in one request (the writer's multi-level path).
    """
    brand = await create_brand_with_admin(db)
    for trial in range(TRIALS):
        site = await create_site(brand, name=f"Lenient {trial}", allow_negative_stock=True)
        products = [await create_product(brand) for _ in range(1 if shape == "single" else 2)]
        lines = [{"product_id": str(p), "quantity": -1} for p in products]
        take: dict[str, Any] = (
            {**lines[0], "site_id": str(site)}
            if shape == "single"
            else {"reason": "lost", "site_id": str(site), "products": lines}
        )
        writes = [
            client.post("/inventory/adjustments", headers=brand.admin.headers, json=take)
            for _ in range(RACERS // 2)
        ]
        turn_off = client.patch(
            f"/sites/{site}", headers=brand.admin.headers, json={"allow_negative_stock": False}
        )

        # The PATCH goes out between the writes, so some start before it and some after.
        results = await asyncio.gather(*writes[:2], turn_off, *writes[2:])
        patch = results[2]
        written = results[:2] + results[3:]

        assert patch.status_code in (200, 422), patch.text
        levels = [await levels_of(db, brand, p) for p in products]
        on_hand = [sum(level.values()) for level in levels]
        if patch.status_code == 200:
            assert all(n >= 0 for n in on_hand), (trial, levels)
            # Every write that got in after the switch was refused as short, not half-done.
            assert {code(r) for r in written if r.status_code != 201} <= {"insufficient_stock"}
        else:
            assert code(patch) == "validation_error"
        assert on_hand == [-sum(r.status_code == 201 for r in written)] * len(products)


async def test_turning_location_awareness_on_never_strands_stock_at_no_location(
    client: httpx.AsyncClient, db: Database
) -> None:
    """A PATCH `location_aware: true` racing the first movements: never both succeed."""
    brand = await create_brand_with_admin(db)
    for trial in range(TRIALS):
        product = await create_product(brand)
        add_one = {"product_id": str(product), "quantity": 1}
        writes = [
            client.post("/inventory/adjustments", headers=brand.admin.headers, json=add_one)
            for _ in range(RACERS // 2)
        ]
        turn_on = client.patch(
            f"/products/{product}", headers=brand.admin.headers, json={"location_aware": True}
        )

        results = await asyncio.gather(*writes[:2], turn_on, *writes[2:])
        patch = results[2]
        written = results[:2] + results[3:]

        assert patch.status_code in (200, 422), patch.text
        stocked = sum(r.status_code == 201 for r in written)
        levels = await levels_of(db, brand, product)
        if patch.status_code == 200:
            # Aware from then on: no write may have landed at "no location" (0).
            assert stocked == 0, (trial, [r.status_code for r in written], levels)
            assert {code(r) for r in written} == {"validation_error"}
            assert levels == {}
        else:
            assert stocked > 0
            assert levels == {(brand.site_id, 0): stocked}


async def test_turning_location_awareness_on_never_races_a_stock_import(
    client: httpx.AsyncClient, db: Database, tmp_path: Path
) -> None:
    """The CSV import reads `location_aware` itself: the same race, the same outcome."""
    brand = await create_brand_with_admin(db)
    for trial in range(TRIALS):
        sku = f"IMP-{uuid.uuid4().hex[:10]}"
        product = await create_product(brand, sku=sku)
        csv = tmp_path / f"stock-{trial}.csv"
        csv.write_text(f"sku,quantity\n{sku},1\n")
        parsed = read_stock(csv, StockMode.adjust)

        async def run_import(parsed: StockFile) -> bool:
            try:
                async with db.transaction() as session:
                    await import_stock(session, brand.id, brand.site_id, parsed)
            except ImportRejected:
                return False
            return True

        turn_on = client.patch(
            f"/products/{product}", headers=brand.admin.headers, json={"location_aware": True}
        )
        first, patch, *rest = await asyncio.gather(
            run_import(parsed), turn_on, *(run_import(parsed) for _ in range(RACERS // 2 - 1))
        )

        assert patch.status_code in (200, 422), patch.text
        imported = sum([first, *rest])
        levels = await levels_of(db, brand, product)
        if patch.status_code == 200:
            assert imported == 0, (trial, levels)
            assert levels == {}
        else:
            assert imported > 0
            assert levels == {(brand.site_id, 0): imported}
