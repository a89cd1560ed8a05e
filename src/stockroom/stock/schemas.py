"""Stock levels as the API shows them: per product, per site, per location.

Every level reports `on_hand`, `reserved` (held by unexpired reservations), `available`
(= on_hand − reserved, negative when stock was lost after it was promised) and, per site,
`in_transit` (units shipped to the site by transfers not yet received or closed).
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class LocationStock(BaseModel):
    location_id: int
    on_hand: int
    reserved: int = 0
    available: int = 0


class SiteStock(BaseModel):
    site_id: uuid.UUID
    site_name: str
    on_hand: int
    reserved: int = 0
    available: int = 0
    in_transit: int = 0
    locations: list[LocationStock]


class ProductStock(BaseModel):
    """A product's stock at every site the caller may read; the totals sum the listed sites."""

    product_id: uuid.UUID
    total: int = Field(description="On hand, summed over the listed sites.")
    reserved: int = 0
    available: int = 0
    in_transit: int = 0
    sites: list[SiteStock]


class StockLevelItem(BaseModel):
    """One product at one site, its locations summed."""

    product_id: uuid.UUID
    sku: str
    name: str
    site_id: uuid.UUID
    on_hand: int
    reserved: int
    available: int
    in_transit: int = 0
    min_stock: int


class LowStockItem(StockLevelItem):
    """A product whose `available` is below its `min_stock` at a site.

    `shortfall` = min_stock − available; `compared` names the quantity compared.
    """

    shortfall: int
    compared: Literal["available"] = "available"
