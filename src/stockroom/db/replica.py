"""Read routing: lists, reports and CSV exports read from the replica when one is configured.

`STOCKROOM_READ_DATABASE_URL` names a streaming replica. Routes that take `ReadSession`
(collections, reports, exports: reads that may lag the primary by the replica's replay lag)
read there; everything else — every write, the answer of a write, a GET of one thing by id,
the token lookup — uses the request's primary session (`stockroom.db.session.get_session`).
Without a replica, `ReadSession` *is* the primary session (no second connection).
See docs/scaling.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.session import get_session
from stockroom.settings import Settings


def create_read_engine(settings: Settings) -> AsyncEngine | None:
    """The replica's engine (its own pool, sized like the primary's), or None without one."""
    if not settings.read_database_url:
        return None
    return create_engine(settings, url=settings.read_database_url)


async def get_read_session(
    request: Request,
    primary: Annotated[AsyncSession, Depends(get_session, scope="function")],
) -> AsyncIterator[AsyncSession]:
    """The replica's session for this request (read-only, rolled back), or the primary's."""
    maker: async_sessionmaker[Any] | None = getattr(request.app.state, "read_sessionmaker", None)
    if maker is None:
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
