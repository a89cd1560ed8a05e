"""`verify_ledger` finds each broken invariant, counts it exactly, and passes a sound ledger.

verify looks at every brand, so these tests get a database of their own per backend. The
ledger is written through the writer; each invariant is then broken by hand, the way a bug
or a manual edit would, and verify must report it (and nothing else).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.models import Invoice, Site, StockLevel, StockLevelDay, Transfer, TransferLine
from stockroom.ledger import MovementDraft, post_movements
from stockroom.ledger.verify import Report, verify_ledger
from stockroom.settings import Settings
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_product,
    create_site,
    put_stock,
)

LEVELS = "levels equal the sum of their movements"
WITHOUT_LEVEL = "every movement total has its level"
NEGATIVE = "no level below zero where negative stock is forbidden"
TRANSFERS = "transfer halves pair up"
ROWLESS = "every transfer has its row"
# The checks of transfers' rows and lines (tests/transfers/test_verify_transfers.py breaks them).
TRANSFER_ROWS = {
    "every transfer line balances",
    "transfer lines agree with their movements",
    "every transfer movement has its line",
    "transfer status agrees with its lines",
}
SALES = "every sale and return has its invoice"
CHECKPOINTS = "as-of checkpoints equal their day's movements"
# The checks of the settings' invariants (tests/ledger/test_verify_settings.py breaks them).
LOCATIONS = {
    "stock of a location-aware product is at a location",
    "stock of a product that is not location-aware is at no location",
    "every level's location is a location of its site",
}
# Reservations' invariants (tests/reservations/test_cli_worker.py breaks the first;
# tests/ledger/test_verify_reserved.py breaks each).
RESERVATIONS = {
    "levels' reserved equal what active reservations hold",
    "every active hold has its level",
    "reservation lines hold between 0 and what they reserved",
}
# The stored shortfalls' (tests/stock/test_stored_shortfalls.py breaks them).
SHORTFALLS = {
    "stored shortfalls equal the movements, the holds and the products' minimum",
    "every product with stock, holds or a minimum at a site has its stored shortfall",
}
LISTED = 100  # examples listed per check (`stockroom verify` prints them)


@pytest.fixture
async def own_db(own_url: str) -> AsyncIterator[Database]:
    engine = create_engine(Settings(database_url=own_url, pool_size=2, pool_max_overflow=2))
    try:
        yield Database(engine, create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def verify(db: Database) -> Report:
    async with db.engine.connect() as conn:
        return await verify_ledger(conn)


def counts(report: Report) -> dict[str, int]:
    return {check.name: check.count for check in report.checks}


def failing(report: Report) -> dict[str, int]:
    return {name: count for name, count in counts(report).items() if count}


async def write(brand: Brand, *drafts: MovementDraft) -> None:
    async with brand.db.transaction() as session:
        await post_movements(session, brand.id, list(drafts), user_id=brand.admin.user_id)


def draft(brand: Brand, product: uuid.UUID, quantity: int, **fields: Any) -> MovementDraft:
    values: dict[str, Any] = {"type": "adjustment", "site_id": brand.site_id, **fields}
    return MovementDraft(product_id=product, quantity=quantity, **values)


async def add_transfer_row(
    db: Database,
    brand: Brand,
    transfer: uuid.UUID,
    product: uuid.UUID,
    destination: uuid.UUID,
    quantity: int,
) -> None:
    """The `transfers` row and line of a one-step transfer written by hand."""
    async with db.transaction() as session:
        await session.execute(
            insert(Transfer).values(
                brand_id=brand.id,
                id=transfer,
                source_site_id=brand.site_id,
                destination_site_id=destination,
                status="completed",
            )
        )
        await session.execute(
            insert(TransferLine).values(
                brand_id=brand.id,
                transfer_id=transfer,
                product_id=product,
                destination_site_id=destination,
                shipped=quantity,
                received=quantity,
                outstanding=0,
                written_off=0,
                returned=0,
            )
        )


async def sound_ledger(db: Database) -> tuple[Brand, dict[str, Any]]:
    """A brand with stock, a transfer, a sale on an invoice, and a lenient site below zero."""
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    lenient = await create_site(brand, name="Stall", allow_negative_stock=True)
    tea, cups = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 10)
    await put_stock(brand, cups, 4)
    await put_stock(brand, cups, -2, site_id=lenient)
    transfer = uuid.uuid4()
    await write(
        brand,
        draft(brand, tea, -3, type="transfer_out", transfer_id=transfer),
        draft(brand, tea, 3, type="transfer_in", site_id=warehouse, transfer_id=transfer),
    )
    await add_transfer_row(db, brand, transfer, tea, warehouse, 3)
    async with db.transaction() as session:
        invoice = Invoice(brand_id=brand.id, site_id=brand.site_id)
        session.add(invoice)
        await session.flush()
        invoice_id = invoice.id
    await write(brand, draft(brand, tea, -1, type="sale", invoice_id=invoice_id))
    await write(brand, draft(brand, tea, 1, type="return", invoice_id=invoice_id))
    names = {"warehouse": warehouse, "lenient": lenient, "tea": tea, "cups": cups}
    return brand, names


async def test_a_sound_ledger_passes_every_check_and_counts_its_rows(own_db: Database) -> None:
    await sound_ledger(own_db)

    report = await verify(own_db)

    assert report.ok, failing(report)
    assert set(counts(report)) == {
        LEVELS,
        WITHOUT_LEVEL,
        NEGATIVE,
        TRANSFERS,
        ROWLESS,
        *TRANSFER_ROWS,
        SALES,
        CHECKPOINTS,
        *LOCATIONS,
        *RESERVATIONS,
        *SHORTFALLS,
    }
    assert all(check.ok and check.examples == [] for check in report.checks)
    # tea at the shop and the warehouse, cups at the shop and the stall
    assert report.levels == 4
    assert report.movements == 7  # 3 adjustments, 2 transfer halves, a sale and its return


async def test_each_broken_invariant_is_reported_and_counted(own_db: Database) -> None:
    brand, names = await sound_ledger(own_db)
    tea, cups, warehouse = names["tea"], names["cups"], names["warehouse"]
    other = await create_brand_with_admin(own_db, name="Other brand")
    async with own_db.transaction() as session:
        foreign_invoice = Invoice(brand_id=other.id, site_id=other.site_id)
        session.add(foreign_invoice)
        await session.flush()
        foreign_invoice_id = foreign_invoice.id

    # A level that no longer equals its movements.
    async with own_db.transaction() as session:
        await session.execute(
            update(StockLevel)
            .where(StockLevel.brand_id == brand.id, StockLevel.product_id == tea)
            .where(StockLevel.site_id == warehouse)
            .values(on_hand=StockLevel.on_hand + 2)
        )
    report = await verify(own_db)
    assert failing(report) == {LEVELS: 1}
    [example] = report.checks[0].examples
    assert example["product_id"] == str(tea)
    assert example["site_id"] == str(warehouse)
    assert (example["on_hand"], int(example["ledger_total"])) == (5, 3)
    assert not report.ok

    # Movements whose level is gone.
    async with own_db.transaction() as session:
        await session.execute(
            delete(StockLevel).where(
                StockLevel.brand_id == brand.id,
                StockLevel.product_id == cups,
                StockLevel.site_id == brand.site_id,
            )
        )
    report = await verify(own_db)
    assert failing(report) == {LEVELS: 1, WITHOUT_LEVEL: 1}
    [example] = next(c for c in report.checks if c.name == WITHOUT_LEVEL).examples
    assert (example["product_id"], int(example["total"])) == (str(cups), 4)

    # A level below zero where the site forbids it (the lenient stall's -2 stays fine).
    strict = await create_site(brand, name="Strict")
    async with own_db.transaction() as session:
        await session.execute(
            update(Site).where(Site.id == strict).values(allow_negative_stock=True)
        )
    await put_stock(brand, cups, -5, site_id=strict)
    async with own_db.transaction() as session:
        await session.execute(
            update(Site).where(Site.id == strict).values(allow_negative_stock=False)
        )
    report = await verify(own_db)
    assert failing(report) == {LEVELS: 1, WITHOUT_LEVEL: 1, NEGATIVE: 1}
    [example] = next(c for c in report.checks if c.name == NEGATIVE).examples
    assert (example["site_id"], example["on_hand"]) == (str(strict), -5)

    # A transfer with one half, and one whose halves do not cancel out.
    lone, lopsided = uuid.uuid4(), uuid.uuid4()
    await write(brand, draft(brand, tea, -1, type="transfer_out", transfer_id=lone))
    await write(
        brand,
        draft(brand, tea, -2, type="transfer_out", transfer_id=lopsided),
        draft(brand, tea, 1, type="transfer_in", site_id=warehouse, transfer_id=lopsided),
    )
    report = await verify(own_db)
    # Written by hand, neither has its row in `transfers` either.
    assert failing(report) == {LEVELS: 1, WITHOUT_LEVEL: 1, NEGATIVE: 1, TRANSFERS: 2, ROWLESS: 2}
    examples = next(c for c in report.checks if c.name == TRANSFERS).examples
    assert {e["transfer_id"] for e in examples} == {str(lone), str(lopsided)}

    # A sale on no invoice, a return on an invoice of another brand.
    await write(brand, draft(brand, tea, -1, type="sale", invoice_id=uuid.uuid4()))
    await write(brand, draft(brand, tea, 1, type="return", invoice_id=foreign_invoice_id))
    report = await verify(own_db)
    assert failing(report) == {
        LEVELS: 1,
        WITHOUT_LEVEL: 1,
        NEGATIVE: 1,
        TRANSFERS: 2,
        ROWLESS: 2,
        SALES: 2,
    }
    examples = next(c for c in report.checks if c.name == SALES).examples
    assert sorted(e["type"] for e in examples) == ["return", "sale"]
    # the sound 7, the strict site's adjustment, 3 transfer halves, the sale and the return
    assert report.movements == 7 + 1 + 3 + 2

    # An as-of checkpoint that no longer equals its day's movements.
    async with own_db.transaction() as session:
        await session.execute(
            update(StockLevelDay)
            .where(StockLevelDay.brand_id == brand.id, StockLevelDay.product_id == cups)
            .where(StockLevelDay.site_id == names["lenient"])
            .values(quantity=StockLevelDay.quantity + 1)
        )
    report = await verify(own_db)
    assert failing(report) == {
        LEVELS: 1,
        WITHOUT_LEVEL: 1,
        NEGATIVE: 1,
        TRANSFERS: 2,
        ROWLESS: 2,
        SALES: 2,
        CHECKPOINTS: 1,
    }
    [example] = next(c for c in report.checks if c.name == CHECKPOINTS).examples
    assert (example["product_id"], int(example["difference"])) == (str(cups), -1)


async def test_examples_stop_at_the_limit_but_the_count_is_exact(own_db: Database) -> None:
    brand = await create_brand_with_admin(own_db)
    product = await create_product(brand)
    # Levels without any movement, each 1: every one differs from its (empty) ledger.
    async with own_db.transaction() as session:
        await session.execute(
            insert(StockLevel),
            [
                {
                    "brand_id": brand.id,
                    "product_id": product,
                    "site_id": brand.site_id,
                    "location_id": n,
                    "on_hand": 1,
                }
                for n in range(1, LISTED + 2)
            ],
        )

    report = await verify(own_db)

    levels = next(c for c in report.checks if c.name == LEVELS)
    assert levels.count == LISTED + 1
    assert len(levels.examples) == LISTED
    assert report.levels == LISTED + 1
    assert not report.ok


async def test_a_checkpoint_on_the_wrong_days_is_found_even_when_the_level_totals_agree(
    own_db: Database,
) -> None:
    brand = await create_brand_with_admin(own_db)
    tea, cups = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 10)
    await put_stock(brand, cups, 6)
    async with own_db.transaction() as session:
        [today] = (
            await session.execute(
                select(StockLevelDay.day).where(
                    StockLevelDay.brand_id == brand.id, StockLevelDay.product_id == tea
                )
            )
        ).scalars()
    tea_day = (StockLevelDay.brand_id == brand.id) & (StockLevelDay.product_id == tea)
    cups_day = (StockLevelDay.brand_id == brand.id) & (StockLevelDay.product_id == cups)

    # tea's 10 spread over the day before and the day after: its total and its mean day
    # are what its movements say, only the days are wrong.
    async with own_db.transaction() as session:
        await session.execute(delete(StockLevelDay).where(tea_day))
        await session.execute(
            insert(StockLevelDay),
            [
                {
                    "brand_id": brand.id,
                    "product_id": tea,
                    "site_id": brand.site_id,
                    "location_id": 0,
                    "day": today + timedelta(days=shift),
                    "quantity": 5,
                }
                for shift in (-1, 1)
            ],
        )
    report = await verify(own_db)
    assert failing(report) == {CHECKPOINTS: 3}
    examples = next(c for c in report.checks if c.name == CHECKPOINTS).examples
    by_day = {e["day"]: int(e["difference"]) for e in examples}
    assert by_day == {
        str(today - timedelta(days=1)): -5,
        str(today): 10,
        str(today + timedelta(days=1)): -5,
    }

    # cups' checkpoint moved to yesterday, and one for a level that has no movements.
    kiosk = await create_site(brand, name="Kiosk")
    async with own_db.transaction() as session:
        await session.execute(
            update(StockLevelDay).where(cups_day).values(day=today - timedelta(days=1))
        )
        await session.execute(
            insert(StockLevelDay).values(
                brand_id=brand.id,
                product_id=cups,
                site_id=kiosk,
                location_id=0,
                day=today,
                quantity=2,
            )
        )
    report = await verify(own_db)
    assert failing(report) == {CHECKPOINTS: 3 + 2 + 1}
