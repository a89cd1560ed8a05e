"""`stockroom import` and `stockroom export`, run as the command, against both databases.

Each test makes its own brand in the shared test database and runs the command in a
subprocess pointed at that database, then reads the result back through the API.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from stockroom.db.models import StockLevel
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.movements.ledger_setup import all_movements, on_hand, post_movements_at, product_cost
from tests.movements.test_csv import CONTRACT_COLUMNS

STOCKROOM = [sys.executable, "-m", "stockroom.cli"]


async def stockroom(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STOCKROOM_DATABASE_URL": url}
    return await asyncio.to_thread(
        subprocess.run,
        [*STOCKROOM, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    value = json.loads(result.stdout)
    assert isinstance(value, dict), result.stdout
    return value


def error_lines(result: subprocess.CompletedProcess[str]) -> list[int]:
    assert result.returncode == 1, result.stdout + result.stderr
    return [e["line"] for e in summary(result)["errors"]]


async def product_by_sku(client: httpx.AsyncClient, brand: Brand, sku: str) -> dict[str, Any]:
    response = await client.get("/products", headers=brand.admin.headers, params={"sku": sku})
    assert response.status_code == 200, response.text
    (product,) = response.json()["data"]
    return dict(product)


async def product_count(client: httpx.AsyncClient, brand: Brand) -> int:
    response = await client.get("/products", headers=brand.admin.headers)
    return int(response.json()["meta"]["total"])


# --- import products -----------------------------------------------------------------------


async def test_import_products_adds_every_row_with_defaults_for_empty_cells(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    file = write_csv(
        tmp_path / "products.csv",
        "sku,name,unit,min_stock,location_aware,cost_per_unit\n"
        "TEA-1,Green tea,box,5,false,2.5\n"
        'LID-1,"Lid, 12 oz",sleeve,3,yes,0.7500\n'
        "TEA-2,Black tea,,,,\n",
    )

    result = await stockroom(
        database_url, "import", "products", "--brand", str(brand.id), str(file), "--json"
    )

    assert result.returncode == 0, result.stderr
    assert summary(result) == {"imported": 3}
    tea = await product_by_sku(client, brand, "TEA-1")
    lid = await product_by_sku(client, brand, "LID-1")
    plain = await product_by_sku(client, brand, "TEA-2")
    assert (tea["name"], tea["unit"], tea["min_stock"], tea["cost_per_unit"]) == (
        "Green tea",
        "box",
        5,
        "2.5",
    )
    assert (lid["name"], lid["location_aware"], lid["cost_per_unit"]) == (
        "Lid, 12 oz",
        True,
        "0.75",
    )
    assert (plain["unit"], plain["min_stock"], plain["location_aware"], plain["cost_per_unit"]) == (
        "unit",
        0,
        False,
        "0",
    )


async def test_a_products_file_with_bad_rows_imports_nothing_and_lists_each_bad_line(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    file = write_csv(
        tmp_path / "products.csv",
        "sku,name,min_stock,location_aware,cost_per_unit\n"
        "OK-1,Good row,1,false,1\n"  # 2
        "OK-2,,1,false,1\n"  # 3: no name
        "OK-3,Bad stock,-1,false,1\n"  # 4: negative min_stock
        "OK-4,Bad flag,1,maybe,1\n"  # 5: not a boolean
        "OK-5,Bad cost,1,false,1.23456\n"  # 6: too many decimal places
        "\n"  # 7: blank lines are skipped
        "OK-6,Short row\n"  # 8: missing fields
        f"{'S' * 65},Long SKU,1,false,1\n"  # 9: SKU over 64 characters
        "OK-7,Good row too,2,true,2\n",  # 10
    )

    result = await stockroom(
        database_url, "import", "products", "--brand", str(brand.id), str(file), "--json"
    )

    assert error_lines(result) == [3, 4, 5, 6, 8, 9]
    assert await product_count(client, brand) == 0


async def test_the_table_for_people_names_each_bad_line_and_says_nothing_was_imported(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    file = write_csv(tmp_path / "p.csv", "sku,name,min_stock\nA,ok,1\nB,bad,x\n")

    result = await stockroom(
        database_url, "import", "products", "--brand", str(brand.id), str(file)
    )

    assert result.returncode == 1
    assert "nothing was imported" in result.stderr
    assert "min_stock must be a whole number" in result.stderr
    assert result.stdout == ""


async def test_duplicate_skus_in_the_file_and_in_the_brand_are_each_reported(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="EXISTING")
    other = await create_brand_with_admin(db)
    await create_product(other, sku="OTHER-BRAND")  # another brand's SKU is free to use
    file = write_csv(
        tmp_path / "products.csv",
        "sku,name\nNEW-1,First\nEXISTING,Clash with the brand\nNEW-1,Clash in the file\n"
        "OTHER-BRAND,Fine\n",
    )

    result = await stockroom(
        database_url, "import", "products", "--brand", str(brand.id), str(file), "--json"
    )

    errors = summary(result)["errors"]
    assert result.returncode == 1
    assert errors == [
        {"line": 3, "message": "sku 'EXISTING' already exists in the brand"},
        {"line": 4, "message": "sku 'NEW-1' is already on line 2"},
    ]
    assert await product_count(client, brand) == 1


async def test_a_header_with_an_unknown_or_missing_column_is_refused_at_line_1(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    file = write_csv(tmp_path / "p.csv", "sku,nmae\nA,typo in the header\n")

    result = await stockroom(
        database_url, "import", "products", "--brand", str(brand.id), str(file), "--json"
    )

    assert error_lines(result) == [1, 1]
    messages = " ".join(e["message"] for e in summary(result)["errors"])
    assert "unknown column 'nmae'" in messages
    assert "name" in messages


async def test_a_line_that_is_not_utf8_is_reported_at_its_own_line(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    file = tmp_path / "latin1.csv"
    file.write_bytes(
        "\ufeffsku,name\nA-1,Café\n".encode() + "A-2,Crème\n".encode("latin-1") + b"A-3,ok\n"
    )

    result = await stockroom(
        database_url, "import", "products", "--brand", str(brand.id), str(file), "--json"
    )

    assert error_lines(result) == [3]
    assert "UTF-8" in summary(result)["errors"][0]["message"]
    assert await product_count(client, brand) == 0


async def test_an_unknown_brand_is_an_error_not_an_import(
    database_url: str, tmp_path: Path
) -> None:
    file = write_csv(tmp_path / "p.csv", "sku,name\nA,B\n")

    result = await stockroom(
        database_url, "import", "products", "--brand", str(uuid.uuid4()), str(file)
    )

    assert result.returncode == 2
    assert "no brand" in result.stderr


@pytest.mark.slow
async def test_a_hundred_thousand_products_import_in_one_go(
    client: httpx.AsyncClient, db: Database, backend: str, database_url: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the size test runs once, on SQLite")
    brand = await create_brand_with_admin(db)
    file = tmp_path / "big.csv"
    with file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "name", "unit", "min_stock", "location_aware", "cost_per_unit"])
        for i in range(100_000):
            writer.writerow([f"SKU-{i:06d}", f"Product {i}", "box", i % 50, i % 7 == 0, "1.25"])

    started = time.perf_counter()
    result = await stockroom(
        database_url, "import", "products", "--brand", str(brand.id), str(file), "--json"
    )
    elapsed = time.perf_counter() - started

    assert result.returncode == 0, result.stderr
    assert summary(result) == {"imported": 100_000}
    assert await product_count(client, brand) == 100_000
    print(f"100,000 products imported in {elapsed:.1f} s (process start included)")


# --- import stock --------------------------------------------------------------------------


async def test_initial_stock_import_writes_initial_stock_at_the_site_and_averages_costs(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    site = await create_site(brand, name="Warehouse")
    shelf_a = await create_location(brand, site, name="A")
    shelf_b = await create_location(brand, site, name="B")
    await create_product(brand, sku="TEA", cost_per_unit="9")
    cups = await create_product(brand, sku="CUPS", location_aware=True)
    file = write_csv(
        tmp_path / "stock.csv",
        "sku,quantity,location_id,cost_per_unit\n"
        "TEA,10,,2\n"
        f"CUPS,30,{shelf_a},1\n"
        f"CUPS,10,{shelf_b},3\n",
    )

    result = await stockroom(
        database_url,
        "import",
        "stock",
        "--brand",
        str(brand.id),
        "--site",
        str(site),
        str(file),
        "--json",
    )

    assert result.returncode == 0, result.stderr
    assert summary(result) == {"imported": 3}
    tea = (await product_by_sku(client, brand, "TEA"))["id"]
    assert await on_hand(brand, uuid.UUID(tea), site) == 10
    assert await on_hand(brand, cups, site) == 40
    # Nothing was held before, so the average is the file's own: (30×1 + 10×3) / 40.
    assert await product_cost(brand, cups) == Decimal("1.5")
    assert await product_cost(brand, uuid.UUID(tea)) == Decimal("2")
    movements = await all_movements(client, brand.admin.headers, site_id=site)
    assert sorted(m["quantity"] for m in movements) == [10, 10, 30]
    assert {m["type"] for m in movements} == {"initial_stock"}
    assert {m["reference"] for m in movements} == {"import stock.csv"}


async def test_initial_import_refuses_one_level_twice_as_the_api_does(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    # Two locations of one product: fine (the test above); one location twice: refused,
    # like POST /inventory/initial-stock (docs/api-notes.md).
    brand = await create_brand_with_admin(db)
    shelf = await create_location(brand, brand.site_id, name="A")
    await create_product(brand, sku="CUPS", location_aware=True)
    file = write_csv(
        tmp_path / "stock.csv", f"sku,quantity,location_id\nCUPS,3,{shelf}\nCUPS,4,{shelf}\n"
    )

    result = await stockroom(
        database_url,
        "import",
        "stock",
        "--brand",
        str(brand.id),
        "--site",
        str(brand.site_id),
        str(file),
        "--json",
    )

    assert error_lines(result) == [3]
    assert await all_movements(client, brand.admin.headers) == []


async def test_adjust_import_applies_signed_changes_with_the_reason(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, sku="TEA")
    milk = await create_product(brand, sku="MILK")
    await put_stock(brand, tea, 10)
    file = write_csv(tmp_path / "count.csv", "sku,quantity\nTEA,-4\nMILK,6\n")

    result = await stockroom(
        database_url,
        "import",
        "stock",
        "--brand",
        str(brand.id),
        "--site",
        str(brand.site_id),
        "--mode",
        "adjust",
        str(file),
        "--json",
    )

    assert result.returncode == 0, result.stderr
    assert summary(result) == {"imported": 2}
    assert await on_hand(brand, tea) == 6
    assert await on_hand(brand, milk) == 6
    imported = [
        m
        for m in await all_movements(client, brand.admin.headers, type="adjustment")
        if m["reference"] == "import count.csv"
    ]
    assert sorted(m["quantity"] for m in imported) == [-4, 6]
    assert {m["reason_code"] for m in imported} == {"recount"}


async def test_a_stock_file_with_bad_rows_writes_no_movement_and_lists_each_bad_line(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand, name="Elsewhere")
    elsewhere = await create_location(brand, other_site)
    await create_product(brand, sku="TEA")
    await create_product(brand, sku="CUPS", location_aware=True)
    file = write_csv(
        tmp_path / "stock.csv",
        "sku,quantity,location_id\n"
        "TEA,5,\n"  # 2: fine
        "NOPE,5,\n"  # 3: unknown SKU
        "CUPS,5,\n"  # 4: location-aware, no location
        f"TEA,5,{elsewhere}\n"  # 5: not location-aware, yet a location
        f"CUPS,5,{elsewhere}\n"  # 6: a location of another site
        "TEA,five,\n"  # 7: not a number
        "TEA,3,\n",  # 8: TEA again at the same level
    )

    result = await stockroom(
        database_url,
        "import",
        "stock",
        "--brand",
        str(brand.id),
        "--site",
        str(brand.site_id),
        str(file),
        "--json",
    )

    assert error_lines(result) == [3, 4, 5, 6, 7, 8]
    assert await all_movements(client, brand.admin.headers) == []


async def test_adjustments_that_would_go_below_zero_are_refused_line_by_line(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand, sku="TEA")
    milk = await create_product(brand, sku="MILK")
    await create_product(brand, sku="SUGAR")
    await put_stock(brand, tea, 3)
    await put_stock(brand, milk, 3)
    file = write_csv(tmp_path / "adj.csv", "sku,quantity\nTEA,-5\nSUGAR,2\nMILK,-4\n")

    result = await stockroom(
        database_url,
        "import",
        "stock",
        "--brand",
        str(brand.id),
        "--site",
        str(brand.site_id),
        "--mode",
        "adjust",
        str(file),
        "--json",
    )

    assert error_lines(result) == [2, 4]
    assert "insufficient_stock" in summary(result)["errors"][0]["message"]
    assert (await on_hand(brand, tea), await on_hand(brand, milk)) == (3, 3)
    assert len(await all_movements(client, brand.admin.headers)) == 2  # the setup's only


async def test_a_stock_file_larger_than_one_ledger_write_is_still_all_or_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    lines = 2_500  # several of the import's ledger writes (WRITE_CHUNK lines each)
    products = tmp_path / "products.csv"
    products.write_text("sku,name\n" + "".join(f"P-{i},Product {i}\n" for i in range(lines)))
    opening = tmp_path / "opening.csv"
    opening.write_text("sku,quantity\n" + "".join(f"P-{i},2\n" for i in range(lines)))
    # Two lines short, far apart in the file: both are reported, and nothing is written.
    recount = tmp_path / "recount.csv"
    recount.write_text(
        "sku,quantity\n" + "".join(f"P-{i},{-3 if i in (8, 2_400) else -1}\n" for i in range(lines))
    )
    site = ["--brand", str(brand.id), "--site", str(brand.site_id)]

    made = await stockroom(
        database_url, "import", "products", "--brand", str(brand.id), str(products)
    )
    assert made.returncode == 0, made.stdout + made.stderr
    first = await stockroom(database_url, "import", "stock", *site, str(opening), "--json")
    second = await stockroom(
        database_url, "import", "stock", *site, "--mode", "adjust", str(recount), "--json"
    )

    assert summary(first) == {"imported": lines}
    assert error_lines(second) == [10, 2_402]
    async with db.sessionmaker() as session:
        total = await session.execute(
            select(func.sum(StockLevel.on_hand)).where(StockLevel.brand_id == brand.id)
        )
    assert total.scalar_one() == 2 * lines


async def test_initial_mode_refuses_products_already_initialized_at_the_site(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    counted = await create_product(brand, sku="COUNTED")
    await create_product(brand, sku="NEW")
    await put_stock(brand, counted, 4)
    elsewhere = await create_site(brand, name="Other site")
    file = write_csv(tmp_path / "stock.csv", "sku,quantity\nNEW,5\nCOUNTED,7\n")

    result = await stockroom(
        database_url,
        "import",
        "stock",
        "--brand",
        str(brand.id),
        "--site",
        str(brand.site_id),
        str(file),
        "--json",
    )
    at_other_site = await stockroom(
        database_url,
        "import",
        "stock",
        "--brand",
        str(brand.id),
        "--site",
        str(elsewhere),
        str(file),
        "--json",
    )

    assert error_lines(result) == [3]
    assert "already_initialized" in summary(result)["errors"][0]["message"]
    assert await on_hand(brand, counted, brand.site_id) == 4
    # Tracking starts per site: at another site both products are new.
    assert summary(at_other_site) == {"imported": 2}


async def test_a_site_of_another_brand_is_refused(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    await create_product(brand, sku="TEA")
    file = write_csv(tmp_path / "stock.csv", "sku,quantity\nTEA,1\n")

    result = await stockroom(
        database_url,
        "import",
        "stock",
        "--brand",
        str(brand.id),
        "--site",
        str(other.site_id),
        str(file),
    )

    assert result.returncode == 2
    assert "No site" in result.stderr


# --- export movements ----------------------------------------------------------------------


def read_export(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


async def test_export_has_a_header_and_one_row_per_movement_within_the_filters(
    client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand, name="Other")
    product = await create_product(brand)
    march = datetime(2024, 3, 10, 12, tzinfo=UTC)
    await post_movements_at(brand, product, [5, 2], at=march)
    await post_movements_at(brand, product, [7], at=march, site_id=other_site)
    await post_movements_at(brand, product, [-1], at=datetime(2024, 4, 2, tzinfo=UTC))
    await post_movements_at(brand, product, [9], at=datetime(2024, 2, 28, 23, 59, tzinfo=UTC))
    expected = await all_movements(
        client,
        brand.admin.headers,
        site_id=brand.site_id,
        start_date="2024-03-01",
        end_date="2024-03-31",
    )
    out = tmp_path / "march.csv"

    result = await stockroom(
        database_url,
        "export",
        "movements",
        "--brand",
        str(brand.id),
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
        "--site",
        str(brand.site_id),
        str(out),
        "--json",
    )

    assert result.returncode == 0, result.stderr
    assert summary(result) == {"exported": 2, "file": str(out)}
    header, rows = read_export(out)
    assert header == CONTRACT_COLUMNS  # the same columns as the API's CSV
    assert [r["id"] for r in rows] == [m["id"] for m in expected]
    assert sorted(int(r["quantity"]) for r in rows) == [2, 5]
    assert {r["created_at"] for r in rows} == {"2024-03-10T12:00:00Z"}


async def test_export_of_every_site_reads_past_one_batch(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand, name="Other")
    product = await create_product(brand)
    day = datetime(2024, 5, 1, 9, tzinfo=UTC)
    await post_movements_at(brand, product, [1] * 1200, at=day)
    await post_movements_at(brand, product, [1] * 300, at=day, site_id=other_site)
    out = tmp_path / "all.csv"

    result = await stockroom(
        database_url,
        "export",
        "movements",
        "--brand",
        str(brand.id),
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-01",
        str(out),
        "--json",
    )

    assert summary(result)["exported"] == 1500
    _, rows = read_export(out)
    assert len(rows) == len({r["id"] for r in rows}) == 1500


async def test_export_without_a_range_writes_every_movement_and_one_end_leaves_the_other_open(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await post_movements_at(brand, product, [4], at=datetime(2019, 1, 2, tzinfo=UTC))
    await post_movements_at(brand, product, [3], at=datetime(2024, 6, 1, tzinfo=UTC))
    await put_stock(brand, product, 1)  # now
    everything, since_2024 = tmp_path / "all.csv", tmp_path / "since.csv"

    whole = await stockroom(
        database_url, "export", "movements", "--brand", str(brand.id), str(everything), "--json"
    )
    opened = await stockroom(
        database_url,
        "export",
        "movements",
        "--brand",
        str(brand.id),
        "--from",
        "2024-01-01",
        str(since_2024),
    )

    assert whole.returncode == 0, whole.stderr
    assert summary(whole)["exported"] == 3
    _, rows = read_export(everything)
    assert sorted(int(r["quantity"]) for r in rows) == [1, 3, 4]
    assert opened.returncode == 0, opened.stderr
    _, rows = read_export(since_2024)
    assert sorted(int(r["quantity"]) for r in rows) == [1, 3]


async def test_export_with_nothing_in_range_writes_only_the_header(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 3)
    out = tmp_path / "empty.csv"

    result = await stockroom(
        database_url,
        "export",
        "movements",
        "--brand",
        str(brand.id),
        "--from",
        "2001-01-01",
        "--to",
        "2001-12-31",
        str(out),
    )

    assert result.returncode == 0, result.stderr
    header, rows = read_export(out)
    assert header[0] == "id" and rows == []


async def test_export_refuses_a_range_that_ends_before_it_starts(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    brand = await create_brand_with_admin(db)
    out = tmp_path / "never.csv"

    result = await stockroom(
        database_url,
        "export",
        "movements",
        "--brand",
        str(brand.id),
        "--from",
        "2024-03-02",
        "--to",
        "2024-03-01",
        str(out),
    )

    assert result.returncode == 2
    assert "end_date is before start_date" in result.stderr
    assert not out.exists()
