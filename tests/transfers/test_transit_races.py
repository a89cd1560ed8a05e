"""Receivers and closers of one transfer at once: never more received than was shipped.

Run on both backends; on PostgreSQL each request holds its own pooled connection, so the
receipts really overlap (the transfer row's lock serialises them).
"""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import (
    Database,
    create_brand_with_admin,
    create_product,
    create_site,
    put_stock,
)
from tests.reservations.helpers import assert_ledger_sound, level
from tests.transfers.transit import close, figures, line, receive, shipped, transfer


async def test_receivers_at_once_never_receive_more_than_was_shipped(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    transfer_id = await shipped(client, brand, product, warehouse, 10)

    answers = await asyncio.gather(
        *(receive(client, brand, transfer_id, [line(product, 3)]) for _ in range(8))
    )

    codes = sorted(r.status_code for r in answers)
    # 3 receipts of 3 fit in 10; every later one finds 1 outstanding.
    assert codes == [200] * 3 + [422] * 5, [r.text for r in answers if r.status_code >= 500]
    assert all(
        r.json()["error"]["details"][0]["outstanding"] == 1 for r in answers if r.status_code == 422
    )
    assert figures(await transfer(client, brand, transfer_id)) == {
        "status": "partially_received",
        "shipped": 10,
        "received": 9,
        "outstanding": 1,
        "written_off": 0,
        "returned": 0,
    }
    assert await level(client, brand, product, warehouse) == {
        "on_hand": 9,
        "reserved": 0,
        "available": 9,
        "in_transit": 1,
    }
    await assert_ledger_sound(db)


async def test_receipts_and_a_close_at_once_account_for_every_unit_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 20)
    # 8 receipts of 2 cannot complete it: the close always finds units outstanding.
    transfer_id = await shipped(client, brand, product, warehouse, 20)

    answers = await asyncio.gather(
        *(receive(client, brand, transfer_id, [line(product, 2)]) for _ in range(4)),
        close(client, brand, transfer_id, "returned"),
        *(receive(client, brand, transfer_id, [line(product, 2)]) for _ in range(4)),
    )

    assert all(r.status_code in (200, 422) for r in answers), [r.text for r in answers]
    receipts = sum(1 for r in answers[:4] + answers[5:] if r.status_code == 200)
    assert answers[4].status_code == 200, answers[4].text
    # Receipts that came after the close were refused as closed, not written.
    assert {
        r.json()["error"]["code"] for r in answers[:4] + answers[5:] if r.status_code == 422
    } <= {"transfer_closed"}
    detail = await transfer(client, brand, transfer_id)
    assert figures(detail) == {
        "status": "closed",
        "shipped": 20,
        "received": 2 * receipts,
        "outstanding": 0,
        "written_off": 0,
        "returned": 20 - 2 * receipts,
    }
    assert (await level(client, brand, product))["on_hand"] == 20 - 2 * receipts
    assert (await level(client, brand, product, warehouse))["on_hand"] == 2 * receipts
    await assert_ledger_sound(db)
