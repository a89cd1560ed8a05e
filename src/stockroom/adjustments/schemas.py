"""Inventory adjustment requests: the single form and the batch form of the contract."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
)

from stockroom.fields import LocationId, OccurredAt, Quantity, Text

ExpectedOnHand = Annotated[
    int | None,
    Field(
        strict=True,
        # A level is a 64-bit integer; anything beyond it cannot be the current figure.
        ge=-(2**63),
        le=2**63 - 1,
        description="Compare-and-set: write only if the level is exactly this now; "
        "otherwise nothing is written and the answer is 409 `stale_quantity`.",
    ),
]
SiteId = Annotated[
    uuid.UUID | None,
    Field(
        validation_alias=AliasChoices("site_id", "workspace_id"),
        description="Site to adjust (alias `workspace_id`); defaults to the current site.",
    ),
]


def _non_zero(value: int) -> int:
    if value == 0:
        raise ValueError("must not be 0")
    return value


class SingleAdjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: Quantity = Field(description="Signed change: positive adds stock, negative removes.")
    reason_code: Text | None = Field(None, max_length=64, examples=["waste"])
    reason_description: Text | None = Field(None, max_length=1000)
    location_id: LocationId | None = Field(
        None, description="Required when the product is location-aware."
    )
    site_id: SiteId = None
    expected_on_hand: ExpectedOnHand = None
    occurred_at: OccurredAt = None

    _quantity_non_zero = field_validator("quantity")(_non_zero)


class BatchReason(StrEnum):
    damaged = "damaged"
    lost = "lost"
    found = "found"
    recount = "recount"
    other = "other"


class BatchLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: Quantity
    location_id: LocationId | None = None
    expected_on_hand: ExpectedOnHand = None

    _quantity_non_zero = field_validator("quantity")(_non_zero)


class BatchAdjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: list[BatchLine] = Field(min_length=1, max_length=500)
    reason: BatchReason
    notes: Text | None = Field(None, max_length=1000)
    reference: Text | None = Field(None, max_length=255)
    site_id: SiteId = None
    occurred_at: OccurredAt = None


def _body_form(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "products" in value else "single"


AdjustmentRequest = Annotated[
    Annotated[SingleAdjustment, Tag("single")] | Annotated[BatchAdjustment, Tag("batch")],
    Discriminator(_body_form),
]
