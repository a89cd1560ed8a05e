"""Schemathesis over /openapi.json against a real server: no 5xx, every answer as documented.

Each operation gets a bounded number of generated requests, valid ("positive") and invalid
("negative") ones, sent with
a real admin token of a brand that has stock, on both backends.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.cli.test_cli import json_of, stockroom
from tests.server import Server, running_server

EXAMPLES = int(os.environ.get("STOCKROOM_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzz_server(database_url: str) -> Iterator[Server]:
    with running_server(database_url, workers=1) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_token(database_url: str, fuzz_server: Server) -> str:
    return str(json_of(stockroom(database_url, "demo", "--json"))["token"])


def test_every_operation_answers_as_documented_and_never_5xx(
    fuzz_server: Server, fuzz_token: str
) -> None:
    api = schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 10
    failures: list[str] = []
    for operation, mode in itertools.product(operations, list(GenerationMode)):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(base_url=fuzz_server.base_url, headers=headers, checks=checks)

        try:
            run()
        except Unsatisfiable:
            continue  # no parameters or body to make invalid (negative mode of GET /me)
        except Exception as exc:  # collect every operation's failure, then fail once
            failures.append(f"{operation.label} ({mode.value}): {str(exc)[:2000]}")
    assert not failures, "\n\n".join(failures)
