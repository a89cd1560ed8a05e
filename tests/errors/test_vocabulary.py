"""The error vocabulary is framework-free, and each error leaves over HTTP in the one shape."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from fastapi import FastAPI

from stockroom import errors
from stockroom.http.errors import install_error_handlers
from tests.errors.shape import error_of

FRAMEWORKS = ("fastapi", "starlette", "asyncpg", "sqlalchemy")


def _loaded_after(module: str) -> set[str]:
    code = (
        f"import sys, {module}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_the_vocabulary_loads_no_framework() -> None:
    assert not _loaded_after("stockroom.errors") & set(FRAMEWORKS)


def test_the_pure_ledger_rules_load_no_web_framework() -> None:
    assert not _loaded_after("stockroom.ledger.rules") & {"fastapi", "starlette", "asyncpg"}


def test_the_http_names_stay_importable_from_the_vocabulary() -> None:
    from stockroom.errors import error_responses, install_error_handlers
    from stockroom.http import errors as http_errors

    assert error_responses is http_errors.error_responses
    assert install_error_handlers is http_errors.install_error_handlers


PART_2 = [
    (errors.InsufficientAvailable(), 422, "insufficient_available"),
    (errors.ReservationClosed(), 422, "reservation_closed"),
    (errors.TransferClosed(), 422, "transfer_closed"),
    (errors.CountClosed(), 422, "count_closed"),
    (errors.RateLimited(retry_after=7), 429, "rate_limited"),
]


@pytest.mark.parametrize(("error", "status", "code"), PART_2, ids=[c for _, _, c in PART_2])
async def test_part_2_codes_leave_in_the_error_shape(
    error: errors.StockroomError, status: int, code: str
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/boom")
    error_of(response, status, code)
    if code == "rate_limited":
        assert response.headers["Retry-After"] == "7"
    else:
        assert "Retry-After" not in response.headers
