"""occurred_at on writes (the backdating window), as_of on the stock reads, the report's
occurred_at filters, and the valuation — on both backends, with a fixed clock."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from stockroom import clock
from tests.factories import Brand, Database, create_brand_with_admin, create_product, create_site

NOW = datetime(2026, 11, 20, 12, 0, 0, 250_000, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def fixed_clock() -> Iterator[datetime]:
    clock.set_now(NOW)
    try:
        yield NOW
    finally:
        clock.set_now(None)


async def adjust(
    client: httpx.AsyncClient, brand: Brand, product: uuid.UUID, quantity: int, **extra: Any
) -> httpx.Response:
    body = {"product_id": str(product), "quantity": quantity, **extra}
    return await client.post("/inventory/adjustments", json=body, headers=brand.admin.headers)


async def on_hand(
    client: httpx.AsyncClient, brand: Brand, product: uuid.UUID, as_of: str | None = None
) -> int:
    params = {} if as_of is None else {"as_of": as_of}
    answer = await client.get(
        f"/inventory/products/{product}/stock", params=params, headers=brand.admin.headers
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(days=-7), True),
        (timedelta(days=-7, microseconds=-1), False),
        (timedelta(minutes=5), True),
        (timedelta(minutes=5, microseconds=1), False),
        (timedelta(days=-400), False),
    ],
)
async def test_occurred_at_outside_the_backdating_window_is_refused_and_writes_nothing(
    db: Database,
    client: httpx.AsyncClient,
    fixed_clock: datetime,
    offset: timedelta,
    accepted: bool,
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await adjust(client, brand, product, 10)

    answer = await adjust(client, brand, product, 3, occurred_at=stamp(fixed_clock + offset))
    batch = await client.post(
        "/inventory/adjustments",
        json={
            "products": [{"product_id": str(product), "quantity": 1}],
            "reason": "found",
            "occurred_at": stamp(fixed_clock + offset),
        },
        headers=brand.admin.headers,
    )

    if accepted:
        assert answer.status_code == 201, answer.text
        assert answer.json()["occurred_at"] == stamp(fixed_clock + offset)
        assert answer.json()["created_at"] == stamp(fixed_clock)
        assert batch.status_code == 201, batch.text
        assert await on_hand(client, brand, product) == 14
    else:
        for refused in (answer, batch):
            assert refused.status_code == 422, refused.text
            error = refused.json()["error"]
            assert error["code"] == "validation_error"
            assert error["details"][0]["field"] == "occurred_at"
        assert await on_hand(client, brand, product) == 10


async def test_every_write_dates_its_movements_with_occurred_at(
    db: Database, client: httpx.AsyncClient, fixed_clock: datetime
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_site(brand, name="Other")
    product = await create_product(brand)
    when = stamp(fixed_clock - timedelta(days=2, hours=3))
    headers = brand.admin.headers
    line = {"product_id": str(product), "quantity": 5}

    initial = await client.post(
        "/inventory/initial-stock",
        json={"products": [{**line, "cost_per_unit": "2"}], "occurred_at": when},
        headers=headers,
    )
    purchase = await client.post(
        "/purchases",
        json={"lines": [{**line, "cost_per_unit": "3"}], "occurred_at": when},
        headers=headers,
    )
    invoice = await client.post(
        "/invoices",
        json={"lines": [{**line, "quantity": 1, "unit_price": "9"}], "occurred_at": when},
        headers=headers,
    )
    transfer = await client.post(
        "/inventory/transfers",
        json={
            "product_id": str(product),
            "destination_site_id": str(other),
            "quantity": 2,
            "occurred_at": when,
        },
        headers=headers,
    )

    for answer in (initial, purchase, invoice, transfer):
        assert answer.status_code == 201, answer.text
    assert initial.json()["data"][0]["occurred_at"] == when
    assert transfer.json()["transfer_out"]["occurred_at"] == when
    assert transfer.json()["transfer_in"]["occurred_at"] == when
    report = await client.get(
        "/inventory/movements", params={"product_id": str(product)}, headers=headers
    )
    assert {m["occurred_at"] for m in report.json()["data"]} == {when}
    assert len(report.json()["data"]) == 5


async def test_as_of_reads_the_stock_as_it_was_even_after_a_backdated_write(
    db: Database, client: httpx.AsyncClient, fixed_clock: datetime
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    day = timedelta(days=1)
    await adjust(client, brand, product, 10, occurred_at=stamp(fixed_clock - 5 * day))
    await adjust(client, brand, product, -4, occurred_at=stamp(fixed_clock - 2 * day))
    # Entered now, happened three days ago: the past changes, now does not.
    await adjust(client, brand, product, 7, occurred_at=stamp(fixed_clock - 3 * day))

    assert await on_hand(client, brand, product) == 13
    assert await on_hand(client, brand, product, stamp(fixed_clock - 6 * day)) == 0
    assert await on_hand(client, brand, product, stamp(fixed_clock - 4 * day)) == 10
    assert await on_hand(client, brand, product, stamp(fixed_clock - 3 * day)) == 17
    assert await on_hand(client, brand, product, stamp(fixed_clock - day)) == 13
    assert await on_hand(client, brand, product, stamp(fixed_clock)) == 13
    listing = await client.get(
        "/inventory/stock",
        params={"product_id": str(product), "as_of": stamp(fixed_clock - 4 * day)},
        headers=brand.admin.headers,
    )
    [item] = listing.json()["data"]
    assert (item["on_hand"], item["reserved"], item["available"]) == (10, 0, 10)


@pytest.mark.parametrize(
    "as_of",
    [
        "2026-11-20T12:00:01Z",  # one second after the fixed now
        "2999-01-01T00:00:00Z",
        "yesterday",
        "2026-11-19",
        "2026-11-19T10:00:00",  # no offset
        "2026-11-31T10:00:00Z",
        "",
    ],
)
async def test_as_of_in_the_future_or_malformed_is_refused(
    db: Database, client: httpx.AsyncClient, fixed_clock: datetime, as_of: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    for path in (
        f"/inventory/products/{product}/stock",
        "/inventory/stock",
        "/inventory/valuation",
    ):
        answer = await client.get(path, params={"as_of": as_of}, headers=brand.admin.headers)
        assert answer.status_code == 422, (path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"][0]["field"] == "as_of"


async def test_the_report_filters_by_when_movements_occurred(
    db: Database, client: httpx.AsyncClient, fixed_clock: datetime
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    early = fixed_clock - timedelta(days=3)
    await adjust(client, brand, product, 1, occurred_at=stamp(early))
    await adjust(client, brand, product, 2)

    async def quantities(**params: str) -> list[int]:
        answer = await client.get(
            "/inventory/movements",
            params={"product_id": str(product), **params},
            headers=brand.admin.headers,
        )
        assert answer.status_code == 200, answer.text
        return sorted(m["quantity"] for m in answer.json()["data"])

    early_day = early.date().isoformat()
    assert await quantities(start_date=early_day, end_date=early_day) == [1]
    assert await quantities(start_date=fixed_clock.date().isoformat()) == [2]
    assert await quantities(**{"from": stamp(early)}) == [1, 2]
    assert await quantities(**{"from": stamp(early + timedelta(microseconds=1))}) == [2]
    assert await quantities(to=stamp(early)) == []
    assert await quantities(to=stamp(early + timedelta(microseconds=1))) == [1]
    bad = await client.get(
        "/inventory/movements",
        params={"from": stamp(fixed_clock), "to": stamp(early)},
        headers=brand.admin.headers,
    )
    assert bad.status_code == 422
    malformed = await client.get(
        "/inventory/movements", params={"from": "last week"}, headers=brand.admin.headers
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["details"][0]["field"] == "from"


async def test_valuation_weighs_the_costs_recorded_up_to_the_instant(
    db: Database, client: httpx.AsyncClient, fixed_clock: datetime
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_site(brand, name="Other")
    product = await create_product(brand, sku="=SUM(A1)", name="Tea")
    uncosted = await create_product(brand, name="Cups")
    headers = brand.admin.headers
    day = timedelta(days=1)

    async def purchase(quantity: int, cost: str, when: datetime, site: uuid.UUID) -> None:
        answer = await client.post(
            "/purchases",
            json={
                "site_id": str(site),
                "lines": [
                    {"product_id": str(product), "quantity": quantity, "cost_per_unit": cost}
                ],
                "occurred_at": stamp(when),
            },
            headers=headers,
        )
        assert answer.status_code == 201, answer.text

    await purchase(10, "2", fixed_clock - 4 * day, brand.site_id)
    await purchase(30, "4", fixed_clock - 2 * day, other)
    await adjust(client, brand, product, -5, occurred_at=stamp(fixed_clock - day))
    await adjust(client, brand, uncosted, 3)

    async def valuation(**params: str) -> dict[str, Any]:
        answer = await client.get("/inventory/valuation", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    then = await valuation(as_of=stamp(fixed_clock - 3 * day))
    [line] = [x for x in then["data"] if x["product_id"] == str(product)]
    assert (line["quantity"], line["average_cost"], line["value"]) == (10, "2", "20")
    assert then["total"] == {"quantity": 10, "value": "20"}

    now = await valuation()
    tea = {x["site_id"]: x for x in now["data"] if x["product_id"] == str(product)}
    # (10 × 2 + 30 × 4) / 40 = 3.5 at both sites
    assert (tea[str(brand.site_id)]["quantity"], tea[str(brand.site_id)]["value"]) == (5, "17.5")
    assert (tea[str(other)]["quantity"], tea[str(other)]["value"]) == (30, "105")
    [cups] = [x for x in now["data"] if x["product_id"] == str(uncosted)]
    assert (cups["average_cost"], cups["value"]) == (None, None)
    sites = {s["site_id"]: s for s in now["sites"]}
    assert sites[str(brand.site_id)] == {
        "site_id": str(brand.site_id),
        "quantity": 8,
        "value": "17.5",
    }
    assert now["total"] == {"quantity": 38, "value": "122.5"}

    one_site = await valuation(site_id=str(other))
    assert one_site["total"] == {"quantity": 30, "value": "105"}

    exported = await client.get("/inventory/valuation", params={"format": "csv"}, headers=headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["sku"] for r in rows if r["row"] == "line"} >= {"'=SUM(A1)"}
    [total] = [r for r in rows if r["row"] == "brand_total"]
    assert (total["quantity"], total["value"]) == ("38", "122.5")
