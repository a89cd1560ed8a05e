"""Reservations: units of a level promised to an order, held until sold, released or expired.

A level's `reserved` column is the sum of `remaining` over the *active* lines on it; a
line is active while its reservation is `active`. Expiry needs no job to be exact: readers
and writers subtract the lines whose `expires_at` has passed (the sweeper later records the
status). `expires_at` is copied onto the lines so that subtraction reads one table.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, tenant_fk, tenant_key, utcnow

RESERVATION_STATUSES = ("active", "consumed", "released", "expired")


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("site_id", "sites"),
        Index("ix_reservations_brand_id_created_at", "brand_id", "created_at", "id"),
        Index("ix_reservations_brand_id_reference", "brand_id", "reference"),
        # The sweeper: active reservations by expiry, across brands.
        Index("ix_reservations_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    site_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="active")
    reference: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReservationLine(Base):
    __tablename__ = "reservation_lines"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("reservation_id", "reservations"),
        tenant_fk("product_id", "products"),
        tenant_fk("site_id", "sites"),
        Index("ix_reservation_lines_reservation_id", "reservation_id", "line_no"),
        # What is held on a level (and what of it has expired): one probe per level.
        Index(
            "ix_reservation_lines_brand_id_product_id_site_id_location_id",
            "brand_id",
            "product_id",
            "site_id",
            "location_id",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    reservation_id: Mapped[uuid.UUID] = mapped_column()
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID] = mapped_column()
    site_id: Mapped[uuid.UUID] = mapped_column()
    # NO_LOCATION (0) like stock_levels, so a line names its level's key exactly.
    location_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime] = mapped_column()
