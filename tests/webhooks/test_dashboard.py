"""The dashboard's webhooks page: admins see each endpoint and its recent deliveries."""

from __future__ import annotations

import uuid

import httpx

from stockroom.auth.principal import Role
from tests.dashboard.pages import table_rows, use_token
from tests.factories import Database, create_brand_with_admin, create_caller
from tests.webhooks.helpers import queue_delivery


async def test_admins_see_endpoints_and_deliveries_and_others_are_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    created = await client.post(
        "/webhooks",
        headers=brand.admin.headers,
        json={"url": "http://127.0.0.1:9/erp", "events": ["*"], "description": "ERP <b>"},
    )
    hook = created.json()
    await queue_delivery(db, brand.id, uuid.UUID(hook["id"]))
    use_token(client, brand.admin.token)
    page = await client.get("/dashboard/webhooks")
    assert page.status_code == 200
    assert "http://127.0.0.1:9/erp" in page.text and "ERP &lt;b&gt;" in page.text
    assert hook["secret"] not in page.text
    assert table_rows(page.text, f"deliveries-{hook['id']}")[0][:3] == [
        "stock.low",
        "pending",
        "0",
    ]
    viewer = await create_caller(brand, Role.viewer, site_ids=[brand.site_id])
    use_token(client, viewer.token)
    refused = await client.get("/dashboard/webhooks")
    assert refused.status_code == 403
    assert "/dashboard/webhooks" not in (await client.get("/dashboard")).text
