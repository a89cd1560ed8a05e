"""The stock movement as every endpoint returns it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict

from stockroom.fields import MoneyOut, Timestamp, money_text, rfc3339_utc

MovementType = Literal[
    "sale", "purchase", "transfer_out", "transfer_in", "adjustment", "initial_stock", "return"
]


class Movement(BaseModel):
    """One append-only ledger row. `quantity` is signed: negative out, positive in."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6f3a52-8f1e-4c1a-9d7e-2f4b5c6d7e8f",
                    "type": "adjustment",
                    "product_id": "3f0c2d1e-8b7a-4c55-9e21-6a1f0b9d4e10",
                    "site_id": "9a6e1b2c-3d4f-4a5b-8c7d-0e1f2a3b4c5d",
                    "location_id": None,
                    "quantity": -2,
                    "source_site_id": None,
                    "destination_site_id": None,
                    "reference": None,
                    "notes": None,
                    "reason_code": "waste",
                    "reason_description": "Two cartons past their date",
                    "invoice_id": None,
                    "transfer_id": None,
                    "unit_cost": None,
                    "user_id": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
                    "created_at": "2026-11-23T10:15:00.123456Z",
                    "purchase_id": None,
                    "occurred_at": "2026-11-23T10:15:00.123456Z",
                }
            ]
        },
    )

    id: uuid.UUID
    type: MovementType
    product_id: uuid.UUID
    site_id: uuid.UUID
    location_id: int | None
    quantity: int
    source_site_id: uuid.UUID | None
    destination_site_id: uuid.UUID | None
    reference: str | None
    notes: str | None
    reason_code: str | None
    reason_description: str | None
    invoice_id: uuid.UUID | None
    transfer_id: uuid.UUID | None
    unit_cost: MoneyOut | None
    user_id: uuid.UUID | None
    created_at: Timestamp
    # Beyond the contract's fields: the purchase a `purchase` movement came from.
    purchase_id: uuid.UUID | None = None
    # When it happened in the world (a write may backdate it); created_at when not given.
    # Last, so the CSV export's earlier columns keep their places.
    occurred_at: Timestamp


class MovementList(BaseModel):
    data: list[Movement]


_PLAIN = ("id", "type", "product_id", "site_id", "location_id", "quantity", "source_site_id")
_PLAIN_2 = ("destination_site_id", "reference", "notes", "reason_code", "reason_description")
_PLAIN_3 = ("invoice_id", "transfer_id")


def encode_movement(row: Mapping[str, Any]) -> str:
    """`Movement.model_validate(row).model_dump_json()` for a row the ledger writer built
    (typed values: UUIDs, ints, aware datetimes, Decimal or None), without the validation:
    the same text, key for key and byte for byte (tests/fields/test_encode_movement.py), at a
    fraction of the cost — an initial stock encodes 500 of them per request."""
    out = {key: row[key] for key in _PLAIN}
    out |= {key: row[key] for key in _PLAIN_2}
    out |= {key: row[key] for key in _PLAIN_3}
    cost = row["unit_cost"]
    out["unit_cost"] = None if cost is None else money_text(cost)
    out["user_id"] = row["user_id"]
    out["created_at"] = rfc3339_utc(row["created_at"])
    out["purchase_id"] = row.get("purchase_id")
    out["occurred_at"] = rfc3339_utc(row["occurred_at"])
    return orjson.dumps(out, default=_uuid_text).decode()


def _uuid_text(value: object) -> str:
    # orjson writes uuid.UUID itself, not the driver's UUID type (asyncpg's, a subclass) that
    # ids read from the database have; pydantic writes both as their canonical text.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")
