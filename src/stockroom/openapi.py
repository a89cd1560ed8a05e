"""The published OpenAPI document: what every route shares, stated once.

Routes declare their own summaries, descriptions and error responses; this adds what holds
for all of them, as rules over the whole document, so a route added tomorrow inherits them:
bearer auth; the `Idempotency-Key`, `X-Request-Id` and `X-Site-Id` headers; `409`/`413` on
every POST, `429` and `503` on every protected operation; the response headers
(`X-Request-Id`, `Retry-After`, `WWW-Authenticate`, `Idempotent-Replayed`); the error codes
as an enum; `format: date-time` on every `*_at`; every field of an answer required (a null
is sent, never an absent key); the `workspace_id` aliases of request bodies; ids in headers
as UUID-patterned strings; member names for enums; and request examples.

Each rule is written for what generated clients and linters (openapi-python-client,
Redocly, openapi-spec-validator) need; tests/openapi checks them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import AliasChoices, BaseModel

from stockroom.errors import StockroomError

PUBLIC = {"/healthz", "/readyz"}
EXAMPLE_PRODUCT = "3f0c2d1e-8b7a-4c55-9e21-6a1f0b9d4e10"
EXAMPLE_SITE = "9a6e1b2c-3d4f-4a5b-8c7d-0e1f2a3b4c5d"
EXAMPLE_OTHER_SITE = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"

REQUEST_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "createInventoryAdjustment": {
        "single": {
            "summary": "One product, with a reason",
            "value": {
                "product_id": EXAMPLE_PRODUCT,
                "quantity": -2,
                "reason_code": "waste",
                "reason_description": "Two cartons past their date",
            },
        },
        "count": {
            "summary": "A stock count: write only if nobody changed the level meanwhile",
            "value": {"product_id": EXAMPLE_PRODUCT, "quantity": 3, "expected_on_hand": 17},
        },
        "batch": {
            "summary": "A batch: all lines or none",
            "value": {
                "products": [
                    {"product_id": EXAMPLE_PRODUCT, "quantity": -1},
                    {"product_id": "7b1e2d3c-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "quantity": 4},
                ],
                "reason": "recount",
                "notes": "Monthly count, aisle B",
                "reference": "COUNT-2026-11",
            },
        },
    },
    "createStockTransfer": {
        "transfer": {
            "summary": "Move 12 to another site",
            "value": {
                "product_id": EXAMPLE_PRODUCT,
                "destination_site_id": EXAMPLE_OTHER_SITE,
                "quantity": 12,
                "reference": "TR-1042",
            },
        },
        "in_transit": {
            "summary": "Ship 12 now, receive them when the truck arrives",
            "value": {
                "product_id": EXAMPLE_PRODUCT,
                "destination_site_id": EXAMPLE_OTHER_SITE,
                "quantity": 12,
                "in_transit": True,
                "reference": "TR-1043",
            },
        },
    },
    "receiveStockTransfer": {
        "part": {
            "summary": "Receive 8 of the 12 shipped (the rest stays in transit)",
            "value": {"lines": [{"product_id": EXAMPLE_PRODUCT, "quantity": 8}]},
        }
    },
    "closeStockTransfer": {
        "lost": {
            "summary": "The rest never arrived: write it off",
            "value": {"reason": "lost", "notes": "Pallet missing at delivery"},
        },
        "returned": {
            "summary": "The rest comes back to the source",
            "value": {"reason": "returned"},
        },
    },
    "createInitialStock": {
        "initial": {
            "summary": "Start tracking two products",
            "value": {
                "site_id": EXAMPLE_SITE,
                "products": [
                    {"product_id": EXAMPLE_PRODUCT, "quantity": 40, "cost_per_unit": "14.50"},
                    {"product_id": "7b1e2d3c-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "quantity": 0},
                ],
            },
        }
    },
    "createInvoice": {
        "from_reservation": {
            "summary": "Selling units held by a reservation",
            "value": {
                "reservation_id": "5d2f8a0e-3c1b-4e7a-9f60-2b8c4d1e7a93",
                "lines": [{"product_id": EXAMPLE_PRODUCT, "quantity": 2, "unit_price": "3.80"}],
            },
        },
        "sale": {
            "summary": "A sale of two lines",
            "value": {
                "number": "INV-2026-0042",
                "lines": [
                    {"product_id": EXAMPLE_PRODUCT, "quantity": 2, "unit_price": "3.80"},
                    {
                        "product_id": "7b1e2d3c-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                        "quantity": 1,
                        "unit_price": "12.00",
                    },
                ],
            },
        },
    },
    "createReservation": {
        "order": {
            "summary": "Hold two lines for an order, for 30 minutes",
            "value": {
                "reference": "SO-1042",
                "ttl_seconds": 1800,
                "lines": [{"product_id": EXAMPLE_PRODUCT, "quantity": 2}],
            },
        }
    },
    "releaseReservation": {
        "part": {
            "summary": "Give back one unit (send no body to release all that remains)",
            "value": {"lines": [{"product_id": EXAMPLE_PRODUCT, "quantity": 1}]},
        }
    },
    "extendReservation": {
        "ttl": {"summary": "One more hour from now", "value": {"ttl_seconds": 3600}},
    },
    "createPurchase": {
        "delivery": {
            "summary": "A delivery at cost",
            "value": {
                "reference": "PO-7781",
                "lines": [
                    {"product_id": EXAMPLE_PRODUCT, "quantity": 24, "cost_per_unit": "13.90"}
                ],
            },
        }
    },
    "createProduct": {
        "product": {
            "summary": "A product with a low-stock threshold",
            "value": {
                "sku": "BEANS-1KG",
                "name": "Espresso beans 1 kg",
                "unit": "bag",
                "min_stock": 10,
            },
        }
    },
    "updateProduct": {"rename": {"summary": "Rename", "value": {"name": "Espresso beans, 1 kg"}}},
    "createSite": {
        "site": {
            "summary": "A shop",
            "value": {"name": "Harbour shop", "allow_negative_stock": False},
        }
    },
    "updateSite": {
        "negative": {"summary": "Allow negative stock", "value": {"allow_negative_stock": True}}
    },
    "createSiteLocation": {"bin": {"summary": "A bin", "value": {"name": "Aisle A, shelf 1"}}},
    "createUser": {
        "manager": {
            "summary": "A manager of one shop",
            "value": {
                "email": "sam@example.com",
                "role": "manager",
                "site_ids": [EXAMPLE_SITE],
                "default_site_id": EXAMPLE_SITE,
            },
        }
    },
}


UUID_PATTERN = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
DESCRIPTION = """\
Stockroom keeps stock for brands (tenants) at sites (a.k.a. workspaces) and at bin
locations inside them. Every change of stock is an append-only **movement** in a ledger;
levels, low-stock alerts and reports come out of that ledger.

