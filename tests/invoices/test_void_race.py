"""Concurrent voids of one invoice: exactly one wins and writes one set of returns."""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.movements.ledger_setup import all_movements, on_hand

CONCURRENT_VOIDS = 8


async def test_concurrent_voids_write_one_set_of_returns(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, coffee = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 20)
    await put_stock(brand, coffee, 20)
    sold = await client.post(
        "/invoices",
        headers=brand.admin.headers,
        json={
            "lines": [
                {"product_id": str(tea), "quantity": 3, "unit_price": "1"},
                {"product_id": str(coffee), "quantity": 5, "unit_price": "2"},
                {"product_id": str(tea), "quantity": 1, "unit_price": "1"},
            ]
        },
    )
    assert sold.status_code == 201, sold.text
    invoice_id = sold.json()["id"]

    answers = await asyncio.gather(
        *(
            client.post(f"/invoices/{invoice_id}/void", headers=brand.admin.headers)
            for _ in range(CONCURRENT_VOIDS)
        )
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [422] * (CONCURRENT_VOIDS - 1), [a.text for a in answers]
    returns = await all_movements(client, brand.admin.headers, type="return")
    assert sorted(m["quantity"] for m in returns) == [1, 3, 5]
    assert {m["invoice_id"] for m in returns} == {invoice_id}
    assert await on_hand(brand, tea) == 20
    assert await on_hand(brand, coffee) == 20
