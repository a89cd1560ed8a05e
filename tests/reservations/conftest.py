"""A controllable clock for expiry: tests fix "now" instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from stockroom import clock


class Clock:
    def __init__(self) -> None:
        # Whole seconds plus a fraction: shows that comparisons keep microseconds.
        self.now = datetime.now(UTC).replace(microsecond=250_000)
        clock.set_now(self.now)

    def set(self, moment: datetime) -> None:
        self.now = moment
        clock.set_now(moment)

    def advance(self, **delta: float) -> None:
        self.set(self.now + timedelta(**delta))


@pytest.fixture
def frozen_clock() -> Iterator[Clock]:
    try:
        yield Clock()
    finally:
        clock.set_now(None)
