"""Real `stockroom worker` processes delivering to a real receiver on 127.0.0.1 while things
break: the receiver fails first attempts, answers slowly and is down for a while, a worker is
SIGKILLed mid-delivery, and (PostgreSQL) the database restarts. Every event arrives at least
once, first arrivals are in event order, every signature verifies with `standardwebhooks`, and
a duplicate is always the same event under the same `webhook-id`.

Retries are made fast with STOCKROOM_WEBHOOK_RETRY_SCALE (the schedule's shape is the same;
tests/webhooks/test_delivery.py checks the real delays on the controllable clock).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from stockroom.cli.common import operator
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.db.models import WebhookDelivery
from stockroom.settings import Settings
from stockroom.webhooks import service
from stockroom.webhooks.schemas import WebhookCreate
from tests.factories import Database, create_brand_with_admin
from tests.faults.test_database_restart import PrivatePostgres, private_postgres  # noqa: F401
from tests.webhooks.helpers import Receiver, insert_events

WORKER_ENV = {
    "STOCKROOM_WEBHOOK_RETRY_SCALE": "0.002",  # 5 s → 10 ms, 5 min → 0.6 s, 30 min → 3.6 s
    "STOCKROOM_WEBHOOK_LEASE_SECONDS": "3",
    "STOCKROOM_POOL_SIZE": "2",
}
EVENTS = 60


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "stockroom.cli", "worker", "--interval", "0.1"],
            env={**os.environ, **WORKER_ENV, "STOCKROOM_DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def stop_all(workers: list[subprocess.Popen[bytes]], receiver: Receiver) -> None:
    """SIGTERM every worker still running (a stuck one is killed after 15 s), then the receiver."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
    receiver.stop()


async def until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def retrying(step: Callable[[], Awaitable[object]]) -> None:
    """A test-side write while the database may be restarting."""
    for _ in range(100):
        try:
            await step()
            return
        except Exception:
            await asyncio.sleep(0.2)
    raise AssertionError("the database did not come back")


async def drill(url: str, tmp: Path, restart: Callable[[], None] | None) -> None:
    await asyncio.to_thread(upgrade_database, url)
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    db = Database(engine, create_sessionmaker(engine))
    receiver = Receiver(fail_first=1, fail_every=4, delay_seconds=0.005).start()
    log = tmp / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        brand = await create_brand_with_admin(db)
        async with db.transaction() as session:
            hook = await service.create_webhook(
                session,
                operator(brand.id),
                WebhookCreate(url=receiver.url, events=["*"]),
                settings,
            )
        workers = [start_worker(url, log), start_worker(url, log)]
        ids: list[uuid.UUID] = []

        async def add(n: int) -> None:
            ids.extend(await insert_events(db, brand.id, ["movement.created"] * n))

        for _ in range(3):
            await retrying(lambda: add(10))
        await until(lambda: len(receiver.delivered_ids()) >= 5, 60, "first deliveries")
        # Down for a while: connections refused, then it comes back on the same port.
        port = receiver.port
        receiver.stop()
        await retrying(lambda: add(10))
        await asyncio.sleep(1.5)
        receiver.start(port)
        # A worker killed mid-delivery (the receiver is slow: a request is in flight).
        receiver.delay_seconds = 0.05
        await until(lambda: len(receiver.delivered_ids()) >= 20, 60, "deliveries to resume")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        workers.append(start_worker(url, log))
        if restart is not None:
            await asyncio.to_thread(restart)
        receiver.delay_seconds = 0.005
        await retrying(lambda: add(EVENTS - 40))
        wanted = {str(i) for i in ids}
        await until(lambda: wanted <= set(receiver.delivered_ids()), 120, "every event delivered")
    finally:
        stop_all(workers, receiver)
    # A worker asked to stop (SIGTERM) in its loop finishes and exits cleanly (the one started
    # last may still be starting up, where SIGTERM ends it at once: nothing was under way).
    codes = [w.returncode for w in workers]
    assert codes[0] == -signal.SIGKILL and codes[1] == 0, (codes, log.read_text()[-3000:])

    delivered = receiver.delivered_ids()
    first_arrivals = list(dict.fromkeys(delivered))
    assert first_arrivals == [str(i) for i in ids]  # in event order, none missing
    signer = Webhook(hook["secret"])
    bodies: dict[str, bytes] = {}
    for seen in receiver.seen:
        payload = signer.verify(seen.body, seen.headers)  # raises if a signature is wrong
        assert payload["id"] == seen.headers["webhook-id"]
        assert bodies.setdefault(payload["id"], seen.body) == seen.body  # duplicates: same
    async with db.sessionmaker() as session:
        pending = (
            await session.execute(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.brand_id == brand.id, WebhookDelivery.status != "delivered")
            )
        ).scalar_one()
    assert pending == 0
    await engine.dispose()


