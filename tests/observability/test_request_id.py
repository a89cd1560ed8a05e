"""`X-Request-Id`: a sane id from the caller is answered back; otherwise one is made up."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories import Database, create_brand_with_admin


async def test_a_request_id_sent_by_the_caller_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "trace-42.abc:def"})

    assert response.headers["x-request-id"] == "trace-42.abc:def"


async def test_a_request_without_an_id_gets_a_new_one_each_time(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    "sent",
    ["x" * 129, "has space", "semi;colon", "<script>", ""],
    ids=["too-long", "space", "semicolon", "markup", "empty"],
)
async def test_an_unsafe_request_id_is_replaced_not_echoed(
    client: httpx.AsyncClient, sent: str
) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": sent})

    assert response.status_code == 200
    assert response.headers["x-request-id"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_error_answers_carry_the_request_id_too(
    client: httpx.AsyncClient, db: Database
) -> None:
    brand = await create_brand_with_admin(db)
    headers = {**brand.admin.headers, "X-Request-Id": "req-404"}

    unknown = await client.get("/no/such/route", headers={"X-Request-Id": "req-unmatched"})
    missing = await client.get(f"/sites/{brand.id}", headers=headers)
    refused = await client.get("/sites", headers={"X-Request-Id": "req-401"})

    assert (unknown.status_code, unknown.headers["x-request-id"]) == (404, "req-unmatched")
    assert (missing.status_code, missing.headers["x-request-id"]) == (404, "req-404")
    assert (refused.status_code, refused.headers["x-request-id"]) == (401, "req-401")
