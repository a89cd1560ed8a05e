"""Invoice requests and the invoice as every endpoint returns it."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from stockroom.fields import (
    LocationId,
    Money,
    MoneyOut,
    OccurredAt,
    PositiveQuantity,
    Text,
    Timestamp,
)
from stockroom.movements.schemas import Movement

MAX_LINES = 500


class InvoiceLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: PositiveQuantity = Field(description="Units sold, > 0.")
    unit_price: Money = Field(
        description="Price of one unit: a decimal ≥ 0 with at most 4 places, "
        'as a JSON number or a string ("12.50").',
        examples=["12.50"],
    )
    location_id: LocationId | None = Field(
        None, description="Required when the product is location-aware."
    )


class InvoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: uuid.UUID | None = Field(
        None,
        validation_alias=AliasChoices("site_id", "workspace_id"),
        description="Selling site (alias `workspace_id`); defaults to the current site.",
    )
    number: Text | None = Field(None, min_length=1, max_length=64, examples=["INV-2024-0001"])
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=MAX_LINES)
    reservation_id: uuid.UUID | None = Field(
        None,
        description="An active reservation at the same site: its units matching the lines' "
        "product and location are sold from it (needing only on-hand); the rest of each "
        "line must fit in available. Units not sold stay reserved.",
    )
    occurred_at: OccurredAt = None


class InvoiceLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: uuid.UUID
    quantity: int
    unit_price: MoneyOut
    location_id: int | None


class Invoice(BaseModel):
    """A sale: its lines, its `sale` movements and, once voided, the `return` movements."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    site_id: uuid.UUID
    number: str | None
    status: Literal["issued", "void"]
    total: MoneyOut
    lines: list[InvoiceLine]
    movements: list[Movement]
    created_at: Timestamp
    voided_at: Timestamp | None
    user_id: uuid.UUID | None
    reservation_id: uuid.UUID | None = None
