"""Migration 0003 on SQLite: money goes from floats to exact scaled integers, and back."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path

from alembic import command

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import alembic_config, upgrade_database
from stockroom.settings import Settings
from tests.factories import Database, create_brand_with_admin, create_product
from tests.movements.ledger_setup import product_cost


def raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def migrate(url: str, revision: str) -> None:
    # Alembic's env runs its own event loop: not on the test's.
    await asyncio.to_thread(upgrade_database, url, revision)


async def test_existing_float_money_is_converted_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    await migrate(url, "0003")
    engine = create_engine(Settings(database_url=url))
    try:
        db = Database(engine, create_sessionmaker(engine))
        brand = await create_brand_with_admin(db)
        ids = [await create_product(brand, cost_per_unit=c) for c in ("12.5", "0.0001", "7")]
    finally:
        await engine.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0002")
    # Money as 0002 stored it: floats in the NUMERIC columns.
    as_floats = raw(path, "SELECT typeof(cost_per_unit), cost_per_unit FROM products")
    assert sorted(as_floats, key=lambda r: float(r[1])) == [  # type: ignore[arg-type]
        ("real", 0.0001),
        ("integer", 7),  # NUMERIC affinity keeps a whole float as an integer
        ("real", 12.5),
    ]

    await migrate(url, "0003")

    stored = raw(path, "SELECT typeof(cost_per_unit), cost_per_unit FROM products")
    assert sorted(stored, key=lambda r: int(r[1])) == [  # type: ignore[arg-type]
        ("integer", 1),
        ("integer", 70_000),
        ("integer", 125_000),
    ]
    engine = create_engine(Settings(database_url=url))
    try:
        brand.db = Database(engine, create_sessionmaker(engine))
        costs = [await product_cost(brand, product) for product in ids]
    finally:
        await engine.dispose()
    assert costs == [Decimal("12.5"), Decimal("0.0001"), Decimal("7")]
