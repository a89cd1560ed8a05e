"""The CSV export on PostgreSQL is written by `COPY … TO STDOUT`: byte for byte the file the
Python writer makes from the report's JSON rows (quoting, formula escape, money, timestamps,
CRLF), in batches whose boundaries lose and repeat nothing. On SQLite the same tests hold
the Python writer to the same bytes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from stockroom.ledger import MovementDraft, post_movements
from stockroom.movements import service
from tests.factories import Brand, Database, create_brand_with_admin, create_product, put_stock
from tests.movements.ledger_setup import all_movements, post_movements_at

# Cells that each exercise one rule of the CSV: quoting, the formula escape, empty text.
AWKWARD = [
    'comma, "quote"',
    "line\nbreak",
    "carriage\rreturn",
    "crlf\r\ninside",
    "=SUM(A1)",
    "+1",
    "-2",
    "@cmd",
    "\ttab",
    "\rcr first",
    "",
    "'already quoted",
    "plain",
    '"',
    "ünïcödé ✓",
]
COSTS = [Decimal("2.5"), Decimal("100"), Decimal("0.0001"), Decimal("0"), None]
# With and without microseconds: the API writes them only when there are any.
INSTANTS = [
    datetime(2024, 2, 29, 8, 30, tzinfo=UTC),
    datetime(2024, 3, 1, 23, 59, 59, 120, tzinfo=UTC),
    datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
]


async def write_awkward_movements(brand: Brand) -> None:
    product = await create_product(brand)
    await put_stock(brand, product, 1000)
    for n, text in enumerate(AWKWARD):
        async with brand.db.transaction() as session:
            await post_movements(
                session,
                brand.id,
                [
                    MovementDraft(
                        type="purchase",
                        product_id=product,
                        site_id=brand.site_id,
                        quantity=n + 1,
                        reference=text,
                        notes=text[::-1],
                        reason_code=None if n % 2 else text,
                        reason_description=text + text,
                        unit_cost=COSTS[n % len(COSTS)],
                    )
                ],
                user_id=brand.admin.user_id,
                now=INSTANTS[n % len(INSTANTS)],
            )


def python_csv(movements: list[dict[str, object]]) -> bytes:
    """What `movement_csv_row` and Python's csv module write for the report's JSON rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(service.CSV_COLUMNS)
    for movement in movements:
        writer.writerow(service.movement_csv_row(movement))
    return buffer.getvalue().encode()


async def test_the_export_is_the_python_writers_file_byte_for_byte(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await write_awkward_movements(brand)
    expected = python_csv(await all_movements(client, brand.admin.headers))

    response = await client.get("/inventory/movements.csv", headers=brand.admin.headers)

    assert response.status_code == 200
    assert response.content == expected


@pytest.mark.parametrize("batch_size", [1, 4, 7])
async def test_batches_of_the_export_lose_and_repeat_no_row(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    brand = await create_brand_with_admin(db)
    await write_awkward_movements(brand)
    product = await create_product(brand)
    # Runs of equal created_at, so that batch boundaries fall inside them.
    await post_movements_at(brand, product, [1] * 9, at=datetime(2021, 1, 1, tzinfo=UTC))
    expected = python_csv(await all_movements(client, brand.admin.headers))
    monkeypatch.setattr(service, "COPY_BATCH_SIZE", batch_size)
    monkeypatch.setattr(service, "CSV_BATCH_SIZE", batch_size)

    response = await client.get("/inventory/movements.csv", headers=brand.admin.headers)

    assert response.status_code == 200
    assert response.content == expected
