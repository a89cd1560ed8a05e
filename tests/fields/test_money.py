"""Money is exact on both databases at the full range, and has one spelling.

The range is 14 digits before the point and 4 after (99999999999999.9999). SQLite has no
decimal type: money used to be a float there, and a quantity × cost used to overflow a
Numeric(18, 4) intermediate on PostgreSQL.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import httpx
import pytest

from tests.errors.shape import detail_fields, error_of
from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock
from tests.movements.ledger_setup import product_cost

LARGEST = "99999999999999.9999"
MAX_QUANTITY = 1_000_000_000


async def new_product(client: httpx.AsyncClient, brand: Brand, cost: Any) -> httpx.Response:
    return await client.post(
        "/products",
        headers=brand.admin.headers,
        json={"sku": f"M-{uuid.uuid4().hex[:10]}", "name": "Money", "cost_per_unit": cost},
    )


async def get_product(client: httpx.AsyncClient, brand: Brand, product_id: str) -> dict[str, Any]:
    response = await client.get(f"/products/{product_id}", headers=brand.admin.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    "amount", [LARGEST, "12345678901234.5678", "0.0001", "90071992547409.93", "1"]
)
async def test_money_round_trips_exactly_through_the_database(
    client: httpx.AsyncClient, db: Database, amount: str
) -> None:
    brand = await create_brand_with_admin(db)
    created = await new_product(client, brand, amount)
    assert created.status_code == 201, created.text
    assert created.json()["cost_per_unit"] == amount

    assert (await get_product(client, brand, created.json()["id"]))["cost_per_unit"] == amount
    assert await product_cost(brand, uuid.UUID(created.json()["id"])) == Decimal(amount)


async def test_a_purchase_of_the_largest_quantity_at_the_largest_cost_is_exact(
    client: httpx.AsyncClient, db: Database
) -> None:
    # quantity × cost is ~1e23: far beyond a Numeric(18, 4), yet both values are valid.
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    first = await client.post(
        "/purchases",
        headers=brand.admin.headers,
        json={
            "lines": [
                {"product_id": str(product), "quantity": MAX_QUANTITY, "cost_per_unit": LARGEST}
            ]
        },
    )
    assert first.status_code == 201, first.text
    assert first.json()["movements"][0]["unit_cost"] == LARGEST
    assert await product_cost(brand, product) == Decimal(LARGEST)

    second = await client.post(
        "/purchases",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(product), "quantity": 3, "cost_per_unit": "0.0001"}]},
    )
    assert second.status_code == 201, second.text
    with localcontext() as exact:
        exact.prec = 60
        average = (MAX_QUANTITY * Decimal(LARGEST) + 3 * Decimal("0.0001")) / (MAX_QUANTITY + 3)
        expected = average.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    assert expected == Decimal("99999999700000.0008")  # not 1e14, not a float's neighbour
    assert await product_cost(brand, product) == expected
    assert (await get_product(client, brand, str(product)))["cost_per_unit"] == str(expected)


async def test_an_invoice_total_of_eighteen_digits_is_exact(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, cost_per_unit="12345678.1234")
    await put_stock(brand, product, 999_999_999)

    response = await client.post(
        "/invoices",
        headers=brand.admin.headers,
        json={
            "lines": [
                {"product_id": str(product), "quantity": 999_999_999, "unit_price": "99999.9999"}
            ]
        },
    )

    assert response.status_code == 201, response.text
    assert response.json()["total"] == "99999999800000.0001"
    assert response.json()["movements"][0]["unit_cost"] == "12345678.1234"
    again = await client.get(f"/invoices/{response.json()['id']}", headers=brand.admin.headers)
    assert again.json()["total"] == "99999999800000.0001"
    assert again.json()["lines"][0]["unit_price"] == "99999.9999"


async def test_an_invoice_total_beyond_the_range_is_refused_naming_the_lines(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, MAX_QUANTITY)

    response = await client.post(
        "/invoices",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(product), "quantity": 2, "unit_price": LARGEST}]},
    )

    assert detail_fields(error_of(response, 422, "validation_error")) == ["lines"]


@pytest.mark.parametrize("negative_zero", ["-0", "-0.0000", -0.0])
async def test_negative_zero_is_answered_as_zero(
    client: httpx.AsyncClient, db: Database, negative_zero: Any
) -> None:
    brand = await create_brand_with_admin(db)
    created = await new_product(client, brand, negative_zero)
    assert created.status_code == 201, created.text
    assert created.json()["cost_per_unit"] == "0"
    assert (await get_product(client, brand, created.json()["id"]))["cost_per_unit"] == "0"


BAD_SPELLINGS = ["1_000", " 5 ", "5 ", "+5", "1e3", "1E+2", "Infinity", "NaN", "0x10", "", "."]


@pytest.mark.parametrize("spelling", BAD_SPELLINGS)
async def test_money_strings_other_than_plain_decimals_are_refused(
    client: httpx.AsyncClient, db: Database, spelling: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    line = {"product_id": str(product), "quantity": 1}
    cases = [
        ("/products", {"sku": "S-1", "name": "n", "cost_per_unit": spelling}, "cost_per_unit"),
        (
            "/purchases",
            {"lines": [{**line, "cost_per_unit": spelling}]},
            "lines[0].cost_per_unit",
        ),
        ("/invoices", {"lines": [{**line, "unit_price": spelling}]}, "lines[0].unit_price"),
    ]
    for path, body, field in cases:
        response = await client.post(path, headers=brand.admin.headers, json=body)
        error = error_of(response, 422, "validation_error")
        assert detail_fields(error) == [field], (path, error)


async def test_initial_stock_refuses_an_underscored_cost(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    response = await client.post(
        "/inventory/initial-stock",
        headers=brand.admin.headers,
        json={"products": [{"product_id": str(product), "quantity": 1, "cost_per_unit": "1_0"}]},
    )
    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["products[0].cost_per_unit"]


async def test_money_strings_carry_a_pattern_in_the_openapi_document(app: Any) -> None:
    schemas = app.openapi()["components"]["schemas"]
    answered = schemas["Product"]["properties"]["cost_per_unit"]
    assert answered["type"] == "string" and answered["pattern"]
    sent = schemas["ProductCreate"]["properties"]["cost_per_unit"]
    strings = [s for s in sent["anyOf"] if s["type"] == "string"]
    assert strings and all(s["pattern"] for s in strings)
    invoice = schemas["Invoice"]["properties"]["total"]
    assert invoice["pattern"] == answered["pattern"]
