"""A real `stockroom serve` process (several uvicorn workers) for tests that need one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import BinaryIO

import httpx

# Test servers share PostgreSQL's connections with the rest of the suite; see conftest.
SERVER_ENV = {
    "STOCKROOM_POOL_SIZE": "6",
    "STOCKROOM_POOL_MAX_OVERFLOW": "6",
    "STOCKROOM_LOCK_TIMEOUT_SECONDS": "30",
    "STOCKROOM_POOL_TIMEOUT_SECONDS": "30",
}


def _server_log() -> BinaryIO | None:
    """STOCKROOM_TEST_SERVER_LOG=path keeps the server's stderr, for debugging a failing test."""
    path = os.environ.get("STOCKROOM_TEST_SERVER_LOG")
    return open(path, "ab") if path else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    port: int

    def kill(self) -> None:
        """SIGKILL the server and all its workers at once: a crash, not a shutdown."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    database_url: str,
    *,
    workers: int = 2,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    from tests.services import is_pooled

    port = port or free_port()
    log = _server_log()
    if is_pooled(database_url):
        env = {"STOCKROOM_DATABASE_POOLER": "pgbouncer", **(env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stockroom.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, **SERVER_ENV, "STOCKROOM_DATABASE_URL": database_url, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log or subprocess.DEVNULL,
        start_new_session=True,
    )
    if log:
        log.close()  # the child has its own copy
    server = Server(process, f"http://127.0.0.1:{port}", port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stockroom serve exited with {process.returncode}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("stockroom serve did not become ready in 60 s")


@contextmanager
def running_server(database_url: str, **kwargs: object) -> Iterator[Server]:
    server = start_server(database_url, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
