"""The delivery job against a real receiver on 127.0.0.1: order, signatures, subscriptions,
retries on the controllable clock, giving up after the schedule, disabling after 5 days, the
delivery log and manual retry."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from stockroom.settings import Settings
from stockroom.webhooks.delivery import RETRY_SCHEDULE, WebhookSender, retry_delay
from tests.factories import Brand, Database, create_brand_with_admin
from tests.reservations.conftest import Clock, frozen_clock  # noqa: F401  (fixture)
from tests.webhooks.helpers import Receiver, insert_events


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
async def sender(db: Database, settings: Settings) -> AsyncIterator[WebhookSender]:
    s = WebhookSender(db.sessionmaker, settings, rng=random.Random(7))
    try:
        yield s
    finally:
        await s.aclose()


async def subscribe(
    client: httpx.AsyncClient, brand: Brand, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/webhooks", headers=brand.admin.headers, json={"url": url, "events": events or ["*"]}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def drain(sender: WebhookSender, rounds: int = 20) -> None:
    for _ in range(rounds):
        _, more = await sender.run_once()
        if not more:
            return


async def deliveries(client: httpx.AsyncClient, brand: Brand, hook: dict[str, Any]) -> list[Any]:
    response = await client.get(
        f"/webhooks/{hook['id']}/deliveries",
        headers=brand.admin.headers,
        params={"per_page": 100},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def test_events_arrive_in_order_signed_and_only_the_subscribed_types(
    client: httpx.AsyncClient, db: Database, receiver: Receiver, sender: WebhookSender
) -> None:
    brand = await create_brand_with_admin(db)
    await insert_events(db, brand.id, ["stock.low"])  # before the endpoint: not sent
    every = await subscribe(client, brand, receiver.url)
    low = await subscribe(client, brand, receiver.url + "?low", ["stock.low"])
    ids = await insert_events(db, brand.id, ["stock.low", "movement.created"] * 30)
    await drain(sender)
    seen = receiver.seen
    to_every = [s for s in seen if s.headers.get("host", "").endswith(str(receiver.port))]
    assert len(to_every) == 90
    # Each endpoint: exactly its events, in event order, each signature valid.
    by_secret = {every["secret"]: [str(i) for i in ids], low["secret"]: [str(i) for i in ids[::2]]}
    for secret, expected in by_secret.items():
        verified = []
        for s in seen:
            try:
                payload = Webhook(secret).verify(s.body, s.headers)
            except WebhookVerificationError:  # signed with the other endpoint's secret
                continue
            assert payload["id"] == s.headers["webhook-id"]
            assert set(payload) == {"id", "type", "created_at", "data"}
            verified.append(payload["id"])
        assert verified == expected
    listed = await deliveries(client, brand, low)
    assert {d["status"] for d in listed} == {"delivered"} and len(listed) == 30
    assert listed[0]["attempts"][0]["status_code"] == 204


async def test_a_failing_receiver_is_retried_later_and_later_events_wait(
    client: httpx.AsyncClient,
    db: Database,
    receiver: Receiver,
    sender: WebhookSender,
    frozen_clock: Clock,  # noqa: F811
) -> None:
    brand = await create_brand_with_admin(db)
    hook = await subscribe(client, brand, receiver.url)
    receiver.fail_first = 2
    ids = [str(i) for i in await insert_events(db, brand.id, ["stock.low"] * 3)]
    await drain(sender)
    assert receiver.delivered_ids() == [] and receiver.tries == {ids[0]: 1}
    await drain(sender)  # not due yet: nothing is sent
    assert receiver.tries == {ids[0]: 1}
    frozen_clock.advance(seconds=RETRY_SCHEDULE[0] * 1.1)
    await drain(sender)
    assert receiver.tries == {ids[0]: 2}
    frozen_clock.advance(seconds=RETRY_SCHEDULE[1] * 1.1)
    await drain(sender)
    assert receiver.delivered_ids() == [ids[0]]  # the others wait for their own retries
    for _ in range(8):  # each later event fails its first two tries too
        frozen_clock.advance(seconds=RETRY_SCHEDULE[1] * 1.1)
        await drain(sender)
    assert receiver.delivered_ids() == ids
    first = next(d for d in await deliveries(client, brand, hook) if d["event_id"] == ids[0])
    assert [a["status_code"] for a in first["attempts"]] == [500, 500, 204]
    assert first["attempts"][0]["error"] == "HTTP 500"
    assert all(a["duration_ms"] >= 0 for a in first["attempts"])


async def test_a_receiver_that_never_answers_2xx_fails_after_a_day_then_is_disabled(
    client: httpx.AsyncClient,
    db: Database,
    receiver: Receiver,
    sender: WebhookSender,
    frozen_clock: Clock,  # noqa: F811
) -> None:
    brand = await create_brand_with_admin(db)
    hook = await subscribe(client, brand, receiver.url)
    receiver.fail_first = 10_000
    start = frozen_clock.now
    ids = [str(i) for i in await insert_events(db, brand.id, ["stock.low"] * 10)]
    while frozen_clock.now - start < timedelta(days=6):
        await drain(sender)
        frozen_clock.advance(hours=3)
    listed = {d["event_id"]: d for d in await deliveries(client, brand, hook)}
    first = listed[ids[0]]
    assert first["status"] == "failed"
    assert first["attempt_count"] == len(RETRY_SCHEDULE) + 1
    span = [a["attempted_at"] for a in first["attempts"]]
    assert span[-1] > span[0]
    got = await client.get(f"/webhooks/{hook['id']}", headers=brand.admin.headers)
    assert got.json()["enabled"] is False and got.json()["disabled_reason"]
    # Disabled: nothing more is tried; enabling again resumes with the next pending event.
    tried = dict(receiver.tries)
    frozen_clock.advance(days=1)
    await drain(sender)
    assert receiver.tries == tried
    receiver.fail_first = 0
    receiver.tries.clear()
    patched = await client.patch(
        f"/webhooks/{hook['id']}", headers=brand.admin.headers, json={"enabled": True}
    )
    assert patched.json()["enabled"] is True and patched.json()["failing_since"] is None
    frozen_clock.advance(days=1)
    await drain(sender)
    pending_before = [i for i in ids if listed[i]["status"] == "pending"]
    assert receiver.delivered_ids() == pending_before and pending_before


async def test_the_retry_schedule_grows_with_jitter_and_spans_more_than_a_day() -> None:
    rng = random.Random(1)
    for _ in range(50):
        waits = [retry_delay(n, rng=rng) for n in range(1, len(RETRY_SCHEDULE) + 1)]
        assert all(w is not None for w in waits)
        seconds = [w.total_seconds() for w in waits if w is not None]
        assert all(b > a for a, b in itertools.pairwise(seconds[:6]))
        assert sum(seconds) >= 24 * 3600
    assert retry_delay(len(RETRY_SCHEDULE) + 1) is None
    assert len({retry_delay(3, rng=rng) for _ in range(5)}) == 5  # jitter


async def test_a_manual_retry_sends_a_delivered_event_again_with_the_same_id(
    client: httpx.AsyncClient, db: Database, receiver: Receiver, sender: WebhookSender
) -> None:
    brand = await create_brand_with_admin(db)
    hook = await subscribe(client, brand, receiver.url)
    (event,) = await insert_events(db, brand.id, ["invoice.created"])
    await drain(sender)
    (delivery,) = await deliveries(client, brand, hook)
    retried = await client.post(
        f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry", headers=brand.admin.headers
    )
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    await drain(sender)
    assert receiver.delivered_ids() == [str(event), str(event)]
    (after,) = await deliveries(client, brand, hook)
    assert after["status"] == "delivered" and after["attempt_count"] == 2
    assert json.loads(receiver.seen[1].body)["id"] == str(event)


async def test_more_endpoints_than_one_claim_all_get_their_turn(
    client: httpx.AsyncClient, db: Database, settings: Settings, receiver: Receiver
) -> None:
    # One claim leases `claim_batch` endpoints; the rest must be served by the next rounds,
    # and endpoints with nothing to send must not take the places of those that have.
    claim_batch = 4
    sender = WebhookSender(db.sessionmaker, settings, claim_batch=claim_batch)
    brand = await create_brand_with_admin(db)
    idle = await create_brand_with_admin(db)
    for n in range(claim_batch):  # caught up: no work, never claimed
        await subscribe(client, idle, f"{receiver.url}?idle={n}")
    await insert_events(db, idle.id, ["stock.low"])
    await drain(sender)
    hooks = [await subscribe(client, brand, f"{receiver.url}?n={n}") for n in range(10)]
    (event,) = await insert_events(db, brand.id, ["movement.created"])
    served = len(receiver.seen)
    try:
        await drain(sender, rounds=3)
    finally:
        await sender.aclose()
    assert receiver.delivered_ids()[served:] == [str(event)] * len(hooks)
    for hook in (hooks[0], hooks[-1]):
        (delivery,) = await deliveries(client, brand, hook)
        assert delivery["status"] == "delivered"
