"""One structured access line per request, and the JSON format `stockroom serve` writes."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockroom.observability.context import RequestContext, current_request
from stockroom.observability.logs import ACCESS_LOGGER, JsonFormatter, RequestContextFilter
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
