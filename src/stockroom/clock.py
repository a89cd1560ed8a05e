"""The one source of "now" for services: the wall clock, or an instant a test sets.

Reservations expire exactly at `expires_at`; tests prove it at `expires_at ± 0` by setting
this clock instead of sleeping. Everything that stamps or compares times calls `now()`.
"""

from __future__ import annotations

from datetime import UTC, datetime

_fixed: datetime | None = None


def now() -> datetime:
    """The current instant (UTC, timezone-aware): the wall clock unless a test fixed it."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def fixed() -> datetime | None:
    """The instant a test fixed the clock at, or None on the wall clock."""
    return _fixed


def set_now(moment: datetime | None) -> None:
    """Fix the clock at `moment` (aware), or give it back to the wall clock with None."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock takes timezone-aware instants only")
    global _fixed
    _fixed = moment
