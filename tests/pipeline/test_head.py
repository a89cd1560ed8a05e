"""Every GET route answers HEAD: the GET's status and headers, and no body (not 405)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.factories import Database, create_brand_with_admin, create_product


def get_paths(app: Any) -> list[str]:
    return sorted(p for p, ops in app.openapi()["paths"].items() if "get" in ops)


async def test_every_get_route_of_the_schema_answers_head_like_get(
    app: Any, client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    ids = {
        "product_id": str(product),
        "site_id": str(brand.site_id),
        # Unknown ids: a HEAD must give the same 404 as the GET.
        "movement_id": "00000000-0000-0000-0000-000000000000",
        "invoice_id": "00000000-0000-0000-0000-000000000000",
        "purchase_id": "00000000-0000-0000-0000-000000000000",
    }
    paths = get_paths(app)
    # Any other id in a path: an unknown one (HEAD must give the GET's 404).
    for template in paths:
        for name in re.findall(r"{(\w+)}", template):
            ids.setdefault(name, "00000000-0000-0000-0000-000000000000")
    assert len(paths) > 15
    for template in paths:
        path = template.format(**ids)
        get = await client.get(path, headers=brand.admin.headers)
        head = await client.head(path, headers=brand.admin.headers)
        assert head.status_code == get.status_code, f"HEAD {path}: {head.status_code}"
        assert head.status_code != 405
        assert head.content == b""
        assert head.headers.get("content-type") == get.headers.get("content-type")


@pytest.mark.parametrize("path", ["/", "/healthz", "/metrics", "/openapi.json"])
async def test_pages_outside_the_api_answer_head_too(client: httpx.AsyncClient, path: str) -> None:
    get = await client.get(path)
    head = await client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""


async def test_head_without_a_token_is_401_like_get(client: httpx.AsyncClient) -> None:
    head = await client.head("/inventory/adjustments")
    assert head.status_code == 401
    assert head.content == b""


async def test_head_is_not_a_way_to_post(client: httpx.AsyncClient, db: Database) -> None:
    brand = await create_brand_with_admin(db)
    head = await client.head("/inventory/initial-stock", headers=brand.admin.headers)
    assert head.status_code == 405
