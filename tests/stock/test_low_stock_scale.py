"""Low stock over a catalogue of 100,000 products: the right figures on the first and last page.

Its speed is measured by `make bench` (scenario e), not asserted here.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from stockroom.db.models import Product
from stockroom.ledger import MovementDraft, post_movements
from stockroom.stock import shortfalls
from tests.factories import Database, create_brand_with_admin

PRODUCTS = 100_000


def catalogue(brand_id: uuid.UUID) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "brand_id": brand_id,
            "sku": f"P{i:06d}",
            "name": f"Product {i}",
            "min_stock": i % 7,
            "archived": i % 97 == 0,
        }
        for i in range(PRODUCTS)
    ]


@pytest.mark.slow
async def test_low_stock_over_100_000_products_pages_the_right_figures(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    rows = catalogue(brand.id)
    # A bulk catalogue import (the factories make one product per transaction; too slow here),
    # which gives the products with a minimum their stored shortfalls, as the CSV import does.
    async with db.transaction() as session:
        for start in range(0, PRODUCTS, 10_000):
            chunk = rows[start : start + 10_000]
            await session.execute(insert(Product), chunk)
            await shortfalls.add_products(
                session, brand.id, [r["id"] for r in chunk if r["min_stock"]], created=True
            )
    stocked = {i: 3 for i in range(0, PRODUCTS, 50)}
    async with db.transaction() as session:
        await post_movements(
            session,
            brand.id,
            [
                MovementDraft("adjustment", rows[i]["id"], brand.site_id, quantity)
                for i, quantity in stocked.items()
            ],
            user_id=brand.admin.user_id,
        )
    expected = sorted(
        (
            (row["min_stock"] - stocked.get(i, 0), row["sku"])
            for i, row in enumerate(rows)
            if not row["archived"] and stocked.get(i, 0) < row["min_stock"]
        ),
        key=lambda item: (-item[0], item[1]),
    )

    first = await client.get(
        "/inventory/low-stock", headers=brand.admin.headers, params={"per_page": 100}
    )
    last_page = -(-len(expected) // 100)
    deep = await client.get(
        "/inventory/low-stock",
        headers=brand.admin.headers,
        params={"per_page": 100, "page": last_page},
    )

    assert first.status_code == 200, first.text
    assert first.json()["meta"]["total"] == len(expected)
    assert [(i["shortfall"], i["sku"]) for i in first.json()["data"]] == expected[:100]
    assert [(i["shortfall"], i["sku"]) for i in deep.json()["data"]] == expected[
        (last_page - 1) * 100 :
    ]
