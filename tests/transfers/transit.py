"""Calls the in-transit transfer tests share: ship, receive, close, read."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_product,
    create_site,
    put_stock,
)


async def ship(
    client: httpx.AsyncClient,
    brand: Brand,
    product_id: uuid.UUID,
    destination: uuid.UUID,
    quantity: int,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        "/inventory/transfers",
        headers=headers or brand.admin.headers,
        json={
            "product_id": str(product_id),
            "destination_site_id": str(destination),
            "quantity": quantity,
            "in_transit": True,
            **extra,
        },
    )


async def shipped(
    client: httpx.AsyncClient,
    brand: Brand,
    product_id: uuid.UUID,
    destination: uuid.UUID,
    quantity: int,
    **extra: Any,
) -> str:
    """Ship and return the transfer id (the shipment must succeed)."""
    response = await ship(client, brand, product_id, destination, quantity, **extra)
    assert response.status_code == 201, response.text
    return str(response.json()["transfer_id"])


async def receive(
    client: httpx.AsyncClient,
    brand: Brand,
    transfer_id: str,
    lines: list[dict[str, Any]],
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/inventory/transfers/{transfer_id}/receive",
        headers=headers or brand.admin.headers,
        json={"lines": lines},
    )


async def close(
    client: httpx.AsyncClient,
    brand: Brand,
    transfer_id: str,
    reason: str,
    *,
    headers: dict[str, str] | None = None,
    notes: str | None = None,
) -> httpx.Response:
    return await client.post(
        f"/inventory/transfers/{transfer_id}/close",
        headers=headers or brand.admin.headers,
        json={"reason": reason, "notes": notes},
    )


async def transfer(client: httpx.AsyncClient, brand: Brand, transfer_id: str) -> dict[str, Any]:
    response = await client.get(f"/inventory/transfers/{transfer_id}", headers=brand.admin.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def figures(body: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "shipped", "received", "outstanding", "written_off", "returned")
    return {k: body[k] for k in keys}


def line(product_id: uuid.UUID, quantity: int, **extra: Any) -> dict[str, Any]:
    return {"product_id": str(product_id), "quantity": quantity, **extra}


async def warehouse_with_stock(
    db: Database, on_hand: int = 10
) -> tuple[Brand, uuid.UUID, uuid.UUID]:
    """A brand whose default site holds `on_hand` of a new product, and a second site
    ("Warehouse"): (brand, warehouse, product)."""
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, on_hand)
    return brand, warehouse, product


def level_of(on_hand: int, *, reserved: int = 0, in_transit: int = 0) -> dict[str, int]:
    """A level as `/inventory/stock` answers it (available = on hand − reserved)."""
    return {
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "in_transit": in_transit,
    }
