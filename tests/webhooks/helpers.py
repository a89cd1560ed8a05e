"""Webhook tests' tools: events put into the (stand-in) feed, and a real HTTP receiver.

The receiver is a real HTTP server on 127.0.0.1 in a thread: it can fail the first requests
of each event, answer slowly, or be down (its socket closed) for a while. It records every
request it saw, so a test can check order, duplicates and signatures.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, select

from stockroom.db.models import Event, WebhookDelivery
from stockroom.db.models.base import utcnow
from stockroom.events.feed import number_events
from stockroom.events.record import record_events
from tests.factories import Database


async def insert_events(
    db: Database, brand_id: uuid.UUID, types: Sequence[str], *, data: dict[str, Any] | None = None
) -> list[uuid.UUID]:
    """Record events of `types` for the brand through the outbox, then number them as a
    reader would (PostgreSQL numbers committed events; SQLite at insert); return their ids."""
    async with db.transaction() as session:
        await number_events(session, brand_id)  # earlier events first: ours come after
    async with db.transaction() as session:
        last = (
            await session.execute(
                select(func.max(Event.position)).where(Event.brand_id == brand_id)
            )
        ).scalar_one() or 0
        await record_events(
            session,
            brand_id,
            [(kind, data or {"n": last + offset}) for offset, kind in enumerate(types, start=1)],
        )
    async with db.transaction() as session:
        await number_events(session, brand_id)
    async with db.transaction() as session:
        rows = await session.execute(
            select(Event.id)
            .where(Event.brand_id == brand_id, Event.position > last)
            .order_by(Event.position)
        )
        return list(rows.scalars())


@dataclass
class Seen:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1; `fail_first` answers 500 to each event's first tries."""

    fail_first: int = 0
    # Only every `fail_every`-th new event (in arrival order) is failed `fail_first` times.
    fail_every: int = 1
    delay_seconds: float = 0.0
    # While `hold` is set, a request is kept unanswered (after `arrived` is set) until it clears.
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    seen: list[Seen] = field(default_factory=list)
    tries: dict[str, int] = field(default_factory=dict)
    ordinal: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def delivered_ids(self) -> list[str]:
        """Event ids answered 2xx, in the order they arrived."""
        with self.lock:
            return [s.headers["webhook-id"] for s in self.seen if 200 <= s.status < 300]

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                event_id = self.headers.get("webhook-id", "")
                with receiver.lock:
                    if event_id not in receiver.tries:
                        receiver.ordinal[event_id] = len(receiver.ordinal)
                    tries = receiver.tries.get(event_id, 0) + 1
                    receiver.tries[event_id] = tries
                    chosen = receiver.ordinal[event_id] % receiver.fail_every == 0
                status = 500 if chosen and tries <= receiver.fail_first else 204
                if receiver.hold.is_set():
                    receiver.arrived.set()
                    while receiver.hold.is_set():
                        time.sleep(0.01)
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                with receiver.lock:
                    receiver.seen.append(
                        Seen({k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


async def queue_delivery(db: Database, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> uuid.UUID:
    """An event and its pending delivery to the endpoint, as the job would queue them."""
    (event_id,) = await insert_events(db, brand_id, ["stock.low"])
    async with db.transaction() as session:
        delivery = WebhookDelivery(
            brand_id=brand_id,
            id=uuid.uuid4(),
            endpoint_id=endpoint_id,
            event_id=event_id,
            event_type="stock.low",
            event_position=0,
            payload="{}",
            status="pending",
            attempt_count=0,
            manual=False,
            next_attempt_at=utcnow() + timedelta(days=1),
            created_at=utcnow(),
        )
        session.add(delivery)
    return delivery.id
