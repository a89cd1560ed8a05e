"""POST /inventory/adjustments refuses bad input with 422 and says which field is wrong."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.errors.shape import detail_fields, error_of
from tests.factories import (
    Brand,
    Database,
    create_brand_with_admin,
    create_location,
    create_product,
    create_site,
)


async def post(client: httpx.AsyncClient, brand: Brand, body: Any) -> httpx.Response:
    return await client.post("/inventory/adjustments", headers=brand.admin.headers, json=body)


async def adjustments_written(client: httpx.AsyncClient, brand: Brand) -> int:
    listed = await client.get("/inventory/adjustments", headers=brand.admin.headers)
    assert listed.status_code == 200, listed.text
    return int(listed.json()["meta"]["total"])


async def test_another_brands_product_is_a_validation_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    theirs = await create_product(other)

    response = await post(client, brand, {"product_id": str(theirs), "quantity": 1})

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["product_id"]
    assert await adjustments_written(client, other) == 0


async def test_unknown_product_is_a_validation_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    response = await post(client, brand, {"product_id": str(uuid.uuid4()), "quantity": 1})

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["product_id"]


@pytest.mark.parametrize(
    "quantity",
    [
        pytest.param(0, id="zero"),
        pytest.param("5", id="string"),
        pytest.param(5.5, id="fraction"),
        pytest.param(5.0, id="float"),
        pytest.param(True, id="boolean"),
        pytest.param(None, id="null"),
        pytest.param([5], id="list"),
        pytest.param(10**30, id="huge"),
    ],
)
async def test_quantity_must_be_a_non_zero_json_integer(
    client: httpx.AsyncClient, db: Database, quantity: Any
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post(client, brand, {"product_id": str(product), "quantity": quantity})

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["quantity"]
    assert await adjustments_written(client, brand) == 0


@pytest.mark.parametrize("missing", ["product_id", "quantity"])
async def test_required_field_missing_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, missing: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    body = {"product_id": str(product), "quantity": 1}
    del body[missing]

    response = await post(client, brand, body)

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == [missing]


async def test_malformed_product_id_is_a_validation_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    response = await post(client, brand, {"product_id": "widget", "quantity": 1})

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["product_id"]


async def test_unknown_extra_field_is_a_validation_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 1, "unit_price": "9.99"}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["unit_price"]


@pytest.mark.parametrize(("field", "limit"), [("reason_code", 64), ("reason_description", 1000)])
async def test_reason_text_longer_than_its_limit_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, field: str, limit: int
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    too_long = await post(
        client, brand, {"product_id": str(product), "quantity": 1, field: "x" * (limit + 1)}
    )
    at_limit = await post(
        client, brand, {"product_id": str(product), "quantity": 1, field: "x" * limit}
    )

    error = error_of(too_long, 422, "validation_error")
    assert detail_fields(error) == [field]
    assert at_limit.status_code == 201, at_limit.text
    assert at_limit.json()[field] == "x" * limit


async def test_location_aware_product_needs_a_location(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)

    response = await post(client, brand, {"product_id": str(product), "quantity": 1})

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["location_id"]


async def test_location_aware_product_is_adjusted_at_a_location_of_the_site(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)
    location = await create_location(brand, brand.site_id)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 2, "location_id": location}
    )

    assert response.status_code == 201, response.text
    assert response.json()["location_id"] == location


async def test_location_of_another_site_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    elsewhere = await create_site(brand)
    product = await create_product(brand, location_aware=True)
    location = await create_location(brand, elsewhere)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 1, "location_id": location}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["location_id"]
    assert await adjustments_written(client, brand) == 0


async def test_location_of_another_brand_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    other = await create_brand_with_admin(db, name="Other brand")
    product = await create_product(brand, location_aware=True)
    theirs = await create_location(other, other.site_id)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 1, "location_id": theirs}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["location_id"]


@pytest.mark.parametrize("location_id", [0, -1, 2**31, 10**30])
async def test_location_id_that_cannot_exist_is_refused(
    client: httpx.AsyncClient, db: Database, location_id: int
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 1, "location_id": location_id}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["location_id"]


async def test_location_for_a_product_that_is_not_location_aware_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=False)
    location = await create_location(brand, brand.site_id)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 1, "location_id": location}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["location_id"]


@pytest.mark.parametrize("location_id", ["1", 1.5, True])
async def test_location_id_must_be_a_json_integer(
    client: httpx.AsyncClient, db: Database, location_id: Any
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand, location_aware=True)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 1, "location_id": location_id}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["location_id"]


@pytest.mark.parametrize(
    "content", [b"{bad", b"", b'{"product_id": ', b"\xff\xfe", b"[" * 5000 + b"]" * 5000]
)
async def test_unreadable_json_body_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, content: bytes
) -> None:
    brand = await create_brand_with_admin(db)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers | {"Content-Type": "application/json"},
        content=content,
    )

    error_of(response, 422, "validation_error")


@pytest.mark.parametrize("body", [[], "text", 42, None, [{"quantity": 1}]])
async def test_body_that_is_not_an_object_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, body: Any
) -> None:
    brand = await create_brand_with_admin(db)

    response = await post(client, brand, body)

    error_of(response, 422, "validation_error")


@pytest.mark.parametrize("field", ["reason_code", "reason_description"])
async def test_text_with_a_nul_character_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, field: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 1, field: "bad\x00text"}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == [field]


async def test_several_problems_are_reported_together(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)

    response = await post(
        client, brand, {"product_id": "nope", "quantity": "5", "reason_code": "x" * 65}
    )

    error = error_of(response, 422, "validation_error")
    assert sorted(detail_fields(error)) == ["product_id", "quantity", "reason_code"]


async def test_text_with_a_lone_surrogate_is_a_validation_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    # Built by hand: a JSON encoder would refuse to write the lone surrogate escape.
    raw = '{"product_id": "' + str(product) + '", "quantity": 1, "reason_code": "bad \\ud800"}'

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers | {"Content-Type": "application/json"},
        content=raw.encode(),
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["reason_code"]


@pytest.mark.parametrize("expected", [2**63, -(2**63) - 1, 10**30, "5", 5.0, True])
async def test_expected_on_hand_must_be_a_storable_json_integer(
    client: httpx.AsyncClient, db: Database, expected: Any
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)

    response = await post(
        client, brand, {"product_id": str(product), "quantity": 1, "expected_on_hand": expected}
    )

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == ["expected_on_hand"]
