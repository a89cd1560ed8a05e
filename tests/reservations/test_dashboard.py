"""The dashboard shows reserved and available units, and marks low stock by available."""

from __future__ import annotations

import httpx

from tests.dashboard.pages import table_rows, use_token
from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.reservations.helpers import line, reserve


async def test_product_page_shows_on_hand_reserved_available_and_in_transit(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, sku="TEA", min_stock=3)
    await put_stock(brand, product, 10)
    assert (await reserve(client, brand, [line(product, 8)])).status_code == 201
    use_token(client, brand.admin.token)

    page = await client.get(f"/dashboard/products/{product}")
    stock = await client.get("/dashboard", params={"q": "TEA"})

    assert page.status_code == 200
    assert table_rows(page.text, "levels") == [["Main shop", "10", "8", "2 low", "0"]]
    assert "8 reserved · 2 available · 0 in transit" in page.text
    # On hand 10 is above min_stock 3, but only 2 are available: low.
    assert "low-cell" in stock.text or "badge low" in stock.text
    low = await client.get("/dashboard/low-stock")
    assert table_rows(low.text, "low-stock") == [
        ["TEA", "Widget", "10", "2", "3", "1 short", "0", "4"]
    ]
