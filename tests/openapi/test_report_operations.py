"""The movements report as two operations: JSON `listStockMovements`, CSV `exportStockMovements`.

The contract's `format=csv` / `Accept: text/csv` on /inventory/movements keep working; the CSV
has its own path so that each operation has one response type; and a client that sends the
declared paging defaults along with a cursor gets the keyset page.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.factories import Database, create_brand_with_admin, create_product
from tests.movements.ledger_setup import post_movements_at
from tests.movements.test_csv import CONTRACT_COLUMNS, parse


async def test_the_csv_operation_answers_the_same_rows_as_format_csv(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, coffee = await create_product(brand), await create_product(brand)
    await post_movements_at(brand, tea, [1, 2], at=datetime(2022, 4, 1, tzinfo=UTC))
    await post_movements_at(brand, tea, [3], at=datetime(2022, 4, 5, tzinfo=UTC))
    await post_movements_at(brand, coffee, [4], at=datetime(2022, 4, 1, tzinfo=UTC))
    filters = {"product_id": str(tea), "start_date": "2022-04-01", "end_date": "2022-04-04"}
    h = brand.admin.headers

    export = await client.get("/inventory/movements.csv", headers=h, params=filters)
    by_format = await client.get(
        "/inventory/movements", headers=h, params=filters | {"format": "csv"}
    )
    by_accept = await client.get(
        "/inventory/movements", headers={**h, "Accept": "text/csv"}, params=filters
    )

    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    header, rows = parse(export.text)
    assert header == CONTRACT_COLUMNS
    assert sorted(int(r["quantity"]) for r in rows) == [1, 2]
    assert export.text == by_format.text == by_accept.text


async def test_the_csv_operation_answers_csv_whatever_the_accept_header(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get(
        "/inventory/movements.csv", headers={**brand.admin.headers, "Accept": "application/json"}
    )

    assert response.status_code == 200
    assert parse(response.text) == (CONTRACT_COLUMNS, [])


async def test_the_csv_operation_errors_are_json_errors(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    bad_date = await client.get(
        "/inventory/movements.csv", headers=brand.admin.headers, params={"end_date": "2024-13-01"}
    )
    no_token = await client.get("/inventory/movements.csv")

    assert bad_date.status_code == 422
    assert bad_date.json()["error"]["details"][0]["field"] == "end_date"
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == "unauthenticated"


async def test_a_cursor_with_the_declared_paging_defaults_gets_the_keyset_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    # Generated clients send every parameter's declared default: page=1 and per_page=25.
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await post_movements_at(brand, product, [1, 2, 3], at=datetime(2022, 4, 1, tzinfo=UTC))
    h = brand.admin.headers
    defaults = {"page": "1", "per_page": "25"}

    first = await client.get("/inventory/movements", headers=h, params=defaults | {"limit": "2"})
    cursor = first.json()["meta"]["next_cursor"]
    second = await client.get(
        "/inventory/movements", headers=h, params=defaults | {"limit": "2", "cursor": cursor}
    )
    mixed = await client.get(
        "/inventory/movements", headers=h, params={"page": "2", "per_page": "25", "limit": "2"}
    )

    assert first.status_code == 200 and second.status_code == 200
    assert set(first.json()["meta"]) == {"limit", "next_cursor"}
    assert len(first.json()["data"]) == 2 and len(second.json()["data"]) == 1
    assert second.json()["meta"]["next_cursor"] is None
    assert mixed.status_code == 422  # a page other than the first still cannot mix with a cursor
