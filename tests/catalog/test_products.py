"""/products through HTTP, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from stockroom.auth.principal import Role
from tests.factories import (
    Database,
    create_brand_with_admin,
    create_caller,
    create_product,
    put_stock,
)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def error_fields(response: httpx.Response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


def skus(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [p["sku"] for p in response.json()["data"]]


async def test_admin_creates_a_product_and_reads_it_back(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    created = await client.post(
        "/products",
        headers=brand.admin.headers,
        json={
            "sku": "TEA-1",
            "name": "Earl Grey",
            "unit": "box",
            "min_stock": 4,
            "location_aware": True,
            "cost_per_unit": "12.50",
        },
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["sku"] == "TEA-1"
    assert body["name"] == "Earl Grey"
    assert body["unit"] == "box"
    assert body["min_stock"] == 4
    assert body["location_aware"] is True
    assert body["cost_per_unit"] == "12.5"
    assert body["archived"] is False
    assert body["created_at"].endswith("Z")
    assert body["updated_at"].endswith("Z")
    fetched = await client.get(f"/products/{body['id']}", headers=brand.admin.headers)
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_a_new_product_gets_defaults_for_the_optional_fields(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    created = await client.post(
        "/products", headers=brand.admin.headers, json={"sku": "S-1", "name": "Spoon"}
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["unit"], body["min_stock"], body["location_aware"]) == ("unit", 0, False)
    assert body["cost_per_unit"] == "0"


async def test_cost_per_unit_given_as_a_number_is_kept_exactly(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    created = await client.post(
        "/products",
        headers=brand.admin.headers,
        json={"sku": "S-2", "name": "Fork", "cost_per_unit": 0.1},
    )

    assert created.status_code == 201, created.text
    fetched = await client.get(f"/products/{created.json()['id']}", headers=brand.admin.headers)
    assert fetched.json()["cost_per_unit"] == "0.1"


async def test_a_sku_already_used_in_the_brand_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="DUP-1")

    response = await client.post(
        "/products", headers=brand.admin.headers, json={"sku": "DUP-1", "name": "Again"}
    )

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert error_fields(response) == {"sku"}
    listed = await client.get("/products", headers=brand.admin.headers, params={"sku": "DUP-1"})
    assert listed.json()["meta"]["total"] == 1


async def test_another_brand_may_use_the_same_sku(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    await create_product(other, sku="SHARED-1")

    response = await client.post(
        "/products", headers=brand.admin.headers, json={"sku": "SHARED-1", "name": "Mine"}
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sku": ""}, "sku"),
        ({"sku": "X" * 65}, "sku"),
        ({"name": ""}, "name"),
        ({"min_stock": -1}, "min_stock"),
        ({"min_stock": "5"}, "min_stock"),
        ({"min_stock": 2.5}, "min_stock"),
        ({"location_aware": "yes"}, "location_aware"),
        ({"cost_per_unit": "-0.01"}, "cost_per_unit"),
        ({"cost_per_unit": "NaN"}, "cost_per_unit"),
        ({"cost_per_unit": "1.23456"}, "cost_per_unit"),
        ({"cost_per_unit": "cheap"}, "cost_per_unit"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_product_with_invalid_fields_is_refused(
    client: httpx.AsyncClient, db: Database, change: dict[str, Any], field: str
) -> None:
    brand = await create_brand_with_admin(db)
    body = {"sku": "OK-1", "name": "Fine"} | change

    response = await client.post("/products", headers=brand.admin.headers, json=body)

    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    assert field in error_fields(response)
    listed = await client.get("/products", headers=brand.admin.headers)
    assert listed.json()["meta"]["total"] == 0


async def test_a_product_without_sku_or_name_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.post("/products", headers=brand.admin.headers, json={})

    assert response.status_code == 422
    assert error_fields(response) == {"sku", "name"}


async def test_products_are_listed_by_sku_one_page_at_a_time(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    for sku in ["C-3", "A-1", "B-2"]:
        await create_product(brand, sku=sku)

    first = await client.get("/products", headers=brand.admin.headers, params={"per_page": 2})
    second = await client.get(
        "/products", headers=brand.admin.headers, params={"per_page": 2, "page": 2}
    )

    assert skus(first) == ["A-1", "B-2"]
    assert first.json()["meta"] == {"page": 1, "per_page": 2, "total": 3, "total_pages": 2}
    assert skus(second) == ["C-3"]


async def test_q_matches_part_of_the_name_or_the_sku_in_any_case(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="TEA-1", name="Earl Grey")
    await create_product(brand, sku="CUP-1", name="Tea cup")
    await create_product(brand, sku="SPN-1", name="Spoon")

    response = await client.get("/products", headers=brand.admin.headers, params={"q": "tEa"})

    assert skus(response) == ["CUP-1", "TEA-1"]


async def test_q_treats_like_wildcards_as_plain_characters(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="P-1", name="100% cotton")
    await create_product(brand, sku="P-2", name="100 cotton")
    await create_product(brand, sku="U_1", name="Under")
    await create_product(brand, sku="UX1", name="Other")

    percent = await client.get("/products", headers=brand.admin.headers, params={"q": "0%"})
    underscore = await client.get("/products", headers=brand.admin.headers, params={"q": "u_"})

    assert skus(percent) == ["P-1"]
    assert skus(underscore) == ["U_1"]


async def test_sku_filter_matches_the_whole_sku_only(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="AB-1")
    await create_product(brand, sku="AB-10")

    response = await client.get("/products", headers=brand.admin.headers, params={"sku": "AB-1"})

    assert skus(response) == ["AB-1"]


@pytest.mark.parametrize("params", [{"per_page": 101}, {"per_page": 0}, {"page": 0}])
async def test_paging_out_of_range_is_refused(
    client: httpx.AsyncClient, db: Database, params: dict[str, int]
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.get("/products", headers=brand.admin.headers, params=params)

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert error_fields(response) == set(params)


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_managers_and_viewers_read_the_catalogue(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, sku="R-1")
    caller = await create_caller(brand, role, site_ids=[brand.site_id])

    listed = await client.get("/products", headers=caller.headers)
    fetched = await client.get(f"/products/{product}", headers=caller.headers)

    assert skus(listed) == ["R-1"]
    assert fetched.status_code == 200
    assert fetched.json()["id"] == str(product)


@pytest.mark.parametrize("role", [Role.manager, Role.viewer])
async def test_only_an_admin_may_create_change_or_archive_products(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, sku="KEEP-1", name="Kept")
    caller = await create_caller(brand, role, site_ids=[brand.site_id])

    created = await client.post(
        "/products", headers=caller.headers, json={"sku": "NEW-1", "name": "New"}
    )
    patched = await client.patch(
        f"/products/{product}", headers=caller.headers, json={"name": "Renamed"}
    )
    archived = await client.delete(f"/products/{product}", headers=caller.headers)

    for response in (created, patched, archived):
        assert response.status_code == 403, response.text
        assert error_code(response) == "forbidden"
    after = await client.get(f"/products/{product}", headers=brand.admin.headers)
    assert (after.json()["name"], after.json()["archived"]) == ("Kept", False)
    assert skus(await client.get("/products", headers=brand.admin.headers)) == ["KEEP-1"]


async def test_the_catalogue_needs_a_valid_token(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    missing = await client.get("/products")
    bogus = await client.get(
        f"/products/{product}", headers={"Authorization": "Bearer sr_not-a-real-token-at-all"}
    )
    create = await client.post("/products", json={"sku": "X-1", "name": "X"})

    for response in (missing, bogus, create):
        assert response.status_code == 401
        assert error_code(response) == "unauthenticated"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_another_brands_product_is_not_found(
    client: httpx.AsyncClient, db: Database, method: str
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    theirs = await create_product(other, name="Theirs")
    body = {"name": "Stolen"} if method == "PATCH" else None

    response = await client.request(
        method, f"/products/{theirs}", headers=brand.admin.headers, json=body
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    untouched = await client.get(f"/products/{theirs}", headers=other.admin.headers)
    assert (untouched.json()["name"], untouched.json()["archived"]) == ("Theirs", False)


@pytest.mark.parametrize(
    "product_id", ["not-a-uuid", "123", "5b0d8a5e-6f44-4c1e-9d3a-0c2b7e1f9a10"]
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_an_unknown_or_malformed_product_id_is_not_found(
    client: httpx.AsyncClient, db: Database, method: str, product_id: str
) -> None:
    brand = await create_brand_with_admin(db)
    body = {"name": "X"} if method == "PATCH" else None

    response = await client.request(
        method, f"/products/{product_id}", headers=brand.admin.headers, json=body
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"


async def test_brand_a_sees_nothing_of_brand_bs_catalogue(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db)
    await create_product(other, sku="SECRET-1", name="Secret sauce")
    await create_product(brand, sku="MINE-1", name="Mine")
    archived_theirs = await create_product(other, sku="SECRET-2")
    await client.delete(f"/products/{archived_theirs}", headers=other.admin.headers)

    everything = await client.get("/products", headers=brand.admin.headers)
    by_sku = await client.get("/products", headers=brand.admin.headers, params={"sku": "SECRET-1"})
    by_q = await client.get("/products", headers=brand.admin.headers, params={"q": "secret"})
    archived = await client.get(
        "/products", headers=brand.admin.headers, params={"archived": "true"}
    )

    assert skus(everything) == ["MINE-1"]
    assert skus(by_sku) == []
    assert skus(by_q) == []
    assert skus(archived) == []


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(
        brand, sku="P-1", name="Old", unit="box", min_stock=3, cost_per_unit="2.5"
    )
    before = (await client.get(f"/products/{product}", headers=brand.admin.headers)).json()

    response = await client.patch(
        f"/products/{product}",
        headers=brand.admin.headers,
        json={"name": "New", "min_stock": 10, "sku": "P-2"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["sku"], body["name"], body["min_stock"]) == ("P-2", "New", 10)
    assert (body["unit"], body["cost_per_unit"], body["location_aware"]) == ("box", "2.5", False)
    assert body["created_at"] == before["created_at"]
    assert body["updated_at"] > before["updated_at"]
    fetched = await client.get(f"/products/{product}", headers=brand.admin.headers)
    assert fetched.json() == body


async def test_patch_to_a_sku_used_by_another_product_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    await create_product(brand, sku="TAKEN-1")
    product = await create_product(brand, sku="MINE-1")

    taken = await client.patch(
        f"/products/{product}", headers=brand.admin.headers, json={"sku": "TAKEN-1"}
    )
    same = await client.patch(
        f"/products/{product}", headers=brand.admin.headers, json={"sku": "MINE-1"}
    )

    assert taken.status_code == 422
    assert error_fields(taken) == {"sku"}
    assert same.status_code == 200
    assert same.json()["sku"] == "MINE-1"


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"archived": None},
        {"min_stock": -1},
        {"cost_per_unit": "3"},
        {"brand_id": str(uuid.uuid4())},
    ],
)
async def test_patch_with_null_invalid_or_unknown_fields_is_refused(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any]
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, name="Same")

    response = await client.patch(f"/products/{product}", headers=brand.admin.headers, json=body)

    assert response.status_code == 422, response.text
    assert error_fields(response) == set(body)
    fetched = await client.get(f"/products/{product}", headers=brand.admin.headers)
    assert fetched.json()["name"] == "Same"


async def test_location_aware_cannot_change_once_the_product_has_movements(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    stocked = await create_product(brand)
    await put_stock(brand, stocked, 5)
    fresh = await create_product(brand)

    refused = await client.patch(
        f"/products/{stocked}", headers=brand.admin.headers, json={"location_aware": True}
    )
    allowed = await client.patch(
        f"/products/{fresh}", headers=brand.admin.headers, json={"location_aware": True}
    )

    assert refused.status_code == 422
    assert error_fields(refused) == {"location_aware"}
    after = await client.get(f"/products/{stocked}", headers=brand.admin.headers)
    assert after.json()["location_aware"] is False
    assert allowed.status_code == 200
    assert allowed.json()["location_aware"] is True


async def test_a_stocked_product_may_still_be_renamed_with_location_aware_unchanged(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)

    response = await client.patch(
        f"/products/{product}",
        headers=brand.admin.headers,
        json={"name": "Renamed", "location_aware": False},
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"


async def test_delete_archives_the_product_and_the_list_hides_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    gone = await create_product(brand, sku="GONE-1")
    await create_product(brand, sku="LIVE-1")

    deleted = await client.delete(f"/products/{gone}", headers=brand.admin.headers)

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["id"] == str(gone)
    assert deleted.json()["archived"] is True
    assert skus(await client.get("/products", headers=brand.admin.headers)) == ["LIVE-1"]
    archived = await client.get(
        "/products", headers=brand.admin.headers, params={"archived": "true"}
    )
    assert skus(archived) == ["GONE-1"]
    fetched = await client.get(f"/products/{gone}", headers=brand.admin.headers)
    assert fetched.status_code == 200
    assert fetched.json()["archived"] is True
    again = await client.delete(f"/products/{gone}", headers=brand.admin.headers)
    assert again.status_code == 200
    assert again.json()["archived"] is True


async def test_an_archived_product_comes_back_with_archived_false(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, sku="BACK-1")
    await client.delete(f"/products/{product}", headers=brand.admin.headers)

    restored = await client.patch(
        f"/products/{product}", headers=brand.admin.headers, json={"archived": False}
    )

    assert restored.status_code == 200
    assert restored.json()["archived"] is False
    assert skus(await client.get("/products", headers=brand.admin.headers)) == ["BACK-1"]
