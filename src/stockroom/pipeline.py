"""The request pipeline: one ASGI layer between observability and the routes.

In this order, for every HTTP request:

1. `HEAD` is served as the `GET` of the same path, without its body.
2. Authentication, for the API's paths (`/inventory`, `/products`, ... — not the dashboard,
   health or docs): a missing, malformed, unknown or revoked token is 401 before anything
   about the body or the headers is looked at, so an unauthenticated caller learns nothing
   about validation. The caller is left in the scope for the `CurrentPrincipal` dependency.
3. Body guards (`body_guards`): 413 over the size limit, 422 for text no database can hold.
4. The request's transaction (`db.session.RequestTransaction`), the one owner of its commit.
5. For a POST with `Idempotency-Key`: claim, replay or conflict (`idempotency.calls`); a new
   claim stores its response through the transaction's `before_commit` hook.

One layer rather than one per step: each pure-ASGI layer costs a call and a closure per
request, and this is the hot path.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockroom import body_guards
from stockroom.auth.principal import PRINCIPAL_STATE, Principal
from stockroom.auth.tokens import bearer_token, cached_principal, load_principal
from stockroom.db.session import RequestTransaction, open_transaction
from stockroom.errors import StockroomError, Unavailable
from stockroom.http.errors import error_headers
from stockroom.idempotency import calls

log = logging.getLogger("stockroom.errors")

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Paths that answer only a bearer token (API.md, "Auth and scope").
API_PREFIXES = (
    "/inventory",
    "/products",
    "/sites",
    "/invoices",
    "/purchases",
    "/users",
    "/me",
    "/webhooks",
)


def needs_token(path: str) -> bool:
    for prefix in API_PREFIXES:
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
            return True
    return False


async def send_json(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: StockroomError) -> None:
    headers = error_headers(error) or {}
    extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send_json(send, error.status_code, orjson.dumps(error.body()), extra)


def _without_body(send: Send) -> Send:
    """A HEAD answer: the GET's status and headers (Content-Length included), no body."""

    async def head(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return head


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


@dataclass(frozen=True, slots=True)
class _Template:
    """Stands in for the route a refused request was for: observability labels it by `path`."""

    path: str


_templates: list[tuple[re.Pattern[str], _Template]] = []


def _note_route(scope: Scope) -> None:
    """Name the route a refused request was for (metrics and logs count per route template).

    Only on a refusal, which never reaches the router; the API's templates are read once from
    the OpenAPI document (literal segments first, so `/inventory/stock` beats `{id}`).
    """
    if not _templates:
        paths = sorted(scope["app"].openapi()["paths"], key=lambda p: (p.count("{"), p))
        for template in paths:
            pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
            _templates.append((re.compile(pattern), _Template(template)))
    for compiled, known in _templates:
        if compiled.fullmatch(scope["path"]):
            scope["route"] = known
            return


class RequestPipeline:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            scope["method"] = "GET"  # observability has noted the method as sent
            send = _without_body(send)
        transaction = open_transaction(scope)
        try:
            try:
                ready = await self._prepare(scope, receive, send, transaction)
            except StockroomError:
                raise
            except Exception as exc:
                # The database failing under a token lookup or a key's claim: retry later.
                log.warning("request refused before routing: %s", type(exc).__name__)
                raise Unavailable() from exc
        except StockroomError as error:
            _note_route(scope)
            await transaction.close()
            await send_error(send, error)
            return
        if ready is None:
            await transaction.close()
            return
        await transaction.run(self.app, scope, ready, send)

    async def _prepare(
        self, scope: Scope, receive: Receive, send: Send, transaction: RequestTransaction
    ) -> Receive | None:
        """Authenticate, guard the body, claim an Idempotency-Key: what the app then reads,
        or None when the request is answered already (a replay) or its client went away."""
        method: str = scope["method"]
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        sessionmaker: async_sessionmaker[AsyncSession] = scope["app"].state.sessionmaker
        principal: Principal | None = None
        if needs_token(scope["path"]):
            principal = await self._authenticate(headers, transaction, sessionmaker)
            scope["state"][PRINCIPAL_STATE] = principal
        body_guards.check_declared_size(_header(headers, b"content-length"), self.max_body_bytes)
        if method not in BODY_METHODS:
            return receive
        body = await body_guards.read_body(receive, self.max_body_bytes)
        if body is None:
            return None  # the client went away
        body_guards.check_text(body)
        raw_key = _header(headers, calls.HEADER) if method == "POST" else None
        if raw_key is not None and principal is not None:
            key = calls.key_of(raw_key)
            fingerprint = calls.caller_fingerprint(
                method,
                scope["path"],
                scope.get("query_string", b""),
                body,
                principal,
                _header(headers, b"x-site-id"),
            )
            started = await calls.begin(
                sessionmaker,
                principal,
                key,
                fingerprint,
                settings=scope["app"].state.settings,
                state=scope["state"],
            )
            if isinstance(started, calls.Replay):
                extra = [(b"idempotent-replayed", b"true")]
                if started.sealed:  # it carries a secret
                    extra.append((b"cache-control", b"no-store"))
                await send_json(send, started.status_code, started.body, extra)
                return None
            # Stored with the answer in the request's transaction; released if not committed.
            transaction.before_commit(started.store, after_rollback=started.release)
        return body_guards.replay_body(body, receive)

    async def _authenticate(
        self,
        headers: list[tuple[bytes, bytes]],
        transaction: RequestTransaction,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> Principal:
        raw = _header(headers, b"authorization")
        token = bearer_token(raw.decode("latin-1") if raw is not None else None)
        known = cached_principal(token)
        if known is not None:
            return known
        if not transaction.write:
            # A read looks the token up (when the cache does not know it) in the request's
            # own session: no second connection.
            return await load_principal(await transaction.session(), token)
        # A writer's token is looked up in a short session of its own, so that its
        # transaction, which on SQLite takes the write lock, starts only once the body is in.
        async with sessionmaker() as session:
            return await load_principal(session, token)
