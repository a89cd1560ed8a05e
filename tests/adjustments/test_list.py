"""GET /inventory/adjustments: the page/per_page envelope and its limits."""

from __future__ import annotations

import httpx
import pytest

from tests.errors.shape import detail_fields, error_of
from tests.factories import Brand, Database, create_brand_with_admin, create_product


async def make_adjustments(client: httpx.AsyncClient, brand: Brand, count: int) -> list[str]:
    """`count` adjustments, oldest first; returns their ids."""
    product = await create_product(brand)
    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={
            "products": [{"product_id": str(product), "quantity": 1}],
            "reason": "found",
        },
    )
    assert response.status_code == 201, response.text
    ids = [response.json()["data"][0]["id"]]
    for quantity in range(2, count + 1):
        single = await client.post(
            "/inventory/adjustments",
            headers=brand.admin.headers,
            json={"product_id": str(product), "quantity": quantity},
        )
        assert single.status_code == 201, single.text
        ids.append(single.json()["id"])
    return ids


async def list_page(client: httpx.AsyncClient, brand: Brand, **params: object) -> httpx.Response:
    return await client.get(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        params={k: str(v) for k, v in params.items()},
    )


async def test_pages_walk_every_adjustment_newest_first_with_correct_totals(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    made = await make_adjustments(client, brand, 5)

    pages = [await list_page(client, brand, page=n, per_page=2) for n in (1, 2, 3, 4)]

    for number, page in enumerate(pages, start=1):
        assert page.status_code == 200, page.text
        assert page.json()["meta"] == {"page": number, "per_page": 2, "total": 5, "total_pages": 3}
    walked = [m["id"] for page in pages for m in page.json()["data"]]
    assert [len(page.json()["data"]) for page in pages] == [2, 2, 1, 0]
    assert walked == list(reversed(made))


async def test_defaults_are_page_1_of_25(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    await make_adjustments(client, brand, 27)

    response = await list_page(client, brand)

    assert response.status_code == 200, response.text
    assert response.json()["meta"] == {"page": 1, "per_page": 25, "total": 27, "total_pages": 2}
    assert len(response.json()["data"]) == 25


@pytest.mark.parametrize("per_page", [1, 100])
async def test_per_page_at_its_limits_is_accepted(
    client: httpx.AsyncClient, db: Database, per_page: int
) -> None:
    brand = await create_brand_with_admin(db)
    await make_adjustments(client, brand, 3)

    response = await list_page(client, brand, per_page=per_page)

    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == min(per_page, 3)
    assert response.json()["meta"]["total_pages"] == -(-3 // per_page)


async def test_empty_listing_has_zero_pages(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)

    response = await list_page(client, brand)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": [],
        "meta": {"page": 1, "per_page": 25, "total": 0, "total_pages": 0},
    }


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("per_page", 0),
        ("per_page", 101),
        ("per_page", -1),
        ("per_page", "ten"),
        ("page", 0),
        ("page", -3),
        ("page", "first"),
        ("page", 1.5),
    ],
)
async def test_paging_out_of_range_is_a_validation_error(
    client: httpx.AsyncClient, db: Database, param: str, value: object
) -> None:
    brand = await create_brand_with_admin(db)

    response = await list_page(client, brand, **{param: value})

    error = error_of(response, 422, "validation_error")
    assert detail_fields(error) == [param]


@pytest.mark.parametrize("page", [10**6, 2**62, 10**30])
async def test_page_far_beyond_the_end_is_empty_or_refused_never_a_failure(
    client: httpx.AsyncClient, db: Database, page: int
) -> None:
    brand = await create_brand_with_admin(db)
    await make_adjustments(client, brand, 1)

    response = await list_page(client, brand, page=page)

    if response.status_code == 200:
        assert response.json()["data"] == []
        assert response.json()["meta"]["total"] == 1
    else:
        error = error_of(response, 422, "validation_error")
        assert detail_fields(error) == ["page"]
