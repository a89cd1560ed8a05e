"""Webhook endpoints, the deliveries queued for them, and every attempt made.

An endpoint follows the brand's event feed with its own cursor (`event_position`: the last
event position queued for it). Each event it subscribes to becomes one delivery, sent in
position order; each HTTP request made for a delivery is one attempt row (the delivery log).
Only one worker sends for an endpoint at a time: it holds the endpoint's lease
(`lease_owner` until `lease_until`), taken with SKIP LOCKED on PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, utcnow

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        Index("ix_webhook_endpoints_brand_id_created_at", "brand_id", "created_at", "id"),
        Index("ix_webhook_endpoints_enabled_lease_until", "enabled", "lease_until"),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    # Event types subscribed to; ["*"] is every type.
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    # The `whsec_` secret, encrypted (webhooks/secrets.py); never stored or logged in clear.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # The last event position queued for this endpoint (events after it are still to queue).
    event_position: Mapped[int] = mapped_column(BigInteger, default=0)
    # Since when every attempt has failed (NULL: the last attempt succeeded).
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    lease_owner: Mapped[uuid.UUID | None] = mapped_column(default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("brand_id", "endpoint_id", "event_id"),
        # The sender: an endpoint's pending deliveries in event order.
        Index(
            "ix_webhook_deliveries_endpoint_id_status_event_position",
            "endpoint_id",
            "status",
            "event_position",
        ),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    endpoint_id: Mapped[uuid.UUID] = mapped_column()
    event_id: Mapped[uuid.UUID] = mapped_column()
    event_type: Mapped[str] = mapped_column(String(64))
    event_position: Mapped[int] = mapped_column(BigInteger)
    # The exact JSON body sent on every attempt (signatures are over these bytes).
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    # A manual retry of a delivered or failed delivery: one attempt, out of the queue's order.
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The first attempt of the current series (a manual retry starts a new series).
    first_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_delivery_id_attempted_at", "delivery_id", "attempted_at"),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    delivery_id: Mapped[uuid.UUID] = mapped_column()
    endpoint_id: Mapped[uuid.UUID] = mapped_column()
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
