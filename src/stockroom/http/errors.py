"""How errors leave the service over HTTP: the contract's error shape, its headers, the mapping
of framework and database errors onto the vocabulary of `stockroom.errors`, and the OpenAPI
models of the error body."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from stockroom.errors import (
    Detail,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StockroomError,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
    field_error,
)

log = logging.getLogger("stockroom.errors")


def error_headers(error: StockroomError) -> dict[str, str] | None:
    """The headers an error answers with: WWW-Authenticate on 401, Retry-After when it has one."""
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers.update(error.headers)
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return headers or None


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
        return _render(exc, error_headers(exc))

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
            return _render(Unauthenticated(), error_headers(Unauthenticated()))
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
        unavailable = Unavailable()
        return _render(unavailable, error_headers(unavailable))

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
    429: "Too many requests for this token; retry after `Retry-After` seconds (`rate_limited`).",
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
