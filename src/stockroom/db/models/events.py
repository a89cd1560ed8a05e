"""The outbox's `events` table — a STAND-IN on branch `webhooks` with the agreed columns only.

The `events` branch owns this table and its writers; webhooks only read it through
`stockroom.events.feed.read_events`. The lead replaces this module with theirs at merge.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, utcnow


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_brand_id_position", "brand_id", "position"),)

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Increasing in commit order once set; NULL while not yet numbered.
    position: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
