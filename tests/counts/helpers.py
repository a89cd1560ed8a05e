"""Shared steps of the count tests: start a count, sell, read a count's recount movements."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.factories import Brand


async def start(client: httpx.AsyncClient, brand: Brand, **body: Any) -> dict[str, Any]:
    response = await client.post("/inventory/counts", headers=brand.admin.headers, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def read(client: httpx.AsyncClient, brand: Brand, count: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"/inventory/counts/{count['id']}", headers=brand.admin.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def sell(
    client: httpx.AsyncClient, brand: Brand, product: uuid.UUID, quantity: int
) -> httpx.Response:
    response = await client.post(
        "/invoices",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(product), "quantity": quantity, "unit_price": "1"}]},
    )
    assert response.status_code in (201, 422), response.text
    return response


async def count_adjustments(
    client: httpx.AsyncClient, brand: Brand, count_id: str
) -> list[dict[str, Any]]:
    """Every `recount` adjustment of the brand that names this count, from the report."""
    response = await client.get(
        "/inventory/movements",
        headers=brand.admin.headers,
        params={"type": "adjustment", "per_page": 100},
    )
    assert response.status_code == 200, response.text
    return [
        m
        for m in response.json()["data"]
        if m["reason_code"] == "recount" and m["reference"] == count_id
    ]
