"""Purchase requests and the purchase as every endpoint returns it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PlainSerializer

from stockroom.movements.schemas import Movement

MAX_LINES = 500
MAX_QUANTITY = 1_000_000_000


def rfc3339_utc(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(rfc3339_utc, return_type=str)]


class PurchaseLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: int = Field(strict=True, gt=0, le=MAX_QUANTITY, description="Units received, > 0.")
    cost_per_unit: Decimal = Field(
        ge=0,
        max_digits=18,
        decimal_places=4,
        description="What one unit cost: a decimal ≥ 0 with at most 4 places, as a JSON "
        'number or a string ("3.25"). Moves the product\'s weighted average cost.',
        examples=["3.25"],
    )
    location_id: int | None = Field(
        None, strict=True, description="Required when the product is location-aware."
    )


class PurchaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: uuid.UUID | None = Field(
        None,
        validation_alias=AliasChoices("site_id", "workspace_id"),
        description="Receiving site (alias `workspace_id`); defaults to the current site.",
    )
    reference: str | None = Field(
        None, min_length=1, max_length=255, examples=["PO-1042"], description="E.g. the PO."
    )
    lines: list[PurchaseLineIn] = Field(min_length=1, max_length=MAX_LINES)


class Purchase(BaseModel):
    """Stock received at a site: one `purchase` movement (+quantity, unit_cost) per line."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    site_id: uuid.UUID
    reference: str | None
    movements: list[Movement]
    created_at: Timestamp
    user_id: uuid.UUID | None
