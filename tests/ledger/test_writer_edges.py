"""The writer's corner cases that mutation testing found no test noticing (issue 9, item 11).

Each test goes through HTTP on both backends and asserts what a user would see: the answer,
its details, and what is (or is not) written to the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from stockroom.db.models import Site, StockLevel, StockMovement
from tests.errors.shape import detail_fields, error_of
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
    put_stock,
)


async def level_of(brand: Brand, product: uuid.UUID, site: uuid.UUID, location: int = 0) -> int:
    async with brand.db.transaction() as session:
        value = (
            await session.execute(
                select(StockLevel.on_hand).where(
                    StockLevel.brand_id == brand.id,
                    StockLevel.product_id == product,
                    StockLevel.site_id == site,
                    StockLevel.location_id == location,
                )
            )
        ).scalar()
    assert value is not None, "the level was never written"
    return int(value)


async def movement_count(brand: Brand, product: uuid.UUID) -> int:
    async with brand.db.transaction() as session:
        return int(
            (
                await session.execute(
                    select(func.count()).where(
                        StockMovement.brand_id == brand.id, StockMovement.product_id == product
                    )
                )
            ).scalar_one()
        )


def as_json(body: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in body.items()}


async def adjust(client: httpx.AsyncClient, brand: Brand, **body: Any) -> httpx.Response:
    return await client.post(
        "/inventory/adjustments", headers=brand.admin.headers, json=as_json(body)
    )


async def adjust_batch(
    client: httpx.AsyncClient,
    brand: Brand,
    lines: list[dict[str, Any]],
    *,
    site: uuid.UUID | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"reason": "recount", "products": [as_json(line) for line in lines]}
    if site is not None:
        body["site_id"] = str(site)
    return await client.post("/inventory/adjustments", headers=brand.admin.headers, json=body)


# --- Retries exhausted: every conditional write of the level is refused ----------------------


@asynccontextmanager
async def level_writes_refused(db: Database, product: uuid.UUID) -> AsyncIterator[None]:
    """Make the database skip every change of this product's `on_hand` (a BEFORE UPDATE
    trigger that drops the row), as if another writer won each race: the writer's conditional
    UPDATE matches nothing, yet a look at the level finds it fine, so it retries until it
    gives up. A real database refusal, not a mock: the writer's statements run unchanged."""
    tag = uuid.uuid4().hex[:12]
    trigger = f"refuse_level_change_{tag}"
    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RETURN NULL; END $$"
            )
            await conn.exec_driver_sql(
                f"CREATE TRIGGER {trigger} BEFORE UPDATE ON stock_levels FOR EACH ROW "
                f"WHEN (NEW.product_id = '{product}'::uuid AND NEW.on_hand <> OLD.on_hand) "
                f"EXECUTE FUNCTION {trigger}()"
            )
        else:
            # SQLAlchemy's Uuid is stored as 32 hex digits on SQLite.
            await conn.exec_driver_sql(
                f"CREATE TRIGGER {trigger} BEFORE UPDATE ON stock_levels FOR EACH ROW "
                f"WHEN NEW.product_id = '{product.hex}' AND NEW.on_hand <> OLD.on_hand "
                "BEGIN SELECT RAISE(IGNORE); END"
            )
    try:
        yield
    finally:
        async with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.exec_driver_sql(f"DROP TRIGGER {trigger} ON stock_levels")
                await conn.exec_driver_sql(f"DROP FUNCTION {trigger}()")
            else:
                await conn.exec_driver_sql(f"DROP TRIGGER {trigger}")


