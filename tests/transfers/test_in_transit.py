"""Transfers in transit through HTTP, on both backends: ship now, receive or close later."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from stockroom.auth.principal import Role
from tests.dashboard.pages import table_rows, use_token
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.reservations.helpers import assert_ledger_sound, level, reserve
from tests.transfers.transit import (
    close,
    figures,
    level_of,
    line,
    receive,
    ship,
    shipped,
    transfer,
    warehouse_with_stock,
)


async def test_shipping_in_transit_writes_only_the_outgoing_half_and_counts_at_the_destination(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)

    response = await ship(client, brand, product, warehouse, 4, reference="TR-9")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "in_transit"
    assert body["transfer_in"] is None
    assert (body["transfer_out"]["quantity"], body["transfer_out"]["transfer_id"]) == (
        -4,
        body["transfer_id"],
    )
    assert await level(client, brand, product) == level_of(6)
    assert await level(client, brand, product, warehouse) == level_of(0, in_transit=4)
    stock = await client.get(f"/inventory/products/{product}/stock", headers=brand.admin.headers)
    assert stock.json()["in_transit"] == 4
    detail = await transfer(client, brand, body["transfer_id"])
    assert figures(detail) == {
        "status": "in_transit",
        "shipped": 4,
        "received": 0,
        "outstanding": 4,
        "written_off": 0,
        "returned": 0,
    }
    assert (detail["source_site_id"], detail["destination_site_id"]) == (
        str(brand.site_id),
        str(warehouse),
    )
    assert [m["type"] for m in detail["movements"]] == ["transfer_out"]
    await assert_ledger_sound(db)


async def test_partial_receipts_move_units_from_in_transit_to_on_hand_until_completed(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    await put_stock(brand, product, 1, site_id=warehouse)
    transfer_id = await shipped(client, brand, product, warehouse, 7)

    first = await receive(client, brand, transfer_id, [line(product, 3)])

    assert first.status_code == 200, first.text
    assert figures(first.json()) == {
        "status": "partially_received",
        "shipped": 7,
        "received": 3,
        "outstanding": 4,
        "written_off": 0,
        "returned": 0,
    }
    assert await level(client, brand, product, warehouse) == level_of(4, in_transit=4)
    listed = await client.get(
        "/inventory/stock", headers=brand.admin.headers, params={"site_id": str(warehouse)}
    )
    [item] = [i for i in listed.json()["data"] if i["product_id"] == str(product)]
    assert (item["on_hand"], item["in_transit"]) == (4, 4)

    # Two lines of one product in one receipt: summed against what is outstanding.
    second = await receive(client, brand, transfer_id, [line(product, 1), line(product, 3)])

    assert second.status_code == 200, second.text
    assert figures(second.json())["status"] == "completed"
    assert second.json()["outstanding"] == 0
    assert sorted(m["quantity"] for m in second.json()["movements"]) == [-7, 1, 3, 3]
    assert await level(client, brand, product, warehouse) == level_of(8)
    again = await receive(client, brand, transfer_id, [line(product, 1)])
    assert again.status_code == 422, again.text
    assert again.json()["error"]["code"] == "transfer_closed"
    await assert_ledger_sound(db)


async def test_receiving_more_than_is_outstanding_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    transfer_id = await shipped(client, brand, product, warehouse, 5)
    assert (await receive(client, brand, transfer_id, [line(product, 2)])).status_code == 200

    response = await receive(client, brand, transfer_id, [line(product, 2), line(product, 2)])

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [(d["field"], d["outstanding"], d["requested"]) for d in error["details"]] == [
        ("lines[0].quantity", 3, 4),
        ("lines[1].quantity", 3, 4),
    ]
    assert figures(await transfer(client, brand, transfer_id))["outstanding"] == 3
    assert (await level(client, brand, product, warehouse))["on_hand"] == 2


async def test_receiving_a_product_that_was_not_shipped_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product, other = await create_product(brand), await create_product(brand)
    await put_stock(brand, product, 10)
    transfer_id = await shipped(client, brand, product, warehouse, 5)

    response = await receive(
        client, brand, transfer_id, [line(product, 1), line(other, 1), line(uuid.uuid4(), 1)]
    )

    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert [d["field"] for d in details] == ["lines[1].product_id", "lines[2].product_id"]
    assert "not shipped" in details[0]["message"]
    assert figures(await transfer(client, brand, transfer_id))["received"] == 0


async def test_receiving_at_a_location_of_another_site_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shop_bin = await create_location(brand, brand.site_id, name="Shop bin")
    warehouse_bin = await create_location(brand, warehouse, name="Warehouse bin")
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 10, location_id=shop_bin)
    transfer_id = await shipped(client, brand, product, warehouse, 5, source_location_id=shop_bin)

    wrong = await receive(client, brand, transfer_id, [line(product, 2, location_id=shop_bin)])
    missing = await receive(client, brand, transfer_id, [line(product, 2)])
    right = await receive(client, brand, transfer_id, [line(product, 2, location_id=warehouse_bin)])

    assert wrong.status_code == 422, wrong.text
    assert [d["field"] for d in wrong.json()["error"]["details"]] == ["lines[0].location_id"]
    assert missing.status_code == 422, missing.text
    assert [d["field"] for d in missing.json()["error"]["details"]] == ["lines[0].location_id"]
    assert right.status_code == 200, right.text
    assert right.json()["received"] == 2
    [received] = [m for m in right.json()["movements"] if m["type"] == "transfer_in"]
    assert (received["site_id"], received["location_id"]) == (str(warehouse), warehouse_bin)


async def test_receipts_go_to_the_destination_location_named_when_shipping(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shop_bin = await create_location(brand, brand.site_id)
    warehouse_bin = await create_location(brand, warehouse)
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 10, location_id=shop_bin)
    transfer_id = await shipped(
        client,
        brand,
        product,
        warehouse,
        5,
        source_location_id=shop_bin,
        destination_location_id=warehouse_bin,
    )

    response = await receive(client, brand, transfer_id, [line(product, 5)])

    assert response.status_code == 200, response.text
    [received] = [m for m in response.json()["movements"] if m["type"] == "transfer_in"]
    assert received["location_id"] == warehouse_bin
    assert response.json()["lines"][0]["destination_location_id"] == warehouse_bin


async def test_receiving_needs_write_access_to_the_destination(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    transfer_id = await shipped(client, brand, product, warehouse, 5)
    sender = await create_caller(brand, Role.manager, site_ids=[brand.site_id])
    watcher = await create_caller(brand, Role.viewer, site_ids=[warehouse])
    receiver = await create_caller(brand, Role.manager, site_ids=[warehouse])
    stranger = await create_brand_with_admin(db, name="Other brand")

    by_sender = await receive(
        client, brand, transfer_id, [line(product, 1)], headers=sender.headers
    )
    by_watcher = await receive(
        client, brand, transfer_id, [line(product, 1)], headers=watcher.headers
    )
    by_stranger = await receive(
        client, brand, transfer_id, [line(product, 1)], headers=stranger.admin.headers
    )
    by_receiver = await receive(
        client, brand, transfer_id, [line(product, 1)], headers=receiver.headers
    )

    assert (by_sender.status_code, by_watcher.status_code, by_stranger.status_code) == (
        403,
        403,
        404,
    )
    assert by_receiver.status_code == 200, by_receiver.text
    assert by_receiver.json()["received"] == 1


async def test_closing_as_returned_puts_the_outstanding_units_back_at_the_source(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    transfer_id = await shipped(client, brand, product, warehouse, 6)
    assert (await receive(client, brand, transfer_id, [line(product, 2)])).status_code == 200

    response = await close(client, brand, transfer_id, "returned", notes="refused at the door")

    assert response.status_code == 200, response.text
    body = response.json()
    assert figures(body) == {
        "status": "closed",
        "shipped": 6,
        "received": 2,
        "outstanding": 0,
        "written_off": 0,
        "returned": 4,
    }
    assert (body["close_reason"], body["close_notes"]) == ("returned", "refused at the door")
    back = body["movements"][-1]
    assert (back["type"], back["site_id"], back["quantity"]) == (
        "transfer_in",
        str(brand.site_id),
        4,
    )
    assert (await level(client, brand, product))["on_hand"] == 8
    assert await level(client, brand, product, warehouse) == level_of(2)
    await assert_ledger_sound(db)


async def test_closing_as_lost_or_damaged_writes_the_outstanding_units_off(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    lost = await shipped(client, brand, product, warehouse, 3)
    damaged = await shipped(client, brand, product, warehouse, 2)

    for transfer_id, reason in ((lost, "lost"), (damaged, "damaged")):
        response = await close(client, brand, transfer_id, reason)
        assert response.status_code == 200, response.text
        assert figures(response.json()) == {
            "status": "closed",
            "shipped": response.json()["shipped"],
            "received": 0,
            "outstanding": 0,
            "written_off": response.json()["shipped"],
            "returned": 0,
        }
        assert [m["type"] for m in response.json()["movements"]] == ["transfer_out"]

    assert (await level(client, brand, product))["on_hand"] == 5
    assert (await level(client, brand, product, warehouse))["in_transit"] == 0
    await assert_ledger_sound(db)


async def test_a_completed_or_closed_transfer_is_refused_as_transfer_closed(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    one_step = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={"product_id": str(product), "destination_site_id": str(warehouse), "quantity": 1},
    )
    assert one_step.status_code == 201, one_step.text
    assert one_step.json()["status"] == "completed"
    completed = one_step.json()["transfer_id"]
    closed = await shipped(client, brand, product, warehouse, 2)
    assert (await close(client, brand, closed, "lost")).status_code == 200

    answers = [
        await close(client, brand, completed, "returned"),
        await receive(client, brand, completed, [line(product, 1)]),
        await close(client, brand, closed, "returned"),
        await receive(client, brand, closed, [line(product, 1)]),
    ]

    assert [(r.status_code, r.json()["error"]["code"]) for r in answers] == [
        (422, "transfer_closed")
    ] * 4
    assert (await level(client, brand, product))["on_hand"] == 7
    assert figures(await transfer(client, brand, completed)) == {
        "status": "completed",
        "shipped": 1,
        "received": 1,
        "outstanding": 0,
        "written_off": 0,
        "returned": 0,
    }


async def test_closing_needs_write_access_to_the_source(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    transfer_id = await shipped(client, brand, product, warehouse, 5)
    receiver = await create_caller(brand, Role.manager, site_ids=[warehouse])
    sender = await create_caller(brand, Role.manager, site_ids=[brand.site_id])

    by_receiver = await close(client, brand, transfer_id, "lost", headers=receiver.headers)
    by_sender = await close(client, brand, transfer_id, "returned", headers=sender.headers)

    assert by_receiver.status_code == 403, by_receiver.text
    assert by_sender.status_code == 200, by_sender.text


async def test_shipping_in_transit_cannot_take_units_promised_to_a_reservation(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db, 5)
    assert (
        await reserve(client, brand, [{"product_id": str(product), "quantity": 4}])
    ).status_code == 201

    response = await ship(client, brand, product, warehouse, 2)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "insufficient_available"
    assert (await level(client, brand, product, warehouse))["in_transit"] == 0


async def test_units_in_transit_do_not_lift_a_product_out_of_low_stock(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand, min_stock=5)
    await put_stock(brand, product, 10)
    await shipped(client, brand, product, warehouse, 8)

    low = await client.get(
        "/inventory/low-stock", headers=brand.admin.headers, params={"site_id": str(warehouse)}
    )

    assert low.status_code == 200, low.text
    [item] = [i for i in low.json()["data"] if i["product_id"] == str(product)]
    assert (item["available"], item["shortfall"], item["in_transit"]) == (0, 5, 8)


async def test_the_list_and_either_half_show_their_transfer_status(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    in_transit = await ship(client, brand, product, warehouse, 3)
    transfer_id = in_transit.json()["transfer_id"]
    out_id = in_transit.json()["transfer_out"]["id"]

    before = await client.get(
        "/inventory/transfers", headers=brand.admin.headers, params={"site_id": str(brand.site_id)}
    )
    assert [(m["id"], m["status"]) for m in before.json()["data"]] == [(out_id, "in_transit")]
    assert (await receive(client, brand, transfer_id, [line(product, 1)])).status_code == 200
    after = await client.get(
        "/inventory/transfers", headers=brand.admin.headers, params={"site_id": str(warehouse)}
    )
    half = await client.get(f"/inventory/transfers/{out_id}", headers=brand.admin.headers)

    [arrived] = after.json()["data"]
    assert (arrived["type"], arrived["status"]) == ("transfer_in", "partially_received")
    assert (half.json()["id"], half.json()["status"]) == (out_id, "partially_received")


async def test_an_unknown_or_foreign_transfer_is_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    transfer_id = await shipped(client, brand, product, warehouse, 3)

    answers: list[Any] = [
        await client.get(f"/inventory/transfers/{uuid.uuid4()}", headers=brand.admin.headers),
        await client.get(f"/inventory/transfers/{transfer_id}", headers=other.admin.headers),
        await receive(client, brand, str(uuid.uuid4()), [line(product, 1)]),
        await close(client, other, transfer_id, "lost"),
    ]

    assert [r.status_code for r in answers] == [404] * 4
    assert figures(await transfer(client, brand, transfer_id))["status"] == "in_transit"


async def test_bad_receipt_and_close_bodies_are_refused_with_the_error_shape(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    transfer_id = await shipped(client, brand, product, warehouse, 3)

    answers = [
        await receive(client, brand, transfer_id, []),
        await receive(client, brand, transfer_id, [line(product, 0)]),
        await receive(client, brand, transfer_id, [line(product, -1)]),
        await receive(client, brand, transfer_id, [{"product_id": str(product)}]),
        await close(client, brand, transfer_id, "stolen"),
    ]

    assert [r.status_code for r in answers] == [422] * 5
    assert all(set(r.json()) == {"error"} for r in answers)
    assert figures(await transfer(client, brand, transfer_id))["outstanding"] == 3


async def test_an_idempotent_receipt_is_written_once_and_replayed(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, warehouse, product = await warehouse_with_stock(db)
    transfer_id = await shipped(client, brand, product, warehouse, 5)
    headers = {**brand.admin.headers, "Idempotency-Key": uuid.uuid4().hex}

    first = await receive(client, brand, transfer_id, [line(product, 2)], headers=headers)
    again = await receive(client, brand, transfer_id, [line(product, 2)], headers=headers)

    assert first.status_code == again.status_code == 200, first.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert figures(await transfer(client, brand, transfer_id))["received"] == 2
    assert (await level(client, brand, product, warehouse))["on_hand"] == 2


async def test_the_dashboard_product_page_shows_units_in_transit_at_the_destination(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand, sku="TEA")
    await put_stock(brand, product, 10)
    await shipped(client, brand, product, warehouse, 4)
    use_token(client, brand.admin.token)

    page = await client.get(f"/dashboard/products/{product}")

    assert page.status_code == 200
    assert table_rows(page.text, "levels") == [
        ["Main shop", "6", "0", "6", "0"],
        ["Warehouse", "0", "0", "0", "4"],
    ]
    assert "0 reserved · 6 available · 4 in transit" in page.text
