"""The server under test: `stockroom serve` on 127.0.0.1 and a free port, and its memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
STOCKROOM = ROOT / ".venv" / "bin" / "stockroom"
# BENCH_START_TIMEOUT: more seconds for a server starting on a busy machine.
START_TIMEOUT = float(os.environ.get("BENCH_START_TIMEOUT", "60"))
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stockroom(
    args: list[str], database_url: str, *, timeout: float = 300, ok_codes: tuple[int, ...] = (0,)
) -> str:
    """Run one `stockroom` command against the database; return its standard output."""
    done = subprocess.run(
        [str(STOCKROOM), *args],
        env=os.environ | {"STOCKROOM_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode not in ok_codes:
        raise RuntimeError(f"stockroom {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


class Server:
    """`stockroom serve --workers N`, started and stopped by the runner."""

    def __init__(
        self,
        database_url: str,
        workers: int,
        log_path: Path,
        *,
        argv: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """`argv` replaces `stockroom serve` (a bare app: `--port N --workers W` are added)."""
        self.database_url = database_url
        self.argv = argv
        self.env = env or {}
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("wb")
        command = [str(STOCKROOM), "serve", "--host", "127.0.0.1"]
        if self.argv is not None:
            command = [*self.argv, "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port), "--workers", str(self.workers)],
            env=os.environ | {"STOCKROOM_DATABASE_URL": self.database_url} | self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # a server that never came up must not outlive the run
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            if self._answers() and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.3)
        raise RuntimeError(f"the server did not come up in {START_TIMEOUT:.0f} s")

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url + "/openapi.json", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def openapi(self) -> dict[str, Any]:
        return dict(httpx.get(self.url + "/openapi.json", timeout=10).json())

    def routes(self) -> set[tuple[str, str]]:
        """(METHOD, path) of every operation the running server offers."""
        spec = self.openapi()
        return {
            (method.upper(), path)
            for path, operations in spec.get("paths", {}).items()
            for method in operations
        }

    def worker_pids(self) -> list[int]:
        """The processes serving requests: uvicorn's workers, or the server itself with one."""
        assert self.process is not None
        children = [
            pid for pid in _children(self.process.pid) if b"resource_tracker" not in _cmdline(pid)
        ]
        return children if self.workers > 1 else [self.process.pid]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (after the parenthesised command name) is the parent pid.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB (empty when it is gone)."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    except OSError:
        pass
    return values


def reset_peak(pids: list[int]) -> None:
    """Start a new peak-RSS window (writing 5 to clear_refs resets VmHWM to the current RSS)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mib(pids: list[int]) -> float:
    """The servers' peak RSS since the last reset, summed over the worker processes."""
    return sum(memory_kib(pid).get("VmHWM", 0) for pid in pids) / 1024


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (utime + stime from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state is field 3, so utime (14) and stime (15) are at 11, 12.
        total += int(fields[11]) + int(fields[12])
    return total / ticks
