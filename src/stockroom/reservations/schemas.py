"""Reservation requests and the reservation as every endpoint returns it."""

from __future__ import annotations

import uuid
from typing import Literal, Self

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from stockroom.fields import LocationId, PositiveQuantity, Text, Timestamp

MAX_LINES = 500
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 30 * 24 * 3600
DEFAULT_TTL_SECONDS = 900

Status = Literal["active", "consumed", "released", "expired"]


class ReservationLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: PositiveQuantity = Field(description="Units to hold, > 0.")
    location_id: LocationId | None = Field(
        None, description="Required when the product is location-aware."
    )


class Expiry(BaseModel):
    """`expires_at` or `ttl_seconds` (not both); both are checked against 60 s … 30 days."""

    model_config = ConfigDict(extra="forbid")

    expires_at: AwareDatetime | None = Field(
        None, description="When the hold ends (RFC 3339 with a zone), 60 s to 30 days ahead."
    )
    ttl_seconds: int | None = Field(
        None,
        strict=True,
        ge=MIN_TTL_SECONDS,
        le=MAX_TTL_SECONDS,
        description="Seconds from now until the hold ends: 60 … 2592000 (30 days).",
    )

    @model_validator(mode="after")
    def _one_of_them(self) -> Self:
        if self.expires_at is not None and self.ttl_seconds is not None:
            raise ValueError("give expires_at or ttl_seconds, not both")
        return self


class ReservationCreate(Expiry):
    site_id: uuid.UUID | None = Field(
        None,
        validation_alias=AliasChoices("site_id", "workspace_id"),
        description="Site holding the stock (alias `workspace_id`); defaults to the current site.",
    )
    lines: list[ReservationLineIn] = Field(min_length=1, max_length=MAX_LINES)
    reference: Text | None = Field(
        None, min_length=1, max_length=255, description="An order number.", examples=["SO-1042"]
    )
    notes: Text | None = Field(None, max_length=1000)


class ReleaseLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: PositiveQuantity = Field(description="Units to release.")
    location_id: LocationId | None = None


class ReservationRelease(BaseModel):
    """Without `lines` (or with an empty body) everything that remains is released."""

    model_config = ConfigDict(extra="forbid")

    lines: list[ReleaseLine] | None = Field(None, min_length=1, max_length=MAX_LINES)


class ReservationExtend(Expiry):
    @model_validator(mode="after")
    def _needs_one(self) -> Self:
        if self.expires_at is None and self.ttl_seconds is None:
            raise ValueError("give expires_at or ttl_seconds")
        return self


class ReservationLine(BaseModel):
    product_id: uuid.UUID
    location_id: int | None
    quantity: int
    remaining: int


class Reservation(BaseModel):
    """Units held at a site; `status` is `expired` from `expires_at` on, swept or not."""

    id: uuid.UUID
    status: Status
    site_id: uuid.UUID
    lines: list[ReservationLine]
    expires_at: Timestamp
    reference: str | None
    notes: str | None
    user_id: uuid.UUID | None
    created_at: Timestamp
    updated_at: Timestamp
