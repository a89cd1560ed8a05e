"""One request, one transaction: the session dependency commits on success, rolls back otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.engine import WRITE

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield the request's session; commit before the response is sent, or roll back.

    A POST with an Idempotency-Key is the exception: its transaction is left open for the
    idempotency middleware, which stores the response in it and then commits.
    """
    from stockroom.idempotency.middleware import idempotent_request

    session: AsyncSession = request.app.state.sessionmaker()
    idempotent = idempotent_request(request.scope)
    handed_over = False
    try:
        if request.method in WRITE_METHODS:
            # SQLite: BEGIN IMMEDIATE takes the write lock now, so no later upgrade can fail.
            await session.connection(execution_options={WRITE: True})
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if idempotent is not None:
            idempotent.session = session
            handed_over = True
        else:
            await session.commit()
    finally:
        if not handed_over:
            await session.close()
