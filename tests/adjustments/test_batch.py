"""The batch form of POST /inventory/adjustments: all lines in one transaction, or none."""

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
    put_stock,
)


def line(product: uuid.UUID, quantity: Any, **extra: Any) -> dict[str, Any]:
    return {"product_id": str(product), "quantity": quantity, **extra}


async def post_batch(
    client: httpx.AsyncClient, brand: Brand, lines: list[Any], **fields: Any
) -> httpx.Response:
    body = {"products": lines, "reason": "recount", **fields}
    return await client.post("/inventory/adjustments", headers=brand.admin.headers, json=body)


async def levels_of(brand: Brand) -> dict[tuple[uuid.UUID, int], int]:
    """Every stock level of the brand, read straight from the database."""
    async with brand.db.transaction() as session:
        rows = await session.execute(
            select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand).where(
                StockLevel.brand_id == brand.id
            )
        )
        return {(r.product_id, r.location_id): r.on_hand for r in rows}


async def movement_count(brand: Brand) -> int:
    async with brand.db.transaction() as session:
        rows = await session.execute(
            select(StockMovement.id).where(StockMovement.brand_id == brand.id)
        )
        return len(rows.all())


async def test_batch_answers_every_movement_in_line_order(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    first, second, third = [await create_product(brand) for _ in range(3)]
    await put_stock(brand, second, 10)

    response = await post_batch(
        client,
        brand,
        [line(third, 4), line(first, 1), line(second, -6)],
        reason="damaged",
        notes="dropped a crate",
        reference="INC-42",
    )

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert [(m["product_id"], m["quantity"]) for m in data] == [
        (str(third), 4),
        (str(first), 1),
        (str(second), -6),
    ]
    for movement in data:
        assert movement["type"] == "adjustment"
        assert movement["reason_code"] == "damaged"
        assert movement["notes"] == "dropped a crate"
        assert movement["reference"] == "INC-42"
        assert movement["site_id"] == str(brand.site_id)
        assert movement["user_id"] == str(brand.admin.user_id)
    assert len({m["id"] for m in data}) == 3
    assert await levels_of(brand) == {(third, 0): 4, (first, 0): 1, (second, 0): 4}


@pytest.mark.parametrize("reason", ["damaged", "lost", "found", "recount", "other"])
async def test_batch_accepts_every_reason_of_the_contract(
    client: httpx.AsyncClient, db: Database, reason: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post_batch(client, brand, [line(product, 1)], reason=reason)

    assert response.status_code == 201, response.text
    assert response.json()["data"][0]["reason_code"] == reason


@pytest.mark.parametrize("reason", ["stolen", "DAMAGED", "", None, 1])
async def test_batch_with_an_unknown_reason_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, reason: Any
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post_batch(client, brand, [line(product, 1)], reason=reason)

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["reason"]
    assert await movement_count(brand) == 0


async def test_batch_without_a_reason_is_a_validation_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"products": [line(product, 1)]},
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["reason"]


async def test_batch_whose_second_line_is_short_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    plenty, scarce, fresh = [await create_product(brand) for _ in range(3)]
    await put_stock(brand, plenty, 10)
    await put_stock(brand, scarce, 2)
    before_levels, before_movements = await levels_of(brand), await movement_count(brand)

    response = await post_batch(client, brand, [line(plenty, -5), line(scarce, -3), line(fresh, 7)])

    error = error_of(response, 422, "insufficient_stock")
    assert detail_fields(error) == ["products[1].quantity"]
    assert error["details"][0]["on_hand"] == 2
    assert await levels_of(brand) == before_levels
    assert await movement_count(brand) == before_movements


async def test_two_lines_on_one_product_are_checked_together(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    response = await post_batch(client, brand, [line(product, -3), line(product, -3)])

    error = error_of(response, 422, "insufficient_stock")
    assert len(error["details"]) == 1
    assert error["details"][0]["on_hand"] == 5
    assert error["details"][0]["requested"] == -6
    assert await levels_of(brand) == {(product, 0): 5}
    assert await movement_count(brand) == 1


async def test_two_lines_on_one_product_within_stock_both_apply(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 6)

    response = await post_batch(client, brand, [line(product, -3), line(product, -3)])

    assert response.status_code == 201, response.text
    assert [m["quantity"] for m in response.json()["data"]] == [-3, -3]
    assert await levels_of(brand) == {(product, 0): 0}


async def test_insufficient_stock_lists_every_short_line(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    short_a, fine, short_b = [await create_product(brand) for _ in range(3)]
    await put_stock(brand, short_a, 1)
    await put_stock(brand, fine, 9)

    response = await post_batch(
        client, brand, [line(short_a, -2), line(fine, -1), line(short_b, -4)]
    )

    error = error_of(response, 422, "insufficient_stock")
    by_field = {d["field"]: d for d in error["details"]}
    assert set(by_field) == {"products[0].quantity", "products[2].quantity"}
    assert by_field["products[0].quantity"]["on_hand"] == 1
    assert by_field["products[2].quantity"]["on_hand"] == 0
    assert await levels_of(brand) == {(short_a, 0): 1, (fine, 0): 9}


async def test_batch_lines_at_locations_change_each_location(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)
    shelf = await create_location(brand, brand.site_id, name="Shelf")
    cellar = await create_location(brand, brand.site_id, name="Cellar")

    response = await post_batch(
        client,
        brand,
        [line(product, 3, location_id=shelf), line(product, 5, location_id=cellar)],
    )

    assert response.status_code == 201, response.text
    assert [m["location_id"] for m in response.json()["data"]] == [shelf, cellar]
    assert await levels_of(brand) == {(product, shelf): 3, (product, cellar): 5}


async def test_batch_reports_every_bad_line_with_its_index(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    aware = await create_product(brand, location_aware=True)
    plain = await create_product(brand)
    other = await create_brand_with_admin(db, name="Other brand")
    theirs = await create_product(other)

    response = await post_batch(
        client,
        brand,
        [line(plain, 1), line(aware, 1), line(theirs, 1), line(plain, 1, location_id=1)],
    )

    error = error_of(response, 422, "validation_error")
    assert sorted(detail_fields(error)) == [
        "products[1].location_id",
        "products[2].product_id",
        "products[3].location_id",
    ]
    assert await movement_count(brand) == 0


@pytest.mark.parametrize(
    ("bad_line", "field"),
    [
        ({"quantity": 0}, "products[1].quantity"),
        ({"quantity": "5"}, "products[1].quantity"),
        ({"quantity": 5.5}, "products[1].quantity"),
        ({"quantity": True}, "products[1].quantity"),
        ({"product_id": "nope"}, "products[1].product_id"),
        ({"colour": "red"}, "products[1].colour"),
        ({"location_id": "shelf"}, "products[1].location_id"),
    ],
)
async def test_bad_field_in_a_line_is_reported_with_its_path(
    client: httpx.AsyncClient, db: Database, bad_line: dict[str, Any], field: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post_batch(client, brand, [line(product, 1), line(product, 1) | bad_line])

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == [field]
    assert await movement_count(brand) == 0


async def test_line_without_a_product_is_reported_with_its_path(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post_batch(client, brand, [line(product, 1), {"quantity": 1}])

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["products[1].product_id"]


async def test_batch_of_500_lines_is_accepted(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post_batch(client, brand, [line(product, 1)] * 500)

    assert response.status_code == 201, response.text
    assert len(response.json()["data"]) == 500
    assert await levels_of(brand) == {(product, 0): 500}


@pytest.mark.parametrize("count", [0, 501])
async def test_batch_outside_1_to_500_lines_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, count: int
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post_batch(client, brand, [line(product, 1)] * count)

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["products"]
    assert await movement_count(brand) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("notes", "n" * 1001),
        ("reference", "r" * 256),
        ("notes", "a\x00b"),
        ("reference", "a\x00b"),
        ("products", "not a list"),
        ("products", None),
        ("unexpected", 1),
        ("reason_code", "waste"),
    ],
)
async def test_bad_batch_field_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, field: str, value: Any
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    body: dict[str, Any] = {"products": [line(product, 1)], "reason": "found", field: value}

    response = await client.post("/inventory/adjustments", headers=brand.admin.headers, json=body)

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == [field]
    assert await movement_count(brand) == 0
