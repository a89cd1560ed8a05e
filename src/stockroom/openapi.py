"""The published OpenAPI document: what every route shares, stated once.

Routes declare their own summaries, descriptions and error responses; this adds what
holds for all of them — bearer auth, the `Idempotency-Key` and `X-Site-Id` headers,
`409`/`413` on every POST, `503` wherever the database is used — and a request example
for every body an integrator sends.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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
        }
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
        }
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


def _add_response(operation: dict[str, Any], status: str) -> None:
    operation["responses"].setdefault(
        status,
        {
            "description": _SHARED_RESPONSES[status],
            "content": {"application/json": {"schema": _ERROR}},
        },
    )


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, built once per process and cached on the app."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`sr_…`) from `stockroom tokens create` or "
            "`stockroom demo`.",
        }
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path in PUBLIC:
                operation["security"] = []
                continue
            operation["security"] = [{"bearerAuth": []}]
            parameters = operation.setdefault("parameters", [])
            parameters.append(_REQUEST_ID)
            _add_response(operation, "429")
            _add_response(operation, "503")
            if method == "post":
                parameters.append(_IDEMPOTENCY_KEY)
                _add_response(operation, "409")
                _add_response(operation, "413")
            examples = REQUEST_EXAMPLES.get(operation.get("operationId", ""))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if examples and body is not None:
                body["examples"] = examples
    app.openapi_schema = schema
    return schema


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
