"""The errors Stockroom speaks: a machine code and an HTTP status for each, nothing else.

    StockroomError (code, status)
    ├── Unauthenticated          401 unauthenticated
    ├── Forbidden                403 forbidden
    ├── NotFound                 404 not_found
    ├── MethodNotAllowed         405 method_not_allowed
    ├── IdempotencyInProgress    409 idempotency_in_progress
    ├── StaleQuantity            409 stale_quantity
    ├── PayloadTooLarge          413 payload_too_large
    ├── ValidationFailed         422 validation_error
    │   ├── InsufficientStock    422 insufficient_stock
    │   ├── InsufficientAvailable 422 insufficient_available
    │   ├── AlreadyInitialized   422 already_initialized
    │   ├── IdempotencyConflict  422 idempotency_conflict
    │   ├── ReservationClosed    422 reservation_closed
    │   ├── TransferClosed       422 transfer_closed
    │   └── CountClosed          422 count_closed
    ├── RateLimited              429 rate_limited (Retry-After)
    └── Unavailable              503 unavailable (Retry-After)

Services raise these where the rule lives; routes never catch them and never raise
HTTPException. This module imports no framework (no FastAPI, Starlette, SQLAlchemy or
asyncpg), so pure rules (`ledger/rules.py`) can raise them. How they leave the service — the
contract's `{"error": {"code", "message", "details": [{"field", "message"}]}}`, headers, and
the mapping of framework and database errors — is `stockroom.http.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

Detail = dict[str, Any]


class StockroomError(Exception):
    """Base of every error the API answers with; carries a machine code and a status."""

    code = "error"
    status_code = 500
    default_message = "Something went wrong."
    # Seconds after which a retry may succeed (sent as Retry-After); None: do not retry as is.
    retry_after: int | None = None

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


class InsufficientAvailable(ValidationFailed):
    """A line asks for more than is available (on hand less reserved); nothing was written."""

    code = "insufficient_available"
    default_message = "Not enough stock available."


class AlreadyInitialized(ValidationFailed):
    """Initial stock for a product that already has movements at the site."""

    code = "already_initialized"
    default_message = "Stock is already initialized for a product at this site."


class IdempotencyConflict(ValidationFailed):
    """The Idempotency-Key was used before with a different request."""

    code = "idempotency_conflict"
    default_message = "This Idempotency-Key was used with a different request."


class ReservationClosed(ValidationFailed):
    """The reservation is released, expired or fully consumed."""

    code = "reservation_closed"
    default_message = "The reservation is closed."


class TransferClosed(ValidationFailed):
    """The transfer is cancelled or completed."""

    code = "transfer_closed"
    default_message = "The transfer is closed."


class CountClosed(ValidationFailed):
    """The stock count is completed or cancelled."""

    code = "count_closed"
    default_message = "The stock count is closed."


class RateLimited(StockroomError):
    """The token made more requests than its rate limit allows; retry after `retry_after` s.

    `headers` are the RateLimit fields of the answer (where the token stands), as text.
    """

    code, status_code = "rate_limited", 429
    default_message = "Too many requests; slow down."

    def __init__(
        self,
        message: str | None = None,
        details: Sequence[Detail] = (),
        *,
        retry_after: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, details)
        self.retry_after = max(1, retry_after)
        self.headers = dict(headers or {})


class Unavailable(StockroomError):
    """The database is unreachable or a lock could not be had in time; retry later."""

    code, status_code = "unavailable", 503
    default_message = "The service is temporarily unavailable; retry shortly."
    retry_after = 1


def field_error(field: str, message: str) -> Detail:
    return {"field": field, "message": message}


# The HTTP side used to live here; its names stay importable from this module (loaded on first
# use, so importing the vocabulary never loads a framework).
_HTTP_NAMES = frozenset(
    {
        "BODY_FORM_TAGS",
        "ErrorBody",
        "ErrorDetail",
        "ErrorInfo",
        "error_responses",
        "install_error_handlers",
        "validation_details",
    }
)

if TYPE_CHECKING:
    from stockroom.http.errors import (
        BODY_FORM_TAGS as BODY_FORM_TAGS,
    )
    from stockroom.http.errors import (
        ErrorBody as ErrorBody,
    )
    from stockroom.http.errors import (
        ErrorDetail as ErrorDetail,
    )
    from stockroom.http.errors import (
        ErrorInfo as ErrorInfo,
    )
    from stockroom.http.errors import (
        error_responses as error_responses,
    )
    from stockroom.http.errors import (
        install_error_handlers as install_error_handlers,
    )
    from stockroom.http.errors import (
        validation_details as validation_details,
    )


def __getattr__(name: str) -> Any:
    if name in _HTTP_NAMES:
        from stockroom.http import errors as http_errors

        return getattr(http_errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
