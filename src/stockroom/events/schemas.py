"""The event as the API answers it, and the feed's page."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from stockroom.events.rules import EventType
from stockroom.fields import Timestamp


class EventOut(BaseModel):
    """Something that changed: `data` is the object as its own endpoint answers it."""

    id: uuid.UUID
    type: EventType
    created_at: Timestamp
    data: dict[str, Any]


class EventFeedMeta(BaseModel):
    limit: int
    next_cursor: str | None = Field(
        description="Pass as `after` to read on; null only while the brand has no event."
    )
    has_more: bool = Field(description="True when the page is full: read on at once.")


class EventFeedPage(BaseModel):
    """Events oldest first; follow `meta.next_cursor` to see every event exactly once."""

    data: list[EventOut]
    meta: EventFeedMeta