* **Auth**: every call but the health checks sends `Authorization: Bearer <token>`.
* **Current site**: `site_id` in the body or query (alias `workspace_id`), else the
  `X-Site-Id` header, else the user's default site.
* **Errors** have one shape, `{"error": {"code", "message", "details"}}`; `code` is one of
  the `ErrorCode` values.
* **Retries**: every POST takes an `Idempotency-Key`; a replay answers with
  `Idempotent-Replayed: true`.
"""
# No public address to name yet: the maintainers, reached through the project's issues.
CONTACT = {"name": "Stockroom maintainers (the project's issue tracker)"}
LICENSE = {"name": "MIT", "identifier": "MIT"}
SERVERS = [
    {"url": "/", "description": "This server (e.g. http://127.0.0.1:8000 from `make serve`)"}
]
TAG_DESCRIPTIONS = {
    "Inventory adjustments": "Signed stock changes with a reason: waste, theft, corrections, "
    "recounts; one line or a batch, all or nothing.",
    "Stock transfers": "Stock moved from one site of the brand to another: an outgoing and an "
    "incoming movement linked by `transfer_id`.",
    "Initial stock": "The first stock of products at a site when tracking starts.",
    "Stock levels": "On-hand quantities per product, site and location, and low-stock alerts.",
    "Stock movements": "The ledger itself: every movement, filtered and paged for audits, "
    "or exported as CSV.",
    "Reservations": "Units promised to a customer, held until sold, released or expired.",
    "Stock counts": "Physical counts: lines entered from any device, applied as recount "
    "adjustments.",
    "Invoices": "Sales: each line writes a `sale` movement; voiding puts the stock back.",
    "Purchases": "Deliveries from suppliers: each line writes a `purchase` movement at cost.",
    "Products": "The brand's catalogue.",
    "Sites": "Places that hold stock (shops, kitchens, warehouses) and their bin locations.",
    "Users": "The brand's users, their roles and sites, and the caller itself.",
    "Events": "Every change of the brand, in commit order: a feed to follow with a cursor "
    "(admins).",
    "Webhooks": "Endpoints that receive the brand's events as signed POSTs (Standard "
    "Webhooks), in order, at least once, with retries for a day; their delivery log (admin).",
    "Health": "Liveness, readiness and metrics for operators; no token needed.",
}
# The contract's codes (API.md, both parts), declared even where no route answers them yet.
CONTRACT_ERROR_CODES = (
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
)
# Codes the HTTP layer answers without a domain class: another HTTP status, an internal error.
FRAMEWORK_ERROR_CODES = ("http_error", "error")
# Fields a detail carries beside `field` and `message` when the problem is about a level.
DETAIL_PROPERTIES: dict[str, Any] = {
    "product_id": {"type": "string", "format": "uuid", "description": "The product of the line."},
    "site_id": {"type": "string", "format": "uuid", "description": "The site of the level."},
    "location_id": {
        "type": ["integer", "null"],
        "description": "The location of the level (null: the site itself).",
    },
    "on_hand": {"type": "integer", "description": "On hand at the moment of the write."},
    "requested": {"type": "integer", "description": "The change the line asked for."},
    "available": {"type": "integer", "description": "On hand less what is reserved."},
    "expected_on_hand": {
        "type": ["integer", "null"],
        "description": "The figure the request expected (`stale_quantity`).",
    },
}

_ERROR = {"$ref": "#/components/schemas/ErrorBody"}
_SHARED_RESPONSES = {
    "409": "`idempotency_in_progress`: a request with this Idempotency-Key is still running "
    "(or `stale_quantity` where the route takes `expected_on_hand`).",
    "413": "`payload_too_large`: the body is over the limit (1 MiB by default).",
    "429": "`rate_limited`: the token is over `STOCKROOM_RATE_LIMIT` (when set); retry after "
    "`Retry-After` seconds. Nothing was done.",
    "503": "`unavailable`: the database is unreachable, a lock was not had in time, or a "
    "stock level kept changing under every write attempt; retry after `Retry-After` seconds. "
    "Nothing was written.",
}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "The request's id (yours from `X-Request-Id`, or one made up); it is "
        "on every log line about the request.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWW-Authenticate": {
        "description": "The scheme to authenticate with: `Bearer`.",
        "schema": {"type": "string"},
    },
    "RateLimit-Limit": {
        "description": "Requests the tightest limit allows in its window (when limits are on).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in that window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Seconds until that window frees requests.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Policy": {
        "description": "Every limit with its window in seconds, e.g. `50;w=1, 1000;w=60`.",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key; absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
RATE_LIMIT_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
)
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1–255 characters. The first request with a key runs once; a retry with the "
    "same key and body replays its status and body (with `Idempotent-Replayed: true`); the "
    "same key with another body is `422 idempotency_conflict`; while the first still runs, "
    "`409 idempotency_in_progress`. Failed requests are not kept. Keys last 24 h per brand.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_REQUEST_ID = {
    "name": "X-Request-Id",
    "in": "header",
    "required": False,
    "description": "Your id for this request, echoed back (one is made when absent) and logged.",
    "schema": {"type": "string", "maxLength": 128},
}
_PAGING_DEFAULTS = {"page": 1, "per_page": 25}
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def error_codes() -> list[str]:
    """Every code an error body may carry: the contract's and every domain error's."""
    codes = dict.fromkeys(CONTRACT_ERROR_CODES)
    pending: list[type[StockroomError]] = [StockroomError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not StockroomError:
            codes[cls.code] = None
    codes.update(dict.fromkeys(FRAMEWORK_ERROR_CODES))
    return list(codes)


def enum_member_name(value: str) -> str:
    """An identifier for an enum value: `-created_at` → `CREATED_AT_DESC`."""
    name = value.removeprefix("-")
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").upper() or "EMPTY"
    if name[0].isdigit():
        name = f"V{name}"
    return f"{name}_DESC" if value.startswith("-") else name


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside `node`, depth first (the document is a tree: no cycles)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in _METHODS:
                yield path, method, operation


def _refs(node: Any) -> set[str]:
    return {n["$ref"].rsplit("/", 1)[-1] for n in _walk(node) if isinstance(n.get("$ref"), str)}


def _closure(names: set[str], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending.extend(_refs(schemas[name]))
    return seen


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, {type: null}]` of an optional parameter is X: a query cannot send null."""
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    rest = [o for o in options if o != {"type": "null"}]
    if len(rest) != 1 or len(rest) == len(options):
        return schema
    merged = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**rest[0], **merged}


