"""Assertions on the contract's one error shape, shared by the tests that expect an error."""

from __future__ import annotations

from typing import Any

import httpx


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert `response` is `status` in the one error shape with `code`; return the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    for detail in error["details"]:
        assert isinstance(detail["field"], str), detail
        assert isinstance(detail["message"], str), detail
    assert "Traceback" not in response.text
    return dict(error)


def detail_fields(error: dict[str, Any]) -> list[str]:
    return [detail["field"] for detail in error["details"]]
