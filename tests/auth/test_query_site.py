"""`site_id` / `workspace_id` in the query string of a write names its current site.

API.md, "Auth and scope": the current site is the `site_id` of the body *or query*, then
`X-Site-Id`, then the user's default. Each route that writes at a current site is checked:
the write lands at the site the query names (not the default), a manager without access
to that site gets 403 and nothing is written, and a body and a query naming two different
sites is a 422 that writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from stockroom.auth.principal import Role
from stockroom.db.models import StockMovement
from tests.factories import (
    Brand,
    Caller,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
    put_stock,
)


@dataclass
class Setting:
    brand: Brand
    home: uuid.UUID  # everyone's default site
    other: uuid.UUID  # the site the query names
    third: uuid.UUID  # a transfer's destination
    product: uuid.UUID
    fresh: uuid.UUID  # never stocked: for initial stock
    manager: Caller  # granted `home` only


@dataclass(frozen=True)
class Route:
    path: str
    body: Callable[[Setting], dict[str, Any]]
    # Where the answer says the stock changed.
    written_at: Callable[[dict[str, Any]], str]


def line(s: Setting) -> dict[str, Any]:
    return {"product_id": str(s.product), "quantity": 1}


ROUTES = {
    "adjustment": Route(
        "/inventory/adjustments",
        lambda s: line(s),
        lambda r: str(r["site_id"]),
    ),
    "adjustment batch": Route(
        "/inventory/adjustments",
        lambda s: {"products": [line(s)], "reason": "found"},
        lambda r: str(r["data"][0]["site_id"]),
    ),
    "invoice": Route(
        "/invoices",
        lambda s: {"lines": [{**line(s), "unit_price": "2"}]},
        lambda r: str(r["site_id"]),
    ),
    "purchase": Route(
        "/purchases",
        lambda s: {"lines": [{**line(s), "cost_per_unit": "1.5"}]},
        lambda r: str(r["site_id"]),
    ),
    "transfer": Route(
        "/inventory/transfers",
        lambda s: {**line(s), "destination_site_id": str(s.third)},
        lambda r: str(r["transfer_out"]["site_id"]),
    ),
    "initial stock": Route(
        "/inventory/initial-stock",
        lambda s: {"products": [{"product_id": str(s.fresh), "quantity": 5}]},
        lambda r: str(r["data"][0]["site_id"]),
    ),
}


@pytest.fixture
async def setting(db: Database) -> Setting:
    brand = await create_brand_with_admin(db)
    other = await create_site(brand, name="Other")
    third = await create_site(brand, name="Third")
    product = await create_product(brand)
    for site in (brand.site_id, other):
        await put_stock(brand, product, 20, site_id=site)
    manager = await create_caller(
        brand, Role.manager, site_ids=[brand.site_id], default_site_id=brand.site_id
    )
    return Setting(
        brand, brand.site_id, other, third, product, await create_product(brand), manager
    )


async def movements(db: Database, brand: Brand) -> int:
    async with db.sessionmaker() as session:
        count = await session.execute(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.brand_id == brand.id)
        )
        return int(count.scalar_one())


@pytest.mark.parametrize("alias", ["site_id", "workspace_id"])
@pytest.mark.parametrize("name", sorted(ROUTES))
async def test_the_query_names_the_site_a_write_lands_at(
    client: httpx.AsyncClient, setting: Setting, name: str, alias: str
) -> None:
    route = ROUTES[name]
    s = setting

    response = await client.post(
        route.path,
        headers=s.brand.admin.headers,
        params={alias: str(s.other)},
        json=route.body(s),
    )

    assert response.status_code == 201, response.text
    assert route.written_at(response.json()) == str(s.other)


@pytest.mark.parametrize("name", sorted(ROUTES))
async def test_a_manager_naming_a_site_it_may_not_write_in_the_query_gets_403(
    client: httpx.AsyncClient, db: Database, setting: Setting, name: str
) -> None:
    route = ROUTES[name]
    s = setting
    before = await movements(db, s.brand)

    response = await client.post(
        route.path, headers=s.manager.headers, params={"site_id": str(s.other)}, json=route.body(s)
    )

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    assert await movements(db, s.brand) == before


@pytest.mark.parametrize("name", sorted(ROUTES))
async def test_the_query_wins_over_the_site_header(
    client: httpx.AsyncClient, setting: Setting, name: str
) -> None:
    route = ROUTES[name]
    s = setting

    response = await client.post(
        route.path,
        headers={**s.brand.admin.headers, "X-Site-Id": str(s.home)},
        params={"site_id": str(s.other)},
        json=route.body(s),
    )

    assert response.status_code == 201, response.text
    assert route.written_at(response.json()) == str(s.other)


@pytest.mark.parametrize("name", sorted(ROUTES))
async def test_body_and_query_naming_two_sites_is_a_422_that_writes_nothing(
    client: httpx.AsyncClient, db: Database, setting: Setting, name: str
) -> None:
    route = ROUTES[name]
    s = setting
    before = await movements(db, s.brand)

    response = await client.post(
        route.path,
        headers=s.brand.admin.headers,
        params={"site_id": str(s.other)},
        json={**route.body(s), "site_id": str(s.home)},
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["site_id"]
    assert await movements(db, s.brand) == before


async def test_body_and_query_naming_the_same_site_is_fine(
    client: httpx.AsyncClient, setting: Setting
) -> None:
    s = setting
    response = await client.post(
        "/inventory/adjustments",
        headers=s.brand.admin.headers,
        params={"workspace_id": str(s.other)},
        json={**line(s), "site_id": str(s.other)},
    )
    assert response.status_code == 201, response.text
    assert response.json()["site_id"] == str(s.other)


async def test_site_id_and_workspace_id_naming_two_sites_is_a_422(
    client: httpx.AsyncClient, setting: Setting
) -> None:
    s = setting
    response = await client.get(
        "/inventory/low-stock",
        headers=s.brand.admin.headers,
        params={"site_id": str(s.home), "workspace_id": str(s.other)},
    )
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == ["workspace_id"]
