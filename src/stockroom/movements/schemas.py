"""The stock movement as every endpoint returns it."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict

from stockroom.fields import MoneyOut, Timestamp

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
