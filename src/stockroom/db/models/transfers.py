"""Transfers as documents: where stock was sent, and what became of each product shipped.

The ledger holds the movements (`transfer_out` at the source, `transfer_in` at the
destination when received, `transfer_in` back at the source when returned); these rows say
how far a transfer got. A line always balances: shipped = received + outstanding +
written_off + returned; `outstanding` is the quantity still on the road, the destination
site's `in_transit`. Rows change only in the transaction that writes the movements they
describe (`transfers/service.py`), and `stockroom verify` checks they agree.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, utcnow

TRANSFER_STATUSES = ("completed", "in_transit", "partially_received", "closed")
OPEN_STATUSES = ("in_transit", "partially_received")
CLOSE_REASONS = ("returned", "lost", "damaged")


class Transfer(Base):
    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_brand_id_status", "brand_id", "status"),)

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    # The `transfer_id` of its movements.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    source_site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    destination_site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(String(16))
    close_notes: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()


class TransferLine(Base):
    __tablename__ = "transfer_lines"
    __table_args__ = (
        UniqueConstraint("brand_id", "transfer_id", "product_id"),
        ForeignKeyConstraint(
            ["brand_id", "transfer_id"],
            ["transfers.brand_id", "transfers.id"],
            name="fk_transfer_lines_brand_id_transfer_id_transfers",
        ),
        # A site's in-transit units of a product: one probe.
        Index(
            "ix_transfer_lines_brand_id_product_id_destination_site_id",
            "brand_id",
            "product_id",
            "destination_site_id",
        ),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    transfer_id: Mapped[uuid.UUID] = mapped_column()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    # Copied from the transfer so `in_transit` reads one table.
    destination_site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    source_location_id: Mapped[int | None] = mapped_column(Integer)
    # Where receipts go unless a receipt line names its own location.
    destination_location_id: Mapped[int | None] = mapped_column(Integer)
    shipped: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    outstanding: Mapped[int] = mapped_column(BigInteger, default=0)
    written_off: Mapped[int] = mapped_column(BigInteger, default=0)
    returned: Mapped[int] = mapped_column(BigInteger, default=0)
