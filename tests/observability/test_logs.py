"""One structured access line per request, and the JSON format `stockroom serve` writes."""

from __future__ import annotations

import json
import logging
import os
import pty
import subprocess
import sys

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockroom.observability.context import RequestContext, current_request
from stockroom.observability.logs import (
    ACCESS_LOGGER,
    JsonFormatter,
    RequestContextFilter,
    TextFormatter,
)
from stockroom.observability.middleware import RequestObservability
from tests.factories import Database, create_brand_with_admin


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS_LOGGER]


async def test_each_request_logs_one_line_with_its_route_status_time_and_ids(
    client: httpx.AsyncClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    brand = await create_brand_with_admin(db)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    await client.get(
        f"/sites/{brand.site_id}", headers={**brand.admin.headers, "X-Request-Id": "log-1"}
    )

    (record,) = access_records(caplog)
    assert record.getMessage() == "request"
    assert record.method == "GET"  # type: ignore[attr-defined]
    assert record.path == "/sites/{site_id}"  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert isinstance(record.duration_ms, float) and record.duration_ms > 0  # type: ignore[attr-defined]
    assert record.request_id == "log-1"  # type: ignore[attr-defined]
    assert record.brand_id == str(brand.id)  # type: ignore[attr-defined]


async def test_a_request_without_a_token_is_logged_without_a_brand(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    response = await client.get("/inventory/adjustments")
    await client.get("/nothing/here/42")

    first, second = access_records(caplog)
    assert (first.status, first.brand_id) == (401, None)  # type: ignore[attr-defined]
    assert first.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
    # A path no route matched is logged as sent (it names no template).
    assert (second.path, second.status) == ("/nothing/here/42", 404)  # type: ignore[attr-defined]


async def test_a_failed_write_is_logged_with_its_error_status(
    client: httpx.AsyncClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    brand = await create_brand_with_admin(db)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    await client.post("/inventory/adjustments", headers=brand.admin.headers, json={})

    (record,) = access_records(caplog)
    assert (record.method, record.path, record.status) == (  # type: ignore[attr-defined]
        "POST",
        "/inventory/adjustments",
        422,
    )


def test_the_json_format_is_one_object_per_line_with_the_request_fields() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "request", None, None)
    record.__dict__.update(
        method="GET", path="/healthz", status=200, duration_ms=0.42, request_id="r1", brand_id=None
    )

    line = formatter.format(record)

    assert "\n" not in line
    fields = json.loads(line)
    assert fields["message"] == "request"
    assert fields["level"] == "INFO"
    assert fields["logger"] == ACCESS_LOGGER
    assert isinstance(fields["pid"], int)
    assert fields["time"].endswith("+00:00")
    assert {k: fields[k] for k in ("method", "path", "status", "duration_ms", "request_id")} == {
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "duration_ms": 0.42,
        "request_id": "r1",
    }


def test_other_lines_logged_during_a_request_carry_its_id() -> None:
    record = logging.LogRecord("stockroom.errors", logging.ERROR, __file__, 1, "boom", None, None)
    reset = current_request.set(RequestContext("req-7"))
    try:
        RequestContextFilter().filter(record)
    finally:
        current_request.reset(reset)

    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-7"


async def test_an_unexpected_error_is_a_500_with_the_request_id_and_a_logged_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    # As in the service: Starlette's own error middleware outside, this one inside it.
    app = Starlette(
        routes=[Route("/broken/{n}", broken)], middleware=[Middleware(RequestObservability)]
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    caplog.set_level(logging.INFO, logger="stockroom")

    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/broken/1", headers={"X-Request-Id": "bug-1"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "bug-1"
    assert response.json() == {
        "error": {"code": "error", "message": "Something went wrong.", "details": []}
    }
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.exc_info is not None
    assert error.request_id == "bug-1"  # type: ignore[attr-defined]
    (access,) = access_records(caplog)
    assert (access.path, access.status) == ("/broken/{n}", 500)  # type: ignore[attr-defined]


# --- the format: JSON for machines, text for people at a terminal -----------------------------

_LOG_ONE_LINE = (
    "import logging, logging.config\n"
    "from stockroom.observability.logs import log_config\n"
    "from stockroom.settings import Settings\n"
    "logging.config.dictConfig(log_config(log_format=Settings().log_format))\n"
    "logging.getLogger('stockroom.access').info('request', extra={'status': 200, 'path': '/x'})\n"
)


def _log_line(stderr_is_terminal: bool, log_format: str | None) -> str:
    """What a Stockroom process writes to its stderr, a terminal (pty) or a pipe."""
    env = {k: v for k, v in os.environ.items() if k != "STOCKROOM_LOG_FORMAT"}
    if log_format is not None:
        env["STOCKROOM_LOG_FORMAT"] = log_format
    if not stderr_is_terminal:
        done = subprocess.run(
            [sys.executable, "-c", _LOG_ONE_LINE], env=env, capture_output=True, check=True
        )
        return done.stderr.decode().strip()
    leader, follower = pty.openpty()
    try:
        subprocess.run([sys.executable, "-c", _LOG_ONE_LINE], env=env, stderr=follower, check=True)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal is closed once everything is read (Linux: EIO)
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode().strip()
    finally:
        os.close(leader)


def test_logs_are_text_for_people_at_a_terminal_and_json_in_a_pipe() -> None:
    at_terminal = _log_line(stderr_is_terminal=True, log_format=None)
    in_pipe = _log_line(stderr_is_terminal=False, log_format=None)

    assert not at_terminal.startswith("{")
    assert "INFO" in at_terminal and "stockroom.access request" in at_terminal
    assert "status=200" in at_terminal and "path=/x" in at_terminal
    assert json.loads(in_pipe)["status"] == 200


def test_the_log_format_setting_overrides_the_terminal_guess() -> None:
    assert json.loads(_log_line(stderr_is_terminal=True, log_format="json"))["path"] == "/x"
    as_text = _log_line(stderr_is_terminal=False, log_format="text")
    assert not as_text.startswith("{") and "path=/x" in as_text


def test_the_text_format_keeps_the_request_id_and_the_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "stockroom.errors", logging.ERROR, __file__, 1, "unhandled", None, sys.exc_info()
        )
    record.request_id = "req-9"

    text = TextFormatter().format(record)

    first, *rest = text.splitlines()
    assert first.endswith("ERROR stockroom.errors unhandled request_id=req-9")
    assert "RuntimeError: boom" in rest[-1]
