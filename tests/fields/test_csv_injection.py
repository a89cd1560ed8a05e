"""CSV formula injection: caller text that a spreadsheet would run is escaped in every CSV.

OWASP: a cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
Numbers Stockroom writes itself (a quantity of -2) stay numbers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx

from stockroom.fields import csv_text_cell
from tests.cli.test_import_export import stockroom
from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock

DANGEROUS = {
    "reason_code": '=HYPERLINK("http://x")',
    "reason_description": "+1+cmd|' /C calc'!A0",
    "notes": "@SUM(A1:A9)",
    "reference": "-2+3",
}


async def write_dangerous_movements(client: httpx.AsyncClient, brand: Brand) -> None:
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    single = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "quantity": -2,
            "reason_code": DANGEROUS["reason_code"],
            "reason_description": DANGEROUS["reason_description"],
        },
    )
    assert single.status_code == 201, single.text
    batch = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={
            "products": [{"product_id": str(product), "quantity": -1}],
            "reason": "damaged",
            "notes": DANGEROUS["notes"],
            "reference": DANGEROUS["reference"],
        },
    )
    assert batch.status_code == 201, batch.text
    tabbed = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "quantity": 1,
            "reason_code": "\tTAB",
            "reason_description": "\rCR",
        },
    )
    assert tabbed.status_code == 201, tabbed.text


def check_rows(rows: list[dict[str, Any]]) -> None:
    by_quantity = {r["quantity"]: r for r in rows}
    single, batch, tabbed = by_quantity["-2"], by_quantity["-1"], by_quantity["1"]
    assert single["reason_code"] == "'" + DANGEROUS["reason_code"]
    assert single["reason_description"] == "'" + DANGEROUS["reason_description"]
    assert batch["notes"] == "'" + DANGEROUS["notes"]
    assert batch["reference"] == "'" + DANGEROUS["reference"]
    assert tabbed["reason_code"] == "'\tTAB"
    assert tabbed["reason_description"] == "'\rCR"
    # Stockroom's own numbers are not text: negative quantities stay numbers.
    assert {r["quantity"] for r in rows} == {"10", "-2", "-1", "1"}
    # Safe text is written as it is.
    assert by_quantity["10"]["reason_code"] == "test-setup"
    assert batch["reason_code"] == "damaged"


async def test_the_api_csv_escapes_formula_text(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    await write_dangerous_movements(client, brand)

    for request in (
        {"params": {"format": "csv"}, "headers": brand.admin.headers},
        {"headers": {**brand.admin.headers, "Accept": "text/csv"}},
    ):
        response = await client.get("/inventory/movements", **request)
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
        check_rows(rows)

    # The JSON answer is the data as stored: escaping is for spreadsheets only.
    as_json = await client.get("/inventory/movements", headers=brand.admin.headers)
    assert DANGEROUS["reason_code"] in {m["reason_code"] for m in as_json.json()["data"]}


async def test_the_cli_export_escapes_formula_text(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    await write_dangerous_movements(client, brand)
    out = tmp_path / "movements.csv"

    result = await stockroom(
        database_url,
        "export",
        "movements",
        "--brand",
        str(brand.id),
        "--from",
        "2000-01-01",
        "--to",
        "2999-12-31",
        str(out),
    )

    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as file:  # keep a CR inside a cell as it is
        rows = list(csv.DictReader(file))
    check_rows(rows)


def test_only_formula_prefixes_are_escaped() -> None:
    assert [csv_text_cell(v) for v in ("=1", "+1", "-1", "@a", "\t", "\rx")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\t",
        "'\rx",
    ]
    assert [csv_text_cell(v) for v in ("a=1", " =1", "'=1", "", None, "1-2")] == [
        "a=1",
        " =1",
        "'=1",
        "",
        "",
        "1-2",
    ]
