"""The stored shortfalls low stock reads (stock/shortfalls.py): kept by every writer, by PATCH
and by new sites, and checked by `stockroom verify`, on both backends."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.models import SiteShortfall, StockLevel
from stockroom.errors import InsufficientAvailable, InsufficientStock, Unavailable
from stockroom.ledger import HoldDraft, MovementDraft, post_movements
from stockroom.ledger.verify import verify_ledger
from stockroom.settings import Settings
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)

STORED = "stored shortfalls equal the movements, the holds and the products' minimum"
MISSING = "every product with stock, holds or a minimum at a site has its stored shortfall"
WRITERS = 24


async def low_stock_skus(
    client: httpx.AsyncClient, brand: Brand, site_id: uuid.UUID
) -> dict[str, int]:
    response = await client.get(
        "/inventory/low-stock", headers=brand.admin.headers, params={"site_id": str(site_id)}
    )
    assert response.status_code == 200, response.text
    return {item["sku"]: item["shortfall"] for item in response.json()["data"]}


async def stored_and_levels(
    db: Database, brand: Brand
) -> tuple[dict[tuple[Any, Any], tuple[int, int]], dict[tuple[Any, Any], tuple[int, int]]]:
    """The brand's stored rows and its levels summed per site, {(site, product): figures}
    (rows and sums at 0 of 0 left out: no row is needed for them)."""
    async with db.sessionmaker() as session:
        stored = {
            (row.site_id, row.product_id): (int(row.on_hand), int(row.reserved))
            for row in (
                await session.execute(
                    select(SiteShortfall).where(SiteShortfall.brand_id == brand.id)
                )
            ).scalars()
        }
        summed = {
            (site, product): (int(on_hand), int(reserved))
            for site, product, on_hand, reserved in await session.execute(
                select(
                    StockLevel.site_id,
                    StockLevel.product_id,
                    func.sum(StockLevel.on_hand),
                    func.sum(StockLevel.reserved),
                )
                .where(StockLevel.brand_id == brand.id)
                .group_by(StockLevel.site_id, StockLevel.product_id)
            )
        }
    return (
        {k: v for k, v in stored.items() if v != (0, 0)},
        {k: v for k, v in summed.items() if v != (0, 0)},
    )


@pytest.fixture
async def own_db(own_url: str) -> AsyncIterator[Database]:
    engine = create_engine(Settings(database_url=own_url, pool_size=WRITERS, pool_max_overflow=2))
    try:
        yield Database(engine, create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def test_racing_writers_leave_the_stored_shortfalls_equal_to_the_levels(
    own_db: Database,
) -> None:
    """Many connections write opposing multi-line requests — adjustments, sales, holds, on two
    sites and two locations of one site (two writers of one site's row under different
    level locks) — in random line order: no deadlock, no lost change. (A database of its
    own: its sales name no invoice and its holds no reservation, which `verify` of the
    shared database would report.)"""
    db = own_db
    brand = await create_brand_with_admin(db)
    second = await create_site(brand, name="Second shop")
    shelf = await create_location(brand, brand.site_id, name="Shelf")
    bay = await create_location(brand, brand.site_id, name="Bay")
    plain = [await create_product(brand, min_stock=5) for _ in range(2)]
    aware = await create_product(brand, min_stock=8, location_aware=True)
    targets: list[tuple[uuid.UUID, uuid.UUID, int | None]] = [
        *((p, s, None) for p in plain for s in (brand.site_id, second)),
        (aware, brand.site_id, shelf),
        (aware, brand.site_id, bay),
    ]
    for product, site, location in targets:
        await put_stock(brand, product, 10, site_id=site, location_id=location)
    rng = random.Random(16)

    async def writer(seed: int) -> int:
        local = random.Random(seed)
        committed = 0
        for _ in range(5):
            lines = local.sample(targets, local.randint(1, 4))
            quantities = [local.choice([-3, -1, 2, 4]) for _ in lines]
            drafts = [
                MovementDraft(
                    "sale" if quantity < 0 and local.random() < 0.4 else "adjustment",
                    product,
                    site,
                    quantity,
                    location_id=location,
                )
                for (product, site, location), quantity in zip(lines, quantities, strict=True)
            ]
            holds = [
                HoldDraft(product, site, 1, location_id=location)
                for product, site, location in lines
                if local.random() < 0.3
            ]
            try:
                async with db.transaction() as session:
                    await post_movements(session, brand.id, drafts, user_id=None, holds=holds)
                committed += 1
            except (InsufficientStock, InsufficientAvailable, Unavailable):
                pass
        return committed

    committed = await asyncio.gather(*(writer(rng.randint(0, 10**6)) for _ in range(WRITERS)))

    assert sum(committed) > 0
    stored, levels = await stored_and_levels(db, brand)
    assert stored == levels


async def test_patching_min_stock_moves_a_product_in_and_out_of_low_stock(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, sku="JAM", min_stock=0)
    await put_stock(brand, product, 5)
    assert "JAM" not in await low_stock_skus(client, brand, brand.site_id)

    raised = await client.patch(
        f"/products/{product}", headers=brand.admin.headers, json={"min_stock": 12}
    )
    assert raised.status_code == 200, raised.text
    assert (await low_stock_skus(client, brand, brand.site_id))["JAM"] == 7

    lowered = await client.patch(
        f"/products/{product}", headers=brand.admin.headers, json={"min_stock": 5}
    )
    assert lowered.status_code == 200, lowered.text
    assert "JAM" not in await low_stock_skus(client, brand, brand.site_id)


async def test_a_product_with_a_minimum_is_short_at_a_site_created_after_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="TEA", min_stock=4)

    later = await create_site(brand, name="Opened later")

    assert await low_stock_skus(client, brand, later) == {"TEA": 4}


async def failing(db: Database) -> dict[str, list[dict[str, Any]]]:
    async with db.engine.connect() as conn:
        report = await verify_ledger(conn)
    return {check.name: check.examples for check in report.checks if not check.ok}


async def test_verify_reports_a_stored_shortfall_that_disagrees_or_is_missing(
    own_db: Database,
) -> None:
    brand = await create_brand_with_admin(own_db)
    tea = await create_product(brand, min_stock=3)
    cups = await create_product(brand, min_stock=2)
    await put_stock(brand, tea, 5)
    assert await failing(own_db) == {}

    async with own_db.transaction() as session:
        await session.execute(
            update(SiteShortfall)
            .where(SiteShortfall.brand_id == brand.id, SiteShortfall.product_id == tea)
            .values(on_hand=SiteShortfall.on_hand + 1)
        )
        await session.execute(
            delete(SiteShortfall).where(
                SiteShortfall.brand_id == brand.id, SiteShortfall.product_id == cups
            )
        )
    found = await failing(own_db)

    assert set(found) == {STORED, MISSING}
    [wrong] = found[STORED]
    assert (wrong["product_id"], wrong["on_hand"], int(wrong["ledger_on_hand"])) == (
        str(tea),
        6,
        5,
    )
    [missing] = found[MISSING]
    assert (missing["product_id"], missing["min_stock"]) == (str(cups), 2)
