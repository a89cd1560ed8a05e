"""Domain errors and the one place that renders them as the contract's error shape.

    StockroomError (code, status)
    ├── Unauthenticated        401 unauthenticated
    ├── Forbidden              403 forbidden
    ├── NotFound               404 not_found
    ├── MethodNotAllowed       405 method_not_allowed
    ├── IdempotencyInProgress  409 idempotency_in_progress
    ├── StaleQuantity          409 stale_quantity
    ├── PayloadTooLarge        413 payload_too_large
    ├── ValidationFailed       422 validation_error
    │   ├── InsufficientStock  422 insufficient_stock
    │   ├── AlreadyInitialized 422 already_initialized
    │   ├── CountClosed        422 count_closed
    │   └── IdempotencyConflict 422 idempotency_conflict
    └── Unavailable            503 unavailable

Services raise these where the rule lives; routes never catch them and never raise
HTTPException. Every 4xx/5xx leaves the service as
`{"error": {"code", "message", "details": [{"field", "message"}]}}`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger("stockroom.errors")

Detail = dict[str, Any]


class StockroomError(Exception):
    """Base of every error the API answers with; carries a machine code and a status."""

    code = "error"
    status_code = 500
    default_message = "Something went wrong."

    def __init__(self, message: str | None = None, details: Sequence[Detail] = ()) -> None:
        self.message = message or self.default_message
        self.details = list(details)
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class Unauthenticated(StockroomError):
    """No valid bearer token: missing, malformed, unknown or revoked."""

    code, status_code = "unauthenticated", 401
    default_message = "A valid bearer token is required."


class Forbidden(StockroomError):
    """The caller is known but may not do this here."""

    code, status_code = "forbidden", 403
    default_message = "You do not have permission to do this."


class NotFound(StockroomError):
    """The path names something that does not exist in the caller's brand."""

    code, status_code = "not_found", 404
    default_message = "Not found."


class MethodNotAllowed(StockroomError):
    """The path exists but not with this HTTP method."""

    code, status_code = "method_not_allowed", 405
    default_message = "Method not allowed."


class IdempotencyInProgress(StockroomError):
    """A request with the same Idempotency-Key is still running."""

    code, status_code = "idempotency_in_progress", 409
    default_message = "A request with this Idempotency-Key is still in progress."


class StaleQuantity(StockroomError):
    """The level was not at `expected_on_hand` when the write came; nothing was written."""

    code, status_code = "stale_quantity", 409
    default_message = "The stock level is not the expected quantity."


class PayloadTooLarge(StockroomError):
    """The request body is over the configured limit."""

    code, status_code = "payload_too_large", 413
    default_message = "The request body is too large."


class ValidationFailed(StockroomError):
    """The request is well-formed HTTP but its content breaks a rule."""

    code, status_code = "validation_error", 422
    default_message = "The request did not pass validation."


class InsufficientStock(ValidationFailed):
    """A write would take a level below zero at a site that forbids negative stock."""

    code = "insufficient_stock"
    default_message = "Not enough stock."


class AlreadyInitialized(ValidationFailed):
    """Initial stock for a product that already has movements at the site."""

    code = "already_initialized"
    default_message = "Stock is already initialized for a product at this site."


class CountClosed(ValidationFailed):
    """A write to a stock count that is already completed or cancelled."""

    code = "count_closed"
    default_message = "The count is closed."


class IdempotencyConflict(ValidationFailed):
    """The Idempotency-Key was used before with a different request."""

    code = "idempotency_conflict"
    default_message = "This Idempotency-Key was used with a different request."


class Unavailable(StockroomError):
    """The database is unreachable or a lock could not be had in time; retry later."""

    code, status_code = "unavailable", 503
    default_message = "The service is temporarily unavailable; retry shortly."


def field_error(field: str, message: str) -> Detail:
    return {"field": field, "message": message}


