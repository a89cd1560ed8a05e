"""Webhook delivery throughput: N events (10,000) to one endpoint on a local receiver, timed.

    python -m bench.webhooks            (BENCH_WEBHOOK_EVENTS=10000, BENCH_WEBHOOK_DB=sqlite)
    BENCH_WEBHOOK_DB=postgres python -m bench.webhooks   (a fresh database on BENCH_POSTGRES_URL)

The delivery job is the worker's own (`WebhookSender`, run in rounds as `stockroom worker`
does) against a real HTTP/1.1 keep-alive receiver on 127.0.0.1 that answers 204. One endpoint
is the worst case for throughput: its events go one at a time, in order. The events are put
in the feed first (numbered, as `GET /events` would); the time is from the first round to
the last event received. A PostgreSQL database is made for the run and dropped after it.
`make bench` runs it on PostgreSQL with 10,000 events (bench/run.py) and writes the figures
into BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from stockroom.brands.service import create_brand
from stockroom.cli.common import operator
from stockroom.db.engine import WRITE, create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.events.feed import number_events
from stockroom.events.record import record_events
from stockroom.settings import Settings
from stockroom.webhooks import service
from stockroom.webhooks.delivery import WebhookSender
from stockroom.webhooks.schemas import WebhookCreate

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "10000"))
BACKEND = os.environ.get("BENCH_WEBHOOK_DB", "sqlite")
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class Receiver:
    """A minimal keep-alive HTTP/1.1 receiver on 127.0.0.1 (asyncio, in its own thread) that
    answers 204 at once: the bench measures the sender, not a slow receiver."""

    def __init__(self) -> None:
        self.count = 0
        self.port = 0
        started = threading.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    await reader.readexactly(length)
                    self.count += 1
                    writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        async def serve() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            async with server:
                await server.serve_forever()

        threading.Thread(target=asyncio.run, args=(serve(),), daemon=True).start()
        started.wait(10)
        self.url = f"http://127.0.0.1:{self.port}/hooks"


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(
        make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def database_url(tmp: Path, backend: str) -> tuple[str, str | None]:
    """The run's database URL, and the PostgreSQL database to drop after (None on SQLite)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'webhooks.db'}", None
    name = f"stockroom_bench_webhooks_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False), name


async def bench(url: str, backend: str, events: int) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        webhook_allow_private=True,
        webhook_loopback_only=True,  # the bench sends to its own receiver only
        secret_key="",
    )
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    receiver = Receiver()
    try:
        async with sessionmaker() as session:
            await session.connection(execution_options={WRITE: True})
            brand = await create_brand(session, "Webhook bench")
            await service.create_webhook(
                session,
                operator(brand.id),
                WebhookCreate(url=receiver.url, events=["*"]),
                settings,
            )
            await session.commit()
        # Through the outbox, as the services write them, then numbered as the feed does.
        for start in range(0, events, 1000):
            async with sessionmaker() as session:
                await session.connection(execution_options={WRITE: True})
                await record_events(
                    session,
                    brand.id,
                    [
                        ("movement.created", {"quantity": -1, "product_id": str(uuid.uuid4())})
                        for _ in range(start, min(events, start + 1000))
                    ],
                )
                await session.commit()
        async with sessionmaker() as session:
            await session.connection(execution_options={WRITE: True})
            await number_events(session, brand.id, limit=events)
            await session.commit()
        sender = WebhookSender(sessionmaker, settings)
        started = time.perf_counter()
        rounds = 0
        try:
            while receiver.count < events:
                await sender.run_once()
                rounds += 1
        finally:
            await sender.aclose()
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    return {
        "backend": backend,
        "events": events,
        "received": receiver.count,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds, 1),
        "rounds": rounds,
    }


def run(backend: str = BACKEND, events: int = EVENTS) -> dict[str, Any]:
    """Deliver `events` events to one endpoint on `backend` ("sqlite" or "postgres"), timed."""
    load_average = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="stockroom-bench-webhooks-") as tmp:
        url, database = database_url(Path(tmp), backend)
        try:
            upgrade_database(url)
            result = asyncio.run(bench(url, backend, events))
        finally:
            if database is not None:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    return result | {"load_average": [round(x, 1) for x in load_average]}


def main() -> None:
    print(run())


if __name__ == "__main__":
    main()
