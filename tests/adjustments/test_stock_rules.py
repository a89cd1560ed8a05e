"""Adjustments against the stock rules: compare-and-set, zero floor, negative-stock sites."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from stockroom.db.models import StockLevel, StockMovement
from tests.errors.shape import detail_fields, error_of
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)


async def on_hand(
    brand: Brand, product: uuid.UUID, site: uuid.UUID, location: int = 0
) -> int | None:
    """The stored level (None when the level was never written)."""
    async with brand.db.transaction() as session:
        return (
            await session.execute(
                select(StockLevel.on_hand).where(
                    StockLevel.brand_id == brand.id,
                    StockLevel.product_id == product,
                    StockLevel.site_id == site,
                    StockLevel.location_id == location,
                )
            )
        ).scalar()


async def movements_of(brand: Brand, product: uuid.UUID) -> list[int]:
    async with brand.db.transaction() as session:
        rows = await session.execute(
            select(StockMovement.quantity).where(
                StockMovement.brand_id == brand.id, StockMovement.product_id == product
            )
        )
        return sorted(rows.scalars())


async def adjust(client: httpx.AsyncClient, brand: Brand, **body: Any) -> httpx.Response:
    payload = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in body.items()}
    return await client.post("/inventory/adjustments", headers=brand.admin.headers, json=payload)


async def test_expected_on_hand_matching_applies_the_change(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 8)

    response = await adjust(client, brand, product_id=product, quantity=-3, expected_on_hand=8)

    assert response.status_code == 201, response.text
    assert response.json()["quantity"] == -3
    assert await on_hand(brand, product, brand.site_id) == 5


@pytest.mark.parametrize("quantity", [-3, 4])
async def test_expected_on_hand_not_matching_is_stale_and_writes_nothing(
    client: httpx.AsyncClient, db: Database, quantity: int
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 8)

    response = await adjust(
        client, brand, product_id=product, quantity=quantity, expected_on_hand=7
    )

    error = error_of(response, 409, "stale_quantity")
    assert detail_fields(error) == ["expected_on_hand"]
    assert error["details"][0]["on_hand"] == 8
    assert error["details"][0]["expected_on_hand"] == 7
    assert await on_hand(brand, product, brand.site_id) == 8
    assert await movements_of(brand, product) == [8]


async def test_expected_on_hand_zero_matches_a_product_never_stocked(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await adjust(client, brand, product_id=product, quantity=6, expected_on_hand=0)

    assert response.status_code == 201, response.text
    assert await on_hand(brand, product, brand.site_id) == 6


async def test_expected_on_hand_other_than_zero_is_stale_for_a_product_never_stocked(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await adjust(client, brand, product_id=product, quantity=6, expected_on_hand=2)

    error = error_of(response, 409, "stale_quantity")
    assert error["details"][0]["on_hand"] == 0
    assert await on_hand(brand, product, brand.site_id) is None
    assert await movements_of(brand, product) == []


async def test_expected_on_hand_is_checked_at_the_location_adjusted(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)
    shelf = await create_location(brand, brand.site_id, name="Shelf")
    cellar = await create_location(brand, brand.site_id, name="Cellar")
    await put_stock(brand, product, 4, location_id=shelf)
    await put_stock(brand, product, 9, location_id=cellar)

    stale = await adjust(
        client, brand, product_id=product, quantity=-1, location_id=shelf, expected_on_hand=9
    )
    fresh = await adjust(
        client, brand, product_id=product, quantity=-1, location_id=shelf, expected_on_hand=4
    )

    assert error_of(stale, 409, "stale_quantity")["details"][0]["on_hand"] == 4
    assert fresh.status_code == 201, fresh.text
    assert await on_hand(brand, product, brand.site_id, shelf) == 3
    assert await on_hand(brand, product, brand.site_id, cellar) == 9


async def test_stale_line_in_a_batch_writes_no_line(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    first, second = await create_product(brand), await create_product(brand)
    await put_stock(brand, first, 5)
    await put_stock(brand, second, 5)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={
            "reason": "recount",
            "products": [
                {"product_id": str(first), "quantity": -1, "expected_on_hand": 5},
                {"product_id": str(second), "quantity": -1, "expected_on_hand": 4},
            ],
        },
    )

    error = error_of(response, 409, "stale_quantity")
    assert detail_fields(error) == ["products[1].expected_on_hand"]
    assert await on_hand(brand, first, brand.site_id) == 5
    assert await on_hand(brand, second, brand.site_id) == 5


async def test_adjustment_down_to_exactly_zero_is_allowed(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    response = await adjust(client, brand, product_id=product, quantity=-5)

    assert response.status_code == 201, response.text
    assert await on_hand(brand, product, brand.site_id) == 0


async def test_removing_stock_never_held_is_insufficient(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await adjust(client, brand, product_id=product, quantity=-1)

    error = error_of(response, 422, "insufficient_stock")
    assert detail_fields(error) == ["quantity"]
    assert error["details"][0]["on_hand"] == 0
    assert await movements_of(brand, product) == []


async def test_site_allowing_negative_stock_accepts_going_below_zero(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    lenient = await create_site(brand, allow_negative_stock=True)
    product = await create_product(brand)
    await put_stock(brand, product, 2, site_id=lenient)

    response = await adjust(client, brand, product_id=product, quantity=-5, site_id=lenient)
    never_stocked = await create_product(brand)
    from_nothing = await adjust(
        client, brand, product_id=never_stocked, quantity=-4, site_id=lenient
    )

    assert response.status_code == 201, response.text
    assert from_nothing.status_code == 201, from_nothing.text
    assert await on_hand(brand, product, lenient) == -3
    assert await on_hand(brand, never_stocked, lenient) == -4


async def test_negative_stock_at_one_site_does_not_allow_it_at_another(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_site(brand, allow_negative_stock=True)
    product = await create_product(brand)

    response = await adjust(client, brand, product_id=product, quantity=-1)

    error_of(response, 422, "insufficient_stock")
    assert await on_hand(brand, product, brand.site_id) is None
