"""One request, one transaction, one owner: `RequestTransaction` opens, commits or rolls back.

The request pipeline (`stockroom.pipeline`) makes one per HTTP request and runs the app in
it. Routes get its session through the `get_session` dependency; the session is opened on
first use (a writer's takes SQLite's write lock up front). The transaction is committed just
before the response leaves, when its status is below 400, and rolled back otherwise (an
error answered by a handler, or an exception) — so a client that sees a 2xx knows the write
is durable. A commit that fails answers 503 `unavailable` instead.

Whoever must write something in the same transaction *as* the response registers a
`before_commit` hook: it then gets the whole response (status and body) in the transaction,
just before the commit. That is how the idempotency layer stores a response together with
the effects it reports, without owning the commit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockroom.db.engine import POOLER, WRITE
from stockroom.errors import StockroomError, Unavailable

log = logging.getLogger("stockroom.db")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TRANSACTION_STATE = "stockroom.transaction"

# (session, status, body) → None; runs inside the transaction just before its commit.
BeforeCommit = Callable[[AsyncSession, int, bytes], Awaitable[None]]
# Runs after a rollback, before the (error) response leaves.
AfterRollback = Callable[[], Awaitable[None]]


class RequestTransaction:
    """The session of one request and the one place that ends its transaction."""

    __slots__ = ("_hook", "_rolled_back", "_session", "_sessionmaker", "committed", "write")

    def __init__(self, sessionmaker: async_sessionmaker[Any], *, write: bool) -> None:
        self._sessionmaker = sessionmaker
        self._session: AsyncSession | None = None
        self._hook: BeforeCommit | None = None
        self._rolled_back: AfterRollback | None = None
        self.write = write
        self.committed = False

    async def session(self) -> AsyncSession:
        """The request's session, opened (and, for a writer, begun) on first use."""
        if self._session is None:
            self._session = self._sessionmaker()
            if self.write:
                # SQLite: BEGIN IMMEDIATE takes the write lock now, so no later upgrade fails.
                await self._session.connection(execution_options={WRITE: True})
        return self._session

    def before_commit(self, hook: BeforeCommit, *, after_rollback: AfterRollback) -> None:
        """Run `hook` with the complete response in the transaction, just before it commits;
        `after_rollback` when it is not committed, before the response leaves."""
        self._hook = hook
        self._rolled_back = after_rollback

    async def _rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
        if self._rolled_back is not None:
            try:
                await self._rolled_back()
            except Exception as exc:  # the refusal still goes out
                log.warning("after-rollback hook failed: %s", type(exc).__name__, exc_info=exc)

    async def _end(self, status: int, body: bytes) -> bool:
        """Commit (status < 400) or roll back; False when the commit failed."""
        if status >= 400:
            await self._rollback()
            return True
        session = self._session
        if session is None and self._hook is None:
            return True
        try:
            session = await self.session()
            if self._hook is not None:
                await self._hook(session, status, body)
            await session.commit()
        except Exception as exc:
            log.warning("commit failed: %s", type(exc).__name__, exc_info=exc)
            await self._rollback()
            return False
        self.committed = True
        return True

    async def close(self) -> None:
        """Give the connection back (rolling back whatever is still open); idempotent."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app in this transaction; its response leaves only once it is committed."""
        status = 0
        held: list[Message] | None = None  # the response, while a hook waits for all of it
        ended = False
        failed = False

        async def send_committed(message: Message) -> None:
            nonlocal status, held, ended, failed
            if failed:
                return
            if ended:
                await send(message)
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                if self._hook is None or status >= 400:
                    ended = True
                    if await self._end(status, b""):
                        await send(message)
                    else:
                        failed = True
                        await _send_unavailable(send)
                    return
                held = [message]
                return
            assert held is not None
            held.append(message)
            if message.get("more_body", False):
                return
            ended = True
            body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
            if await self._end(status, body):
                for m in held:
                    await send(m)
            else:
                failed = True
                await _send_unavailable(send)

        try:
            await app(scope, receive, send_committed)
        finally:
            if not ended:
                await self._rollback()
            await self.close()


async def _send_unavailable(send: Send) -> None:
    error: StockroomError = Unavailable("The request could not be committed; retry.")
    body = orjson.dumps(error.body())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def open_transaction(scope: Scope) -> RequestTransaction:
    """Make the request's transaction (the pipeline does, once per HTTP request)."""
    transaction = RequestTransaction(
        scope["app"].state.sessionmaker, write=scope["method"] in WRITE_METHODS
    )
    scope.setdefault("state", {})[TRANSACTION_STATE] = transaction
    return transaction


async def read_without_transaction(session: AsyncSession) -> None:
    """Let a read on PostgreSQL send its statements without `BEGIN` and `COMMIT`.

    Under READ COMMITTED (PostgreSQL's default, and ours) every statement of a transaction
    takes its own snapshot, so a read's transaction buys no consistency: its `BEGIN` and
    `COMMIT` are two round trips (of a stock read's five) and the work around them. A route
    that only reads calls this before its first statement; its session then runs in
    autocommit (the timeouts are the connection's, set at connect, so they still hold).

    Left as it is: SQLite (there `BEGIN` is the read's snapshot of the WAL), PostgreSQL behind
    PgBouncer (the timeouts are set per transaction, and a prepared statement must run on
    the server connection it was prepared on), and a session whose transaction has begun
    already (the pipeline looked the caller's token up in it).
    """
    if session.in_transaction():
        return
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or bind.get_execution_options().get(POOLER):
        return
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def request_transaction(request: Request) -> RequestTransaction:
    """The request's transaction, as the pipeline opened it."""
    transaction = request.scope.get("state", {}).get(TRANSACTION_STATE)
    if not isinstance(transaction, RequestTransaction):
        raise RuntimeError("no request transaction: is the request pipeline installed?")
    return transaction


async def get_core_session(request: Request) -> AsyncSession:
    """The request's session for a route that runs Core statements only (FastAPI dependency).

    Such a route leaves nothing pending in the session, so it needs no flush as it returns:
    a plain dependency, without the generator's teardown that `get_session` costs.
    """
    return await request_transaction(request).session()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session (FastAPI dependency); its transaction is ended by its owner.

    What the route left pending is flushed as it returns, so a value the database refuses
    is answered by the error handlers (422 / 503) like any error of the route; the commit
    that follows has nothing left to refuse but the database itself going away.
    """
    session = await request_transaction(request).session()
    yield session
    await session.flush()
