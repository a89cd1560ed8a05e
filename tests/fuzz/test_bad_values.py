"""Text no database can store (NUL, unpaired surrogates) is bad input: 422, on both backends."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.factories import Database, create_brand_with_admin


@pytest.mark.parametrize("name", ["nul\u0000inside", "lone \ud800 surrogate", "\udc00"])
async def test_unstorable_text_is_refused_on_every_backend(
    client: httpx.AsyncClient, db: Database, name: str
) -> None:
    brand = await create_brand_with_admin(db)
    # json.dumps escapes the surrogate as \\ud800, as a client's JSON encoder would.
    body = json.dumps({"name": name}).encode()

    response = await client.post(
        "/sites",
        headers={**brand.admin.headers, "Content-Type": "application/json"},
        content=body,
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "name"
