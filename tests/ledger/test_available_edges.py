"""The reserved side's fast path for a plain sale (`ledger/available.py`), at its edges.

A sale on a level that holds nothing is one conditional UPDATE; these pin the two conditions
a mutant of it got past every other test with (issue 9, item 11): the level must hold
exactly nothing (one reserved unit already sends the sale to the full check), and the
site whose rule lets stock go below zero must be the sale's own site. And a reservation of a
product the site never stocked is refused with the figures of an empty level, and a site's
negative-stock rule, read once, waives every line of the request at that site.
"""

from __future__ import annotations

import httpx
from sqlalchemy import update as sql_update

from stockroom.db.models import Site
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_product,
    create_site,
    put_stock,
)
from tests.reservations.helpers import assert_ledger_sound, error_code, level, line, reserve, sell


async def test_a_sale_may_not_take_the_one_reserved_unit(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    assert (await reserve(client, brand, [line(product, 1)])).status_code == 201

    all_of_it = await sell(client, brand, product, 5)

    assert error_code(all_of_it) == "insufficient_available", all_of_it.text
    [detail] = all_of_it.json()["error"]["details"]
    assert {k: v for k, v in detail.items() if k != "message"} == {
        "field": "lines[0].quantity",
        "product_id": str(product),
        "site_id": str(brand.site_id),
        "location_id": None,
        "on_hand": 5,
        "reserved": 1,
        "available": 4,
        "requested": 5,
    }
    assert await level(client, brand, product) == {
        "on_hand": 5,
        "reserved": 1,
        "available": 4,
        "in_transit": 0,
    }
    assert (await sell(client, brand, product, 4)).status_code == 201
    await assert_ledger_sound(db)


async def test_another_sites_negative_stock_rule_does_not_let_a_sale_go_below_zero(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_site(brand, name="Market stall", allow_negative_stock=True)
    product = await create_product(brand)
    await put_stock(brand, product, 2)

    response = await sell(client, brand, product, 3)

    assert error_code(response) == "insufficient_stock", response.text
    assert (await level(client, brand, product))["on_hand"] == 2
    await assert_ledger_sound(db)


async def test_reserving_a_product_never_stocked_at_the_site_says_nothing_is_there(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await reserve(client, brand, [line(product, 3)])

    assert error_code(response) == "insufficient_available", response.text
    [detail] = response.json()["error"]["details"]
    assert {k: detail[k] for k in ("on_hand", "reserved", "available", "requested")} == {
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "requested": 3,
    }
    assert await level(client, brand, product) == {
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "in_transit": 0,
    }
    await assert_ledger_sound(db)


async def test_an_invoice_may_take_two_products_below_zero_at_a_site_allowing_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    async with db.transaction() as session:
        await session.execute(
            sql_update(Site).where(Site.id == brand.site_id).values(allow_negative_stock=True)
        )
    tea, cups = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 1)
    await put_stock(brand, cups, 1)
    lines = [
        {"product_id": str(product), "quantity": 3, "unit_price": "1"} for product in (tea, cups)
    ]

    response = await client.post("/invoices", headers=brand.admin.headers, json={"lines": lines})

    assert response.status_code == 201, response.text
    assert [(await level(client, brand, p))["on_hand"] for p in (tea, cups)] == [-2, -2]
    await assert_ledger_sound(db)
