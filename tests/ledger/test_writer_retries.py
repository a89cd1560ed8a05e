"""When the writer's conditional UPDATE is refused on every attempt (issue 9, item 10).

A refusal that the rules do not explain (the level keeps moving between the UPDATE and the
look) is transient: 503 `unavailable` with `Retry-After`, nothing written — never
`insufficient_stock` or `stale_quantity`, which would tell the client its request is wrong.

The refusal is made real by a database trigger that skips every UPDATE of one product's
levels (PostgreSQL: a BEFORE trigger returning NULL; SQLite: RAISE(IGNORE)), so the writer
sees exactly what a hot level shows it: refused, yet the figures say the rules hold.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from stockroom.db.models import StockLevel, StockMovement
from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock


@asynccontextmanager
async def every_update_refused(db: Database, product: uuid.UUID) -> AsyncIterator[None]:
    name = f"refuse_{product.hex}"
    if db.engine.dialect.name == "postgresql":
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN NULL; END $$",
            f"CREATE TRIGGER {name} BEFORE UPDATE ON stock_levels FOR EACH ROW "
            f"WHEN (OLD.product_id = '{product}'::uuid) EXECUTE FUNCTION {name}()",
        ]
        drop = [f"DROP TRIGGER {name} ON stock_levels", f"DROP FUNCTION {name}()"]
    else:
        create = [
            f"CREATE TRIGGER {name} BEFORE UPDATE ON stock_levels FOR EACH ROW "
            f"WHEN OLD.product_id = '{product.hex}' BEGIN SELECT RAISE(IGNORE); END"
        ]
        drop = [f"DROP TRIGGER {name}"]
    async with db.transaction() as session:
        for statement in create:
            await session.execute(text(statement))
    try:
        yield
    finally:
        async with db.transaction() as session:
            for statement in drop:
                await session.execute(text(statement))


async def stock_of(db: Database, brand: Brand, product: uuid.UUID) -> tuple[int, int]:
    """(on hand, number of movements) of the product."""
    async with db.sessionmaker() as session:
        on_hand = await session.scalar(
            select(func.sum(StockLevel.on_hand)).where(
                StockLevel.brand_id == brand.id, StockLevel.product_id == product
            )
        )
        count = await session.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.brand_id == brand.id, StockMovement.product_id == product)
        )
    return int(on_hand or 0), int(count or 0)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"quantity": -1}, id="outgoing"),
        pytest.param({"quantity": 2, "expected_on_hand": 10}, id="compare-and-set"),
        pytest.param({"quantity": -3, "expected_on_hand": 10}, id="outgoing-compare-and-set"),
    ],
)
async def test_a_level_that_keeps_refusing_the_write_is_a_transient_503(
    client: httpx.AsyncClient, db: Database, change: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)

    async with every_update_refused(db, product):
        response = await client.post(
            "/inventory/adjustments",
            headers=brand.admin.headers,
            json={"product_id": str(product), **change},
        )
        after = await stock_of(db, brand, product)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "1"
    assert after == (10, 1)  # nothing written: the level and the ledger as before

    # Once the level settles, the same request goes through.
    retried = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), **change},
    )
    assert retried.status_code == 201, retried.text
    assert await stock_of(db, brand, product) == (10 + change["quantity"], 2)
