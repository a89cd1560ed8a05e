"""The worker loop: each round runs every job in its own transaction, then waits a little.

Jobs must be safe with any number of workers at once (reservations/expiry.py claims its
rows with SKIP LOCKED). `stockroom serve` runs one loop inside each server process unless
`--no-worker`; `stockroom worker` runs it alone. Correctness never depends on it running:
expiry is exact without it, the sweeper only records it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockroom.db.engine import WRITE
from stockroom.db.models.base import utcnow
from stockroom.reservations.expiry import BATCH, expire_reservations

log = logging.getLogger("stockroom.worker")


async def run_once(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """One round: expire one batch of due reservations; return how many were expired."""
    async with sessionmaker() as session:
        # SQLite: take the write lock now (BEGIN IMMEDIATE), like every write request.
        await session.connection(execution_options={WRITE: True})
        try:
            expired = await expire_reservations(session, utcnow())
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
    if expired:
        log.info("expired %d reservations", expired)
    return expired


async def run_worker(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    interval_seconds: float = 1.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Run rounds until `stop` is set; a full batch is followed at once by another."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            done = await run_once(sessionmaker)
        except (DBAPIError, OperationalError, OSError) as exc:
            # The database restarting or a lock timeout: nothing committed; try again later.
            log.warning("worker round failed: %s: %s", type(exc).__name__, str(exc)[:200])
            done = 0
        if done < BATCH:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
