"""Test setup that writes through the ledger at a chosen time, and reads levels back."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from stockroom.db.models import Product, StockLevel
from stockroom.ledger import MovementDraft, post_movements
from tests.factories import Brand


async def post_movements_at(
    brand: Brand,
    product_id: uuid.UUID,
    quantities: list[int],
    *,
    at: datetime,
    type: str = "adjustment",
    site_id: uuid.UUID | None = None,
) -> None:
    """One ledger write of several movements of a product, all stamped `at`."""
    async with brand.db.transaction() as session:
        await post_movements(
            session,
            brand.id,
            [
                MovementDraft(
                    type=type,
                    product_id=product_id,
                    site_id=site_id or brand.site_id,
                    quantity=quantity,
                    reason_code="test-setup",
                )
                for quantity in quantities
            ],
            user_id=brand.admin.user_id,
            now=at,
        )


async def on_hand(brand: Brand, product_id: uuid.UUID, site_id: uuid.UUID | None = None) -> int:
    """The product's stock level as stored (one site, or the whole brand)."""
    query = select(func.coalesce(func.sum(StockLevel.on_hand), 0)).where(
        StockLevel.brand_id == brand.id, StockLevel.product_id == product_id
    )
    if site_id is not None:
        query = query.where(StockLevel.site_id == site_id)
    async with brand.db.sessionmaker() as session:
        return int((await session.execute(query)).scalar_one())


async def product_cost(brand: Brand, product_id: uuid.UUID) -> Decimal:
    """The product's stored average cost."""
    query = select(Product.cost_per_unit).where(
        Product.brand_id == brand.id, Product.id == product_id
    )
    async with brand.db.sessionmaker() as session:
        return Decimal((await session.execute(query)).scalar_one())


async def report(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    """GET /inventory/movements with these query parameters; the JSON body of a 200."""
    query = {k: str(v) for k, v in params.items() if v is not None}
    response = await client.get("/inventory/movements", headers=headers, params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def all_movements(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every movement of the report for these filters, walked with keyset paging."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = await report(client, headers, limit=100, cursor=cursor, **params)
        rows.extend(body["data"])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return rows
