"""Read routing: lists, reports and CSV exports read from the replica when one is configured.

`STOCKROOM_READ_DATABASE_URL` names a streaming replica. Routes that take `ReadSession`
(collections, reports, exports: reads that may lag the primary by the replica's replay lag)
read there; everything else — every write, the answer of a write, a GET of one thing by id,
the token lookup — uses the request's primary session (`stockroom.db.session.get_session`).
Without a replica, `ReadSession` *is* the primary session (no second connection).

The lag guard: when the replica is more than `STOCKROOM_READ_MAX_LAG_SECONDS` behind the
primary, those reads go to the primary instead, until it catches up. Each process measures
the lag at most once a second (`ReplicaLag`). See docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.session import get_session
from stockroom.settings import Settings


def create_read_engine(settings: Settings) -> AsyncEngine | None:
    """The replica's engine (its own pool, sized like the primary's), or None without one."""
    if not settings.read_database_url:
        return None
    return create_engine(settings, url=settings.read_database_url)


log = logging.getLogger("stockroom.replica")

# A process measures the replica's lag at most this often; between, it trusts the last value.
LAG_CHECK_SECONDS = 1.0

# Seconds the replica is behind: 0 once it has replayed everything the primary had written
# when asked; otherwise the age of the last transaction it replayed (infinite if none), so
# a replica that stopped replaying is "behind" however quiet the primary has been since.
_REPLICA_LAG = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0::float8 "
    "WHEN pg_last_wal_replay_lsn() >= CAST(CAST(:lsn AS text) AS pg_lsn) THEN 0::float8 "
    "ELSE coalesce(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
    "::float8, 'Infinity'::float8) END"
)


async def replica_lag_seconds(primary: AsyncEngine, replica: AsyncEngine) -> float:
    """How far the replica is behind the primary now (seconds)."""
    async with primary.connect() as conn:
        lsn = (await conn.execute(text("SELECT pg_current_wal_lsn()::text"))).scalar_one()
    async with replica.connect() as conn:
        lag = (await conn.execute(_REPLICA_LAG, {"lsn": lsn})).scalar_one()
    return float(lag)


class ReplicaLag:
    """Whether the replica is too far behind to read from, measured at most once a second."""

    def __init__(self, primary: AsyncEngine, replica: AsyncEngine, max_lag_seconds: float):
        self.primary, self.replica, self.max_lag_seconds = primary, replica, max_lag_seconds
        self.lag_seconds = 0.0
        self._behind = False
        self._next_check = float("-inf")
        self._lock = asyncio.Lock()

    async def too_far_behind(self) -> bool:
        loop = asyncio.get_running_loop()
        # While one request measures, the others go by the last measurement.
        if loop.time() < self._next_check or self._lock.locked():
            return self._behind
        async with self._lock:
            self.lag_seconds = await replica_lag_seconds(self.primary, self.replica)
            behind = self.lag_seconds > self.max_lag_seconds
            if behind != self._behind:
                log.warning(
                    "replica %s: %.1f s behind (limit %.1f s); its reads go to the %s",
                    "lags" if behind else "caught up",
                    self.lag_seconds,
                    self.max_lag_seconds,
                    "primary" if behind else "replica again",
                )
            self._behind = behind
            self._next_check = loop.time() + LAG_CHECK_SECONDS
        return self._behind


def read_engine_of(request: Request) -> AsyncEngine:
    """The engine this request's reads of many records use (after `get_read_session`)."""
    engine: AsyncEngine = getattr(request.state, "read_engine", request.app.state.read_engine)
    return engine


async def get_read_session(
    request: Request,
    primary: Annotated[AsyncSession, Depends(get_session, scope="function")],
) -> AsyncIterator[AsyncSession]:
    """The replica's session for this request (read-only, rolled back), or the primary's."""
    maker: async_sessionmaker[Any] | None = getattr(request.app.state, "read_sessionmaker", None)
    guard: ReplicaLag | None = getattr(request.app.state, "replica_lag", None)
    if maker is None or (guard is not None and await guard.too_far_behind()):
        request.state.read_engine = request.app.state.engine
        yield primary
        return
    session: AsyncSession = maker()
    try:
        yield session
    finally:
        await session.rollback()
        await session.close()


ReadSession = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


def read_sessionmaker(engine: AsyncEngine | None) -> async_sessionmaker[Any] | None:
    return create_sessionmaker(engine) if engine is not None else None
