"""GET /inventory/movements: filters, date edges, both paging modes and scope, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from stockroom.auth.principal import Role
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
    put_stock,
)
from tests.movements.ledger_setup import all_movements, on_hand, post_movements_at, report


def at(day: str, clock: str = "12:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}+00:00")


async def test_report_lists_movements_newest_first_with_page_totals(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    for day, quantity in [("2021-05-01", 3), ("2021-05-03", 4), ("2021-05-02", -1)]:
        await post_movements_at(brand, product, [quantity], at=at(day))

    body = await report(client, brand.admin.headers, per_page=2)

    assert body["meta"] == {"page": 1, "per_page": 2, "total": 3, "total_pages": 2}
    assert [m["quantity"] for m in body["data"]] == [4, -1]
    assert body["data"][0]["created_at"] == "2021-05-03T12:00:00Z"
    second = await report(client, brand.admin.headers, per_page=2, page=2)
    assert [m["quantity"] for m in second["data"]] == [3]
    assert sum(m["quantity"] for m in body["data"] + second["data"]) == await on_hand(
        brand, product
    )


async def test_report_filters_by_product_site_and_type(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand, name="Kitchen")
    tea, coffee = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 10)
    await put_stock(brand, coffee, 20)
    await put_stock(brand, tea, 30, site_id=other_site)
    await post_movements_at(brand, tea, [5], at=at("2022-01-01"), type="purchase")
    headers = brand.admin.headers

    by_product = await report(client, headers, product_id=tea)
    by_site = await report(client, headers, site_id=other_site)
    by_alias = await report(client, headers, workspace_id=other_site)
    by_type = await report(client, headers, type="purchase")
    combined = await report(client, headers, product_id=tea, site_id=brand.site_id)

    assert sorted(m["quantity"] for m in by_product["data"]) == [5, 10, 30]
    assert [m["quantity"] for m in by_site["data"]] == [30]
    assert by_alias["data"] == by_site["data"]
    assert [(m["type"], m["quantity"]) for m in by_type["data"]] == [("purchase", 5)]
    assert sorted(m["quantity"] for m in combined["data"]) == [5, 10]


async def test_date_range_covers_whole_utc_days_inclusive(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    stamps = {
        1: at("2023-03-09", "23:59:59.999999"),  # the day before start_date
        2: at("2023-03-10", "00:00:00"),  # first instant of start_date
        3: at("2023-03-12", "23:59:59"),  # late on end_date
        4: at("2023-03-12", "23:59:59.999999"),  # last instant of end_date
        5: at("2023-03-13", "00:00:00"),  # first instant after end_date
    }
    for quantity, stamp in stamps.items():
        await post_movements_at(brand, product, [quantity], at=stamp)

    body = await report(client, brand.admin.headers, start_date="2023-03-10", end_date="2023-03-12")
    only_end = await report(client, brand.admin.headers, end_date="2023-03-12")
    only_start = await report(client, brand.admin.headers, start_date="2023-03-13")
    one_day = await report(
        client, brand.admin.headers, start_date="2023-03-12", end_date="2023-03-12"
    )

    assert [m["quantity"] for m in body["data"]] == [4, 3, 2]
    assert [m["quantity"] for m in only_end["data"]] == [4, 3, 2, 1]
    assert [m["quantity"] for m in only_start["data"]] == [5]
    assert [m["quantity"] for m in one_day["data"]] == [4, 3]
    assert body["data"][0]["created_at"] == "2023-03-12T23:59:59.999999Z"


async def test_bad_filters_are_rejected_with_the_field_named(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    foreign_product = await create_product(other)
    cases = [
        ({"start_date": "2023-02-30"}, "start_date"),
        ({"start_date": "10/03/2023"}, "start_date"),
        ({"end_date": "2023-3-1"}, "end_date"),
        ({"start_date": "2023-03-10", "end_date": "2023-03-09"}, "end_date"),
        ({"type": "theft"}, "type"),
        ({"site_id": str(other.site_id)}, "site_id"),
        ({"site_id": "not-a-uuid"}, "site_id"),
        ({"product_id": str(foreign_product)}, "product_id"),
        ({"per_page": "101"}, "per_page"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"cursor": "%%%"}, "cursor"),
        ({"cursor": "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzAxOjAwIiwgIngiXQ"}, "cursor"),
        ({"page": "2", "limit": "10"}, "cursor"),
        ({"format": "xml"}, "format"),
    ]
    for params, field in cases:
        response = await client.get(
            "/inventory/movements", headers=brand.admin.headers, params=params
        )
        assert response.status_code == 422, (params, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert field in [d["field"] for d in error["details"]], (params, error)


async def test_end_date_on_the_last_calendar_day_is_accepted(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 2)

    body = await report(client, brand.admin.headers, start_date="2000-01-01", end_date="9999-12-31")

    assert [m["quantity"] for m in body["data"]] == [2]


async def test_one_movement_by_id_is_the_reports_row(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 9)
    row = (await report(client, brand.admin.headers))["data"][0]

    response = await client.get(f"/inventory/movements/{row['id']}", headers=brand.admin.headers)

    assert response.status_code == 200
    assert response.json() == row


async def test_report_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/inventory/movements")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_callers_see_only_sites_they_may_read(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shop, kitchen = brand.site_id, await create_site(brand, name="Kitchen")
    product = await create_product(brand)
    await put_stock(brand, product, 1, site_id=shop)
    await put_stock(brand, product, 2, site_id=kitchen)
    viewer = await create_caller(brand, Role.viewer, site_ids=[kitchen])
    nobody = await create_caller(brand, Role.manager)

    seen = await report(client, viewer.headers)
    denied = await client.get(
        "/inventory/movements", headers=viewer.headers, params={"site_id": str(shop)}
    )
    admin_sees = await report(client, brand.admin.headers)

    assert [m["quantity"] for m in seen["data"]] == [2]
    assert seen["meta"]["total"] == 1
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    assert sorted(m["quantity"] for m in admin_sees["data"]) == [1, 2]
    assert (await report(client, nobody.headers))["data"] == []


async def test_keyset_paging_walks_every_row_exactly_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    # Many rows share one timestamp, so the id must break the ties between pages.
    base = at("2020-06-01")
    for minute in range(5):
        await post_movements_at(brand, product, [1] * 9, at=base + timedelta(minutes=minute))
    numbered = await report(client, brand.admin.headers, per_page=100)

    walked, cursor, pages = [], None, 0
    while True:
        body = await report(client, brand.admin.headers, limit=4, cursor=cursor)
        pages += 1
        assert set(body["meta"]) == {"limit", "next_cursor"}  # no count of every row
        assert len(body["data"]) <= 4
        walked.extend(body["data"])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break

    assert len(walked) == 45
    assert pages == 12
    assert len({m["id"] for m in walked}) == 45
    assert walked == numbered["data"]


async def test_keyset_last_full_page_ends_with_a_null_cursor(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await post_movements_at(brand, product, [1, 2, 3, 4], at=at("2020-01-01"))

    first = await report(client, brand.admin.headers, limit=2)
    second = await report(client, brand.admin.headers, limit=2, cursor=first["meta"]["next_cursor"])

    assert first["meta"]["next_cursor"] is not None
    assert len(second["data"]) == 2
    assert second["meta"]["next_cursor"] is None


async def test_keyset_paging_honours_filters(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    tea, coffee = await create_product(brand), await create_product(brand)
    await post_movements_at(brand, tea, [1] * 7, at=at("2020-02-01"))
    await post_movements_at(brand, coffee, [2] * 7, at=at("2020-02-01"))

    rows = await all_movements(client, brand.admin.headers, product_id=tea)

    assert len(rows) == 7
    assert {m["product_id"] for m in rows} == {str(tea)}


async def test_other_brands_movements_never_appear(client: httpx.AsyncClient, db: Database) -> None:
    mine = await create_brand_with_admin(db)
    theirs = await create_brand_with_admin(db)
    my_product, their_product = await create_product(mine), await create_product(theirs)
    await put_stock(mine, my_product, 3)
    await put_stock(theirs, their_product, 4)
    their_row = (await report(client, theirs.admin.headers))["data"][0]

    numbered = await report(client, mine.admin.headers)
    keyset = await all_movements(client, mine.admin.headers)
    csv_text = (
        await client.get(
            "/inventory/movements", headers=mine.admin.headers, params={"format": "csv"}
        )
    ).text
    by_id = await client.get(f"/inventory/movements/{their_row['id']}", headers=mine.admin.headers)

    assert [m["quantity"] for m in numbered["data"]] == [3]
    assert [m["product_id"] for m in keyset] == [str(my_product)]
    assert str(their_product) not in csv_text
    assert their_row["id"] not in csv_text
    assert by_id.status_code == 404
