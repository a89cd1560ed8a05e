"""Bad input to counts gets the contract's error shape and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.counts.helpers import start
from tests.errors.shape import detail_fields, error_of
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)
from tests.movements.ledger_setup import on_hand


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"counted_quantity": -1}, "lines[0].counted_quantity"),
        ({"counted_quantity": "3"}, "lines[0].counted_quantity"),
        ({"counted_quantity": 2.5}, "lines[0].counted_quantity"),
        ({"counted_quantity": 10**12}, "lines[0].counted_quantity"),
        ({"counted_quantity": None}, "lines[0].counted_quantity"),
        ({"counted_quantity": 1, "colour": "red"}, "lines[0].colour"),
        ({"counted_quantity": 1, "product_id": "not-a-uuid"}, "lines[0].product_id"),
        ({"counted_quantity": 1, "product_id": str(uuid.UUID(int=7))}, "lines[0].product_id"),
        ({"counted_quantity": 1, "location_id": 5}, "lines[0].location_id"),
    ],
)
async def test_a_bad_line_is_refused_and_records_nothing(
    client: httpx.AsyncClient, db: Database, line: dict[str, Any], field: str
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 4)
    count = await start(client, brand)
    good = {"product_id": str(tea), "counted_quantity": 1}

    response = await client.put(
        f"/inventory/counts/{count['id']}/lines",
        headers=brand.admin.headers,
        json={"lines": [{"product_id": str(tea), **line}, good]},
    )

    assert field in detail_fields(error_of(response, 422, "validation_error"))
    got = await client.get(f"/inventory/counts/{count['id']}", headers=brand.admin.headers)
    assert got.json()["lines"] == []


async def test_lines_outside_the_scope_or_brand_are_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    tea, cups = await create_product(brand), await create_product(brand)
    foreign = await create_product(other)
    located = await create_product(brand, location_aware=True)
    count = await start(client, brand, product_ids=[str(tea), str(located)])
    url = f"/inventory/counts/{count['id']}/lines"

    cases = {
        "lines[0].product_id": {"product_id": str(cups), "counted_quantity": 1},
        "lines[1].product_id": {"product_id": str(foreign), "counted_quantity": 1},
        "lines[2].location_id": {"product_id": str(located), "counted_quantity": 1},
    }
    response = await client.put(
        url, headers=brand.admin.headers, json={"lines": list(cases.values())}
    )

    assert response.status_code == 422, response.text
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert "lines[0].product_id" in fields
    # The scope check runs first; the other problems are reported on a scoped-in retry.
    retry = await client.put(
        url, headers=brand.admin.headers, json={"lines": list(cases.values())[1:]}
    )
    assert retry.status_code == 422
    assert {d["field"] for d in retry.json()["error"]["details"]} == {
        "lines[0].product_id",
        "lines[1].location_id",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_ids": []}, "product_ids"),
        ({"product_ids": ["nope"]}, "product_ids[0]"),
        ({"product_ids": [str(uuid.UUID(int=3))]}, "product_ids[0]"),
        ({"location_id": 999_999}, "location_id"),
        ({"location_id": 2**40}, "location_id"),
        ({"location_id": -1}, "location_id"),
        ({"location_id": "1"}, "location_id"),
        ({"site_id": str(uuid.UUID(int=9))}, "site_id"),
        ({"zero_uncounted": True}, "zero_uncounted"),
        ({"complete": "yes"}, "complete"),
        ({"lines": []}, "lines"),
        ({"notes": "a\x00b"}, "notes"),
        ({"status": "completed"}, "status"),
    ],
)
async def test_a_bad_start_is_refused_and_creates_nothing(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any], field: str
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.post("/inventory/counts", headers=brand.admin.headers, json=body)

    assert field in detail_fields(error_of(response, 422, "validation_error"))
    listed = await client.get("/inventory/counts", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 0


async def test_a_location_of_another_site_or_a_plain_product_cannot_scope_a_location_count(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    far_shelf = await create_location(brand, warehouse)
    shelf = await create_location(brand, brand.site_id)
    plain = await create_product(brand)

    elsewhere = await client.post(
        "/inventory/counts", headers=brand.admin.headers, json={"location_id": far_shelf}
    )
    plain_product = await client.post(
        "/inventory/counts",
        headers=brand.admin.headers,
        json={"location_id": shelf, "product_ids": [str(plain)]},
    )

    assert elsewhere.status_code == 422
    assert elsewhere.json()["error"]["details"][0]["field"] == "location_id"
    assert plain_product.status_code == 422
    assert plain_product.json()["error"]["details"][0]["field"] == "product_ids[0]"


async def test_a_failed_one_call_count_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea = await create_product(brand)
    await put_stock(brand, tea, 5)

    response = await client.post(
        "/inventory/counts",
        headers=brand.admin.headers,
        json={
            "lines": [
                {"product_id": str(tea), "counted_quantity": 1},
                {"product_id": str(uuid.UUID(int=1)), "counted_quantity": 1},
            ],
            "complete": True,
        },
    )

    assert response.status_code == 422
    assert await on_hand(brand, tea) == 5
    listed = await client.get("/inventory/counts", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 0


async def test_viewers_read_counts_and_managers_write_only_at_their_sites(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    tea = await create_product(brand)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    manager = await create_caller(brand, Role.manager, site_ids=[brand.site_id])
    count = await start(client, brand)
    url = f"/inventory/counts/{count['id']}"
    line = {"lines": [{"product_id": str(tea), "counted_quantity": 1}]}

    assert (await client.get(url, headers=viewer.headers)).status_code == 200
    assert (await client.put(f"{url}/lines", headers=viewer.headers, json=line)).status_code == 403
    assert (await client.post(f"{url}/complete", headers=viewer.headers)).status_code == 403
    assert (
        await client.post(
            "/inventory/counts", headers=viewer.headers, json={"site_id": str(brand.site_id)}
        )
    ).status_code == 403
    assert (await client.put(f"{url}/lines", headers=manager.headers, json=line)).status_code == 200
    elsewhere = await client.post(
        "/inventory/counts", headers=manager.headers, json={"site_id": str(warehouse)}
    )
    assert elsewhere.status_code == 403
    assert (await client.post(f"{url}/complete", headers=manager.headers)).status_code == 200
