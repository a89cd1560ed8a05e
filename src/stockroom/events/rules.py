"""The event types of the contract (API.md, "Events and webhooks")."""

from __future__ import annotations

from typing import Literal, get_args

EventType = Literal[
    "movement.created",
    "stock.low",
    "stock.replenished",
    "reservation.created",
    "reservation.consumed",
    "reservation.released",
    "reservation.expired",
    "transfer.shipped",
    "transfer.received",
    "transfer.closed",
    "count.completed",
    "invoice.created",
    "invoice.voided",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
