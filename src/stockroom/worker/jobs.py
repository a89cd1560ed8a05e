"""The worker's jobs: what one round runs, in this order, each in transactions of its own.

A job takes the sessionmaker, does one batch of work and returns how much it did; a result
of `batch` or more means more is waiting and the loop runs again at once. Every job must be
safe with any number of workers at once (SKIP LOCKED, advisory locks) and must not depend
on running at all for correctness (it records or delivers; it never decides).
Add a job by appending to `JOBS` (webhook delivery comes after the events are numbered).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockroom.db.engine import WRITE
from stockroom.db.models.base import utcnow
from stockroom.events.feed import NUMBER_BATCH, brands_with_unnumbered_events, number_events
from stockroom.reservations.expiry import BATCH as EXPIRY_BATCH
from stockroom.reservations.expiry import expire_reservations

Sessionmaker = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class Job:
    name: str  # how the CLI and the logs name what it did: "expired_reservations"
    run: Callable[[Sessionmaker], Awaitable[int]]
    batch: int


@asynccontextmanager
async def write_transaction(sessionmaker: Sessionmaker) -> AsyncIterator[AsyncSession]:
    """A writer's transaction (SQLite: BEGIN IMMEDIATE), committed unless the body raises."""
    async with sessionmaker() as session:
        await session.connection(execution_options={WRITE: True})
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


async def expire_due_reservations(sessionmaker: Sessionmaker) -> int:
    """One batch of reservations past expires_at, recorded as expired (with their events)."""
    async with write_transaction(sessionmaker) as session:
        return await expire_reservations(session, utcnow())


async def number_committed_events(sessionmaker: Sessionmaker) -> int:
    """Number the committed events of every brand that has some waiting (PostgreSQL), one
    brand per transaction so that a brand's readers wait for no other brand."""
    async with sessionmaker() as session:
        brands = await brands_with_unnumbered_events(session)
    numbered = 0
    for brand_id in brands:
        async with write_transaction(sessionmaker) as session:
            numbered += await number_events(session, brand_id)
    return numbered


JOBS: tuple[Job, ...] = (
    Job("expired_reservations", expire_due_reservations, EXPIRY_BATCH),
    Job("numbered_events", number_committed_events, NUMBER_BATCH),
)
