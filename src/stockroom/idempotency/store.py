"""The idempotency key table: claim a key, finish it with the response, or release it.

A claim is committed on its own, before the work, so a second request with the same key
(in this process or another) sees it at once and gets 409 instead of running twice. The
response is stored by the work's own transaction (see `calls`), so an acknowledged
write and its stored response are committed together or not at all. A claim whose work
died without finishing (a crash) is taken over after `LEASE`.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import IdempotencyKey
from stockroom.db.models.base import utcnow

KEEP = timedelta(hours=24)
LEASE = timedelta(seconds=60)
PURGE_CHANCE = 0.01

keys = cast(Table, IdempotencyKey.__table__)


def request_fingerprint(method: str, path: str, query: bytes, body: bytes, *context: bytes) -> str:
    """What makes two requests the same one: these parts, and whatever else decides its meaning
    (`context`: the caller, the `X-Site-Id` it sent, its default site; see `calls`)."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body, *context):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class Claim(Enum):
    new = "new"
    replay = "replay"
    conflict = "conflict"
    in_progress = "in_progress"


@dataclass(frozen=True)
class ClaimResult:
    outcome: Claim
    status_code: int | None = None
    body: bytes | None = None


def _this_key(brand_id: uuid.UUID, key: str) -> ColumnElement[bool]:
    return and_(keys.c.brand_id == brand_id, keys.c.key == key)


async def purge_expired_keys(session: AsyncSession) -> int:
    """Delete the keys kept past their 24 hours; return how many."""
    result = await session.execute(
        delete(keys).where(keys.c.expires_at < utcnow()).returning(keys.c.key)
    )
    return len(result.all())


def _insert_new(session: AsyncSession, values: dict[str, object]) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return (
        dialect.insert(keys)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[keys.c.brand_id, keys.c.key])
        .returning(keys.c.key)
    )


async def claim_key(
    session: AsyncSession, brand_id: uuid.UUID, key: str, fingerprint: str
) -> ClaimResult:
    """Take the key for a new request, or say why not (replay, conflict, in progress)."""
    now = utcnow()
    if random.random() < PURGE_CHANCE:
        await purge_expired_keys(session)
    fresh = {"request_hash": fingerprint, "created_at": now, "expires_at": now + KEEP}
    inserted = await session.execute(
        _insert_new(session, {"brand_id": brand_id, "key": key, **fresh})
    )
    if inserted.first():
        return ClaimResult(Claim.new)
    row = (
        await session.execute(
            select(
                keys.c.request_hash,
                keys.c.status_code,
                keys.c.response_body,
                keys.c.expires_at,
            ).where(_this_key(brand_id, key))
        )
    ).first()
    if row is None:  # purged between our insert and our look: take it now
        return await claim_key(session, brand_id, key, fingerprint)
    if row.expires_at < now:
        # Kept past its 24 hours and not purged yet: the key is free again.
        reused = await session.execute(
            update(keys)
            .where(_this_key(brand_id, key), keys.c.expires_at < now)
            .values(status_code=None, response_body=None, **fresh)
            .returning(keys.c.key)
        )
        if reused.first():
            return ClaimResult(Claim.new)
        return await claim_key(session, brand_id, key, fingerprint)
    if row.request_hash != fingerprint:
        return ClaimResult(Claim.conflict)
    if row.status_code is not None:
        return ClaimResult(Claim.replay, row.status_code, row.response_body)
    # In progress: unless its worker died (a crash) and the lease ran out.
    taken_over = await session.execute(
        update(keys)
        .where(
            _this_key(brand_id, key), keys.c.status_code.is_(None), keys.c.created_at < now - LEASE
        )
        .values(created_at=now, expires_at=now + KEEP)
        .returning(keys.c.key)
    )
    if taken_over.first():
        return ClaimResult(Claim.new)
    return ClaimResult(Claim.in_progress)


async def finish_key(
    session: AsyncSession, brand_id: uuid.UUID, key: str, status_code: int, body: bytes
) -> None:
    """Store the response, in the transaction that made the request's effects."""
    await session.execute(
        update(keys)
        .where(_this_key(brand_id, key))
        .values(status_code=status_code, response_body=body, expires_at=utcnow() + KEEP)
    )


async def release_key(session: AsyncSession, brand_id: uuid.UUID, key: str) -> None:
    """Forget a claim whose request failed, so a corrected retry may use the key."""
    await session.execute(
        delete(keys).where(_this_key(brand_id, key), keys.c.status_code.is_(None))
    )
