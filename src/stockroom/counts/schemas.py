"""Stock counts: start, record lines, complete, and the count as every endpoint returns it."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from stockroom.fields import LocationId, NonNegativeQuantity, Text, Timestamp
from stockroom.movements.schemas import Movement

CountStatus = Literal["open", "completed", "cancelled"]
MAX_LINES = 500
MAX_PRODUCTS = 5000

CountedQuantity = Annotated[NonNegativeQuantity, Field(description="What is physically there.")]


class CountLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    location_id: LocationId | None = Field(
        None,
        description="Required for a location-aware product, unless the count is of one location.",
    )
    counted_quantity: CountedQuantity


class CountLinesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[CountLineIn] = Field(min_length=1, max_length=MAX_LINES)


class CountStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: uuid.UUID | None = Field(
        None,
        validation_alias=AliasChoices("site_id", "workspace_id"),
        description="Site to count (alias `workspace_id`); defaults to the current site.",
    )
    location_id: LocationId | None = Field(
        None, description="Count only this location (its location-aware products)."
    )
    product_ids: list[uuid.UUID] | None = Field(
        None,
        min_length=1,
        max_length=MAX_PRODUCTS,
        description="The products to count; default every product of the brand.",
    )
    notes: Text | None = Field(None, max_length=1000)
    lines: list[CountLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    complete: bool = Field(
        False, strict=True, description="Apply the count at once (count-and-apply in one call)."
    )
    zero_uncounted: bool = Field(
        False, strict=True, description="With `complete`: set what was not counted to zero."
    )


class CountComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zero_uncounted: bool = Field(
        False,
        strict=True,
        description="Count every product of the scope with no line as 0 (its stock is "
        "written off); by default uncounted products are left as they are.",
    )


class CountLine(BaseModel):
    product_id: uuid.UUID
    location_id: int | None
    counted_quantity: int
    expected: int = Field(description="On hand at the instant the line was counted.")
    variance: int = Field(description="counted_quantity − expected.")
    counted_at: Timestamp
    counted_by: uuid.UUID | None


class UncountedItem(BaseModel):
    product_id: uuid.UUID
    location_id: int | None


class Count(BaseModel):
    id: uuid.UUID
    status: CountStatus
    site_id: uuid.UUID
    location_id: int | None
    product_ids: list[uuid.UUID] | None = Field(
        description="The products of the scope; null when it is every product of the brand."
    )
    notes: str | None
    lines: list[CountLine]
    uncounted: list[UncountedItem] | None = Field(
        description="What the scope holds that has no line yet: on `GET` of one open count; "
        "null elsewhere (lists, write answers, closed counts)."
    )
    movements: list[Movement] = Field(
        description="The `recount` adjustments written when the count was completed."
    )
    user_id: uuid.UUID | None
    created_at: Timestamp
    updated_at: Timestamp
    completed_at: Timestamp | None
    cancelled_at: Timestamp | None
