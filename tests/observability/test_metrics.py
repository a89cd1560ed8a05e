"""`/metrics`: request counts and latencies per route, movements written, refusals."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stockroom.ledger import MovementDraft, post_movements
from tests.factories import Database, create_brand_with_admin, create_product, put_stock


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_request_counts_grow_per_route_template_and_status(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    route = {"method": "GET", "route": "/sites/{site_id}"}
    before = await scrape(client)

    for _ in range(3):
        await client.get(f"/sites/{brand.site_id}", headers=brand.admin.headers)
    await client.get(f"/sites/{brand.site_id}")  # no token: 401
    after = await scrape(client)

    ok = {**route, "status": "200"}
    assert (
        value(after, "stockroom_http_requests_total", **ok)
        - value(before, "stockroom_http_requests_total", **ok)
        == 3
    )
    refused = {**route, "status": "401"}
    assert (
        value(after, "stockroom_http_requests_total", **refused)
        - value(before, "stockroom_http_requests_total", **refused)
        == 1
    )
    latencies = "stockroom_http_request_duration_seconds_count"
    assert value(after, latencies, **ok) - value(before, latencies, **ok) == 3
    assert value(after, "stockroom_http_request_duration_seconds_bucket", **ok, le="+Inf") >= 3


async def test_paths_that_match_no_route_share_one_label(client: httpx.AsyncClient) -> None:
    await client.get("/random/path/one")
    await client.get("/random/path/two")

    samples = await scrape(client)

    routes = {dict(labels).get("route") for (name, labels) in samples if "http" in name}
    assert "<unmatched>" in routes
    assert not any(r and r.startswith("/random") for r in routes)


async def test_the_movements_counter_grows_by_the_movements_written_per_type(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    products = [await create_product(brand) for _ in range(3)]
    before = await scrape(client)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={
            "reason": "found",
            "products": [{"product_id": str(p), "quantity": 2} for p in products],
        },
    )
    after = await scrape(client)

    assert response.status_code == 201, response.text
    written = "stockroom_movements_written_total"
    assert value(after, written, type="adjustment") - value(before, written, type="adjustment") == 3
    assert value(after, written, type="sale") == value(before, written, type="sale")


async def test_an_insufficient_stock_refusal_is_counted_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 1)
    before = await scrape(client)

    response = await client.post(
        "/inventory/adjustments",
        headers=brand.admin.headers,
        json={"product_id": str(product), "quantity": -5},
    )
    after = await scrape(client)

    assert response.json()["error"]["code"] == "insufficient_stock"
    refusals = "stockroom_insufficient_stock_refusals_total"
    assert value(after, refusals) - value(before, refusals) == 1
    written = "stockroom_movements_written_total"
    assert value(after, written, type="adjustment") == value(before, written, type="adjustment")


async def test_movements_rolled_back_are_not_counted(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    before = await scrape(client)

    async with db.sessionmaker() as session:
        await post_movements(
            session,
            brand.id,
            [MovementDraft(type="purchase", product_id=product, site_id=brand.site_id, quantity=4)],
            user_id=None,
        )
        await session.rollback()
    after = await scrape(client)

    written = "stockroom_movements_written_total"
    assert value(after, written, type="purchase") == value(before, written, type="purchase")