def _is_uuid(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "uuid"


def _header_name(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _shape_parameters(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if not parameter.get("required"):
            schema = _without_null(schema)
        if parameter["in"] == "header":
            parameter["name"] = _header_name(parameter["name"])
            if _is_uuid(schema):
                # Generated clients put a header's value into HTTP as it is: a UUID object
                # there crashes them. A string with the UUID pattern is what they can send.
                schema = {k: v for k, v in schema.items() if k != "format"}
                schema["pattern"] = UUID_PATTERN
        if parameter["in"] == "query":
            if parameter["name"] in _PAGING_DEFAULTS:
                schema.setdefault("default", _PAGING_DEFAULTS[parameter["name"]])
            if parameter["name"].endswith("_date") and schema.get("type") == "string":
                schema.setdefault("format", "date")
        parameter["schema"] = schema


def _add_response(operation: dict[str, Any], status: str) -> None:
    operation["responses"].setdefault(
        status,
        {
            "description": _SHARED_RESPONSES[status],
            "content": {"application/json": {"schema": _ERROR}},
        },
    )


def _errors_as_json(operation: dict[str, Any]) -> None:
    """Every 4xx/5xx is the one error body in JSON, even where a success is not (CSV)."""
    for status, response in operation["responses"].items():
        if status[0] in "45":
            response["content"] = {"application/json": {"schema": _ERROR}}


def _declare_response_headers(path: str, method: str, operation: dict[str, Any]) -> None:
    for status, response in operation["responses"].items():
        headers = response.setdefault("headers", {})
        headers["X-Request-Id"] = {"$ref": "#/components/headers/X-Request-Id"}
        if status in {"429", "503"}:
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status == "429":
            for name in RATE_LIMIT_HEADERS:
                headers[name] = {"$ref": f"#/components/headers/{name}"}
        if status == "401":
            headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
        if method == "post" and status.startswith("2") and path not in PUBLIC:
            headers["Idempotent-Replayed"] = {"$ref": "#/components/headers/Idempotent-Replayed"}


def _one_of_shapes(operation: dict[str, Any]) -> None:
    """A response that is one of several shapes says `oneOf`: exactly one of them matches."""
    for response in operation["responses"].values():
        for media in response.get("content", {}).values():
            schema = media.get("schema", {})
            options = schema.get("anyOf")
            if isinstance(options, list) and all("$ref" in o for o in options):
                schema["oneOf"] = schema.pop("anyOf")


def _declare_errors(schemas: dict[str, Any]) -> None:
    schemas["ErrorCode"] = {
        "type": "string",
        "title": "ErrorCode",
        "description": "The machine code of an error; see docs/errors.md.",
        "enum": error_codes(),
    }
    info = schemas.get("ErrorInfo")
    if info is not None:
        info["properties"]["code"] = {"$ref": "#/components/schemas/ErrorCode"}
    detail = schemas.get("ErrorDetail")
    if detail is not None:
        for name, prop in DETAIL_PROPERTIES.items():
            detail["properties"].setdefault(name, prop)


def _type_timestamps(schemas: dict[str, Any]) -> None:
    """Every `*_at` string is an RFC 3339 instant (serializers hide it from pydantic)."""
    for schema in schemas.values():
        for name, prop in schema.get("properties", {}).items():
            if not name.endswith("_at"):
                continue
            for option in [prop, *prop.get("anyOf", [])]:
                if option.get("type") == "string":
                    option.setdefault("format", "date-time")


def _require_answer_fields(schema: dict[str, Any]) -> None:
    """In what the API answers every field is present (null when empty): say so.

    Pydantic marks a field with a default as optional, which is right for requests but
    makes generated clients treat an answer's field as possibly absent.
    """
    schemas = schema["components"]["schemas"]
    inputs: set[str] = set()
    outputs: set[str] = set()
    for _, _, operation in _operations(schema):
        inputs |= _refs(operation.get("parameters", [])) | _refs(operation.get("requestBody", {}))
        outputs |= _refs(operation.get("responses", {}))
    answer_only = _closure(outputs, schemas) - _closure(inputs, schemas)
    for name in answer_only:
        properties = schemas[name].get("properties")
        if properties and not name.startswith("Error"):
            schemas[name]["required"] = list(properties)


def _models() -> Iterator[type[BaseModel]]:
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("stockroom."):
            yield model


def _declare_body_aliases(schemas: dict[str, Any]) -> None:
    """Request fields that take aliases (`workspace_id` for `site_id`) list them too."""
    for model in _models():
        for field_name, field in model.model_fields.items():
            if not isinstance(field.validation_alias, AliasChoices):
                continue
            for name in (model.__name__, f"{model.__name__}-Input"):
                target = schemas.get(name)
                if target is None or field_name not in target.get("properties", {}):
                    continue
                original = target["properties"][field_name]
                for alias in field.validation_alias.choices:
                    if isinstance(alias, str) and alias not in target["properties"]:
                        prop = copy.deepcopy(original)
                        prop.pop("default", None)
                        prop["title"] = alias.replace("_", " ").title()
                        prop["description"] = f"Alias of `{field_name}`; send one of the two."
                        target["properties"][alias] = prop


def _name_enum_members(schema: dict[str, Any]) -> None:
    for node in _walk(schema):
        values = node.get("enum")
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            node.setdefault("x-enum-varnames", [enum_member_name(v) for v in values])


def _restore_example_nulls(schemas: dict[str, Any]) -> None:
    """FastAPI drops the nulls of examples it renders; a required nullable field needs its null."""
    for schema in schemas.values():
        required = schema.get("required", [])
        properties = schema.get("properties", {})
        for example in schema.get("examples", []):
            if not isinstance(example, dict):
                continue
            for name in required:
                prop = properties.get(name, {})
                nullable = {"type": "null"} in prop.get("anyOf", []) or "null" in (
                    prop.get("type") if isinstance(prop.get("type"), list) else []
                )
                if name not in example and nullable:
                    example[name] = None


def _tags(schema: dict[str, Any]) -> list[dict[str, str]]:
    used = dict.fromkeys(t for _, _, op in _operations(schema) for t in op.get("tags", []))
    return [
        {"name": tag, "description": TAG_DESCRIPTIONS.get(tag, f"Operations on {tag.lower()}.")}
        for tag in used
    ]


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, built once per process and cached on the app."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=DESCRIPTION,
        routes=app.routes,
        servers=SERVERS,
        contact=CONTACT,
        license_info=LICENSE,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`sr_…`) from `stockroom tokens create` or "
            "`stockroom demo`.",
        }
    }
    components["headers"] = copy.deepcopy(RESPONSE_HEADERS)
    for path, method, operation in _operations(schema):
        _shape_parameters(operation)
        if path in PUBLIC:
            operation["security"] = []
        else:
            operation["security"] = [{"bearerAuth": []}]
            parameters = operation.setdefault("parameters", [])
            parameters.append(_REQUEST_ID)
            _add_response(operation, "429")
            _add_response(operation, "503")
            if method == "post":
                parameters.append(_IDEMPOTENCY_KEY)
                _add_response(operation, "409")
            if method == "post" or "requestBody" in operation:
                _add_response(operation, "413")
        _errors_as_json(operation)
        _one_of_shapes(operation)
        _declare_response_headers(path, method, operation)
        examples = REQUEST_EXAMPLES.get(operation.get("operationId", ""))
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if examples and body is not None:
            body["examples"] = copy.deepcopy(examples)
    _declare_errors(schemas)
    _type_timestamps(schemas)
    _require_answer_fields(schema)
    _declare_body_aliases(schemas)
    _restore_example_nulls(schemas)
    _name_enum_members(schema)
    schema["tags"] = _tags(schema)
    app.openapi_schema = schema
    return schema


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
