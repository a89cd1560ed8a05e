"""`verify_ledger`'s checks of the reserved side, and what its examples say (issue 9, item 11).

Written against the mutants of `ledger/verify.py` no test noticed: each reserved check is
broken on its own and must name exactly the broken level or line (and not its sound
neighbours); the examples `stockroom verify` prints carry the figures an operator reads.
Reservations are made through the API; every break happens inside a transaction that is
rolled back after verify ran on it (`tampered`), so the shared database stays sound.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import delete, insert, update

from stockroom.db.models import Location, ReservationLine, StockLevel, StockMovement
from stockroom.db.models.ledger import NO_LOCATION
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.ledger.test_verify_settings import check, sound_report, tampered
from tests.reservations.helpers import line, reserve

RESERVED = "levels' reserved equal what active reservations hold"
HOLD_WITHOUT_LEVEL = "every active hold has its level"
BAD_LINES = "reservation lines hold between 0 and what they reserved"
LEVELS = "levels equal the sum of their movements"
NEGATIVE = "no level below zero where negative stock is forbidden"
LOCATION_OF_ITS_SITE = "every level's location is a location of its site"
TRANSFERS = "transfer halves pair up"


def mine(report: Any, name: str, brand: Brand) -> list[dict[str, Any]]:
    """The examples of the named check that belong to this brand."""
    return [e for e in check(report, name).examples if uuid.UUID(str(e["brand_id"])) == brand.id]


async def reservation(client: httpx.AsyncClient, brand: Brand, *lines: dict[str, Any]) -> str:
    response = await reserve(client, brand, list(lines))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def level_of(brand: Brand, product: uuid.UUID) -> Any:
    return (
        StockLevel.brand_id == brand.id,
        StockLevel.product_id == product,
        StockLevel.site_id == brand.site_id,
    )


async def test_reserved_that_differs_from_the_active_holds_is_reported_per_level(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, cups, jam = [await create_product(brand) for _ in range(3)]
    for product in (tea, cups, jam):
        await put_stock(brand, product, 10)
    # Two reservations on tea (3 + 4) and one on cups: reserved is their sum, per level.
    first = await reservation(client, brand, line(tea, 3), line(cups, 2))
    await reservation(client, brand, line(tea, 4))
    report = await sound_report(db)
    for name in (RESERVED, HOLD_WITHOUT_LEVEL, BAD_LINES):
        assert mine(report, name, brand) == [], name

    # tea's level counts 2 units no reservation holds; jam holds 5 with no reservation at all.
    extra = update(StockLevel).where(*level_of(brand, tea)).values(reserved=StockLevel.reserved + 2)
    phantom = update(StockLevel).where(*level_of(brand, jam)).values(reserved=5)
    async with tampered(db, extra, phantom) as report:
        found = {e["product_id"]: e for e in mine(report, RESERVED, brand)}
        assert set(found) == {str(tea), str(jam)}
        assert (found[str(tea)]["reserved"], int(found[str(tea)]["held_by_reservations"])) == (
            9,
            7,
        )
        assert (found[str(jam)]["reserved"], int(found[str(jam)]["held_by_reservations"])) == (
            5,
            0,
        )
        assert not report.ok

    # A released line (inactive) no longer holds: cups' level still says 2.
    released = (
        update(ReservationLine)
        .where(ReservationLine.reservation_id == uuid.UUID(first))
        .where(ReservationLine.product_id == cups)
        .values(active=False)
    )
    async with tampered(db, released) as report:
        [example] = mine(report, RESERVED, brand)
        assert example["product_id"] == str(cups)
        assert (example["reserved"], int(example["held_by_reservations"])) == (2, 0)


async def test_an_active_hold_without_its_level_is_reported_unless_it_holds_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, cups = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 10)
    await put_stock(brand, cups, 10)
    await reservation(client, brand, line(tea, 3), line(cups, 2))

    # The tea level is gone (with its movements' total, a second check's problem).
    gone = delete(StockLevel).where(*level_of(brand, tea))
    # cups' line has been used up but is still active: it holds nothing, so no level is owed.
    used_up = (
        update(ReservationLine)
        .where(ReservationLine.brand_id == brand.id, ReservationLine.product_id == cups)
        .values(remaining=0)
    )
    cups_level = delete(StockLevel).where(*level_of(brand, cups))
    async with tampered(db, gone, used_up, cups_level) as report:
        examples = mine(report, HOLD_WITHOUT_LEVEL, brand)
        assert [(e["product_id"], e["site_id"], e["location_id"]) for e in examples] == [
            (str(tea), str(brand.site_id), NO_LOCATION)
        ]
        assert not report.ok


async def test_a_line_holding_less_than_nothing_or_more_than_it_reserved_is_reported(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    products = [await create_product(brand) for _ in range(4)]
    for product in products:
        await put_stock(brand, product, 10)
    below, above, empty, _untouched = products
    reservation_id = uuid.UUID(
        await reservation(client, brand, *(line(product, 4) for product in products))
    )

    def remaining(product: uuid.UUID, value: int) -> Any:
        return (
            update(ReservationLine)
            .where(ReservationLine.reservation_id == reservation_id)
            .where(ReservationLine.product_id == product)
            .values(remaining=value)
        )

    # -1 and 5 (of 4) are broken; 0 (all used) and 4 (none used) are the bounds, both sound.
    statements = [remaining(below, -1), remaining(above, 5), remaining(empty, 0)]
    async with tampered(db, *statements) as report:
        examples = mine(report, BAD_LINES, brand)
        assert sorted((e["remaining"], e["quantity"]) for e in examples) == [(-1, 4), (5, 4)]
        assert {e["reservation_id"] for e in examples} == {str(reservation_id)}
        assert not report.ok


async def test_a_level_without_movements_shows_a_ledger_total_of_zero(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    made_up = insert(StockLevel).values(
        brand_id=brand.id, product_id=product, site_id=brand.site_id, on_hand=2
    )
    async with tampered(db, made_up) as report:
        [example] = mine(report, LEVELS, brand)
        assert (example["product_id"], example["on_hand"]) == (str(product), 2)
        assert int(example["ledger_total"]) == 0


async def test_a_level_at_zero_at_a_strict_site_is_not_below_zero(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 3)
    await put_stock(brand, product, -3)

    report = await sound_report(db)

    assert mine(report, NEGATIVE, brand) == []
    # ...while -1 at the same level is reported.
    below = update(StockLevel).where(*level_of(brand, product)).values(on_hand=-1)
    async with tampered(db, below) as broken:
        assert [e["on_hand"] for e in mine(broken, NEGATIVE, brand)] == [-1]


async def test_a_level_at_a_location_of_another_site_names_that_site(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    backroom = await create_site(brand, name="Backroom")
    product = await create_product(brand, location_aware=True)
    bin_id = await create_location(brand, brand.site_id)
    await put_stock(brand, product, 3, location_id=bin_id)

    move_bin = (
        update(Location)
        .where(Location.brand_id == brand.id, Location.id == bin_id)
        .values(site_id=backroom)
    )
    async with tampered(db, move_bin) as report:
        [example] = mine(report, LOCATION_OF_ITS_SITE, brand)
        assert (example["site_id"], example["location_site_id"]) == (
            str(brand.site_id),
            str(backroom),
        )


def half(brand: Brand, product: uuid.UUID, kind: str, quantity: int, transfer: uuid.UUID) -> Any:
    return insert(StockMovement).values(
        brand_id=brand.id,
        type=kind,
        product_id=product,
        site_id=brand.site_id,
        quantity=quantity,
        transfer_id=transfer,
    )


async def test_transfer_examples_count_the_halves_and_their_net(db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    lone, split, sound = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    statements = [
        half(brand, product, "transfer_out", -2, lone),
        # Three halves that cancel out: two outs and one in. Not a transfer either.
        half(brand, product, "transfer_out", -1, split),
        half(brand, product, "transfer_out", -2, split),
        half(brand, product, "transfer_in", 3, split),
        half(brand, product, "transfer_out", -4, sound),
        half(brand, product, "transfer_in", 4, sound),
    ]
    async with tampered(db, *statements) as report:
        found = {
            e["transfer_id"]: (e["halves"], int(e["net"])) for e in mine(report, TRANSFERS, brand)
        }
        assert found == {str(lone): (1, -2), str(split): (3, 0)}
