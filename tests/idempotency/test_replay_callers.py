"""A stored Idempotency-Key answer is replayed only to the request that made it.

The caller (its user), the site it names outside the body (`X-Site-Id`, query `site_id`)
and its default site are part of what makes two requests the same: anyone else, or the
same caller naming another site, gets 422 `idempotency_conflict` and never the stored body.
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from stockroom.auth.principal import Role
from stockroom.db.models import StockMovement
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
)


async def movements_at(db: Database, brand: Brand, site: uuid.UUID) -> int:
    async with db.sessionmaker() as session:
        count = await session.execute(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.brand_id == brand.id, StockMovement.site_id == site)
        )
        return int(count.scalar_one())


async def test_a_viewer_or_manager_without_access_never_gets_the_admins_stored_answer(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    hidden = await create_site(brand, name="Hidden")
    product = await create_product(brand)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    manager = await create_caller(
        brand, Role.manager, site_ids=[brand.site_id], default_site_id=brand.site_id
    )
    body = {"product_id": str(product), "quantity": 7, "site_id": str(hidden)}
    key = {"Idempotency-Key": "admin-key"}

    first = await client.post(
        "/inventory/adjustments", headers={**brand.admin.headers, **key}, json=body
    )
    assert first.status_code == 201, first.text

    for caller in (viewer, manager):
        again = await client.post(
            "/inventory/adjustments", headers={**caller.headers, **key}, json=body
        )
        assert again.status_code == 422, again.text
        assert again.json()["error"]["code"] == "idempotency_conflict"
        assert first.json()["id"] not in again.text
        assert "idempotent-replayed" not in again.headers
    assert await movements_at(db, brand, hidden) == 1


async def test_another_admin_of_the_brand_does_not_get_the_stored_answer(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    other_admin = await create_caller(brand, Role.admin, default_site_id=brand.site_id)
    body = {"product_id": str(product), "quantity": 2}
    key = {"Idempotency-Key": "shared"}

    first = await client.post(
        "/inventory/adjustments", headers={**brand.admin.headers, **key}, json=body
    )
    second = await client.post(
        "/inventory/adjustments", headers={**other_admin.headers, **key}, json=body
    )

    assert first.status_code == 201
    assert second.status_code == 422
    assert second.json()["error"]["code"] == "idempotency_conflict"


async def test_changing_only_the_site_header_does_not_replay_the_other_sites_answer(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    second_site = await create_site(brand, name="Second")
    product = await create_product(brand)
    body = {"product_id": str(product), "quantity": 3}

    def send(site: uuid.UUID) -> httpx.Response:
        return client.post(  # type: ignore[return-value]
            "/inventory/adjustments",
            headers={**brand.admin.headers, "Idempotency-Key": "k", "X-Site-Id": str(site)},
            json=body,
        )

    first = await send(brand.site_id)
    other = await send(second_site)
    same = await send(brand.site_id)

    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert same.status_code == 201
    assert same.headers.get("idempotent-replayed") == "true"
    assert same.json() == first.json()
    assert await movements_at(db, brand, second_site) == 0
    assert await movements_at(db, brand, brand.site_id) == 1


async def test_changing_only_the_query_site_does_not_replay_the_other_sites_answer(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    second_site = await create_site(brand, name="Second")
    product = await create_product(brand)
    headers = {**brand.admin.headers, "Idempotency-Key": "q"}
    body = {"product_id": str(product), "quantity": 3}

    first = await client.post(
        "/inventory/adjustments", headers=headers, params={"site_id": str(brand.site_id)}, json=body
    )
    other = await client.post(
        "/inventory/adjustments", headers=headers, params={"site_id": str(second_site)}, json=body
    )

    assert first.status_code == 201
    assert first.json()["site_id"] == str(brand.site_id)
    assert other.status_code == 422
    assert await movements_at(db, brand, second_site) == 0


async def test_a_manager_still_gets_its_own_replay(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    manager = await create_caller(
        brand, Role.manager, site_ids=[brand.site_id], default_site_id=brand.site_id
    )
    headers = {**manager.headers, "Idempotency-Key": "mine"}
    body = {"product_id": str(product), "quantity": 1}

    first = await client.post("/inventory/adjustments", headers=headers, json=body)
    again = await client.post("/inventory/adjustments", headers=headers, json=body)

    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
