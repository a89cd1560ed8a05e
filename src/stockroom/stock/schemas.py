"""Stock levels as the API shows them: per product, per site, per location."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class LocationStock(BaseModel):
    location_id: int
    on_hand: int


class SiteStock(BaseModel):
    site_id: uuid.UUID
    site_name: str
    on_hand: int
    locations: list[LocationStock]


class ProductStock(BaseModel):
    """A product's stock at every site the caller may read; `total` sums the listed sites."""

    product_id: uuid.UUID
    total: int
    sites: list[SiteStock]


class StockLevelItem(BaseModel):
    """On-hand of one product at one site, its locations summed."""

    product_id: uuid.UUID
    sku: str
    name: str
    site_id: uuid.UUID
    on_hand: int
    min_stock: int


class LowStockItem(StockLevelItem):
    """A product below its `min_stock` at a site; `shortfall` = min_stock − on_hand."""

    shortfall: int
