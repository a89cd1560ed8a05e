"""The worker loop: each round runs every job, then waits a little if none has more to do.

Jobs: reservation expiry (one transaction per round) and webhook delivery
(webhooks/delivery.py: its own short transactions, never one open across a request).
Jobs must be safe with any number of workers at once (reservations/expiry.py claims its
rows with SKIP LOCKED; webhook endpoints are leased with SKIP LOCKED). `stockroom serve`
runs one loop inside each server process unless `--no-worker`; `stockroom worker` runs it
alone. Expiry is exact without it (the sweeper only records it); webhooks are sent only by
it, so a deployment with `--no-worker` everywhere needs at least one `stockroom worker`.
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
from stockroom.settings import Settings, get_settings
from stockroom.webhooks.delivery import WebhookSender

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
    settings: Settings | None = None,
) -> None:
    """Run rounds until `stop` is set; a full batch is followed at once by another.

    On `stop` a webhook request in flight is finished and recorded, then the loop ends.
    """
    stop = stop or asyncio.Event()
    sender = WebhookSender(sessionmaker, settings or get_settings(), stop=stop)
    try:
        while not stop.is_set():
            busy = False
            try:
                busy = await run_once(sessionmaker) >= BATCH
            except (DBAPIError, OperationalError, OSError) as exc:
                # The database restarting or a lock timeout: nothing committed; try again later.
                log.warning("worker round failed: %s: %s", type(exc).__name__, str(exc)[:200])
            try:
                busy = (await sender.run_once())[1] or busy
            except Exception as exc:
                # Whatever failed (the database going away mid-round, most likely), what was
                # not recorded is sent again later: the loop must outlive it.
                log.warning("webhook round failed: %s: %s", type(exc).__name__, str(exc)[:200])
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
    finally:
        await sender.aclose()
