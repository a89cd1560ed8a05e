"""The outbox: one row per event, written in the transaction of the change it describes.

`position` is the feed's order: NULL until the event is safe to read, then unique per brand
and increasing in commit order (stockroom/events/feed.py says how, per database). `seq` is
the order of insertion (a PostgreSQL identity; on SQLite it equals `position`): events of
one transaction are numbered in the order they were recorded.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stockroom.db.models.base import Base, new_id, utcnow


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("brand_id", "position"),
        # The relay's work list (PostgreSQL): events not numbered yet, in insertion order.
        Index(
            "ix_events_brand_id_seq_unnumbered",
            "brand_id",
            "seq",
            postgresql_where="position IS NULL",
            sqlite_where="position IS NULL",
        ),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    position: Mapped[int | None] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
