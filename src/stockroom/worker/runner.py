"""The worker loop: each round runs every job (worker/jobs.py), then waits a little.

`stockroom serve` runs one loop inside each server process unless `--no-worker`;
`stockroom worker` runs it alone. Correctness never depends on it running: expiry is exact
without it, `GET /events` numbers events itself; jobs only record and deliver.

Shutdown is graceful: once `stop` is set no job starts, and the running one ends its
transaction (commit or rollback) before the loop returns; nothing is left half done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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


async def run_worker(
    sessionmaker: Sessionmaker,
    *,
    interval_seconds: float = 1.0,
    stop: asyncio.Event | None = None,
    jobs: tuple[Job, ...] = JOBS,
) -> None:
    """Run rounds until `stop` is set; a round where a job filled its batch is followed at
    once by another, else the loop waits `interval_seconds` (or until stopped)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        done = await run_round(sessionmaker, jobs=jobs, stop=stop)
        busy = any(done.get(job.name, 0) >= job.batch for job in jobs)
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
