"""Values a database cannot store are bad input (422), never a 5xx."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.factories import Database, create_brand_with_admin


@pytest.mark.parametrize("name", ["nul\u0000inside", "lone \ud800 surrogate", "\udc00"])
async def test_unstorable_text_is_refused_or_stored_but_never_a_server_error(
    client: httpx.AsyncClient, db: Database, backend: str, name: str
) -> None:
    brand = await create_brand_with_admin(db)
    # json.dumps escapes the surrogate as \\ud800, as a client's JSON encoder would.
    body = json.dumps({"name": name}).encode()

    response = await client.post(
        "/sites",
        headers={**brand.admin.headers, "Content-Type": "application/json"},
        content=body,
    )

    if backend == "postgres" or "\u0000" not in name:
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
    else:
        assert response.status_code in (201, 422)
