"""The dashboard's write forms over HTTP: each task writes the ledger through the API's own
services, once per form, only with the session's CSRF token, and only where the user may."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from stockroom.auth.principal import Role
from stockroom.db.models import StockMovement
from tests.dashboard.pages import (
    ORIGIN,
    filled_form,
    form_fields,
    post_form,
    select_options,
    table_rows,
    use_token,
)
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
    put_stock,
)


async def movements_of(brand: Brand, product_id: uuid.UUID) -> list[tuple[str, uuid.UUID, int]]:
    async with brand.db.sessionmaker() as session:
        rows = await session.execute(
            select(StockMovement.type, StockMovement.site_id, StockMovement.quantity)
            .where(StockMovement.brand_id == brand.id, StockMovement.product_id == product_id)
            .order_by(StockMovement.created_at, StockMovement.id)
        )
        return [(t, s, q) for t, s, q in rows]


async def movement_count(brand: Brand) -> int:
    async with brand.db.sessionmaker() as session:
        found = await session.execute(
            select(func.count()).where(StockMovement.brand_id == brand.id)
        )
        return int(found.scalar_one())


async def test_an_adjustment_form_writes_one_movement_with_its_reason(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    wine = await create_product(brand, sku="WINE-1", name="Red wine")
    await put_stock(brand, wine, 10)
    use_token(client, brand.admin.token)

    response = await post_form(
        client,
        "/dashboard/adjust",
        "adjust-form",
        "/dashboard/adjust",
        _removal(brand, "WINE-1", "2") | {"note": "bottle dropped"},
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard/adjust?")
    assert (await movements_of(brand, wine))[-1] == ("adjustment", brand.site_id, -2)
    after = await client.get(response.headers["location"])
    assert "Saved: WINE-1 −2 (waste)." in after.text


def _removal(brand: Brand, sku: str, quantity: str) -> dict[str, str]:
    """The adjustment form's fields for units gone to waste at the brand's main site."""
    return {
        "site_id": str(brand.site_id),
        "sku": sku,
        "direction": "remove",
        "quantity": quantity,
        "reason": "waste",
    }


async def test_a_double_submitted_form_writes_one_movement(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    wine = await create_product(brand, sku="WINE-2", name="Red wine")
    await put_stock(brand, wine, 10)
    use_token(client, brand.admin.token)
    data = await filled_form(
        client, "/dashboard/adjust", "adjust-form", _removal(brand, "WINE-2", "3")
    )

    first = await client.post("/dashboard/adjust", data=data, headers={"Origin": ORIGIN})
    second = await client.post("/dashboard/adjust", data=data, headers={"Origin": ORIGIN})

    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert await movements_of(brand, wine) == [
        ("adjustment", brand.site_id, 10),
        ("adjustment", brand.site_id, -3),
    ]
    # A new form (a fresh key) is a new adjustment.
    again = await post_form(
        client,
        "/dashboard/adjust",
        "adjust-form",
        "/dashboard/adjust",
        data | {"csrf": data["csrf"]},
    )
    assert again.status_code == 303


async def test_a_refused_form_shows_the_error_in_place_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    wine = await create_product(brand, sku="WINE-3", name="Red wine")
    await put_stock(brand, wine, 1)
    use_token(client, brand.admin.token)
    data = await filled_form(
        client, "/dashboard/adjust", "adjust-form", _removal(brand, "WINE-3", "5")
    )

    short = await client.post("/dashboard/adjust", data=data, headers={"Origin": ORIGIN})
    unknown = await client.post(
        "/dashboard/adjust", data=data | {"sku": "NOPE"}, headers={"Origin": ORIGIN}
    )
    not_a_number = await client.post(
        "/dashboard/adjust", data=data | {"quantity": "two"}, headers={"Origin": ORIGIN}
    )
    # The corrected form may reuse its key: the refusals released it.
    fixed = await client.post(
        "/dashboard/adjust", data=data | {"quantity": "1"}, headers={"Origin": ORIGIN}
    )

    assert short.status_code == 422
    assert 'role="alert"' in short.text and "WINE-3" in short.text  # the form, filled in again
    assert unknown.status_code == 422 and "No product has the SKU &#39;NOPE&#39;." in unknown.text
    assert not_a_number.status_code == 422 and "Enter a whole number." in not_a_number.text
    assert fixed.status_code == 303
    assert await movements_of(brand, wine) == [
        ("adjustment", brand.site_id, 1),
        ("adjustment", brand.site_id, -1),
    ]


async def test_a_form_without_the_session_csrf_token_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    wine = await create_product(brand, sku="WINE-4", name="Red wine")
    use_token(client, brand.admin.token)
    shown = await client.get("/dashboard/adjust")
    data = form_fields(shown.text, "adjust-form") | {
        "site_id": str(brand.site_id),
        "sku": "WINE-4",
        "direction": "add",
        "quantity": "5",
    }
    other = await create_brand_with_admin(db)
    foreign = form_fields(
        (await _page_as(client, other.admin.token, "/dashboard/adjust")).text, "adjust-form"
    )
    use_token(client, brand.admin.token)

    no_token = await client.post(
        "/dashboard/adjust", data=data | {"csrf": ""}, headers={"Origin": ORIGIN}
    )
    someone_elses = await client.post(
        "/dashboard/adjust", data=data | {"csrf": foreign["csrf"]}, headers={"Origin": ORIGIN}
    )
    cross_site = await client.post(
        "/dashboard/adjust", data=data, headers={"Origin": "https://evil.example"}
    )

    assert no_token.status_code == someone_elses.status_code == cross_site.status_code == 403
    assert await movements_of(brand, wine) == []


async def _page_as(client: httpx.AsyncClient, token: str, path: str) -> httpx.Response:
    use_token(client, token)
    return await client.get(path)


async def test_viewers_see_no_write_controls_and_managers_write_only_at_their_sites(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand, name="Other shop")
    wine = await create_product(brand, sku="WINE-5", name="Red wine")
    await put_stock(brand, wine, 5, site_id=other_site)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    manager = await create_caller(brand, Role.manager, site_ids=[brand.site_id])

    use_token(client, viewer.token)
    product_page = await client.get(f"/dashboard/products/{wine}")
    adjust_page = await client.get("/dashboard/adjust")
    use_token(client, manager.token)
    manager_form = await client.get("/dashboard/adjust")
    data = form_fields(manager_form.text, "adjust-form") | {
        "site_id": str(other_site),
        "sku": "WINE-5",
        "direction": "remove",
        "quantity": "1",
    }
    elsewhere = await client.post("/dashboard/adjust", data=data, headers={"Origin": ORIGIN})

    assert 'href="/dashboard/adjust' not in product_page.text
    assert '<form method="post" action="/dashboard' not in product_page.text
    assert adjust_page.status_code == 403
    assert "Other shop" not in manager_form.text  # only the manager's own site to choose
    assert elsewhere.status_code == 403 and 'role="alert"' in elsewhere.text
    assert await movements_of(brand, wine) == [("adjustment", other_site, 5)]


async def _transfer(
    client: httpx.AsyncClient,
    source: uuid.UUID,
    destination: uuid.UUID,
    sku: str,
    quantity: str,
    **more: str,
) -> httpx.Response:
    """The transfer form, filled in and sent (`in_transit="yes"`: ship now, receive later)."""
    fields = {
        "site_id": str(source),
        "destination_site_id": str(destination),
        "sku": sku,
        "quantity": quantity,
    }
    return await post_form(
        client, "/dashboard/transfer", "transfer-form", "/dashboard/transfer", fields | more
    )


async def test_transfer_and_receipt_forms_write_the_ledger(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    tea = await create_product(brand, sku="TEA-1", name="Tea")
    cup = await create_product(brand, sku="CUP-1", name="Cup")
    use_token(client, brand.admin.token)

    received = await post_form(
        client,
        "/dashboard/receive",
        "receive-form",
        "/dashboard/receive",
        {
            "site_id": str(warehouse),
            "reference": "PO-7",
            "sku-0": "TEA-1",
            "quantity-0": "12",
            "cost-0": "2.50",
            "sku-2": "CUP-1",
            "quantity-2": "4",
            "cost-2": "1",
        },
    )
    bad_row = await post_form(
        client,
        "/dashboard/receive",
        "receive-form",
        "/dashboard/receive",
        {
            "site_id": str(warehouse),
            "sku-0": "TEA-1",
            "quantity-0": "1",
            "cost-0": "1",
            "sku-3": "TEA-1",
            "quantity-3": "0",
            "cost-3": "1",
        },
    )
    moved = await _transfer(client, warehouse, brand.site_id, "TEA-1", "5")

    assert received.status_code == 303, received.text
    assert bad_row.status_code == 422
    assert 'id="f-quantity-3-error"' in bad_row.text  # the error sits at the row typed in
    assert moved.status_code == 303, moved.text
    purchase, *halves = await movements_of(brand, tea)
    assert purchase == ("purchase", warehouse, 12)
    assert sorted(halves) == sorted(
        [("transfer_out", warehouse, -5), ("transfer_in", brand.site_id, 5)]
    )
    assert await movements_of(brand, cup) == [("purchase", warehouse, 4)]


async def test_a_count_is_scanned_and_completed_as_recount_adjustments(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    soap = await create_product(brand, sku="SOAP-1", name="Soap")
    await put_stock(brand, soap, 5)
    use_token(client, brand.admin.token)

    started = await post_form(
        client,
        "/dashboard/counts",
        "start-count-form",
        "/dashboard/counts",
        {"site_id": str(brand.site_id)},
    )
    count_page = started.headers["location"]
    for _ in range(2):  # two scans: one more each
        scanned = await post_form(
            client, count_page, "scan-form", f"{count_page}/lines", {"sku": "SOAP-1"}
        )
        assert scanned.status_code == 303, scanned.text
    page = await client.get(count_page)
    completed = await post_form(client, count_page, "complete-form", f"{count_page}/complete", {})

    assert started.status_code == 303
    assert table_rows(page.text, "count-lines") == [["SOAP-1", "Soap", "2", "5", "−3 (fewer)"]]
    assert "autofocus" in page.text.split('id="f-sku"')[1].split(">")[0]
    assert completed.status_code == 303
    assert (await movements_of(brand, soap))[-1] == ("adjustment", brand.site_id, -3)


async def test_a_reservation_is_released_and_an_invoice_voided_from_their_pages(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    mug = await create_product(brand, sku="MUG-1", name="Mug")
    await put_stock(brand, mug, 10)
    held = await client.post(
        "/inventory/reservations",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(mug), "quantity": 3}], "reference": "ORDER-9"},
    )
    sold = await client.post(
        "/invoices",
        headers=brand.admin.headers,
        json={
            "number": "INV-9",
            "lines": [{"product_id": str(mug), "quantity": 2, "unit_price": "4"}],
        },
    )
    assert held.status_code == sold.status_code == 201
    use_token(client, brand.admin.token)

    reservations = await client.get("/dashboard/reservations")
    release_form = reservations.text.split(
        f'action="/dashboard/reservations/{held.json()["id"]}/release"'
    )[1]
    csrf = release_form.split('name="csrf" value="')[1].split('"')[0]
    key = release_form.split('name="idempotency_key" value="')[1].split('"')[0]
    released = await client.post(
        f"/dashboard/reservations/{held.json()['id']}/release",
        data={"csrf": csrf, "idempotency_key": key},
        headers={"Origin": ORIGIN},
    )
    voided = await client.post(
        f"/dashboard/invoices/{sold.json()['id']}/void",
        data={"csrf": csrf, "idempotency_key": str(uuid.uuid4())},
        headers={"Origin": ORIGIN},
    )
    twice = await client.post(
        f"/dashboard/invoices/{sold.json()['id']}/void",
        data={"csrf": csrf, "idempotency_key": str(uuid.uuid4())},
        headers={"Origin": ORIGIN},
    )
    stock = await client.get(f"/inventory/products/{mug}/stock", headers=brand.admin.headers)

    assert released.status_code == voided.status_code == 303
    assert twice.status_code == 422 and "already void" in twice.text
    assert stock.json()["sites"][0]["on_hand"] == 10
    assert stock.json()["sites"][0]["reserved"] == 0
    assert (await movements_of(brand, mug))[-1] == ("return", brand.site_id, 2)


async def test_another_brand_can_neither_see_nor_change_a_brands_things_through_the_forms(
    client: httpx.AsyncClient, db: Database
) -> None:
    a = await create_brand_with_admin(db)
    b = await create_brand_with_admin(db)
    mug = await create_product(a, sku="MUG-A", name="Mug")
    await put_stock(a, mug, 10)
    held = await client.post(
        "/inventory/reservations",
        headers=a.admin.headers,
        json={"lines": [{"product_id": str(mug), "quantity": 1}]},
    )
    sold = await client.post(
        "/invoices",
        headers=a.admin.headers,
        json={"lines": [{"product_id": str(mug), "quantity": 1, "unit_price": "1"}]},
    )
    counted = await client.post("/inventory/counts", headers=a.admin.headers, json={})
    before = await movement_count(a)
    use_token(client, b.admin.token)
    page = await client.get("/dashboard/adjust")
    hidden = form_fields(page.text, "adjust-form")

    async def post(path: str, **fields: str) -> httpx.Response:
        data = hidden | {"idempotency_key": str(uuid.uuid4())} | fields
        return await client.post(path, data=data, headers={"Origin": ORIGIN})

    answers = [
        await post(f"/dashboard/invoices/{sold.json()['id']}/void"),
        await post(f"/dashboard/reservations/{held.json()['id']}/release"),
        await post(f"/dashboard/counts/{counted.json()['id']}/complete"),
        await client.get(f"/dashboard/counts/{counted.json()['id']}"),
    ]
    by_sku = await post("/dashboard/adjust", sku="MUG-A", quantity="1", direction="remove")
    at_a_site = await post("/dashboard/counts", site_id=str(a.site_id))

    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    assert by_sku.status_code == 422 and "No product has the SKU" in by_sku.text
    assert at_a_site.status_code == 422
    assert await movement_count(a) == before


async def test_a_transfer_shipped_now_is_received_in_parts_and_closed_from_the_dashboard(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    tea = await create_product(brand, sku="TEA-T", name="Tea")
    await put_stock(brand, tea, 10, site_id=warehouse)
    use_token(client, brand.admin.token)

    shipped = await _transfer(
        client, warehouse, brand.site_id, "TEA-T", "6", reference="BOX-1", in_transit="yes"
    )
    page = await client.get("/dashboard/transfers")
    transfer_id = page.text.split('id="receive-form-')[1].split('"')[0]
    receive = f"/dashboard/transfers/{transfer_id}/receive"
    received = await post_form(
        client, "/dashboard/transfers", f"receive-form-{transfer_id}", receive, {"quantity": "4"}
    )
    too_many = await post_form(
        client, "/dashboard/transfers", f"receive-form-{transfer_id}", receive, {"quantity": "9"}
    )
    closed = await post_form(
        client,
        "/dashboard/transfers",
        f"close-form-{transfer_id}",
        f"/dashboard/transfers/{transfer_id}/close",
        {"reason": "returned"},
    )

    assert shipped.status_code == 303, shipped.text
    assert "BOX-1" in page.text
    assert received.status_code == 303, received.text
    assert too_many.status_code == 422
    assert closed.status_code == 303, closed.text
    moves = await movements_of(brand, tea)
    assert sorted(q for t, s, q in moves if t != "adjustment") == [-6, 2, 4]
    stock = await client.get(f"/inventory/products/{tea}/stock", headers=brand.admin.headers)
    on_hand = {s["site_id"]: s["on_hand"] for s in stock.json()["sites"]}
    assert on_hand == {str(warehouse): 6, str(brand.site_id): 4}


async def test_a_manager_ships_to_a_site_of_the_brand_they_cannot_read(
    client: httpx.AsyncClient, db: Database
) -> None:
    # The API's rule: write access at the source, and the destination any site of the brand.
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    tea = await create_product(brand, sku="TEA-M", name="Tea")
    await put_stock(brand, tea, 10)
    manager = await create_caller(brand, Role.manager, site_ids=[brand.site_id])
    use_token(client, manager.token)

    form = await client.get("/dashboard/transfer")
    shipped = await _transfer(client, brand.site_id, warehouse, "TEA-M", "3", in_transit="yes")
    on_the_way = await client.get("/dashboard/transfers")
    back_from = await _transfer(client, warehouse, brand.site_id, "TEA-M", "1")

    assert select_options(form.text, "site_id") == ["Main shop"]  # from: the manager's own
    assert select_options(form.text, "destination_site_id") == [
        "Choose a site",
        "Main shop",
        "Warehouse",
    ]
    assert shipped.status_code == 303, shipped.text
    assert "Warehouse" in (await client.get(shipped.headers["location"])).text
    # The sender sees the shipment, names its destination, may close it but not receive it.
    assert "Main shop → Warehouse" in on_the_way.text
    assert 'id="close-form-' in on_the_way.text and 'id="receive-form-' not in on_the_way.text
    assert back_from.status_code == 403 and 'role="alert"' in back_from.text
    assert await movements_of(brand, tea) == [
        ("adjustment", brand.site_id, 10),
        ("transfer_out", brand.site_id, -3),
    ]
