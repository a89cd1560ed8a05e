"""POST /inventory/initial-stock through HTTP, on both backends."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_location,
    create_product,
    create_site,
    put_stock,
)


async def post_initial_stock(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post("/inventory/initial-stock", headers=headers, json=body)


async def on_hand(
    client: httpx.AsyncClient, brand: Brand, product_id: uuid.UUID, site_id: uuid.UUID
) -> int:
    response = await client.get(
        f"/inventory/products/{product_id}/stock", headers=brand.admin.headers
    )
    assert response.status_code == 200, response.text
    return next(s["on_hand"] for s in response.json()["sites"] if s["site_id"] == str(site_id))


async def product_cost(client: httpx.AsyncClient, brand: Brand, product_id: uuid.UUID) -> Decimal:
    response = await client.get(f"/products/{product_id}", headers=brand.admin.headers)
    assert response.status_code == 200, response.text
    return Decimal(response.json()["cost_per_unit"])


async def test_initial_stock_writes_one_movement_per_product_and_sets_the_levels(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, coffee = await create_product(brand), await create_product(brand)

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {
            "products": [
                {"product_id": str(tea), "quantity": 12, "cost_per_unit": "1.25"},
                {"product_id": str(coffee), "quantity": 0},
            ]
        },
    )

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert [(m["type"], m["product_id"], m["quantity"]) for m in data] == [
        ("initial_stock", str(tea), 12),
        ("initial_stock", str(coffee), 0),
    ]
    assert [m["unit_cost"] for m in data] == ["1.25", None]
    assert {m["site_id"] for m in data} == {str(brand.site_id)}
    assert {m["user_id"] for m in data} == {str(brand.admin.user_id)}
    assert await on_hand(client, brand, tea, brand.site_id) == 12
    assert await on_hand(client, brand, coffee, brand.site_id) == 0


async def test_initial_stock_twice_is_already_initialized_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, sugar = await create_product(brand), await create_product(brand)
    first = await post_initial_stock(
        client,
        brand.admin.headers,
        {"products": [{"product_id": str(tea), "quantity": 5}]},
    )
    assert first.status_code == 201, first.text

    again = await post_initial_stock(
        client,
        brand.admin.headers,
        {
            "products": [
                {"product_id": str(sugar), "quantity": 7},
                {"product_id": str(tea), "quantity": 9},
            ]
        },
    )

    assert again.status_code == 422
    error = again.json()["error"]
    assert error["code"] == "already_initialized"
    assert [d["field"] for d in error["details"]] == ["products[1].product_id"]
    assert str(tea) in error["details"][0]["message"]
    assert await on_hand(client, brand, tea, brand.site_id) == 5
    # The whole request was refused: the line that was fine wrote nothing either.
    assert await on_hand(client, brand, sugar, brand.site_id) == 0


async def test_every_already_initialized_line_is_named(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    tea, coffee = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 1)
    await put_stock(brand, coffee, 1)

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {
            "products": [
                {"product_id": str(tea), "quantity": 5},
                {"product_id": str(coffee), "quantity": 5},
            ]
        },
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "already_initialized"
    assert [d["field"] for d in response.json()["error"]["details"]] == [
        "products[0].product_id",
        "products[1].product_id",
    ]


async def test_a_product_moved_at_another_site_can_still_be_initialized_here(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 4, site_id=warehouse)

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {"site_id": str(brand.site_id), "products": [{"product_id": str(product), "quantity": 6}]},
    )

    assert response.status_code == 201, response.text
    assert await on_hand(client, brand, product, brand.site_id) == 6
    assert await on_hand(client, brand, product, warehouse) == 4


async def test_a_product_that_only_received_a_transfer_here_is_already_initialized(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    await put_stock(brand, product, 4, site_id=warehouse)
    moved = await client.post(
        "/inventory/transfers",
        headers=brand.admin.headers,
        json={
            "product_id": str(product),
            "site_id": str(warehouse),
            "destination_site_id": str(brand.site_id),
            "quantity": 4,
        },
    )
    assert moved.status_code == 201, moved.text

    response = await post_initial_stock(
        client, brand.admin.headers, {"products": [{"product_id": str(product), "quantity": 6}]}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "already_initialized"


async def test_the_site_comes_from_the_workspace_alias_or_the_header(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shop, kitchen = await create_site(brand, name="Shop"), await create_site(brand, name="Kitchen")
    product = await create_product(brand)

    by_alias = await post_initial_stock(
        client,
        brand.admin.headers,
        {"workspace_id": str(shop), "products": [{"product_id": str(product), "quantity": 2}]},
    )
    by_header = await post_initial_stock(
        client,
        {**brand.admin.headers, "X-Site-Id": str(kitchen)},
        {"products": [{"product_id": str(product), "quantity": 3}]},
    )

    assert by_alias.status_code == 201, by_alias.text
    assert by_header.status_code == 201, by_header.text
    assert await on_hand(client, brand, product, shop) == 2
    assert await on_hand(client, brand, product, kitchen) == 3


async def test_the_same_product_twice_in_one_request_is_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {
            "products": [
                {"product_id": str(product), "quantity": 2},
                {"product_id": str(product), "quantity": 3},
            ]
        },
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["products[1].product_id"]
    assert await on_hand(client, brand, product, brand.site_id) == 0


async def test_a_location_aware_product_opens_at_two_locations_of_the_site_in_one_request(
    client: httpx.AsyncClient, db: Database
) -> None:
    # The same rule as `stockroom import stock --mode initial` (docs/api-notes.md).
    brand = await create_brand_with_admin(db)
    shelf_a = await create_location(brand, brand.site_id, name="A")
    shelf_b = await create_location(brand, brand.site_id, name="B")
    cups = await create_product(brand, location_aware=True)

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {
            "products": [
                {
                    "product_id": str(cups),
                    "quantity": 30,
                    "location_id": shelf_a,
                    "cost_per_unit": "1",
                },
                {
                    "product_id": str(cups),
                    "quantity": 10,
                    "location_id": shelf_b,
                    "cost_per_unit": "3",
                },
            ]
        },
    )

    assert response.status_code == 201, response.text
    stock = await client.get(f"/inventory/products/{cups}/stock", headers=brand.admin.headers)
    here = next(s for s in stock.json()["sites"] if s["site_id"] == str(brand.site_id))
    assert here["on_hand"] == 40
    assert sorted((loc["location_id"], loc["on_hand"]) for loc in here["locations"]) == sorted(
        [(shelf_a, 30), (shelf_b, 10)]
    )
    # Both lines count in the average: (30×1 + 10×3) / 40.
    assert await product_cost(client, brand, cups) == Decimal("1.5")


async def test_the_same_location_twice_in_one_request_is_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    shelf = await create_location(brand, brand.site_id)
    cups = await create_product(brand, location_aware=True)
    line = {"product_id": str(cups), "quantity": 2, "location_id": shelf}

    response = await post_initial_stock(client, brand.admin.headers, {"products": [line, line]})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["products[1].product_id"]
    assert await on_hand(client, brand, cups, brand.site_id) == 0


async def test_location_aware_product_is_initialized_at_a_location_of_the_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    shelf = await create_location(brand, brand.site_id)
    elsewhere = await create_location(brand, warehouse)
    aware, plain = await create_product(brand, location_aware=True), await create_product(brand)

    missing = await post_initial_stock(
        client, brand.admin.headers, {"products": [{"product_id": str(aware), "quantity": 2}]}
    )
    wrong_site = await post_initial_stock(
        client,
        brand.admin.headers,
        {"products": [{"product_id": str(aware), "quantity": 2, "location_id": elsewhere}]},
    )
    not_aware = await post_initial_stock(
        client,
        brand.admin.headers,
        {"products": [{"product_id": str(plain), "quantity": 2, "location_id": shelf}]},
    )
    placed = await post_initial_stock(
        client,
        brand.admin.headers,
        {"products": [{"product_id": str(aware), "quantity": 2, "location_id": shelf}]},
    )

    for refused in (missing, wrong_site, not_aware):
        assert refused.status_code == 422
        assert [d["field"] for d in refused.json()["error"]["details"]] == [
            "products[0].location_id"
        ]
    assert placed.status_code == 201, placed.text
    assert placed.json()["data"][0]["location_id"] == shelf
    stock = await client.get(f"/inventory/products/{aware}/stock", headers=brand.admin.headers)
    here = next(s for s in stock.json()["sites"] if s["site_id"] == str(brand.site_id))
    assert here["locations"] == [{"location_id": shelf, "on_hand": 2}]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"quantity": -1}, "products[0].quantity"),
        ({"quantity": "4"}, "products[0].quantity"),
        ({"quantity": 1.5}, "products[0].quantity"),
        ({}, "products[0].quantity"),
        ({"quantity": 1, "cost_per_unit": "-0.01"}, "products[0].cost_per_unit"),
        ({"quantity": 1, "cost_per_unit": "NaN"}, "products[0].cost_per_unit"),
        ({"quantity": 1, "cost_per_unit": "1.23456"}, "products[0].cost_per_unit"),
        ({"quantity": 1, "colour": "red"}, "products[0].colour"),
    ],
)
async def test_bad_lines_are_rejected(
    client: httpx.AsyncClient, db: Database, line: dict[str, Any], field: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post_initial_stock(
        client, brand.admin.headers, {"products": [{"product_id": str(product), **line}]}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


@pytest.mark.parametrize("count", [0, 501])
async def test_a_request_carries_between_1_and_500_products(
    client: httpx.AsyncClient, db: Database, count: int
) -> None:
    brand = await create_brand_with_admin(db)

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {"products": [{"product_id": str(uuid.uuid4()), "quantity": 1} for _ in range(count)]},
    )

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["products"]


async def test_a_costed_line_moves_the_average_cost_over_the_brands_stock(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand, cost_per_unit="2")
    await put_stock(brand, product, 3, site_id=warehouse)

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {"products": [{"product_id": str(product), "quantity": 1, "cost_per_unit": 3}]},
    )

    assert response.status_code == 201, response.text
    # (3 held × 2.00 + 1 new × 3.00) / 4 units
    assert await product_cost(client, brand, product) == Decimal("2.25")


async def test_with_no_stock_held_the_new_cost_becomes_the_average(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    stocked, empty = (
        await create_product(brand, cost_per_unit="9.99"),
        await create_product(brand, cost_per_unit="9.99"),
    )

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {
            "products": [
                {"product_id": str(stocked), "quantity": 10, "cost_per_unit": "4.3333"},
                {"product_id": str(empty), "quantity": 0, "cost_per_unit": "1.5"},
            ]
        },
    )

    assert response.status_code == 201, response.text
    assert await product_cost(client, brand, stocked) == Decimal("4.3333")
    assert await product_cost(client, brand, empty) == Decimal("1.5")


async def test_a_line_without_a_cost_leaves_the_average_cost_alone(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, cost_per_unit="2.5")

    response = await post_initial_stock(
        client, brand.admin.headers, {"products": [{"product_id": str(product), "quantity": 8}]}
    )

    assert response.status_code == 201, response.text
    assert await product_cost(client, brand, product) == Decimal("2.5")


async def test_a_refused_request_leaves_the_average_cost_alone(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    fresh = await create_product(brand, cost_per_unit="2")
    started = await create_product(brand)
    await put_stock(brand, started, 1)

    response = await post_initial_stock(
        client,
        brand.admin.headers,
        {
            "products": [
                {"product_id": str(fresh), "quantity": 5, "cost_per_unit": "8"},
                {"product_id": str(started), "quantity": 5},
            ]
        },
    )

    assert response.status_code == 422
    assert await product_cost(client, brand, fresh) == Decimal("2")


async def test_two_requests_for_the_same_product_and_site_at_once_let_only_one_through(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    responses = await asyncio.gather(
        *(
            post_initial_stock(
                client,
                brand.admin.headers,
                {"products": [{"product_id": str(product), "quantity": 10 + i}]},
            )
            for i in range(5)
        )
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 422, 422, 422, 422], [r.text for r in responses]
    refusals = {r.json()["error"]["code"] for r in responses if r.status_code == 422}
    assert refusals == {"already_initialized"}
    winner = next(r for r in responses if r.status_code == 201)
    assert (
        await on_hand(client, brand, product, brand.site_id)
        == (winner.json()["data"][0]["quantity"])
    )


async def test_viewer_cannot_set_initial_stock(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    viewer = await create_caller(
        brand, Role.viewer, site_ids=[brand.site_id], default_site_id=brand.site_id
    )

    response = await post_initial_stock(
        client, viewer.headers, {"products": [{"product_id": str(product), "quantity": 1}]}
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_manager_of_another_site_is_forbidden(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    product = await create_product(brand)
    manager = await create_caller(brand, Role.manager, site_ids=[warehouse])

    response = await post_initial_stock(
        client,
        manager.headers,
        {"site_id": str(brand.site_id), "products": [{"product_id": str(product), "quantity": 1}]},
    )

    assert response.status_code == 403
    assert await on_hand(client, brand, product, brand.site_id) == 0


async def test_another_brands_product_or_site_is_rejected(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    ours, theirs = await create_product(brand), await create_product(other)

    foreign_product = await post_initial_stock(
        client, brand.admin.headers, {"products": [{"product_id": str(theirs), "quantity": 1}]}
    )
    foreign_site = await post_initial_stock(
        client,
        brand.admin.headers,
        {"site_id": str(other.site_id), "products": [{"product_id": str(ours), "quantity": 1}]},
    )

    assert foreign_product.status_code == 422
    assert [d["field"] for d in foreign_product.json()["error"]["details"]] == [
        "products[0].product_id"
    ]
    assert foreign_site.status_code == 422
    assert [d["field"] for d in foreign_site.json()["error"]["details"]] == ["site_id"]
    assert await on_hand(client, other, theirs, other.site_id) == 0
