"""The worker loop: each round runs every job (worker/jobs.py), then waits a little.

Beside the jobs, each round delivers webhooks (webhooks/delivery.py: its own short
transactions, never one open across a request; endpoints leased with SKIP LOCKED).
`stockroom serve` runs one loop inside each server process unless `--no-worker`;
`stockroom worker` runs it alone. Correctness never depends on it running: expiry is exact
without it, `GET /events` numbers events itself; jobs only record and deliver. Webhooks are
sent only by it, so a deployment with `--no-worker` everywhere needs one `stockroom worker`.

Shutdown is graceful: once `stop` is set no job starts, and the running one ends its
transaction (commit or rollback) before the loop returns; nothing is left half done.
The ledger's partitions (`maintain_ledger`, the same work as `stockroom maintain`) are made
at start and then hourly, beside the rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockroom import clock
from stockroom.ledger.partitions import Maintenance, maintain_partitions
from stockroom.settings import Settings, get_settings
from stockroom.webhooks.delivery import WebhookSender
from stockroom.worker.jobs import JOBS, Job, Sessionmaker

log = logging.getLogger("stockroom.worker")

# A job that fails like this (the database restarting, a lock or pool timeout) committed
# nothing; the next round tries again.
TRANSIENT = (DBAPIError, OperationalError, PoolTimeout, OSError)


async def run_round(
    sessionmaker: Sessionmaker,
    *,
    jobs: tuple[Job, ...] = JOBS,
    stop: asyncio.Event | None = None,
) -> dict[str, int]:
    """Run each job once, in order; return what each did (a failed job did 0)."""
    done: dict[str, int] = {}
    for job in jobs:
        if stop is not None and stop.is_set():
            break
        try:
            done[job.name] = await job.run(sessionmaker)
        except TRANSIENT as exc:
            log.warning("job %s failed: %s: %s", job.name, type(exc).__name__, str(exc)[:200])
            done[job.name] = 0
        if done[job.name]:
            log.info("%s: %d", job.name, done[job.name])
    return done


async def run_once(sessionmaker: Sessionmaker) -> int:
    """One round of every job; return how much was done in all (0: nothing was waiting)."""
    return sum((await run_round(sessionmaker)).values())


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
    sessionmaker: Sessionmaker,
    *,
    interval_seconds: float = 1.0,
    stop: asyncio.Event | None = None,
    jobs: tuple[Job, ...] = JOBS,
    settings: Settings | None = None,
) -> None:
    """Run rounds until `stop` is set; a round where a job filled its batch (or webhooks wait)
    is followed at once by another, else the loop waits `interval_seconds` (or until stopped).
    On `stop` a webhook request in flight is finished and recorded, then the loop ends."""
    stop = stop or asyncio.Event()
    # The partitions and webhook delivery ride along the standard jobs; a caller that names
    # its own `jobs` (a test of the loop) gets those alone.
    standard = jobs is JOBS
    sender = (
        WebhookSender(sessionmaker, settings or get_settings(), stop=stop) if standard else None
    )
    loop = asyncio.get_running_loop()
    maintain_at = loop.time()
    try:
        while not stop.is_set():
            if standard and loop.time() >= maintain_at:
                try:
                    await maintain_ledger(sessionmaker)
                    maintain_at = loop.time() + MAINTAIN_EVERY_SECONDS
                except TRANSIENT as exc:
                    log.warning("partition job failed: %s: %s", type(exc).__name__, str(exc)[:200])
            done = await run_round(sessionmaker, jobs=jobs, stop=stop)
            busy = any(done.get(job.name, 0) >= job.batch for job in jobs)
            if sender is not None and not stop.is_set():
                try:
                    busy = (await sender.run_once())[1] or busy
                except Exception as exc:
                    # Whatever failed (the database going away mid-round, most likely), what
                    # was not recorded is sent again later: the loop must outlive it.
                    log.warning("webhook round failed: %s: %s", type(exc).__name__, str(exc)[:200])
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
    finally:
        if sender is not None:
            await sender.aclose()
