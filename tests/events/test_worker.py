"""The worker: a list of jobs per round (expiry, then numbering events), graceful stop."""

from __future__ import annotations

import asyncio

from stockroom.events.feed import read_events
from stockroom.worker import Job, run_round, run_worker
from stockroom.worker.jobs import Sessionmaker
from tests.factories import Database, create_brand_with_admin, create_product, put_stock


async def test_the_worker_numbers_committed_events_for_the_feeds_readers(
    db: Database, backend: str
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 3)  # committed, not through GET /events

    async with db.sessionmaker() as session:
        before = await read_events(session, brand.id, after=None, limit=10)
    done = await run_round(db.sessionmaker)
    async with db.sessionmaker() as session:
        after = await read_events(session, brand.id, after=None, limit=10)

    assert set(done) == {"expired_reservations", "numbered_events"}
    assert [(e.type, e.position, e.data["quantity"]) for e in after] == [("movement.created", 1, 3)]
    if backend == "sqlite":
        assert before == after  # the writer numbered it (one writer at a time)
    else:
        assert before == []  # not numbered until committed and relayed
        assert done["numbered_events"] >= 1


async def test_a_stopped_worker_lets_the_running_job_finish_and_starts_no_other() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    async def slow(_: Sessionmaker) -> int:
        started.set()
        await release.wait()
        ran.append("slow")
        return 1

    async def next_one(_: Sessionmaker) -> int:
        ran.append("next")
        return 0

    stop = asyncio.Event()
    jobs = (Job("slow", slow, 10), Job("next", next_one, 10))
    worker = asyncio.create_task(
        run_worker(None, stop=stop, jobs=jobs)  # type: ignore[arg-type]
    )
    await started.wait()
    stop.set()
    release.set()
    await asyncio.wait_for(worker, timeout=30)

    assert ran == ["slow"]
