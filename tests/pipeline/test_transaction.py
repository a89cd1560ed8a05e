"""`RequestTransaction`, the one owner of a request's commit, against the real database.

A tiny ASGI app writes a brand in the request's session and answers; the owner must
commit before the answer's first byte leaves (2xx), roll back on a refusal (and run the
after-rollback hook before the refusal leaves), and answer 503 — writing nothing — when
what must be committed with the answer cannot be.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from stockroom.db.models import Brand
from stockroom.db.session import RequestTransaction
from tests.factories import Database


def scope() -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": [], "state": {}}


def writing_app(transaction: RequestTransaction, name: str, status: int):  # type: ignore[no-untyped-def]
    async def app(scope: Any, receive: Any, send: Any) -> None:
        session = await transaction.session()
        session.add(Brand(id=uuid.uuid4(), name=name))
        await session.flush()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"answer"})

    return app


async def brand_named(db: Database, name: str) -> bool:
    async with db.sessionmaker() as session:
        found = await session.execute(select(Brand.id).where(Brand.name == name))
        return found.first() is not None


async def nothing() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def test_a_success_is_committed_before_its_answer_leaves(db: Database) -> None:
    name = f"commit-{uuid.uuid4().hex}"
    transaction = RequestTransaction(db.sessionmaker, write=True)
    seen_at_start: list[bool] = []

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            seen_at_start.append(await brand_named(db, name))

    await transaction.run(writing_app(transaction, name, 201), scope(), nothing, send)

    assert seen_at_start == [True]


async def test_a_refusal_is_rolled_back_and_its_hook_runs_before_the_answer(
    db: Database,
) -> None:
    name = f"refused-{uuid.uuid4().hex}"
    transaction = RequestTransaction(db.sessionmaker, write=True)
    events: list[str] = []

    async def store(session: Any, status: int, body: bytes) -> None:
        events.append("stored")

    async def released() -> None:
        events.append("released")

    async def send(message: Any) -> None:
        events.append(message["type"])

    transaction.before_commit(store, after_rollback=released)
    await transaction.run(writing_app(transaction, name, 422), scope(), nothing, send)

    assert events == ["released", "http.response.start", "http.response.body"]
    assert not await brand_named(db, name)


async def test_the_hook_sees_the_whole_answer_and_commits_with_it(db: Database) -> None:
    name = f"hooked-{uuid.uuid4().hex}"
    transaction = RequestTransaction(db.sessionmaker, write=True)
    stored: list[tuple[int, bytes]] = []

    async def store(session: Any, status: int, body: bytes) -> None:
        stored.append((status, body))
        session.add(Brand(id=uuid.uuid4(), name=name + "-stored"))

    async def released() -> None:
        raise AssertionError("a committed request releases nothing")

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    transaction.before_commit(store, after_rollback=released)
    await transaction.run(writing_app(transaction, name, 201), scope(), nothing, send)

    assert stored == [(201, b"answer")]
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [201]
    assert await brand_named(db, name)
    assert await brand_named(db, name + "-stored")


async def test_an_answer_that_cannot_be_committed_with_its_hook_is_a_503_writing_nothing(
    db: Database,
) -> None:
    name = f"failed-{uuid.uuid4().hex}"
    transaction = RequestTransaction(db.sessionmaker, write=True)
    released: list[bool] = []

    async def store(session: Any, status: int, body: bytes) -> None:
        raise ConnectionResetError("the database went away")

    async def release() -> None:
        released.append(True)

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    transaction.before_commit(store, after_rollback=release)
    await transaction.run(writing_app(transaction, name, 201), scope(), nothing, send)

    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [503]
    assert (b"retry-after", b"1") in starts[0]["headers"]
    assert b"answer" not in b"".join(m.get("body", b"") for m in sent)
    assert released == [True]
    assert not await brand_named(db, name)
