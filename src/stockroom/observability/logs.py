"""Structured logs: one JSON object per line, every line of a request carrying its id.

The formatting is python-json-logger's (with orjson); this module only fixes the fields and
adds the request's id to lines logged while it is served. `stockroom serve` hands
`log_config()` to uvicorn, which applies it in every worker process.

An access line (logger `stockroom.access`, one per request) looks like:

    {"level": "INFO", "logger": "stockroom.access", "pid": 4242, "message": "request",
     "method": "GET", "path": "/sites/{site_id}", "status": 200, "duration_ms": 1.82,
     "request_id": "5f0c…", "brand_id": "0b7e…", "time": "2025-01-01T12:00:00.123456+00:00"}
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

from stockroom.observability.context import current_request

ACCESS_LOGGER = "stockroom.access"
access_log = logging.getLogger(ACCESS_LOGGER)


class JsonFormatter(OrjsonFormatter):
    """`level`, `logger`, `pid`, `message`, the record's extra fields, then `time`."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "process", "message"],
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            timestamp="time",
            # uvicorn adds the message again with terminal colour codes: not for a log store.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )


class RequestContextFilter(logging.Filter):
    """Adds the current request's id (and brand) to lines that do not carry their own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            context = current_request.get()
            if context is not None:
                record.request_id = context.request_id
                if context.brand_id is not None:
                    record.brand_id = str(context.brand_id)
        return True


def log_request(
    method: str,
    path: str,
    status: int,
    seconds: float,
    request_id: str,
    brand_id: object | None,
) -> None:
    """The request's one access line."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "request",
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "request_id": request_id,
                "brand_id": None if brand_id is None else str(brand_id),
            },
        )


def log_config(level: str = "INFO", *, access: bool = True) -> dict[str, Any]:
    """`logging.config.dictConfig` settings: JSON lines on stderr for Stockroom and uvicorn.

    `access=False` leaves out the per-request lines (errors and warnings are still logged).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContextFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["request"],
            }
        },
        "loggers": {
            "stockroom": {"handlers": ["stderr"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"level": level if access else "WARNING"},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            # Stockroom writes its own access line (with the route template and request id).
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
