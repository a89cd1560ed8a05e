"""The rules openapi.py applies to every operation, so that integrators' tools take the document.

Each test walks the whole document: a route added later is held to the same rules.
"""

from __future__ import annotations

import re
from typing import Any

from stockroom.errors import StockroomError
from stockroom.openapi import PUBLIC
from tests.openapi.document import openapi_document, operations, resolve

UUID = "3f0c2d1e-8b7a-4c55-9e21-6a1f0b9d4e10"
# API.md: Part 1's codes and Part 2's.
CONTRACT_CODES = {
    "unauthenticated",
    "forbidden",
    "not_found",
    "validation_error",
    "insufficient_stock",
    "already_initialized",
    "idempotency_conflict",
    "idempotency_in_progress",
    "stale_quantity",
    "payload_too_large",
    "unavailable",
    "insufficient_available",
    "reservation_closed",
    "transfer_closed",
    "count_closed",
    "rate_limited",
}
# Request fields and the aliases the contract promises for them.
ALIASES = {
    "site_id": "workspace_id",
    "destination_site_id": "destination_workspace_id",
    "default_site_id": "default_workspace_id",
    "site_ids": "workspace_ids",
}


def domain_codes() -> set[str]:
    codes, pending = set(), list(StockroomError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        codes.add(cls.code)
    return codes


def reachable(document: dict[str, Any], node: Any) -> list[dict[str, Any]]:
    """Every schema object inside `node`, following $refs (each component once)."""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                if ref not in seen:
                    seen.add(ref)
                    pending.append(resolve(document, item))
                continue
            found.append(item)
            pending.extend(item.values())
    return found


def test_ids_in_headers_are_strings_with_a_uuid_pattern_not_format_uuid() -> None:
    document = openapi_document()
    site_headers = 0
    for method, path, op in operations(document):
        for parameter in op.get("parameters", []):
            if parameter["in"] != "header":
                continue
            where = f"{method.upper()} {path} {parameter['name']}"
            schema = parameter["schema"]
            assert "format" not in schema and "anyOf" not in schema, where
            assert schema["type"] == "string", where
            if parameter["name"].lower() == "x-site-id":
                site_headers += 1
                assert parameter["name"] == "X-Site-Id", where
                assert re.fullmatch(schema["pattern"], UUID), where
                assert not re.fullmatch(schema["pattern"], "not-a-uuid"), where
    assert site_headers >= 5  # every write that acts at the current site takes it


def test_optional_parameters_are_plain_types_not_nullable_unions() -> None:
    # A query string cannot carry null; `anyOf [X, null]` only makes generators emit unions.
    for method, path, op in operations(openapi_document()):
        for parameter in op.get("parameters", []):
            schema = parameter["schema"]
            assert {"type": "null"} not in schema.get("anyOf", []), (
                f"{method.upper()} {path} {parameter['name']}"
            )


def test_error_codes_are_an_enum_of_the_contract_and_every_domain_error() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    code = resolve(document, schemas["ErrorInfo"]["properties"]["code"])

    assert code["type"] == "string"
    assert set(code["enum"]) >= CONTRACT_CODES
    assert domain_codes() <= set(code["enum"])
    detail = schemas["ErrorDetail"]["properties"]
    for field in (
        "product_id",
        "site_id",
        "location_id",
        "on_hand",
        "requested",
        "available",
        "expected_on_hand",
    ):
        assert field in detail, field
    assert detail["product_id"]["format"] == "uuid"
    assert detail["on_hand"]["type"] == "integer"
    assert set(schemas["ErrorDetail"]["required"]) == {"field", "message"}


def test_every_error_response_is_the_json_error_body() -> None:
    for method, path, op in operations(openapi_document()):
        for status, response in op["responses"].items():
            if status[0] in "45":
                assert response["content"] == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                }, f"{method.upper()} {path} {status}"


def test_every_timestamp_is_a_date_time_and_every_date_parameter_a_date() -> None:
    document = openapi_document()
    timestamps = 0
    for name, schema in document["components"]["schemas"].items():
        for prop_name, prop in schema.get("properties", {}).items():
            if prop_name.endswith("_at"):
                timestamps += 1
                options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
                assert [o.get("format") for o in options] == ["date-time"], (name, prop_name)
    assert timestamps >= 8
    for method, path, op in operations(document):
        for parameter in op.get("parameters", []):
            if parameter["name"].endswith("_date"):
                assert parameter["schema"]["format"] == "date", f"{method} {path}"


