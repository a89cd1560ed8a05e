"""Text and ids get one answer on both databases: NUL in a query, a location id past int32."""

from __future__ import annotations

import httpx
import pytest

from tests.dashboard.pages import use_token
from tests.errors.shape import detail_fields, error_of
from tests.factories import Database, create_brand_with_admin, create_product


@pytest.mark.parametrize("name", ["q", "sku"])
@pytest.mark.parametrize("value", ["%00", "tea%00", "%00tea"])
async def test_nul_in_a_product_search_is_a_422_naming_it(
    client: httpx.AsyncClient, db: Database, name: str, value: str
) -> None:
    # It used to match every product on SQLite and be a bare 422 on PostgreSQL.
    brand = await create_brand_with_admin(db)
    await create_product(brand)
    # (Bytes that are not UTF-8 reach the app as U+FFFD, so only NUL needs a rule here.)
    response = await client.get(f"/products?{name}={value}", headers=brand.admin.headers)
    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == [name]


@pytest.mark.parametrize("field", ["sku", "name", "unit"])
async def test_nul_in_product_text_is_a_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, field: str
) -> None:
    brand = await create_brand_with_admin(db)
    body = {"sku": "NUL-1", "name": "Nul", field: "bad\x00text"}
    response = await client.post("/products", headers=brand.admin.headers, json=body)
    assert detail_fields(error_of(response, 422, "validation_error")) == [field]


@pytest.mark.parametrize("location_id", [2**31, 2**63, -(2**31) - 1, 0])
async def test_a_location_id_beyond_the_column_is_a_422_naming_it(
    client: httpx.AsyncClient, db: Database, location_id: int
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)
    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": 1, "location_id": location_id},
    )
    assert detail_fields(error_of(response, 422, "validation_error")) == ["location_id"]


async def test_nul_in_the_dashboard_search_gets_the_same_answer_on_both_backends(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="TEA-1", name="Tea")
    use_token(client, brand.admin.token)

    response = await client.get("/dashboard?q=tea%00")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "TEA-1" not in response.text
