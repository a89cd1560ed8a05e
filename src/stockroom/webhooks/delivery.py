"""The delivery job: follow each endpoint's feed, send its events in order, log every attempt.

One round (`WebhookSender.run_once`):
1. claim endpoints: enabled ones whose lease is free get this worker's lease (PostgreSQL:
   `FOR UPDATE SKIP LOCKED`, so workers never wait on each other; SQLite: one writer at a
   time), so only one worker sends for an endpoint at a time;
2. per endpoint (several endpoints at once, each one request at a time): queue a delivery for
   each new event it subscribes to, reading the feed after the endpoint's cursor, in the same
   transaction that moves the cursor; then send what is due, oldest event first, stopping at
   the first delivery that must wait for a retry (per-endpoint order);
3. record the attempts in short transactions (renewing the lease), then give the lease back.

At least once: a result is recorded after the request, so a crash in between sends the event
again later, with the same `webhook-id` (the event id) for the receiver to deduplicate. A
worker that dies keeps its lease until `lease_until`; then another worker takes over.
No database transaction is open while a request is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook

from stockroom import clock
from stockroom.db.engine import WRITE
from stockroom.db.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from stockroom.events.feed import EventRow, read_events
from stockroom.fields import rfc3339_utc
from stockroom.settings import Settings
from stockroom.webhooks.secrets import SecretUnreadable, decrypt_secret
from stockroom.webhooks.service import policy_of
from stockroom.webhooks.targets import TargetRefused, resolve_target

log = logging.getLogger("stockroom.webhooks")

# Seconds before the next attempt, after the 1st, 2nd, ... failed attempt (the Standard
# Webhooks / Svix schedule): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 27.6 h in all, and
# at least 24.8 h with the ±10 % jitter. After the 8th failed attempt the delivery is failed.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.1
DISABLE_AFTER = timedelta(days=5)
TIMEOUT_SECONDS = 10.0
CLAIM_BATCH = 50
FEED_BATCH = 500
SEND_BATCH = 200
FLUSH_EVERY = 50
FLUSH_SECONDS = 2.0
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Stockroom-Webhooks/1"


def retry_delay(
    failed_attempts: int, *, scale: float = 1.0, rng: random.Random | None = None
) -> timedelta | None:
    """The wait after the `failed_attempts`-th failure, with jitter; None: give up (failed)."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_SCHEDULE):
        return None
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=RETRY_SCHEDULE[failed_attempts - 1] * spread * scale)


def event_body(event: EventRow) -> str:
    """The JSON every attempt sends for `event` (signatures are over exactly these bytes)."""
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "created_at": rfc3339_utc(event.created_at),
            "data": event.data,
        },
        separators=(",", ":"),
    )


def subscribed(event_types: Sequence[str], event_type: str) -> bool:
    return "*" in event_types or event_type in event_types


@dataclass
class Claimed:
    brand_id: uuid.UUID
    id: uuid.UUID
    url: str
    event_types: list[str]
    secret_encrypted: str
    event_position: int
    failing_since: datetime | None
    disabled: bool = False


@dataclass
class Result:
    delivery_id: uuid.UUID
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    # What the delivery becomes: delivered, pending (retry at next_attempt_at) or failed.
    status: str
    next_attempt_at: datetime | None = None


@dataclass
class Outcome:
    attempts: int = 0
    more: bool = False  # a batch limit was hit: run again at once
    lost_lease: bool = False
    results: list[Result] = field(default_factory=list)