@pytest.mark.slow
async def test_sqlite_two_workers_and_a_sigkill_lose_nothing(tmp_path: Path) -> None:
    await drill(f"sqlite:///{tmp_path / 'hooks.db'}", tmp_path, None)


@pytest.mark.slow
async def test_postgres_two_workers_a_sigkill_and_a_restart_lose_nothing(
    private_postgres: PrivatePostgres,  # noqa: F811
    tmp_path: Path,
) -> None:
    await drill(private_postgres.url, tmp_path, private_postgres.restart_immediately)


async def killed_mid_request(url: str, tmp: Path) -> None:
    """One worker, SIGKILLed while the receiver holds its request: a new worker sends the
    same event again (once the lease runs out), under the same `webhook-id`, same body."""
    await asyncio.to_thread(upgrade_database, url)
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    db = Database(engine, create_sessionmaker(engine))
    receiver = Receiver().start()
    receiver.hold.set()
    log = tmp / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        brand = await create_brand_with_admin(db)
        async with db.transaction() as session:
            hook = await service.create_webhook(
                session, operator(brand.id), WebhookCreate(url=receiver.url, events=["*"]), settings
            )
        ids = await insert_events(db, brand.id, ["movement.created", "stock.low"])
        workers.append(start_worker(url, log))
        await until(receiver.arrived.is_set, 60, "the first request to arrive")
        workers[0].send_signal(signal.SIGKILL)  # the request is in flight, unanswered
        workers[0].wait(10)
        receiver.hold.clear()  # the held request is answered to a dead worker
        workers.append(start_worker(url, log))
        wanted = [str(i) for i in ids]
        await until(
            lambda: (
                receiver.delivered_ids().count(wanted[0]) >= 2
                and wanted[1] in receiver.delivered_ids()
            ),
            120,
            "the killed delivery to be sent again",
        )
    finally:
        stop_all(workers, receiver)
    assert workers[0].returncode == -signal.SIGKILL, log.read_text()[-3000:]
    delivered = receiver.delivered_ids()
    assert list(dict.fromkeys(delivered)) == wanted  # in order, nothing lost
    signer = Webhook(hook["secret"])
    sent_twice = [seen for seen in receiver.seen if seen.headers["webhook-id"] == wanted[0]]
    assert len({seen.body for seen in sent_twice}) == 1  # the duplicate is the same event
    for seen in sent_twice:
        assert signer.verify(seen.body, seen.headers)["id"] == wanted[0]
    async with db.sessionmaker() as session:
        statuses = (
            await session.execute(
                select(WebhookDelivery.status).where(WebhookDelivery.brand_id == brand.id)
            )
        ).scalars()
        assert sorted(statuses) == ["delivered", "delivered"]
    await engine.dispose()


@pytest.mark.slow
async def test_sqlite_a_worker_killed_mid_request_lets_another_send_the_event_again(
    tmp_path: Path,
) -> None:
    await killed_mid_request(f"sqlite:///{tmp_path / 'hooks.db'}", tmp_path)


@pytest.mark.slow
async def test_postgres_a_worker_killed_mid_request_lets_another_send_the_event_again(
    private_postgres: PrivatePostgres,  # noqa: F811
    tmp_path: Path,
) -> None:
    await killed_mid_request(private_postgres.url, tmp_path)
