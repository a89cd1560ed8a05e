"""Retries of create, release and extend with one Idempotency-Key write once."""

from __future__ import annotations

import httpx

from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.reservations.helpers import level, line


async def test_retried_create_release_and_extend_each_write_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)

    def headers(key: str) -> dict[str, str]:
        return brand.admin.headers | {"Idempotency-Key": key}

    body = {"lines": [line(product, 3)], "reference": "SO-9"}
    first = await client.post("/inventory/reservations", headers=headers("create-1"), json=body)
    retry = await client.post("/inventory/reservations", headers=headers("create-1"), json=body)

    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert (await level(client, brand, product))["reserved"] == 3
    listed = await client.get(
        "/inventory/reservations", headers=brand.admin.headers, params={"reference": "SO-9"}
    )
    assert listed.json()["meta"]["total"] == 1

    url = f"/inventory/reservations/{first.json()['id']}"
    part = {"lines": [line(product, 1)]}
    released = [
        await client.post(f"{url}/release", headers=headers("release-1"), json=part)
        for _ in range(3)
    ]
    assert {r.status_code for r in released} == {200}
    assert released[0].json() == released[2].json()
    assert (await level(client, brand, product))["reserved"] == 2

    extended = [
        await client.post(f"{url}/extend", headers=headers("extend-1"), json={"ttl_seconds": 7200})
        for _ in range(2)
    ]
    assert extended[0].json() == extended[1].json()
    assert extended[0].json()["expires_at"] == extended[1].json()["expires_at"]
    other = await client.post(
        f"{url}/release", headers=headers("release-1"), json={"lines": [line(product, 2)]}
    )
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert (await level(client, brand, product))["reserved"] == 2
