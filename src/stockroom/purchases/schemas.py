"""Purchase requests and the purchase as every endpoint returns it."""

from __future__ import annotations

import uuid

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from stockroom.fields import LocationId, Money, OccurredAt, PositiveQuantity, Text, Timestamp
from stockroom.movements.schemas import Movement

MAX_LINES = 500


class PurchaseLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: PositiveQuantity = Field(description="Units received, > 0.")
    cost_per_unit: Money = Field(
        description="What one unit cost: a decimal ≥ 0 with at most 4 places, as a JSON "
        'number or a string ("3.25"). Moves the product\'s weighted average cost.',
        examples=["3.25"],
    )
    location_id: LocationId | None = Field(
        None, description="Required when the product is location-aware."
    )


class PurchaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: uuid.UUID | None = Field(
        None,
        validation_alias=AliasChoices("site_id", "workspace_id"),
        description="Receiving site (alias `workspace_id`); defaults to the current site.",
    )
    reference: Text | None = Field(
        None, min_length=1, max_length=255, examples=["PO-1042"], description="E.g. the PO."
    )
    lines: list[PurchaseLineIn] = Field(min_length=1, max_length=MAX_LINES)
    occurred_at: OccurredAt = None


class Purchase(BaseModel):
    """Stock received at a site: one `purchase` movement (+quantity, unit_cost) per line."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    site_id: uuid.UUID
    reference: str | None
    movements: list[Movement]
    created_at: Timestamp
    user_id: uuid.UUID | None
