"""The stock movement as every endpoint returns it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_serializer

MovementType = Literal[
    "sale", "purchase", "transfer_out", "transfer_in", "adjustment", "initial_stock", "return"
]


class Movement(BaseModel):
    """One append-only ledger row. `quantity` is signed: negative out, positive in."""

    model_config = ConfigDict(from_attributes=True)

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
    unit_cost: Decimal | None
    user_id: uuid.UUID | None
    created_at: datetime
    # Beyond the contract's fields: the purchase a `purchase` movement came from.
    purchase_id: uuid.UUID | None = None

    @field_serializer("created_at")
    def _rfc3339_utc(self, value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")

    @field_serializer("unit_cost")
    def _money(self, value: Decimal | None) -> str | None:
        return None if value is None else format(value.quantize(Decimal("0.0001")).normalize(), "f")


class MovementList(BaseModel):
    data: list[Movement]
