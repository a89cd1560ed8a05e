"""Migration 0011 down and up: the keys go back to single columns and return, data kept."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection

from stockroom.db.models import Location, StockMovement
from tests.factories import create_brand_with_admin, create_location, create_product, put_stock
from tests.schema.conftest import downgrade, opened, upgrade
from tests.schema.tenancy_rule import tenant_key_violations

BEFORE_KEYS = "0004"


def _keys(conn: Connection) -> dict[str, object]:
    inspector = inspect(conn)
    return {
        "products": inspector.get_pk_constraint("products")["constrained_columns"],
        "movement_product_fk": sorted(
            fk["constrained_columns"]
            for fk in inspector.get_foreign_keys("stock_movements")
            if fk["referred_table"] == "products"
        ),
    }


async def test_keys_go_down_and_up_with_the_data(scratch_url: str) -> None:
    await upgrade(scratch_url)
    async with opened(scratch_url) as db:
        brand = await create_brand_with_admin(db)
        product = await create_product(brand, location_aware=True)
        bins = [await create_location(brand, brand.site_id, name=f"Bin {n}") for n in (1, 2)]
        await put_stock(brand, product, 5, location_id=bins[1])
        other = await create_brand_with_admin(db, name="Other brand")  # no locations
        await put_stock(other, await create_product(other), 3)

    await downgrade(scratch_url, BEFORE_KEYS)

    async with opened(scratch_url) as db, db.engine.connect() as conn:
        assert await conn.run_sync(_keys) == {
            "products": ["id"],
            "movement_product_fk": [["product_id"]],
        }
        assert len(await conn.run_sync(tenant_key_violations)) > 10
        if conn.dialect.name == "postgresql":
            # Before 0011 the database drew location ids: its sequence continues after 2.
            drawn = await conn.execute(
                text(
                    "INSERT INTO locations (brand_id, site_id, name, created_at)"
                    " VALUES (:b, :s, 'Drawn', now()) RETURNING id"
                ),
                {"b": brand.id, "s": brand.site_id},
            )
            assert drawn.scalar_one() == 3
            await conn.rollback()

    await upgrade(scratch_url)

    async with opened(scratch_url) as db, db.engine.connect() as conn:
        assert await conn.run_sync(_keys) == {
            "products": ["brand_id", "id"],
            "movement_product_fk": [["brand_id", "product_id"]],
        }
        assert await conn.run_sync(tenant_key_violations) == []
        kept = await conn.execute(
            select(StockMovement.location_id, func.sum(StockMovement.quantity))
            .where(StockMovement.brand_id.in_([brand.id, other.id]))
            .group_by(StockMovement.location_id)
            .order_by(StockMovement.location_id)
        )
        assert sorted(kept.all(), key=lambda row: row[0] or 0) == [(None, 3), (bins[1], 5)]
    async with opened(scratch_url) as db:
        brand.db = db
        assert await create_location(brand, brand.site_id, name="Bin 3") == len(bins) + 1


async def test_downgrade_refuses_when_two_brands_share_a_location_number(
    scratch_url: str,
) -> None:
    await upgrade(scratch_url)
    async with opened(scratch_url) as db:
        for name in ("A", "B"):
            brand = await create_brand_with_admin(db, name=name)
            assert await create_location(brand, brand.site_id) == 1
        async with db.engine.connect() as conn:
            numbers = await conn.execute(select(Location.id).order_by(Location.id))
            assert numbers.scalars().all() == [1, 1]
    with pytest.raises(RuntimeError, match="location id 1 is used by several brands"):
        await downgrade(scratch_url, BEFORE_KEYS)
