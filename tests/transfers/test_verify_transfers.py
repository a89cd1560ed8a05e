"""`stockroom verify` checks every transfer: its lines balance and agree with its movements.

Each break happens inside a transaction rolled back after verify ran on it (`tampered`),
so the shared database stays sound; each must be reported for exactly the broken transfer.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import delete, insert, update

from stockroom.db.models import StockMovement, Transfer, TransferLine
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_product,
    create_site,
    put_stock,
)
from tests.ledger.test_verify_settings import check, sound_report, tampered
from tests.transfers.transit import line, receive, shipped

BALANCES = "every transfer line balances"
AGREES = "transfer lines agree with their movements"
WITHOUT_LINE = "every transfer movement has its line"
STATUS = "transfer status agrees with its lines"
ROWLESS = "every transfer has its row"
PAIRS = "transfer halves pair up"


def flagged(report: Any, name: str, brand: Brand) -> set[str]:
    """The transfers of this brand the named check reports."""
    return {
        str(uuid.UUID(str(e["transfer_id"])))
        for e in check(report, name).examples
        if uuid.UUID(str(e["brand_id"])) == brand.id
    }


async def partly_received(client: httpx.AsyncClient, db: Database) -> tuple[Brand, uuid.UUID, str]:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    transfer_id = await shipped(client, brand, product, warehouse, 6)
    assert (await receive(client, brand, transfer_id, [line(product, 2)])).status_code == 200
    return brand, product, transfer_id


def this_line(brand: Brand, transfer_id: str) -> Any:
    return (TransferLine.brand_id == brand.id) & (
        TransferLine.transfer_id == uuid.UUID(transfer_id)
    )


async def test_a_transfer_in_transit_passes_every_transfer_check(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, _, _ = await partly_received(client, db)

    report = await sound_report(db)

    for name in (BALANCES, AGREES, WITHOUT_LINE, STATUS, ROWLESS, PAIRS):
        assert flagged(report, name, brand) == set(), name


async def test_a_line_that_does_not_balance_is_reported(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, _, transfer_id = await partly_received(client, db)

    # Units outstanding from nowhere: shipped 6 ≠ received 2 + outstanding 5.
    async with tampered(
        db, update(TransferLine).where(this_line(brand, transfer_id)).values(outstanding=5)
    ) as report:
        assert flagged(report, BALANCES, brand) == {transfer_id}
        # …and the movements net to −4, not to the −5 the line now says is on the road.
        assert flagged(report, PAIRS, brand) == {transfer_id}


async def test_a_line_that_disagrees_with_the_movements_is_reported(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, _, transfer_id = await partly_received(client, db)

    # Balanced, but the ledger received 2, not 3.
    async with tampered(
        db,
        update(TransferLine).where(this_line(brand, transfer_id)).values(received=3, outstanding=3),
    ) as report:
        assert flagged(report, BALANCES, brand) == set()
        assert flagged(report, AGREES, brand) == {transfer_id}
        [example] = [
            e
            for e in check(report, AGREES).examples
            if str(uuid.UUID(str(e["transfer_id"]))) == transfer_id
        ]
        assert (example["received"], int(example["received_by_movements"])) == (3, 2)


async def test_a_status_that_disagrees_with_the_lines_is_reported(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, _, transfer_id = await partly_received(client, db)

    async with tampered(
        db,
        update(Transfer)
        .where(Transfer.brand_id == brand.id, Transfer.id == uuid.UUID(transfer_id))
        .values(status="completed"),
    ) as report:
        assert flagged(report, STATUS, brand) == {transfer_id}


async def test_movements_without_their_row_or_line_are_reported(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, _, transfer_id = await partly_received(client, db)
    other = await create_product(brand)

    async with tampered(
        db,
        # A transfer_in of a product the transfer never shipped.
        insert(StockMovement).values(
            brand_id=brand.id,
            type="transfer_in",
            product_id=other,
            site_id=brand.site_id,
            quantity=1,
            transfer_id=uuid.UUID(transfer_id),
        ),
    ) as report:
        assert flagged(report, WITHOUT_LINE, brand) == {transfer_id}

    async with tampered(
        db,
        delete(TransferLine).where(this_line(brand, transfer_id)),
        delete(Transfer).where(
            Transfer.brand_id == brand.id, Transfer.id == uuid.UUID(transfer_id)
        ),
    ) as report:
        assert flagged(report, ROWLESS, brand) == {transfer_id}
        # Without its row it is judged as a one-step transfer: −6 + 2 does not pair up.
        assert flagged(report, PAIRS, brand) == {transfer_id}