def _render(error: StockroomError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


# Tags of body forms chosen by a discriminator (see adjustments) are not field names.
BODY_FORM_TAGS = frozenset({"single", "batch"})


def _field_path(loc: Sequence[Any]) -> str:
    # FastAPI prefixes "body"/"query"/"header"; the caller knows fields by their own names.
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    if parts and parts[0] in BODY_FORM_TAGS:
        parts = parts[1:]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def validation_details(errors: Sequence[Any]) -> list[Detail]:
    details = []
    for err in errors:
        details.append(field_error(_field_path(err.get("loc", ())), str(err.get("msg", "invalid"))))
    return details


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    # RFC 9110: a 405 names every method the path takes. Starlette's own `Allow` names only
    # the first route whose path matched, and GET and POST of a path are separate routes.
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


def _is_bad_value(exc: BaseException) -> bool:
    """Did the database refuse a value the client sent (SQLSTATE class 22, data exception)?"""
    if isinstance(exc, UnicodeEncodeError | asyncpg.DataError):
        return True
    orig = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        if isinstance(candidate, UnicodeEncodeError | asyncpg.DataError):
            return True
        sqlstate = getattr(candidate, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("22"):
            return True
    return False


def install_error_handlers(app: FastAPI) -> None:
    """Make every error leave the service in the contract's shape."""

    async def on_domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StockroomError)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        if isinstance(exc, Unavailable):
            headers = {"Retry-After": "1"}
        return _render(exc, headers)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _render(ValidationFailed("The request body is not valid JSON."))
        if errors and all(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
            # A malformed id in a path names nothing that exists: the contract's 404.
            return _render(NotFound())
        return _render(ValidationFailed(details=validation_details(errors)))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return _render(NotFound())
        if exc.status_code == 405:
            return _render(MethodNotAllowed(), {"Allow": _allowed_methods(request)})
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (e.g. JSON nested too deep to read): the
            # same unreadable-body answer as malformed JSON.
            return _render(ValidationFailed("The request body could not be read."))
        if exc.status_code == 401:
            return _render(Unauthenticated(), {"WWW-Authenticate": "Bearer"})
        if exc.status_code == 413:
            return _render(PayloadTooLarge())
        generic = StockroomError(str(exc.detail))
        generic.status_code = exc.status_code
        generic.code = "validation_error" if exc.status_code == 422 else "http_error"
        return _render(generic)

    async def on_database(_: Request, exc: Exception) -> JSONResponse:
        log.debug("database error", exc_info=exc)
        if _is_bad_value(exc):
            return _render(
                ValidationFailed(
                    "A value cannot be stored: it is out of range or has characters "
                    "(such as NUL or unpaired surrogates) that text may not contain."
                )
            )
        # Lock/statement timeouts, a restarting database, a dropped connection: the client
        # may retry; nothing was committed because the transaction was rolled back.
        log.warning("database unavailable: %s", type(exc).__name__)
        return _render(Unavailable(), {"Retry-After": "1"})

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s", type(exc).__qualname__, exc_info=exc)
        return _render(StockroomError())

    app.add_exception_handler(StockroomError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OperationalError, on_database)
    app.add_exception_handler(DBAPIError, on_database)
    # The database going away shows up below SQLAlchemy too: a refused or reset socket, a
    # server "starting up", the pool timing out waiting for a connection.
    app.add_exception_handler(OSError, on_database)
    app.add_exception_handler(SQLAlchemyTimeoutError, on_database)
    app.add_exception_handler(asyncpg.PostgresError, on_database)
    app.add_exception_handler(asyncpg.InterfaceError, on_database)
    app.add_exception_handler(UnicodeEncodeError, on_database)
    app.add_exception_handler(Exception, on_unexpected)


# --- OpenAPI: every route declares the error responses it can give, in the one shape. ---

from pydantic import BaseModel, ConfigDict  # noqa: E402


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "insufficient_stock",
                        "message": "Not enough stock; nothing was written.",
                        "details": [
                            {
                                "field": "products[1].quantity",
                                "message": "on hand is 2; a change of -5 would go below zero",
                            }
                        ],
                    }
                }
            ]
        }
    )

    error: ErrorInfo


_DESCRIPTIONS = {
    401: "Missing, malformed, unknown or revoked bearer token (`unauthenticated`).",
    403: "The caller may not read or write this site, or its role forbids this (`forbidden`).",
    404: "Nothing with this id in your brand (`not_found`).",
    409: "`stale_quantity` or `idempotency_in_progress`.",
    413: "The request body is too large (`payload_too_large`).",
    422: "Validation failed (`validation_error`, `insufficient_stock`, `already_initialized`, "
    "`idempotency_conflict`).",
    503: "The database is unavailable or busy; retry (`unavailable`).",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status with the contract's error body.

    422 is always declared: any request can fail validation, and declaring it replaces
    FastAPI's default 422 schema, which is not the shape this API answers with.
    """
    return {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        for code in sorted({*codes, 422})
    }
