"""The reservations' controllable clock, for the events of expiry."""

from tests.reservations.conftest import frozen_clock

__all__ = ["frozen_clock"]
