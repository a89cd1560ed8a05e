"""`Idempotency-Key` on a POST: claim the key, replay a stored answer, or run once and store.

The request pipeline calls `begin` once the caller is authenticated and the body read. The
key is claimed in a short transaction of its own (committed alone, so a concurrent retry
sees it at once). A new claim registers `store` as the request transaction's
`before_commit` hook: the response is stored in the very transaction that makes its effects,
and committed with them. A request that is not committed (any status of 400 or more, a
failed commit) releases its claim, so a corrected retry may use the key.

A stored answer is replayed only to the request that made it: the fingerprint covers the
method, path, query string and body, and also what decides the request's meaning outside
them — the caller (user id), the `X-Site-Id` it sent and its default site. Another user, or
the same user naming another site, gets 422 `idempotency_conflict`, never the stored body.

An answer that carries a secret (a webhook endpoint's `secret`, shown once) is marked by its
route (`seal_stored_answer`): it is stored encrypted with the service's secret key (the one
that encrypts the endpoints' secrets), never as plaintext, and decrypted only to be replayed
to the request that made it. If that key has changed since, the answer cannot be replayed:
422 `idempotency_conflict`, and the client repeats its request under a new key.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockroom.auth.principal import Principal
from stockroom.db.engine import WRITE
from stockroom.errors import (
    IdempotencyConflict,
    IdempotencyInProgress,
    StockroomError,
    ValidationFailed,
    field_error,
)
from stockroom.idempotency.store import (
    Claim,
    claim_key,
    finish_key,
    release_key,
    request_fingerprint,
)
from stockroom.secret_key import cipher
from stockroom.settings import Settings

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
# Scope state: this request's answer carries a secret (see `seal_stored_answer`).
SEALED_STATE = "stockroom.idempotency.sealed"
# A stored body that starts so is a Fernet token of the answer (JSON never starts with `f`).
_SEALED_PREFIX = b"fernet:"


def seal_stored_answer(scope: MutableMapping[str, Any]) -> None:
    """This request's answer carries a secret: if it is stored for replays, store it encrypted."""
    scope.setdefault("state", {})[SEALED_STATE] = True


def caller_fingerprint(
    method: str,
    path: str,
    query: bytes,
    body: bytes,
    principal: Principal,
    site_header: bytes | None,
) -> str:
    """The fingerprint of a request as this caller made it (see the module's docstring)."""
    default_site = principal.default_site_id
    return request_fingerprint(
        method,
        path,
        query,
        body,
        principal.user_id.bytes,
        b"x-site-id:" + (site_header.strip().lower() if site_header is not None else b"-"),
        default_site.bytes if default_site is not None else b"-",
    )


@dataclass(frozen=True, slots=True)
class Replay:
    """A stored answer to send again as it was."""

    status_code: int
    body: bytes
    # The stored answer carries a secret (it was kept encrypted): not for caches either.
    sealed: bool = False


@dataclass(slots=True)
class IdempotentCall:
    """A claimed key: its response is stored by `store`; `release` frees an unstored claim
    (before the refusal reaches the client, so its corrected retry finds the key free)."""

    brand_id: uuid.UUID
    key: str
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    # The request's scope state, where its route marks an answer that carries a secret.
    state: MutableMapping[str, Any]

    async def store(self, session: AsyncSession, status: int, body: bytes) -> None:
        if self.state.get(SEALED_STATE):
            body = _SEALED_PREFIX + cipher(self.settings).encrypt(body)
        await finish_key(session, self.brand_id, self.key, status, body)

    async def release(self) -> None:
        async with self.sessionmaker() as session:
            await session.connection(execution_options={WRITE: True})
            await release_key(session, self.brand_id, self.key)
            await session.commit()


def key_of(raw: bytes) -> str:
    """The key of an `Idempotency-Key` header, or 422 when it is not 1 to 255 characters."""
    key = raw.decode("latin-1").strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed(
            "The Idempotency-Key must be 1 to 255 characters.",
            [field_error("Idempotency-Key", "must be 1 to 255 characters")],
        )
    return key


def _replay(settings: Settings, status_code: int, body: bytes) -> Replay:
    if not body.startswith(_SEALED_PREFIX):
        return Replay(status_code, body)
    try:
        answer = cipher(settings).decrypt(body[len(_SEALED_PREFIX) :])
    except InvalidToken:
        raise IdempotencyConflict(
            "The answer stored for this Idempotency-Key can no longer be read (the server's "
            "secret key changed): send the request again with a new key."
        ) from None
    return Replay(status_code, answer, sealed=True)


async def begin(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    key: str,
    fingerprint: str,
    *,
    settings: Settings,
    state: MutableMapping[str, Any],
) -> IdempotentCall | Replay:
    """Claim `key` for this request; a replay when it already ran; raises 409/422 otherwise.

    `state` is the request's scope state (where a route marks a secret-bearing answer)."""
    async with sessionmaker() as session:
        await session.connection(execution_options={WRITE: True})
        claim = await claim_key(session, principal.brand_id, key, fingerprint)
        await session.commit()
    if claim.outcome is Claim.new:
        return IdempotentCall(principal.brand_id, key, sessionmaker, settings, state)
    if claim.outcome is Claim.replay:
        return _replay(settings, claim.status_code or 200, claim.body or b"")
    error: StockroomError = (
        IdempotencyConflict() if claim.outcome is Claim.conflict else IdempotencyInProgress()
    )
    raise error
