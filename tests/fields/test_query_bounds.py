"""Every integer query parameter is bounded: a huge number is a 422 naming the parameter.

The routes come from the OpenAPI document, so a list route added later is tested too.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.errors.shape import detail_fields, error_of
from tests.factories import Database, create_brand_with_admin

HUGE = ["9223372036854775807", "9223372036854775808", str(10**40), "-9223372036854775809"]


def integer_query_parameters(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, parameter) for every integer query parameter of every GET operation."""
    found = []
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
            if parameter["in"] == "query" and "integer" in types:
                found.append((path, parameter["name"]))
    return found


async def test_every_integer_query_parameter_declares_a_maximum(app: Any) -> None:
    document = app.openapi()
    parameters = integer_query_parameters(document)
    # The list routes at least: every one pages.
    assert len({p for p, name in parameters if name == "page"}) >= 8
    for path, name in parameters:
        operation = document["paths"][path]["get"]
        schema = next(p["schema"] for p in operation["parameters"] if p["name"] == name)
        bounded = [schema, *schema.get("anyOf", [])]
        assert any("maximum" in s and s["maximum"] <= 2**31 - 1 for s in bounded), (path, name)


@pytest.mark.parametrize("value", HUGE)
async def test_a_huge_integer_in_any_query_is_a_422_naming_the_parameter(
    app: Any, client: httpx.AsyncClient, db: Database, value: str
) -> None:
    brand = await create_brand_with_admin(db)
    parameters = integer_query_parameters(app.openapi())
    assert parameters
    for path, name in parameters:
        # Path ids of the brand's own site (or any uuid): the query is checked first.
        url = re.sub(r"\{[^}]+\}", str(brand.site_id), path)
        response = await client.get(url, params={name: value}, headers=brand.admin.headers)
        error = error_of(response, 422, "validation_error")
        assert detail_fields(error) == [name], (url, name, error)


async def test_the_movements_report_page_beyond_the_bound_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    # The case: a 500 (OverflowError) on SQLite, a detail-less 422 on PostgreSQL.
    brand = await create_brand_with_admin(db)
    response = await client.get(
        "/inventory/movements",
        params={"page": "9223372036854775807"},
        headers=brand.admin.headers,
    )
    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["page"]


async def test_the_last_allowed_page_is_an_empty_page_not_an_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    for path in ("/inventory/movements", "/products", "/inventory/adjustments"):
        response = await client.get(
            path, params={"page": 1_000_000_000, "per_page": 100}, headers=brand.admin.headers
        )
        assert response.status_code == 200, (path, response.text)
        assert response.json()["data"] == []
