"""Migration 0006: transfers written before it get a `completed` row copied from their halves."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.db.models import Transfer, TransferLine
from stockroom.db.models.base import UTCDateTime, utcnow
from stockroom.ledger.verify import verify_ledger
from stockroom.settings import Settings
from tests.conftest import own_database
from tests.factories import Database, create_brand_with_admin, create_product, create_site

# The movements table as revision 0004 had it: only these columns are written.
OLD_MOVEMENTS = sa.table(
    "stock_movements",
    sa.column("id", sa.Uuid()),
    sa.column("brand_id", sa.Uuid()),
    sa.column("type", sa.String()),
    sa.column("product_id", sa.Uuid()),
    sa.column("site_id", sa.Uuid()),
    sa.column("quantity", sa.BigInteger()),
    sa.column("source_site_id", sa.Uuid()),
    sa.column("destination_site_id", sa.Uuid()),
    sa.column("reference", sa.String()),
    sa.column("transfer_id", sa.Uuid()),
    sa.column("created_at", UTCDateTime()),
)


@pytest.fixture
def old_url(backend: str, tmp_path: Path, postgres_server: str | None) -> Iterator[str]:
    """A database of this test's own, at revision 0004."""
    with own_database(backend, tmp_path, postgres_server, "0004") as url:
        yield url


async def test_transfers_written_before_the_migration_become_completed_rows(old_url: str) -> None:
    engine = create_engine(Settings(database_url=old_url, pool_size=2, pool_max_overflow=2))
    try:
        db = Database(engine, create_sessionmaker(engine))
        brand = await create_brand_with_admin(db)
        warehouse = await create_site(brand, name="Warehouse")
        product = await create_product(brand)
        transfer_id, out_id = uuid.uuid4(), uuid.uuid4()
        halves = [
            (out_id, "transfer_out", brand.site_id, -4),
            (uuid.uuid4(), "transfer_in", warehouse, 4),
        ]
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(OLD_MOVEMENTS),
                [
                    {
                        "id": movement_id,
                        "brand_id": brand.id,
                        "type": kind,
                        "product_id": product,
                        "site_id": site,
                        "quantity": quantity,
                        "source_site_id": brand.site_id,
                        "destination_site_id": warehouse,
                        "reference": "TR-OLD",
                        "transfer_id": transfer_id,
                        "created_at": utcnow(),
                    }
                    for movement_id, kind, site, quantity in halves
                ],
            )
    finally:
        await engine.dispose()

    await asyncio.to_thread(upgrade_database, old_url, "head")

    engine = create_engine(Settings(database_url=old_url, pool_size=2, pool_max_overflow=2))
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(sa.select(Transfer.__table__).where(Transfer.id == transfer_id))
            ).one()
            line = (
                await conn.execute(
                    sa.select(TransferLine.__table__).where(TransferLine.transfer_id == transfer_id)
                )
            ).one()
            report = await verify_ledger(conn)
    finally:
        await engine.dispose()
    assert (row.status, row.source_site_id, row.destination_site_id, row.reference) == (
        "completed",
        brand.site_id,
        warehouse,
        "TR-OLD",
    )
    assert (line.id, line.product_id, line.shipped, line.received, line.outstanding) == (
        out_id,
        product,
        4,
        4,
        0,
    )
    transfer_checks = [c for c in report.checks if "transfer" in c.name]
    assert len(transfer_checks) == 6
    assert all(c.ok for c in transfer_checks), [(c.name, c.examples) for c in transfer_checks]
