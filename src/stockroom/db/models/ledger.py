"""The ledger: append-only stock movements and the levels they sum to.

Both tables are written only by `stockroom.ledger`; a level always equals the sum of the
movements with its key, and movements are never updated or deleted.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, tenant_fk, tenant_key, utcnow

MOVEMENT_TYPES = (
    "sale",
    "purchase",
    "transfer_out",
    "transfer_in",
    "adjustment",
    "initial_stock",
    "return",
)

# Levels are keyed by location too; products that are not location-aware use this key.
NO_LOCATION = 0


class StockLevel(Base):
    __tablename__ = "stock_levels"
    __table_args__ = (
        tenant_fk("product_id", "products"),
        tenant_fk("site_id", "sites"),
        # Low stock for a site, stock listing by site.
        Index("ix_stock_levels_brand_id_site_id_product_id", "brand_id", "site_id", "product_id"),
        # No index holds on_hand or reserved (0013 dropped 0012's): a level's update is then
        # a heap-only (HOT) update on PostgreSQL, which adds no index entry.
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # NO_LOCATION (0) for site-level stock; otherwise a location id of the site.
    location_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=NO_LOCATION)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    # Units held by active reservations (expired ones included until the sweeper records
    # them; readers subtract those). Changed only by the ledger writer, like on_hand.
    reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# A site's short rows: on hand − reserved below the minimum (the partial low-stock index, 0013).
# The column first: SQLite turns `expression < column` around and then matches no index.
SHORT = "min_stock > on_hand - reserved"


class SiteShortfall(Base):
    """A product's stock at a site, summed over its locations, beside the product's minimum.

    `on_hand` and `reserved` are the sums of the product's levels at the site (reserved as
    stored: holds past `expires_at` count until the sweeper records them); `min_stock` is
    the product's. The writer changes the figures in the transaction that changes the
    levels (ledger/shortfalls.py); the catalogue keeps `min_stock` and gives every product
    with a minimum a row at every site (a product never stocked is short at 0). Low stock
    at a site is then an index range of the short rows (`SHORT`); `stockroom verify` checks
    the rows against the movements and the reservations.
    """

    __tablename__ = "site_shortfalls"
    __table_args__ = (
        tenant_fk("product_id", "products"),
        tenant_fk("site_id", "sites"),
        Index(
            "ix_site_shortfalls_brand_id_site_id_short",
            "brand_id",
            "site_id",
            postgresql_where=text(SHORT),
            sqlite_where=text(SHORT),
        ),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    min_stock: Mapped[int] = mapped_column(Integer, default=0)


class StockMovement(Base):
    __tablename__ = "stock_movements"
    __table_args__ = (
        # (brand_id, id, created_at): Citus's distribution column and the month partitions'
        # key must both be in it (migrations 0010 and 0011; the same on SQLite).
        tenant_key("id", "created_at"),
        tenant_fk("product_id", "products"),
        tenant_fk("site_id", "sites"),
        tenant_fk("location_id", "locations"),
        Index("ix_stock_movements_brand_id_created_at", "brand_id", "created_at", "id"),
        Index(
            "ix_stock_movements_brand_id_product_id_created_at",
            "brand_id",
            "product_id",
            "created_at",
        ),
        Index(
            "ix_stock_movements_brand_id_site_id_type_created_at",
            "brand_id",
            "site_id",
            "type",
            "created_at",
        ),
        Index(
            "ix_stock_movements_brand_id_type_created_at", "brand_id", "type", "created_at", "id"
        ),
        Index(
            "ix_stock_movements_brand_id_site_id_product_id", "brand_id", "site_id", "product_id"
        ),
        Index("ix_stock_movements_brand_id_invoice_id", "brand_id", "invoice_id"),
        Index("ix_stock_movements_brand_id_transfer_id", "brand_id", "transfer_id"),
        Index("ix_stock_movements_brand_id_purchase_id", "brand_id", "purchase_id"),
        # As-of reads: one product's movements at a site within an occurred_at range.
        Index(
            "ix_stock_movements_brand_id_product_id_site_id_occurred_at",
            "brand_id",
            "product_id",
            "site_id",
            "occurred_at",
        ),
        # The report for one site (or a non-admin's sites): newest first, keyset (created_at, id).
        Index(
            "ix_stock_movements_brand_id_site_id_created_at",
            "brand_id",
            "site_id",
            "created_at",
            "id",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    type: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[uuid.UUID] = mapped_column()
    site_id: Mapped[uuid.UUID] = mapped_column()
    location_id: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    source_site_id: Mapped[uuid.UUID | None] = mapped_column()
    destination_site_id: Mapped[uuid.UUID | None] = mapped_column()
    reference: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason_description: Mapped[str | None] = mapped_column(Text)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column()
    transfer_id: Mapped[uuid.UUID | None] = mapped_column()
    # The purchase document a `purchase` movement belongs to (not in the contract's fields;
    # answered as an extra field so integrators can link them).
    purchase_id: Mapped[uuid.UUID | None] = mapped_column()
    unit_cost: Mapped[Decimal | None] = mapped_column()
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When it happened in the world (a client may backdate it within the window the writer
    # enforces): always within [created_at − MAX_BACKDATE, created_at + MAX_AHEAD].
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockLevelDay(Base):
    """A level's net change on one UTC day by `occurred_at`: the as-of checkpoints.

    The writer adds each movement's quantity to its level's row for the movement's
    occurred_at day, in the movement's transaction, so for every level the rows sum to
    `on_hand` and a backdated movement corrects exactly one row (never a repost).
    """

    __tablename__ = "stock_level_days"
    __table_args__ = (tenant_fk("product_id", "products"), tenant_fk("site_id", "sites"))

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=NO_LOCATION)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
