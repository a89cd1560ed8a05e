"""The brand's product catalogue."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, tenant_key, utcnow


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        tenant_key("id"),
        UniqueConstraint("brand_id", "sku"),
        CheckConstraint("min_stock >= 0", name="min_stock_not_negative"),
        Index("ix_products_brand_id_name", "brand_id", "name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), default="unit")
    min_stock: Mapped[int] = mapped_column(default=0)
    location_aware: Mapped[bool] = mapped_column(default=False)
    # The weighted average cost of the stock on hand; purchases and costed initial stock move it.
    cost_per_unit: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