class WebhookSender:
    """Sends webhooks for any number of endpoints; one per worker process (keeps connections)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        stop: asyncio.Event | None = None,
        rng: random.Random | None = None,
        claim_batch: int = CLAIM_BATCH,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.claim_batch = claim_batch
        self.settings = settings
        self.stop = stop or asyncio.Event()
        self.rng = rng or random.Random()
        self.owner = uuid.uuid4()
        self.policy = policy_of(settings)
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(TIMEOUT_SECONDS),
            follow_redirects=False,
            trust_env=False,  # never through a proxy from the environment
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers={"user-agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def _lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.webhook_lease_seconds)

    async def _write(self) -> AsyncSession:
        session = self.sessionmaker()
        await session.connection(execution_options={WRITE: True})
        return session

    async def run_once(self) -> tuple[int, bool]:
        """One round over every endpoint with work; (attempts made, more work is waiting)."""
        claimed = await self._claim()
        if not claimed:
            return 0, False
        gate = asyncio.Semaphore(max(1, self.settings.webhook_concurrency))

        async def one(endpoint: Claimed) -> Outcome:
            async with gate:
                try:
                    return await self._serve_endpoint(endpoint)
                finally:
                    with contextlib.suppress(Exception):
                        await self._release(endpoint)

        outcomes = await asyncio.gather(*(one(e) for e in claimed), return_exceptions=True)
        attempts, more = 0, False
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                log.warning("webhook endpoint round failed: %s", type(outcome).__name__)
                continue
            attempts += outcome.attempts
            more = more or outcome.more
        # A full claim that sent something: more endpoints may be waiting their turn.
        return attempts, more or (len(claimed) >= self.claim_batch and attempts > 0)

    async def _claim(self) -> list[Claimed]:
        """Lease up to `claim_batch` enabled endpoints that have work: events after their cursor,
        or a pending delivery that is due (or manual). Least recently served first: a released
        endpoint keeps the time it was released in `lease_until`, so every endpoint with work
        gets its turn however many there are (never the same first few by id)."""
        now = clock.now()
        pending = exists().where(
            WebhookDelivery.brand_id == WebhookEndpoint.brand_id,
            WebhookDelivery.endpoint_id == WebhookEndpoint.id,
            WebhookDelivery.status == "pending",
        )
        has_work = or_(
            exists().where(
                Event.brand_id == WebhookEndpoint.brand_id,
                Event.position > WebhookEndpoint.event_position,
            ),
            pending.where(WebhookDelivery.manual.is_(True)),
            # Due work, unless a delivery waiting for its retry holds the queue (per-endpoint
            # order: later events wait for it, so there is nothing to send yet).
            and_(
                pending.where(
                    WebhookDelivery.manual.is_(False), WebhookDelivery.next_attempt_at <= now
                ),
                ~pending.where(
                    WebhookDelivery.manual.is_(False), WebhookDelivery.next_attempt_at > now
                ),
            ),
        )
        async with self.sessionmaker() as session:
            await session.connection(execution_options={WRITE: True})
            rows = (
                await session.execute(
                    select(
                        WebhookEndpoint.brand_id,
                        WebhookEndpoint.id,
                        WebhookEndpoint.url,
                        WebhookEndpoint.event_types,
                        WebhookEndpoint.secret_encrypted,
                        WebhookEndpoint.event_position,
                        WebhookEndpoint.failing_since,
                    )
                    .where(
                        WebhookEndpoint.enabled.is_(True),
                        or_(
                            WebhookEndpoint.lease_owner.is_(None),
                            WebhookEndpoint.lease_until.is_(None),
                            WebhookEndpoint.lease_until < now,
                        ),
                        has_work,
                    )
                    .order_by(WebhookEndpoint.lease_until.asc().nulls_first(), WebhookEndpoint.id)
                    .limit(self.claim_batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await session.execute(
                    update(WebhookEndpoint)
                    .where(WebhookEndpoint.brand_id == row.brand_id, WebhookEndpoint.id == row.id)
                    .values(lease_owner=self.owner, lease_until=self._lease_until(now))
                    .execution_options(synchronize_session=False)
                )
            await session.commit()
        return [
            Claimed(
                r.brand_id,
                r.id,
                r.url,
                list(r.event_types),
                r.secret_encrypted,
                int(r.event_position),
                r.failing_since,
            )
            for r in rows
        ]

    def _ours(self, endpoint: Claimed) -> list[object]:
        return [
            WebhookEndpoint.brand_id == endpoint.brand_id,
            WebhookEndpoint.id == endpoint.id,
            WebhookEndpoint.lease_owner == self.owner,
        ]

    async def _release(self, endpoint: Claimed) -> None:
        async with await self._write() as session:
            await session.execute(
                update(WebhookEndpoint)
                .where(*self._ours(endpoint))  # type: ignore[arg-type]
                # lease_until keeps the release time: the claim serves the least recent first.
                .values(lease_owner=None, lease_until=clock.now())
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def _queue_new_events(self, endpoint: Claimed) -> tuple[bool, bool]:
        """Queue deliveries for events after the cursor; (a full batch was read, lease held)."""
        async with await self._write() as session:
            events = await read_events(
                session, endpoint.brand_id, after=endpoint.event_position, limit=FEED_BATCH
            )
            if not events:
                return False, True
            now = clock.now()
            for event in events:
                if subscribed(endpoint.event_types, event.type):
                    session.add(
                        WebhookDelivery(
                            brand_id=endpoint.brand_id,
                            endpoint_id=endpoint.id,
                            event_id=event.id,
                            event_type=event.type,
                            event_position=event.position,
                            payload=event_body(event),
                            status="pending",
                            attempt_count=0,
                            manual=False,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
            last = int(events[-1].position or endpoint.event_position)
            moved = await session.execute(
                update(WebhookEndpoint)
                .where(*self._ours(endpoint))  # type: ignore[arg-type]
                .values(event_position=last, lease_until=self._lease_until(now))
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                return False, False
            await session.commit()
        endpoint.event_position = last
        return len(events) >= FEED_BATCH, True

    async def _due(self, endpoint: Claimed, *, manual: bool) -> list[WebhookDelivery]:
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(WebhookDelivery)
                .where(
                    WebhookDelivery.brand_id == endpoint.brand_id,
                    WebhookDelivery.endpoint_id == endpoint.id,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.manual.is_(manual),
                )
                .order_by(WebhookDelivery.event_position)
                .limit(SEND_BATCH)
            )
            found = list(rows.scalars())
            session.expunge_all()
            return found

    async def _serve_endpoint(self, endpoint: Claimed) -> Outcome:
        outcome = Outcome()
        more, held = await self._queue_new_events(endpoint)
        if not held:
            outcome.lost_lease = True
            return outcome
        try:
            secret = decrypt_secret(self.settings, endpoint.secret_encrypted)
        except SecretUnreadable:
            log.error("webhook %s: its secret cannot be decrypted; nothing sent", endpoint.id)
            return outcome
        signer = Webhook(secret)
        last_flush = time.monotonic()

        async def send(delivery: WebhookDelivery, *, one_shot: bool) -> Result:
            result = await self._attempt(endpoint, delivery, signer, one_shot=one_shot)
            outcome.results.append(result)
            outcome.attempts += 1
            return result

        async def flush_if_due(force: bool = False) -> bool:
            nonlocal last_flush
            if not outcome.results:
                return True
            waiting = time.monotonic() - last_flush < FLUSH_SECONDS
            if not force and len(outcome.results) < FLUSH_EVERY and waiting:
                return True
            ok = await self._record(endpoint, outcome.results)
            outcome.results = []
            last_flush = time.monotonic()
            if not ok:
                outcome.lost_lease = True
            return ok

        try:
            for delivery in await self._due(endpoint, manual=True):
                if self.stop.is_set():
                    break
                await send(delivery, one_shot=True)
                if not await flush_if_due():
                    return outcome
            queue = await self._due(endpoint, manual=False)
            for delivery in queue:
                if self.stop.is_set() or delivery.next_attempt_at > clock.now():
                    break
                result = await send(delivery, one_shot=False)
                if not await flush_if_due(force=result.error is not None):
                    return outcome
                if result.status == "pending" or endpoint.disabled:
                    break  # later events wait for this one (per-endpoint order)
            else:
                more = more or len(queue) >= SEND_BATCH
            outcome.more = more
        finally:
            if outcome.results:
                await flush_if_due(force=True)
        return outcome

    async def _attempt(
        self, endpoint: Claimed, delivery: WebhookDelivery, signer: Webhook, *, one_shot: bool
    ) -> Result:
        attempted_at = clock.now()
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            # Resolved and checked now, and the request goes to that very address.
            target = await resolve_target(endpoint.url, self.policy)
            # The signature's timestamp is the real time of sending (receivers check it
            # against their own clock), whatever the service's clock says.
            sent_at = datetime.now(UTC)
            headers = {
                "content-type": "application/json",
                "host": target.url.netloc.decode("ascii"),
                "webhook-id": str(delivery.event_id),
                "webhook-timestamp": str(int(sent_at.timestamp())),
                "webhook-signature": signer.sign(str(delivery.event_id), sent_at, delivery.payload),
            }
            extensions = {"sni_hostname": target.url.host} if target.url.scheme == "https" else {}
            async with asyncio.timeout(TIMEOUT_SECONDS):
                async with self.client.stream(
                    "POST",
                    target.connect_url,
                    content=delivery.payload.encode(),
                    headers=headers,
                    extensions=extensions,
                ) as response:
                    status_code = response.status_code
                    read = 0
                    async for chunk in response.aiter_bytes():
                        read += len(chunk)
                        if read >= MAX_RESPONSE_BYTES:
                            break
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except TargetRefused as exc:
            error = f"refused: {exc}"
        except (TimeoutError, httpx.TimeoutException):
            error = f"no answer within {TIMEOUT_SECONDS:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
        duration_ms = int((time.perf_counter() - started) * 1000)
        if error is None:
            return Result(delivery.id, attempted_at, status_code, duration_ms, None, "delivered")
        if one_shot:
            return Result(delivery.id, attempted_at, status_code, duration_ms, error, "failed")
        wait = retry_delay(
            delivery.attempt_count + 1, scale=self.settings.webhook_retry_scale, rng=self.rng
        )
        if wait is None:
            return Result(delivery.id, attempted_at, status_code, duration_ms, error, "failed")
        return Result(
            delivery.id,
            attempted_at,
            status_code,
            duration_ms,
            error,
            "pending",
            attempted_at + wait,
        )

    async def _record(self, endpoint: Claimed, results: list[Result]) -> bool:
        """Write attempts and what became of each delivery; False when the lease was lost."""
        now = clock.now()
        async with await self._write() as session:
            held = await session.execute(
                update(WebhookEndpoint)
                .where(*self._ours(endpoint))  # type: ignore[arg-type]
                .values(lease_until=self._lease_until(now))
                .execution_options(synchronize_session=False)
            )
            if held.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                return False
            for result in results:
                session.add(
                    WebhookAttempt(
                        brand_id=endpoint.brand_id,
                        delivery_id=result.delivery_id,
                        endpoint_id=endpoint.id,
                        attempted_at=result.attempted_at,
                        status_code=result.status_code,
                        duration_ms=result.duration_ms,
                        error=result.error,
                    )
                )
                values: dict[str, object] = {
                    "status": result.status,
                    "attempt_count": WebhookDelivery.attempt_count + 1,
                    "last_attempt_at": result.attempted_at,
                    "manual": False,
                }
                if result.status == "delivered":
                    values["delivered_at"] = result.attempted_at
                if result.next_attempt_at is not None:
                    values["next_attempt_at"] = result.next_attempt_at
                await session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.brand_id == endpoint.brand_id,
                        WebhookDelivery.id == result.delivery_id,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                await session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.brand_id == endpoint.brand_id,
                        WebhookDelivery.id == result.delivery_id,
                        WebhookDelivery.first_attempt_at.is_(None),
                    )
                    .values(first_attempt_at=result.attempted_at)
                    .execution_options(synchronize_session=False)
                )
            last = results[-1]
            failing_since = endpoint.failing_since
            if last.error is None:
                failing_since = None
            elif failing_since is None:
                failing_since = last.attempted_at
            endpoint_values: dict[str, object] = {"failing_since": failing_since}
            if failing_since is not None and now - failing_since >= DISABLE_AFTER:
                endpoint_values |= {
                    "enabled": False,
                    "disabled_reason": "every delivery failed for 5 days",
                    "updated_at": now,
                }
                log.warning("webhook %s disabled: every delivery failed for 5 days", endpoint.id)
                endpoint.disabled = True
            await session.execute(
                update(WebhookEndpoint)
                .where(*self._ours(endpoint))  # type: ignore[arg-type]
                .values(**endpoint_values)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        endpoint.failing_since = failing_since
        return True
