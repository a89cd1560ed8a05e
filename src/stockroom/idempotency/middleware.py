"""ASGI middleware for `Idempotency-Key` on every POST, and the request body size limit.

For a POST with a key: the caller's brand comes from its token; the key is claimed
(committed alone); the route runs; the session dependency sees the claim and leaves its
transaction open; here the response is stored with `finish_key` in that same transaction,
which is then committed — only then does the client get the response. A request that fails
(any non-2xx) is rolled back and its claim released.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockroom.auth.dependencies import bearer_token, load_principal
from stockroom.db.engine import WRITE
from stockroom.errors import (
    IdempotencyConflict,
    IdempotencyInProgress,
    PayloadTooLarge,
    StockroomError,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
    field_error,
)
from stockroom.fields import unstorable_reason
from stockroom.idempotency.store import (
    Claim,
    claim_key,
    finish_key,
    release_key,
    request_fingerprint,
)

SCOPE_KEY = "stockroom.idempotency"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# JSON escapes of what no text column should hold: NUL (PostgreSQL cannot store it) and
# UTF-16 surrogates that are not a high+low pair (not encodable as UTF-8).
_NUL = re.compile(rb"\\u0000|\x00")
_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
HEADER = b"idempotency-key"


@dataclass
class IdempotentRequest:
    """What the session dependency needs to leave the commit to this middleware."""

    brand_id: uuid.UUID
    key: str
    session: AsyncSession | None = None
    response: list[Message] = field(default_factory=list)


async def _send_error(send: Send, error: StockroomError) -> None:
    await _send_json(send, error.status_code, orjson.dumps(error.body()))


async def _send_json(
    send: Send,
    status: int,
    body: bytes,
    extra: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + list(extra)})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """Body size limit for every request; idempotency for POSTs that carry a key."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _send_error(
                send, PayloadTooLarge(f"The body is over {self.max_body_bytes} bytes.")
            )
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body = await self._read_body(receive, send)
        if body is None:
            return
        if has_unstorable_text(body):
            await _send_error(
                send,
                ValidationFailed(
                    "Text may not contain NUL characters or unpaired surrogates.",
                    [
                        field_error(path, "contains NUL or an unpaired surrogate")
                        for path in unstorable_fields(body)
                    ],
                ),
            )
            return
        if scope["method"] == "POST" and HEADER in headers:
            await self._idempotent(scope, receive, send, headers, body)
        else:
            await self.app(scope, _replay_body(body, receive), send)

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _send_error(
                    send, PayloadTooLarge(f"The body is over {self.max_body_bytes} bytes.")
                )
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _idempotent(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], body: bytes
    ) -> None:
        raw_key = headers[HEADER]
        key = raw_key.decode("latin-1").strip()
        if not 1 <= len(key) <= 255:
            await _send_error(
                send,
                ValidationFailed(
                    "The Idempotency-Key must be 1 to 255 characters.",
                    [field_error("Idempotency-Key", "must be 1 to 255 characters")],
                ),
            )
            return
        app_state = scope["app"].state
        sessionmaker = app_state.sessionmaker
        # Who is calling decides the key's scope; without a valid token the route answers 401.
        try:
            token = bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
            async with sessionmaker() as session:
                principal = await load_principal(session, token)
        except Unauthenticated:
            await self.app(scope, _replay_body(body, receive), send)
            return
        fingerprint = request_fingerprint(
            scope["method"], scope["path"], scope.get("query_string", b""), body
        )
        async with sessionmaker() as session:
            await session.connection(execution_options={WRITE: True})
            claim = await claim_key(session, principal.brand_id, key, fingerprint)
            await session.commit()
        if claim.outcome is Claim.conflict:
            await _send_error(send, IdempotencyConflict())
            return
        if claim.outcome is Claim.in_progress:
            await _send_error(send, IdempotencyInProgress())
            return
        if claim.outcome is Claim.replay:
            await _send_json(
                send,
                claim.status_code or 200,
                claim.body or b"",
                [(b"idempotent-replayed", b"true")],
            )
            return
        await self._run_once(scope, body, receive, send, IdempotentRequest(principal.brand_id, key))

    async def _run_once(
        self, scope: Scope, body: bytes, receive: Receive, send: Send, request: IdempotentRequest
    ) -> None:
        scope.setdefault("state", {})[SCOPE_KEY] = request
        buffered: list[Message] = []

        async def capture(message: Message) -> None:
            buffered.append(message)

        sessionmaker = scope["app"].state.sessionmaker
        try:
            await self.app(scope, _replay_body(body, receive), capture)
        finally:
            session = request.session
            status = next(
                (m["status"] for m in buffered if m["type"] == "http.response.start"), 500
            )
            if session is not None and 200 <= status < 300:
                response_body = b"".join(
                    m.get("body", b"") for m in buffered if m["type"] == "http.response.body"
                )
                try:
                    await finish_key(session, request.brand_id, request.key, status, response_body)
                    await session.commit()
                except Exception:
                    await session.rollback()
                    buffered = []
                finally:
                    await session.close()
            else:
                if session is not None:
                    await session.rollback()
                    await session.close()
            if not (200 <= status < 300) or not buffered:
                async with sessionmaker() as cleanup:
                    await cleanup.connection(execution_options={WRITE: True})
                    await release_key(cleanup, request.brand_id, request.key)
                    await cleanup.commit()
        if not buffered:
            await _send_error(send, Unavailable("The request could not be committed; retry."))
            return
        for message in buffered:
            await send(message)


def has_unstorable_text(body: bytes) -> bool:
    """Does a JSON body carry NUL or an unpaired surrogate (which no database text can hold)?"""
    if _NUL.search(body):
        return True
    if b"\\u" not in body:
        return False
    # A pair matches as one 12-character run; a lone surrogate matches as 6 characters.
    return any(len(m.group()) == 6 for m in _SURROGATE.finditer(body))


def _is_unstorable(text: str) -> bool:
    return unstorable_reason(text) is not None


def unstorable_fields(body: bytes) -> list[str]:
    """The field paths (`products[1].notes`) whose text `has_unstorable_text` objected to."""
    try:
        document = json.loads(body)
    except ValueError:
        return ["body"]
    found: list[str] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, str):
            if _is_unstorable(value):
                found.append(path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if _is_unstorable(str(key)):
                    found.append(child)
                walk(item, child)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(document, "")
    return found or ["body"]


def _replay_body(body: bytes, receive: Receive) -> Receive:
    """Hand the already-read body to the app, then pass on what the client does next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def idempotent_request(scope: Any) -> IdempotentRequest | None:
    state = scope.get("state") or {}
    value = state.get(SCOPE_KEY)
    return value if isinstance(value, IdempotentRequest) else None
