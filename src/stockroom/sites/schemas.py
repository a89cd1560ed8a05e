"""Sites and their bin locations as the API shows them, and the bodies that change them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockroom.fields import Text, Timestamp

Name = Annotated[Text, Field(min_length=1, max_length=200, examples=["Downtown shop"])]
AllowNegativeStock = Annotated[
    bool,
    Field(
        strict=True,
        description="Whether stock at the site may go below zero (sales before the delivery "
        "is booked).",
    ),
]


class Site(BaseModel):
    """A place of the brand where stock is held."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    allow_negative_stock: bool
    created_at: Timestamp


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    allow_negative_stock: AllowNegativeStock = False


class SiteUpdate(BaseModel):
    """Only the fields sent change; `null` is not a value for any of them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    allow_negative_stock: AllowNegativeStock | None = Field(
        None, description="Cannot be turned off (422) while a level at the site is below zero."
    )

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class Location(BaseModel):
    """A bin or shelf inside a site."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: uuid.UUID
    name: str
    created_at: Timestamp


class LocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[Text, Field(min_length=1, max_length=200, examples=["Shelf A3"])]
