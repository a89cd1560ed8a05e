"""Pure rules of the events: which types exist, and when a level crosses its threshold."""

from __future__ import annotations

EVENT_TYPES = (
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
)


def threshold_crossing(before: int, after: int, min_stock: int) -> str | None:
    """`stock.low` when available falls below min_stock, `stock.replenished` when it gets
    back to or above it, None when it stays on one side (no event for staying low)."""
    if before >= min_stock > after:
        return "stock.low"
    if before < min_stock <= after:
        return "stock.replenished"
    return None
