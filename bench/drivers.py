"""Load generators: wrk for the API, pgbench (and a stdlib sqlite3 loop) for the raw-SQL limit.

Each returns one measurement as a plain dict: throughput, p50/p99 latency in ms, how many
requests or transactions, and how many failed.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH / "wrk" / "requests.lua"
PG_SCRIPTS = BENCH / "sql" / "postgresql"
CONNECTIONS = 32
THREADS = 2  # one per core, for wrk and pgbench alike
# A run may take this much longer than asked (connecting, draining) before it is stopped.
GRACE_SECONDS = 60


def run_wrk(
    url: str, token: str, requests_file: Path, seconds: int, connections: int = CONNECTIONS
) -> dict[str, Any]:
    """Replay a request file over HTTP at `connections` connections for `seconds`."""
    command = [
        "wrk",
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        url,
        "--",
        token,
        str(requests_file),
    ]
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + GRACE_SECONDS, check=True
    ).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out[-2000:]}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    duration = raw["duration_us"] / 1e6
    return {
        "throughput": raw["requests"] / duration,
        "unit": "req/s",
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "count": raw["requests"],
        "failed": raw["non2xx"] + raw["socket_errors"] + raw["timeouts"],
        "non2xx": raw["non2xx"],
        "socket_errors": raw["socket_errors"] + raw["timeouts"],
        "first_failure": raw["first_non2xx"],
        "seconds": duration,
    }


def run_pgbench(
    database_url: str, script: str, variables: dict[str, Any], seconds: int
) -> dict[str, Any]:
    """Run one pgbench script file at CONNECTIONS clients, prepared statements, per-tx log."""
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as logs:
        prefix = Path(logs) / "tx"
        command = [
            "pgbench",
            "--no-vacuum",
            "-M",
            "prepared",
            "-c",
            str(CONNECTIONS),
            "-j",
            str(THREADS),
            "-T",
            str(seconds),
            "-f",
            str(PG_SCRIPTS / script),
            "--log",
            f"--log-prefix={prefix}",
            *(f"-D{name}={value}" for name, value in variables.items()),
            database_url,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + GRACE_SECONDS, check=False
        )
        latencies = _pgbench_latencies_ms(Path(logs))
    return _pgbench_result(done, latencies)


def _pgbench_latencies_ms(logs: Path) -> list[float]:
    latencies = []
    for path in logs.glob("tx*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            # client_id transaction_no time script_no epoch us; time is "failed" when it failed.
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000)
    return latencies


def _pgbench_result(
    done: subprocess.CompletedProcess[str], latencies: list[float]
) -> dict[str, Any]:
    out = done.stdout + done.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    aborted = len(re.findall(r"aborted in command", out))
    if tps is None or processed is None:
        raise RuntimeError(f"pgbench failed:\n{out[-3000:]}")
    p50, p99 = percentiles(latencies)
    return {
        "throughput": float(tps.group(1)),
        "unit": "tx/s",
        "p50_ms": p50,
        "p99_ms": p99,
        "count": int(processed.group(1)),
        "failed": (int(failed.group(1)) if failed else 0) + aborted,
        "non2xx": None,
        "first_failure": next((ln for ln in out.splitlines() if "ERROR" in ln), ""),
    }


def percentiles(values: list[float]) -> tuple[float | None, float | None]:
    """p50 and p99 of a sample (None when it is too small to tell)."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (None, None)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]
