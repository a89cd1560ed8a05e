"""The OpenAPI document integrators read: every operation named, described and complete."""

from __future__ import annotations

from typing import Any

import httpx

from stockroom.openapi import PUBLIC


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    return [(m, p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]


async def test_every_operation_has_an_id_summary_description_and_tag(
    client: httpx.AsyncClient,
) -> None:
    ops = await operations(client)
    ids = [op["operationId"] for _, _, op in ops]

    assert len(ids) == len(set(ids))
    assert {"listInventoryAdjustments", "createInventoryAdjustment"} <= set(ids)
    for method, path, op in ops:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert op.get("description"), where
        assert op.get("tags"), where


async def test_every_protected_operation_declares_its_errors_in_the_one_shape(
    client: httpx.AsyncClient,
) -> None:
    for method, path, op in await operations(client):
        if path in PUBLIC:
            continue
        where = f"{method.upper()} {path}"
        assert op["security"] == [{"bearerAuth": []}], where
        for status in ("401", "422", "503"):
            content = op["responses"][status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (where, status)


async def test_every_post_documents_idempotency_and_every_body_has_an_example(
    client: httpx.AsyncClient,
) -> None:
    for method, path, op in await operations(client):
        where = f"{method.upper()} {path}"
        if method == "post":
            names = {p["name"] for p in op["parameters"]}
            assert "Idempotency-Key" in names, where
            assert {"409", "413"} <= set(op["responses"]), where
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None and path != "/invoices/{invoice_id}/void":
            assert body.get("examples"), f"{where}: no request example"


async def test_the_movement_and_the_error_shape_carry_response_examples(
    client: httpx.AsyncClient,
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    movement = schemas["Movement"]["examples"][0]
    # Every field, nulls included (FastAPI drops an example's nulls; openapi.py restores them).
    assert set(movement) == set(schemas["Movement"]["properties"])
    assert movement["location_id"] is None
    assert schemas["ErrorBody"]["examples"][0]["error"]["code"] == "insufficient_stock"
