"""Initial stock requests: the opening quantities (and costs) of products at one site."""

from __future__ import annotations

import uuid

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from stockroom.fields import LocationId, Money, NonNegativeQuantity, OccurredAt

# One request sets up at most this many products; bigger catalogues send several requests.
MAX_LINES = 500


class InitialStockLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: NonNegativeQuantity = Field(
        description="Opening on-hand quantity, a plain JSON integer ≥ 0."
    )
    cost_per_unit: Money | None = Field(
        None, description="Unit cost of this stock; moves the product's average cost."
    )
    location_id: LocationId | None = Field(
        None, description="Required when the product is location-aware."
    )


class InitialStockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: list[InitialStockLine] = Field(min_length=1, max_length=MAX_LINES)
    site_id: uuid.UUID | None = Field(
        None,
        validation_alias=AliasChoices("site_id", "workspace_id"),
        description="Site to set up (alias `workspace_id`); defaults to the current site.",
    )
    occurred_at: OccurredAt = None
