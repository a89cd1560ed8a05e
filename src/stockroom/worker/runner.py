"""The worker loop: each round runs every job in its own transaction, then waits a little.

Jobs: reservation expiry every round; the ledger's partitions (`maintain_ledger`, the
same work as `stockroom maintain`) at start and then hourly.

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

from stockroom import clock
from stockroom.db.engine import WRITE
from stockroom.db.models.base import utcnow
from stockroom.ledger.partitions import Maintenance, maintain_partitions
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


# The ledger's partitions are made months ahead: once an hour is plenty (and at start).
MAINTAIN_EVERY_SECONDS = 3600.0


async def maintain_ledger(sessionmaker: async_sessionmaker[AsyncSession]) -> Maintenance:
    """The partition job: create the ledger's partitions due now (PostgreSQL; else nothing)."""
    async with sessionmaker() as session:
        conn = await session.connection()
        try:
            result = await maintain_partitions(conn, clock.now().date())
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
    if result.created:
        log.info("created ledger partitions %s", ", ".join(result.created))
    return result


async def run_worker(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    interval_seconds: float = 1.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Run rounds until `stop` is set; a full batch is followed at once by another."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    maintain_at = loop.time()
    while not stop.is_set():
        if loop.time() >= maintain_at:
            try:
                await maintain_ledger(sessionmaker)
                maintain_at = loop.time() + MAINTAIN_EVERY_SECONDS
            except (DBAPIError, OperationalError, OSError) as exc:
                log.warning("partition job failed: %s: %s", type(exc).__name__, str(exc)[:200])
        try:
            done = await run_once(sessionmaker)
        except (DBAPIError, OperationalError, OSError) as exc:
            # The database restarting or a lock timeout: nothing committed; try again later.
            log.warning("worker round failed: %s: %s", type(exc).__name__, str(exc)[:200])
            done = 0
        if done < BATCH:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
