"""Brands (tenants), their sites and bin locations, users, site grants and API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, tenant_fk, tenant_key, utcnow


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = (tenant_key("id"), Index("ix_sites_brand_id_name", "brand_id", "name"))

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    name: Mapped[str] = mapped_column(String(200))
    allow_negative_stock: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("site_id", "sites"),
        Index("ix_locations_brand_id_site_id", "brand_id", "site_id"),
    )

    # Integer ids, as the contract's InventoryLocation, numbered per brand from 1 by
    # `sites.service.create_location` (no shared sequence: docs/scaling.md); 0 is never used
    # (it means "no location").
    id: Mapped[int] = mapped_column(Integer, autoincrement=False)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    site_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("default_site_id", "sites"),
        UniqueConstraint("brand_id", "email"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))  # admin | manager | viewer
    default_site_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSite(Base):
    """A site granted to a manager or viewer (admins see every site of their brand)."""

    __tablename__ = "user_sites"
    __table_args__ = (
        tenant_key("user_id", "site_id"),
        tenant_fk("user_id", "users"),
        tenant_fk("site_id", "sites"),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    user_id: Mapped[uuid.UUID] = mapped_column()
    site_id: Mapped[uuid.UUID] = mapped_column()


class ApiToken(Base):
    """A bearer token, kept only as its SHA-256 hash; `prefix` names it for people."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        tenant_key("id"),
        tenant_fk("user_id", "users"),
        UniqueConstraint("brand_id", "token_hash"),
        Index("ix_api_tokens_brand_id_user_id", "brand_id", "user_id"),
        # Tokens minted before they carried their brand are found by hash alone.
        Index("ix_api_tokens_token_hash", "token_hash"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"))
    user_id: Mapped[uuid.UUID] = mapped_column()
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
