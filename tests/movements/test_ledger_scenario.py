"""A scripted day of trade: every figure agrees with the ledger and the movements report."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock
from tests.movements.ledger_setup import all_movements, on_hand, product_cost


async def assert_ledger_agrees(
    client: httpx.AsyncClient, brand: Brand, product: uuid.UUID, expected: int
) -> list[dict]:
    """Stored level, report sum and CSV all say `expected`; returns the report, newest first."""
    movements = await all_movements(client, brand.admin.headers, product_id=product)
    numbered = (
        await client.get(
            "/inventory/movements",
            headers=brand.admin.headers,
            params={"product_id": str(product), "per_page": 100},
        )
    ).json()
    exported = await client.get(
        "/inventory/movements",
        headers={**brand.admin.headers, "Accept": "text/csv"},
        params={"product_id": str(product)},
    )
    csv_quantities = [int(row.split(",")[5]) for row in exported.text.splitlines()[1:]]
    assert await on_hand(brand, product) == expected
    assert sum(m["quantity"] for m in movements) == expected
    assert numbered["data"] == movements
    assert numbered["meta"]["total"] == len(movements)
    assert csv_quantities == [m["quantity"] for m in movements]
    return movements


async def test_put_sell_void_purchase_figures_match_at_every_step(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, cost_per_unit="2.00")
    headers = brand.admin.headers

    await put_stock(brand, product, 40)
    after_put = await assert_ledger_agrees(client, brand, product, 40)
    assert [(m["type"], m["quantity"]) for m in after_put] == [("adjustment", 40)]

    sold = await client.post(
        "/invoices",
        headers=headers,
        json={
            "number": "S-1",
            "lines": [{"product_id": str(product), "quantity": 5, "unit_price": "4.00"}],
        },
    )
    assert sold.status_code == 201, sold.text
    after_sale = await assert_ledger_agrees(client, brand, product, 35)
    assert [(m["type"], m["quantity"]) for m in after_sale] == [("sale", -5), ("adjustment", 40)]
    assert after_sale[0]["invoice_id"] == sold.json()["id"]
    assert sold.json()["total"] == "20"

    voided = await client.post(f"/invoices/{sold.json()['id']}/void", headers=headers)
    assert voided.status_code == 200, voided.text
    after_void = await assert_ledger_agrees(client, brand, product, 40)
    assert (after_void[0]["type"], after_void[0]["quantity"]) == ("return", 5)
    assert after_void[0]["invoice_id"] == sold.json()["id"]

    bought = await client.post(
        "/purchases",
        headers=headers,
        json={
            "reference": "PO-7",
            "lines": [{"product_id": str(product), "quantity": 10, "cost_per_unit": "3.00"}],
        },
    )
    assert bought.status_code == 201, bought.text
    after_purchase = await assert_ledger_agrees(client, brand, product, 50)
    newest = after_purchase[0]
    assert (newest["type"], newest["quantity"], newest["unit_cost"]) == ("purchase", 10, "3")
    # (40 on hand · 2.00 + 10 · 3.00) / 50
    assert await product_cost(brand, product) == Decimal("2.2")
    assert [m["type"] for m in after_purchase] == ["purchase", "return", "sale", "adjustment"]
