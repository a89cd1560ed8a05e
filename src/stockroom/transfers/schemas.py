"""Stock transfer requests and answers: one product moved from the current site to another,
at once (one-step) or shipped now and received later (`in_transit`)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from stockroom.fields import LocationId, OccurredAt, PositiveQuantity, Text, Timestamp
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
    in_transit: bool = Field(
        False,
        description=(
            "Ship now, receive later: only the `transfer_out` is written; the units count in "
            "the destination's `in_transit` until received (`/receive`) or closed (`/close`). "
            "`destination_location_id` is then optional: the default location of receipts."
        ),
    )

    occurred_at: OccurredAt = None


TransferStatus = Literal["completed", "in_transit", "partially_received", "closed"]


class TransferCreated(BaseModel):
    """The halves of a transfer, linked by `transfer_id`; `transfer_in` is null while in transit."""

    transfer_id: uuid.UUID
    status: TransferStatus
    transfer_out: Movement
    transfer_in: Movement | None


class TransferMovement(Movement):
    """One half of a transfer, with its transfer's `status`."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6f3a52-8f1e-4c1a-9d7e-2f4b5c6d7e8f",
                    "type": "transfer_out",
                    "product_id": "3f0c2d1e-8b7a-4c55-9e21-6a1f0b9d4e10",
                    "site_id": "9a6e1b2c-3d4f-4a5b-8c7d-0e1f2a3b4c5d",
                    "location_id": None,
                    "quantity": -12,
                    "source_site_id": "9a6e1b2c-3d4f-4a5b-8c7d-0e1f2a3b4c5d",
                    "destination_site_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
                    "reference": "TR-1043",
                    "notes": None,
                    "reason_code": None,
                    "reason_description": None,
                    "invoice_id": None,
                    "transfer_id": "8c1d2e3f-4a5b-4c6d-9e8f-7a6b5c4d3e2f",
                    "unit_cost": None,
                    "user_id": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
                    "created_at": "2026-11-23T10:15:00.123456Z",
                    "occurred_at": "2026-11-23T10:15:00.123456Z",
                    "purchase_id": None,
                    "status": "in_transit",
                }
            ]
        },
    )

    status: TransferStatus


class ReceiptLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: PositiveQuantity
    location_id: LocationId | None = Field(
        None,
        description="Location at the destination; defaults to the transfer's "
        "`destination_location_id` (location-aware products need one or the other).",
    )


class ReceiveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReceiptLine] = Field(min_length=1, max_length=500)


class CloseReason(StrEnum):
    returned = "returned"
    lost = "lost"
    damaged = "damaged"


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: CloseReason = Field(
        description="`returned`: the outstanding units go back to the source (a `transfer_in` "
        "there); `lost` / `damaged`: they are written off on the transfer."
    )
    notes: Text | None = Field(None, max_length=1000)


class TransferLineOut(BaseModel):
    """One product of a transfer: shipped = received + outstanding + written_off + returned."""

    model_config = ConfigDict(from_attributes=True)

    product_id: uuid.UUID
    source_location_id: int | None
    destination_location_id: int | None
    shipped: int
    received: int
    outstanding: int
    written_off: int
    returned: int


class TransferDetail(BaseModel):
    """A transfer as a document: how far it got, per product and in total, and its movements."""

    id: uuid.UUID
    status: TransferStatus
    source_site_id: uuid.UUID
    destination_site_id: uuid.UUID
    reference: str | None
    notes: str | None
    shipped: int
    received: int
    outstanding: int
    written_off: int
    returned: int
    close_reason: CloseReason | None
    close_notes: str | None
    lines: list[TransferLineOut]
    movements: list[Movement]
    user_id: uuid.UUID | None
    created_at: Timestamp
    updated_at: Timestamp
    closed_at: Timestamp | None


class TransferType(StrEnum):
    transfer_out = "transfer_out"
    transfer_in = "transfer_in"


class TransferSort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"
    quantity = "quantity"
    quantity_desc = "-quantity"
