"""`stockroom verify` checks every invariant the writer's settings imply (issue 9, item 4).

Each test puts sound stock in place through the writer, then breaks one invariant behind the
service's back inside a transaction, runs `verify_ledger` on that same connection and rolls
back, so the shared test database stays sound for the other tests.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import update

from stockroom.db.engine import WRITE
from stockroom.db.models import Location, Product, Site
from stockroom.ledger.verify import Check, Report, verify_ledger
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)

AWARE_AT_NO_LOCATION = "stock of a location-aware product is at a location"
PLAIN_AT_A_LOCATION = "stock of a product that is not location-aware is at no location"
LOCATION_OF_ITS_SITE = "every level's location is a location of its site"
NEGATIVE = "no level below zero where negative stock is forbidden"


@asynccontextmanager
async def tampered(db: Database, *statements: Any) -> AsyncIterator[Report]:
    """Run the statements, verify in the same transaction, then roll everything back."""
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(**{WRITE: True})
        transaction = await conn.begin()
        try:
            for statement in statements:
                await conn.execute(statement)
            yield await verify_ledger(conn)
        finally:
            await transaction.rollback()


async def sound_report(db: Database) -> Report:
    async with db.engine.connect() as conn:
        return await verify_ledger(conn)


def check(report: Report, name: str) -> Check:
    found = [c for c in report.checks if c.name == name]
    assert found, f"verify has no check {name!r}: {[c.name for c in report.checks]}"
    return found[0]


def flagged_products(report: Report, name: str, brand: Brand) -> set[str]:
    """The products of this brand that the named check reports."""
    return {
        str(uuid.UUID(str(example["product_id"])))
        for example in check(report, name).examples
        if _same_id(example["brand_id"], brand.id)
    }


def _same_id(value: Any, expected: uuid.UUID) -> bool:
    return uuid.UUID(str(value)) == expected


def ids(*values: uuid.UUID) -> set[str]:
    return {str(v) for v in values}


async def test_stock_at_no_location_of_a_location_aware_product_is_reported(
    db: Database,
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 3)
    assert not flagged_products(await sound_report(db), AWARE_AT_NO_LOCATION, brand)

    # What the race of issue 9 item 4 left behind: the product became aware over its stock.
    flip = update(Product).where(Product.id == product).values(location_aware=True)
    async with tampered(db, flip) as report:
        assert flagged_products(report, AWARE_AT_NO_LOCATION, brand) == ids(product)
        assert not report.ok


async def test_stock_at_a_location_of_a_product_that_is_not_location_aware_is_reported(
    db: Database,
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)
    bin_id = await create_location(brand, brand.site_id)
    await put_stock(brand, product, 3, location_id=bin_id)
    assert not flagged_products(await sound_report(db), PLAIN_AT_A_LOCATION, brand)

    flip = update(Product).where(Product.id == product).values(location_aware=False)
    async with tampered(db, flip) as report:
        assert flagged_products(report, PLAIN_AT_A_LOCATION, brand) == ids(product)
        assert not report.ok


async def test_stock_at_a_location_of_another_site_is_reported(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    other_site = await create_site(brand, name="Backroom")
    product = await create_product(brand, location_aware=True)
    bin_id = await create_location(brand, brand.site_id)
    await put_stock(brand, product, 3, location_id=bin_id)
    assert not flagged_products(await sound_report(db), LOCATION_OF_ITS_SITE, brand)

    move_bin = (
        update(Location)
        .where(Location.brand_id == brand.id, Location.id == bin_id)
        .values(site_id=other_site)
    )
    async with tampered(db, move_bin) as report:
        assert flagged_products(report, LOCATION_OF_ITS_SITE, brand) == ids(product)
        assert not report.ok


async def test_a_level_below_zero_at_a_site_that_forbids_it_is_reported(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    site = await create_site(brand, name="Lenient", allow_negative_stock=True)
    product = await create_product(brand)
    await put_stock(brand, product, -2, site_id=site)
    assert not flagged_products(await sound_report(db), NEGATIVE, brand)

    forbid = update(Site).where(Site.id == site).values(allow_negative_stock=False)
    async with tampered(db, forbid) as report:
        assert flagged_products(report, NEGATIVE, brand) == ids(product)
        assert not report.ok
