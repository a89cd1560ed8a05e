"""Stock transfer requests and answers: one product moved from the current site to another."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from stockroom.fields import LocationId, OccurredAt, PositiveQuantity, Text
from stockroom.movements.schemas import Movement


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    destination_site_id: uuid.UUID = Field(
        validation_alias=AliasChoices("destination_site_id", "destination_workspace_id"),
        description="Site of the brand that receives the stock (alias `destination_workspace_id`).",
    )
    quantity: PositiveQuantity = Field(
        description="How many units move; a plain JSON integer above 0."
    )
    reference: Text | None = Field(None, max_length=255)
    notes: Text | None = Field(None, max_length=1000)
    source_location_id: LocationId | None = Field(
        None, description="Location at the source; required for location-aware products."
    )
    destination_location_id: LocationId | None = Field(
        None, description="Location at the destination; required for location-aware products."
    )
    site_id: uuid.UUID | None = Field(
        None,
        validation_alias=AliasChoices("site_id", "workspace_id"),
        description="Source site (alias `workspace_id`); defaults to the current site.",
    )
    occurred_at: OccurredAt = None


class TransferCreated(BaseModel):
    """The two halves of a transfer, linked by `transfer_id`."""

    transfer_id: uuid.UUID
    transfer_out: Movement
    transfer_in: Movement


class TransferType(StrEnum):
    transfer_out = "transfer_out"
    transfer_in = "transfer_in"


class TransferSort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"
    quantity = "quantity"
    quantity_desc = "-quantity"
