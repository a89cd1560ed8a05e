"""Structured logs: one JSON object per line, every line of a request carrying its id.

The formatting is python-json-logger's (with orjson); this module only fixes the fields and
adds the request's id to lines logged while it is served. `stockroom serve` hands
`log_config()` to uvicorn, which applies it in every worker process.

For people at a terminal the same records are one readable line each (TextFormatter):
`STOCKROOM_LOG_FORMAT=auto` (the default) picks text when the log stream (stderr) is a
terminal and JSON otherwise; `json` or `text` forces one.

An access line (logger `stockroom.access`, one per request) looks like:

    {"level": "INFO", "logger": "stockroom.access", "pid": 4242, "message": "request",
     "method": "GET", "path": "/sites/{site_id}", "status": 200, "duration_ms": 1.82,
     "request_id": "5f0c…", "brand_id": "0b7e…", "time": "2025-01-01T12:00:00.123456+00:00"}
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

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


class TextFormatter(logging.Formatter):
    """`13:02:11.482 INFO  stockroom.access request method=GET path=/sites status=200 …`."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S.%f")[:-3]
        extras = " ".join(
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _NOT_EXTRA and value is not None
        )
        line = f"{when} {record.levelname:<5} {record.name} {record.getMessage()}"
        if extras:
            line += f" {extras}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


_NOT_EXTRA = frozenset({*RESERVED_ATTRS, "color_message", "message", "asctime", "taskName"})

LogFormat = Literal["auto", "json", "text"]


def chosen_format(setting: LogFormat, stream: Any = None) -> Literal["json", "text"]:
    """json or text: `auto` is text when the stream (stderr by default) is a terminal."""
    if setting != "auto":
        return setting
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


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


def log_config(
    level: str = "INFO", *, access: bool = True, log_format: LogFormat = "json"
) -> dict[str, Any]:
    """`logging.config.dictConfig` settings: lines on stderr for Stockroom and uvicorn.

    `access=False` leaves out the per-request lines (errors and warnings are still logged);
    `log_format` is json, text, or auto (text when stderr is a terminal).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContextFilter}},
        "formatters": {"json": {"()": JsonFormatter}, "text": {"()": TextFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": chosen_format(log_format),
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
