"""Release (whole or part), extend, read and list reservations; closed ones stay closed."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from stockroom.auth.principal import Role
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    create_site,
    put_stock,
)
from tests.reservations.conftest import Clock
from tests.reservations.helpers import assert_ledger_sound, error_code, level, line, reserve


async def test_releasing_everything_gives_the_units_back_and_closes_the_reservation(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    reservation = (await reserve(client, brand, [line(product, 6)])).json()

    released = await client.post(
        f"/inventory/reservations/{reservation['id']}/release", headers=brand.admin.headers
    )

    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["lines"][0]["remaining"] == 0
    assert (await level(client, brand, product))["available"] == 10
    again = await client.post(
        f"/inventory/reservations/{reservation['id']}/release", headers=brand.admin.headers
    )
    extend = await client.post(
        f"/inventory/reservations/{reservation['id']}/extend",
        headers=brand.admin.headers,
        json={"ttl_seconds": 600},
    )
    assert error_code(again) == "reservation_closed"
    assert error_code(extend) == "reservation_closed"
    await assert_ledger_sound(db)


async def test_releasing_part_keeps_the_rest_held(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    tea, cup = await create_product(brand), await create_product(brand)
    await put_stock(brand, tea, 10)
    await put_stock(brand, cup, 10)
    reservation = (await reserve(client, brand, [line(tea, 5), line(cup, 2)])).json()
    url = f"/inventory/reservations/{reservation['id']}/release"

    part = await client.post(url, headers=brand.admin.headers, json={"lines": [line(tea, 3)]})
    too_much = await client.post(
        url, headers=brand.admin.headers, json={"lines": [line(tea, 3), line(cup, 2)]}
    )
    not_held = await client.post(
        url, headers=brand.admin.headers, json={"lines": [line(await create_product(brand), 1)]}
    )
    zero = await client.post(url, headers=brand.admin.headers, json={"lines": [line(tea, 0)]})

    assert part.status_code == 200, part.text
    assert part.json()["status"] == "active"
    assert [x["remaining"] for x in part.json()["lines"]] == [2, 2]
    assert error_code(too_much) == "validation_error"
    assert [d["field"] for d in too_much.json()["error"]["details"]] == ["lines[0].quantity"]
    assert error_code(not_held) == "validation_error"
    assert error_code(zero) == "validation_error"
    assert (await level(client, brand, tea))["reserved"] == 2
    assert (await level(client, brand, cup))["reserved"] == 2
    rest = await client.post(
        url, headers=brand.admin.headers, json={"lines": [line(tea, 2), line(cup, 2)]}
    )
    assert rest.json()["status"] == "released"
    await assert_ledger_sound(db)


async def test_extend_moves_the_expiry(
    client: httpx.AsyncClient, db: Database, frozen_clock: Clock
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 10)
    reservation = (await reserve(client, brand, [line(product, 4)], ttl_seconds=60)).json()
    url = f"/inventory/reservations/{reservation['id']}/extend"

    by_ttl = await client.post(url, headers=brand.admin.headers, json={"ttl_seconds": 3600})
    target = frozen_clock.now + timedelta(days=2)
    by_instant = await client.post(
        url, headers=brand.admin.headers, json={"expires_at": target.isoformat()}
    )
    bad = [
        await client.post(url, headers=brand.admin.headers, json=body)
        for body in (
            {},
            {"ttl_seconds": 59},
            {"ttl_seconds": 30 * 86400 + 1},
            {"expires_at": (frozen_clock.now - timedelta(hours=1)).isoformat()},
        )
    ]

    assert by_ttl.status_code == 200, by_ttl.text
    assert datetime.fromisoformat(by_ttl.json()["expires_at"]) == frozen_clock.now + timedelta(
        hours=1
    )
    assert datetime.fromisoformat(by_instant.json()["expires_at"]) == target
    assert [error_code(r) for r in bad] == ["validation_error"] * 4
    # Past the first expiry it still holds: the extension moved it.
    frozen_clock.advance(hours=2)
    assert (await level(client, brand, product))["reserved"] == 4


async def test_unknown_and_foreign_reservations_are_not_found(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand, other = await create_brand_with_admin(db), await create_brand_with_admin(db)
    theirs = await create_product(other)
    await put_stock(other, theirs, 5)
    foreign = (await reserve(client, other, [line(theirs, 1)])).json()["id"]

    for reservation_id in (foreign, "00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        base = f"/inventory/reservations/{reservation_id}"
        h = brand.admin.headers
        for response in (
            await client.get(base, headers=h),
            await client.post(f"{base}/release", headers=h),
            await client.post(f"{base}/extend", headers=h, json={"ttl_seconds": 600}),
        ):
            assert response.status_code == 404, response.text
            assert error_code(response) == "not_found"
    assert (await level(client, other, theirs))["reserved"] == 1


async def test_a_viewer_reads_but_cannot_release(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    reservation = (await reserve(client, brand, [line(product, 2)])).json()

    read = await client.get(f"/inventory/reservations/{reservation['id']}", headers=viewer.headers)
    release = await client.post(
        f"/inventory/reservations/{reservation['id']}/release", headers=viewer.headers
    )
    create = await reserve(
        client, brand, [line(product, 1)], headers=viewer.headers, site_id=str(brand.site_id)
    )

    assert read.status_code == 200
    assert release.status_code == 403
    assert create.status_code == 403
    assert (await level(client, brand, product))["reserved"] == 2


async def test_the_list_filters_by_site_status_reference_and_product(
    client: httpx.AsyncClient, db: Database, frozen_clock: Clock
) -> None:
    brand = await create_brand_with_admin(db)
    warehouse = await create_site(brand, name="Warehouse")
    tea, cup = await create_product(brand), await create_product(brand)
    for site in (brand.site_id, warehouse):
        await put_stock(brand, tea, 10, site_id=site)
        await put_stock(brand, cup, 10, site_id=site)
    a = (await reserve(client, brand, [line(tea, 1)], reference="SO-1")).json()
    b = (await reserve(client, brand, [line(cup, 1)], reference="SO-2", ttl_seconds=60)).json()
    c = (await reserve(client, brand, [line(tea, 1), line(cup, 1)], site_id=str(warehouse))).json()
    await client.post(f"/inventory/reservations/{c['id']}/release", headers=brand.admin.headers)
    frozen_clock.advance(seconds=60)  # b expires now, unswept

    async def ids(**params: str) -> list[str]:
        response = await client.get(
            "/inventory/reservations", headers=brand.admin.headers, params=params
        )
        assert response.status_code == 200, response.text
        return sorted(r["id"] for r in response.json()["data"])

    assert await ids() == sorted([a["id"], b["id"], c["id"]])
    assert await ids(site_id=str(warehouse)) == [c["id"]]
    assert await ids(status="active") == [a["id"]]
    assert await ids(status="expired") == [b["id"]]
    assert await ids(status="released") == [c["id"]]
    assert await ids(reference="SO-2") == [b["id"]]
    assert await ids(product_id=str(cup)) == sorted([b["id"], c["id"]])
    paged = await client.get(
        "/inventory/reservations", headers=brand.admin.headers, params={"per_page": 2}
    )
    assert paged.json()["meta"] == {"page": 1, "per_page": 2, "total": 3, "total_pages": 2}
    bad = await client.get(
        "/inventory/reservations", headers=brand.admin.headers, params={"status": "nope"}
    )
    assert error_code(bad) == "validation_error"
