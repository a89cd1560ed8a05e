"""Products as the API shows them, and the bodies that create and change them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockroom.fields import MAX_QUANTITY, Money, MoneyOut, Text, Timestamp

# The columns' limits (String(64/200/32)); plain JSON integers and booleans only.
Sku = Annotated[Text, Field(min_length=1, max_length=64, examples=["TEA-EARLGREY-250"])]
Name = Annotated[Text, Field(min_length=1, max_length=200, examples=["Earl Grey, 250 g"])]
Unit = Annotated[Text, Field(min_length=1, max_length=32, examples=["box"])]
MinStock = Annotated[
    int,
    Field(strict=True, ge=0, le=MAX_QUANTITY, description="Low-stock threshold, per site."),
]
LocationAware = Annotated[
    bool, Field(strict=True, description="Stock is kept per bin location inside a site.")
]
CostPerUnit = Annotated[
    Money,
    Field(
        description="Average cost of one unit, a decimal (up to 4 places); sent as a string "
        'or a number, answered as a string ("12.5").',
        examples=["12.50"],
    ),
]


class Product(BaseModel):
    """A catalogue item of the brand."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    name: str
    unit: str
    min_stock: int
    location_aware: bool
    cost_per_unit: MoneyOut
    archived: bool
    created_at: Timestamp
    updated_at: Timestamp


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: Sku
    name: Name
    unit: Unit = "unit"
    min_stock: MinStock = 0
    location_aware: LocationAware = False
    cost_per_unit: CostPerUnit = Decimal("0")


class ProductUpdate(BaseModel):
    """Only the fields sent change; `null` is not a value for any of them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: Sku | None = None
    name: Name | None = None
    unit: Unit | None = None
    min_stock: MinStock | None = None
    location_aware: LocationAware | None = Field(
        None, description="Refused (422) once the product has stock movements."
    )
    archived: bool | None = Field(None, strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value
