"""The database itself refuses a row of one brand that points at another brand's row."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError

from stockroom.auth.principal import Role
from stockroom.db.models import Invoice, InvoiceLine, StockLevel, StockMovement, UserSite
from stockroom.db.models.base import utcnow
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
)


async def insert_row(db: Database, row: tuple[Table, dict[str, Any]], *, keep: bool = True) -> None:
    """Insert the row; with keep=False roll it back once accepted (the suite's other tests
    verify the whole shared database, where a hand-made movement without its level would
    count as a broken ledger)."""
    table, values = row
    async with db.sessionmaker() as session:
        await session.execute(insert(table).values(values))
        if keep:
            await session.commit()
        else:
            await session.rollback()


@dataclass
class Owned:
    """What one brand owns, for rows to point at."""

    brand: Brand
    product_id: uuid.UUID
    location_id: int  # the brand's last location
    manager_id: uuid.UUID
    invoice_id: uuid.UUID


async def owned(db: Database, name: str, *, locations: int = 1) -> Owned:
    brand = await create_brand_with_admin(db, name=name)
    product = await create_product(brand, location_aware=True)
    for _ in range(locations):
        location = await create_location(brand, brand.site_id)
    manager = await create_caller(brand, Role.manager)
    invoice = {
        "id": uuid.uuid4(),
        "brand_id": brand.id,
        "site_id": brand.site_id,
        "status": "issued",
        "total": 0,
        "created_at": utcnow(),
    }
    await insert_row(db, (Invoice.__table__, invoice))  # type: ignore[arg-type]
    return Owned(brand, product, location, manager.user_id, invoice["id"])


async def two_brands(db: Database) -> tuple[Owned, Owned]:
    # Location ids are numbered per brand: B's second location (2) exists in B only.
    return await owned(db, "Brand A"), await owned(db, "Brand B", locations=2)


def movement(row_brand: Owned, of: Owned) -> tuple[Table, dict[str, Any]]:
    """A movement of the row's brand whose product is `of`'s."""
    values = {
        "id": uuid.uuid4(),
        "brand_id": row_brand.brand.id,
        "type": "adjustment",
        "product_id": of.product_id,
        "site_id": row_brand.brand.site_id,
        "quantity": 1,
        "created_at": utcnow(),
    }
    return StockMovement.__table__, values  # type: ignore[return-value]


def movement_at_site(row_brand: Owned, of: Owned) -> tuple[Table, dict[str, Any]]:
    table, values = movement(row_brand, row_brand)
    return table, values | {"site_id": of.brand.site_id}


def movement_at_location(row_brand: Owned, of: Owned) -> tuple[Table, dict[str, Any]]:
    table, values = movement(row_brand, row_brand)
    return table, values | {"location_id": of.location_id}


def line_of_invoice(row_brand: Owned, of: Owned) -> tuple[Table, dict[str, Any]]:
    """A line of `of`'s invoice, of the row brand's own product."""
    table, values = invoice_line(row_brand, row_brand)
    return table, values | {"invoice_id": of.invoice_id}


def level(row_brand: Owned, of: Owned) -> tuple[Table, dict[str, Any]]:
    values = {
        "brand_id": row_brand.brand.id,
        "product_id": of.product_id,
        "site_id": row_brand.brand.site_id,
        "location_id": 0,
        "on_hand": 0,
        "reserved": 0,
        "updated_at": utcnow(),
    }
    return StockLevel.__table__, values  # type: ignore[return-value]


def site_grant(row_brand: Owned, of: Owned) -> tuple[Table, dict[str, Any]]:
    values = {
        "brand_id": row_brand.brand.id,
        "user_id": row_brand.manager_id,
        "site_id": of.brand.site_id,
    }
    return UserSite.__table__, values  # type: ignore[return-value]


def invoice_line(row_brand: Owned, of: Owned) -> tuple[Table, dict[str, Any]]:
    """A line of the row brand's invoice selling `of`'s product."""
    values = {
        "id": uuid.uuid4(),
        "brand_id": row_brand.brand.id,
        "invoice_id": row_brand.invoice_id,
        "line_no": 1,
        "product_id": of.product_id,
        "quantity": 1,
        "unit_price": 0,
    }
    return InvoiceLine.__table__, values  # type: ignore[return-value]


Row = Callable[[Owned, Owned], tuple[Table, dict[str, Any]]]


@pytest.mark.parametrize(
    "row",
    [
        movement,
        movement_at_site,
        movement_at_location,
        level,
        site_grant,
        invoice_line,
        line_of_invoice,
    ],
    ids=lambda row: row.__name__,
)
async def test_a_row_pointing_into_another_brand_is_refused(db: Database, row: Row) -> None:
    a, b = await two_brands(db)
    # The same row pointing at its own brand is accepted: only the brand is wrong below.
    await insert_row(db, row(a, a), keep=False)

    with pytest.raises(IntegrityError):
        await insert_row(db, row(a, b))
