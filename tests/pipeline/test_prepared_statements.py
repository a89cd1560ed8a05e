"""Statements marked `prepared` (db/core.py) answer as SQLAlchemy would, on every backend.

On PostgreSQL they run on the asyncpg connection itself; these tests hold that path to
what SQLAlchemy answers for the same statement: the same rows and Python types (money,
timestamps with their zone, uuids), the same error types for a refused write, and the
caller's transaction around them (a rollback takes back what they wrote).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Table, bindparam, exc, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core, prepared
from stockroom.db.models import Product, StockLevel
from tests.factories import Database, create_brand_with_admin, create_product, put_stock

levels: Table = StockLevel.__table__  # type: ignore[assignment]
products: Table = Product.__table__  # type: ignore[assignment]


def _product_columns() -> object:
    return select(
        products.c.id, products.c.sku, products.c.cost_per_unit, products.c.created_at
    ).where(products.c.brand_id == bindparam("brand"), products.c.id == bindparam("product"))


PRODUCT = prepared(_product_columns())
LEVEL = prepared(
    select(levels.c.on_hand, levels.c.updated_at).where(
        levels.c.brand_id == bindparam("brand"), levels.c.product_id == bindparam("product")
    )
)
# Leaves out `reserved`, whose default (0) SQLAlchemy fills in at execution: such a statement
# must still get it (the driver path hands it to SQLAlchemy).
NEW_LEVEL = prepared(
    insert(levels).values(
        brand_id=bindparam("brand"),
        product_id=bindparam("product"),
        site_id=bindparam("site"),
        location_id=0,
        on_hand=bindparam("on_hand"),
        updated_at=bindparam("now"),
    )
)


async def test_a_prepared_statement_answers_the_rows_and_types_sqlalchemy_does(
    db: Database,
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, cost_per_unit="12.3400")
    params = {"brand": brand.id, "product": product}
    async with db.sessionmaker() as session:
        fast = (await execute_core(session, PRODUCT, params)).all()
        usual = (await session.execute(_product_columns(), params)).all()
    assert len(fast) == 1
    assert tuple(fast[0]) == tuple(usual[0])
    assert [type(v) for v in fast[0]] == [type(v) for v in usual[0]]
    assert fast[0].cost_per_unit == Decimal("12.34")  # money stays exact
    assert fast[0].created_at.tzinfo is not None  # timestamps keep their zone
    assert fast[0].id == product


async def test_a_prepared_write_is_part_of_the_callers_transaction(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    params = {
        "brand": brand.id,
        "product": product,
        "site": brand.site_id,
        "on_hand": 7,
        "now": datetime.now(UTC),
    }
    async with db.sessionmaker() as session:
        await execute_core(session, NEW_LEVEL, params)
        assert (await execute_core(session, LEVEL, params)).scalar() == 7
        await session.rollback()
    async with db.sessionmaker() as session:
        assert (await execute_core(session, LEVEL, params)).first() is None


async def test_a_refused_prepared_write_raises_what_sqlalchemy_raises(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    params = {
        "brand": brand.id,
        "product": product,
        "site": brand.site_id,
        "on_hand": 1,
        "now": datetime.now(UTC),
    }
    session: AsyncSession
    async with db.sessionmaker() as session:
        with pytest.raises(exc.IntegrityError):  # the level exists: its key is taken
            await execute_core(session, NEW_LEVEL, params)
        await session.rollback()
        # The session goes on after its rollback, on the same or a new connection.
        assert (await execute_core(session, LEVEL, params)).scalar() == 5


async def test_a_prepared_statement_with_no_row_answers_none(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    async with db.sessionmaker() as session:
        result = await execute_core(session, PRODUCT, {"brand": brand.id, "product": uuid.uuid4()})
        assert result.first() is None
