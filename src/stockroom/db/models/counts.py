"""Physical counts: a count session at a site, and the lines counted into it.

A line keeps the on-hand figure of its level read in the same transaction as the line was
recorded (`expected`), so completing the count applies only the difference found at that
instant: stock sold or received after a line was counted is kept.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, tenant_fk, tenant_key, utcnow
from stockroom.db.models.ledger import NO_LOCATION

COUNT_STATUSES = ("open", "completed", "cancelled")


class StockCount(Base):
    __tablename__ = "stock_counts"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("site_id", "sites"),
        tenant_fk("location_id", "locations"),
        Index("ix_stock_counts_brand_id_created_at", "brand_id", "created_at", "id"),
        Index("ix_stock_counts_brand_id_site_id_created_at", "brand_id", "site_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    site_id: Mapped[uuid.UUID] = mapped_column()
    location_id: Mapped[int | None] = mapped_column(Integer)
    # False: the scope is the products listed in stock_count_products; True: every product.
    every_product: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    notes: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class StockCountProduct(Base):
    """A product in the scope of a count that names its products."""

    __tablename__ = "stock_count_products"
    __table_args__ = (
        tenant_key("count_id", "product_id"),
        tenant_fk("count_id", "stock_counts"),
        tenant_fk("product_id", "products"),
    )

    count_id: Mapped[uuid.UUID] = mapped_column()
    product_id: Mapped[uuid.UUID] = mapped_column()
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))


class StockCountLine(Base):
    """The latest entry for one (product, location) of a count."""

    __tablename__ = "stock_count_lines"
    __table_args__ = (
        tenant_key("count_id", "product_id", "location_id"),
        tenant_fk("count_id", "stock_counts"),
        tenant_fk("product_id", "products"),
    )

    count_id: Mapped[uuid.UUID] = mapped_column()
    product_id: Mapped[uuid.UUID] = mapped_column()
    # NO_LOCATION (0) for products that are not location-aware, as in stock_levels.
    location_id: Mapped[int] = mapped_column(Integer, default=NO_LOCATION)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    counted_quantity: Mapped[int] = mapped_column(BigInteger)
    # On hand at the level when the line was recorded, read in the same transaction.
    expected: Mapped[int] = mapped_column(BigInteger)
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)
    counted_by: Mapped[uuid.UUID | None] = mapped_column()
