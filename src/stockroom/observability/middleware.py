"""RequestObservability: the outermost middleware — request id, timing, access log, metrics.

Pure ASGI (no BaseHTTPMiddleware, no per-request objects beyond a small context), so the
cost per request is a few microseconds. The request id is taken from `X-Request-Id` when it
is 1–128 characters of `A–Z a–z 0–9 . _ : / + = -` (what UUIDs, ULIDs and base64 ids use),
and made up otherwise; it is answered in `X-Request-Id` and named on every log line the
request causes — an unexpected error's 500 included, which is answered here for that reason.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import orjson
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockroom.errors import StockroomError
from stockroom.observability.context import RequestContext, current_request
from stockroom.observability.logs import log_request
from stockroom.observability.metrics import observe_request

log = logging.getLogger("stockroom.errors")

HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")
# Paths that matched no route are logged as sent, up to this many characters.
_MAX_LOGGED_PATH = 200


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's request id when it is a sane one, else a new one."""
    for name, value in headers:
        if name == HEADER:
            if _VALID_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return uuid.uuid4().hex


def route_template(scope: Scope, outer_root_path: str) -> str | None:
    """The matched route's path template (`/sites/{site_id}`), or None when none matched."""
    route = scope.get("route")
    if route is None:
        return None
    # Routes inside a Mount are relative to it; the mount's own path is in root_path.
    prefix = str(scope.get("root_path", ""))[len(outer_root_path) :]
    if isinstance(route, Mount):
        return prefix + "/{path}"
    path = getattr(route, "path", None)
    return None if path is None else prefix + str(path)


async def _send_internal_error(send: Send) -> None:
    body = orjson.dumps(StockroomError().body())
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestObservability:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]  # as sent: the pipeline serves a HEAD as a GET
        request_id = request_id_of(scope["headers"])
        context = RequestContext(request_id)
        reset = current_request.set(context)
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (HEADER, request_id.encode("ascii"))
        outer_root_path = scope.get("root_path", "")
        status = 0  # no response started yet

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if status:
                raise  # the response is under way; the server ends the connection
            # An error no handler answered. It is answered here, not by Starlette's outermost
            # error middleware, so that its 500 carries X-Request-Id and its log line (with
            # the traceback) the request's id and brand.
            log.error(
                "unhandled %s",
                type(exc).__qualname__,
                exc_info=exc,
                extra={
                    "request_id": request_id,
                    "brand_id": context.brand_id and str(context.brand_id),
                },
            )
            await _send_internal_error(send_with_id)
        finally:
            seconds = time.perf_counter() - started
            current_request.reset(reset)
            # No answer at all: the client went away (nginx's "499 client closed request").
            status = status or 499
            route = route_template(scope, outer_root_path)
            observe_request(method, route, status, seconds)
            path = route if route is not None else scope["path"][:_MAX_LOGGED_PATH]
            log_request(method, path, status, seconds, request_id, context.brand_id)