def test_every_field_of_an_answer_is_required_nulls_included() -> None:
    # Stockroom answers every field (null when empty); a client must not see it as optional.
    document = openapi_document()
    movement = document["components"]["schemas"]["Movement"]
    assert set(movement["required"]) == set(movement["properties"])
    assert "purchase_id" in movement["required"]
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            media = response.get("content", {}).get("application/json")
            if media is None:
                continue
            for schema in reachable(document, media["schema"]):
                properties = schema.get("properties")
                if properties and schema.get("title") not in {"ErrorBody", "ErrorDetail"}:
                    assert set(schema.get("required", [])) == set(properties), (
                        f"{method.upper()} {path} {schema.get('title')}"
                    )


def test_every_list_declares_its_paging_defaults() -> None:
    lists = 0
    for _, path, op in operations(openapi_document()):
        parameters = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
        if "page" in parameters:
            lists += 1
            assert parameters["page"]["schema"]["default"] == 1, path
            assert parameters["per_page"]["schema"]["default"] == 25, path
            assert parameters["per_page"]["schema"]["maximum"] == 100, path
    assert lists >= 10


def test_workspace_aliases_are_declared_in_queries_and_bodies() -> None:
    document = openapi_document()
    bodies = 0
    for method, path, op in operations(document):
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        for name, alias in ALIASES.items():
            if name in names:
                assert alias in names, f"{method.upper()} {path}: query {alias}"
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            continue
        for schema in reachable(document, content["schema"]):
            properties = schema.get("properties", {})
            for name, alias in ALIASES.items():
                if name in properties:
                    bodies += 1
                    assert alias in properties, f"{method.upper()} {path}: body {alias}"
                    assert properties[alias].get("type") == properties[name].get("type")
    assert bodies >= 8


def test_servers_tags_and_info_describe_the_api() -> None:
    document = openapi_document()
    info = document["info"]
    assert info["description"] and info["contact"]["name"]
    assert info["license"]["name"] == "MIT"
    assert document["servers"] and all(s["url"] for s in document["servers"])
    declared = {t["name"]: t for t in document["tags"]}
    for method, path, op in operations(document):
        for tag in op["tags"]:
            assert tag in declared, f"{method.upper()} {path}: tag {tag}"
    for tag in declared.values():
        assert tag["description"] and not tag["description"].startswith("Operations on"), tag


def test_responses_declare_the_headers_the_api_sends() -> None:
    document = openapi_document()
    headers = document["components"]["headers"]
    assert {"X-Request-Id", "Retry-After", "WWW-Authenticate", "Idempotent-Replayed"} <= set(
        headers
    )
    for method, path, op in operations(document):
        where = f"{method.upper()} {path}"
        protected = path not in PUBLIC
        if protected:
            assert {"401", "429", "503"} <= set(op["responses"]), where
        if "requestBody" in op:
            assert "413" in op["responses"], where  # any body may be over the limit
        for status, response in op["responses"].items():
            sent = set(response.get("headers", {}))
            assert "X-Request-Id" in sent, (where, status)
            if status in {"429", "503"}:
                assert "Retry-After" in sent, (where, status)
            if status == "429":
                assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= sent
            if status == "401":
                assert "WWW-Authenticate" in sent, (where, status)
            if method == "post" and status.startswith("2") and protected:
                assert "Idempotent-Replayed" in sent, (where, status)


def test_every_string_enum_names_its_members_as_distinct_identifiers() -> None:
    document = openapi_document()
    enums = [s for s in reachable(document, document) if isinstance(s.get("enum"), list)]
    assert enums
    for schema in enums:
        names = schema["x-enum-varnames"]
        assert len(names) == len(schema["enum"]) == len(set(names)), schema
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", n) for n in names), names
    sort = document["components"]["schemas"]["TransferSort"]
    assert dict(zip(sort["enum"], sort["x-enum-varnames"], strict=True))["-created_at"] == (
        "CREATED_AT_DESC"
    )


def test_the_report_is_json_only_and_its_csv_is_an_operation_of_its_own() -> None:
    document = openapi_document()
    report = document["paths"]["/inventory/movements"]["get"]
    export = document["paths"]["/inventory/movements.csv"]["get"]

    assert set(report["responses"]["200"]["content"]) == {"application/json"}
    assert export["operationId"] == "exportStockMovements"
    assert set(export["responses"]["200"]["content"]) == {"text/csv"}
    filters = {"product_id", "site_id", "workspace_id", "type", "start_date", "end_date"}
    assert filters <= {p["name"] for p in export["parameters"]}
    assert "format" not in {p["name"] for p in report["parameters"]}


def test_a_response_of_two_shapes_is_one_of_them() -> None:
    document = openapi_document()
    unions = 0
    for method, path, op in operations(document):
        for response in op["responses"].values():
            for media in response.get("content", {}).values():
                schema = media["schema"]
                assert "anyOf" not in schema, f"{method.upper()} {path}"
                if "oneOf" in schema:
                    unions += 1
    assert unions >= 2  # an adjustment (one or a batch), the report (numbered or keyset page)
