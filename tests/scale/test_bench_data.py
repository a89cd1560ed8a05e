"""The benchmark's data set (bench/data.py), loaded small: a ledger `stockroom verify` calls sound.

`make bench` loads 1 M and 10 M movements with set-based SQL that bypasses the writer
(generated rows, keys and indexes rebuilt after); what it measures is only worth reading if
that ledger is one the writer could have made. Here: the same loaders at 10 products.
"""

from __future__ import annotations

import uuid

import asyncpg
from bench import data
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.models import StockLevel, StockMovement
from stockroom.demo import create_demo
from stockroom.ledger.verify import verify_ledger
from stockroom.settings import Settings

PRODUCTS, YEARS = 10, 2


async def test_the_loaded_bench_ledger_verifies_sound_with_its_checkpoints(
    backend: str, own_url: str
) -> None:
    engine = create_engine(Settings(database_url=own_url, pool_size=1, pool_max_overflow=0))
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            demo = await create_demo(session)
        brand = data.Brand.from_demo(demo.as_json())
        async with engine.connect() as conn:
            demo_movements = (
                await conn.execute(select(func.count()).select_from(StockMovement))
            ).scalar_one()
        if backend == "sqlite":
            data.load_sqlite(str(make_url(own_url).database), brand, products=PRODUCTS)
            years = 1  # SQLite's data set is one year
        else:
            dsn = make_url(own_url).set(drivername="postgresql")
            conn_pg = await asyncpg.connect(dsn.render_as_string(hide_password=False))
            try:
                await data.load_postgres(conn_pg, brand, years=YEARS, products=PRODUCTS)
            finally:
                await conn_pg.close()
            years = YEARS

        async with engine.connect() as conn:
            report = await verify_ledger(conn)
            shop_stock = (
                await conn.execute(
                    select(StockLevel.on_hand).where(
                        StockLevel.brand_id == uuid.UUID(brand.brand_id),
                        StockLevel.product_id == uuid.UUID(data.product_id(1)),
                        StockLevel.site_id == uuid.UUID(brand.shop),
                    )
                )
            ).scalar_one()
    finally:
        await engine.dispose()

    assert report.ok, [(c.name, c.count, c.examples[:3]) for c in report.checks if not c.ok]
    generated = PRODUCTS * data.SITES * data.MOVEMENTS_PER_LEVEL * years
    assert report.movements == demo_movements + generated
    # the shop's opening stock: every later year's movements net to zero
    assert shop_stock == data.BUSY_OPENING
