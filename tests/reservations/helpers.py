"""Calls the reservation tests share: reserve, sell, read a level, verify the ledger."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from stockroom.ledger.verify import verify_ledger
from tests.factories import Brand, Database


def line(product_id: uuid.UUID, quantity: int, **extra: Any) -> dict[str, Any]:
    return {"product_id": str(product_id), "quantity": quantity, **extra}


async def reserve(
    client: httpx.AsyncClient,
    brand: Brand,
    lines: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    return await client.post(
        "/inventory/reservations",
        headers=headers or brand.admin.headers,
        json={"lines": lines, **body},
    )


async def sell(
    client: httpx.AsyncClient,
    brand: Brand,
    product_id: uuid.UUID,
    quantity: int,
    *,
    reservation_id: str | None = None,
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {
        "lines": [{"product_id": str(product_id), "quantity": quantity, "unit_price": "1"}],
        **extra,
    }
    if reservation_id is not None:
        body["reservation_id"] = reservation_id
    return await client.post("/invoices", headers=brand.admin.headers, json=body)


async def level(
    client: httpx.AsyncClient, brand: Brand, product_id: uuid.UUID, site_id: uuid.UUID | None = None
) -> dict[str, int]:
    """on_hand, reserved, available and in_transit of the product at a site, as the API says."""
    response = await client.get(
        f"/inventory/products/{product_id}/stock", headers=brand.admin.headers
    )
    assert response.status_code == 200, response.text
    site = next(
        s for s in response.json()["sites"] if s["site_id"] == str(site_id or brand.site_id)
    )
    return {k: site[k] for k in ("on_hand", "reserved", "available", "in_transit")}


async def assert_ledger_sound(db: Database) -> None:
    async with db.engine.connect() as conn:
        report = await verify_ledger(conn)
    assert report.ok, [(c.name, c.examples) for c in report.checks if not c.ok]


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])
