"""GET /inventory/movements as CSV: the same filtered rows, streamed in batches."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx

from stockroom.movements.service import CSV_BATCH_SIZE
from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.movements.ledger_setup import all_movements, post_movements_at

CONTRACT_COLUMNS = [
    "id",
    "type",
    "product_id",
    "site_id",
    "location_id",
    "quantity",
    "source_site_id",
    "destination_site_id",
    "reference",
    "notes",
    "reason_code",
    "reason_description",
    "invoice_id",
    "transfer_id",
    "unit_cost",
    "user_id",
    "created_at",
    "purchase_id",  # beyond the contract's fields, last so the contract's order stands
    "occurred_at",  # when it happened (Part 2, stock through time)
]


def parse(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


async def test_accept_text_csv_streams_a_header_and_one_row_per_movement(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 8)
    await post_movements_at(
        brand, product, [3], at=datetime(2024, 2, 29, 8, 30, tzinfo=UTC), type="purchase"
    )
    expected = await all_movements(client, brand.admin.headers)

    response = await client.get(
        "/inventory/movements", headers={**brand.admin.headers, "Accept": "text/csv"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    header, rows = parse(response.text)
    assert header == CONTRACT_COLUMNS
    assert [r["id"] for r in rows] == [m["id"] for m in expected]
    # (A purchase, not a sale: a sale without its invoice would break the ledger's rules.)
    moved = next(r for r in rows if r["type"] == "purchase")
    assert moved["quantity"] == "3"
    assert moved["created_at"] == "2024-02-29T08:30:00Z"
    assert moved["location_id"] == "" and moved["invoice_id"] == ""
    assert moved["product_id"] == str(product)


async def test_csv_quotes_text_with_commas_quotes_and_newlines(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    awkward = 'broken, "badly"\nsecond line'
    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 2, "reason_description": awkward},
    )
    assert response.status_code == 201, response.text

    exported = await client.get(
        "/inventory/movements", headers=brand.admin.headers, params={"format": "csv"}
    )

    _, rows = parse(exported.text)
    assert [r["reason_description"] for r in rows] == [awkward]


async def test_csv_honours_the_filters(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    tea, coffee = await create_product(brand), await create_product(brand)
    await post_movements_at(brand, tea, [1, 2], at=datetime(2022, 4, 1, tzinfo=UTC))
    await post_movements_at(brand, tea, [3], at=datetime(2022, 4, 5, tzinfo=UTC))
    await post_movements_at(brand, coffee, [4], at=datetime(2022, 4, 1, tzinfo=UTC))

    response = await client.get(
        "/inventory/movements",
        headers=brand.admin.headers,
        params={
            "format": "csv",
            "product_id": str(tea),
            "start_date": "2022-04-01",
            "end_date": "2022-04-04",
        },
    )

    _, rows = parse(response.text)
    assert sorted(int(r["quantity"]) for r in rows) == [1, 2]
    assert {r["product_id"] for r in rows} == {str(tea)}


async def test_csv_of_nothing_is_just_the_header(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(
        "/inventory/movements", headers=brand.admin.headers, params={"format": "csv"}
    )

    assert response.status_code == 200
    assert parse(response.text) == (CONTRACT_COLUMNS, [])


async def test_json_stays_the_default_unless_csv_is_preferred(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    for accept in ["application/json", "*/*", "application/json, text/csv;q=0.5", ""]:
        response = await client.get(
            "/inventory/movements", headers={**brand.admin.headers, "Accept": accept}
        )
        assert response.headers["content-type"].startswith("application/json"), accept
    forced = await client.get(
        "/inventory/movements",
        headers={**brand.admin.headers, "Accept": "text/csv"},
        params={"format": "json"},
    )
    assert forced.headers["content-type"].startswith("application/json")


async def test_csv_errors_come_back_as_json_errors(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(
        "/inventory/movements",
        headers={**brand.admin.headers, "Accept": "text/csv"},
        params={"start_date": "2024-13-01"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "start_date"


async def test_csv_streams_more_rows_than_one_batch(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    count = CSV_BATCH_SIZE * 2 + 7
    # Two timestamps, so batch boundaries fall inside runs of equal created_at.
    await post_movements_at(
        brand, product, [1] * (count - 500), at=datetime(2021, 1, 1, tzinfo=UTC)
    )
    await post_movements_at(brand, product, [2] * 500, at=datetime(2021, 1, 2, tzinfo=UTC))
    expected = await all_movements(client, brand.admin.headers)

    response = await client.get(
        "/inventory/movements", headers=brand.admin.headers, params={"format": "csv"}
    )

    assert response.status_code == 200
    header, rows = parse(response.text)
    assert header == CONTRACT_COLUMNS
    assert len(rows) == count
    assert [r["id"] for r in rows] == [m["id"] for m in expected]
    assert sum(int(r["quantity"]) for r in rows) == (count - 500) + 1000