async def test_the_refusing_trigger_really_refuses_level_changes(db: Database) -> None:
    # The premise of the next test: under the trigger the level's UPDATE changes no row.
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    async with level_writes_refused(db, product), db.engine.begin() as conn:
        changed = await conn.execute(
            update(StockLevel)
            .where(StockLevel.brand_id == brand.id, StockLevel.product_id == product)
            .values(on_hand=StockLevel.on_hand - 1)
            .returning(StockLevel.on_hand)
        )
        assert changed.all() == []

    assert await level_of(brand, product, brand.site_id) == 5


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"quantity": -1}, id="outgoing"),
        pytest.param({"quantity": -1, "expected_on_hand": 5}, id="outgoing-compare-and-set"),
        pytest.param({"quantity": 1, "expected_on_hand": 5}, id="incoming-compare-and-set"),
    ],
)
async def test_retries_exhausted_is_503_unavailable_and_writes_nothing(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    async with level_writes_refused(db, product):
        response = await adjust(client, brand, product_id=product, **body)

    error_of(response, 503, "unavailable")
    assert response.headers["Retry-After"].isdigit()
    assert await level_of(brand, product, brand.site_id) == 5
    assert await movement_count(brand, product) == 1  # only the setup's


# --- insufficient_stock names the level: product, site and location -------------------------


async def test_insufficient_stock_detail_names_the_site_and_the_location(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shop = await create_site(brand, name="Shop")
    shelf = await create_location(brand, shop, name="Shelf")
    product = await create_product(brand, location_aware=True)
    await put_stock(brand, product, 2, site_id=shop, location_id=shelf)

    response = await adjust(
        client, brand, product_id=product, quantity=-5, location_id=shelf, site_id=shop
    )

    error = error_of(response, 422, "insufficient_stock")
    [detail] = error["details"]
    assert detail["field"] == "quantity"
    assert detail["product_id"] == str(product)
    assert detail["site_id"] == str(shop)
    assert detail["location_id"] == shelf
    assert detail["on_hand"] == 2
    assert detail["requested"] == -5
    assert "below zero" in detail["message"]
    assert await level_of(brand, product, shop, shelf) == 2


async def test_insufficient_stock_details_of_a_batch_name_each_line_s_site_and_location(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shop = await create_site(brand, name="Shop")
    shelf = await create_location(brand, shop, name="Shelf")
    binned = await create_product(brand, location_aware=True)
    loose = await create_product(brand)
    await put_stock(brand, binned, 1, site_id=shop, location_id=shelf)
    await put_stock(brand, loose, 3, site_id=shop)

    response = await adjust_batch(
        client,
        brand,
        [
            {"product_id": binned, "quantity": -2, "location_id": shelf},
            {"product_id": loose, "quantity": -4},
        ],
        site=shop,
    )

    error = error_of(response, 422, "insufficient_stock")
    by_product = {d["product_id"]: d for d in error["details"]}
    assert set(by_product) == {str(binned), str(loose)}
    assert by_product[str(binned)]["field"] == "products[0].quantity"
    assert by_product[str(binned)]["site_id"] == str(shop)
    assert by_product[str(binned)]["location_id"] == shelf
    assert (by_product[str(binned)]["on_hand"], by_product[str(binned)]["requested"]) == (1, -2)
    assert by_product[str(loose)]["field"] == "products[1].quantity"
    assert by_product[str(loose)]["site_id"] == str(shop)
    assert by_product[str(loose)]["location_id"] is None
    assert (by_product[str(loose)]["on_hand"], by_product[str(loose)]["requested"]) == (3, -4)
    assert await level_of(brand, binned, shop, shelf) == 1
    assert await level_of(brand, loose, shop) == 3


# --- A site that allows negative stock: every line of a batch may go below zero --------------


async def test_a_batch_takes_two_products_below_zero_at_a_site_that_allows_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    lenient = await create_site(brand, name="Market stall", allow_negative_stock=True)
    first, second, third = [await create_product(brand) for _ in range(3)]
    for product in (first, second):
        await put_stock(brand, product, 1, site_id=lenient)

    response = await adjust_batch(
        client,
        brand,
        [
            {"product_id": first, "quantity": -3},
            {"product_id": second, "quantity": -4},
            {"product_id": third, "quantity": -1},  # never stocked here
        ],
        site=lenient,
    )

    assert response.status_code == 201, response.text
    assert [m["quantity"] for m in response.json()["data"]] == [-3, -4, -1]
    assert await level_of(brand, first, lenient) == -2
    assert await level_of(brand, second, lenient) == -3
    assert await level_of(brand, third, lenient) == -1


async def test_a_batch_below_zero_at_a_strict_site_is_refused_even_when_another_site_allows_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    # The site rule is the line's own site's: a lenient site elsewhere in the brand changes
    # nothing for the default (strict) site.
    brand = await create_brand_with_admin(db)
    await create_site(brand, name="Market stall", allow_negative_stock=True)
    first, second = [await create_product(brand) for _ in range(2)]
    for product in (first, second):
        await put_stock(brand, product, 1)

    response = await adjust_batch(
        client,
        brand,
        [{"product_id": first, "quantity": -3}, {"product_id": second, "quantity": -4}],
    )

    error = error_of(response, 422, "insufficient_stock")
    assert sorted(detail_fields(error)) == ["products[0].quantity", "products[1].quantity"]
    assert await level_of(brand, first, brand.site_id) == 1
    assert await level_of(brand, second, brand.site_id) == 1


# --- A level already below zero at a site that no longer allows it ---------------------------


async def set_allow_negative(brand: Brand, site: uuid.UUID, value: bool) -> None:
    async with brand.db.transaction() as session:
        await session.execute(
            update(Site).where(Site.id == site).values(allow_negative_stock=value)
        )


@asynccontextmanager
async def negative_levels_at_a_site_turned_strict(
    brand: Brand, products: list[uuid.UUID], on_hand: int
) -> AsyncIterator[uuid.UUID]:
    """Levels at `on_hand` (< 0) at a site whose negative stock was then switched off.

    PATCH refuses to switch it off while levels are negative, so the flag is set directly:
    the state a race used to leave (issue 9, item 3) and that data from before the rule has.
    The flag is set back on leaving: `verify` runs over the whole shared test database."""
    site = await create_site(brand, name="Was lenient", allow_negative_stock=True)
    for product in products:
        await put_stock(brand, product, on_hand, site_id=site)
    await set_allow_negative(brand, site, False)
    try:
        yield site
    finally:
        await set_allow_negative(brand, site, True)


async def test_compare_and_set_on_a_negative_level_at_a_strict_site_lets_it_rise_not_fall(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    async with negative_levels_at_a_site_turned_strict(brand, [product], -3) as site:
        await rise_not_fall(client, brand, product, site)


async def rise_not_fall(
    client: httpx.AsyncClient, brand: Brand, product: uuid.UUID, site: uuid.UUID
) -> None:

    up = await adjust(
        client, brand, product_id=product, quantity=1, expected_on_hand=-3, site_id=site
    )
    assert up.status_code == 201, up.text
    assert await level_of(brand, product, site) == -2

    down = await adjust(
        client, brand, product_id=product, quantity=-1, expected_on_hand=-2, site_id=site
    )
    error = error_of(down, 422, "insufficient_stock")
    [detail] = error["details"]
    assert (detail["on_hand"], detail["requested"]) == (-2, -1)
    assert await level_of(brand, product, site) == -2

    stale = await adjust(
        client, brand, product_id=product, quantity=1, expected_on_hand=-3, site_id=site
    )
    error = error_of(stale, 409, "stale_quantity")
    assert error["details"][0]["on_hand"] == -2
    assert error["details"][0]["message"] == "on hand is -2, not -3"
    assert await level_of(brand, product, site) == -2
    assert await movement_count(brand, product) == 2  # the setup's and the +1


async def test_compare_and_set_batch_on_negative_levels_at_a_strict_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    first, second = [await create_product(brand) for _ in range(2)]
    async with negative_levels_at_a_site_turned_strict(brand, [first, second], -3) as site:
        await batch_rise_not_fall(client, brand, first, second, site)


async def batch_rise_not_fall(
    client: httpx.AsyncClient, brand: Brand, first: uuid.UUID, second: uuid.UUID, site: uuid.UUID
) -> None:

    mixed = await adjust_batch(
        client,
        brand,
        [
            {"product_id": first, "quantity": 1, "expected_on_hand": -3},
            {"product_id": second, "quantity": -1, "expected_on_hand": -3},
        ],
        site=site,
    )
    error = error_of(mixed, 422, "insufficient_stock")
    assert detail_fields(error) == ["products[1].quantity"]
    assert await level_of(brand, first, site) == -3
    assert await level_of(brand, second, site) == -3

    both_up = await adjust_batch(
        client,
        brand,
        [
            {"product_id": first, "quantity": 1, "expected_on_hand": -3},
            {"product_id": second, "quantity": 2, "expected_on_hand": -3},
        ],
        site=site,
    )
    assert both_up.status_code == 201, both_up.text
    assert await level_of(brand, first, site) == -2
    assert await level_of(brand, second, site) == -1


# --- Location ids beyond the 32-bit column: 422 naming the field, never a 500 ----------------

TOO_BIG = [2**31, 2**63, 2**64]

Body = Callable[[uuid.UUID, uuid.UUID, int], tuple[str, dict[str, Any], str]]


def _single(product: uuid.UUID, _: uuid.UUID, location: int) -> tuple[str, dict[str, Any], str]:
    body = {"product_id": str(product), "quantity": -1, "location_id": location}
    return "/inventory/adjustments", body, "location_id"


def _batch(product: uuid.UUID, _: uuid.UUID, location: int) -> tuple[str, dict[str, Any], str]:
    line = {"product_id": str(product), "quantity": -1, "location_id": location}
    return (
        "/inventory/adjustments",
        {"reason": "lost", "products": [line]},
        ("products[0].location_id"),
    )


def _invoice(product: uuid.UUID, _: uuid.UUID, location: int) -> tuple[str, dict[str, Any], str]:
    line = {
        "product_id": str(product),
        "quantity": 1,
        "unit_price": "2.50",
        "location_id": location,
    }
    return "/invoices", {"lines": [line]}, "lines[0].location_id"


def _purchase(product: uuid.UUID, _: uuid.UUID, location: int) -> tuple[str, dict[str, Any], str]:
    line = {
        "product_id": str(product),
        "quantity": 1,
        "cost_per_unit": "1",
        "location_id": location,
    }
    return "/purchases", {"lines": [line]}, "lines[0].location_id"


def _initial(product: uuid.UUID, _: uuid.UUID, location: int) -> tuple[str, dict[str, Any], str]:
    line = {"product_id": str(product), "quantity": 1, "location_id": location}
    return "/inventory/initial-stock", {"products": [line]}, "products[0].location_id"


def _transfer_from(
    product: uuid.UUID, destination: uuid.UUID, location: int
) -> tuple[str, dict[str, Any], str]:
    body = {
        "product_id": str(product),
        "destination_site_id": str(destination),
        "quantity": 1,
        "source_location_id": location,
    }
    return "/inventory/transfers", body, "source_location_id"


def _transfer_to(
    product: uuid.UUID, destination: uuid.UUID, location: int
) -> tuple[str, dict[str, Any], str]:
    body = {
        "product_id": str(product),
        "destination_site_id": str(destination),
        "quantity": 1,
        "destination_location_id": location,
    }
    return "/inventory/transfers", body, "destination_location_id"


ROUTES: list[Body] = [
    _single,
    _batch,
    _invoice,
    _purchase,
    _initial,
    _transfer_from,
    _transfer_to,
]


@pytest.mark.parametrize("location_aware", [True, False], ids=["location-aware", "plain"])
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.__name__.strip("_"))
async def test_a_location_id_beyond_32_bits_is_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, route: Body, location_aware: bool
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_site(brand, name="Warehouse")
    product = await create_product(brand, location_aware=location_aware)
    shelf = await create_location(brand, brand.site_id, name="Shelf")
    await put_stock(brand, product, 5, location_id=shelf if location_aware else None)

    for location in TOO_BIG:
        path, body, field = route(product, other, location)
        if location_aware and "source_location_id" not in body and path.endswith("transfers"):
            body["source_location_id"] = shelf
        if location_aware and "destination_location_id" not in body and path.endswith("transfers"):
            body["destination_location_id"] = await create_location(brand, other, name="Bay")
        response = await client.post(path, headers=brand.admin.headers, json=body)

        error = error_of(response, 422, "validation_error")
        assert field in detail_fields(error), (location, error)

    assert await movement_count(brand, product) == 1  # only the setup's


async def test_lines_netting_to_zero_on_a_negative_level_at_a_strict_site_are_written(
    client: httpx.AsyncClient, db: Database
) -> None:
    # +1 and −1 on one level are one change of 0: it takes nothing below zero, so the site's
    # rule does not apply, only the compare-and-set.
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    async with negative_levels_at_a_site_turned_strict(brand, [product], -3) as site:
        response = await adjust_batch(
            client,
            brand,
            [
                {"product_id": product, "quantity": 1, "expected_on_hand": -3},
                {"product_id": product, "quantity": -1, "expected_on_hand": -3},
            ],
            site=site,
        )

        assert response.status_code == 201, response.text
        assert [m["quantity"] for m in response.json()["data"]] == [1, -1]
        assert await level_of(brand, product, site) == -3
        assert await movement_count(brand, product) == 3
