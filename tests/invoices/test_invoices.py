"""/invoices through HTTP: selling, reading, voiding and refusing, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from stockroom.auth.principal import Role
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.movements.ledger_setup import all_movements, on_hand, report


def line(product: uuid.UUID, quantity: Any, unit_price: Any = "1.00", **extra: Any) -> dict:
    return {"product_id": str(product), "quantity": quantity, "unit_price": unit_price, **extra}


async def sell(
    client: httpx.AsyncClient, brand: Brand, lines: list[dict], **body: Any
) -> httpx.Response:
    return await client.post(
        "/invoices", headers=brand.admin.headers, json={"lines": lines, **body}
    )


async def test_invoice_sells_each_line_and_answers_the_invoice(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, cost_per_unit="1.25")
    coffee = await create_product(brand)
    await put_stock(brand, tea, 40)
    await put_stock(brand, coffee, 10)

    response = await sell(
        client, brand, [line(tea, 5, "2.50"), line(coffee, 3, 1.2)], number="INV-0001"
    )

    assert response.status_code == 201, response.text
    invoice = response.json()
    assert invoice["status"] == "issued"
    assert invoice["number"] == "INV-0001"
    assert invoice["site_id"] == str(brand.site_id)
    assert invoice["total"] == "16.1"
    assert invoice["user_id"] == str(brand.admin.user_id)
    assert invoice["created_at"].endswith("Z")
    assert invoice["voided_at"] is None
    assert invoice["lines"] == [
        {"product_id": str(tea), "quantity": 5, "unit_price": "2.5", "location_id": None},
        {"product_id": str(coffee), "quantity": 3, "unit_price": "1.2", "location_id": None},
    ]
    sales = invoice["movements"]
    assert [(m["type"], m["product_id"], m["quantity"]) for m in sales] == [
        ("sale", str(tea), -5),
        ("sale", str(coffee), -3),
    ]
    assert {m["invoice_id"] for m in sales} == {invoice["id"]}
    assert {m["reference"] for m in sales} == {"INV-0001"}
    assert sales[0]["unit_cost"] == "1.25"  # cost of the goods sold, at the average cost
    assert await on_hand(brand, tea) == 35
    assert await on_hand(brand, coffee) == 7
    fetched = await client.get(f"/invoices/{invoice['id']}", headers=brand.admin.headers)
    assert fetched.status_code == 200
    assert fetched.json() == invoice
    in_report = await report(client, brand.admin.headers, type="sale")
    assert {m["id"] for m in in_report["data"]} == {m["id"] for m in sales}


async def test_invoice_short_of_stock_stores_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, coffee = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 3)
    await put_stock(brand, coffee, 10)

    response = await sell(client, brand, [line(tea, 2), line(coffee, 11), line(tea, 2)])

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    short = {d["product_id"]: d for d in error["details"]}
    assert set(short) == {str(tea), str(coffee)}  # every short line, in one answer
    assert short[str(tea)]["on_hand"] == 3 and short[str(tea)]["requested"] == -4
    assert short[str(coffee)]["field"] == "lines[1].quantity"
    assert await on_hand(brand, tea) == 3
    assert await on_hand(brand, coffee) == 10
    listed = await client.get("/invoices", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 0
    assert [m["type"] for m in await all_movements(client, brand.admin.headers)] == [
        "adjustment",
        "adjustment",
    ]


async def test_invoice_input_is_validated_field_by_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    product = await create_product(brand)
    binned = await create_product(brand, location_aware=True)
    foreign = await create_product(other)
    await put_stock(brand, product, 100)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"lines": []}, "lines"),
        ({"lines": [line(product, 1)] * 501}, "lines"),
        ({"lines": [line(product, 0)]}, "lines[0].quantity"),
        ({"lines": [line(product, -1)]}, "lines[0].quantity"),
        ({"lines": [line(product, "5")]}, "lines[0].quantity"),
        ({"lines": [line(product, 5.0)]}, "lines[0].quantity"),
        ({"lines": [line(product, True)]}, "lines[0].quantity"),
        ({"lines": [line(product, 1, "-0.01")]}, "lines[0].unit_price"),
        ({"lines": [line(product, 1, "1.23456")]}, "lines[0].unit_price"),
        ({"lines": [line(product, 1, "NaN")]}, "lines[0].unit_price"),
        ({"lines": [line(product, 1, "cheap")]}, "lines[0].unit_price"),
        ({"lines": [{"product_id": str(product), "quantity": 1}]}, "lines[0].unit_price"),
        ({"lines": [line(product, 1), line(foreign, 1)]}, "lines[1].product_id"),
        ({"lines": [line(uuid.uuid4(), 1)]}, "lines[0].product_id"),
        ({"lines": [line(binned, 1)]}, "lines[0].location_id"),
        ({"lines": [line(product, 1)], "number": "N" * 65}, "number"),
        ({"lines": [line(product, 1)], "site_id": str(other.site_id)}, "site_id"),
        ({"lines": [line(product, 1)], "colour": "red"}, "colour"),
        ({"lines": [line(product, 2, "99999999999999")]}, "lines"),
    ]
    for body, field in cases:
        response = await client.post("/invoices", headers=brand.admin.headers, json=body)
        assert response.status_code == 422, (field, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error", (field, error)
        assert field in [d["field"] for d in error["details"]], (field, error)
    assert await on_hand(brand, product) == 100


async def test_who_may_sell_where(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    kitchen = await create_site(brand, name="Kitchen")
    product = await create_product(brand)
    await put_stock(brand, product, 10, site_id=kitchen)
    viewer = await create_caller(brand, Role.viewer, site_ids=[kitchen])
    manager = await create_caller(brand, Role.manager, site_ids=[kitchen])
    body = {"lines": [line(product, 1)]}

    as_viewer = await client.post(
        "/invoices", headers=viewer.headers, json={**body, "site_id": str(kitchen)}
    )
    elsewhere = await client.post(
        "/invoices", headers=manager.headers, json={**body, "site_id": str(brand.site_id)}
    )
    no_site = await client.post("/invoices", headers=manager.headers, json=body)
    by_header = await client.post(
        "/invoices", headers={**manager.headers, "X-Site-Id": str(kitchen)}, json=body
    )
    by_alias = await client.post(
        "/invoices", headers=manager.headers, json={**body, "workspace_id": str(kitchen)}
    )
    anonymous = await client.post("/invoices", json=body)

    assert as_viewer.status_code == 403
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "forbidden"
    assert no_site.status_code == 422
    assert by_header.status_code == 201 and by_header.json()["site_id"] == str(kitchen)
    assert by_alias.status_code == 201 and by_alias.json()["site_id"] == str(kitchen)
    assert anonymous.status_code == 401
    assert await on_hand(brand, product, kitchen) == 8


async def test_void_puts_the_stock_back_once(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)
    shelf = await create_location(brand, brand.site_id, name="Shelf A")
    await put_stock(brand, product, 12, location_id=shelf)
    sold = (await sell(client, brand, [line(product, 4, "3", location_id=shelf)])).json()
    assert await on_hand(brand, product) == 8

    voided = await client.post(f"/invoices/{sold['id']}/void", headers=brand.admin.headers)

    assert voided.status_code == 200, voided.text
    invoice = voided.json()
    assert invoice["status"] == "void"
    assert invoice["voided_at"].endswith("Z")
    returns = [m for m in invoice["movements"] if m["type"] == "return"]
    assert [(m["quantity"], m["location_id"], m["invoice_id"]) for m in returns] == [
        (4, shelf, sold["id"])
    ]
    assert [m["type"] for m in invoice["movements"]] == ["sale", "return"]
    assert await on_hand(brand, product) == 12

    again = await client.post(f"/invoices/{sold['id']}/void", headers=brand.admin.headers)

    assert again.status_code == 422
    error = again.json()["error"]
    assert error["code"] == "validation_error"
    assert "already void" in error["message"]
    assert await on_hand(brand, product) == 12
    assert len(await all_movements(client, brand.admin.headers, type="return")) == 1
    fetched = await client.get(f"/invoices/{sold['id']}", headers=brand.admin.headers)
    assert fetched.json() == invoice


async def test_void_needs_write_access_to_the_invoice_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    kitchen = await create_site(brand, name="Kitchen")
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    sold = (await sell(client, brand, [line(product, 2)])).json()
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    outsider = await create_caller(brand, Role.manager, site_ids=[kitchen])

    by_viewer = await client.post(f"/invoices/{sold['id']}/void", headers=viewer.headers)
    by_outsider = await client.post(f"/invoices/{sold['id']}/void", headers=outsider.headers)
    read_by_viewer = await client.get(f"/invoices/{sold['id']}", headers=viewer.headers)
    read_by_outsider = await client.get(f"/invoices/{sold['id']}", headers=outsider.headers)

    assert by_viewer.status_code == 403
    assert by_outsider.status_code == 404  # an invoice it may not read does not exist for it
    assert read_by_viewer.status_code == 200
    assert read_by_outsider.status_code == 404
    assert await on_hand(brand, product) == 3


async def test_unknown_invoice_ids_are_404(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    for path in [f"/invoices/{uuid.uuid4()}", "/invoices/not-a-uuid"]:
        assert (await client.get(path, headers=brand.admin.headers)).status_code == 404
        voided = await client.post(f"{path}/void", headers=brand.admin.headers)
        assert voided.status_code == 404
        assert voided.json()["error"]["code"] == "not_found"


async def test_list_shows_readable_invoices_newest_first(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    kitchen = await create_site(brand, name="Kitchen")
    product = await create_product(brand)
    await put_stock(brand, product, 50)
    await put_stock(brand, product, 50, site_id=kitchen)
    numbers = []
    for i, site in enumerate([brand.site_id, kitchen, brand.site_id]):
        response = await sell(client, brand, [line(product, 1)], number=f"N{i}", site_id=str(site))
        numbers.append(response.json()["id"])
    await client.post(f"/invoices/{numbers[0]}/void", headers=brand.admin.headers)
    kitchen_viewer = await create_caller(brand, Role.viewer, site_ids=[kitchen])

    everything = (await client.get("/invoices", headers=brand.admin.headers)).json()
    paged = (
        await client.get("/invoices", headers=brand.admin.headers, params={"per_page": 2})
    ).json()
    at_shop = (
        await client.get(
            "/invoices", headers=brand.admin.headers, params={"site_id": str(brand.site_id)}
        )
    ).json()
    void = (
        await client.get("/invoices", headers=brand.admin.headers, params={"status": "void"})
    ).json()
    seen_by_viewer = (await client.get("/invoices", headers=kitchen_viewer.headers)).json()
    denied = await client.get(
        "/invoices", headers=kitchen_viewer.headers, params={"site_id": str(brand.site_id)}
    )

    assert [i["number"] for i in everything["data"]] == ["N2", "N1", "N0"]
    assert everything["meta"] == {"page": 1, "per_page": 25, "total": 3, "total_pages": 1}
    assert [i["number"] for i in paged["data"]] == ["N2", "N1"]
    assert paged["meta"]["total_pages"] == 2
    assert [i["number"] for i in at_shop["data"]] == ["N2", "N0"]
    assert [i["number"] for i in void["data"]] == ["N0"]
    assert [len(i["movements"]) for i in everything["data"]] == [1, 1, 2]
    assert [i["number"] for i in seen_by_viewer["data"]] == ["N1"]
    assert denied.status_code == 403


async def test_another_brand_cannot_see_or_void_an_invoice(
    client: httpx.AsyncClient, db: Database
) -> None:
    mine = await create_brand_with_admin(db)
    theirs = await create_brand_with_admin(db)
    product = await create_product(theirs)
    await put_stock(theirs, product, 5)
    invoice = (await sell(client, theirs, [line(product, 1)])).json()

    read = await client.get(f"/invoices/{invoice['id']}", headers=mine.admin.headers)
    void = await client.post(f"/invoices/{invoice['id']}/void", headers=mine.admin.headers)
    listed = (await client.get("/invoices", headers=mine.admin.headers)).json()
    sell_theirs = await sell(client, mine, [line(product, 1)])

    assert read.status_code == 404
    assert void.status_code == 404
    assert listed["data"] == []
    assert sell_theirs.status_code == 422
    assert sell_theirs.json()["error"]["details"][0]["field"] == "lines[0].product_id"
    assert await on_hand(theirs, product) == 4
    mine_report = await all_movements(client, mine.admin.headers)
    assert mine_report == []
