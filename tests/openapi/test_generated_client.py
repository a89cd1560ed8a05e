"""A Python client generated from /openapi.json by openapi-python-client works against a server.

What an integrator does on day one: generate a client from the served document, import it,
and call the API through it — a write at a site chosen by `X-Site-Id`, the report with its
declared paging defaults and keyset paging, the CSV export, and an error parsed into its
typed code.
"""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.openapi.document import TOOLS
from tests.server import Server, running_server

GENERATOR = TOOLS / "venv" / "bin" / "openapi-python-client"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    with running_server(database_url, workers=1) as server:
        yield server


@pytest.fixture(scope="module")
def demo(database_url: str, server: Server) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "stockroom.cli", "demo", "--json"],
        env={**os.environ, "STOCKROOM_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(result.stdout))


@pytest.fixture(scope="module")
def generated(
    server: Server, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    if not GENERATOR.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"openapi-python-client is required under CI=true: {GENERATOR} missing")
        pytest.skip("openapi-python-client is not installed (make openapi-tools)")
    root = tmp_path_factory.mktemp("client")
    document = root / "openapi.json"
    document.write_text(httpx.get(f"{server.base_url}/openapi.json", timeout=10).text)
    config = root / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))
    name = f"stockroom_client_{backend}"
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(root / name),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The generator says "Warning(s) encountered" when it had to leave a piece out.
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(root))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


@pytest.fixture
def client(server: Server, demo: dict[str, Any], generated: ModuleType) -> Iterator[Any]:
    with generated.AuthenticatedClient(base_url=server.base_url, token=demo["token"]) as c:
        yield c


def api(generated: ModuleType, module: str) -> Any:
    return importlib.import_module(f"{generated.__name__}.{module}")


def on_hand_at(server: Server, token: str, product_id: str, site_id: str) -> int:
    response = httpx.get(
        f"{server.base_url}/inventory/products/{product_id}/stock",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    (site,) = [s for s in response.json()["sites"] if s["site_id"] == site_id]
    return int(site["on_hand"])


def test_a_write_with_x_site_id_through_the_generated_client_lands_at_that_site(
    server: Server, demo: dict[str, Any], generated: ModuleType, client: Any
) -> None:
    token, product = demo["token"], demo["product_ids"][0]
    default_site, other_site = demo["site_ids"]
    before = {s: on_hand_at(server, token, product, s) for s in (default_site, other_site)}
    models = api(generated, "models")
    create = api(generated, "api.inventory_adjustments.create_inventory_adjustment")

    # The header is typed as the string it is on the wire: a UUID object there crashes httpx.
    annotation = str(inspect.signature(create.sync_detailed).parameters["x_site_id"].annotation)
    assert "str" in annotation and "UUID" not in annotation, annotation

    response = create.sync_detailed(
        client=client,
        body=models.SingleAdjustment(
            product_id=uuid.UUID(product), quantity=3, reason_code="correction"
        ),
        x_site_id=other_site,
    )

    assert response.status_code == 201, response.content
    movement = response.parsed
    assert isinstance(movement, models.Movement)
    assert str(movement.site_id) == other_site
    assert movement.quantity == 3
    assert movement.created_at.tzinfo is not None  # parsed as a date-time
    assert on_hand_at(server, token, product, other_site) == before[other_site] + 3
    assert on_hand_at(server, token, product, default_site) == before[default_site]


def test_the_report_pages_by_cursor_with_the_declared_defaults_sent_along(
    server: Server, demo: dict[str, Any], generated: ModuleType, client: Any
) -> None:
    # The generated client sends page=1&per_page=25 (their declared defaults) on every call.
    models = api(generated, "models")
    report = api(generated, "api.stock_movements.list_stock_movements")

    numbered = report.sync(client=client)
    first = report.sync(client=client, limit=2)
    second = report.sync(client=client, limit=2, cursor=first.meta.next_cursor)

    assert isinstance(numbered, models.PageMovement)
    assert numbered.meta.page == 1 and numbered.meta.total >= 6
    assert isinstance(first, models.MovementCursorPage)
    assert isinstance(second, models.MovementCursorPage)
    assert [m.id for m in first.data + second.data] == [m.id for m in numbered.data[:4]]


def test_the_csv_export_operation_answers_the_reports_rows(
    server: Server, demo: dict[str, Any], generated: ModuleType, client: Any
) -> None:
    export = api(generated, "api.stock_movements.export_stock_movements")
    report = api(generated, "api.stock_movements.list_stock_movements")
    site = uuid.UUID(demo["site_ids"][1])

    response = export.sync_detailed(client=client, site_id=site)
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    listed = report.sync(client=client, site_id=site, per_page=100)
    assert [r["id"] for r in rows] == [str(m.id) for m in listed.data]


def test_an_error_is_parsed_into_its_typed_code_and_details(
    server: Server, demo: dict[str, Any], generated: ModuleType, client: Any
) -> None:
    token, product = demo["token"], demo["product_ids"][0]
    site = demo["site_ids"][0]
    models = api(generated, "models")
    create = api(generated, "api.inventory_adjustments.create_inventory_adjustment")
    on_hand = on_hand_at(server, token, product, site)

    response = create.sync_detailed(
        client=client,
        body=models.SingleAdjustment(product_id=uuid.UUID(product), quantity=-(on_hand + 1)),
        x_site_id=site,
    )

    assert response.status_code == 422
    error = response.parsed.error
    assert error.code is models.ErrorCode.INSUFFICIENT_STOCK
    (detail,) = error.details
    assert detail.on_hand == on_hand
    assert detail.requested == -(on_hand + 1)
    assert str(detail.site_id) == site
    assert on_hand_at(server, token, product, site) == on_hand
