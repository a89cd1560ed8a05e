"""The request being served — its id and, once its token is read, its brand — for log lines."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class RequestContext:
    """Mutable on purpose: code deep in the request fills in what it learns (the brand)."""

    request_id: str
    brand_id: uuid.UUID | None = None


current_request: ContextVar[RequestContext | None] = ContextVar("stockroom_request", default=None)


def bind_brand(brand_id: uuid.UUID) -> None:
    """Name the brand of the request being served in its log line (no-op outside a request)."""
    context = current_request.get()
    if context is not None:
        context.brand_id = brand_id
