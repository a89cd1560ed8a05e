"""Stock valuation: quantity × average cost per product and site, with totals."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, PlainSerializer, WithJsonSchema

from stockroom.fields import MoneyOut, Timestamp, money_text


def _signed_money_text(value: Decimal) -> str:
    return "-" + money_text(-value) if value < 0 else money_text(value)


Amount = Annotated[
    Decimal,
    PlainSerializer(_signed_money_text, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,4})?$", "examples": ["1250.5"]},
        mode="serialization",
    ),
]
"""A value (quantity × cost): a decimal string, negative where the stock is negative."""


class ValuationLine(BaseModel):
    """One product at one site (locations summed)."""

    product_id: uuid.UUID
    sku: str
    name: str
    site_id: uuid.UUID
    quantity: int
    average_cost: MoneyOut | None
    value: Amount | None


class SiteValue(BaseModel):
    site_id: uuid.UUID
    quantity: int
    value: Amount


class BrandValue(BaseModel):
    quantity: int
    value: Amount


class Valuation(BaseModel):
    """The stock's value at `as_of`; lines without a recorded cost have no `value` and count
    as 0 in the totals (see docs/stock-through-time.md)."""

    as_of: Timestamp
    data: list[ValuationLine]
    sites: list[SiteValue]
    total: BrandValue
