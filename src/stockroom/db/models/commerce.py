"""Invoices (sales) and purchases: documents whose lines the ledger turns into movements."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, tenant_fk, tenant_key, utcnow


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("site_id", "sites"),
        Index("ix_invoices_brand_id_created_at", "brand_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    site_id: Mapped[uuid.UUID] = mapped_column()
    number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="issued")  # issued | void
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    # The reservation whose units this sale consumed, if any.
    reservation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(default=None)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("invoice_id", "invoices"),
        tenant_fk("product_id", "products"),
        tenant_fk("location_id", "locations"),
        Index("ix_invoice_lines_brand_id_invoice_id", "brand_id", "invoice_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    invoice_id: Mapped[uuid.UUID] = mapped_column()
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID] = mapped_column()
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[Decimal] = mapped_column()
    location_id: Mapped[int | None] = mapped_column(Integer)


class Purchase(Base):
    __tablename__ = "purchases"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("site_id", "sites"),
        Index("ix_purchases_brand_id_created_at", "brand_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    site_id: Mapped[uuid.UUID] = mapped_column()
    reference: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
