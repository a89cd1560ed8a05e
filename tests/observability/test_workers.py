"""A real `stockroom serve --workers 2`: JSON log lines, and /metrics adding up every worker."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from stockroom.db.migrate import upgrade_database
from tests.server import running_server

REQUESTS = 60


@pytest.mark.slow
def test_two_workers_log_json_lines_and_share_their_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade_database(url)
    metrics_dir = tmp_path / "metrics"
    (metrics_dir).mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by an earlier run")
    log = tmp_path / "server.log"
    monkeypatch.setenv("STOCKROOM_TEST_SERVER_LOG", str(log))

    with running_server(
        url, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    ) as server:

        def get(i: int) -> str:
            # A connection each, so the requests spread over both workers.
            with httpx.Client(base_url=server.base_url) as client:
                response = client.get("/healthz", headers={"X-Request-Id": f"w-{i}"})
                assert response.status_code == 200
                return response.headers["x-request-id"]

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(get, range(REQUESTS)))
        text = httpx.get(f"{server.base_url}/metrics").text

    assert ids == [f"w-{i}" for i in range(REQUESTS)]
    healthz = [
        line
        for line in text.splitlines()
        if line.startswith("stockroom_http_requests_total")
        and 'route="/healthz"' in line
        and 'status="200"' in line
    ]
    assert len(healthz) == 1, text
    # Whichever worker answered /metrics, it counts every worker's requests.
    assert float(healthz[0].rsplit(" ", 1)[1]) == REQUESTS
    assert not (metrics_dir / "counter_999999.db").exists()

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [x for x in lines if x["logger"] == "stockroom.access" and x["path"] == "/healthz"]
    assert sorted(x["request_id"] for x in access) == sorted(ids)
    assert all(x["status"] == 200 and x["method"] == "GET" for x in access)
    assert {x["logger"] for x in lines} >= {"stockroom.access", "uvicorn.error"}
